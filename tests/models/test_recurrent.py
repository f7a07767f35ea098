"""The stacked recurrent forecasters (Elman RNN, LSTM, GRU, RHN) against their equations written
out in numpy, the gating and attention switches, the warm-up and teacher forcing, and a float64
gradient against finite differences."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from attractor._precision import float64
from attractor.errors import InputError
from attractor.models import build_model, checked_forecast, checked_simulate, make_config
from attractor.models.attention import MASKED, MultiHeadAttention, relative_bias
from attractor.models.recurrent import RecurrentState

N, H = 2, 4
RNG = np.random.default_rng(0)


def _model(name: str, seed: int = 0, **hp):
    hp = {"hidden_dim": H, **hp}
    return build_model(make_config(name, obs_dim=N, **hp), key=jax.random.PRNGKey(seed))


def _sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def _np(*arrays):
    return [np.asarray(a, dtype=np.float64) for a in arrays]


def _with_bias(model):
    """A nonzero readout bias, so that the test sees it."""
    return eqx.tree_at(lambda m: m.b_out, model, jnp.asarray(RNG.normal(size=N), jnp.float32))


@eqx.filter_jit
def _jit_step(model, state):
    return model.step(state)


@eqx.filter_jit
def _forecast5(model, context):
    return model.forecast(context, 5)


def _step(model, x, layers):
    state = model.encode(jnp.asarray(x, jnp.float32))
    state = state._replace(layers=tuple(jnp.asarray(s, jnp.float32) for s in layers))
    return _jit_step(model, state)


def _readout(model, x, h):
    w_out, b_out = _np(model.w_out, model.b_out)
    return x + h @ w_out + b_out


# ---------------------------------------------------------------------------- cell equations
def test_elman_two_layers_by_hand() -> None:
    m = _with_bias(_model("rnn", n_layers=2))
    x, s1, s2 = RNG.normal(size=N), RNG.normal(size=H), RNG.normal(size=H)
    out = _step(m, x, [s1, s2])
    c1, c2 = m.cells
    h1 = np.tanh(x @ _np(c1.w)[0] + s1 @ _np(c1.u)[0] + _np(c1.b)[0])
    h2 = np.tanh(h1 @ _np(c2.w)[0] + s2 @ _np(c2.u)[0] + _np(c2.b)[0])  # layer 2 reads layer 1
    np.testing.assert_allclose(out.layers[0], h1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.layers[1], h2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.x, _readout(m, x, h2), rtol=1e-5, atol=1e-6)


def test_lstm_gates_by_hand() -> None:
    m = _with_bias(_model("lstm"))
    x, h, c = RNG.normal(size=N), RNG.normal(size=H), RNG.normal(size=H)
    w, u, b = _np(m.cells[0].w, m.cells[0].u, m.cells[0].b)
    np.testing.assert_array_equal(b[H : 2 * H], 1.0)  # forget bias
    z = x @ w + h @ u + b
    i, f, g, o = _sig(z[:H]), _sig(z[H : 2 * H]), np.tanh(z[2 * H : 3 * H]), _sig(z[3 * H :])
    c_new = f * c + i * g
    h_new = o * np.tanh(c_new)
    out = _step(m, x, [np.concatenate([h, c])])
    np.testing.assert_allclose(out.layers[0], np.concatenate([h_new, c_new]), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(out.x, _readout(m, x, h_new), rtol=1e-5, atol=1e-6)


def test_gru_by_hand() -> None:
    m = _with_bias(_model("gru"))
    x, h = RNG.normal(size=N), RNG.normal(size=H)
    w, u, b = _np(m.cells[0].w, m.cells[0].u, m.cells[0].b)
    z = _sig(x @ w[:, :H] + h @ u[:, :H] + b[:H])
    r = _sig(x @ w[:, H : 2 * H] + h @ u[:, H : 2 * H] + b[H : 2 * H])
    cand = np.tanh(x @ w[:, 2 * H :] + (r * h) @ u[:, 2 * H :] + b[2 * H :])
    h_new = z * h + (1 - z) * cand
    out = _step(m, x, [h])
    np.testing.assert_allclose(out.layers[0], h_new, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.x, _readout(m, x, h_new), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("depth", [1, 3])
def test_rhn_by_hand(depth: int) -> None:
    m = _with_bias(_model("rhn", depth=depth))
    x, s = RNG.normal(size=N), RNG.normal(size=H)
    w, r, b = _np(m.cells[0].w, m.cells[0].r, m.cells[0].b)
    np.testing.assert_array_equal(b[:, H:], -2.0)  # transform bias
    s_l = s
    for l in range(depth):
        pre = s_l @ r[l] + b[l] + (x @ w if l == 0 else 0.0)  # the input enters micro-step 1
        t = _sig(pre[H:])
        s_l = np.tanh(pre[:H]) * t + s_l * (1 - t)
    out = _step(m, x, [s])
    np.testing.assert_allclose(out.layers[0], s_l, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.x, _readout(m, x, s_l), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------- gating
@pytest.mark.parametrize("name", ["rnn", "lstm", "gru", "rhn"])
def test_gating_variants_against_the_plain_cell(name: str) -> None:
    plain = _model(name)
    x = RNG.normal(size=N)
    s = RNG.normal(size=plain.cells[0].state_size)
    f = np.asarray(_step(plain, x, [s]).layers[0])  # the plain cell's proposal

    def gated(kind: str, **params):
        m = _model(name, gating=kind)  # same seed: same cell weights
        for field, value in params.items():
            m = eqx.tree_at(lambda m, field=field: getattr(m.gates[0], field), m, value)
        return np.asarray(_step(m, x, [s]).layers[0])

    np.testing.assert_allclose(gated("additive"), s + f, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gated("learned_rate"), 0.5 * s + 0.5 * f, rtol=1e-5, atol=1e-6)
    size = s.size
    np.testing.assert_allclose(gated("learned_rate", rate=jnp.full(size, 40.0)), f, atol=1e-6)
    np.testing.assert_allclose(gated("input_dependent", b=jnp.full(size, 40.0)), f, atol=1e-6)
    np.testing.assert_allclose(gated("input_dependent", b=jnp.full(size, -40.0)), s, atol=1e-6)
    m = _model(name, gating="input_dependent")
    wg, bg = _np(m.gates[0].w, m.gates[0].b)
    g = _sig(np.concatenate([s, f]) @ wg + bg)
    np.testing.assert_allclose(gated("input_dependent"), (1 - g) * s + g * f, rtol=1e-5,
                               atol=1e-6)


# ---------------------------------------------------------------------------- attention
def _np_attention(att: MultiHeadAttention, q, kv, bias, visible):
    wq, wk, wv, wo = _np(att.wq, att.wk, att.wv, att.wo)
    heads, d = att.heads, wq.shape[1] // att.heads
    outs = []
    for h in range(heads):
        cols = slice(h * d, (h + 1) * d)
        logits = (q @ wq[:, cols]) @ (kv @ wk[:, cols]).T / np.sqrt(d) + bias[h]
        logits = np.where(visible, logits, MASKED)
        a = np.exp(logits - logits.max(1, keepdims=True))
        outs.append((a / a.sum(1, keepdims=True)) @ (kv @ wv[:, cols]))
    return np.concatenate(outs, axis=1) @ wo


def test_multi_head_attention_by_hand_with_bias_and_mask() -> None:
    att = MultiHeadAttention(4, 6, 2, key=jax.random.PRNGKey(3))
    q, kv = RNG.normal(size=(3, 4)), RNG.normal(size=(5, 4))
    bias = RNG.normal(size=(2, 3, 5))
    visible = RNG.random((3, 5)) > 0.4
    visible[2] = False  # a row with no visible key averages (finite, no NaN)
    out = jax.jit(MultiHeadAttention.__call__)(
        att, jnp.asarray(q, jnp.float32), jnp.asarray(kv, jnp.float32),
        jnp.asarray(bias, jnp.float32), jnp.asarray(visible))
    np.testing.assert_allclose(out, _np_attention(att, q, kv, bias, visible), rtol=1e-4,
                               atol=1e-5)
    table = jnp.arange(6.0).reshape(2, 3)
    lags = jnp.array([[0, 1, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(relative_bias(table, lags)[1], [[3, 4, 5], [3, 3, 4]])


def test_attention_with_one_head_and_one_slot_is_a_linear_map_of_h() -> None:
    m = _with_bias(_model("gru", attention=True, heads=1, attention_window=1))
    plain = _model("gru")  # same cell weights
    x, s = RNG.normal(size=N), RNG.normal(size=H)
    h = np.asarray(_step(plain, x, [s]).layers[0])
    wv, wo = _np(m.attention.wv, m.attention.wo)
    out = _step(m, x, [s])
    np.testing.assert_allclose(out.memory[0], h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.x, _readout(m, x, h + h @ wv @ wo), rtol=1e-5, atol=1e-5)


def test_attention_memory_is_a_fifo_and_empty_slots_are_ignored() -> None:
    m = _model("lstm", attention=True, heads=2, attention_window=3)
    state = m.encode(jnp.asarray(RNG.normal(size=N), jnp.float32))
    outputs = []
    for _ in range(4):
        state = _jit_step(m, state)
        outputs.append(np.asarray(state.layers[0][:H]))
        if len(outputs) == 1:
            np.testing.assert_array_equal(state.filled, [0, 0, 1])
            # what sits in an empty slot does not matter
            h = jnp.asarray(outputs[0])
            junk = state.memory.at[0].set(100.0)
            np.testing.assert_allclose(m.attend(h, junk, state.filled),
                                       m.attend(h, state.memory, state.filled), atol=1e-6)
    np.testing.assert_array_equal(state.filled, [1, 1, 1])
    np.testing.assert_allclose(state.memory, np.stack(outputs[1:]), rtol=1e-6)
    # the lag biases act: a large bias on lag 0 puts all weight on the newest slot
    wv, wo = _np(m.attention.wv, m.attention.wo)
    focused = eqx.tree_at(lambda m: m.lag_bias, m, m.lag_bias.at[:, 0].set(50.0))
    h = state.memory[-1]
    np.testing.assert_allclose(focused.attend(h, state.memory, state.filled),
                               np.asarray(h) @ wv @ wo, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------- warm-up, forcing
def test_warm_up_is_teacher_forced_over_the_last_context_length_rows() -> None:
    m = _model("rhn", context_length=6, attention=True, attention_window=4)
    ctx = jnp.asarray(RNG.normal(size=(10, N)), jnp.float32)
    state = eqx.filter_jit(lambda m, c: m.init_state(c))(m, ctx)
    np.testing.assert_array_equal(m.observe(state), ctx[-1])
    manual = m.encode(ctx[4])
    for x in ctx[5:]:
        manual = m.force(_jit_step(m, manual), x, 1.0)
    for a, b in zip(jax.tree_util.tree_leaves(state), jax.tree_util.tree_leaves(manual),
                    strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    older = ctx.at[:4].set(5.0)  # rows beyond context_length are ignored
    np.testing.assert_array_equal(_forecast5(m, older), _forecast5(m, ctx))
    inside = ctx.at[5].add(1.0)
    assert not np.allclose(_forecast5(m, inside), _forecast5(m, ctx))


def test_encode_batches_and_force_moves_only_the_observation() -> None:
    m = _model("lstm", n_layers=2, attention=True, attention_window=3)
    xs = jnp.asarray(RNG.normal(size=(5, 7, N)), jnp.float32)
    state = m.encode(xs)
    assert state.x.shape == (5, 7, N)
    assert [s.shape for s in state.layers] == [(5, 7, 2 * H)] * 2
    assert state.memory.shape == (5, 7, 3, H) and state.filled.shape == (5, 7, 3)
    one = _jit_step(m, m.encode(xs[0, 0]))
    target = jnp.asarray(RNG.normal(size=N), jnp.float32)
    forced = m.force(one, target, 0.25)
    np.testing.assert_allclose(forced.x, 0.75 * one.x + 0.25 * target, rtol=1e-6)
    assert all(a is b for a, b in zip(forced.layers, one.layers, strict=True))


VARIANTS = [
    ("rnn", {"n_layers": 2, "gating": "additive", "attention": True}),
    ("lstm", {"gating": "learned_rate", "attention": True}),
    ("gru", {"gating": "input_dependent", "attention": True, "heads": 1}),
    ("rhn", {"depth": 2, "n_layers": 2, "gating": "input_dependent", "attention": True}),
]


@pytest.mark.parametrize(("name", "hp"), VARIANTS)
def test_variants_keep_the_contract(name: str, hp: dict) -> None:
    from attractor.errors import DivergenceError

    m = _model(name, **hp)
    ctx = np.asarray(RNG.normal(size=(30, N)), np.float32)
    traj = checked_simulate(m, ctx, 8)
    np.testing.assert_array_equal(traj[0], ctx[-1])
    assert np.all(np.isfinite(traj)) and not np.allclose(traj[1], traj[0])
    blown = jax.tree_util.tree_map(lambda v: v * jnp.inf if eqx.is_inexact_array(v) else v, m)
    with pytest.raises(DivergenceError):
        checked_forecast(blown, ctx, 7)  # the same compiled run as checked_simulate(.., 8)


def test_bad_hyperparameters_are_input_errors() -> None:
    with pytest.raises(InputError, match="gating"):
        make_config("gru", obs_dim=2, gating="multiplicative")
    with pytest.raises(InputError, match="divisible"):
        make_config("lstm", obs_dim=2, hidden_dim=5, attention=True, heads=2)
    with pytest.raises(InputError, match="input"):
        make_config("rnn", obs_dim=2, input_dim=1)
    m = _model("rnn")
    with pytest.raises(InputError, match="input u"):
        m.step(m.encode(jnp.zeros(N)), jnp.zeros(1))


# ---------------------------------------------------------------------------- gradient
def test_gradient_matches_finite_differences_in_float64() -> None:
    m = _model("gru", gating="input_dependent", attention=True, attention_window=3)
    with float64():
        m = jax.tree_util.tree_map(
            lambda v: v.astype(jnp.float64) if eqx.is_inexact_array(v) else v, m
        )
        ctx = jnp.asarray(RNG.normal(size=(6, N)))
        target = jnp.asarray(RNG.normal(size=(4, N)))
        params, static = eqx.partition(m, eqx.is_inexact_array)

        def loss(p):
            return jnp.sum((eqx.combine(p, static).forecast(ctx, 4) - target) ** 2)

        grad = jax.jit(jax.grad(loss))(params)
        loss = jax.jit(loss)
        leaves, treedef = jax.tree_util.tree_flatten(params)
        keys = jax.random.split(jax.random.PRNGKey(7), len(leaves))
        direction = jax.tree_util.tree_unflatten(
            treedef, [jax.random.normal(k, v.shape, v.dtype) for k, v in zip(keys, leaves,
                                                                             strict=True)]
        )
        analytic = sum(jnp.vdot(g, d) for g, d in zip(jax.tree_util.tree_leaves(grad),
                                                      jax.tree_util.tree_leaves(direction),
                                                      strict=True))
        eps = 1e-6
        shifted = [jax.tree_util.tree_map(lambda p, d, s=s: p + s * eps * d, params, direction)
                   for s in (1.0, -1.0)]
        numeric = (loss(shifted[0]) - loss(shifted[1])) / (2 * eps)
        assert abs(float(analytic)) > 1e-3  # a test that cannot pass on all-zero gradients
        np.testing.assert_allclose(float(analytic), float(numeric), rtol=1e-6)
        # every parameter group gets gradient (the cell, the gate, the attention)
        for name in ("gates", "attention", "lag_bias", "cells"):
            g = jax.tree_util.tree_leaves(getattr(grad, name))
            assert any(float(jnp.max(jnp.abs(v))) > 0 for v in g), name


def test_state_is_a_named_tuple_pytree() -> None:
    m = _model("gru")
    state = m.init_state(jnp.zeros((3, N)))
    assert isinstance(state, RecurrentState) and state.memory is None
