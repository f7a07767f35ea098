"""Random subsequence batches for teacher-forced training.

The GTF recipe (Hess et al. 2023, "Generalized Teacher Forcing for Learning Chaotic Dynamics",
ICML; ``sample_batch`` in their code): a batch is ``S`` subsequences of length ``T̃ + 1`` drawn
uniformly **with replacement** from the training trajectories. Here ``seq_len = T̃ + 1``.

All trajectories are concatenated once into one float32 array and every valid start row (one whose
window ``[start, start + seq_len)`` stays inside a single trajectory) is precomputed, so a batch is
one random draw plus one gather: a pure function of the key that runs under ``jit`` and ``vmap``.
Every valid window can be drawn, including the last one of each trajectory.

The sampler is a JAX pytree (the arrays are leaves), so it can be passed into a jitted training
step as an argument instead of being baked into the compiled program as a constant.
"""

from __future__ import annotations

import functools
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from attractor.data.dataset import TimeSeriesDataset
from attractor.errors import InputError

Weighting = Literal["window", "series"]


def _as_dataset(data: Any) -> TimeSeriesDataset:
    if isinstance(data, TimeSeriesDataset):
        return data
    return TimeSeriesDataset.from_arrays(data, min_rows=1)


def _valid_starts(lengths: tuple[int, ...], seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Global start rows of every window, and ``(n_used + 1,)`` boundaries in that list of the
    windows that belong to each trajectory long enough to hold one."""
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    starts, bounds = [], [0]
    for offset, length in zip(offsets[:-1], lengths, strict=True):
        n = length - seq_len + 1
        if n > 0:
            starts.append(offset + np.arange(n))
            bounds.append(bounds[-1] + n)
    return np.concatenate(starts).astype(np.int32), np.asarray(bounds, dtype=np.int32)


@jax.tree_util.register_pytree_node_class
class SubsequenceSampler:
    """Draw batches ``(B, seq_len, D)`` of float32 windows from one or several trajectories.

    Args:
        data: a :class:`TimeSeriesDataset`, one ``(T, D)`` array, a ``(B, T, D)`` stack or a list
            of ``(T_i, D)`` arrays (validated; standardise them first if you want).
        seq_len: window length in time steps (``T̃ + 1`` in the GTF papers).
        weighting: ``"window"`` (default): every valid window of every trajectory is equally
            likely, so longer trajectories contribute proportionally more; ``"series"``: pick a
            trajectory uniformly, then a window in it uniformly.

    Trajectories shorter than ``seq_len`` are skipped (listed in :attr:`skipped`).

    Raises:
        InputError: ``seq_len`` not a positive integer, or every trajectory is shorter than it.
    """

    def __init__(self, data: Any, seq_len: int, *, weighting: Weighting = "window") -> None:
        if isinstance(seq_len, bool) or not isinstance(seq_len, int | np.integer) or seq_len < 1:
            raise InputError(f"seq_len must be a positive integer, got {seq_len!r}")
        if weighting not in ("window", "series"):
            raise InputError(f"weighting must be 'window' or 'series', got {weighting!r}")
        dataset = _as_dataset(data)
        seq_len = int(seq_len)
        longest = max(dataset.lengths)
        if longest < seq_len:
            raise InputError(
                "series too short for the sequence length: longest series has "
                f"{longest} rows, need {seq_len}"
            )
        starts, bounds = _valid_starts(dataset.lengths, seq_len)
        self.seq_len = seq_len
        self.weighting: Weighting = weighting
        self.dim = dataset.dim
        self.lengths = dataset.lengths
        self.skipped = tuple(i for i, n in enumerate(dataset.lengths) if n < seq_len)
        self.data = jnp.asarray(np.asarray(dataset.concatenated(), dtype=np.float32))
        self.starts = jnp.asarray(starts)
        self.bounds = jnp.asarray(bounds)

    # ----------------------------------------------------------------------------- pytree

    def tree_flatten(self) -> tuple[tuple[jax.Array, ...], tuple[Any, ...]]:
        aux = (self.seq_len, self.weighting, self.dim, self.lengths, self.skipped)
        return (self.data, self.starts, self.bounds), aux

    @classmethod
    def tree_unflatten(cls, aux: tuple[Any, ...], children: Any) -> SubsequenceSampler:
        out = object.__new__(cls)
        out.seq_len, out.weighting, out.dim, out.lengths, out.skipped = aux
        out.data, out.starts, out.bounds = children
        return out

    # ----------------------------------------------------------------------------- info

    @property
    def n_windows(self) -> int:
        """Number of distinct windows that can be drawn."""
        return int(self.starts.shape[0])

    def __repr__(self) -> str:
        return (
            f"SubsequenceSampler(seq_len={self.seq_len}, dim={self.dim}, "
            f"n_series={len(self.lengths)}, n_windows={self.n_windows}, "
            f"weighting={self.weighting!r})"
        )

    # ----------------------------------------------------------------------------- sampling

    def sample_starts(self, key: jax.Array, batch_size: int) -> jax.Array:
        """Rows of the concatenated data where the windows of ``sample(key, batch_size)`` start,
        ``(B,)`` int32. Same key, same starts as :meth:`sample`."""
        batch_size = _check_batch_size(batch_size)
        return _sample_starts(
            self.starts, self.bounds, key, batch_size=batch_size, weighting=self.weighting
        )

    def sample(
        self, key: jax.Array, batch_size: int, *, noise_std: float | jax.Array = 0.0
    ) -> jax.Array:
        """A batch ``(batch_size, seq_len, D)`` float32 of windows drawn with replacement.

        Args:
            key: JAX PRNG key; the batch is a pure function of it (same key, same batch).
            batch_size: number of windows ``S`` (a Python int; static under ``jit``).
            noise_std: standard deviation of i.i.d. Gaussian noise added to every entry, in the
                units of the data (after standardisation: in units of its std); the GTF/AL-RNN
                ``gaussian_noise_level``. ``0`` adds none. The windows drawn do not depend on it.
        """
        batch_size = _check_batch_size(batch_size)
        noisy = not (isinstance(noise_std, int | float) and noise_std == 0)
        if isinstance(noise_std, int | float) and (noise_std < 0 or not np.isfinite(noise_std)):
            raise InputError(f"noise_std must be a finite number >= 0, got {noise_std!r}")
        return _sample(
            self.data,
            self.starts,
            self.bounds,
            key,
            jnp.asarray(noise_std, dtype=jnp.float32),
            batch_size=batch_size,
            seq_len=self.seq_len,
            weighting=self.weighting,
            noisy=noisy,
        )


def _check_batch_size(batch_size: Any) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
        raise InputError(f"batch_size must be a positive integer, got {batch_size!r}")
    if batch_size < 1:
        raise InputError(f"batch_size must be a positive integer, got {batch_size!r}")
    return int(batch_size)


def _draw_starts(
    starts: jax.Array, bounds: jax.Array, key: jax.Array, *, batch_size: int, weighting: str
) -> jax.Array:
    """Uniform draw with replacement of ``batch_size`` window start rows."""
    if weighting == "window":
        index = jax.random.randint(key, (batch_size,), 0, starts.shape[0])
    else:
        k_series, k_window = jax.random.split(key)
        series = jax.random.randint(k_series, (batch_size,), 0, bounds.shape[0] - 1)
        first, stop = bounds[series], bounds[series + 1]
        index = jax.random.randint(k_window, (batch_size,), first, stop)
    return starts[index]


@functools.partial(jax.jit, static_argnames=("batch_size", "weighting"))
def _sample_starts(
    starts: jax.Array, bounds: jax.Array, key: jax.Array, *, batch_size: int, weighting: str
) -> jax.Array:
    k_index, _ = jax.random.split(key)
    return _draw_starts(starts, bounds, k_index, batch_size=batch_size, weighting=weighting)


@functools.partial(jax.jit, static_argnames=("batch_size", "seq_len", "weighting", "noisy"))
def _sample(
    data: jax.Array,
    starts: jax.Array,
    bounds: jax.Array,
    key: jax.Array,
    noise_std: jax.Array,
    *,
    batch_size: int,
    seq_len: int,
    weighting: str,
    noisy: bool,
) -> jax.Array:
    k_index, k_noise = jax.random.split(key)
    first = _draw_starts(starts, bounds, k_index, batch_size=batch_size, weighting=weighting)
    rows = first[:, None] + jnp.arange(seq_len, dtype=first.dtype)[None, :]
    batch = data[rows]  # (B, seq_len, D): one gather
    if noisy:
        batch = batch + noise_std * jax.random.normal(k_noise, batch.shape, dtype=batch.dtype)
    return batch


__all__ = ["SubsequenceSampler"]
