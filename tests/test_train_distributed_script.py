"""scripts/train_distributed.py: its options, and a 2-rank CPU run under torchrun that agrees and times."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gancourse.training.distributed import TORCHRUN_VARIABLES

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "train_distributed.py"


def _script():
    spec = importlib.util.spec_from_file_location("train_distributed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_options_follow_the_profile_and_refuse_nonsense(monkeypatch):
    script = _script()
    monkeypatch.setenv("GANCOURSE_PROFILE", "quick")
    args = script.parse_args(["--steps", "50"])
    assert (args.data, args.model, args.warmup, args.batch_size) == ("glyphs", "wgan-gp", 10, 64)
    monkeypatch.setenv("GANCOURSE_PROFILE", "full")
    assert script.parse_args([]).data == "celeba"
    for bad in (["--steps", "1"], ["--steps", "10", "--warmup", "10"], ["--model", "stylegan"]):
        with pytest.raises(SystemExit):
            script.parse_args(bad)


def test_two_cpu_ranks_train_agree_and_report_the_time_per_step():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GANCOURSE_PROFILE": "quick",
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for name in TORCHRUN_VARIABLES:
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={port}",
         str(SCRIPT), "--steps", "6", "--warmup", "2", "--batch-size", "8", "--n-train", "256",
         "--width", "8"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["world_size"] == 2 and found["global_batch"] == 16 and found["timed_steps"] == 4
    assert found["largest_difference"] == 0.0
    assert found["seconds_per_step"] > 0 and found["samples_per_s"] > 0
