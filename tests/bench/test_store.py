"""The SQLite run store: schema versions, one writer, atomic outcomes, export."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import sqlite3
from pathlib import Path

import pytest

from attractor.bench.store import SCHEMA_VERSION, RunStore
from attractor.bench.task import make_task
from attractor.errors import InputError

SUITE = {"name": "s", "metrics": ["smape"]}


def _task(seed: int):
    return make_task({"suite": "s", "system": "henon", "model": "nvar", "variant": "nvar",
                      "condition": "", "seed": seed, "protocol": {}, "spec": {},
                      "attractor_version": "x"})  # fmt: skip


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _set_version(path: Path, version: int) -> None:
    with RunStore(path, create=True):
        pass
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE schema SET version = ?", (version,))
    db.close()


@pytest.mark.parametrize(("version", "match"), [(SCHEMA_VERSION + 1, "Upgrade attractor"),
                                                (0, "cannot be migrated")])  # fmt: skip
def test_a_store_of_another_schema_is_refused_and_left_untouched(
    tmp_path: Path, version: int, match: str
) -> None:
    path = tmp_path / "runs.sqlite"
    _set_version(path, version)
    before = _digest(path)
    with pytest.raises(InputError, match=match):
        RunStore(path)
    with pytest.raises(InputError, match=match):
        RunStore(path, create=True, lock=True)
    assert _digest(path) == before


def test_files_that_are_not_run_stores_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.sqlite"
    text.write_text("hello")
    with pytest.raises(InputError, match="not a SQLite run store"):
        RunStore(text, create=True)
    foreign = tmp_path / "foreign.sqlite"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(InputError, match="not an attractor run store"):
        RunStore(foreign)
    with pytest.raises(InputError, match="no such file"):
        RunStore(tmp_path / "missing.sqlite")
    assert not (tmp_path / "missing.sqlite").exists()


def test_one_driver_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with RunStore(path, create=True, lock=True):
        with pytest.raises(InputError, match="another sweep is writing"):
            RunStore(path, lock=True)
        with RunStore(path) as reader:  # readers need no lock
            assert reader.counts() == {}
    with RunStore(path, lock=True):  # released on close
        pass


def test_outcomes_statuses_and_csv_export(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    tasks = [_task(0), _task(1), _task(2)]
    with RunStore(path, create=True, lock=True) as store:
        store.register(SUITE, tasks)
        store.register(SUITE, tasks)  # registering again adds nothing
        for t in tasks[:2]:
            store.mark_running(t.id)
        store.finish(tasks[0].id, {"metrics": {"smape": 12.5, "D_H": None}, "host": "h"})
        store.finish(tasks[1].id, {"error": "Traceback ...\nValueError: boom"})
        assert store.counts() == {"s": {"pending": 1, "running": 0, "done": 1, "failed": 1}}
        assert store.reset_unfinished() == 0
        store.mark_running(tasks[2].id)
        assert store.reset_unfinished() == 1  # a killed sweep's in-flight task
        runs = {r["task_id"]: r for r in store.runs()}
        assert runs[tasks[1].id]["error"].endswith("boom")
        assert runs[tasks[2].id]["attempts"] == 1 and runs[tasks[2].id]["status"] == "pending"
        n = store.export(tmp_path / "m.csv")
    rows = list(csv.DictReader(open(tmp_path / "m.csv")))
    assert n == len(rows) == 2  # only the done task has metrics
    assert {(r["metric"], r["value"]) for r in rows} == {("smape", "12.5"), ("D_H", "")}


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is not None, reason="pyarrow installed")
def test_parquet_without_pyarrow_is_a_clear_error(tmp_path: Path) -> None:
    with RunStore(tmp_path / "runs.sqlite", create=True) as store:
        with pytest.raises(InputError, match="needs pyarrow"):
            store.export(tmp_path / "m.parquet")
    assert not list(tmp_path.glob("*parquet*"))
