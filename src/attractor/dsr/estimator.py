"""A scikit-learn-style façade: reconstruct a dynamical system in three lines.

>>> from attractor.dsr import DSR
>>> est = DSR(model="shplrnn", latent_dim=3, hidden_dim=100, epochs=5, dt=0.01)
>>> est = est.fit(x)                  # x: (T, N) array, or a list of them   # doctest: +SKIP
>>> x_gen = est.simulate(10_000)      # free-running, in the units of x      # doctest: +SKIP

Hyperparameters go to ``__init__``; learned state carries a trailing underscore (``model_``,
``standardizer_``, ``losses_``). Data are standardised inside ``fit`` and every output is returned
in the original units.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from attractor.data.io import validate_series
from attractor.data.standardize import Standardizer
from attractor.dsr.evaluate import evaluate_model
from attractor.dsr.experiment import default_train_config
from attractor.errors import InputError
from attractor.models.base import DSRModel
from attractor.models.io import load_model, save_model
from attractor.models.registry import build_model, make_config
from attractor.train.loop import train


class DSR:
    """Dynamical-systems reconstruction with a latent recurrent model.

    Args:
        model: ``"shplrnn"`` (default), ``"plrnn"``, ``"dendplrnn"`` or ``"alrnn"``.
        latent_dim: ``M``; defaults to the data dimension.
        forcing: ``"agtf"`` (default), ``"gtf"`` or ``"stf"``; ``alpha``/``tau`` as in
            :class:`~attractor.train.forcing.ForcingConfig`.
        epochs, batch_size, seq_len, lr_start, lr_end, noise_std: training settings
            (:class:`~attractor.train.loop.TrainConfig`).
        dt: sampling step of the data in time units (for Lyapunov exponents per time unit).
        seed: seeds the initialisation and the training batches.
        progress: show a progress bar while fitting.
        **hyperparameters: model-specific settings (``hidden_dim``, ``n_pwl``, ``n_bases``,
            ``clipped``, ``observation``).
    """

    def __init__(
        self,
        model: str = "shplrnn",
        *,
        latent_dim: int | None = None,
        forcing: str = "agtf",
        alpha: float | None = None,
        tau: int | None = None,
        epochs: int = 300,
        batch_size: int = 16,
        seq_len: int = 200,
        lr_start: float = 1e-3,
        lr_end: float = 1e-5,
        noise_std: float = 0.0,
        dt: float = 1.0,
        seed: int = 0,
        progress: bool = False,
        **hyperparameters: Any,
    ) -> None:
        self.model = model
        self.latent_dim = latent_dim
        self.forcing = forcing
        self.alpha = alpha
        self.tau = tau
        self.epochs = epochs
        self.batch_size = batch_size
        self.seq_len = seq_len
        self.lr_start = lr_start
        self.lr_end = lr_end
        self.noise_std = noise_std
        self.dt = dt
        self.seed = seed
        self.progress = progress
        self.hyperparameters = hyperparameters

    # ------------------------------------------------------------------ fitting
    def fit(self, X: np.ndarray | list[np.ndarray]) -> DSR:
        """Train on ``X`` (one ``(T, N)`` array or a list of trajectories); returns ``self``."""
        series = [validate_series(x, name=f"X[{i}]") for i, x in enumerate(_as_list(X))]
        self.standardizer_ = Standardizer().fit(series)
        scaled = [self.standardizer_.transform(x).astype(np.float32) for x in series]
        n_obs = scaled[0].shape[1]
        config = make_config(
            self.model, obs_dim=n_obs, latent_dim=self.latent_dim or n_obs, **self.hyperparameters
        )
        model = build_model(config, key=jax.random.PRNGKey(self.seed))
        train_config = default_train_config(
            epochs=self.epochs,
            forcing=self.forcing,
            alpha=self.alpha,
            tau=self.tau,
            seq_len=self.seq_len,
            batch_size=self.batch_size,
            lr_start=self.lr_start,
            lr_end=self.lr_end,
            noise_std=self.noise_std,
        )
        result = train(
            model,
            scaled,
            train_config,
            key=jax.random.PRNGKey(self.seed + 1),
            progress=self.progress,
        )
        self.model_: DSRModel = result.model
        self.losses_ = result.losses
        self.x0_ = series[0][0]
        return self

    # ------------------------------------------------------------------ using the model
    def simulate(self, n: int, x0: np.ndarray | None = None) -> np.ndarray:
        """Free-running trajectory of ``n`` rows in data units; row 0 is (the model's view of)
        ``x0``, which defaults to the first training point."""
        self._check_fitted()
        start = self.x0_ if x0 is None else np.asarray(x0, dtype=np.float64)
        z = self.standardizer_.transform(start[None])[0]
        gen = self.model_.simulate(jnp.asarray(z, jnp.float32), int(n))
        return self.standardizer_.inverse_transform(np.asarray(gen, np.float64))

    def forecast(self, context: np.ndarray, horizon: int) -> np.ndarray:
        """``horizon`` steps following the last row of ``context`` ``(T, N)``, in data units."""
        context = validate_series(context, name="context", min_rows=1)
        return self.simulate(horizon + 1, context[-1])[1:]

    def score(self, X_test: np.ndarray, **kwargs: Any) -> dict[str, Any]:
        """DSR metrics (D_stsp, D_H, PE, lambda_max, ...) on a test series in data units."""
        self._check_fitted()
        x = self.standardizer_.transform(validate_series(X_test, name="X_test"))
        return evaluate_model(self.model_, x, dt=self.dt, **kwargs)

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | Path) -> Path:
        """Write the model directory (``config.json`` + ``weights.eqx``)."""
        self._check_fitted()
        meta = {
            "standardizer": self.standardizer_.to_dict(),
            "dt": self.dt,
            "x0": np.asarray(self.x0_).tolist(),
            "estimator": {"forcing": self.forcing, "epochs": self.epochs, "seed": self.seed},
        }
        return save_model(directory, self.model_, meta)

    @classmethod
    def load(cls, directory: str | Path) -> DSR:
        """Load a directory written by :meth:`save` or by ``attractor train``."""
        model, meta = load_model(directory)
        est = cls(model=model.config.name, latent_dim=model.latent_dim, dt=meta.get("dt", 1.0))
        est.model_ = model
        est.standardizer_ = Standardizer.from_dict(meta["standardizer"])
        est.x0_ = np.asarray(meta.get("x0", np.zeros(model.obs_dim)), dtype=np.float64)
        est.losses_ = []
        return est

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise InputError("this DSR estimator is not fitted yet: call fit(X) first")


def _as_list(X: Any) -> list[Any]:
    if isinstance(X, list | tuple):
        return list(X)
    arr = np.asarray(X)
    return list(arr) if arr.ndim == 3 else [arr]
