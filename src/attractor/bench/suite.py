"""Benchmark suites: declarative TOML files that say which systems, models, seeds and protocol.

A suite is a TOML file, either shipped with the package (``attractor/bench/suites/*.toml``, listed
by :func:`shipped_suites`) or given by path. Its layout::

    name = "dysts-short"                 # required
    description = "..."                  # one line, for listings and the report
    notes = "..."                        # what the suite does and where it differs from the paper
    seeds = [0, 1]                       # model and data seeds
    systems = ["@native_flows", "@dysts", "lorenz63"]   # names, or groups (see SYSTEM_GROUPS)
    metrics = ["smape", "mase"]          # shown in the report (the first one in the heatmap);
                                         # every scalar metric of a task is stored
    [protocol]
    kind = "forecast"                    # "forecast" (evaluate_forecasts) or "dsr" (the GTF run)
    points_per_period = 100              # dt = period / points_per_period (else the system's dt)
    n_train = 1000                       # a list sweeps it: one task per value
    n_test = 1200                        # default: context + horizon (forecast)
    context = 1000                       # rows of warm-up before each forecast, or "auto"
    horizon = 200                        # forecast steps
    n_windows = 1                        # forecast windows along the test series
    noise = 0.0                          # observation noise on the training data (std, scaled)
    tune_holdout = 200                   # training rows held out to choose the `tune` values

    [system_options.lorenz96]            # per-system protocol overrides, plus dt and lyapunov
    dt = 0.01
    lyapunov = 1.68

    [models.esn]                         # one table per model: RunSpec fields
    hyperparameters = { units = 300 }
    objective_options = { ridge = 1e-6 }
    grid = { spectral_radius = [0.8, 1.0] }   # hyperparameter points: one task per combination
    tune = { ridge = [1e-8, 1e-6, 1e-4] }     # objective options chosen inside each task by the
                                              # forecast sMAPE on the last tune_holdout training
                                              # rows (fitted on the rows before), then refitted

    [published]                          # published numbers to show beside ours (optional)
    source = "..."
    metric = "smape"
    condition = "n_train=1000"           # optional: the sweep point they belong to
    values = { NVAR = 68.8 }
    ours = { NVAR = "nvar" }             # which of our models (variant labels) each matches

:func:`load_suite` validates everything that can be checked without running a task — TOML
syntax, unknown keys, types, unknown systems, unknown models and hyperparameters, objective
options — and raises :class:`~attractor.errors.InputError` naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import itertools
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from attractor.errors import InputError

#: Protocol kinds: ``forecast`` scores closed-loop forecasts (Gilpin 2023, Vlachas 2020);
#: ``dsr`` runs the GTF protocol (Hess et al. 2023) through :func:`attractor.dsr.run`.
KINDS = ("forecast", "dsr")

#: Protocol keys, their types and defaults (``None``: computed or unset).
PROTOCOL_DEFAULTS: dict[str, Any] = {
    "kind": "forecast",
    "points_per_period": None,
    "n_train": 1000,
    "n_test": None,
    "context": "auto",
    "horizon": 200,
    "n_windows": 1,
    "noise": 0.0,
    "tune_holdout": 200,
}
#: Protocol keys that may be given as a list (one task per value).
SWEEPABLE = ("n_train", "noise")
#: Per-system keys besides the protocol's.
SYSTEM_KEYS = ("dt", "lyapunov")

#: Metrics a task can report, by protocol kind (what the ``metrics`` list may name).
FORECAST_METRICS = (
    "smape", "mase", "nrmse", "vpt_steps", "vpt_time", "vpt_lyapunov", "smape_vpt_steps",
    "smape_vpt_lyapunov", "spectrum_error_db", "D_stsp", "D_H", "corr_dim_error",
    "train_seconds",
)  # fmt: skip
DSR_METRICS = (
    "D_stsp", "D_H", "PE", "lambda_max", "lambda_max_error", "lambda_max_relative_error",
    "lambda_max_system", "n_warnings", "settled_probes", "attempts",
    "D_stsp_starts_median", "D_H_starts_median", "train_seconds",
)  # fmt: skip

#: System groups a suite may name. ``@native_flows``: attractor's native chaotic flows with a known
#: period and a positive largest Lyapunov exponent (low-dimensional, as the dysts catalogue);
#: ``@dysts``: every dysts flow, when the ``dysts`` extra is installed (else none, with a note).
SYSTEM_GROUPS = ("@native_flows", "@dysts")

_TOP_KEYS = {"name", "description", "notes", "seeds", "systems", "metrics", "protocol",
             "system_options", "models", "published"}  # fmt: skip
_PUBLISHED_KEYS = {"source", "metric", "condition", "values", "ours"}


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """One model of a suite: its RunSpec settings, its hyperparameter grid (one task per point)
    and the objective options tuned inside each task."""

    name: str
    settings: dict[str, Any]
    grid: dict[str, list[Any]]
    tune: dict[str, list[Any]] = dataclasses.field(default_factory=dict)

    def variants(self) -> list[tuple[str, dict[str, Any]]]:
        """``(label, settings)`` for every point of the grid (just the model without a grid)."""
        if not self.grid:
            return [(self.name, self.settings)]
        keys = sorted(self.grid)
        out = []
        for values in itertools.product(*(self.grid[k] for k in keys)):
            point = dict(zip(keys, values, strict=True))
            hyper = {**self.settings.get("hyperparameters", {}), **point}
            label = f"{self.name}[{','.join(f'{k}={v}' for k, v in point.items())}]"
            out.append((label, {**self.settings, "hyperparameters": hyper}))
        return out


@dataclasses.dataclass(frozen=True)
class Suite:
    """A validated suite (see the module docstring). ``source`` is the file it came from."""

    name: str
    description: str
    notes: str
    seeds: tuple[int, ...]
    systems: tuple[str, ...]
    metrics: tuple[str, ...]
    protocol: dict[str, Any]
    system_options: dict[str, dict[str, Any]]
    models: dict[str, ModelEntry]
    published: dict[str, Any] | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored with the runs, read by the report)."""
        out = dataclasses.asdict(self)
        out["models"] = {k: {"settings": m.settings, "grid": m.grid, "tune": m.tune}
                         for k, m in self.models.items()}  # fmt: skip
        return out

    def resolve_systems(self) -> tuple[list[str], list[str]]:
        """The suite's system names with groups expanded, and notes about what was left out."""
        return expand_systems(self.systems, where=f"suite {self.source}: systems")


