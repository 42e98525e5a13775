"""The Colab path, played here: a fresh install from the package's metadata runs every notebook's full profile.

A student on Colab gets the `full` profile, MNIST, Fashion-MNIST, CelebA and the Inception weights.
This test builds what that student has, without a GPU or a network:

- a fresh virtual environment holding torch and torchvision (the local pins), then the course
  installed from its files as the Colab cell installs it (``gancourse[colab]``, not editable, not
  ``requirements.txt``), plus the notebook runner (pytest, nbval, ipykernel); versions are held to
  ``requirements.txt`` with ``-c`` only so that CI is repeatable;
- ``GANCOURSE_DATA`` pointing at stand-ins in the exact on-disk layouts torchvision reads, and a
  stand-in Inception weight file loaded through the real loader (``tests/standins.py``);
- ``GANCOURSE_PROFILE=full GANCOURSE_SMOKE=1``: every full-profile code path at smoke sizes.

Then it runs every notebook under nbval from a folder outside the checkout. ``PYTHONOPTIMIZE=1``
turns the notebooks' ``assert`` statements off: they check what full-size training on real data
shows, which seconds on stand-ins cannot. Anything else that breaks fails the test: an import the
install does not provide, a missing package file, a loader reading the wrong layout, a shape, a
device, a plot.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.standins import write_standins

REPO = Path(__file__).resolve().parents[1]
TORCH_PINS = ("torch==2.14.1", "torchvision==0.29.1")  # on this machine's disk (see the tool library's env notes)
HARNESS = ("pytest", "nbval", "ipykernel")  # what Colab has and the package does not ask for: the runner
pytestmark = pytest.mark.colab


def _run(cmd: list[str], what: str, timeout: float, **kwargs) -> str:
    """Run ``cmd``; on failure, fail the test with ``what`` and the end of the output."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired as err:
        tail = (err.stdout or "")[-6000:] if isinstance(err.stdout, str) else ""
        pytest.fail(f"{what}: still running after {timeout:.0f} s\n{tail}")
    output = done.stdout + done.stderr
    if done.returncode != 0:
        pytest.fail(f"{what} failed (exit {done.returncode}):\n{output[-12000:]}")
    return output


def _export_checkout(dest: Path) -> Path:
    """Copy the files git would commit (tracked, and untracked but not ignored) to ``dest``: what Colab clones."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def test_every_notebook_runs_the_full_profile_from_a_fresh_install(tmp_path):
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs the git checkout to export what Colab would clone")
    venv = tmp_path / "venv"
    try:
        started = time.perf_counter()
        source = _export_checkout(tmp_path / "clone")
        _run([sys.executable, "-m", "venv", str(venv)], "creating the virtual environment", 120)
        python = str(venv / "bin" / "python")
        pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        _run(pip + list(TORCH_PINS), "installing torch from the local pins", 900)
        _run(pip + ["-c", str(REPO / "requirements.txt"), f"{source}[colab]", *HARNESS],
             "installing gancourse[colab] as the Colab cell does", 900)
        installed = _run([python, "-c", "import gancourse; print(gancourse.__file__)"], "importing gancourse", 120,
                         cwd=tmp_path, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
        assert "site-packages" in installed, f"the notebooks would import a source tree, not the install: {installed}"
        installing = time.perf_counter() - started

        data = write_standins(tmp_path / "data")
        notebooks = tmp_path / "notebooks"
        shutil.copytree(REPO / "notebooks", notebooks, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GANCOURSE_PROFILE")}
        env.update(GANCOURSE_PROFILE="full", GANCOURSE_SMOKE="1", GANCOURSE_DATA=str(data), PYTHONOPTIMIZE="1",
                   MPLBACKEND="agg", PYTHONDONTWRITEBYTECODE="1",
                   # Any download attempt fails at once instead of reaching out: everything must be on disk.
                   http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9", no_proxy="")
        started = time.perf_counter()
        output = _run([python, "-m", "pytest", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env",
                       "--nbval-cell-timeout=300", "--durations=8", "-q", str(notebooks)],
                      "the full profile's smoke run of the notebooks in the fresh install", 1500,
                      cwd=tmp_path, env=env)
        running = time.perf_counter() - started
        print(f"install {installing:.0f} s, notebooks {running:.0f} s\n{output[-3000:]}")
        assert "passed" in output and "failed" not in output
    finally:
        shutil.rmtree(venv, ignore_errors=True)  # several GB: never keep it among pytest's temporary folders
