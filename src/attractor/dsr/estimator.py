"""A scikit-learn-compatible façade: reconstruct or forecast a dynamical system in three lines.

>>> from attractor.dsr import DSR
>>> est = DSR(model="shplrnn", latent_dim=3, model_params={"hidden_dim": 100}, epochs=5, dt=0.01)
>>> est = est.fit(x)                    # x: (T, N) array, or a list of them   # doctest: +SKIP
>>> x_gen = est.simulate(10_000)        # free-running, in the units of x      # doctest: +SKIP
>>> x_next = est.forecast(x[-50:], 200) # 200 rows after a context             # doctest: +SKIP

Every hyperparameter is an explicit constructor argument stored unchanged, so ``get_params``,
``set_params``, ``sklearn.base.clone`` and grid searches see them (scikit-learn itself is not
needed). Learned state carries a trailing underscore (``model_``, ``standardizer_``, ``losses_``,
``n_features_in_``). Data are standardised inside ``fit``; every output is in the original units.
``None`` for a training setting means the model's recipe (:class:`~attractor.models.Recipe`).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
from pathlib import Path
from typing import Any

import jax
import numpy as np

from attractor.data.io import validate_series
from attractor.data.standardize import Standardizer
from attractor.dsr.adaptive import denoised, resolve_loop_settings
from attractor.dsr.evaluate import evaluate_model
from attractor.dsr.pipeline import AUTO, RunSpec
from attractor.errors import InputError
from attractor.models.generate import check_length, checked_forecast, checked_simulate
from attractor.models.io import load_model, save_model
from attractor.models.registry import build_model
from attractor.train.loop import train
from attractor.train.objective import ClosedFormObjective

ESTIMATOR_KEY = "estimator"


class DSR:
    """Dynamical-systems reconstruction / forecasting with any registered model.

    Args:
        model: registered model name (``attractor models list``); default ``"shplrnn"``.
        latent_dim: ``M`` for latent models; ``None``: the recipe's, else the data dimension.
        model_params: further model hyperparameters (e.g. ``{"hidden_dim": 100}``).
        objective: training objective (``"agtf"``, ``"gtf"``, ``"stf"``, ``"onestep"``,
            ``"freerun"``, ``"ridge"``); ``None``: the model's recipe.
        objective_params: its options (e.g. ``{"alpha": 0.2, "seq_len": 100}``).
        epochs, lr_start, lr_end: ``None``: the recipe's.
        grad_clip: a positive number, ``None`` (off) or ``"auto"`` (the recipe's).
        batch_size: windows per batch.
        noise_std: std of the noise added to each training batch (standardised units);
            ``"auto"``: the noise the denoising removed, none without denoising
            (:mod:`attractor.dsr.adaptive`).
        denoise: smooth the training series before fitting: ``"auto"`` (the default: the
            Savitzky–Golay window of least cross-validation score, off when the data show no
            noise; :mod:`attractor.dsr.adaptive`), an odd window in samples, or ``None`` (off).
        dt: sampling step of the data in time units (Lyapunov exponents per time unit).
        seed: seeds the initialisation and the training batches.
        progress: show a progress bar while fitting.
    """

    def __init__(
        self,
        model: str = "shplrnn",
        *,
        latent_dim: int | None = None,
        model_params: dict[str, Any] | None = None,
        objective: str | None = None,
        objective_params: dict[str, Any] | None = None,
        epochs: int | None = None,
        batch_size: int = 16,
        lr_start: float | None = None,
        lr_end: float | None = None,
        grad_clip: float | None | str = AUTO,
        noise_std: float | str = 0.0,
        denoise: int | str | None = AUTO,
        dt: float = 1.0,
        seed: int = 0,
        progress: bool = False,
    ) -> None:
        self.model = model
        self.latent_dim = latent_dim
        self.model_params = model_params
        self.objective = objective
        self.objective_params = objective_params
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr_start = lr_start
        self.lr_end = lr_end
        self.grad_clip = grad_clip
        self.noise_std = noise_std
        self.denoise = denoise
        self.dt = dt
        self.seed = seed
        self.progress = progress

    # ------------------------------------------------------------------ scikit-learn protocol
    @classmethod
    def _get_param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return sorted(p for p in sig.parameters if p != "self")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments (scikit-learn protocol)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params: Any) -> DSR:
        """Set constructor arguments (scikit-learn protocol); returns ``self``."""
        valid = set(self._get_param_names())
        for name, value in params.items():
            if name not in valid:
                known = ", ".join(sorted(valid))
                raise InputError(f"DSR has no parameter {name!r}; valid: {known}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"DSR({args})"

    # ------------------------------------------------------------------ fitting
    def run_spec(self) -> RunSpec:
        """The pipeline spec these parameters describe (validates them)."""
        if not (isinstance(self.dt, int | float) and math.isfinite(self.dt) and self.dt > 0):
            raise InputError(f"dt must be a positive number of time units, got {self.dt!r}")
        hyper = dict(self.model_params or {})
        if self.latent_dim is not None:
            hyper["latent_dim"] = self.latent_dim
        return RunSpec(
            model=self.model,
            hyperparameters=hyper,
            objective=self.objective,
            objective_options=dict(self.objective_params or {}),
            epochs=self.epochs,
            lr_start=self.lr_start,
            lr_end=self.lr_end,
            grad_clip=self.grad_clip,
            batch_size=self.batch_size,
            noise_std=self.noise_std,
            denoise=self.denoise,
            seed=self.seed,
            select_every=None,
        )

    def fit(self, X: np.ndarray | list[np.ndarray], y: Any = None) -> DSR:
        """Train on ``X`` (one ``(T, N)`` array or a list of trajectories); returns ``self``."""
        spec = self.run_spec()
        series = [validate_series(x, name=f"X[{i}]") for i, x in enumerate(_as_list(X))]
        self.standardizer_ = Standardizer().fit(series)
        scaled = [self.standardizer_.transform(x).astype(np.float32) for x in series]
        raw = scaled
        scaled, self.denoise_window_, _ = denoised(spec.denoise, raw)
        objective = spec.make_objective()
        spec, _ = resolve_loop_settings(
            dataclasses.replace(spec, denoise=self.denoise_window_), raw,
            gradient=not isinstance(objective, ClosedFormObjective))
        self.batch_noise_ = spec.noise_std
        n_obs = scaled[0].shape[1]
        model = build_model(spec.model_config(n_obs), key=jax.random.PRNGKey(self.seed))
        result = train(
            model,
            scaled,
            objective,
            config=spec.train_config(),
            key=jax.random.PRNGKey(self.seed + 1),
            progress=self.progress,
        )
        self.model_ = result.model
        self.losses_ = result.losses
        self.n_features_in_ = n_obs
        self.x0_ = series[0][: self.model_.context_length]
        return self

    # ------------------------------------------------------------------ using the model
    def simulate(self, n: int, x0: np.ndarray | None = None) -> np.ndarray:
        """Free-running trajectory of ``n`` rows in data units.

        ``x0`` is a start point ``(N,)`` or a context ``(T, N)`` (default: the start of the
        training data); row 0 is the model's view of its last row.
        """
        self._check_fitted()
        n = check_length(n, "n")
        start = self.x0_ if x0 is None else self._scaled(x0, "x0")
        out = checked_simulate(self.model_, self._std(start), n)
        return self.standardizer_.inverse_transform(out)

    def forecast(self, context: np.ndarray, horizon: int) -> np.ndarray:
        """The ``horizon`` rows after ``context`` ``(T, N)`` (data units), after a warm-up on it."""
        self._check_fitted()
        horizon = check_length(horizon, "horizon")
        ctx = self._std(self._scaled(context, "context"))
        return self.standardizer_.inverse_transform(checked_forecast(self.model_, ctx, horizon))

    def evaluate(self, X_test: np.ndarray, **options: Any) -> dict[str, Any]:
        """Every DSR metric (D_stsp, D_H, PE, lambda_max, ...) on a test series in data units.

        ``options`` go to :func:`~attractor.dsr.evaluate.evaluate_model` (``n_runs``, ...).
        """
        self._check_fitted()
        n_runs = options.get("n_runs", 5)
        check_length(n_runs, "n_runs")
        x = self.standardizer_.transform(validate_series(X_test, name="X_test"))
        return evaluate_model(self.model_, x, dt=self.dt, **options)

    def score(self, X_test: np.ndarray, y: Any = None) -> float:
        """One number, higher is better: ``-D_stsp`` of the protocol run on ``X_test``
        (``-inf`` when the run diverged). :meth:`evaluate` returns every metric."""
        d_stsp = self.evaluate(X_test, n_runs=1)["D_stsp"]
        return -float(d_stsp) if d_stsp is not None else -math.inf

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | Path) -> Path:
        """Write the model directory (``config.json`` + ``weights.eqx``) with every setting."""
        self._check_fitted()
        params = self.get_params()
        json.dumps(params)  # every setting must survive the round trip
        meta = {
            "standardizer": self.standardizer_.to_dict(),
            "dt": self.dt,
            "x0": np.asarray(self.x0_).tolist(),
            "denoise_window": self.denoise_window_,
            "batch_noise": self.batch_noise_,
            ESTIMATOR_KEY: params,
        }
        return save_model(directory, self.model_, meta)

    @classmethod
    def load(cls, directory: str | Path) -> DSR:
        """Load a directory written by :meth:`save` or by ``attractor train``."""
        model, meta = load_model(directory)
        params = meta.get(ESTIMATOR_KEY)
        if isinstance(params, dict) and set(params) <= set(cls._get_param_names()):
            est = cls(**{"denoise": None, **params})  # saved before denoising existed: off
        else:  # written by `attractor train`
            est = cls(model=model.config.name, dt=float(meta.get("dt", 1.0)))
        if "standardizer" not in meta:
            raise InputError(f"{directory}: config.json has no data standardisation")
        est.model_ = model
        est.standardizer_ = Standardizer.from_dict(meta["standardizer"])
        x0 = np.asarray(meta.get("x0", np.zeros(model.obs_dim)), dtype=np.float64)
        est.x0_ = x0.reshape(-1, model.obs_dim)
        est.losses_ = []
        est.denoise_window_ = meta.get("denoise_window")
        est.batch_noise_ = meta.get("batch_noise")
        est.n_features_in_ = model.obs_dim
        return est

    # ------------------------------------------------------------------ helpers
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise InputError("this DSR estimator is not fitted yet: call fit(X) first")

    def _scaled(self, values: Any, name: str) -> np.ndarray:
        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr[None]
        if arr.ndim != 2 or arr.shape[1] != self.n_features_in_ or arr.shape[0] < 1:
            raise InputError(
                f"{name} must have shape ({self.n_features_in_},) or (T, {self.n_features_in_}), "
                f"got {np.shape(values)}"
            )
        if not np.all(np.isfinite(arr)):
            raise InputError(f"{name} contains NaN or inf values")
        return arr

    def _std(self, raw: np.ndarray) -> np.ndarray:
        return self.standardizer_.transform(raw)


def _as_list(X: Any) -> list[Any]:
    if isinstance(X, list | tuple):
        return list(X)
    arr = np.asarray(X)
    return list(arr) if arr.ndim == 3 else [arr]