# ------------------------------------------------------------------------------------- loading
def shipped_suites() -> dict[str, Path]:
    """Name -> path of every suite shipped with the package."""
    folder = resources.files("attractor.bench") / "suites"
    return {p.name.removesuffix(".toml"): Path(str(p))
            for p in sorted(folder.iterdir(), key=lambda p: p.name)
            if p.name.endswith(".toml")}  # fmt: skip


def find_suite(name_or_path: str | Path) -> Path:
    """A shipped suite by name, or a suite file by path."""
    text = str(name_or_path)
    shipped = shipped_suites()
    if text in shipped:
        return shipped[text]
    path = Path(text)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise InputError(f"suite {text}: no such file")
        return path
    raise InputError(
        f"unknown suite {text!r}: give a suite file (.toml) or one of {', '.join(shipped)}"
    )


def load_suite(name_or_path: str | Path, *, check: bool = True) -> Suite:
    """Read and validate a suite; ``check`` also resolves its systems and models."""
    path = find_suite(name_or_path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"suite {path}: not valid TOML ({err})") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"suite {path}: cannot read it ({err})") from None
    suite = parse_suite(raw, str(path))
    if check:
        check_suite(suite)
    return suite


def parse_suite(raw: dict[str, Any], where: str) -> Suite:
    """Types and keys of a parsed TOML document (no registry look-ups)."""
    p = _Path(where)
    _known(raw, _TOP_KEYS, p)
    name = p.string(raw.get("name"), "name")
    seeds = raw.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds or not all(_is_int(s) and s >= 0 for s in seeds):
        raise p.error("seeds", f"must be a non-empty list of integers >= 0, got {seeds!r}")
    systems = p.string_list(raw.get("systems"), "systems")
    protocol = _protocol(raw.get("protocol", {}), p.sub("protocol"))
    kind = protocol["kind"]
    allowed = FORECAST_METRICS if kind == "forecast" else DSR_METRICS
    metrics = p.string_list(raw.get("metrics", [allowed[0]]), "metrics")
    for m in metrics:
        if m not in allowed:
            raise p.error("metrics", f"unknown metric {m!r} for a {kind} suite; "
                                     f"known: {', '.join(allowed)}")  # fmt: skip
    system_options = _system_options(raw.get("system_options", {}), protocol, p)
    models = _models(raw.get("models"), p)
    for entry in models.values():
        if entry.tune and kind != "forecast":
            raise p.error(f"models.{entry.name}.tune", "applies to forecast suites only")
    published = raw.get("published")
    if published is not None:
        _check_published(published, metrics, p.sub("published"))
    return Suite(
        name=name,
        description=str(raw.get("description", "")),
        notes=" ".join(str(raw.get("notes", "")).split()),
        seeds=tuple(int(s) for s in seeds),
        systems=tuple(systems),
        metrics=tuple(metrics),
        protocol=protocol,
        system_options=system_options,
        models=models,
        published=published,
        source=where,
    )


