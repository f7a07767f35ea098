"""The training loop: teacher-forced BPTT with RAdam and exponential learning-rate decay.

Recipe of Hess et al. (ICML 2023) and Brenner et al. (NeurIPS 2024): each epoch is
``batches_per_epoch`` updates on batches of ``batch_size`` random subsequences of length
``seq_len + 1``; RAdam (Liu et al., ICLR 2020) with the learning rate decayed exponentially per
epoch from ``lr_start`` to ``lr_end``; optional Gaussian noise on the batch; an L2 penalty on the
latent parameters. A whole epoch (sampling, aGTF update, forward, backward, optimiser) is one
compiled ``lax.scan``; Python only loops over epochs, to checkpoint, report progress and check for
divergence.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from attractor.data.batching import SubsequenceSampler
from attractor.data.tau import estimate_forcing_interval
from attractor.errors import DivergenceError, InputError
from attractor.models.base import DSRModel
from attractor.train.checkpoint import has_checkpoint, load_checkpoint, save_checkpoint
from attractor.train.forcing import ForcingConfig, forcing_weights, update_alpha
from attractor.train.loss import forced_mse

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Training hyperparameters (defaults: the GTF recipe, shortened for a CPU budget).

    Attributes:
        epochs: number of epochs.
        batches_per_epoch: parameter updates per epoch (paper: 50).
        batch_size: subsequences per batch (paper: 16).
        seq_len: ``T~``, the forcing window length in steps (paper: 200).
        lr_start, lr_end: RAdam learning rate, decayed exponentially per epoch.
        noise_std: std of Gaussian noise added to each batch (in units of the standardised data).
        lambda_latent: weight of the L2 penalty on the latent parameters.
        lambda_obs: weight of the observation-model penalty.
        grad_clip: global-norm gradient clipping; ``None`` for none.
        forcing: the teacher-forcing scheme.
        checkpoint_every: epochs between checkpoints (when a checkpoint directory is given).
    """

    epochs: int = 1000
    batches_per_epoch: int = 50
    batch_size: int = 16
    seq_len: int = 200
    lr_start: float = 1e-3
    lr_end: float = 1e-5
    noise_std: float = 0.0
    lambda_latent: float = 0.0
    lambda_obs: float = 0.0
    grad_clip: float | None = 10.0
    forcing: ForcingConfig = ForcingConfig()
    checkpoint_every: int = 50

    def __post_init__(self) -> None:
        positive = ("epochs", "batches_per_epoch", "batch_size", "seq_len", "checkpoint_every")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise InputError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not (self.lr_start > 0 and self.lr_end > 0):
            raise InputError("learning rates must be positive")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        data = dict(data)
        data["forcing"] = ForcingConfig(**data.get("forcing", {}))
        return cls(**data)


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` returns: the model and the per-epoch history."""

    model: DSRModel
    losses: list[float]
    alphas: list[float]
    epochs_done: int
    seconds: float
    tau: int | None = None
    stopped_early: bool = False


EpochCallback = Callable[[int, DSRModel, float, float], bool | None]


def make_optimizer(config: TrainConfig) -> optax.GradientTransformation:
    """RAdam with per-epoch exponential decay from ``lr_start`` to ``lr_end`` (and clipping)."""
    decay = math.exp(math.log(config.lr_end / config.lr_start) / max(config.epochs, 1))
    schedule = optax.exponential_decay(
        init_value=config.lr_start,
        transition_steps=config.batches_per_epoch,
        decay_rate=decay,
        staircase=True,
        end_value=config.lr_end,
    )
    chain = [optax.radam(schedule)]
    if config.grad_clip is not None:
        chain.insert(0, optax.clip_by_global_norm(config.grad_clip))
    return optax.chain(*chain)


def resolve_forcing(config: TrainConfig, series: Sequence[np.ndarray]) -> TrainConfig:
    """Fill in an automatic STF interval from the data (Mikhaeil et al. 2022 heuristic)."""
    forcing = config.forcing
    if forcing.method == "stf" and forcing.tau is None:
        longest = max(series, key=len)
        tau = int(estimate_forcing_interval(np.asarray(longest)))
        log.info("estimated STF forcing interval tau = %d steps", tau)
        return dataclasses.replace(config, forcing=dataclasses.replace(forcing, tau=tau))
    return config


def make_update(
    config: TrainConfig, optimizer: optax.GradientTransformation, static: Any
) -> Callable[[tuple, jax.Array], tuple[tuple, jax.Array]]:
    """One parameter update as a pure function ``(carry, key) -> (carry, loss)``.

    ``carry = (params, opt_state, alpha, step, sampler)``; ``params``/``static`` are the
    ``eqx.partition(model, eqx.is_inexact_array)`` halves of the model. The update samples a batch,
    re-estimates alpha when aGTF is due, adds the batch noise, and takes one optimiser step. It is
    what an epoch scans over, and what the training-step benchmark times.
    """
    forcing = config.forcing

    def loss_fn(params: Any, batch: jax.Array, alphas: jax.Array) -> jax.Array:
        model = eqx.combine(params, static)
        loss = forced_mse(model, batch, alphas)
        if config.lambda_latent:
            loss = loss + config.lambda_latent * model.latent_regularization()
        if config.lambda_obs:
            loss = loss + config.lambda_obs * model.regularization()
        return loss

    grad_fn = jax.value_and_grad(loss_fn)

    def one_update(carry: tuple, key: jax.Array) -> tuple[tuple, jax.Array]:
        params, opt_state, alpha, step, sampler = carry
        k_batch, k_noise = jax.random.split(key)
        clean = sampler.sample(k_batch, config.batch_size)
        if forcing.method == "agtf":
            due = step % forcing.update_every == 0
            alpha = jax.lax.cond(
                due,
                lambda a: update_alpha(forcing, a, eqx.combine(params, static), clean),
                lambda a: a,
                alpha,
            )
        batch = clean
        if config.noise_std > 0:
            batch = clean + config.noise_std * jax.random.normal(k_noise, clean.shape, clean.dtype)
        alphas = forcing_weights(forcing, alpha, config.seq_len)
        loss, grads = grad_fn(params, batch, alphas)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = eqx.apply_updates(params, updates)
        return (params, opt_state, alpha, step + 1, sampler), loss

    return one_update


def make_epoch(
    config: TrainConfig, optimizer: optax.GradientTransformation, static: Any
) -> Callable[..., Any]:
    """One compiled epoch: ``batches_per_epoch`` updates scanned in a single ``lax.scan``.

    ``run_epoch(params, opt_state, alpha, step, sampler, key)`` returns the new
    ``(params, opt_state, alpha, step)``, the mean loss and whether all parameters are finite.
    """
    one_update = make_update(config, optimizer, static)

    @eqx.filter_jit
    def run_epoch(params, opt_state, alpha, step, sampler, key):
        keys = jax.random.split(key, config.batches_per_epoch)
        carry, losses = jax.lax.scan(one_update, (params, opt_state, alpha, step, sampler), keys)
        params, opt_state, alpha, step, _ = carry
        finite = jnp.all(
            jnp.array([jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(params)])
        )
        return params, opt_state, alpha, step, jnp.mean(losses), finite

    return run_epoch


def train(
    model: DSRModel,
    series: Sequence[np.ndarray] | np.ndarray,
    config: TrainConfig,
    *,
    key: jax.Array,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = False,
    callback: EpochCallback | None = None,
) -> TrainResult:
    """Train ``model`` on standardised ``series`` (one ``(T, N)`` array or a list of them).

    Args:
        model: an initialised model (its ``obs_dim`` must match the data's columns).
        series: training data; already standardised (the trainer does not rescale).
        config: the hyperparameters.
        key: PRNG key; the same key, data and config give the same model.
        checkpoint_dir: if given, a checkpoint is written there every ``checkpoint_every`` epochs
            and at the end.
        resume: continue from the checkpoint in ``checkpoint_dir`` if there is one.
        progress: show a progress bar (the CLI turns it on).
        callback: called after each epoch as ``callback(epoch, model, loss, alpha)``; returning
            ``True`` stops training early.

    Raises:
        InputError: the data do not fit the model or the sequence length.
        DivergenceError: the loss or the parameters became NaN/inf; the last good checkpoint (if
            any) is kept on disk and named in the message.
    """
    arrays = [np.asarray(series)] if isinstance(series, np.ndarray) else list(series)
    for i, x in enumerate(arrays):
        if x.ndim != 2 or x.shape[1] != model.obs_dim:
            raise InputError(
                f"training series {i} has shape {x.shape}; the model expects (T, {model.obs_dim})"
            )
    config = resolve_forcing(config, arrays)
    sampler = SubsequenceSampler(arrays, config.seq_len + 1)
    optimizer = make_optimizer(config)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    opt_state = optimizer.init(params)
    alpha = jnp.asarray(config.forcing.initial_alpha(), dtype=jnp.float32)
    step = jnp.asarray(0, dtype=jnp.int32)
    losses: list[float] = []
    alphas: list[float] = []
    start_epoch = 0
    last_good: int | None = None
    if checkpoint_dir is not None and resume and has_checkpoint(checkpoint_dir):
        state, saved = load_checkpoint(checkpoint_dir, (params, opt_state, alpha, step, key))
        params, opt_state, alpha, step, key = state
        start_epoch, losses, alphas = saved["epoch"], saved["losses"], saved["alphas"]
        last_good = start_epoch
        log.info("resumed from %s at epoch %d", checkpoint_dir, start_epoch)

    run_epoch = make_epoch(config, optimizer, static)
    t0 = time.perf_counter()
    bar = _progress_bar(config.epochs, start_epoch) if progress else None
    stopped_early = False
    epoch = start_epoch
    try:
        for epoch in range(start_epoch + 1, config.epochs + 1):
            key, k_epoch = jax.random.split(key)
            new = run_epoch(params, opt_state, alpha, step, sampler, k_epoch)
            new_params, new_opt, new_alpha, new_step, loss, finite = new
            loss_value = float(loss)
            if not (bool(finite) and math.isfinite(loss_value)):
                _raise_divergence(epoch, checkpoint_dir, last_good)
            params, opt_state, alpha, step = new_params, new_opt, new_alpha, new_step
            losses.append(loss_value)
            alphas.append(float(alpha))
            if bar is not None:
                postfix = {"loss": f"{loss_value:.4g}", "alpha": f"{float(alpha):.3f}"}
                bar.set_postfix(postfix, refresh=False)  # update() redraws, throttled
                bar.update(1)
            if checkpoint_dir is not None and (
                epoch % config.checkpoint_every == 0 or epoch == config.epochs
            ):
                state = (params, opt_state, alpha, step, key)
                save_checkpoint(
                    checkpoint_dir,
                    state,
                    {"epoch": epoch, "losses": losses, "alphas": alphas, "tau": config.forcing.tau},
                )
                last_good = epoch
            if callback is not None and callback(
                epoch, eqx.combine(params, static), loss_value, float(alpha)
            ):
                stopped_early = True
                break
    finally:
        if bar is not None:
            bar.close()
    return TrainResult(
        model=eqx.combine(params, static),
        losses=losses,
        alphas=alphas,
        epochs_done=epoch,
        seconds=time.perf_counter() - t0,
        tau=config.forcing.tau,
        stopped_early=stopped_early,
    )


def _raise_divergence(epoch: int, checkpoint_dir: str | Path | None, last_good: int | None) -> None:
    where = (
        f"; the last good checkpoint (epoch {last_good}) is kept in {checkpoint_dir}"
        if last_good is not None
        else "; no checkpoint had been written yet"
    )
    raise DivergenceError(
        f"training diverged at epoch {epoch}: the loss or the parameters became NaN/inf "
        f"(try a lower learning rate or more forcing){where}"
    )


def _progress_bar(total: int, initial: int) -> Any:
    """A tqdm bar on stderr; redrawn at most every 30 s when stderr is a file or pipe (logs)."""
    from tqdm.auto import tqdm

    interactive = sys.stderr.isatty()
    return tqdm(
        total=total,
        initial=initial,
        desc="training",
        unit="epoch",
        leave=False,
        mininterval=0.1 if interactive else 30.0,
    )
