"""Safe outputs for CLI commands: no silent overwrite, no half-written results, one writer.

Three tools, used by every command that writes a file or a run directory:

- :func:`prepare_output_file` checks an output file *before* any work (``--overwrite`` needed to
  replace one; the parent directory must exist) and :func:`atomic_write` writes it under a
  temporary name in the same directory and renames it into place, so a reader sees the old file
  or the complete new one, never a truncated one.
- :class:`OutputDirectory` does the same for a run directory ``out``: work happens in the staging
  sibling ``<out>.partial``, which is renamed into place only when the ``with`` block succeeds; a
  lock file ``<out>.lock`` refuses a second writer. On an error, Ctrl-C or SIGTERM the staging
  directory is kept (a resumable checkpoint lives there) and ``out`` is untouched.
- :func:`fingerprint` / :func:`check_fingerprint` / :func:`data_digest` let ``--resume`` refuse to
  continue a run with other data or settings, naming every difference.

Layout next to a run directory ``runs/l63``::

    runs/l63           the finished run (only ever replaced by one rename)
    runs/l63.partial   staging: the run being written, or one that was interrupted
    runs/l63.lock      {"pid": ..., "host": ..., "time": ...} while a process writes
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from attractor.errors import InputError

logger = logging.getLogger(__name__)

#: Suffixes of the staging directory and the lock file next to a run directory ``out``.
STAGING_SUFFIX = ".partial"
LOCK_SUFFIX = ".lock"
#: Name of the fingerprint file inside a run directory.
FINGERPRINT_FILE = "fingerprint.json"
#: A lock file that cannot be parsed (its writer died between creating and filling it) is
#: considered stale once it is this many seconds old.
UNREADABLE_LOCK_STALE_S = 30.0


# --------------------------------------------------------------------------------------- files
def prepare_output_file(path: str | Path, overwrite: bool, *, flag: str = "--out") -> Path:
    """Check that ``path`` may be written, before any work is done; returns it as a ``Path``.

    Raises:
        InputError: ``path`` exists and ``overwrite`` is false, is a directory, or its parent
            directory does not exist or is not writable. Messages name ``flag``.
    """
    out = Path(path)
    if out.is_dir():
        raise InputError(f"{flag} {out}: is a directory; expected a file name")
    parent = out.parent
    if not parent.is_dir():
        what = "is not a directory" if parent.exists() else "does not exist"
        raise InputError(f"{flag} {out}: the directory {parent} {what}; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {out}: the directory {parent} is not writable")
    if (out.exists() or out.is_symlink()) and not overwrite:
        raise InputError(f"{flag} {out} already exists; pass --overwrite to replace it")
    return out


def _temporary_sibling(path: Path, tag: str) -> Path:
    # Same directory (so the rename is atomic), hidden, unique per process, and ending in the
    # same suffix: writers such as numpy.save append ".npy" to names that lack it.
    return path.with_name(f".{path.name}.{tag}-{os.getpid()}{path.suffix}")


def atomic_write(path: str | Path, writer: Callable[[Path], Any]) -> Path:
    """Write ``path`` by calling ``writer(tmp)`` on a temporary sibling, then renaming it.

    The temporary file is flushed to disk before the rename and removed if ``writer`` fails
    (or is interrupted), so ``path`` holds either its old content or the complete new one.
    Returns ``path``.
    """
    final = Path(path)
    tmp = _temporary_sibling(final, "tmp")
    try:
        writer(tmp)
        if not tmp.is_file():
            raise RuntimeError(f"atomic_write: the writer did not create {tmp}")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return final


def finite_or_null(value: Any) -> Any:
    """``value`` with NaN/inf floats replaced by ``None`` and numpy values made plain Python."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): finite_or_null(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_null(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and getattr(value, "shape", None) == ():
        return finite_or_null(item())
    tolist = getattr(value, "tolist", None)  # numpy arrays
    if callable(tolist):
        return finite_or_null(tolist())
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def json_document(document: Any, *, indent: int | None = None) -> str:
    """``document`` as strict JSON: NaN and +-inf become ``null`` (``json.dumps`` would write the
    non-JSON tokens ``NaN`` / ``Infinity``); numpy scalars and arrays become numbers and lists."""
    return json.dumps(finite_or_null(document), indent=indent, allow_nan=False)


