"""The run store: one SQLite file (WAL mode), written by the sweep's driver process only.

Tables (schema version :data:`SCHEMA_VERSION`)::

    schema   (version, written_by)                     one row: the layout of this file
    suites   (name PK, definition JSON)                 the suites that ran here (for the report)
    runs     (task_id PK, suite, system, model, variant, condition, seed, config JSON,
              status, attempts, submitted_at, started_at, finished_at, seconds, host,
              versions JSON, timings JSON, error)
    metrics  (task_id, name, value; PK (task_id, name))  the long table: one row per metric

``status`` is ``pending`` (registered, not started), ``running`` (handed to a worker),
``done`` or ``failed`` (the last attempt's traceback in ``error``). A task's metrics are written
in the same transaction that marks it done, so a sweep killed at any moment leaves every task
either finished with all its metrics or unfinished with none; :meth:`RunStore.reset_unfinished`
turns the ``running`` rows of a killed sweep back into ``pending``. Task ids are primary keys:
a task cannot be stored twice.

Opening a file checks its schema version: a store written by a newer attractor, or an older one
with no migration, is refused with a message saying so (the file is not touched). An advisory lock
(``fcntl.flock`` on the file, released by the OS when the process dies, even by SIGKILL)
keeps a second driver from writing into a store that a sweep is filling.
"""

from __future__ import annotations

import contextlib
import csv
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from attractor import __version__
from attractor.bench.task import Task
from attractor.errors import InputError

#: Layout version of the store; bump it (and add a migration) when the tables change.
SCHEMA_VERSION = 1
#: version -> function migrating a connection from that version to the next one.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {}
STATUSES = ("pending", "running", "done", "failed")

_SCHEMA = """
CREATE TABLE schema (version INTEGER NOT NULL, written_by TEXT NOT NULL);
CREATE TABLE suites (name TEXT PRIMARY KEY, definition TEXT NOT NULL);
CREATE TABLE runs (
    task_id TEXT PRIMARY KEY, suite TEXT NOT NULL, system TEXT NOT NULL, model TEXT NOT NULL,
    variant TEXT NOT NULL, condition TEXT NOT NULL, seed INTEGER NOT NULL, config TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0, submitted_at REAL, started_at REAL, finished_at REAL,
    seconds REAL, host TEXT, versions TEXT, timings TEXT, error TEXT
);
CREATE INDEX runs_status ON runs (status);
CREATE TABLE metrics (
    task_id TEXT NOT NULL REFERENCES runs (task_id), name TEXT NOT NULL, value REAL,
    PRIMARY KEY (task_id, name)
);
"""

#: Columns of the CSV / Parquet export (one row per task and metric).
EXPORT_COLUMNS = ("task_id", "suite", "system", "model", "variant", "condition", "seed",
                  "status", "metric", "value")  # fmt: skip


