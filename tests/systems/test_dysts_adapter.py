"""The dysts catalogue through attractor's System API (needs the optional ``dysts`` extra).

Every test that needs dysts carries ``@pytest.mark.dysts`` and skips cleanly when dysts is missing;
the one test that checks the error without dysts runs everywhere.
"""

from __future__ import annotations

import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor._precision import float64
from attractor.errors import InputError
from attractor.systems import dysts_adapter as da

N_FLOWS = 135  # dysts 0.96: 129 ODEs + 6 delay equations
N_DELAY = 6

# (dysts class, horizon in periods): the static-_rhs path, an instance-rhs path (parameters as
# matrices), a non-autonomous flow and a piecewise-linear flow.
AGREEMENT_CASES = [
    ("Lorenz", 2),
    ("Rossler", 2),
    ("Chua", 2),
    ("Hopfield", 1),
    ("ForcedVanDerPol", 1),
]


@pytest.fixture(scope="module")
def dysts_module():
    return pytest.importorskip("dysts")


def _sample_points(system, model, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` states near the default initial condition, scaled by the attractor's std."""
    rng = np.random.default_rng(seed)
    scale = np.asarray(model.std, dtype=float)[: system.dim] if system.kind == "flow" else 1.0
    x0 = np.asarray(system.initial_condition)
    xs = x0 + 0.1 * scale * rng.standard_normal((n, system.dim))
    ts = rng.uniform(0.0, 5.0, size=n)
    return xs, ts


def _reference_rhs(system, model, x: np.ndarray, t: float) -> np.ndarray:
    """dysts's own right-hand side, run by NumPy (numba's ``py_func``: skips 20 s of compiling)."""
    from dysts.base import DynSys

    static = getattr(model._rhs, "py_func", model._rhs)
    if system.kind == "delay":
        x_delayed = x + 0.3
        return np.atleast_1d(static(x[0], x_delayed[0], t, *model.param_list))
    if type(model).rhs is DynSys.rhs:
        return np.asarray(static(*x, t, *model.param_list), dtype=float)
    return np.asarray(model.rhs(x, t), dtype=float)


def _our_rhs(system, x: np.ndarray, t: float) -> np.ndarray:
    p = system.jax_params()
    if system.kind == "delay":
        return np.asarray(system.rhs(jnp.asarray(x), jnp.asarray(x + 0.3), t, p))
    return np.asarray(system.rhs(jnp.asarray(x), t, p))


@pytest.mark.dysts
def test_every_flow_is_listed(dysts_module) -> None:
    names = da.dysts_names()
    assert len(names) == N_FLOWS
    assert names == sorted(names)
    assert "dysts:Lorenz" in names and "dysts:MackeyGlass" in names
    assert all(n.startswith("dysts:") for n in names)


@pytest.mark.dysts
def test_lorenz_metadata_maps_to_system(dysts_module) -> None:
    s = da.dysts_system("dysts:Lorenz")
    assert da.dysts_system("lorenz") is s  # case-insensitive, cached
    assert (s.name, s.kind, s.dim, s.source) == ("dysts:Lorenz", "flow", 3, "dysts")
    assert s.params == {"beta": 2.667, "rho": 28.0, "sigma": 10.0}
    assert s.period == pytest.approx(1.5008)
    assert s.dt == pytest.approx(1.5008 / 100)  # dysts's default 100 points per period
    assert s.initial_condition == pytest.approx((-9.7869288, -15.03852, 20.533978))
    ref = s.reference
    assert ref.source == da.INVARIANTS_SOURCE
    assert ref.lyapunov_max == pytest.approx(0.8917, abs=1e-4)
    assert ref.lyapunov_spectrum is not None and len(ref.lyapunov_spectrum) == 3
    assert ref.kaplan_yorke_dim == pytest.approx(2.0752, abs=1e-4)
    assert ref.correlation_dim == pytest.approx(1.9939, abs=1e-4)
    assert "Lorenz" in s.citation
    assert s.summary()["params"]["rho"] == 28.0


@pytest.mark.dysts
def test_delay_equations_are_scalar_delay_systems(dysts_module) -> None:
    delay = [n for n in da.dysts_names() if da.dysts_system(n).kind == "delay"]
    assert len(delay) == N_DELAY
    for name in delay:
        s = da.dysts_system(name)
        assert s.dim == 1 and "tau" in s.params


@pytest.mark.dysts
def test_unknown_name_is_an_input_error(dysts_module) -> None:
    with pytest.raises(InputError, match="Lorenz"):
        da.dysts_system("dysts:Lornez")


@pytest.mark.dysts
def test_rhs_matches_dysts_for_every_flow(dysts_module) -> None:
    """Our right-hand side equals dysts's own at random states and times, for all 135 flows."""
    failures = []
    with float64():
        for name in da.dysts_names():
            s, model = da.dysts_system(name), da.dysts_model(name)
            xs, ts = _sample_points(s, model, n=2, seed=0)
            for x, t in zip(xs, ts, strict=True):
                ref = _reference_rhs(s, model, x, float(t))
                ours = _our_rhs(s, x, float(t))
                if not np.allclose(ours, ref, rtol=1e-10, atol=1e-12 * np.abs(ref).max()):
                    failures.append(name)
    assert failures == []


@pytest.mark.dysts
def test_only_lorenz96_needs_the_numpy_fallback(dysts_module) -> None:
    modes = {n: da.dysts_rhs_mode(n) for n in da.dysts_names()}
    assert [n for n, m in modes.items() if m != "jax"] == ["dysts:Lorenz96"]


@pytest.mark.dysts
def test_fallback_is_vmappable_and_differentiable(dysts_module) -> None:
    s = da.dysts_system("dysts:Lorenz96")
    with float64():
        p = s.jax_params()
        x = jnp.asarray(s.initial_condition)
        f = lambda y: s.rhs(y, 0.0, p)
        batch = np.asarray(jax.vmap(f)(jnp.stack([x, 2 * x])))
        single = np.asarray(f(2 * x))
        jac = np.asarray(jax.jacfwd(f)(x))
    assert np.allclose(batch[1], single)
    # analytic Jacobian of dX_k/dt = (X_{k+1} - X_{k-2}) X_{k-1} - X_k + F (cyclic)
    xn, d = np.asarray(x), s.dim
    expected = -np.eye(d)
    for k in range(d):
        expected[k, (k + 1) % d] += xn[(k - 1) % d]
        expected[k, (k - 2) % d] -= xn[(k - 1) % d]
        expected[k, (k - 1) % d] += xn[(k + 1) % d] - xn[(k - 2) % d]
    assert np.allclose(jac, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.dysts
def test_translated_rhs_is_differentiable(dysts_module) -> None:
    """Autodiff through a translated flow matches dysts's analytic Jacobian."""
    s, model = da.dysts_system("Rossler"), da.dysts_model("Rossler")
    x = np.array([1.0, -2.0, 0.5])
    with float64():
        jac = np.asarray(jax.jacfwd(lambda y: s.rhs(y, 0.0, s.jax_params()))(jnp.asarray(x)))
    assert np.allclose(jac, np.asarray(model.jac(x, 0.0), dtype=float), rtol=1e-12)


@pytest.mark.dysts
def test_postprocess_matches_dysts(dysts_module) -> None:
    model = da.dysts_model("DoublePendulum")
    raw = np.random.default_rng(1).standard_normal((5, 4))
    expected = np.stack(model._postprocessing(*raw.T), axis=-1)
    assert np.allclose(da.dysts_postprocess("DoublePendulum", raw), expected)
    assert np.array_equal(da.dysts_postprocess("Lorenz", raw[:, :3]), raw[:, :3])


@pytest.mark.dysts
@pytest.mark.parametrize(("name", "periods"), AGREEMENT_CASES)
def test_trajectory_agrees_with_dysts(dysts_module, name: str, periods: int) -> None:
    """Our adaptive integration and dysts's Radau (rtol = atol = 1e-12) agree over 1–2 periods."""
    from attractor.systems.trajectory import trajectory

    s, model = da.dysts_system(name), da.dysts_model(name)
    n = 100 * periods + 1  # 100 points per period, as dysts samples by default
    # make_trajectory(n) spans period * n / pts_per_period; match it exactly
    ref = model.make_trajectory(n, pts_per_period=100, postprocess=False)
    ours = np.asarray(trajectory(s, n, dt=s.period * n / 100 / (n - 1)))
    assert ours.shape == ref.shape
    scale = ref.std(axis=0).mean()
    err = np.abs(ours - ref).max() / scale
    assert err < 1e-3, f"{name}: max error {err:.2e} of the attractor std"


def _method_of_steps(f, params: list, x0: float, tau: float, t_end: float):
    """``t -> x(t)`` for a scalar DDE with constant history: DOP853 (tol 1e-12) on each interval
    ``[k tau, (k+1) tau]``, the delayed state from the previous interval's dense output."""
    from scipy.integrate import solve_ivp

    pieces: list = []

    def x_at(t: float) -> float:
        for start, sol in reversed(pieces):
            if t >= start:
                return float(sol(t)[0])
        return x0

    t0, x = 0.0, x0
    while t0 < t_end:
        t1 = min(t0 + tau, t_end)
        sol = solve_ivp(
            lambda t, y: [f(y[0], x_at(t - tau), t, *params)], (t0, t1), [x],
            method="DOP853", rtol=1e-12, atol=1e-12, dense_output=True,
        )  # fmt: skip
        pieces.append((t0, sol.sol))
        t0, x = t1, float(sol.y[0, -1])
    return x_at


@pytest.mark.dysts
def test_delay_trajectory_matches_method_of_steps(dysts_module) -> None:
    """MackeyGlass over two delays (five periods): our delay route against a tight reference."""
    from attractor.systems.trajectory import trajectory

    s, model = da.dysts_system("MackeyGlass"), da.dysts_model("MackeyGlass")
    tau, x0 = s.params["tau"], s.initial_condition[0]
    assert s.transient == tau  # like dysts, row 0 is one delay after the history
    n = int(2 * tau / s.dt)
    ours = trajectory(s, n, transient=0.0)[:, 0]
    f = getattr(model._rhs, "py_func", model._rhs)
    exact = _method_of_steps(f, model.param_list, x0, tau, (n - 1) * s.dt + 1e-9)
    ref = np.array([exact(k * s.dt) for k in range(n)])
    assert np.abs(ours - ref).max() / ref.std() < 1e-3


@pytest.mark.dysts
def test_registry_serves_dysts(dysts_module) -> None:
    from attractor.systems import registry

    da.register_dysts()
    assert registry.get("dysts:Lorenz") is da.dysts_system("Lorenz")
    listed = registry.names(source="dysts")
    assert len(listed) == N_FLOWS and "dysts:Rossler" in listed


@pytest.mark.dysts
def test_every_flow_simulates_finite(dysts_module) -> None:
    """With the dysts extra, every flow integrates 1000 points (10 periods) to finite values.

    ~20 s on 2 cores with shared compilation (~100 s when every flow compiles alone)."""
    from attractor.systems.trajectory import trajectory

    assert da.share_dysts_compilation() == 118  # 3-d: 100, 4-d: 18 (scalar parameters)
    bad = []
    for name in da.dysts_names():
        s = da.dysts_system(name)
        x = np.asarray(trajectory(s, 1000))  # default dt: 100 points per period
        if x.shape != (1000, s.dim) or not np.isfinite(x).all():
            bad.append(name)
    assert bad == []


def test_missing_dysts_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the extra, the adapter names the install command (no dysts needed)."""
    monkeypatch.setitem(sys.modules, "dysts", None)
    monkeypatch.setitem(sys.modules, "dysts.flows", None)
    for call in (da.dysts_names, lambda: da.dysts_system("Lorenz")):
        with pytest.raises(InputError, match=r"pip install 'attractor\[dysts\]'"):
            call()
