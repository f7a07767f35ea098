"""Where tasks run: in this process, on a local process pool, or on a Dask cluster.

Every executor runs :func:`run_task` on a task configuration and hands back its outcome (a plain
dict; a task that raised comes back as an outcome with ``error`` = the traceback, so one bad task
never stops a sweep). The runner keeps at most :attr:`Executor.slots` tasks in flight, so a
killed sweep loses at most that many.

JAX and processes: JAX starts thread pools when it is imported, and a forked copy of a process
that runs JAX can deadlock. The local pool therefore starts its workers with ``spawn`` (a fresh
interpreter each), and each worker sizes its thread pools *before* JAX is imported
(:func:`configure_worker`): with one core per worker, XLA's multi-threaded Eigen is switched off
and the BLAS / OpenMP pools get one thread, so ``N`` workers use ``N`` cores and do not
oversubscribe them. Dask workers get the same environment (``LocalCluster``) or set it up in the
first task they run (workers of an external scheduler, if JAX is not imported there yet). On Linux
a pool worker also asks the kernel to kill it when the driver dies (``PR_SET_PDEATHSIG``), so a
killed sweep leaves no orphan computing on.

Compilation cache: every task builds and trains a fresh model, and JAX compiles its training
step and rollouts anew each time (a 1-epoch LSTM training of ``dysts-short``'s shape: 12.9 s
cold, 4.6 s with the cache warm, on the shared 2-core CPU; BENCHMARKS.md). With ``compile_cache``
(a directory) the workers share JAX's persistent compilation cache there, so a program compiled
once — the same model, shapes and settings, as for every 3-dimensional flow of a suite — is read
back instead of compiled by every later task, in this sweep and the next. The executable read
back is the one compiled before: results do not change. Workers of an external Dask scheduler
(another machine's file system) are not told.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import time
import traceback
from typing import Any, Protocol

from attractor.errors import InputError

EXECUTORS = ("local", "dask", "serial")
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


# -------------------------------------------------------------------------------- the worker side
#: Programs that compile faster than this (s) are not written to the compilation cache.
CACHE_MIN_COMPILE_SECONDS = 0.5


def thread_environment(threads: int, compile_cache: str | None = None) -> dict[str, str]:
    """Environment variables that size JAX's and BLAS's thread pools to ``threads`` (and, with
    ``compile_cache``, point JAX's persistent compilation cache there)."""
    env = {name: str(threads) for name in _THREAD_VARIABLES}
    flags = os.environ.get("XLA_FLAGS", "")
    if threads == 1 and "xla_cpu_multi_thread_eigen" not in flags:
        flags = f"{flags} --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    env["XLA_FLAGS"] = flags.strip()
    if compile_cache is not None:
        env["JAX_COMPILATION_CACHE_DIR"] = str(compile_cache)
        env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = os.environ.get(  # the user's wins
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", str(CACHE_MIN_COMPILE_SECONDS))
    return env


def configure_worker(threads: int = 1, compile_cache: str | None = None) -> None:
    """Size the thread pools of this process (before JAX is imported; no-op once it is)."""
    if "jax" not in sys.modules:
        os.environ.update(thread_environment(threads, compile_cache))


def _pool_initializer(threads: int, compile_cache: str | None) -> None:
    configure_worker(threads, compile_cache)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle


def run_task(config: dict[str, Any]) -> dict[str, Any]:
    """Run one task; never raises: an exception becomes ``{"error": traceback, ...}``."""
    configure_worker()
    from attractor.bench.task import environment, execute

    started = time.time()
    t0 = time.perf_counter()
    try:
        outcome: dict[str, Any] = execute(config)
    except Exception:
        outcome = {"error": traceback.format_exc(limit=20)}
    outcome.update(started_at=started, finished_at=time.time(),
                   seconds=time.perf_counter() - t0, **environment())  # fmt: skip
    return outcome


# -------------------------------------------------------------------------------- the driver side
class Executor(Protocol):
    """What the runner needs of an executor."""

    name: str
    slots: int

    def submit(self, config: dict[str, Any]) -> Any: ...

    def wait(self, handles: list[Any], timeout: float) -> list[Any]: ...

    def outcome(self, handle: Any) -> dict[str, Any]: ...

    def close(self) -> None: ...


class SerialExecutor:
    """Runs each task in this process when it is submitted (debugging, tests)."""

    name = "serial"
    slots = 1

    def submit(self, config: dict[str, Any]) -> cf.Future:
        future: cf.Future = cf.Future()
        future.set_result(run_task(config))
        return future

    def wait(self, handles: list[cf.Future], timeout: float) -> list[cf.Future]:
        return list(handles)

    def outcome(self, handle: cf.Future) -> dict[str, Any]:
        return handle.result()

    def close(self) -> None:
        return None


class LocalPoolExecutor:
    """A pool of ``workers`` spawned processes with ``threads`` threads each (sharing the
    compilation cache ``compile_cache``, if given)."""

    name = "local"

    def __init__(self, workers: int, *, threads: int = 1,
                 compile_cache: str | None = None) -> None:
        self.slots, self.threads, self.compile_cache = workers, threads, compile_cache
        self._pool: cf.ProcessPoolExecutor | None = None

    def _ensure_pool(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = cf.ProcessPoolExecutor(
                max_workers=self.slots, mp_context=multiprocessing.get_context("spawn"),
                initializer=_pool_initializer, initargs=(self.threads, self.compile_cache),
            )  # fmt: skip
        return self._pool

    def submit(self, config: dict[str, Any]) -> cf.Future:
        try:
            return self._ensure_pool().submit(run_task, config)
        except cf.BrokenExecutor:  # a worker died: start a fresh pool
            self._discard_pool()
            return self._ensure_pool().submit(run_task, config)

    def wait(self, handles: list[cf.Future], timeout: float) -> list[cf.Future]:
        done, _ = cf.wait(handles, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return list(done)

    def outcome(self, handle: cf.Future) -> dict[str, Any]:
        try:
            return handle.result()
        except cf.BrokenExecutor as err:  # the worker process died (killed, out of memory)
            self._discard_pool()
            return {"error": f"the worker process died: {err}"}

    def _discard_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            _terminate(pool)

    def close(self) -> None:
        self._discard_pool()


def _terminate(pool: cf.ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel queued tasks and end its workers (tasks in flight are lost)."""
    processes = list(getattr(pool, "_processes", {}).values())  # no public API for this
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(OSError, ValueError):
            process.terminate()
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            process.join(timeout=5)


class DaskExecutor:
    """Tasks on Dask distributed: a running scheduler (``address``) or a ``LocalCluster`` of
    ``workers`` single-threaded worker processes started here (sharing ``compile_cache``)."""

    name = "dask"

    def __init__(self, workers: int, *, address: str | None = None,
                 compile_cache: str | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise InputError("--executor dask needs Dask distributed: "
                             "pip install 'attractor[dask]'") from None  # fmt: skip
        self._cluster = None
        if address is None:
            self._cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                dashboard_address=None, env=thread_environment(1, compile_cache),
                silence_logs=logging.ERROR,
            )  # fmt: skip
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(address, timeout=30)
            except (OSError, TimeoutError) as err:
                raise InputError(f"--scheduler {address}: cannot connect ({err})") from None
        n = len(self._client.scheduler_info().get("workers", {}))
        self.slots = max(1, n if address is not None else workers)

    def submit(self, config: dict[str, Any]) -> Any:
        return self._client.submit(run_task, config, pure=False, retries=0)

    def wait(self, handles: list[Any], timeout: float) -> list[Any]:
        from distributed import wait

        with contextlib.suppress(TimeoutError):
            done, _ = wait(handles, timeout=timeout, return_when="FIRST_COMPLETED")
            return list(done)
        return []

    def outcome(self, handle: Any) -> dict[str, Any]:
        try:
            return handle.result()
        except Exception as err:  # KilledWorker, a lost connection
            return {"error": f"{type(err).__name__}: {err}"}

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.close()


def make_executor(kind: str, workers: int, *, scheduler: str | None = None,
                  compile_cache: str | None = None) -> Executor:
    """The executor called ``kind`` (see :data:`EXECUTORS`); its worker processes share the
    compilation cache directory ``compile_cache`` (not the serial executor, which runs here)."""
    if kind == "serial":
        return SerialExecutor()
    if kind == "local":
        return LocalPoolExecutor(workers, compile_cache=compile_cache)
    if kind == "dask":
        return DaskExecutor(workers, address=scheduler, compile_cache=compile_cache)
    raise InputError(f"--executor must be one of {', '.join(EXECUTORS)}, got {kind!r}")


__all__ = ["EXECUTORS", "DaskExecutor", "Executor", "LocalPoolExecutor", "SerialExecutor",
           "configure_worker", "make_executor", "run_task", "thread_environment"]  # fmt: skip
