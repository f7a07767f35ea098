"""The sweep driver: hand tasks to an executor, retry failures, record every outcome in the store.

:func:`run_sweep` registers the suite's tasks in the store (new ones as ``pending``), turns the
``running`` rows of an earlier, killed sweep back into ``pending``, skips every finished task
(``done``, and ``failed`` unless ``retry_failed``), and runs the rest, round-robin over systems,
with at most ``executor.slots`` in flight. Each outcome is written as soon as it arrives, in one
transaction, by this process only. A task that raises is retried up to ``retries`` more times (at
the back of the queue); after that it is stored as ``failed`` with its traceback and the sweep
goes on.

So a sweep killed at any moment loses at most the tasks in flight, and running the same command
again finishes the rest: every task ends up in the store exactly once.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import time
from collections.abc import Callable
from typing import Any

from attractor.bench.executors import Executor
from attractor.bench.store import RunStore
from attractor.bench.task import Task

#: Default number of retries of a failing task (so three attempts in all).
DEFAULT_RETRIES = 2
#: Seconds between checks of the in-flight tasks (also how soon Ctrl-C is seen while waiting).
POLL_S = 0.5


@dataclasses.dataclass
class SweepProgress:
    """Counts of this sweep, passed to the progress callback after every outcome."""

    total: int
    skipped: int = 0
    done: int = 0
    failed: int = 0
    retried: int = 0
    started: float = dataclasses.field(default_factory=time.perf_counter)

    @property
    def remaining(self) -> int:
        return self.total - self.skipped - self.done - self.failed

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def to_dict(self) -> dict[str, Any]:
        ran = self.done + self.failed
        return {
            "tasks": self.total, "skipped": self.skipped, "done": self.done,
            "failed": self.failed, "retried": self.retried, "remaining": self.remaining,
            "seconds": self.seconds,
            "tasks_per_hour": 3600.0 * ran / self.seconds if ran and self.seconds > 0 else None,
        }  # fmt: skip


def interleave_systems(tasks: list[Task]) -> list[Task]:
    """Tasks reordered round-robin over systems (one of each system, then the next of each...),
    so that parallel workers start on different systems instead of all compiling the same
    system's programs at the same time."""
    by_system: dict[str, list[Task]] = {}
    for task in tasks:
        by_system.setdefault(task.config["system"], []).append(task)
    rounds = itertools.zip_longest(*by_system.values())
    return [task for batch in rounds for task in batch if task is not None]


def run_sweep(
    suite: dict[str, Any],
    tasks: list[Task],
    store: RunStore,
    executor: Executor,
    *,
    retries: int = DEFAULT_RETRIES,
    retry_failed: bool = False,
    on_progress: Callable[[SweepProgress], None] | None = None,
) -> SweepProgress:
    """Run the unfinished ``tasks`` of ``suite`` (its :meth:`Suite.to_dict`); see module doc.

    The executor is closed on the way out, also on Ctrl-C (tasks in flight are then lost and
    rerun next time).
    """
    store.register(suite, tasks)
    store.reset_unfinished()
    if retry_failed:
        store.reset_failed([t.id for t in tasks])
    status = store.statuses([t.id for t in tasks])
    queue = collections.deque(interleave_systems([t for t in tasks if status[t.id] == "pending"]))
    progress = SweepProgress(total=len(tasks), skipped=len(tasks) - len(queue))
    tries: collections.Counter[str] = collections.Counter()
    in_flight: dict[Any, Task] = {}
    if on_progress is not None:
        on_progress(progress)
    try:
        while queue or in_flight:
            while queue and len(in_flight) < executor.slots:
                task = queue.popleft()
                store.mark_running(task.id)
                tries[task.id] += 1
                in_flight[executor.submit(task.config)] = task
            for handle in executor.wait(list(in_flight), POLL_S):
                task = in_flight.pop(handle)
                outcome = executor.outcome(handle)
                if outcome.get("error") and tries[task.id] <= retries:
                    store.mark_retry(task.id, outcome["error"])
                    queue.append(task)
                    progress.retried += 1
                    continue
                store.finish(task.id, outcome)
                if outcome.get("error"):
                    progress.failed += 1
                else:
                    progress.done += 1
                if on_progress is not None:
                    on_progress(progress)
    finally:
        executor.close()
    return progress


__all__ = ["DEFAULT_RETRIES", "SweepProgress", "interleave_systems", "run_sweep"]
