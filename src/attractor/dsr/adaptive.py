"""Loop settings of a run read from its training data: the adaptive part of the default recipe.

A user who runs the defaults on a new system should not inherit settings tuned on Lorenz-63.
These settings of a DSR run are derived from the data when the run starts, when ``"auto"``
(each is printed by ``attractor train``, saved in ``config.json`` under ``run.derived`` and
overridden by its flag); the denoising, the window and the patience are ``"auto"`` by default,
the batch noise is opt-in (``--batch-noise auto``; why, below).

- **window length** (``--seq-len``): 2.5 oscillation periods of the data
  (:func:`attractor.train.teacher_forcing.automatic_seq_len`; 202 samples on Lorenz-63 at
  ``dt = 0.01``, the GTF paper's 200). Set by the teacher-forcing objective itself.
- **batch noise** (``--batch-noise``): when the training series were denoised, the white
  observation-noise std of the *raw* standardised training data, estimated from second
  differences (:func:`attractor.data.timescales.noise_level`): the noise the smoothing took out
  comes back as fresh Gaussian perturbations of every batch (0.05 on 5 %-noise data; the AL-RNN
  and dendPLRNN Lorenz-63 settings use 0.05). Without denoising it is none: the data keep their
  own noise (adding more made Thomas worse, D_stsp 2.64 against 0.52 on seed 0). Opt-in, because
  on Lorenz-63 (15 seeds, BENCHMARKS.md, issue 11) it trades one failure for another: it rescues
  the two seeds whose denoised runs miss (a model with stable foci, a run whose later checkpoints
  collapsed; D_stsp 0.55 / 0.57 -> 0.09 / 0.07), but the typical seed gets worse (seeds 0-4:
  median D_stsp 0.256 against 0.184), the
  Lyapunov spectrum goes back to the over-contraction of noisy data (Σλ 3.1-3.6x the system's on
  5 seeds, against 7.5 % off on the median without it: the errors-in-variables bias of
  regressing on noisy inputs), and 2 of those 5 models still have a stable focus. Second
  differences only separate noise from signal when the signal is smooth at the sampling step:
  for data whose lag-1 autocorrelation is below :data:`MIN_SMOOTHNESS` (maps, coarse sampling,
  noise) the noise cannot be told apart and the batch noise is 0, with that reason. Closed-form
  fits (ridge) use no batch noise at all.
- **denoising** (``--denoise``): the training series are smoothed by a Savitzky–Golay filter
  whose window minimises generalised cross-validation (:mod:`attractor.data.denoise`) before
  anything else is read from them (the batch noise from the raw data, above).
  Observation noise makes teacher-forced models over-contract: on Lorenz-63 with 5 % noise and
  the other defaults, 5 seeds, Σλ is 4.3–7.3x the system's without it and 7.5 % off (median)
  with it. D_stsp is about the same either way (median of 15 seeds 0.137 with it, 0.134 without),
  and 13 of the catalogue's 24 flows meet issue 11's targets with it, 12 without
  (BENCHMARKS.md, issues 10 and 11).
  It is skipped, with that reason, for data too rough to tell noise from signal (as the batch
  noise), for series too short to choose a window, and when the shortest window wins (no noise
  the filter can remove). The window never exceeds the shortest training series. The test
  series are never smoothed. It hurt one kind of data: the spiky ECG recording, whose recipe
  turns it off (D_H 0.86 / 0.44 against 0.38 / 0.195 on two seeds).
- **when to stop** (``--patience``): training runs at most the recipe's epochs and stops when the
  validation score of the best-model selection (:mod:`attractor.dsr.selection`) has not improved
  for ``PATIENCE_FRACTION`` of them (at least ``MIN_PATIENCE_CHECKS`` checks). A stopped run keeps
  the same selected model as the full run whenever no such plateau precedes the full run's best
  checkpoint (training is deterministic up to the stop), and the epochs after the plateau are
  saved. On the Lorenz-63 defaults the full runs selected epochs 460-680 of 800.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from attractor.errors import InputError

AUTO = "auto"
#: Below this lag-1 autocorrelation (median over dimensions) the signal is too rough at its
#: sampling step for second differences to tell noise from signal (noise of std ``s`` in
#: standardised data caps it at ``1 - s^2``: 0.9 still admits ``s`` up to ~0.3).
MIN_SMOOTHNESS = 0.9
#: ``patience="auto"``: this fraction of the epochs without a validation improvement stops a run.
#: A quarter (200 of 800) scored Lorenz-63 seed 1 at test D_stsp 0.68; trained to the end, the
#: same seed improved its validation score again after a 260-epoch plateau (epochs 360-620) and
#: selected epoch 710, test D_stsp 0.16: the score creeps along a noisy plateau (BENCHMARKS.md).
PATIENCE_FRACTION = 0.5
#: ... but never fewer than this many selection checks.
MIN_PATIENCE_CHECKS = 10


def automatic_batch_noise(raw: Sequence[np.ndarray], window: int | None) -> tuple[float, str]:
    """Batch-noise std for ``noise_std="auto"`` and how it was chosen: the white-noise std of the
    longest *raw* standardised series when the training series were smoothed with ``window``,
    none when they were not (see the module docstring)."""
    from attractor.data.timescales import noise_level

    if window is None:
        return 0.0, "none: the training data are not denoised, so they keep their own noise"
    longest = np.asarray(max(raw, key=len), np.float64)
    rough = _too_rough(longest)
    if rough:
        return 0.0, f"{rough}: none"
    noise = float(f"{noise_level(longest):.3g}")
    return noise, ("the white-noise std the denoising removed, estimated from second differences "
                   "of the raw data, standardised units")


def denoise_window(denoise: Any, series: Sequence[np.ndarray]) -> tuple[int | None, str | None]:
    """The Savitzky–Golay window that ``denoise`` (``None``/``"off"``, ``"auto"`` or an odd
    window) asks for on ``series``, and how it was chosen (``None`` when it was given or off).
    ``"auto"`` chooses on the longest series (see the module docstring)."""
    from attractor.data.denoise import MIN_WINDOW, candidate_windows, check_window, choose_window

    if denoise in (None, "off"):
        return None, None
    shortest = min(len(x) for x in series)
    if denoise != AUTO:
        try:
            return check_window(denoise, shortest), None
        except InputError as err:
            raise InputError(f"--denoise: {err} (--denoise takes off, auto or an odd window)") \
                from None
    longest = np.asarray(max(series, key=len), np.float64)
    candidates = candidate_windows(len(longest), longest=shortest)
    if not candidates:
        return None, (f"off: the training series are too short to choose a window (longest "
                      f"{len(longest)} rows, shortest {shortest}; needs {10 * MIN_WINDOW} and "
                      f"{MIN_WINDOW})")
    rough = _too_rough(longest)
    if rough:
        return None, f"off: {rough}"
    window, scores = choose_window(longest, candidates)
    if window == min(scores):
        return None, "off: the shortest window wins cross-validation (no noise to remove)"
    return window, (f"Savitzky–Golay window {window} samples, cubic (least generalised "
                    f"cross-validation score of the windows {min(scores)}..{max(scores)})")


def denoised(denoise: Any, series: Sequence[np.ndarray]
             ) -> tuple[list[np.ndarray], int | None, str | None]:
    """``series`` smoothed as ``denoise`` asks (each in its own dtype; unchanged when off), the
    window used and how it was chosen (:func:`denoise_window`)."""
    window, how = denoise_window(denoise, series)
    if window is None:
        return list(series), None, how
    from attractor.data.denoise import savitzky_golay

    return [savitzky_golay(x, window).astype(x.dtype) for x in series], window, how


def _too_rough(x: np.ndarray) -> str | None:
    """Why ``x`` is too rough at its sampling step to tell noise from signal, or ``None``."""
    from attractor.data.tau import autocorrelation

    lag_one = float(np.nanmedian(autocorrelation(x, 1)[1]))
    if lag_one >= MIN_SMOOTHNESS:
        return None
    return (f"the data are too rough at their sampling step to tell noise from signal "
            f"(lag-1 autocorrelation {lag_one:.2f} < {MIN_SMOOTHNESS:g})")


def automatic_patience(epochs: int, select_every: int | None) -> tuple[int | None, str]:
    """Patience in epochs for ``patience="auto"`` (``None`` without model selection)."""
    if not select_every:
        return None, "off: no model selection (--select-every off) to watch"
    checks = max(MIN_PATIENCE_CHECKS, math.ceil(PATIENCE_FRACTION * epochs / select_every))
    patience = checks * select_every
    return patience, (f"{patience} epochs: {PATIENCE_FRACTION:g} of the {epochs} epochs, at least "
                      f"{MIN_PATIENCE_CHECKS} checks of --select-every {select_every}")


def check_patience(patience: Any, select_every: int | None) -> None:
    """Refuse a patience that cannot work (no selection to watch) or is not a positive int."""
    if patience in (None, AUTO):
        return
    if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
        raise InputError(f"patience must be a positive integer, 'auto' or None, got {patience!r}")
    if not select_every:
        raise InputError("--patience watches the validation score of --select-every; it needs "
                         "model selection (drop --select-every off)")


def resolve_loop_settings(
    spec: Any, raw: Sequence[np.ndarray], *, gradient: bool = True
) -> tuple[Any, dict[str, str]]:
    """``spec`` (a :class:`~attractor.dsr.pipeline.RunSpec` whose ``denoise`` is the window the
    training series were smoothed with, or ``None``) with its ``"auto"`` batch noise and patience
    filled in, and name -> how each was derived (only the derived ones). ``raw``: the training
    series before smoothing. With ``gradient=False`` (a closed-form fit) neither applies: both
    are switched off silently."""
    notes: dict[str, str] = {}
    changes: dict[str, Any] = {}
    check_patience(spec.patience, spec.select_every)
    if not gradient:
        return dataclasses.replace(spec, noise_std=0.0 if spec.noise_std == AUTO
                                   else spec.noise_std, patience=None), notes
    if spec.noise_std == AUTO:
        changes["noise_std"], how = automatic_batch_noise(raw, spec.denoise)
        notes["batch_noise"] = f"{changes['noise_std']:g} ({how})"
    if spec.patience == AUTO:
        changes["patience"], how = automatic_patience(spec.max_epochs, spec.select_every)
        notes["patience"] = how
    return dataclasses.replace(spec, **changes), notes
