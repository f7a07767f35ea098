"""Leaderboards from a run store, and the report: one HTML page that works offline.

Aggregation (:func:`leaderboard`): for each model variant (and sweep point), each metric is first
reduced to its median over seeds on every system, then summarised over systems by the median and
the interquartile range (25th–75th percentile). Values that could not be computed (``None``: a
diverged run, an unknown Lyapunov exponent) are left out and the number of systems that remain is
shown; failed tasks are counted separately. This is the statistic of Gilpin (2021, 2023): medians
over systems of per-system scores.

The page (:func:`write_report`) has, per suite: its description, protocol (split, horizons,
metrics) and notes; the leaderboard; the published numbers beside ours where the suite declares
them (``[published]``, e.g. Gilpin 2023's median sMAPE); a per-system heatmap and a box plot of
its first metric (matplotlib, embedded as base64 PNG — no network, no scripts); and the failed
tasks with the last line of their error. ``leaderboard.csv`` holds the same numbers.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import time
from pathlib import Path
from typing import Any

import numpy as np

from attractor.bench.store import RunStore

#: Metrics where larger is better (every other metric: smaller is better).
HIGHER_IS_BETTER = frozenset({"vpt_steps", "vpt_time", "vpt_lyapunov", "smape_vpt_steps",
                              "smape_vpt_lyapunov"})  # fmt: skip
HTML_FILE = "index.html"
CSV_FILE = "leaderboard.csv"


def _group(variant: str, condition: str) -> str:
    return f"{variant} ({condition})" if condition else variant


def per_system(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float | None]]]:
    """group -> system -> metric -> median over seeds (``None`` when no seed has a value)."""
    values: dict[tuple[str, str, str], list[float]] = {}
    seen: dict[tuple[str, str, str], bool] = {}
    for r in rows:
        key = (_group(r["variant"], r["condition"]), r["system"], r["metric"])
        seen[key] = True
        if r["value"] is not None:
            values.setdefault(key, []).append(float(r["value"]))
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for group, system, metric in seen:
        vals = values.get((group, system, metric))
        out.setdefault(group, {}).setdefault(system, {})[metric] = (
            float(np.median(vals)) if vals else None
        )
    return out


def leaderboard(rows: list[dict[str, Any]], metrics: list[str]) -> list[dict[str, Any]]:
    """One entry per group: ``{"group", "metrics": {m: {"median", "q25", "q75", "n"}}}``."""
    table = per_system(rows)
    out = []
    for group in sorted(table):
        entry: dict[str, Any] = {"group": group, "n_systems": len(table[group]), "metrics": {}}
        for metric in metrics:
            vals = [s[metric] for s in table[group].values() if s.get(metric) is not None]
            entry["metrics"][metric] = (
                {"median": float(np.median(vals)), "q25": float(np.percentile(vals, 25)),
                 "q75": float(np.percentile(vals, 75)), "n": len(vals)}
                if vals else {"median": None, "q25": None, "q75": None, "n": 0}
            )  # fmt: skip
        out.append(entry)
    return out


# ------------------------------------------------------------------------------------ figures
def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def heatmap_figure(rows: list[dict[str, Any]], metric: str) -> Any:
    """Systems × groups heatmap of ``metric`` (median over seeds); blank cells have no value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = per_system(rows)
    groups = sorted(table)
    systems = sorted({s for g in groups for s in table[g]})
    grid = np.full((len(systems), len(groups)), np.nan)
    for j, g in enumerate(groups):
        for i, s in enumerate(systems):
            value = table[g].get(s, {}).get(metric)
            grid[i, j] = np.nan if value is None else value
    fig, ax = plt.subplots(figsize=(2.0 + 1.1 * len(groups), 1.2 + 0.28 * len(systems)))
    cmap = "viridis" if metric in HIGHER_IS_BETTER else "viridis_r"
    image = ax.imshow(np.ma.masked_invalid(grid), aspect="auto", cmap=cmap)
    ax.set_xticks(range(len(groups)), groups, rotation=30, ha="right")
    ax.set_yticks(range(len(systems)), systems)
    if grid.size <= 400:
        for i in range(len(systems)):
            for j in range(len(groups)):
                if np.isfinite(grid[i, j]):
                    r, g, b, _ = image.cmap(image.norm(grid[i, j]))
                    dark = 0.299 * r + 0.587 * g + 0.114 * b > 0.5  # light cell: dark text
                    ax.text(j, i, f"{grid[i, j]:.3g}", ha="center", va="center", fontsize=7,
                            color="black" if dark else "white")  # fmt: skip
    fig.colorbar(image, ax=ax, label=f"{metric} (median over seeds)")
    ax.set_title(f"{metric} per system")
    return fig