class RunStore:
    """A run store file (see the module docstring). Use as a context manager, or :meth:`close`.

    Args:
        path: the SQLite file.
        create: create the file when it does not exist (else :class:`InputError`).
        lock: take the driver lock (for writing); readers (status, report) do not need it.
    """

    def __init__(self, path: str | Path, *, create: bool = False, lock: bool = False) -> None:
        self.path = Path(path)
        self._lock_handle: Any = None
        self.db: sqlite3.Connection | None = None
        if self.path.is_dir():
            raise InputError(f"--store {self.path}: is a directory; expected a file")
        if not self.path.exists():
            if not create:
                raise InputError(f"--store {self.path}: no such file")
            if not self.path.parent.is_dir():
                raise InputError(f"--store {self.path}: the directory {self.path.parent} "
                                 "does not exist")  # fmt: skip
        elif not _is_sqlite(self.path):
            raise InputError(f"--store {self.path}: not a SQLite run store")
        try:
            self.db = sqlite3.connect(self.path, timeout=30.0)
            self.db.row_factory = sqlite3.Row
            if lock:
                self._take_lock()
            self._check_schema(create)
        except sqlite3.DatabaseError as err:
            self.close()
            raise InputError(f"--store {self.path}: unreadable ({err})") from None
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ opening
    def _take_lock(self) -> None:
        import fcntl

        handle = open(self.path, "ab")  # noqa: SIM115  (flock is independent of SQLite's locks)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise InputError(f"--store {self.path}: another sweep is writing to it; wait for it "
                             "to finish or stop it first") from None  # fmt: skip
        self._lock_handle = handle

    def _release_lock(self) -> None:
        if self._lock_handle is not None:
            self._lock_handle.close()
            self._lock_handle = None

    def _check_schema(self, create: bool) -> None:
        query = "SELECT name FROM sqlite_master WHERE type='table'"
        tables = {r[0] for r in self.db.execute(query)}
        if not tables:
            if not create:
                raise InputError(f"--store {self.path}: an empty file, not a run store")
            self.db.execute("PRAGMA journal_mode=WAL")
            with self.db:
                self.db.executescript(_SCHEMA)
                self.db.execute("INSERT INTO schema VALUES (?, ?)",
                                (SCHEMA_VERSION, f"attractor {__version__}"))  # fmt: skip
            return
        if "schema" not in tables:
            raise InputError(f"--store {self.path}: a SQLite file but not an attractor run store")
        row = self.db.execute("SELECT version, written_by FROM schema").fetchone()
        version = int(row["version"]) if row else 0
        written_by = row["written_by"] if row else "an unknown writer"
        if version > SCHEMA_VERSION:
            raise InputError(
                f"--store {self.path}: written by {written_by} with store schema {version}; this "
                f"attractor {__version__} reads schema {SCHEMA_VERSION} and older. Upgrade "
                "attractor to read it (the file was not changed)"
            )
        while version < SCHEMA_VERSION:
            migrate = MIGRATIONS.get(version)
            if migrate is None:
                raise InputError(
                    f"--store {self.path}: store schema {version} (written by {written_by}) is "
                    f"older than {SCHEMA_VERSION} and cannot be migrated; export it with the "
                    "attractor that wrote it, or start a new store (the file was not changed)"
                )
            with self.db:
                migrate(self.db)
                version += 1
                self.db.execute("UPDATE schema SET version = ?", (version,))
        self.db.execute("PRAGMA journal_mode=WAL")

    def close(self) -> None:
        if self.db is not None:
            with contextlib.suppress(sqlite3.Error):
                self.db.close()
        self._release_lock()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ writing (the driver)
    def register(self, suite: dict[str, Any], tasks: list[Task]) -> None:
        """Record the suite and insert the tasks not yet in the store as ``pending``."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO suites VALUES (?, ?)",
                            (suite["name"], json.dumps(suite)))  # fmt: skip
            self.db.executemany(
                "INSERT OR IGNORE INTO runs (task_id, suite, system, model, variant, condition, "
                "seed, config, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
                [(t.id, t.config["suite"], t.config["system"], t.config["model"],
                  t.config["variant"], t.config["condition"], t.config["seed"],
                  json.dumps(t.config)) for t in tasks],
            )  # fmt: skip

    def reset_unfinished(self) -> int:
        """``running`` rows (left by a killed sweep) back to ``pending``; returns how many."""
        with self.db:
            return self.db.execute(
                "UPDATE runs SET status = 'pending' WHERE status = 'running'"
            ).rowcount

    def reset_failed(self, ids: list[str]) -> None:
        """Failed tasks among ``ids`` back to ``pending`` with no attempts (``--retry-failed``)."""
        with self.db:
            self.db.executemany(
                "UPDATE runs SET status = 'pending', attempts = 0, error = NULL "
                "WHERE task_id = ? AND status = 'failed'", [(i,) for i in ids])  # fmt: skip

    def mark_running(self, task_id: str) -> None:
        with self.db:
            self.db.execute(
                "UPDATE runs SET status = 'running', attempts = attempts + 1, submitted_at = ? "
                "WHERE task_id = ?", (time.time(), task_id))  # fmt: skip

    def mark_retry(self, task_id: str, error: str) -> None:
        """A failed attempt that will be retried: back to ``pending``, its error kept."""
        with self.db:
            self.db.execute("UPDATE runs SET status = 'pending', error = ? WHERE task_id = ?",
                            (error, task_id))  # fmt: skip

    def finish(self, task_id: str, outcome: dict[str, Any]) -> None:
        """Store one finished attempt: ``done`` with its metrics, or ``failed`` with its error."""
        status = "failed" if outcome.get("error") else "done"
        with self.db:
            self.db.execute(
                "UPDATE runs SET status = ?, started_at = ?, finished_at = ?, seconds = ?, "
                "host = ?, versions = ?, timings = ?, error = ? WHERE task_id = ?",
                (status, outcome.get("started_at"), outcome.get("finished_at"),
                 outcome.get("seconds"), outcome.get("host"),
                 json.dumps(outcome.get("versions", {})), json.dumps(outcome.get("timings", {})),
                 outcome.get("error"), task_id),
            )  # fmt: skip
            if status == "done":
                self.db.executemany(
                    "INSERT OR REPLACE INTO metrics VALUES (?, ?, ?)",
                    [(task_id, k, v) for k, v in outcome.get("metrics", {}).items()],
                )

    # ------------------------------------------------------------------ reading
    def statuses(self, ids: list[str] | None = None) -> dict[str, str]:
        """task id -> status (of ``ids``, or of every task)."""
        rows = self.db.execute("SELECT task_id, status FROM runs").fetchall()
        found = {r["task_id"]: r["status"] for r in rows}
        return found if ids is None else {i: found[i] for i in ids if i in found}

    def counts(self) -> dict[str, dict[str, int]]:
        """suite -> status -> number of tasks (every status present, 0 if none)."""
        out: dict[str, dict[str, int]] = {}
        for row in self.db.execute("SELECT suite, status, COUNT(*) AS n FROM runs "
                                   "GROUP BY suite, status"):  # fmt: skip
            out.setdefault(row["suite"], dict.fromkeys(STATUSES, 0))[row["status"]] = row["n"]
        return out

    def suites(self) -> dict[str, dict[str, Any]]:
        return {r["name"]: json.loads(r["definition"])
                for r in self.db.execute("SELECT name, definition FROM suites")}  # fmt: skip

    def runs(self, suite: str | None = None) -> list[dict[str, Any]]:
        """Every run row as a dict (config, versions and timings parsed)."""
        query = "SELECT * FROM runs" + (" WHERE suite = ?" if suite else "") + " ORDER BY rowid"
        out = []
        for row in self.db.execute(query, (suite,) if suite else ()):
            item = dict(row)
            for key in ("config", "versions", "timings"):
                item[key] = json.loads(item[key]) if item[key] else None
            out.append(item)
        return out

    def metric_rows(self, suite: str | None = None) -> Iterator[dict[str, Any]]:
        """The long table joined with its runs: one dict per (done task, metric)."""
        query = (
            "SELECT r.task_id, r.suite, r.system, r.model, r.variant, r.condition, r.seed, "
            "r.status, m.name AS metric, m.value FROM metrics m JOIN runs r USING (task_id)"
            + (" WHERE r.suite = ?" if suite else "") + " ORDER BY r.rowid, m.name"
        )
        for row in self.db.execute(query, (suite,) if suite else ()):
            yield dict(row)

    # ------------------------------------------------------------------ export
    def export(self, out: str | Path) -> int:
        """Write the long table to ``out`` (``.csv``, or ``.parquet`` with pyarrow installed);
        returns the number of rows. The file is written under a temporary name and renamed."""
        out = Path(out)
        rows = list(self.metric_rows())
        tmp = out.with_name(f".{out.name}.tmp")
        if out.suffix == ".csv":
            with open(tmp, "w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=EXPORT_COLUMNS)
                writer.writeheader()
                writer.writerows(rows)
        elif out.suffix == ".parquet":
            try:
                import pyarrow as pa
                import pyarrow.parquet as pq
            except ImportError:
                raise InputError(f"--out {out}: Parquet export needs pyarrow (pip install "
                                 "pyarrow), or export to .csv") from None  # fmt: skip
            table = pa.table({c: [r[c] for r in rows] for c in EXPORT_COLUMNS})
            pq.write_table(table, tmp)
        else:
            raise InputError(f"--out {out}: the export format is chosen by the suffix, "
                             ".csv or .parquet")  # fmt: skip
        tmp.replace(out)
        return len(rows)


def _is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return False
    return head == b"SQLite format 3\x00" or head == b""


__all__ = ["EXPORT_COLUMNS", "MIGRATIONS", "SCHEMA_VERSION", "STATUSES", "RunStore"]
