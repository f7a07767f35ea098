"""Leaderboard statistics by hand, and the offline HTML page (rendered in headless Chromium when
it is installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from attractor.bench.report import leaderboard, write_report
from attractor.bench.store import RunStore
from attractor.bench.suite import load_suite
from attractor.bench.task import expand_tasks

# smape of (system, model, seed): per-system medians over seeds are easy to see
SMAPE = {
    ("henon", "nvar", 0): 10.0, ("henon", "nvar", 1): 30.0,        # median 20
    ("lozi", "nvar", 0): 50.0, ("lozi", "nvar", 1): 70.0,          # median 60
    ("henon", "persistence", 0): 100.0, ("henon", "persistence", 1): None,  # median 100
    ("lozi", "persistence", 0): None, ("lozi", "persistence", 1): None,     # no value
}  # fmt: skip


def _rows(metric: str = "smape") -> list[dict]:
    return [{"system": s, "variant": m, "condition": "", "seed": seed, "metric": metric,
             "value": v} for (s, m, seed), v in SMAPE.items()]  # fmt: skip


def test_leaderboard_is_the_median_over_systems_of_per_system_medians() -> None:
    board = {e["group"]: e for e in leaderboard(_rows(), ["smape"])}
    nvar = board["nvar"]["metrics"]["smape"]
    assert nvar["median"] == pytest.approx(40.0)  # median of 20 and 60
    assert (nvar["q25"], nvar["q75"], nvar["n"]) == (pytest.approx(30.0), pytest.approx(50.0), 2)
    pers = board["persistence"]["metrics"]["smape"]
    assert (pers["median"], pers["n"]) == (100.0, 1)  # the system without a value is left out
    assert board["persistence"]["n_systems"] == 2


PUBLISHED = """
[published]
source = "a paper"
metric = "smape"
values = { NVAR = 68.8, ESN = 74.3, NBEATS = 42.2 }
ours = { NVAR = "nvar", ESN = "esn" }
"""


@pytest.fixture
def filled_store(tmp_path: Path, suite_file) -> Path:
    """A store with the mini suite's tasks finished by hand (one failed), no JAX work."""
    suite = load_suite(suite_file(edit=lambda s: s + PUBLISHED))
    path = tmp_path / "runs.sqlite"
    with RunStore(path, create=True, lock=True) as store:
        tasks = expand_tasks(suite)
        store.register(suite.to_dict(), tasks)
        for t in tasks:
            c = t.config
            value = SMAPE[(c["system"], c["model"], c["seed"])]
            if (c["system"], c["model"], c["seed"]) == ("lozi", "persistence", 0):
                store.finish(t.id, {"error": "Traceback\nFloatingPointError: diverged"})
                continue
            store.finish(t.id, {"metrics": {"smape": value, "mase": 1.0 + c["seed"]}})
    return path


def test_the_report_is_one_offline_page_with_tables_and_figures(
    filled_store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    out.mkdir()
    with RunStore(filled_store) as store:
        summary = write_report(store, out)
    page = (out / "index.html").read_text()
    assert summary == {"runs": 8, "suites": ["mini"], "figures": 2}
    assert page.count("<table class='leaderboard'>") == 1
    assert len(re.findall(r"src='data:image/png;base64,[A-Za-z0-9+/=]{200,}'", page)) == 2
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", page)  # nothing from the network
    assert "<script" not in page
    assert "40 [30–50]" in page  # nvar's smape, as computed by hand above
    assert "FloatingPointError: diverged" in page  # the failed task is listed
    assert "context 50, horizon 20 steps, 2 window(s)" in page  # the protocol is stated
    published = page[page.index("<table class='published'>"):]
    assert "<td>NVAR</td><td>68.8</td><td>40 (nvar)</td>" in published
    assert "<td>ESN</td><td>74.3</td><td>not run (esn)</td>" in published
    assert "<td>NBEATS</td><td>42.2</td><td>—</td>" in published
    lines = (out / "leaderboard.csv").read_text().splitlines()
    assert lines[0] == "suite,group,metric,n_systems,median,q25,q75"
    assert "mini,nvar,smape,2,40.0,30.0,50.0" in lines


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.skipif(_chromium() is None, reason="headless Chromium is not installed (Debian "
                    "package 'chromium'; .ci/run installs it)")  # fmt: skip
def test_the_report_renders_in_headless_chromium(filled_store: Path, tmp_path: Path) -> None:
    from matplotlib.image import imread

    out = tmp_path / "report"
    out.mkdir()
    with RunStore(filled_store) as store:
        write_report(store, out)
    url = (out / "index.html").resolve().as_uri()
    browser = _chromium()
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True,
                         timeout=120, check=True).stdout  # fmt: skip
    assert "<table class=\"leaderboard\">" in dom or "<table class='leaderboard'>" in dom
    assert dom.count("<img") == 2
    shot = tmp_path / "shot.png"
    subprocess.run([*common, f"--screenshot={shot}", "--window-size=1200,2400", url],
                   capture_output=True, timeout=120, check=True)  # fmt: skip
    pixels = imread(shot)[..., :3]
    assert pixels.std() > 0.05  # not blank
    # the figures are drawn: some rows are far from the white page background
    assert np.mean(pixels.mean(axis=2) < 0.5) > 0.01
