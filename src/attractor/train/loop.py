"""The training loop: any model, any objective, any optax optimiser.

``train(model, series, objective, config=...)`` runs a gradient objective as the recipe of Hess et
al. (ICML 2023) and Brenner et al. (NeurIPS 2024) does: each epoch is ``batches_per_epoch``
updates on batches of ``batch_size`` random windows (of the objective's length); the default
optimiser is RAdam (Liu et al., ICLR 2020) with the learning rate decayed exponentially per epoch
from ``lr_start`` to ``lr_end`` and global-norm clipping; optional Gaussian noise on each batch.
A whole epoch (sampling, the objective's state update, forward, backward, optimiser) is one
compiled ``lax.scan``; Python only loops over epochs, to checkpoint, report progress and check for
divergence. A closed-form objective is solved in one call instead.

The loop knows no objective, rollout or model by name: the objective supplies the loss, its own
state (checkpointed and resumed exactly) and what to log; ``optimizer`` is any optax
transformation; ``trainable`` decides which leaves train (default: every float array except a
model's ``frozen_fields``). After every update a :class:`~attractor.models.capabilities.Constrained`
model is projected back onto its feasible set.
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
from attractor.errors import DivergenceError, InputError
from attractor.models.base import default_trainable
from attractor.models.capabilities import Constrained
from attractor.train.checkpoint import has_checkpoint, load_checkpoint, save_checkpoint
from attractor.train.objective import ClosedFormObjective, GradientObjective, Objective

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Loop settings (defaults: the GTF recipe, shortened for a CPU budget).

    Attributes:
        epochs: number of epochs.
        batches_per_epoch: parameter updates per epoch (paper: 50).
        batch_size: windows per batch (paper: 16).
        lr_start, lr_end: learning rate of the default optimiser, decayed exponentially per epoch.
        noise_std: std of Gaussian noise added to each batch (in units of the standardised data).
        grad_clip: global-norm gradient clipping of the default optimiser; ``None`` for none.
        checkpoint_every: epochs between checkpoints (when a checkpoint directory is given).
    """

    epochs: int = 1000
    batches_per_epoch: int = 50
    batch_size: int = 16
    lr_start: float = 1e-3
    lr_end: float = 1e-5
    noise_std: float = 0.0
    grad_clip: float | None = 10.0
    checkpoint_every: int = 50

    def __post_init__(self) -> None:
        positive = ("epochs", "batches_per_epoch", "batch_size", "checkpoint_every")
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"{name} must be a positive integer, got {value!r}")
        for name in ("lr_start", "lr_end"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise InputError(f"{name} must be a positive number, got {value!r}")
        if not (math.isfinite(self.noise_std) and self.noise_std >= 0):
            raise InputError(f"noise_std must be >= 0, got {self.noise_std!r}")
        if self.grad_clip is not None and not (
            math.isfinite(self.grad_clip) and self.grad_clip > 0
        ):
            raise InputError(f"grad_clip must be > 0 (or None for no clipping), got "
                             f"{self.grad_clip!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` returns: the model, the per-epoch history and the resolved objective."""

    model: Any
    objective: Objective
    losses: list[float]
    history: list[dict[str, float]]
    epochs_done: int
    #: wall time of training (s), summed over the processes of a resumed run
    seconds: float
    stopped_early: bool = False


#: ``callback(epoch, model, loss, info)``; ``info`` holds the objective's logged values.
EpochCallback = Callable[[int, Any, float, dict[str, float]], bool | None]


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


def make_update(
    objective: GradientObjective,
    config: TrainConfig,
    optimizer: optax.GradientTransformation,
    static: Any,
) -> Callable[[tuple, jax.Array], tuple[tuple, tuple[jax.Array, dict]]]:
    """One parameter update as a pure function ``(carry, key) -> (carry, (loss, stats))``.

    ``carry = (params, opt_state, obj_state, step, sampler)``; ``params``/``static`` are the
    trainable / fixed halves of the model. The update samples a batch, lets the objective update
    its state on the clean batch, adds the batch noise, and takes one optimiser step. It is what
    an epoch scans over, and what the training-step benchmark times. ``stats`` are the
    objective's statistics of the update (:meth:`GradientObjective.loss_and_stats`).
    """

    def loss_fn(params: Any, batch: jax.Array, obj_state: Any) -> tuple[jax.Array, dict]:
        return objective.loss_and_stats(eqx.combine(params, static), batch, obj_state)

    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    def one_update(carry: tuple, key: jax.Array) -> tuple[tuple, tuple[jax.Array, dict]]:
        params, opt_state, obj_state, step, sampler = carry
        k_batch, k_noise = jax.random.split(key)
        clean = sampler.sample(k_batch, config.batch_size)
        obj_state = objective.update_state(obj_state, eqx.combine(params, static), clean, step)
        batch = clean
        if config.noise_std > 0:
            batch = clean + config.noise_std * jax.random.normal(k_noise, clean.shape, clean.dtype)
        (loss, stats), grads = grad_fn(params, batch, obj_state)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = eqx.apply_updates(params, updates)
        if isinstance(params, Constrained):
            params = params.project()
        return (params, opt_state, obj_state, step + 1, sampler), (loss, stats)

    return one_update


def make_epoch(
    objective: GradientObjective,
    config: TrainConfig,
    optimizer: optax.GradientTransformation,
    static: Any,
) -> Callable[..., Any]:
    """One compiled epoch: ``batches_per_epoch`` updates scanned in a single ``lax.scan``.

    ``run_epoch(params, opt_state, obj_state, step, sampler, key)`` returns the new
    ``(params, opt_state, obj_state, step)``, the mean loss, whether all parameters are finite
    and the epoch's statistics (:func:`epoch_stats`).
    """
    one_update = make_update(objective, config, optimizer, static)

    @eqx.filter_jit
    def run_epoch(params, opt_state, obj_state, step, sampler, key):
        keys = jax.random.split(key, config.batches_per_epoch)
        carry = (params, opt_state, obj_state, step, sampler)
        carry, (losses, stats) = jax.lax.scan(one_update, carry, keys)
        params, opt_state, obj_state, step, _ = carry
        leaves = jax.tree_util.tree_leaves(params)
        finite = jnp.all(jnp.array([jnp.all(jnp.isfinite(x)) for x in leaves]))
        return params, opt_state, obj_state, step, jnp.mean(losses), finite, epoch_stats(stats)

    return run_epoch


def epoch_stats(stats: dict[str, jax.Array]) -> dict[str, jax.Array]:
    """Per-epoch summary of per-update statistics ``(n_updates,)``: the mean of each, and for
    Newton iterations also the maximum; a fallback flag becomes the count of updates that fell
    back."""
    out = {}
    for name, values in stats.items():
        if name == "newton_fallback":
            out["newton_fallbacks"] = jnp.sum(values)
            continue
        out[name] = jnp.mean(values)
        if name == "newton_iterations":
            out["newton_iterations_max"] = jnp.max(values)
    return out


def check_series(model: Any, series: Sequence[np.ndarray] | np.ndarray) -> list[np.ndarray]:
    """The training data as a list of ``(T, N)`` arrays that fit ``model``."""
    arrays = [np.asarray(series)] if isinstance(series, np.ndarray) else list(series)
    if not arrays:
        raise InputError("no training series given")
    for i, x in enumerate(arrays):
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != model.obs_dim:
            raise InputError(
                f"training series {i} has shape {x.shape}; the model expects (T, {model.obs_dim})"
            )
        if not np.all(np.isfinite(x)):
            raise InputError(f"training series {i} contains NaN or inf values")
    return [np.asarray(x) for x in arrays]


def train(
    model: Any,
    series: Sequence[np.ndarray] | np.ndarray,
    objective: Objective,
    *,
    config: TrainConfig | None = None,
    key: jax.Array,
    optimizer: optax.GradientTransformation | None = None,
    trainable: Any = None,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = False,
    callback: EpochCallback | None = None,
) -> TrainResult:
    """Train ``model`` on standardised ``series`` (one ``(T, N)`` array or a list of them).

    Args:
        model: an initialised model (its ``obs_dim`` must match the data's columns).
        series: training data; already standardised (the trainer does not rescale).
        objective: what to minimise (:mod:`attractor.train.objective`); refused with a clear
            :class:`InputError` if the model lacks a capability it needs.
        config: loop settings (default :class:`TrainConfig`).
        key: PRNG key; the same key, data and settings give the same model.
        optimizer: any optax transformation (default: :func:`make_optimizer` of ``config``).
        trainable: filter spec of the leaves to train (default :func:`default_trainable`).
        checkpoint_dir: if given, a checkpoint is written there every ``checkpoint_every`` epochs
            and at the end.
        resume: continue from the checkpoint in ``checkpoint_dir`` if there is one.
        progress: show a progress bar (the CLI turns it on).
        callback: called after each epoch as ``callback(epoch, model, loss, info)``; returning
            ``True`` stops training early.

    Raises:
        InputError: the data do not fit the model or the objective, or the model lacks a
            capability the objective needs.
        DivergenceError: the loss or the parameters became NaN/inf; the last good checkpoint (if
            any) is kept on disk and named in the message.
    """
    config = config or TrainConfig()
    arrays = check_series(model, series)
    objective.check(model)
    objective = objective.prepare(arrays)
    t0 = time.perf_counter()
    if isinstance(objective, ClosedFormObjective):
        fitted = objective.solve(model, arrays, key=key)
        return TrainResult(fitted, objective, [], [], 0, time.perf_counter() - t0)
    if not isinstance(objective, GradientObjective):
        raise InputError(f"not a training objective: {objective!r}")
    return _gradient_training(
        model, arrays, objective, config, key, optimizer, trainable, checkpoint_dir, resume,
        progress, callback, t0,
    )


def _gradient_training(
    model, arrays, objective, config, key, optimizer, trainable, checkpoint_dir, resume,
    progress, callback, t0,
) -> TrainResult:
    sampler = SubsequenceSampler(arrays, objective.window)
    optimizer = optimizer or make_optimizer(config)
    spec = default_trainable(model) if trainable is None else trainable
    params, static = eqx.partition(model, spec)
    if not jax.tree_util.tree_leaves(params):
        raise InputError(f"model {model.config.name!r} has nothing to train with gradients")
    opt_state = optimizer.init(params)
    obj_state = objective.init_state()
    step = jnp.asarray(0, dtype=jnp.int32)
    losses: list[float] = []
    history: list[dict[str, float]] = []
    start_epoch = 0
    seconds_before = 0.0  # training time of the processes before a resume
    last_good: int | None = None
    # A run that a callback stopped early and was then resumed is finished: it stays stopped.
    stopped_early = False
    if checkpoint_dir is not None and resume and has_checkpoint(checkpoint_dir):
        like = (params, opt_state, obj_state, step, key)
        state, saved = load_checkpoint(checkpoint_dir, like)
        params, opt_state, obj_state, step, key = state
        start_epoch, losses, history = saved["epoch"], saved["losses"], saved["history"]
        seconds_before = float(saved.get("seconds", 0.0))
        last_good = start_epoch
        log.info("resumed from %s at epoch %d", checkpoint_dir, start_epoch)
        if saved.get("callback_pending") and callback is not None and callback(
            start_epoch, eqx.combine(params, static), losses[-1], history[-1]
        ):
            # The run was interrupted inside this epoch's callback: finish it first, as the
            # uninterrupted run did, and stop if it says so.
            start_epoch = config.epochs
        stopped_early = bool(saved.get("stopped"))
    run_epoch = make_epoch(objective, config, optimizer, static)
    bar = _progress_bar(config.epochs, start_epoch) if progress else None
    epoch = start_epoch
    pending: int | None = None  # an epoch whose callback has not returned yet

    def save(epoch_done: int, stopped: bool = False) -> None:
        state = (params, opt_state, obj_state, step, key)
        record = {"epoch": epoch_done, "losses": losses, "history": history,
                  "objective": objective.describe(), "callback_pending": pending == epoch_done,
                  "stopped": stopped, "seconds": seconds_before + time.perf_counter() - t0}
        save_checkpoint(checkpoint_dir, state, record)

    try:
        last_epoch = start_epoch if stopped_early else config.epochs
        for epoch in range(start_epoch + 1, last_epoch + 1):
            key, k_epoch = jax.random.split(key)
            new = run_epoch(params, opt_state, obj_state, step, sampler, k_epoch)
            new_params, new_opt, new_obj, new_step, loss, finite, stats = new
            loss_value = float(loss)
            if not (bool(finite) and math.isfinite(loss_value)):
                _raise_divergence(epoch, checkpoint_dir, last_good)
            params, opt_state, obj_state, step = new_params, new_opt, new_obj, new_step
            info = {**objective.log_values(obj_state),
                    **{k: float(v) for k, v in stats.items()}}
            _log_epoch(epoch, loss_value, info, config.batches_per_epoch)
            losses.append(loss_value)
            history.append(info)
            if bar is not None:
                postfix = {"loss": f"{loss_value:.4g}", **{k: f"{v:.3g}" for k, v in info.items()}}
                bar.set_postfix(postfix, refresh=False)  # update() redraws, throttled
                bar.update(1)
            # The callback (e.g. best-model selection) belongs to the epoch: a checkpoint is
            # written only after it returned, and an interrupt inside it marks it pending.
            pending = epoch
            stop = callback is not None and callback(
                epoch, eqx.combine(params, static), loss_value, info
            )
            pending = None
            if checkpoint_dir is not None and (
                epoch % config.checkpoint_every == 0 or epoch == config.epochs or stop
            ):
                save(epoch, stopped=stop)
                last_good = epoch
            if stop:
                stopped_early = True
                break
    except BaseException as interrupt:
        # Ctrl-C, SIGTERM (the CLI raises a BaseException for it), SystemExit: keep every finished
        # epoch. ``params`` etc. hold the state after the last completed epoch (an epoch is
        # replaced as a whole), so resuming is exact. Errors (Exception) keep the last regular
        # checkpoint, as the divergence message says.
        done = len(losses)
        interrupted = not isinstance(interrupt, Exception)
        if interrupted and checkpoint_dir is not None and done and (
            done != last_good or pending is not None
        ):
            save(done)
            log.warning("interrupted: checkpoint of epoch %d written to %s", done, checkpoint_dir)
        raise
    finally:
        if bar is not None:
            bar.close()
    return TrainResult(
        model=eqx.combine(params, static),
        objective=objective,
        losses=losses,
        history=history,
        epochs_done=epoch,
        seconds=seconds_before + time.perf_counter() - t0,
        stopped_early=stopped_early,
    )


def _log_epoch(epoch: int, loss: float, info: dict[str, float], updates: int) -> None:
    """Debug line per epoch; a warning when a time-parallel rollout fell back."""
    if "newton_iterations" in info:
        log.info(
            "epoch %d: loss %.4g, Newton iterations per update %.2f (max %d), forced lambda "
            "%.3g", epoch, loss, info["newton_iterations"], int(info["newton_iterations_max"]),
            info["forced_lambda"],
        )
    fallbacks = int(info.get("newton_fallbacks", 0))
    if fallbacks:
        log.warning(
            "epoch %d: the time-parallel rollout did not converge in %d of %d updates and fell "
            "back to the sequential scan (forced lambda %.3g; more forcing helps)",
            epoch, fallbacks, updates, info["forced_lambda"],
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
