"""Failed runs are said to have failed: collapse, divergence, orbits outside the data, and a
reason next to every missing metric."""

from __future__ import annotations

import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor.dsr import evaluate_model
from attractor.dsr.diagnostics import (
    BROAD_SPECTRUM,
    UNCOVERED_MASS,
    diagnose,
    null_reasons,
    spectral_entropy,
    uncovered_mass,
)
from attractor.models import build_model, make_config


def _chaotic(n: int = 6000) -> np.ndarray:
    """Standardised Lorenz-63 (a broad spectrum)."""
    from attractor.dsr import system_data

    return system_data("lorenz63", n_train=n, n_test=n, noise=0.0, seed=0).test


def _codes(warnings) -> set[str]:
    return {w.code for w in warnings}


def test_spectral_entropy_separates_a_tone_from_chaos_and_noise() -> None:
    t = np.arange(8000) * 0.01
    tone = spectral_entropy(np.sin(2 * np.pi * t)[:, None])
    chaos = spectral_entropy(_chaotic())
    noise = spectral_entropy(np.random.default_rng(0).standard_normal((8000, 2)))
    assert tone < 0.2 < BROAD_SPECTRUM < chaos < noise
    assert noise > 0.9


def test_a_faithful_run_gives_no_warning() -> None:
    x = _chaotic()
    assert diagnose(x, [x, x[::-1]], lambda_max=0.9) == []


def test_a_run_collapsed_to_a_fixed_point_is_diagnosed() -> None:
    x = _chaotic()
    fixed = np.tile(x.mean(axis=0), (len(x), 1))
    warnings = diagnose(x, [fixed], lambda_max=-0.5)
    assert _codes(warnings) == {"collapsed_variance", "not_chaotic"}
    assert all(w.flags and w.cause for w in warnings)
    assert "fixed point" in warnings[-1].message


def test_a_small_cycle_on_chaotic_data_is_diagnosed() -> None:
    x = _chaotic()
    t = np.arange(len(x))
    cycle = 0.1 * np.stack([np.sin(t / 20), np.cos(t / 20), np.sin(t / 10)], axis=1)
    assert _codes(diagnose(x, [cycle], lambda_max=0.0)) == {"collapsed_variance", "not_chaotic"}


def test_a_periodic_dataset_is_not_called_chaotic() -> None:
    t = np.arange(6000) * 0.05
    x = np.stack([np.sin(t), np.cos(t)], axis=1)
    assert diagnose(x, [x], lambda_max=-0.01) == []  # a cycle that matches a cycle


def test_diverged_and_escaping_runs_are_diagnosed() -> None:
    x = _chaotic()
    nan_run = x.copy()
    nan_run[100] = np.nan
    assert _codes(diagnose(x, [x, nan_run], lambda_max=0.9)) == {"diverged"}
    wide = 10 * (x - x.mean(axis=0)) + x.mean(axis=0)  # the same centre, far out
    assert _codes(diagnose(x, [wide], lambda_max=0.9)) == {"left_data_range"}
    assert "2 of 2" in diagnose(x, [nan_run, nan_run], None)[0].message


def test_a_run_settled_on_a_spurious_attractor_inside_the_data_range_is_diagnosed() -> None:
    x = _chaotic()
    wing = x[x[:, 0] > 0.5]  # a Lorenz-63 model stuck on one wing: inside the range, same spread
    one_wing = np.resize(wing, x.shape)
    assert np.max(np.abs(one_wing)) <= np.max(np.abs(x))
    warnings = diagnose(x, [x, one_wing], lambda_max=0.9)
    assert _codes(warnings) == {"settled_off_data"}
    assert "1 of 2" in warnings[0].message and warnings[0].flags
    # the ECG case: a few beats, then a small set 3 data stds below the mean (the recorded run)
    t = np.arange(20_000)
    ecg = np.exp(-(((t % 250) - 125) / 6.0) ** 2)[:, None] * 4.0
    ecg = (ecg - ecg.mean()) / ecg.std()
    dropped = np.where(t[:, None] < 1200, ecg, -3.0 + 0.2 * np.sin(t[:, None] / 3.0))
    assert "settled_off_data" in _codes(diagnose(ecg, [dropped], lambda_max=5.0))


