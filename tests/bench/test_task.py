"""Task ids: a stable content hash of the whole configuration, library version included."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from attractor.bench.suite import load_suite
from attractor.bench.task import canonical_json, expand_tasks, make_task, task_id

CONFIG = {
    "suite": "mini", "system": "henon", "model": "nvar", "variant": "nvar", "condition": "",
    "seed": 0, "attractor_version": "0.1.0",
    "protocol": {"kind": "forecast", "n_train": 300, "n_test": 200, "context": 50, "horizon": 20,
                 "n_windows": 2, "noise": 0.0, "dt": 1.0, "lyapunov": 0.41922,
                 "points_per_period": None},
    "spec": {"model": "nvar", "hyperparameters": {"delays": 2, "order": 2}, "seed": 0,
             "select_every": None},
}  # fmt: skip


def test_the_id_is_a_fixed_function_of_the_configuration() -> None:
    # A literal: the id must not depend on the process, the machine or dict order.
    assert task_id(CONFIG) == "aa0fa7d3e1ab96fb62b6"
    shuffled = dict(reversed(list(copy.deepcopy(CONFIG).items())))
    shuffled["protocol"] = dict(reversed(list(shuffled["protocol"].items())))
    assert canonical_json(shuffled) == canonical_json(CONFIG)
    assert task_id(shuffled) == task_id(CONFIG)


@pytest.mark.parametrize(
    "path, value",
    [
        ("seed", 1),
        ("attractor_version", "0.2.0"),
        ("protocol.horizon", 21),
        ("protocol.noise", 1e-12),
        ("protocol.dt", 1.0 + 1e-15),
        ("spec.hyperparameters.order", 3),
        ("spec.epochs", 10),
        ("system", "lozi"),
        ("suite", "other"),
    ],
)
def test_any_change_of_the_configuration_changes_the_id(path: str, value) -> None:
    changed = copy.deepcopy(CONFIG)
    *parents, last = path.split(".")
    node = changed
    for key in parents:
        node = node[key]
    node[last] = value
    assert task_id(changed) != task_id(CONFIG)


def test_expanded_tasks_carry_the_library_version_and_their_own_id(mini_suite: Path) -> None:
    from attractor import __version__

    tasks = expand_tasks(load_suite(mini_suite))
    assert len(tasks) == 2 * 2 * 2
    for task in tasks:
        assert task.config["attractor_version"] == __version__
        assert task.id == make_task(copy.deepcopy(task.config)).id
    again = expand_tasks(load_suite(mini_suite))
    assert [t.id for t in again] == [t.id for t in tasks]


def test_a_changed_default_is_a_new_task(mini_suite: Path) -> None:
    """The task spec writes every run setting out, defaults included, and the id hashes it: results
    stored under an old default are not taken for the new one."""
    import dataclasses

    from attractor.dsr.pipeline import RunSpec

    task = expand_tasks(load_suite(mini_suite))[0]
    spec = task.config["spec"]
    assert set(spec) == {f.name for f in dataclasses.fields(RunSpec)}
    assert spec == RunSpec.from_dict(spec).to_dict()  # the defaults, as the code has them now
    other_default = copy.deepcopy(task.config)
    other_default["spec"]["denoise"] = None if spec["denoise"] == "auto" else "auto"
    assert make_task(other_default).id != task.id


def test_tuning_picks_the_better_ridge_without_looking_at_the_test_series(
    mini_suite: Path,
) -> None:
    import dataclasses

    import numpy as np

    from attractor.bench.task import _tune
    from attractor.dsr.data import system_data
    from attractor.dsr.pipeline import RunSpec

    (task,) = expand_tasks(load_suite(mini_suite), systems=["henon"], models=["nvar"], seeds=[0])
    p = {**task.config["protocol"], "tune_holdout": 40}
    data = system_data("henon", n_train=p["n_train"], n_test=p["n_test"], noise=0.0, seed=0)
    spec = RunSpec.from_dict(task.config["spec"])
    # ridge 1e6 shrinks NG-RC to persistence, far worse on the Henon map than ridge 1e-8
    tuned_spec, chosen = _tune(data, spec, p, {"ridge": [1e6, 1e-8]})
    assert chosen == {"ridge": 1e-8}
    assert tuned_spec.objective_options["ridge"] == 1e-8
    blind = dataclasses.replace(data, test=np.full_like(data.test, np.nan))
    assert _tune(blind, spec, p, {"ridge": [1e6, 1e-8]})[1] == chosen
    assert _tune(data, spec, p, {"ridge": [1e-8, 1e6]})[1] == chosen