def check_suite(suite: Suite) -> None:
    """Look the suite's systems and models up: unknown names, hyperparameters or objective
    options raise :class:`InputError` naming the suite file and the entry."""
    names, _ = suite.resolve_systems()
    check_models(suite, suite.models, names)
    for sys_name in suite.system_options:
        _system(sys_name, f"suite {suite.source}: [system_options.{sys_name}]")


def check_models(suite: Suite, models: dict[str, ModelEntry], systems: list[str]) -> None:
    """Every model of ``models`` (its variants' settings) is valid for every system's dimension."""
    from attractor.dsr.pipeline import RunSpec

    dims = sorted({_system(s, f"suite {suite.source}: systems").dim for s in systems}) or [3]
    for entry in models.values():
        where = f"suite {suite.source}: [models.{entry.name}]"
        for _, settings in entry.variants():
            try:
                spec = RunSpec.from_dict({"model": entry.name, **settings})
                for dim in dims:
                    spec.model_config(dim)
                spec.make_objective()
                spec.check_loop_settings()
                for options in tune_points(entry.tune):
                    dataclasses.replace(spec, objective_options={**spec.objective_options,
                                                                 **options}).make_objective()
            except InputError as err:
                raise InputError(f"{where}: {err}") from None
            except (TypeError, ValueError) as err:
                raise InputError(f"{where}: {type(err).__name__}: {err}") from None