def write_json(path: str | Path, document: Any) -> Path:
    """:func:`atomic_write` of ``document`` as strict JSON (see :func:`json_document`)."""
    text = json_document(document, indent=2) + "\n"
    return atomic_write(path, lambda tmp: tmp.write_text(text))


# ------------------------------------------------------------------------------------- locking
def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


def _read_lock(lock: Path) -> dict[str, Any] | None:
    try:
        info = json.loads(lock.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or not isinstance(info.get("pid"), int):
        return None
    return info


def _lock_is_stale(lock: Path, info: dict[str, Any] | None) -> bool:
    if info is None:
        try:
            age = time.time() - lock.stat().st_mtime
        except OSError:
            return True
        return age > UNREADABLE_LOCK_STALE_S
    if info.get("host") != socket.gethostname():
        return False  # cannot tell whether a process on another machine still runs
    return not _pid_alive(int(info["pid"]))


class _Lock:
    """An exclusive lock file (``O_CREAT | O_EXCL``) holding ``{"pid", "host", "time"}``."""

    def __init__(self, path: Path, target: Path, flag: str) -> None:
        self.path, self.target, self.flag = path, target, flag
        self.held = False

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        info = {"pid": os.getpid(), "host": socket.gethostname(), "time": time.time()}
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(info))
        self.held = True
        return True

    def acquire(self) -> None:
        if self._create():
            return
        info = _read_lock(self.path)
        if not _lock_is_stale(self.path, info):
            who = (
                f"process {info['pid']} on {info.get('host', '?')}"
                if info is not None
                else "another process"
            )
            raise InputError(
                f"{self.flag} {self.target} is being written by {who}; wait for it, or remove "
                f"{self.path} if that process is gone"
            )
        # Stale: move it aside (atomic: of two processes taking over, one wins the rename), check
        # that what was moved is still the stale lock, and take a fresh one.
        aside = self.path.with_name(f"{self.path.name}.stale-{os.getpid()}")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            pass
        else:
            moved = _read_lock(aside)
            if moved is not None and moved != info and not _lock_is_stale(aside, moved):
                with contextlib.suppress(OSError):  # a live lock taken in between: put it back
                    os.replace(aside, self.path)
                raise InputError(
                    f"{self.flag} {self.target} is being written by process {moved['pid']}; "
                    f"wait for it, or remove {self.path} if that process is gone"
                )
            with contextlib.suppress(OSError):
                aside.unlink()
        if info is not None:
            logger.warning(
                "taking over the stale lock %s of process %s (no longer running)",
                self.path,
                info["pid"],
            )
        else:
            logger.warning("taking over the unreadable stale lock %s", self.path)
        if not self._create():
            raise InputError(
                f"{self.flag} {self.target} is being written by another process; wait for it, "
                f"or remove {self.path} if that process is gone"
            )

    def release(self) -> None:
        if self.held:
            self.held = False
            with contextlib.suppress(OSError):
                self.path.unlink()


# ---------------------------------------------------------------------------- run directories
def _non_empty_dir(path: Path) -> bool:
    return path.is_dir() and any(path.iterdir())


