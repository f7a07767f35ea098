"""Safe outputs: refusal to overwrite, atomic files and run directories, the lock, fingerprints."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from attractor.cli import output
from attractor.cli.output import (
    OutputDirectory,
    atomic_write,
    check_fingerprint,
    data_digest,
    fingerprint,
    json_document,
    load_fingerprint,
    prepare_output_file,
    save_fingerprint,
)
from attractor.errors import InputError


def tree_hash(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``root`` (empty dict if it does not exist)."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def make_run(path: Path, tag: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "weights.eqx").write_bytes(tag.encode() * 100)
    (path / "metrics.json").write_text(json.dumps({"tag": tag}))
    (path / "checkpoint").mkdir(exist_ok=True)
    (path / "checkpoint" / "state.npz").write_bytes(b"ckpt-" + tag.encode())


def siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


# ----------------------------------------------------------------------------------- files
def test_prepare_output_file_refuses_existing_without_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "x.npy"
    assert prepare_output_file(target, overwrite=False) == target
    target.write_bytes(b"old")
    with pytest.raises(InputError, match=r"x\.npy already exists; pass --overwrite"):
        prepare_output_file(target, overwrite=False)
    assert prepare_output_file(target, overwrite=True) == target
    assert target.read_bytes() == b"old"  # checking writes nothing


def test_prepare_output_file_missing_parent_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"--plot .*nowhere does not exist"):
        prepare_output_file(tmp_path / "nowhere" / "x.png", False, flag="--plot")
    with pytest.raises(InputError, match="is a directory"):
        prepare_output_file(tmp_path, True)


def test_atomic_write_replaces_whole_file_or_nothing(tmp_path: Path) -> None:
    target = tmp_path / "x.npy"
    atomic_write(target, lambda tmp: np.save(tmp, np.arange(3.0)))
    assert np.load(target).tolist() == [0.0, 1.0, 2.0]
    before = target.read_bytes()

    def broken(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, broken)
    assert target.read_bytes() == before
    assert siblings(target) == ["x.npy"]  # the temporary file is gone


# -------------------------------------------------------------------------- run directories
def test_fresh_run_is_renamed_into_place(tmp_path: Path) -> None:
    out = tmp_path / "runs" / "r"
    with OutputDirectory(out) as run:
        assert run.staging == out.with_name("r.partial") and run.staging.is_dir()
        assert run.lock_path.is_file() and not out.exists()
        lock = json.loads(run.lock_path.read_text())
        assert lock["pid"] == os.getpid() and lock["host"] == socket.gethostname()
        make_run(run.staging, "new")
        assert run.resumed_from is None
    assert tree_hash(out)["metrics.json"]
    assert siblings(out) == ["r"]  # no staging, no lock, nothing moved aside


def test_existing_run_is_refused_without_a_flag(tmp_path: Path) -> None:
    out = tmp_path / "r"
    make_run(out, "old")
    before = tree_hash(out)
    with pytest.raises(InputError, match=r"already holds a run; pass --overwrite .* --resume"):
        with OutputDirectory(out):
            raise AssertionError("not reached")
    assert tree_hash(out) == before
    assert siblings(out) == ["r"]  # lock released, no staging created


def test_empty_existing_directory_is_used(tmp_path: Path) -> None:
    out = tmp_path / "r"
    out.mkdir()
    with OutputDirectory(out) as run:
        make_run(run.staging, "new")
    assert json.loads((out / "metrics.json").read_text()) == {"tag": "new"}


def test_overwrite_replaces_atomically(tmp_path: Path) -> None:
    out = tmp_path / "r"
    make_run(out, "old")
    (out / "stale-file-only-in-old-run").write_text("x")
    with OutputDirectory(out, overwrite=True) as run:
        assert tree_hash(run.staging) == {}  # overwrite starts from nothing
        make_run(run.staging, "new")
        assert json.loads((out / "metrics.json").read_text()) == {"tag": "old"}  # still old
    assert json.loads((out / "metrics.json").read_text()) == {"tag": "new"}
    assert not (out / "stale-file-only-in-old-run").exists()
    assert siblings(out) == ["r"]


def test_failed_commit_restores_the_old_run(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "r"
    make_run(out, "old")
    before = tree_hash(out)
    real_rename = os.rename

    def rename(src, dst):
        if Path(src).name == "r.partial":
            raise OSError("disk full")
        return real_rename(src, dst)

    monkeypatch.setattr(output.os, "rename", rename)
    with pytest.raises(OSError, match="disk full"):
        with OutputDirectory(out, overwrite=True) as run:
            make_run(run.staging, "new")
    assert tree_hash(out) == before
    assert siblings(out) == ["r", "r.partial"]  # the new run is kept for inspection


@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_interrupted_run_keeps_old_out_and_partial(tmp_path: Path, exc: type) -> None:
    out = tmp_path / "r"
    make_run(out, "old")
    before = tree_hash(out)
    with pytest.raises(exc):
        with OutputDirectory(out, overwrite=True) as run:
            make_run(run.staging, "new")
            raise exc()
    assert tree_hash(out) == before  # byte-identical
    assert json.loads((tmp_path / "r.partial" / "metrics.json").read_text()) == {"tag": "new"}
    assert not (tmp_path / "r.lock").exists()


def test_keep_partial_false_removes_staging_on_error(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    with pytest.raises(RuntimeError):
        with OutputDirectory(out, keep_partial=False) as run:
            make_run(run.staging, "new")
            raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def test_resume_reuses_partial(tmp_path: Path) -> None:
    out = tmp_path / "r"
    make_run(tmp_path / "r.partial", "interrupted")
    with OutputDirectory(out, resume=True) as run:
        assert run.resumed_from == "partial"
        assert (run.staging / "checkpoint" / "state.npz").read_bytes() == b"ckpt-interrupted"
        (run.staging / "metrics.json").write_text(json.dumps({"tag": "continued"}))
    assert json.loads((out / "metrics.json").read_text()) == {"tag": "continued"}
    assert siblings(out) == ["r"]


def test_resume_of_a_finished_run_starts_from_a_copy(tmp_path: Path) -> None:
    out = tmp_path / "r"
    make_run(out, "old")
    before = tree_hash(out)
    with pytest.raises(KeyboardInterrupt):
        with OutputDirectory(out, resume=True) as run:
            assert run.resumed_from == "finished"
            assert tree_hash(run.staging) == before
            (run.staging / "metrics.json").write_text("{}")
            raise KeyboardInterrupt
    assert tree_hash(out) == before  # the finished run is untouched until the resumed one ends
    with OutputDirectory(out, resume=True) as run:
        assert run.resumed_from == "partial"  # the interrupted continuation is picked up
        (run.staging / "metrics.json").write_text(json.dumps({"tag": "more"}))
    assert json.loads((out / "metrics.json").read_text()) == {"tag": "more"}
    assert (out / "checkpoint" / "state.npz").read_bytes() == b"ckpt-old"


def test_partial_of_a_dead_run_is_replaced_with_a_warning(tmp_path: Path, caplog) -> None:
    out = tmp_path / "r"
    make_run(tmp_path / "r.partial", "dead")
    with caplog.at_level(logging.WARNING, logger="attractor.cli.output"):
        with OutputDirectory(out) as run:
            assert tree_hash(run.staging) == {}
            make_run(run.staging, "new")
    assert "r.partial" in caplog.text and "--resume" in caplog.text
    assert json.loads((out / "metrics.json").read_text()) == {"tag": "new"}


def test_refusals_of_the_target_itself(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(InputError, match="not both"):
        OutputDirectory(tmp_path / "r", overwrite=True, resume=True).__enter__()
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        OutputDirectory(tmp_path / "f").__enter__()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="current directory"):
        OutputDirectory(".", overwrite=True).__enter__()
    with pytest.raises(InputError, match="current directory"):
        OutputDirectory(tmp_path.parent, overwrite=True).__enter__()


HOLDER = textwrap.dedent(
    """
    import sys
    from attractor.cli.output import OutputDirectory
    with OutputDirectory(sys.argv[1]) as run:
        print("ready", flush=True)
        sys.stdin.read()
    """
)


def test_second_writer_is_refused_while_the_first_runs(tmp_path: Path) -> None:
    out = tmp_path / "r"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(InputError) as info:
            with OutputDirectory(out, overwrite=True):
                raise AssertionError("not reached")
        message = str(info.value)
        assert f"being written by process {holder.pid}" in message
        assert "r.lock" in message and "wait for it" in message
        assert (tmp_path / "r.lock").exists()  # the refused writer left the lock alone
    finally:
        holder.communicate("", timeout=30)
    assert holder.returncode == 0
    assert siblings(out) == ["r"]  # the first writer finished normally


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path: Path, caplog) -> None:
    out = tmp_path / "r"
    pid = dead_pid()
    lock = tmp_path / "r.lock"
    lock.write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "time": 0}))
    with caplog.at_level(logging.WARNING, logger="attractor.cli.output"):
        with OutputDirectory(out) as run:
            assert json.loads(lock.read_text())["pid"] == os.getpid()
            make_run(run.staging, "new")
    assert f"stale lock {lock} of process {pid}" in caplog.text
    assert siblings(out) == ["r"]


def test_locks_that_cannot_be_judged_stale_are_respected(tmp_path: Path) -> None:
    out = tmp_path / "r"
    lock = tmp_path / "r.lock"
    lock.write_text(json.dumps({"pid": dead_pid(), "host": "elsewhere.example", "time": 0}))
    with pytest.raises(InputError, match="on elsewhere.example"):
        OutputDirectory(out).__enter__()
    lock.write_text("")  # a writer that died right after creating it, or one still writing it
    with pytest.raises(InputError, match="another process"):
        OutputDirectory(out).__enter__()
    old = time.time() - 10 * output.UNREADABLE_LOCK_STALE_S
    os.utime(lock, (old, old))
    with OutputDirectory(out) as run:
        make_run(run.staging, "new")
    assert siblings(out) == ["r"]


# ------------------------------------------------------------------------------ fingerprints
def test_fingerprint_names_every_difference() -> None:
    saved = fingerprint(
        {"lr": 1e-3, "forcing": "agtf", "data": "sha256:aa", "hidden": 50, "path": Path("a")}
    )
    assert json.loads(json.dumps(saved)) == saved  # JSON-ready, exact round trip
    check_fingerprint(saved, {"lr": 1e-3, "forcing": "agtf", "data": "sha256:aa", "hidden": 50,
                              "path": "a"})  # fmt: skip
    current = {"lr": 1e-2, "forcing": "agtf", "data": "sha256:bb", "tau": 10, "path": "a"}
    with pytest.raises(InputError) as info:
        check_fingerprint(saved, current, where="runs/l63")
    message = str(info.value)
    assert "runs/l63" in message
    assert "lr 0.001 -> 0.01" in message
    assert 'data "sha256:aa" -> "sha256:bb"' in message
    assert "hidden 50 -> (not set)" in message and "tau (not set) -> 10" in message
    assert "forcing" not in message and "path" not in message


def test_fingerprint_refuses_values_without_a_json_form() -> None:
    with pytest.raises(InputError, match="'lr' is not finite"):
        fingerprint({"lr": float("nan")})
    with pytest.raises(InputError, match="no JSON form"):
        fingerprint({"x": np.zeros(3)})
    assert fingerprint({"n": np.int64(3), "a": np.float32(0.5), "b": (1, 2)}) == {
        "a": 0.5,
        "b": [1, 2],
        "n": 3,
    }


def test_fingerprint_file_round_trip(tmp_path: Path) -> None:
    assert load_fingerprint(tmp_path) is None
    save_fingerprint(tmp_path, {"lr": 0.1, "data": data_digest(np.ones((4, 2)))})
    check_fingerprint(load_fingerprint(tmp_path), {"lr": 0.1, "data": data_digest(np.ones((4, 2)))})
    (tmp_path / output.FINGERPRINT_FILE).write_text("[1, 2")
    with pytest.raises(InputError, match="unreadable fingerprint"):
        load_fingerprint(tmp_path)


def test_data_digest_is_stable_and_sensitive() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 3))
    d = data_digest(x)
    assert d.startswith("sha256:") and len(d) == 7 + 64
    assert data_digest(x.copy()) == d == data_digest([x])
    assert data_digest(x.astype(np.float32)) == d  # float32 precision is what training sees
    assert data_digest(np.asfortranarray(x)) == d
    assert data_digest(x.reshape(300)) != d  # the shape counts
    assert data_digest([x[:50], x[50:]]) != d  # so does the split into trajectories
    y = x.copy()
    y[17, 2] += 1e-3
    assert data_digest(y) != d


def test_json_document_is_strict_json() -> None:
    doc = {"a": float("nan"), "b": [1.0, float("inf")], "c": np.float64(2.5), "d": np.arange(2)}
    text = json_document(doc)
    assert json.loads(text) == {"a": None, "b": [1.0, None], "c": 2.5, "d": [0, 1]}
    assert "NaN" not in text and "Infinity" not in text