def tune_points(tune: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the ``tune`` candidates (``[{}]`` when nothing is tuned)."""
    keys = sorted(tune)
    return [dict(zip(keys, values, strict=True))
            for values in itertools.product(*(tune[k] for k in keys))]  # fmt: skip


def expand_systems(
    systems: tuple[str, ...] | list[str], *, where: str = "--systems"
) -> tuple[list[str], list[str]]:
    """System names with ``@`` groups expanded (order kept, duplicates dropped), and notes;
    ``where`` starts the message of an unknown name."""
    from attractor.systems import all_systems, names

    out: list[str] = []
    notes: list[str] = []
    for entry in systems:
        if entry == "@native_flows":
            found = [s.name for s in all_systems()
                     if s.source == "native" and s.kind == "flow" and s.period
                     and (s.reference.lyapunov_max or 0) > 0 and s.dim <= 10]  # fmt: skip
        elif entry == "@dysts":
            found = names(source="dysts")
            if not found:
                notes.append("@dysts: the dysts extra is not installed; no dysts flows included "
                             "(pip install 'attractor[dysts]')")  # fmt: skip
        elif entry.startswith("@"):
            raise InputError(f"{where}: unknown system group {entry!r}; known: "
                             f"{', '.join(SYSTEM_GROUPS)}")  # fmt: skip
        else:
            found = [_system(entry, where).name]
        out.extend(n for n in found if n not in out)
    return out, notes


def _system(name: str, where: str) -> Any:
    from attractor.systems import get

    try:
        return get(name)
    except InputError as err:
        raise InputError(f"{where}: {err}") from None


# ------------------------------------------------------------------------------------- helpers
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _protocol(table: Any, p: _Path) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise p.error("", "must be a table")
    _known(table, set(PROTOCOL_DEFAULTS), p)
    out = {**PROTOCOL_DEFAULTS, **table}
    if out["kind"] not in KINDS:
        raise p.error("kind", f"must be one of {', '.join(KINDS)}, got {out['kind']!r}")

    def positive_int(key: str, value: Any) -> None:
        if not (_is_int(value) and value >= 1):
            raise p.error(key, f"must be a positive integer, got {value!r}")

    for key in ("n_train", "noise"):
        values = out[key] if isinstance(out[key], list) else [out[key]]
        if not values:
            raise p.error(key, "must not be an empty list")
        for v in values:
            if key == "n_train":
                positive_int(key, v)
            elif not (_is_number(v) and v >= 0):
                raise p.error(key, f"must be a number >= 0, got {v!r}")
    for key in ("horizon", "n_windows", "tune_holdout"):
        positive_int(key, out[key])
    for key in ("n_test", "points_per_period"):
        if out[key] is not None:
            positive_int(key, out[key])
    if out["context"] != "auto":
        positive_int("context", out["context"])
    elif out["kind"] == "forecast" and out["n_test"] is None:
        raise p.error("n_test", "must be given with context = \"auto\"")
    if out["kind"] == "dsr" and out["n_test"] is None:
        raise p.error("n_test", "must be given for the dsr protocol")
    return out


def _system_options(options: Any, protocol: dict[str, Any], p: _Path) -> dict[str, dict[str, Any]]:
    """``[system_options.NAME]`` tables: protocol overrides plus ``dt`` and ``lyapunov``."""
    if not isinstance(options, dict):
        raise p.error("system_options", "must be a table")
    out = {}
    for sys_name, table in options.items():
        sp = p.sub(f"system_options.{sys_name}")
        if not isinstance(table, dict):
            raise sp.error("", "must be a table")
        _known(table, set(PROTOCOL_DEFAULTS) - {"kind"} | set(SYSTEM_KEYS), sp)
        for key in SYSTEM_KEYS:
            if key in table and not (_is_number(table[key]) and table[key] > 0):
                raise sp.error(key, f"must be a positive number, got {table[key]!r}")
        merged = _protocol({**protocol, **{k: v for k, v in table.items()
                                          if k not in SYSTEM_KEYS}}, sp)  # fmt: skip
        out[str(sys_name).lower()] = {
            **{k: merged[k] for k in table if k not in SYSTEM_KEYS},
            **{k: float(table[k]) for k in SYSTEM_KEYS if k in table},
        }
    return out


def _models(models_raw: Any, p: _Path) -> dict[str, ModelEntry]:
    """``[models.NAME]`` tables: RunSpec settings and an optional ``grid``."""
    if not isinstance(models_raw, dict) or not models_raw:
        raise p.error("models", "must hold at least one [models.NAME] table")
    models = {}
    for model_name, table in models_raw.items():
        mp = p.sub(f"models.{model_name}")
        if not isinstance(table, dict):
            raise mp.error("", "must be a table")
        settings = {k: v for k, v in table.items() if k not in ("grid", "tune")}
        for reserved in ("model", "seed"):
            if reserved in settings:
                raise mp.error(reserved, "is set by the suite (models and seeds), not per model")
        grid = table.get("grid", {})
        if not isinstance(grid, dict) or not all(
            isinstance(v, list) and v for v in grid.values()
        ):
            raise mp.error("grid", "must map hyperparameter names to non-empty lists")
        tune = table.get("tune", {})
        if not isinstance(tune, dict) or not all(isinstance(v, list) and v for v in tune.values()):
            raise mp.error("tune", "must map objective options to non-empty lists")
        name = str(model_name).lower()
        models[name] = ModelEntry(name, settings, grid, tune)
    return models


def _check_published(published: Any, metrics: list[str], pp: _Path) -> None:
    if not isinstance(published, dict):
        raise pp.error("", "must be a table")
    _known(published, _PUBLISHED_KEYS, pp)
    pp.string(published.get("source"), "source")
    values = published.get("values", {})
    if not isinstance(values, dict) or not all(_is_number(v) for v in values.values()):
        raise pp.error("values", "must map method names to numbers")
    if published.get("metric") not in metrics:
        raise pp.error("metric", f"must be one of the suite's metrics {list(metrics)}")
    ours = published.get("ours", {})
    if not isinstance(ours, dict) or not set(ours) <= set(values):
        raise pp.error("ours", "must map names of 'values' to our model labels")


def _known(table: dict[str, Any], known: set[str], p: _Path) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise p.error(unknown[0], f"unknown key; known keys here: {', '.join(sorted(known))}")


class _Path:
    """Where in which file: builds the error messages."""

    def __init__(self, file: str, table: str = "") -> None:
        self.file, self.table = file, table

    def sub(self, table: str) -> _Path:
        return _Path(self.file, table)

    def error(self, key: str, message: str) -> InputError:
        where = ".".join(k for k in (self.table, key) if k)
        return InputError(f"suite {self.file}: {where or 'the file'} {message}")

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"must be a non-empty string, got {value!r}")
        return value.strip()

    def string_list(self, value: Any, key: str) -> list[str]:
        if not isinstance(value, list) or not value or not all(
            isinstance(v, str) and v.strip() for v in value
        ):
            raise self.error(key, f"must be a non-empty list of names, got {value!r}")
        return [v.strip() for v in value]


__all__ = [
    "DSR_METRICS",
    "FORECAST_METRICS",
    "KINDS",
    "SYSTEM_GROUPS",
    "ModelEntry",
    "Suite",
    "check_suite",
    "expand_systems",
    "find_suite",
    "load_suite",
    "parse_suite",
    "shipped_suites",
    "tune_points",
]