class OutputDirectory:
    """A run directory written through a staging sibling, atomically, by one process at a time.

    ::

        with OutputDirectory(out, overwrite=overwrite, resume=resume) as run:
            set_interrupt_hint(f"checkpoint kept in {run.staging}; rerun with --resume")
            train(..., directory=run.staging)     # everything is written into run.staging
        # here `out` holds the complete new run

    Entering the block:

    - creates the parent directories of ``out``; refuses ``out`` when it is a file, the current
      directory or one of its ancestors, or when both ``overwrite`` and ``resume`` are given;
    - takes the lock ``<out>.lock`` (refused, naming the writing process, while another live
      process holds it; a lock left by a dead process on this host is taken over with a warning);
    - refuses a non-empty ``out`` unless ``overwrite`` or ``resume``;
    - prepares :attr:`staging` ``= <out>.partial``: with ``resume``, an existing staging directory
      (an interrupted run) is reused, else a finished ``out`` is copied into it (so its checkpoint
      can be continued); without ``resume`` a staging directory left by a dead process is
      removed (with a warning) and a fresh empty one is created. :attr:`resumed_from` says which
      (``"partial"``, ``"finished"`` or ``None``).

    Leaving it normally renames :attr:`staging` to ``out`` (an existing ``out`` is first moved
    aside, and restored if the rename fails, then deleted). Leaving it by an exception, Ctrl-C or
    SIGTERM keeps :attr:`staging` (``keep_partial=False`` removes it: for commands that cannot
    resume) and leaves ``out`` untouched. The lock is released in every case.

    Args:
        out: the run directory.
        overwrite: replace an existing non-empty ``out`` (``--overwrite``).
        resume: continue the run in ``out`` / ``<out>.partial`` (``--resume``).
        keep_partial: keep the staging directory when the block fails.
        flag: the CLI flag naming ``out``, used in messages.
    """

    def __init__(
        self,
        out: str | Path,
        *,
        overwrite: bool = False,
        resume: bool = False,
        keep_partial: bool = True,
        flag: str = "--out",
    ) -> None:
        self.out = Path(out)
        self.overwrite, self.resume, self.keep_partial, self.flag = (
            overwrite,
            resume,
            keep_partial,
            flag,
        )
        if not self.out.name or self.out.name in (".", ".."):
            self.out = Path(os.path.abspath(self.out))
        self.staging = self.out.with_name(self.out.name + STAGING_SUFFIX)
        self.lock_path = self.out.with_name(self.out.name + LOCK_SUFFIX)
        self.resumed_from: str | None = None
        self._lock = _Lock(self.lock_path, self.out, flag)

    # ------------------------------------------------------------------ checks
    def _check_target(self) -> None:
        if self.overwrite and self.resume:
            raise InputError("give --overwrite (start again) or --resume (continue), not both")
        target = Path(os.path.abspath(self.out))
        cwd = Path(os.path.abspath(os.getcwd()))
        if target == cwd or target in cwd.parents:
            raise InputError(
                f"{self.flag} {self.out}: is the current directory or contains it; "
                "choose a new directory"
            )
        if self.out.exists() and not self.out.is_dir():
            raise InputError(f"{self.flag} {self.out}: exists and is not a directory")
        parent = self.out.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InputError(f"{self.flag} {self.out}: {parent} is not a directory") from None
        except OSError as err:
            raise InputError(f"{self.flag} {self.out}: cannot create {parent} ({err})") from None
        if not os.access(parent, os.W_OK | os.X_OK):
            raise InputError(f"{self.flag} {self.out}: the directory {parent} is not writable")

    def _prepare_staging(self) -> None:
        if self.staging.exists() and not self.staging.is_dir():
            raise InputError(
                f"{self.flag} {self.out}: {self.staging} exists and is not a directory; remove it"
            )
        if self.resume and self.staging.is_dir():
            self.resumed_from = "partial"
            logger.info("resuming the interrupted run in %s", self.staging)
            return
        if self.staging.is_dir():
            logger.warning(
                "removing %s, the partial output of an earlier run that did not finish "
                "(pass --resume to continue it instead)",
                self.staging,
            )
            shutil.rmtree(self.staging)
        if self.resume and _non_empty_dir(self.out):
            shutil.copytree(self.out, self.staging, symlinks=True)
            self.resumed_from = "finished"
            logger.info("continuing the finished run %s in %s", self.out, self.staging)
            return
        self.staging.mkdir()

    # ------------------------------------------------------------------ context
    def __enter__(self) -> OutputDirectory:
        self._check_target()
        self._lock.acquire()
        try:
            if _non_empty_dir(self.out) and not (self.overwrite or self.resume):
                raise InputError(
                    f"{self.flag} {self.out} already holds a run; pass --overwrite to replace it "
                    "or --resume to continue it"
                )
            self._prepare_staging()
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None:
                self._commit()
            elif not self.keep_partial:
                shutil.rmtree(self.staging, ignore_errors=True)
        finally:
            self._lock.release()

    def _commit(self) -> None:
        if not (self.out.exists() or self.out.is_symlink()):
            os.rename(self.staging, self.out)
            return
        old = self.out.with_name(f".{self.out.name}.old-{os.getpid()}")
        if old.exists():
            shutil.rmtree(old)
        os.rename(self.out, old)
        try:
            os.rename(self.staging, self.out)
        except BaseException:
            os.rename(old, self.out)
            raise
        shutil.rmtree(old, ignore_errors=True)