def _ring_and_core(n: int = 8000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Data half on a unit circle, half in a small disc at its centre; and the circle alone (a
    run with the data's mean, inside its range, that never enters the centre)."""
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, n)
    ring = np.stack([np.cos(phase), np.sin(phase)], axis=1)
    core = 0.1 * rng.standard_normal((n, 2))
    data = np.concatenate([ring[: n // 2], core[: n // 2]])
    return data, ring


def test_uncovered_mass_is_zero_for_the_data_itself_and_one_outside_it() -> None:
    x = _chaotic()
    assert uncovered_mass(x, x) == 0.0
    assert uncovered_mass(x, np.full((10, 3), 50.0)) == 1.0  # never inside the data's range
    data, ring = _ring_and_core()
    assert abs(uncovered_mass(data, ring) - 0.5) < 0.02  # the core is half the data
    # another stretch of the same chaotic orbit covers it (a faithful model's run)
    from attractor.dsr import system_data

    other = system_data("lorenz63", n_train=20_000, n_test=20_000, noise=0.0, seed=0)
    assert uncovered_mass(other.test, other.train[0]) < 0.01


def test_uncovered_mass_uses_principal_axes_in_many_dimensions() -> None:
    data, ring = _ring_and_core()
    rotation, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((6, 6)))
    lift = np.zeros((2, 6))
    lift[0, 0] = lift[1, 1] = 1.0
    noise = 0.01 * np.random.default_rng(2).standard_normal((len(data), 6))
    data6 = (data @ lift + noise) @ rotation
    ring6 = (ring @ lift + noise[: len(ring)]) @ rotation
    assert uncovered_mass(data6, data6) == 0.0
    assert abs(uncovered_mass(data6, ring6) - 0.5) < 0.03


def test_a_run_that_covers_only_part_of_the_data_is_diagnosed() -> None:
    data, ring = _ring_and_core()
    warnings = diagnose(data, [data, ring], lambda_max=0.5)
    assert _codes(warnings) == {"partial_coverage"}
    assert "1 of 2" in warnings[0].message and "50%" in warnings[0].message
    assert warnings[0].flags and warnings[0].cause
    assert UNCOVERED_MASS < 0.5
    assert diagnose(data, [data[::-1]], lambda_max=0.5) == []


def test_null_reasons_sit_next_to_every_null() -> None:
    out = null_reasons({"a": 1.0, "b": None, "c": [0.1, None], "d": None, "d_reason": "kept"},
                       {"b": "why b"})
    assert out["b_reason"] == "why b" and out["c_reason"] and out["d_reason"] == "kept"
    assert "a_reason" not in out
    assert list(out).index("b_reason") == list(out).index("b") + 1


def test_evaluate_model_warns_about_a_collapsed_model_and_explains_its_nulls() -> None:
    """A PLRNN whose weights are zeroed maps everything to its bias: a fixed point."""
    x = _chaotic(3000)
    model = build_model(make_config("plrnn", obs_dim=3, latent_dim=3), key=jax.random.PRNGKey(0))
    model = eqx.tree_at(lambda m: (m.A, m.W), model, (jnp.zeros_like(model.A),
                                                      jnp.zeros_like(model.W)))
    m = evaluate_model(model, x, dt=0.01, n_runs=2, lyapunov_steps=500, lyapunov_transient=50)
    assert {w["code"] for w in m["warnings"]} >= {"collapsed_variance", "not_chaotic"}
    assert m["D_H"] == pytest.approx(1.0)  # a constant run shares no spectrum with the data
    assert m["lambda_max"] is None and "superstable" in m["lambda_max_reason"]  # log 0
    for key, value in m.items():
        if value is None:
            assert m[f"{key}_reason"], key


def test_a_model_whose_long_run_diverges_keeps_its_other_metrics() -> None:
    """An expanding PLRNN (A = 1.02): the short protocol runs stay finite, the Lyapunov
    estimate's long run overflows; lambda_max is null with its reason and a warning, the rest
    is reported (this used to abort the whole evaluation)."""
    x = _chaotic(3000)
    model = build_model(make_config("plrnn", obs_dim=3, latent_dim=3), key=jax.random.PRNGKey(0))
    model = eqx.tree_at(lambda m: (m.A, m.W), model, (jnp.full_like(model.A, 1.02),
                                                      jnp.zeros_like(model.W)))
    m = evaluate_model(model, x[:400], dt=0.01, n_runs=2, lyapunov_steps=60_000,
                       lyapunov_transient=10)
    assert m["lambda_max"] is None and "diverged" in m["lambda_max_reason"]
    assert "diverged_long_run" in {w["code"] for w in m["warnings"]}
    assert m["D_H"] is not None and m["PE"] is not None


@pytest.mark.parametrize("as_json", [False, True])
def test_the_cli_report_prints_warnings_to_stderr(as_json: bool, capsys) -> None:
    from attractor.cli.train import report

    x = _chaotic(3000)
    warning = diagnose(x, [np.zeros_like(x)], lambda_max=-1.0)[0]
    report({"D_stsp": 1.0, "warnings": [warning.to_dict()]}, as_json, None)
    captured = capsys.readouterr()
    assert captured.err.startswith("warning: the generated variance")
    assert "Try: --epochs" in captured.err
    if as_json:  # stdout stays one JSON document, the warnings inside it
        assert json.loads(captured.out)["warnings"][0]["code"] == "collapsed_variance"
    else:
        assert "warning" not in captured.out
