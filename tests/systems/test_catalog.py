"""The native catalogue and the registry: contract over every system, equations, metadata."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor._precision import float64
from attractor.errors import InputError
from attractor.systems import (
    Invariants,
    System,
    all_systems,
    from_rhs,
    get,
    names,
    register,
    register_resolver,
    trajectory,
)
from attractor.systems.flows_metadata import DYSTS


@pytest.fixture(autouse=True)
def _restore_registry() -> Iterator[None]:
    """Tests register user systems and a resolver: remove them again (global registry)."""
    from attractor.systems import registry

    get("lorenz63")  # load the catalogue first
    systems, resolvers = dict(registry._SYSTEMS), dict(registry._RESOLVERS)
    yield
    registry._SYSTEMS.clear()
    registry._SYSTEMS.update(systems)
    registry._RESOLVERS.clear()
    registry._RESOLVERS.update(resolvers)


REQUIRED = (
    "lorenz63 rossler lorenz84 chua thomas halvorsen aizawa chen rabinovich_fabrikant "
    "hindmarsh_rose sprott_a sprott_b sprott_s duffing lorenz96 lorenz96_two_scale mackey_glass "
    "kuramoto_sivashinsky henon logistic ikeda tent"
).split()


def test_catalogue_size_and_required_names() -> None:
    native = names(source="native")
    assert len(native) >= 30
    assert set(REQUIRED) <= set(native)
    assert {s.kind for s in all_systems()} == {"flow", "map", "delay", "pde"}


def test_every_native_system_simulates_1000_steps() -> None:
    """Contract: default settings, 1000 samples, finite, right shape, float64, not constant."""
    for system in all_systems():
        if system.source != "native":
            continue
        x = trajectory(system, 1000)
        assert x.shape == (1000, system.dim), system.name
        assert x.dtype == np.float64
        assert np.all(np.isfinite(x)), system.name
        assert np.max(np.std(x[500:], axis=0)) > 1e-3, f"{system.name} collapsed"
    assert jnp.zeros(1).dtype == jnp.float32  # x64 stayed scoped


def test_metadata_is_complete_and_json_ready() -> None:
    for system in all_systems():
        assert system.name == system.name.lower()
        assert system.citation, system.name
        assert system.dt > 0 and len(system.initial_condition) == system.dim
        ref = system.reference
        if ref.lyapunov_max is not None:
            assert ref.source, system.name
        if ref.lyapunov_spectrum is not None:
            assert len(ref.lyapunov_spectrum) == system.dim
            assert ref.lyapunov_max == max(ref.lyapunov_spectrum)
        if ref.kaplan_yorke_dim is not None:
            assert 0 <= ref.kaplan_yorke_dim <= system.dim
        json.dumps(system.summary())
    lorenz = get("lorenz63")
    assert lorenz.dt == 0.01 and lorenz.period == pytest.approx(0.76)
    assert lorenz.reference.lyapunov_spectrum == (0.9056, 0.0, -14.5723)


def test_dysts_metadata_is_used() -> None:
    ross = get("rossler")
    assert dict(ross.params) == DYSTS["Rossler"].params
    assert ross.initial_condition == DYSTS["Rossler"].initial_condition
    assert ross.period == DYSTS["Rossler"].period
    assert ross.reference.lyapunov_max == 0.0714  # literature value preferred (Sprott 2003)
    assert get("sprott_b").reference.lyapunov_max == DYSTS["SprottB"].spectrum[0]


def _rhs(name: str, x: list[float]) -> np.ndarray:
    system = get(name)
    with float64():
        return np.asarray(system.rhs(jnp.asarray(x), 0.0, system.jax_params()))


def test_lorenz63_equations() -> None:
    x, y, z = 1.0, 2.0, 3.0
    np.testing.assert_allclose(
        _rhs("lorenz63", [x, y, z]), [10 * (y - x), x * (28 - z) - y, x * y - 8 / 3 * z]
    )


def test_lorenz96_energy_and_fixed_point() -> None:
    """Advection conserves energy: d/dt ½ΣX² = −ΣX² + FΣX; X_k = F is a fixed point."""
    system = get("lorenz96", N=12, F=8.0)
    x = np.random.default_rng(0).normal(size=12) * 3
    dx = _rhs_of(system, x)
    np.testing.assert_allclose(x @ dx, -x @ x + 8.0 * x.sum(), rtol=1e-12)
    np.testing.assert_allclose(_rhs_of(system, np.full(12, 8.0)), 0.0, atol=1e-12)
    k = 5  # one component by hand: (X_{k+1} − X_{k−2}) X_{k−1} − X_k + F
    assert dx[k] == pytest.approx((x[k + 1] - x[k - 2]) * x[k - 1] - x[k] + 8.0)


def test_two_scale_lorenz96_energy() -> None:
    """Coupling terms cancel and both advections conserve energy (Lorenz 1996):
    d/dt ½(ΣX² + ΣY²) = −ΣX² + FΣX − cΣY²."""
    system = get("lorenz96_two_scale", K=6, J=4)
    assert system.dim == 30
    x = np.random.default_rng(1).normal(size=30) * 2
    dx = _rhs_of(system, x)
    slow, fast = x[:6], x[6:]
    expected = -slow @ slow + 10.0 * slow.sum() - 10.0 * fast @ fast
    np.testing.assert_allclose(x @ dx, expected, rtol=1e-12)


def _rhs_of(system: System, x: np.ndarray) -> np.ndarray:
    with float64():
        return np.asarray(system.rhs(jnp.asarray(x), 0.0, system.jax_params()))


@pytest.mark.parametrize("name", ["henon", "lozi", "ikeda", "duffing_map"])
def test_map_reference_exponents_sum_to_log_det(name: str) -> None:
    """Each map has a constant Jacobian determinant, so λ1 + λ2 = ln|det J| exactly."""
    system = get(name)
    with float64():
        jac = jax.jacfwd(lambda x: system.rhs(x, system.jax_params()))
        det = float(jnp.linalg.det(jac(jnp.asarray([0.3, -0.2]))))
    assert sum(system.reference.lyapunov_spectrum) == pytest.approx(math.log(abs(det)), abs=2e-5)


def test_logistic_r4_known_iterates() -> None:
    """At r = 4, x0 = sin²(πθ) gives x_n = sin²(2ⁿπθ) (Ulam & von Neumann)."""
    theta = 0.1234
    x = trajectory("logistic", 12, ics=[math.sin(math.pi * theta) ** 2])
    expected = np.sin(np.pi * theta * 2.0 ** np.arange(12)) ** 2
    np.testing.assert_allclose(x[:, 0], expected, atol=1e-11)


def test_tent_map_does_not_collapse() -> None:
    x = trajectory("tent", 5000)[:, 0]
    assert x[-1000:].std() > 0.2
    lam = np.mean(np.log(get("tent").params["mu"]) * np.ones(10))
    assert get("tent").reference.lyapunov_max == pytest.approx(lam)


def test_get_is_case_insensitive_and_suggests() -> None:
    assert get("Lorenz63") is get("lorenz63")
    with pytest.raises(InputError, match="lorenz63"):
        get("lorenz36")
    with pytest.raises(InputError, match="no parameter"):
        get("lorenz63", gamma=1.0)
    with pytest.raises(InputError, match="prefix"):
        get("nosuchprefix:Thing")


def test_parameter_override_copies_and_clears_reference() -> None:
    base = get("lorenz63")
    same = get("lorenz63", rho=28.0)
    assert same is base
    changed = get("lorenz63", rho=35.0)
    assert changed.params["rho"] == 35.0 and base.params["rho"] == 28.0
    assert changed.reference.lyapunov_max is None
    assert not np.allclose(trajectory(changed, 50)[-1], trajectory(base, 50)[-1])


def test_factories_take_structural_parameters() -> None:
    assert get("lorenz96").dim == 40
    l96 = get("lorenz96", N=10, F=10.0)
    assert l96.dim == 10 and l96.params["F"] == 10.0
    assert get("lorenz96", N=40, F=10).reference.lyapunov_max == 2.27
    ks = get("kuramoto_sivashinsky", L=100.0)
    assert ks.dim == 512 and ks.reference.lyapunov_max == 0.094
    assert get("kuramoto_sivashinsky", L=22.0, N=32).dim == 32
    with pytest.raises(InputError):
        get("lorenz96", N=2)
    with pytest.raises(InputError, match="no parameter"):
        get("lorenz96", sigma=1.0)


def test_from_rhs_registers_a_user_system() -> None:
    def decay(x: jax.Array, t: jax.Array, p: dict) -> list[jax.Array]:
        return [-p["k"] * x[0], -p["k"] * x[1]]  # a list is fine: from_rhs makes it an array

    system = from_rhs("test_user_decay", decay, 2, params={"k": 0.5},
                      initial_condition=(1.0, 2.0), dt=0.1, overwrite=True)  # fmt: skip
    assert system.source == "user" and get("TEST_USER_DECAY") is system
    assert "test_user_decay" in names(source="user")
    x = trajectory("test_user_decay", 11)
    np.testing.assert_allclose(x, np.outer(np.exp(-0.05 * np.arange(11)), [1.0, 2.0]), rtol=1e-9)
    with pytest.raises(InputError, match="already registered"):
        from_rhs("test_user_decay", decay, 2, params={"k": 0.5})
    with pytest.raises(InputError, match="unknown field"):
        from_rhs("test_user_bad", decay, 2, register=False, colour="red")
    square = from_rhs("test_user_square", lambda x, p: x * x, 1, kind="map", register=False)
    assert square.dt == 1.0 and "test_user_square" not in names()


def test_register_rejects_duplicates() -> None:
    with pytest.raises(InputError, match="already registered"):
        register(get("rossler"))
    with pytest.raises(InputError):
        register("rossler")  # type: ignore[arg-type]


def test_resolver_serves_a_prefix_lazily() -> None:
    calls: list[str] = []

    def resolve(name: str) -> System:
        calls.append(name)
        ref = Invariants(lyapunov_max=-1.0, source="x")
        return System(f"fake:{name.lower()}", "flow", 1, lambda x, t, p: -x, {"k": 1.0}, (1.0,),
                      0.1, source="fake", reference=ref)  # fmt: skip

    register_resolver("fake", resolve, lambda: ["Alpha", "fake:Beta"])
    assert calls == []
    assert names(source="fake") == ["fake:Alpha", "fake:Beta"]
    system = get("fake:Alpha")
    assert calls == ["Alpha"] and system.dim == 1
    assert get("fake:Alpha", k=2.0).params["k"] == 2.0
    assert "fake:Beta" in names() and "fake:Beta" not in names(source="native")
