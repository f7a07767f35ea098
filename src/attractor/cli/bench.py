"""``attractor bench suites | run | status | report | export``: the benchmark engine's commands.

Every argument is checked (suite file, systems, models, store, executor) before a task runs or a
file is created; ``run`` shows one progress bar (done, failed, remaining, ETA) on stderr unless
``--json``. Names in ``--systems`` / ``--models`` are separated by commas or given by repeating
the flag.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from attractor.cli import validate as v
from attractor.errors import InputError

app = typer.Typer(help="Benchmark suites over systems x models x seeds: run, status, report.",
                  no_args_is_help=True)  # fmt: skip

STORE_OPTION = typer.Option(..., "--store", help="The SQLite run store file.")
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document.")


def _names(values: list[str] | None, flag: str) -> list[str] | None:
    if not values:
        return None
    out = [n.strip() for value in values for n in value.split(",")]
    if not all(out):
        raise InputError(f"{flag}: empty name in {','.join(values)!r}")
    return out


@app.command("suites")
def suites_command(as_json: bool = JSON_OPTION) -> None:
    """List the suites shipped with attractor (name, protocol, systems, models)."""
    from attractor.bench.suite import load_suite, shipped_suites

    rows = []
    for name, path in shipped_suites().items():
        suite = load_suite(path, check=False)
        rows.append({"name": name, "description": suite.description, "kind":
                     suite.protocol["kind"], "systems": list(suite.systems),
                     "models": list(suite.models), "seeds": list(suite.seeds),
                     "metrics": list(suite.metrics), "path": str(path)})  # fmt: skip
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        typer.echo(f"{row['name']:<16} {row['description']}")
        typer.echo(f"{'':<16} systems {', '.join(row['systems'])}; models "
                   f"{', '.join(row['models'])}; seeds {len(row['seeds'])}")  # fmt: skip


@app.command("run")
def run_command(
    suite: str = typer.Argument(..., help="A shipped suite name (see `bench suites`) or a "
                                "suite file (.toml)."),
    systems: list[str] = typer.Option(None, "--systems", help="Run these systems instead of "
                                      "the suite's (comma-separated; any registered system)."),
    models: list[str] = typer.Option(None, "--models", help="Run these models instead of the "
                                     "suite's (comma-separated; any registered model)."),
    seeds: str = typer.Option(None, "--seeds", help="Seeds 0..N-1 instead of the suite's."),
    executor: str = typer.Option("local", "--executor", help="local (a process pool), dask, "
                                 "or serial (in this process)."),
    workers: str = typer.Option("1", "--workers", help="Worker processes (local pool or Dask "
                                "LocalCluster)."),
    scheduler: str = typer.Option(None, "--scheduler", help="Dask scheduler address "
                                  "(tcp://HOST:PORT); default: a LocalCluster started here."),
    retries: str = typer.Option("2", "--retries", help="Retries of a failing task before it "
                                "is recorded as failed."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Run the tasks recorded as "
                                      "failed again."),
    compile_cache: str = typer.Option("auto", "--compile-cache", help="Directory of JAX's "
                                      "compilation cache, shared by the workers (programs "
                                      "compiled by one task are reused by the next); auto: "
                                      "STORE's name + .jax-cache beside it; off: none."),
    store: Path = STORE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Run a suite's unfinished tasks and record them in the store (rerun to resume)."""
    from attractor.bench.executors import EXECUTORS

    n_workers = v.positive_int(workers, "--workers", maximum=1024)
    n_retries = v.non_negative_int(retries, "--retries", maximum=100)
    n_seeds = None if seeds is None else v.positive_int(seeds, "--seeds", maximum=100_000)
    if executor not in EXECUTORS:
        raise InputError(f"--executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if scheduler is not None and executor != "dask":
        raise InputError("--scheduler applies to --executor dask")
    if executor == "dask":
        import importlib.util

        if importlib.util.find_spec("distributed") is None:
            raise InputError("--executor dask needs Dask distributed: "
                             "pip install 'attractor[dask]'")  # fmt: skip
    system_names, model_names = _names(systems, "--systems"), _names(models, "--models")
    _check_store_path(store)
    cache = _compile_cache(compile_cache, store)

    from attractor.bench.suite import load_suite
    from attractor.bench.task import expand_tasks

    loaded = load_suite(suite)
    _, notes = loaded.resolve_systems() if system_names is None else ([], [])
    tasks = expand_tasks(loaded, systems=system_names, models=model_names,
                         seeds=None if n_seeds is None else list(range(n_seeds)))  # fmt: skip
    _sweep(loaded, tasks, store, executor, n_workers, scheduler, n_retries, retry_failed,
           notes, as_json, cache)  # fmt: skip


def _compile_cache(value: str, store: Path) -> str | None:
    """The compilation cache directory of ``--compile-cache`` (``None``: off). Nothing is
    created here; an existing path must be a directory."""
    if value == "off":
        return None
    path = store.with_name(store.name + ".jax-cache") if value == "auto" else Path(value)
    if path.exists() and not path.is_dir():
        raise InputError(f"--compile-cache {path}: exists and is not a directory")
    if not path.exists() and not path.parent.is_dir():
        raise InputError(f"--compile-cache {path}: the directory {path.parent} does not exist")
    return str(path.resolve())


def _check_store_path(store: Path) -> None:
    """A store that exists must be a readable run store of this schema; a new one needs its
    directory. Nothing is created here."""
    from attractor.bench.store import RunStore

    if store.is_file() and store.stat().st_size == 0:
        return  # an empty file (e.g. made by touch) becomes a new store
    if store.exists():
        RunStore(store).close()
    elif not store.parent.is_dir():
        raise InputError(f"--store {store}: the directory {store.parent} does not exist")


def _sweep(suite: Any, tasks: list[Any], store: Path, executor: str, workers: int,
           scheduler: str | None, retries: int, retry_failed: bool, notes: list[str],
           as_json: bool, compile_cache: str | None) -> None:
    from tqdm import tqdm

    from attractor.bench.executors import make_executor
    from attractor.bench.runner import run_sweep
    from attractor.bench.store import RunStore
    from attractor.cli import signals
    from attractor.cli.output import json_document

    for note in notes if not as_json else []:
        typer.echo(f"note: {note}", err=True)
    pool = make_executor(executor, workers, scheduler=scheduler, compile_cache=compile_cache)
    try:
        opened = RunStore(store, create=True, lock=True)
    except BaseException:
        pool.close()
        raise
    signals.set_interrupt_hint(f"finished tasks are kept in {store}; run the same command "
                               "again to resume")  # fmt: skip
    state: dict[str, Any] = {"bar": None}

    def on_progress(p: Any) -> None:
        if state["bar"] is None:  # tasks finished earlier are not counted in the rate or ETA
            state["bar"] = tqdm(total=p.total - p.skipped, unit="task", desc=suite.name,
                                disable=as_json)  # fmt: skip
        bar = state["bar"]
        bar.set_postfix(done=p.done, failed=p.failed, remaining=p.remaining, refresh=False)
        bar.update(p.done + p.failed - bar.n)

    try:
        with opened:
            progress = run_sweep(suite.to_dict(), tasks, opened, pool, retries=retries,
                                 retry_failed=retry_failed, on_progress=on_progress)  # fmt: skip
    finally:
        if state["bar"] is not None:
            state["bar"].close()
    summary = {"suite": suite.name, "store": str(store), "executor": executor,
               "workers": pool.slots, "compile_cache": compile_cache, **progress.to_dict(),
               "notes": notes}  # fmt: skip
    if as_json:
        typer.echo(json_document(summary))
        return
    rate = summary["tasks_per_hour"]
    typer.echo(f"{suite.name}: {progress.done} done, {progress.failed} failed, "
               f"{progress.skipped} already in the store, in {progress.seconds:.1f} s"
               + (f" ({rate:.0f} tasks/hour)" if rate else "") + f"; store {store}")  # fmt: skip
    if progress.failed:
        typer.echo(f"failed tasks keep their traceback: attractor bench status --store {store}")


@app.command("status")
def status_command(store: Path = STORE_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Done / failed / pending counts per suite, and the last error of each failed task."""
    from attractor.bench.store import STATUSES, RunStore

    with RunStore(store) as opened:
        counts = opened.counts()
        failed = [{"task_id": r["task_id"], "task": f"{r['system']} / {r['variant']} / seed "
                   f"{r['seed']}", "error": (r["error"] or "").strip().splitlines()[-1:]}
                  for r in opened.runs() if r["status"] == "failed"]  # fmt: skip
    total = {s: sum(c[s] for c in counts.values()) for s in STATUSES}
    if as_json:
        typer.echo(json.dumps({"store": str(store), "suites": counts, "total": total,
                               "failed": failed}))  # fmt: skip
        return
    for name, c in counts.items():
        typer.echo(f"{name:<16} " + ", ".join(f"{c[s]} {s}" for s in STATUSES))
    if total["running"]:
        typer.echo("('running' tasks of a sweep that was stopped are rerun by the next run)")
    for item in failed:
        typer.echo(f"failed: {item['task']}: {' '.join(item['error'])}")


@app.command("report")
def report_command(
    store: Path = STORE_OPTION,
    out: Path = typer.Option(..., "--out", help="Output directory (index.html, leaderboard.csv)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing DIR."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Write the offline HTML report: leaderboards, heatmaps, published numbers, protocols."""
    from attractor.bench.report import write_report
    from attractor.bench.store import RunStore
    from attractor.cli.output import OutputDirectory

    with RunStore(store) as opened, OutputDirectory(out, overwrite=overwrite,
                                                    keep_partial=False) as target:  # fmt: skip
        summary = write_report(opened, target.staging)
    summary = {"out": str(out), "html": str(out / "index.html"), **summary}
    if as_json:
        typer.echo(json.dumps(summary))
        return
    typer.echo(f"report of {summary['runs']} runs written to {summary['html']}")


@app.command("export")
def export_command(
    store: Path = STORE_OPTION,
    out: Path = typer.Option(..., "--out", help="Output file: .csv, or .parquet (needs "
                             "pyarrow)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing file."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Export the metrics (one row per task and metric) to CSV or Parquet."""
    from attractor.bench.store import RunStore
    from attractor.cli.output import prepare_output_file

    if out.suffix not in (".csv", ".parquet"):
        raise InputError(f"--out {out}: the format is chosen by the suffix, .csv or .parquet")
    prepare_output_file(out, overwrite)
    with RunStore(store) as opened:
        rows = opened.export(out)
    if as_json:
        typer.echo(json.dumps({"out": str(out), "rows": rows}))
        return
    typer.echo(f"{rows} rows written to {out}")
