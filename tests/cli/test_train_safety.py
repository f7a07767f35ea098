"""`attractor train` through the installed script: existing models are never lost, a second writer
is refused, Ctrl-C / SIGTERM leave a checkpoint that --resume continues exactly, --json stdout is
one document, and --resume refuses other settings."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXE = str(Path(sys.executable).parent / "attractor")
TINY = ["--system", "lorenz63", "--n-train", "3000", "--n-test", "1000", "--hidden", "8",
        "--no-plots", "--seed", "3"]
#: Long enough to be interrupted mid-way (a few seconds), short enough for the suite.
LONG_EPOCHS = 40
_SLOW = [*TINY, "--batch-size", "64", "--seq-len", "100", "--checkpoint-every", "5"]
LONG = [*_SLOW, "--epochs", str(LONG_EPOCHS)]
#: For runs that are always interrupted: whatever the machine's load, they are still running.
ENDLESS = [*_SLOW, "--epochs", "100000"]


def _run(args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=600, **kw)


def _digest(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def _one_error_line(proc: subprocess.CompletedProcess) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


@pytest.fixture(scope="module")
def first_model(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("first") / "model"
    proc = _run(["train", *TINY, "--epochs", "3", "--out", str(out), "--json"])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # exactly one JSON document on success
    assert "D_stsp" in doc
    return out


def test_an_existing_model_is_never_replaced_silently(first_model: Path) -> None:
    before = _digest(first_model)
    proc = _run(["train", *TINY, "--epochs", "2", "--out", str(first_model), "--json"])
    assert proc.returncode == 2
    assert "--overwrite" in _one_error_line(proc)
    assert json.loads(proc.stdout)["error"]["type"] == "InputError"  # one document on error too
    assert _digest(first_model) == before


def test_a_second_writer_is_refused_and_an_interrupted_retrain_keeps_the_first(
    first_model: Path,
) -> None:
    before = _digest(first_model)
    retrain = subprocess.Popen(
        [EXE, "train", *ENDLESS, "--out", str(first_model), "--overwrite"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    partial = first_model.with_name(first_model.name + ".partial")
    try:
        _wait_for(lambda: (partial / "checkpoint" / "progress.json").is_file(), retrain)
        second = _run(["train", *TINY, "--epochs", "2", "--out", str(first_model), "--overwrite"])
        assert second.returncode == 2
        assert "being written by process" in _one_error_line(second)
    finally:
        retrain.send_signal(signal.SIGINT)
        _, err = retrain.communicate(timeout=120)
    assert retrain.returncode == 130, err
    assert _digest(first_model) == before  # the interrupted retrain changed nothing
    assert partial.is_dir()


def _interrupt(out: Path, sig: int, code: int, word: str) -> int:
    """Start a long training into ``out``, send ``sig`` after epoch 10, check the exit; returns
    the epoch of the checkpoint left behind."""
    proc = subprocess.Popen([EXE, "train", *LONG, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    progress = out.with_name(out.name + ".partial") / "checkpoint" / "progress.json"
    _wait_for(lambda: progress.is_file() and json.loads(progress.read_text())["epoch"] >= 10, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    last = [line for line in err.splitlines() if line.strip()][-1]  # after the progress bar
    assert last.startswith(word) and "--resume" in last and str(progress.parent) in last, err
    assert not out.exists()
    stopped_at = json.loads(progress.read_text())["epoch"]
    assert 10 <= stopped_at < LONG_EPOCHS
    return stopped_at


def test_ctrl_c_leaves_a_checkpoint_that_resume_continues_exactly(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _interrupt(out, signal.SIGINT, 130, "interrupted")
    resumed = _run(["train", *LONG, "--out", str(out), "--resume", "--json"])
    assert resumed.returncode == 0, resumed.stderr
    reference = tmp_path / "reference"
    straight = _run(["train", *LONG, "--out", str(reference), "--json"])
    assert straight.returncode == 0, straight.stderr
    assert (out / "weights.eqx").read_bytes() == (reference / "weights.eqx").read_bytes()
    assert json.loads(resumed.stdout)["D_stsp"] == json.loads(straight.stdout)["D_stsp"]


def test_sigterm_exits_143_with_the_checkpoint(tmp_path: Path) -> None:
    _interrupt(tmp_path / "run", signal.SIGTERM, 143, "terminated")


def test_resume_refuses_other_settings(first_model: Path) -> None:
    before = _digest(first_model)
    proc = _run(["train", *TINY, "--epochs", "3", "--lr", "0.01", "--out", str(first_model),
                 "--resume"])
    assert proc.returncode == 2
    line = _one_error_line(proc)
    assert "other settings" in line and "lr_start" in line
    proc = _run(["train", *TINY, "--epochs", "3", "--select-by", "d_h", "--out",
                 str(first_model), "--resume"])
    assert proc.returncode == 2 and "select_by" in _one_error_line(proc)
    other_data = [a if a != "3" else "4" for a in TINY]  # --seed 4: other data
    proc = _run(["train", *other_data, "--epochs", "3", "--out", str(first_model), "--resume"])
    assert proc.returncode == 2 and "train_data" in _one_error_line(proc)
    assert _digest(first_model) == before


def _wait_for(condition, proc: subprocess.Popen, timeout: float = 300.0) -> None:
    start = time.monotonic()
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"process ended early ({proc.returncode}): {proc.stderr.read()}")
        if time.monotonic() - start > timeout:
            proc.kill()
            raise AssertionError("timed out waiting for the run to start")
        time.sleep(0.05)
