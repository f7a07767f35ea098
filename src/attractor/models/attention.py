"""Multi-head attention with relative-position biases, shared by the recurrent models and the
transformer (Vaswani et al., NeurIPS 2017, "Attention Is All You Need"; relative-position biases
as in Shaw et al., NAACL 2018, and the T5 scalar-bias form of Raffel et al., JMLR 2020).

For queries ``Q (Tq, d)``, keys/values ``K (Tk, d)``, head ``h = 1..H`` with ``d_h = d_out / H``::

    q_h = Q Wq_h,   k_h = K Wk_h,   v_h = K Wv_h                     (each (T, d_h))
    A_h = softmax_row(q_h k_h^T / sqrt(d_h) + B_h + mask)             (Tq, Tk)
    out = [A_1 v_1, ..., A_H v_H] Wo                                  (Tq, d_out)

``B_h[i, j] = b_h[lag(i, j)]`` is one learned scalar per head and lag (how many steps key ``j``
lies behind query ``i``), so the same weights attend to "one step ago" wherever the window sits.
Masked pairs get a large negative finite logit (not ``-inf``): a row with no visible key then
averages instead of producing NaN, which keeps gradients finite through padded slots.

Products are written in the row-vector form ``x @ W`` (``W`` stored ``(in, out)``), which batches
into one matrix product with the batch leading under ``vmap`` (see ``plrnn_family.row_matmul``).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from attractor.errors import InputError
from attractor.models.plrnn_family import uniform

#: Logit of a masked (invisible) key; finite, so fully masked rows stay finite.
MASKED = -1e9


def linear_init(key: jax.Array, n_in: int, n_out: int) -> jax.Array:
    """``(n_in, n_out)`` weights ``U(-1/sqrt(n_in), 1/sqrt(n_in))`` (PyTorch's default)."""
    return uniform(key, (n_in, n_out), 1.0 / float(n_in) ** 0.5)


def head_size(model: str, width: int, heads: int) -> int:
    """``width / heads``; refuses widths the heads do not divide."""
    if width % heads:
        raise InputError(f"{model}: the width {width} must be divisible by heads={heads}")
    return width // heads


class MultiHeadAttention(eqx.Module):
    """``H``-head scaled dot-product attention; see the module docstring.

    Attributes:
        wq, wk, wv: ``(d_in, H * d_h)`` projections; wo: ``(H * d_h, d_out)``.
        heads: ``H``.
    """

    wq: jax.Array
    wk: jax.Array
    wv: jax.Array
    wo: jax.Array
    heads: int = eqx.field(static=True)

    def __init__(self, d_in: int, d_out: int, heads: int, *, key: jax.Array):
        kq, kk, kv, ko = jax.random.split(key, 4)
        self.heads = heads
        self.wq = linear_init(kq, d_in, d_out)
        self.wk = linear_init(kk, d_in, d_out)
        self.wv = linear_init(kv, d_in, d_out)
        self.wo = linear_init(ko, d_out, d_out)

    def weights(self, queries: jax.Array, keys: jax.Array, bias: jax.Array,
                visible: jax.Array) -> jax.Array:
        """Attention weights ``(H, Tq, Tk)``; ``bias`` ``(H, Tq, Tk)``, ``visible`` ``(Tq, Tk)``."""
        q = self._split(queries @ self.wq)
        k = self._split(keys @ self.wk)
        logits = jnp.einsum("hqd,hkd->hqk", q, k) / jnp.sqrt(q.shape[-1]) + bias
        return jax.nn.softmax(jnp.where(visible, logits, MASKED), axis=-1)

    def __call__(self, queries: jax.Array, keys: jax.Array, bias: jax.Array,
                 visible: jax.Array) -> jax.Array:
        """``(Tq, d_out)`` outputs of ``queries (Tq, d_in)`` over ``keys (Tk, d_in)``."""
        a = self.weights(queries, keys, bias, visible)
        v = self._split(keys @ self.wv)
        out = jnp.einsum("hqk,hkd->qhd", a, v).reshape(queries.shape[0], -1)
        return out @ self.wo

    def _split(self, x: jax.Array) -> jax.Array:
        """``(T, H * d_h) -> (H, T, d_h)``."""
        return x.reshape(x.shape[0], self.heads, -1).transpose(1, 0, 2)


def relative_bias(table: jax.Array, lags: jax.Array) -> jax.Array:
    """``B[h, i, j] = table[h, lags[i, j]]`` ``(H, Tq, Tk)``; negative lags (the future, always
    masked) read lag 0."""
    return table[:, jnp.clip(lags, 0, table.shape[1] - 1)]
