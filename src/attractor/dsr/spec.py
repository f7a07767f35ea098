"""What decides a DSR run besides the data: :class:`RunSpec`, resolved against the model's recipe.

Every field left at ``None`` / ``"auto"`` takes the model's
:class:`~attractor.models.registry.Recipe` value, or is read from the training data when the run
starts (:mod:`attractor.dsr.adaptive`). :mod:`attractor.dsr.pipeline` runs a spec.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from attractor.dsr.adaptive import AUTO, check_patience
from attractor.dsr.selection import check_selection_metric
from attractor.errors import InputError
from attractor.models.registry import get_spec, make_config
from attractor.train.loop import TrainConfig
from attractor.train.objective import Objective, make_objective

__all__ = ["AUTO", "TEACHER_FORCING", "RunSpec"]

#: The objectives whose forced rollout a rollout strategy (e.g. time-parallel) computes.
TEACHER_FORCING = ("gtf", "agtf", "stf", "onestep")


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """Everything that decides a run besides the data. ``None`` / ``"auto"`` = the model's recipe.

    Attributes:
        model: registered model name.
        hyperparameters: model hyperparameters beyond the recipe's defaults.
        objective: training objective name (``gtf``, ``agtf``, ``stf``, ``onestep``, ``freerun``,
            ``ridge``); ``None``: the recipe's.
        objective_options: keyword arguments of the objective (e.g. ``{"alpha": 0.2}``).
        epochs, lr_start, lr_end: ``None``: the recipe's.
        grad_clip: a positive number, ``None`` (no clipping) or ``"auto"`` (the recipe's).
        batch_size, batches_per_epoch: loop settings.
        noise_std: std of the Gaussian noise added to each training batch (standardised units);
            ``"auto"``: the noise the denoising removed, estimated on the raw data, and none
            when the data are not denoised (:mod:`attractor.dsr.adaptive`; opt-in, see there).
        denoise: smooth the training series before training: ``"auto"`` (the default: the
            window of least cross-validation score, off when the data show no noise;
            :mod:`attractor.dsr.adaptive`), an odd Savitzky–Golay window in samples, or ``None``
            (off; ``"off"`` is read as ``None``, as a suite file has no null). The test series
            are never smoothed.
        seed: seeds the initialisation and the training batches.
        select_every: keep the best model by its validation score, checked every this many
            epochs; ``None`` keeps the last model.
        select_by: that score: ``"d_stsp"`` or ``"d_h"``
            (:data:`~attractor.dsr.selection.SELECTION_METRICS`).
        select_steps: length of each validation free run (its last rows, as many as the
            validation series has, are scored); ``None``: 1.25 x the validation length.
        select_probes: basin probes of each selection check (opt-in; e.g. 64): free runs from
            this many points of the validation series; a checkpoint whose probes settle on a
            fixed point or a small cycle has its score raised by the share of them
            (:class:`~attractor.dsr.selection.BestModelSelector`); 0: none.
        retries: train again from another initialisation, up to this many times (opt-in),
            when the selection says the run failed (nothing ran stably, every checkpoint had a
            spurious attractor, or training ended in one for good;
            :func:`~attractor.dsr.pipeline.fit`); 0: never.
        patience: stop when that validation score has not improved for this many epochs;
            ``"auto"``: half of the epochs (:mod:`attractor.dsr.adaptive`); ``None``: run
            every epoch.
        n_eval_runs: start points of the evaluation protocol.
        checkpoint_every: epochs between checkpoints (when a checkpoint directory is given).
        time_parallel: compute the teacher-forced rollout by parallel Newton over time
            (:class:`~attractor.train.time_parallel.TimeParallel`; teacher-forcing objectives and
            models with a Jacobian only).
    """

    model: str = "shplrnn"
    hyperparameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    objective: str | None = None
    objective_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    epochs: int | None = None
    lr_start: float | None = None
    lr_end: float | None = None
    grad_clip: float | None | str = AUTO
    batch_size: int = 16
    batches_per_epoch: int = 50
    noise_std: float | str = 0.0
    denoise: int | str | None = AUTO
    seed: int = 0
    select_every: int | None = 10
    select_by: str = "d_stsp"
    select_steps: int | None = None
    select_probes: int = 0
    retries: int = 0
    patience: int | None | str = AUTO
    n_eval_runs: int = 5
    checkpoint_every: int = 50
    time_parallel: bool = False

    def __post_init__(self) -> None:
        if self.denoise == "off":  # the CLI's and a suite file's word for None
            object.__setattr__(self, "denoise", None)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"run spec: unknown setting(s) {', '.join(unknown)}")
        return cls(**data)

    # ------------------------------------------------------------------ resolution
    def model_config(self, obs_dim: int) -> Any:
        return make_config(self.model, obs_dim=obs_dim, **self.hyperparameters)

    def make_objective(self) -> Objective:
        recipe = get_spec(self.model).recipe
        name = self.objective or recipe.objective
        options = dict(recipe.objective_options) if name == recipe.objective else {}
        options.update(self.objective_options)
        if name in TEACHER_FORCING:
            options.setdefault("seq_len", AUTO)  # 2.5 periods of the data (dsr.adaptive)
        if self.time_parallel:
            if name not in TEACHER_FORCING:
                raise InputError(f"--time-parallel applies to the teacher-forcing objectives "
                                 f"({', '.join(TEACHER_FORCING)}), not {name}")
            from attractor.train.time_parallel import TimeParallel

            options["rollout"] = TimeParallel()
        return make_objective(name, **options)

    @property
    def max_epochs(self) -> int:
        """The epochs to run (the recipe's unless given); ``patience`` may stop earlier."""
        return get_spec(self.model).recipe.epochs if self.epochs is None else self.epochs

    def train_config(self) -> TrainConfig:
        """The loop settings; ``noise_std="auto"`` must be resolved first
        (:func:`attractor.dsr.adaptive.resolve_loop_settings`)."""
        recipe = get_spec(self.model).recipe
        if self.noise_std == AUTO:
            raise InputError("noise_std 'auto' is set from the data first "
                             "(attractor.dsr.adaptive.resolve_loop_settings)")
        return TrainConfig(
            epochs=self.max_epochs,
            batches_per_epoch=self.batches_per_epoch,
            batch_size=self.batch_size,
            lr_start=recipe.lr_start if self.lr_start is None else self.lr_start,
            lr_end=recipe.lr_end if self.lr_end is None else self.lr_end,
            noise_std=self.noise_std,
            grad_clip=recipe.grad_clip if self.grad_clip == AUTO else self.grad_clip,
            checkpoint_every=self.checkpoint_every,
        )

    def check_loop_settings(self) -> None:
        """Validate the loop settings before any data exist (``"auto"`` ones pass: the data
        decide them when the run starts)."""
        check_patience(self.patience, self.select_every)
        check_selection_metric(self.select_by)
        if self.select_steps is not None and not (isinstance(self.select_steps, int)
                                                  and self.select_steps > 0):
            raise InputError(f"select_steps must be a positive integer, got "
                             f"{self.select_steps!r}")
        if isinstance(self.select_probes, bool) or not (isinstance(self.select_probes, int)
                                                        and self.select_probes >= 0):
            raise InputError(f"select_probes must be a non-negative integer, got "
                             f"{self.select_probes!r}")
        if isinstance(self.retries, bool) or not (isinstance(self.retries, int)
                                                  and self.retries >= 0):
            raise InputError(f"retries must be a non-negative integer, got {self.retries!r}")
        if self.denoise not in (None, AUTO):
            from attractor.data.denoise import check_window

            check_window(self.denoise)
        noise = 0.0 if self.noise_std == AUTO else self.noise_std
        dataclasses.replace(self, noise_std=noise).train_config()

    def resolved(self, obs_dim: int) -> dict[str, Any]:
        """Every effective setting (recipe defaults filled in), JSON-ready."""
        return {
            "model": self.model_config(obs_dim).to_dict(),
            "objective": self.make_objective().describe(),
            "train": self.train_config().to_dict(),
            "seed": self.seed,
            "select_every": self.select_every,
            "select_by": self.select_by,
            "select_steps": self.select_steps,
            "select_probes": self.select_probes,
            "retries": self.retries,
            "patience": self.patience,
            "denoise": self.denoise,
        }
