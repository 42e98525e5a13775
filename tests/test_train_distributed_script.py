"""scripts/train_distributed.py: its options, and a 2-rank CPU run under torchrun that agrees and times."""

from __future__ import annotations

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


def _run(args: list[str], profile: str = "quick", timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the script in a process of its own (tests never load a script as a module)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GANCOURSE_PROFILE": profile,
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for name in TORCHRUN_VARIABLES:
        env.pop(name, None)
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def test_options_refuse_nonsense_with_a_message():
    for bad, words in ((["--steps", "1"], "steps"), (["--steps", "10", "--warmup", "10"], "warmup"),
                       (["--model", "stylegan"], "stylegan")):
        result = _run(bad)
        assert result.returncode == 2, (bad, result.stdout, result.stderr)
        assert words in result.stderr, (bad, result.stderr)


def test_one_process_uses_the_quick_profiles_defaults():
    result = _run(["--steps", "3", "--warmup", "1", "--n-train", "256", "--width", "8", "--batch-size", "8"])
    assert result.returncode == 0, result.stdout + result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert (found["world_size"], found["data"], found["model"]) == (1, "glyphs", "wgan-gp")


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