def box_figure(rows: list[dict[str, Any]], metric: str) -> Any:
    """Distribution over systems of ``metric`` (median over seeds) for every group."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = per_system(rows)
    groups = sorted(table)
    data = [[v[metric] for v in table[g].values() if v.get(metric) is not None] for g in groups]
    fig, ax = plt.subplots(figsize=(2.0 + 1.1 * len(groups), 3.5))
    ax.boxplot([d if d else [np.nan] for d in data], tick_labels=groups)
    ax.set_ylabel(f"{metric} (median over seeds)")
    ax.set_title(f"{metric} over systems")
    ax.tick_params(axis="x", rotation=30)
    return fig


# ------------------------------------------------------------------------------------ the page
_CSS = """
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 80em; }
table { border-collapse: collapse; margin: 0.8em 0; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #eee; }
td.best { font-weight: bold; background: #e6f4e6; }
p.note, li { max-width: 60em; }
img { max-width: 100%; }
"""


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def _protocol_rows(suite: dict[str, Any]) -> list[tuple[str, str]]:
    p = suite["protocol"]
    sampling = (f"{p['points_per_period']} points per period" if p.get("points_per_period")
                else "the system's sampling step")  # fmt: skip
    if p["kind"] == "dsr":
        split = f"train {p['n_train']} points (noise {p['noise']}), test {p['n_test']} points"
        horizon = "free run of 1.25x the test length from the first test point"
    else:
        n_test = p.get("n_test") or "context + horizon"
        split = (f"train {p['n_train']} points (noise {p['noise']}), separate test trajectory "
                 f"of {n_test} points")  # fmt: skip
        horizon = (f"context {p['context']}, horizon {p['horizon']} steps, "
                   f"{p['n_windows']} window(s)")  # fmt: skip
    overrides = "; ".join(f"{name}: {', '.join(f'{k}={v}' for k, v in opts.items())}"
                          for name, opts in suite.get("system_options", {}).items())  # fmt: skip
    rows = [("protocol", p["kind"]), ("sampling", sampling), ("split", split),
            ("horizons", horizon), ("metrics", ", ".join(suite["metrics"])),
            ("seeds (suite default)", ", ".join(map(str, suite["seeds"]))),
            ("systems (suite default)", ", ".join(suite["systems"]))]  # fmt: skip
    return rows + ([("per-system settings", overrides)] if overrides else [])


def _leaderboard_html(board: list[dict[str, Any]], metrics: list[str]) -> str:
    best: dict[str, float] = {}
    for m in metrics:
        vals = [e["metrics"][m]["median"] for e in board if e["metrics"][m]["median"] is not None]
        if vals:
            best[m] = max(vals) if m in HIGHER_IS_BETTER else min(vals)
    head = "".join(f"<th>{html.escape(m)}{' ↑' if m in HIGHER_IS_BETTER else ' ↓'}</th>"
                   for m in metrics)  # fmt: skip
    lines = [f"<table class='leaderboard'><tr><th>model</th><th>systems</th>{head}</tr>"]
    for e in board:
        cells = []
        for m in metrics:
            s = e["metrics"][m]
            cls = " class='best'" if s["median"] is not None and s["median"] == best.get(m) else ""
            iqr = f" [{_fmt(s['q25'])}–{_fmt(s['q75'])}]" if s["median"] is not None else ""
            count = f" <small>(n={s['n']})</small>" if s["n"] != e["n_systems"] else ""
            cells.append(f"<td{cls}>{_fmt(s['median'])}{iqr}{count}</td>")
        lines.append(f"<tr><td>{html.escape(e['group'])}</td><td>{e['n_systems']}</td>"
                     + "".join(cells) + "</tr>")  # fmt: skip
    return "\n".join(lines + ["</table>"])


def _published_html(suite: dict[str, Any], board: list[dict[str, Any]]) -> str:
    pub = suite.get("published")
    if not pub:
        return ""
    metric, condition = pub["metric"], pub.get("condition", "")
    ours = {e["group"]: e["metrics"].get(metric, {}).get("median") for e in board}
    lines = [f"<h3>Published numbers beside ours ({html.escape(metric)})</h3>",
             f"<p class='note'>{html.escape(pub['source'])}.</p>",
             "<table class='published'><tr><th>method</th><th>published</th>"
             "<th>ours (median over systems)</th></tr>"]  # fmt: skip
    for name, value in sorted(pub["values"].items(), key=lambda kv: kv[1]):
        label = pub.get("ours", {}).get(name)
        group = _group(label, condition) if label else None
        if group is None:
            shown = "—"
        elif group not in ours:
            shown = f"not run ({html.escape(label)})"
        else:
            shown = f"{_fmt(ours[group])} ({html.escape(label)})"
        lines.append(f"<tr><td>{html.escape(name)}</td><td>{value:g}</td><td>{shown}</td></tr>")
    return "\n".join(lines + ["</table>"])


def _suite_html(suite: dict[str, Any], runs: list[dict[str, Any]],
                rows: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]], int]:  # fmt: skip
    metrics = list(suite["metrics"])
    board = leaderboard(rows, metrics)
    status = {s: sum(r["status"] == s for r in runs) for s in ("done", "failed", "pending",
                                                                 "running")}  # fmt: skip
    parts = [f"<h2>Suite {html.escape(suite['name'])}</h2>",
             f"<p>{html.escape(suite.get('description', ''))}</p>",
             "<table class='protocol'>" + "".join(
                 f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                 for k, v in _protocol_rows(suite)) + "</table>"]  # fmt: skip
    if suite.get("notes"):
        parts.append(f"<p class='note'>{html.escape(suite['notes'])}</p>")
    parts.append("<p>Tasks: " + ", ".join(f"{n} {s}" for s, n in status.items()) + ".</p>")
    parts.append("<h3>Leaderboard</h3><p class='note'>Median over systems of the per-system "
                 "median over seeds, with the interquartile range in brackets; the best median "
                 "per metric is highlighted (↓ smaller is better, ↑ larger is better).</p>")
    parts.append(_leaderboard_html(board, metrics) if board else "<p>No finished tasks.</p>")
    parts.append(_published_html(suite, board))
    figures = 0
    if board:
        for make in (heatmap_figure, box_figure):
            parts.append(f"<p><img alt='{make.__name__.split('_')[0]} of {metrics[0]}' "
                         f"src='data:image/png;base64,{_png(make(rows, metrics[0]))}'></p>")
            figures += 1
    failed = [r for r in runs if r["status"] == "failed"]
    if failed:
        parts.append("<h3>Failed tasks</h3><ul>")
        for r in failed:
            last = (r["error"] or "").strip().splitlines()[-1:] or [""]
            parts.append(f"<li>{html.escape(r['system'])} / {html.escape(r['variant'])} / seed "
                         f"{r['seed']}: <code>{html.escape(last[0])}</code></li>")  # fmt: skip
        parts.append("</ul>")
    return "\n".join(parts), board, figures


def write_report(store: RunStore, directory: str | Path) -> dict[str, Any]:
    """Write ``index.html`` and ``leaderboard.csv`` into ``directory``; returns a summary."""
    directory = Path(directory)
    suites = store.suites()
    body, csv_rows, n_runs, n_figures = [], [], 0, 0
    for name, suite in sorted(suites.items()):
        runs = store.runs(name)
        rows = list(store.metric_rows(name))
        n_runs += len(runs)
        section, board, figures = _suite_html(suite, runs, rows)
        body.append(section)
        n_figures += figures
        for e in board:
            for metric, s in e["metrics"].items():
                csv_rows.append({"suite": name, "group": e["group"], "metric": metric,
                                 "n_systems": s["n"], **{k: s[k] for k in
                                                         ("median", "q25", "q75")}})  # fmt: skip
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>attractor benchmark report</title><style>{_CSS}</style></head><body>"
        f"<h1>attractor benchmark report</h1><p>Store <code>{html.escape(str(store.path))}"
        f"</code>, {n_runs} tasks, written {stamp}.</p>"
        + ("\n".join(body) if body else "<p>The store holds no suites yet.</p>")
        + "</body></html>\n"
    )
    (directory / HTML_FILE).write_text(page, encoding="utf-8")
    with open(directory / CSV_FILE, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["suite", "group", "metric", "n_systems",
                                                    "median", "q25", "q75"])  # fmt: skip
        writer.writeheader()
        writer.writerows(csv_rows)
    return {"runs": n_runs, "suites": sorted(suites), "figures": n_figures}


__all__ = ["HIGHER_IS_BETTER", "box_figure", "heatmap_figure", "leaderboard", "per_system",
           "write_report"]  # fmt: skip
