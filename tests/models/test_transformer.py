"""The causal transformer forecaster: one step against a numpy transformer written out by hand,
causal masking, the window as the whole state, padding, and the recurrence switch."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor.errors import DivergenceError, InputError
from attractor.models import build_model, checked_forecast, checked_simulate, make_config
from attractor.models.attention import MASKED

N, D, C = 2, 4, 5
RNG = np.random.default_rng(1)


def _model(seed: int = 0, **hp):
    hp = {"d_model": D, "heads": 2, "mlp_dim": 6, "context_length": C, "n_layers": 1, **hp}
    model = build_model(make_config("transformer", obs_dim=N, **hp), key=jax.random.PRNGKey(seed))
    # random values for the parameters that start at constants, so that the test sees them
    leaves, treedef = jax.tree_util.tree_flatten(model)
    leaves = [jnp.asarray(RNG.normal(size=v.shape), v.dtype)
              if eqx.is_inexact_array(v) and bool(jnp.all(v == v.ravel()[0])) else v
              for v in leaves]
    return jax.tree_util.tree_unflatten(treedef, leaves)


def _f64(a):
    return np.asarray(a, dtype=np.float64)


def _ln(v, ln):
    mu = v.mean(-1, keepdims=True)
    var = ((v - mu) ** 2).mean(-1, keepdims=True)
    return (v - mu) / np.sqrt(var + 1e-5) * _f64(ln.g) + _f64(ln.b)


def _gelu(v):  # jax.nn.gelu's default tanh approximation
    return 0.5 * v * (1 + np.tanh(np.sqrt(2 / np.pi) * (v + 0.044715 * v**3)))


def _sig(v):
    return 1 / (1 + np.exp(-v))


def _np_step(m, window, filled, memory=None):
    """Prediction and next block states of ``m`` written out in numpy (see the module docs)."""
    e = window @ _f64(m.w_in) + _f64(m.b_in)
    if m.positions is not None:
        e = e + _f64(m.positions)
    new_memory = []
    for l, blk in enumerate(m.blocks):
        att = blk.attention
        heads, dh = att.heads, D // att.heads
        q = _ln(e, blk.ln1)
        keys = q if memory is None else np.concatenate([memory[l][None], q])
        offset = 0 if memory is None else 1
        out = []
        for h in range(heads):
            cols = slice(h * dh, (h + 1) * dh)
            qh, kh, vh = (q @ _f64(att.wq)[:, cols], keys @ _f64(att.wk)[:, cols],
                          keys @ _f64(att.wv)[:, cols])
            logits = np.full((C, C + offset), MASKED)
            for i in range(C):
                if memory is not None:
                    logits[i, 0] = qh[i] @ kh[0] / np.sqrt(dh) + _f64(blk.memory_bias)[h]
                for j in range(i + 1):  # causal: row i sees rows j <= i
                    if filled[j]:
                        bias = 0.0 if blk.lag_bias is None else _f64(blk.lag_bias)[h, i - j]
                        logits[i, j + offset] = qh[i] @ kh[j + offset] / np.sqrt(dh) + bias
            a = np.exp(logits - logits.max(1, keepdims=True))
            out.append((a / a.sum(1, keepdims=True)) @ vh)
        e = e + np.concatenate(out, 1) @ _f64(att.wo)
        hid = _gelu(_ln(e, blk.ln2) @ _f64(blk.w1) + _f64(blk.b1))
        e = e + hid @ _f64(blk.w2) + _f64(blk.b2)
        if memory is not None:  # GRU update from the newest row (Cho et al. 2014)
            w, u, b, r = _f64(blk.cell.w), _f64(blk.cell.u), _f64(blk.cell.b), memory[l]
            z = _sig(e[-1] @ w[:, :D] + r @ u[:, :D] + b[:D])
            rr = _sig(e[-1] @ w[:, D : 2 * D] + r @ u[:, D : 2 * D] + b[D : 2 * D])
            cand = np.tanh(e[-1] @ w[:, 2 * D :] + (rr * r) @ u[:, 2 * D :] + b[2 * D :])
            new_memory.append(z * r + (1 - z) * cand)
    x_next = window[-1] + _ln(e[-1], m.ln_out) @ _f64(m.w_out) + _f64(m.b_out)
    return x_next, (np.stack(new_memory) if memory is not None else None)


@eqx.filter_jit
def _jit_step(model, state):
    return model.step(state)


@pytest.mark.parametrize(
    "hp",
    [{}, {"positions": "learned"}, {"recurrence": True, "n_layers": 2}],
    ids=["relative", "learned", "recurrent"],
)
def test_one_step_by_hand(hp: dict) -> None:
    m = _model(**hp)
    state = m.encode(jnp.zeros(N))
    window = RNG.normal(size=(C, N))
    filled = np.array([0, 1, 1, 1, 1], float)  # one padded slot
    memory = RNG.normal(size=(m.config.n_layers, D)) if m.config.recurrence else None
    state = state._replace(
        window=jnp.asarray(window, jnp.float32), filled=jnp.asarray(filled, jnp.float32),
        memory=None if memory is None else jnp.asarray(memory, jnp.float32),
    )
    out = _jit_step(m, state)
    x_next, new_memory = _np_step(m, window, filled, memory)
    np.testing.assert_allclose(out.window[-1], x_next, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out.window[:-1], window[1:].astype(np.float32))  # drop oldest
    np.testing.assert_array_equal(out.filled, [1, 1, 1, 1, 1])
    if memory is not None:
        np.testing.assert_allclose(out.memory, new_memory, rtol=1e-4, atol=1e-5)


def test_token_features_are_causal() -> None:
    m = _model(n_layers=2)
    state = m.init_state(jnp.asarray(RNG.normal(size=(C, N)), jnp.float32))
    features = eqx.filter_jit(lambda m, s: m.features(s)[0])
    base = np.asarray(features(m, state))
    for k in range(C):
        moved = state._replace(window=state.window.at[k].add(1.0))
        changed = np.any(np.abs(np.asarray(features(m, moved)) - base) > 1e-6, axis=1)
        np.testing.assert_array_equal(changed, np.arange(C) >= k)  # row j sees rows <= j


@pytest.mark.parametrize("recurrence", [False, True])
def test_forecast_depends_on_the_window_only(recurrence: bool) -> None:
    m = _model(recurrence=recurrence)
    ctx = jnp.asarray(RNG.normal(size=(12, N)), jnp.float32)
    forecast = eqx.filter_jit(lambda m, c: m.forecast(c, 4))
    base = forecast(m, ctx)
    np.testing.assert_array_equal(forecast(m, ctx.at[: 12 - C].set(9.0)), base)  # older rows
    assert not np.allclose(forecast(m, ctx.at[12 - C].add(1.0)), base)  # the oldest inside


def test_padding_is_masked_and_the_warm_up_routes_agree() -> None:
    m = _model()
    ctx = jnp.asarray(RNG.normal(size=(3, N)), jnp.float32)  # shorter than the window
    state = m.init_state(ctx)
    np.testing.assert_array_equal(state.filled, [0, 0, 1, 1, 1])
    np.testing.assert_array_equal(m.observe(state), ctx[-1])
    junk = state._replace(window=state.window.at[:2].set(7.0))
    np.testing.assert_allclose(_jit_step(m, junk).window[-1], _jit_step(m, state).window[-1],
                               atol=1e-6)
    # without recurrence, filling the window equals the teacher-forced warm-up
    forced = m.encode(ctx[0])
    for x in ctx[1:]:
        forced = m.force(_jit_step(m, forced), x, 1.0)
    np.testing.assert_allclose(forced.window, state.window, atol=1e-7)
    np.testing.assert_array_equal(forced.filled, state.filled)


def test_recurrence_carries_a_state_and_force_moves_the_newest_row() -> None:
    m = _model(recurrence=True)
    xs = jnp.asarray(RNG.normal(size=(3, 7, N)), jnp.float32)
    batch = m.encode(xs)
    assert batch.window.shape == (3, 7, C, N) and batch.memory.shape == (3, 7, 1, D)
    np.testing.assert_array_equal(batch.window[..., -1, :], xs)
    state = m.encode(xs[0, 0])
    s1 = _jit_step(m, state)
    assert np.any(np.abs(np.asarray(s1.memory)) > 0)
    forced = m.force(s1, xs[0, 1], 0.25)
    np.testing.assert_allclose(forced.window[-1], 0.75 * s1.window[-1] + 0.25 * xs[0, 1],
                               rtol=1e-6)
    np.testing.assert_array_equal(forced.window[:-1], s1.window[:-1])


@pytest.mark.parametrize("hp", [{"recurrence": True}, {"positions": "learned"}])
def test_variants_keep_the_contract(hp: dict) -> None:
    m = _model(**hp)
    ctx = np.asarray(RNG.normal(size=(9, N)), np.float32)
    traj = checked_simulate(m, ctx, 6)
    np.testing.assert_array_equal(traj[0], ctx[-1])
    blown = jax.tree_util.tree_map(lambda v: v * jnp.inf if eqx.is_inexact_array(v) else v, m)
    with pytest.raises(DivergenceError):
        checked_forecast(blown, ctx, 5)


def test_bad_hyperparameters_are_input_errors() -> None:
    with pytest.raises(InputError, match="positions"):
        make_config("transformer", obs_dim=2, positions="sinusoidal")
    with pytest.raises(InputError, match="divisible"):
        make_config("transformer", obs_dim=2, d_model=6, heads=4)
