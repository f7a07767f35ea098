"""Suites: the shipped ones load; malformed files, unknown models and systems are refused first."""

from __future__ import annotations

from pathlib import Path

import pytest

from attractor.bench.suite import load_suite, shipped_suites
from attractor.bench.task import expand_tasks
from attractor.errors import InputError


def test_every_shipped_suite_loads_and_validates() -> None:
    shipped = shipped_suites()
    assert {"dysts-short", "dysts-long", "data-limited", "dsr", "spatiotemporal"} <= set(shipped)
    for name in shipped:
        suite = load_suite(name)  # resolves every system and model
        assert suite.name == name and suite.models and suite.metrics


def test_dysts_short_is_the_gilpin_protocol() -> None:
    suite = load_suite("dysts-short")
    p = suite.protocol
    assert (p["points_per_period"], p["n_train"], p["context"], p["horizon"]) == (100, 1000,
                                                                                  1000, 200)
    assert suite.published["values"]["NBEATS"] == 42.2 and suite.published["metric"] == "smape"
    systems, notes = suite.resolve_systems()
    assert "lorenz63" in systems and "lorenz96" not in systems  # low-dimensional flows only
    tasks = expand_tasks(suite, systems=["lorenz63"], models=["nvar"], seeds=[0])
    (task,) = tasks
    # dt = period / 100 points per period; VPT in Lyapunov times of the reference exponent
    assert task.config["protocol"]["dt"] == pytest.approx(0.76 / 100)
    assert task.config["protocol"]["lyapunov"] == pytest.approx(0.9056)
    assert task.config["protocol"]["n_test"] == 1200


def test_sweeps_grids_and_seeds_multiply(suite_file) -> None:
    path = suite_file(edit=lambda s: s.replace("n_train = 300", "n_train = [300, 200]")
                      + "grid = { order = [1, 2] }\n")
    suite = load_suite(path)
    tasks = expand_tasks(suite)
    # 2 systems x 2 training lengths x (persistence + 2 nvar grid points) x 2 seeds
    assert len(tasks) == 2 * 2 * 3 * 2
    assert len({t.id for t in tasks}) == len(tasks)
    variants = {t.config["variant"] for t in tasks}
    assert variants == {"persistence", "nvar[order=1]", "nvar[order=2]"}
    assert {t.config["condition"] for t in tasks} == {"n_train=300", "n_train=200"}
    assert {t.config["protocol"]["n_train"] for t in tasks} == {300, 200}


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda s: s + "\n[models\n", "not valid TOML"),
        (lambda s: s.replace('name = "mini"', 'name = 3'), "name must be a non-empty string"),
        (lambda s: "colour = 1\n" + s, "colour unknown key"),
        (lambda s: s.replace("horizon = 20", "horizon = 0"), "protocol.horizon must be a positive"),
        (lambda s: s.replace("horizon = 20", "horizn = 20"), "protocol.horizn unknown key"),
        (lambda s: s.replace('kind = "forecast"', 'kind = "guess"'), "protocol.kind must be one"),
        (lambda s: s.replace("seeds = [0, 1]", "seeds = [-1]"), "seeds must be"),
        (lambda s: s.replace('"vpt_lyapunov"', '"accuracy"'), "unknown metric 'accuracy'"),
        (lambda s: s.replace("[models.nvar]", "[models.gpt9]"), "unknown model 'gpt9'"),
        (lambda s: s.replace('"lozi"', '"lorenz36"'), "unknown system 'lorenz36'"),
        (lambda s: s.replace('"lozi"', '"@everything"'), "unknown system group"),
        (lambda s: s.replace("delays = 2", "wings = 2"), "no hyperparameter(s) wings"),
        (lambda s: s.replace("delays = 2", "delays = 0"), "[models.nvar]"),
        (lambda s: s + "seed = 3\n", "models.nvar.seed is set by the suite"),
        (lambda s: s + "epochs = 'many'\n", "[models.nvar]"),
        (lambda s: s + "select_by = 'mse'\n", "unknown selection score 'mse'"),
        (lambda s: s + "select_steps = 0\n", "select_steps must be a positive integer"),
        (lambda s: s + "grid = { order = [] }\n", "grid must map"),
        (lambda s: s + "tune = { ridge = [] }\n", "tune must map"),
        (lambda s: s + "tune = { ridgee = [1.0] }\n", "[models.nvar]"),
        (lambda s: s.split("[models.persistence]")[0], "models must hold at least one"),
        (lambda s: s + '[published]\nsource = "x"\nmetric = "nrmse"\nvalues = { A = 1 }\n',
         "published.metric must be one of the suite's metrics"),
        (lambda s: s.replace("n_windows = 2", "n_windows = 2\n[system_options.henon]\n"
                             "lyapunov = -1"),
         "system_options.henon.lyapunov must be a positive number"),
    ],
)
def test_a_bad_suite_is_refused_with_its_file_and_key(suite_file, edit, match: str) -> None:
    path = suite_file(edit=edit)
    with pytest.raises(InputError, match=None) as info:
        load_suite(path)
    assert match in str(info.value), str(info.value)
    assert str(path) in str(info.value)


def test_unknown_names_given_on_the_command_line_are_refused_before_any_task(
    mini_suite: Path,
) -> None:
    suite = load_suite(mini_suite)
    with pytest.raises(InputError, match="unknown model 'gpt9'"):
        expand_tasks(suite, models=["nvar", "gpt9"])
    with pytest.raises(InputError, match="unknown system 'lorenz36'"):
        expand_tasks(suite, systems=["lorenz36"])
    with pytest.raises(InputError, match="unknown suite"):
        load_suite("no-such-suite")
    with pytest.raises(InputError, match="no such file"):
        load_suite(mini_suite.with_name("missing.toml"))
