"""Options shared by the commands that train a model (``train``, ``forecast``), and turning them
into a :class:`~attractor.dsr.pipeline.RunSpec` and prepared data — validated before any work.

``--embed`` turns the (observed) data into delay coordinates (:mod:`attractor.data.embedding`),
chosen on the training data; ``--observe`` keeps only some coordinates of a ``--system``.

Model flags come from the registry: ``--model NAME`` picks the model, ``--set KEY=VALUE`` sets any
hyperparameter of its config (typed by the config), and ``--latent`` / ``--hidden`` / ``--pwl`` /
``--bases`` / ``--observation`` are shortcuts for the common ones. Everything not given comes from
the model's recipe (``attractor models list``), so adding a model needs no change here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from attractor.cli import validate as v
from attractor.errors import InputError

#: CLI shortcut -> model hyperparameter.
SHORTCUTS = {
    "--latent": "latent_dim",
    "--hidden": "hidden_dim",
    "--pwl": "n_pwl",
    "--bases": "n_bases",
    "--observation": "observation",
}

#: Smallest series the evaluation protocol and the validation selection can work with.
MIN_TEST_ROWS = 100

SYSTEM_OPTION = typer.Option(None, "--system", help="Built-in system to generate data from.")
DATA_OPTION = typer.Option(None, "--data", help="Training file (.npy, .npz or .csv); "
    "repeat the flag for several trajectories.")
TEST_DATA_OPTION = typer.Option(None, "--test-data", help="Test file (default: hold out 20%).")
DT_OPTION = typer.Option(
    None, "--dt", help="Sampling step in time units: of --data files, or the step at which "
    "--system is sampled (default: the system's)."
)
MODEL_OPTION = typer.Option("shplrnn", "--model", help="Model name (`attractor models list`).")
SETTINGS_OPTION = typer.Option(
    None, "--set", help="Model hyperparameter KEY=VALUE (repeatable), e.g. hidden_dim=100."
)
LATENT_OPTION = typer.Option(None, "--latent", help="Shortcut for --set latent_dim=M.")
HIDDEN_OPTION = typer.Option(None, "--hidden", help="Shortcut for --set hidden_dim=L.")
PWL_OPTION = typer.Option(None, "--pwl", help="Shortcut for --set n_pwl=P (AL-RNN).")
BASES_OPTION = typer.Option(None, "--bases", help="Shortcut for --set n_bases=B (dendPLRNN).")
OBSERVATION_OPTION = typer.Option(None, "--observation", help="Shortcut for --set "
    "observation=identity|affine.")
OBJECTIVE_OPTION = typer.Option(
    None, "--objective", "--forcing", help="Training objective: gtf, agtf, stf, onestep, "
    "freerun or ridge (default: the model's recipe)."
)
OBJECTIVE_SETTINGS_OPTION = typer.Option(
    None, "--objective-set", help="Objective option KEY=VALUE (repeatable), e.g. warmup=50."
)
ALPHA_OPTION = typer.Option(None, "--alpha", help="GTF alpha (constant) or aGTF start.")
TAU_OPTION = typer.Option(None, "--tau", help="STF interval in steps (default: from data).")
SEQ_LEN_OPTION = typer.Option(
    None, "--seq-len", metavar="<int|auto>",
    help="Teacher-forcing window T; auto (the default): 2.5 oscillation periods of the data, "
         "200 without an oscillation (printed and saved with the run).")
EPOCHS_OPTION = typer.Option("auto", "--epochs", help="Epochs of 50 updates, or auto (the "
    "model's recipe: 800; alrnn 2000).")
BATCH_NOISE_OPTION = typer.Option("0", "--batch-noise", metavar="<float|auto>",
    help="Gaussian noise std added to each training batch (standardised units); auto: the "
         "noise the denoising removed, estimated on the raw data, none when the data are not "
         "denoised (printed and saved with the run).")
DENOISE_OPTION = typer.Option(
    "auto", "--denoise", metavar="<off|auto|W>", help="Smooth the training data before training "
    "(Savitzky-Golay, cubic): W an odd window in samples; auto (the default): the window of "
    "least cross-validation score, off when the data show no noise or are too short or rough "
    "(printed and saved with the run). The test data are never smoothed."
)
GRAD_CLIP_OPTION = typer.Option("auto", "--grad-clip", help="Gradient-norm clipping: a "
    "positive number, off, or auto (the recipe's: 10; off for "
    "alrnn).")
BATCH_SIZE_OPTION = typer.Option(16, "--batch-size", help="Windows per batch.")
LR_OPTION = typer.Option(None, "--lr", help="Initial learning rate (RAdam; default 1e-3).")
LR_END_OPTION = typer.Option(None, "--lr-end", help="Final learning rate (default 1e-5).")
N_TRAIN_OPTION = typer.Option(100_000, "--n-train", help="Training points (--system).")
N_TEST_OPTION = typer.Option(100_000, "--n-test", help="Test points (--system).")
NOISE_OPTION = typer.Option(0.05, "--noise", help="Observation noise std (--system).")
SEED_OPTION = typer.Option(0, "--seed", help="Random seed (data, init, batches).")
TIME_PARALLEL_OPTION = typer.Option(
    False, "--time-parallel", help="Compute the teacher-forced rollout by parallel Newton over "
    "time (teacher-forcing objectives; models with a Jacobian)."
)
EMBED_OPTION = typer.Option(
    None, "--embed", help="Delay-embed the data: auto (tau from the autocorrelation / mutual "
    "information, m by false nearest neighbours), M (tau auto) or M,TAU, chosen on the training "
    "data and saved in config.json. The model then lives in the delay coordinates (m x the data's "
    "columns, newest first): metrics, forecasts and simulate output are in them, and eval "
    "embeds a raw --data file itself."
)
OBSERVE_OPTION = typer.Option(
    None, "--observe", help="Keep only these coordinates of --system, comma-separated, 0-based "
    "(e.g. 0: Lorenz-63 through x only)."
)
SELECT_EVERY_OPTION = typer.Option(
    "10", "--select-every", help="Keep the model with the best validation score (--select-by; "
    "free runs against the tail of the training data), checked every N epochs; off keeps the "
    "last model."
)
SELECT_BY_OPTION = typer.Option(
    "d_stsp", "--select-by", metavar="<d_stsp|d_h>", help="Validation score of "
    "--select-every: d_stsp (attractor geometry) or d_h (power spectra; for nearly periodic "
    "data, where the rhythm matters more than the geometry)."
)
SELECT_STEPS_OPTION = typer.Option(
    "auto", "--select-steps", metavar="<int|auto>", help="Length of each validation free run of "
    "--select-every (its last rows, as many as the validation tail has, are scored); auto: 1.25 "
    "x the validation tail. Longer runs catch models that leave the data's attractor late."
)
SELECT_PROBES_OPTION = typer.Option(
    "off", "--select-probes", metavar="<int|off>", help="Basin probes of --select-every "
    "(opt-in; e.g. 64): free runs from N points of the validation tail; a checkpoint whose runs "
    "settle on a fixed point or a small cycle (a spurious attractor beside the data's) has its "
    "score raised by their share. off: none."
)
RETRIES_OPTION = typer.Option(
    0, "--retries", help="Train again from another initialisation, up to N times, when the "
    "selection says the run failed (nothing ran stably; with --select-probes also: every "
    "checkpoint had a spurious attractor, or training ended in one for good); the best attempt "
    "is kept and metrics.json lists them all. 0: never."
)
PATIENCE_OPTION = typer.Option(
    "auto", "--patience", metavar="<int|auto|off>", help="Stop when the validation score of "
    "--select-every has not improved for N epochs; auto: half of --epochs (at least 10 "
    "checks); off: run every epoch."
)


def run_spec_and_data(*, system, data, test_data, dt, model, settings, latent, hidden, pwl,
                      bases, observation, objective, objective_settings, alpha, tau, seq_len,
                      epochs, batch_noise, grad_clip, batch_size, lr, lr_end, n_train, n_test,
                      noise, seed, select_every, patience="auto", embed=None, observe=None,
                      time_parallel=False, denoise="auto", select_by="d_stsp",
                      select_steps="auto", select_probes="off", retries=0) -> tuple[Any, Any]:
    """Validate the shared options; returns ``(RunSpec, PreparedData)``."""
    from attractor.models.registry import get_spec

    spec_entry = get_spec(model)
    shortcuts = {"--latent": latent, "--hidden": hidden, "--pwl": pwl, "--bases": bases,
                 "--observation": observation}
    hyper = _model_settings(spec_entry, settings or [], shortcuts)
    run_spec = _run_spec(
        spec_entry.name, hyper, objective, objective_settings or [], alpha=alpha, tau=tau,
        seq_len=seq_len, epochs=epochs, grad_clip=grad_clip, batch_size=batch_size, lr=lr,
        lr_end=lr_end, batch_noise=batch_noise, seed=seed, select_every=select_every,
        select_by=select_by, select_steps=select_steps, select_probes=select_probes,
        retries=retries, patience=patience,
        time_parallel=time_parallel, denoise=denoise,
    )
    objective = run_spec.make_objective()  # validates the objective options
    embedding = _embed_setting(embed)
    prepared = _prepared_data(system, data, test_data, dt, n_train, n_test, noise, seed,
                              _observe_setting(observe, system))
    if embedding is not None:
        prepared = _embedded(prepared, embed, *embedding)
    if isinstance(run_spec.denoise, int):  # a window longer than a training series, refused
        from attractor.dsr.adaptive import denoise_window  # before any output exists

        denoise_window(run_spec.denoise, prepared.train)
    config = run_spec.model_config(prepared.train[0].shape[1])  # validates the hyperparameters
    objective.check(_shape_only(config))  # e.g. GTF on an echo state network, before any work
    return run_spec, prepared


def _shape_only(config: Any) -> Any:
    """The model of ``config`` with shape-only leaves (nothing is allocated or computed)."""
    import jax

    from attractor.models.registry import build_model

    return jax.eval_shape(lambda key: build_model(config, key=key), jax.random.PRNGKey(0))


def _model_settings(spec: Any, pairs: list[str], shortcuts: dict[str, Any]) -> dict[str, Any]:
    from attractor.cli.params import parse_model_settings

    hyper = parse_model_settings(pairs, spec.config_cls)
    fields = set(spec.hyperparameters())
    for flag, value in shortcuts.items():
        if value is None:
            continue
        key = SHORTCUTS[flag]
        if key not in fields:
            raise InputError(f"{flag} does not apply to model {spec.name!r} (no {key})")
        if key in hyper:
            raise InputError(f"{flag} and --set {key} both given")
        hyper[key] = v.positive_int(value, flag) if isinstance(value, int) else value
    return hyper


def _run_spec(model: str, hyper: dict, objective: str | None, objective_pairs: list[str], *,
              alpha, tau, seq_len, epochs, grad_clip, batch_size, lr, lr_end, batch_noise, seed,
              select_every, select_by="d_stsp", select_steps="auto", select_probes="off",
              retries=0, patience="auto",
              time_parallel=False, denoise="auto") -> Any:
    from attractor.cli.params import parse_objective_settings
    from attractor.dsr.adaptive import check_patience
    from attractor.dsr.pipeline import AUTO, RunSpec
    from attractor.dsr.selection import check_selection_metric

    options = parse_objective_settings(objective_pairs)
    if seq_len is not None:
        seq_len = v.auto_or_positive_int(seq_len, "--seq-len") or "auto"
    for flag, key, value in (("--alpha", "alpha", alpha), ("--tau", "tau", tau),
                             ("--seq-len", "seq_len", seq_len)):
        if value is not None:
            if key in options:
                raise InputError(f"{flag} and --objective-set {key} both given")
            options[key] = value
    if _is_auto(batch_noise):
        batch_noise = AUTO
    else:
        try:
            batch_noise = v.non_negative_float(batch_noise, "--batch-noise")
        except InputError:
            raise InputError(f"--batch-noise must be auto or a number >= 0, got "
                             f"{batch_noise!r}") from None
    select = None if select_every == "off" else _positive_text(select_every, "--select-every")
    if patience == "off":
        patience = None
    elif _is_auto(patience):
        patience = AUTO
    else:
        try:
            patience = v.positive_int(int(patience), "--patience")
        except (ValueError, InputError):
            raise InputError(f"--patience must be auto, off or a positive integer, got "
                             f"{patience!r}") from None
        check_patience(patience, select)
    for flag, value in (("--lr", lr), ("--lr-end", lr_end)):
        if value is not None:
            v.positive_float(value, flag)
    v.positive_int(batch_size, "--batch-size")
    denoise = _denoise_setting(denoise)
    v.seed(seed)
    return RunSpec(
        model=model,
        hyperparameters=hyper,
        objective=objective.lower() if objective else None,
        objective_options=options,
        epochs=v.auto_or_positive_int(epochs, "--epochs"),
        lr_start=lr,
        lr_end=lr_end,
        grad_clip=_grad_clip(grad_clip, AUTO),
        batch_size=batch_size,
        noise_std=batch_noise,
        seed=seed,
        select_every=select,
        select_by=check_selection_metric(select_by.lower(), flag="--select-by"),
        select_steps=v.auto_or_positive_int(select_steps, "--select-steps"),
        select_probes=_select_probes(select_probes),
        retries=v.non_negative_int(retries, "--retries"),
        patience=patience,
        time_parallel=time_parallel,
        denoise=denoise,
    )


def _select_probes(text: Any) -> int:
    """``--select-probes``: off (or 0) -> 0, else a positive number of probes."""
    if str(text).strip().lower() in ("off", "0"):
        return 0
    try:
        return v.positive_int(int(text), "--select-probes")
    except (ValueError, InputError):
        raise InputError(f"--select-probes must be off or a positive integer, got "
                         f"{text!r}") from None


def _denoise_setting(text: Any) -> int | str | None:
    """``--denoise``: off -> None, auto -> "auto", else an odd window >= 5."""
    from attractor.data.denoise import MIN_WINDOW, check_window
    from attractor.dsr.pipeline import AUTO

    if text is None or text == "off":
        return None
    if _is_auto(text):
        return AUTO
    try:
        return check_window(int(text))
    except (TypeError, ValueError, InputError):
        raise InputError(f"--denoise must be off, auto or an odd window >= {MIN_WINDOW}, got "
                         f"{text!r}") from None


def _prepared_data(system, data, test_data, dt, n_train, n_test, noise, seed, observe) -> Any:
    from attractor.dsr.data import file_data, system_data

    if (system is None) == (not data):
        raise InputError("give exactly one of --system NAME or --data FILE")
    if dt is not None:
        v.positive_float(dt, "--dt")
    if system is not None:
        from attractor.systems import get

        if test_data is not None:
            raise InputError("--test-data applies to --data only (--system makes its own)")
        for flag, value in (("--n-train", n_train), ("--n-test", n_test)):
            if value < MIN_TEST_ROWS:
                raise InputError(f"{flag} must be at least {MIN_TEST_ROWS}, got {value}")
        v.non_negative_float(noise, "--noise")
        dim = get(system).dim
        v.check_allocation(4 * (n_train + n_test) * dim, f"the {n_train + n_test} x {dim} data",
                           "--n-train/--n-test")
        return system_data(system, n_train=n_train, n_test=n_test, noise=noise, seed=seed, dt=dt,
                           observe=observe)
    if test_data is not None and any(_same_file(test_data, d) for d in data):
        raise InputError(f"--test-data {test_data} is also a --data file: the test set would "
                         "leak into training")
    return file_data(data, test=test_data, dt=dt if dt is not None else 1.0)


def _embedded(prepared: Any, text: str, m: int | None, tau: int | None) -> Any:
    """``prepared`` in the delay coordinates that ``--embed`` asks for (chosen on the training
    data)."""
    from attractor.data.embedding import choose_embedding
    from attractor.dsr.data import MIN_ROWS, embed_data

    try:
        embedding = choose_embedding(prepared.train, m=m, tau=tau, min_rows=MIN_ROWS,
                                     name="training data")
    except InputError as err:
        hint = "" if m is not None and tau is not None else "; set them with --embed M,TAU"
        raise InputError(f"--embed {text}: {err}{hint}") from None
    rows = sum(len(x) for x in prepared.train) + len(prepared.test)
    v.check_allocation(3 * rows * embedding.output_dim,
                       f"the embedded data ({rows} x {embedding.output_dim})", "--embed")
    try:
        return embed_data(prepared, embedding)
    except InputError as err:
        raise InputError(f"--embed {text}: {err}") from None


def announce_embedding(prepared: Any, as_json: bool) -> None:
    """Say which delay embedding was chosen (on stderr with ``--json``: stdout is the document)."""
    if prepared.embedding is not None:
        e = prepared.embedding
        typer.echo(f"delay embedding: {e.describe()}; the model sees {e.output_dim} columns",
                   err=as_json)


# ---------------------------------------------------------------------- small parsers
def _embed_setting(text: str | None) -> tuple[int | None, int | None] | None:
    """``--embed auto | M | M,TAU`` (either part may be ``auto``) as ``(m, tau)``, None = auto."""
    if text is None:
        return None
    parts = [p.strip().lower() for p in text.split(",")]
    if len(parts) > 2 or not all(parts):
        raise InputError(f"--embed must be auto, M or M,TAU, got {text!r}")
    values: list[int | None] = []
    for name, part in zip(("m", "tau"), parts, strict=False):
        if part == "auto":
            values.append(None)
            continue
        try:
            number = int(part)
        except ValueError:
            raise InputError(f"--embed must be auto, M or M,TAU, got {text!r}") from None
        if number < 1:
            raise InputError(f"--embed {text}: {name} must be a positive integer, got {number}")
        values.append(number)
    return values[0], values[1] if len(values) > 1 else None


def _observe_setting(text: str | None, system: str | None) -> list[int] | None:
    """``--observe 0,2`` as a list of coordinates of ``system``."""
    if text is None:
        return None
    if system is None:
        raise InputError("--observe applies to --system only (a --data file holds the "
                         "coordinates you measured)")
    from attractor.systems import get

    dim = get(system).dim
    try:
        columns = [int(p) for p in text.split(",")]
    except ValueError:
        raise InputError(f"--observe must be comma-separated coordinates, got {text!r}") from None
    if any(not 0 <= c < dim for c in columns) or len(set(columns)) != len(columns):
        raise InputError(f"--observe {text}: {system} has coordinates 0..{dim - 1}, each "
                         "given once")
    return columns


def _is_auto(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() == "auto"


def _positive_text(text: str, flag: str) -> int:
    try:
        return v.positive_int(int(text), flag)
    except ValueError:
        raise InputError(f"{flag} must be a positive integer or off, got {text!r}") from None


def _grad_clip(text: str, auto: str) -> float | None | str:
    if text == "auto":
        return auto
    if text == "off":
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"--grad-clip must be a positive number, off or auto, got {text!r}") \
            from None
    return v.positive_float(value, "--grad-clip")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


#: The parameter names of :func:`run_spec_and_data` (the options a command shares).
SHARED = frozenset(
    "system data test_data dt model settings latent hidden pwl bases observation objective "
    "objective_settings alpha tau seq_len epochs batch_noise grad_clip batch_size lr lr_end "
    "n_train n_test noise seed select_every select_by select_steps select_probes retries patience "
    "embed observe denoise".split()
)