# -------------------------------------------------------------------------------- fingerprints
def _jsonable(value: Any, key: str) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"fingerprint: setting {key!r} is not finite ({value!r})")
        return float(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, f"{key}.{k}") for k, v in sorted(value.items(), key=str)}
    if isinstance(value, list | tuple):
        return [_jsonable(v, f"{key}[{i}]") for i, v in enumerate(value)]
    item = getattr(value, "item", None)  # numpy / JAX scalars
    if callable(item) and getattr(value, "shape", None) == ():
        return _jsonable(item(), key)
    raise InputError(f"fingerprint: setting {key!r} has no JSON form ({type(value).__name__})")


def fingerprint(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings that determine a run, normalised to JSON values (sorted keys).

    Values may be ``None``, bools, numbers, strings, paths, lists/tuples, mappings, and numpy
    scalars; use :func:`data_digest` for arrays. Comparison is exact (floats round-trip through
    JSON exactly).
    """
    return {str(k): _jsonable(v, str(k)) for k, v in sorted(settings.items(), key=str)}


_MISSING = object()


def _show(value: Any) -> str:
    return "(not set)" if value is _MISSING else json.dumps(value)


def check_fingerprint(
    saved: Mapping[str, Any], current: Mapping[str, Any], *, where: str | None = None
) -> None:
    """Refuse to resume when ``current`` settings differ from ``saved`` ones.

    Raises:
        InputError: naming every key that differs, with the old and new values.
    """
    now = fingerprint(current)
    old = fingerprint(saved)
    diffs = [
        f"{key} {_show(old.get(key, _MISSING))} -> {_show(now.get(key, _MISSING))}"
        for key in sorted(set(old) | set(now))
        if old.get(key, _MISSING) != now.get(key, _MISSING)
    ]
    if diffs:
        place = f"the run in {where}" if where else "the saved run"
        raise InputError(
            f"--resume: {place} was started with other settings ({'; '.join(diffs)}); resume "
            "with the original settings, or start again with --overwrite"
        )


def data_digest(arrays: Any) -> str:
    """A stable hash of array data: ``"sha256:<hex>"`` of each array's shape and float32 bytes.

    ``arrays`` is one array or an iterable of arrays (several trajectories); the order matters.
    Values are compared at float32 precision (what training sees), little-endian, C order.
    """
    import numpy as np

    items: Iterable[Any] = [arrays] if hasattr(arrays, "shape") else arrays
    digest = hashlib.sha256()
    count = 0
    for arr in items:
        a = np.ascontiguousarray(np.asarray(arr, dtype="<f4"))
        digest.update(f"{a.shape}".encode())
        digest.update(a.tobytes())
        count += 1
    digest.update(f"n={count}".encode())
    return "sha256:" + digest.hexdigest()


def save_fingerprint(directory: str | Path, settings: Mapping[str, Any]) -> Path:
    """Write ``fingerprint(settings)`` to ``directory / FINGERPRINT_FILE`` (atomically)."""
    return write_json(Path(directory) / FINGERPRINT_FILE, fingerprint(settings))


def load_fingerprint(directory: str | Path) -> dict[str, Any] | None:
    """The fingerprint saved in ``directory``, or ``None`` if there is none.

    Raises:
        InputError: the file exists but is not a JSON object.
    """
    path = Path(directory) / FINGERPRINT_FILE
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: unreadable fingerprint ({err})") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: unreadable fingerprint (not a JSON object)")
    return doc


__all__ = [
    "FINGERPRINT_FILE",
    "LOCK_SUFFIX",
    "STAGING_SUFFIX",
    "OutputDirectory",
    "atomic_write",
    "check_fingerprint",
    "data_digest",
    "fingerprint",
    "finite_or_null",
    "json_document",
    "load_fingerprint",
    "prepare_output_file",
    "save_fingerprint",
    "write_json",
]
