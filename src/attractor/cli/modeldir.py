"""Check a model directory before loading it: commands that read one (``eval``, ``simulate``)
turn a corrupted or hostile directory into one clear :class:`InputError`.

What is checked, before any array is allocated:

- the directory, ``config.json`` and the weights file exist;
- ``config.json`` is strict JSON (no ``NaN`` / ``Infinity``), an object with a ``model`` object,
  of a sane size, and builds a model config (the model's own validation);
- the parameter count implied by the config, found by tracing the model's constructor
  abstractly (``equinox.filter_eval_shape``: nothing is allocated), fits in memory
  (:func:`attractor.cli.validate.check_allocation`) — a ``latent_dim`` of ``1e9`` is refused
  with the estimate instead of exhausting memory;
- the weights file is at least as large as those parameters (a truncated file, or weights of
  another model, are refused by name);
- anything the loader itself then raises (a pickle or other foreign file as weights) becomes an
  InputError naming the weights file. Loading never unpickles.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from attractor.cli.validate import check_allocation
from attractor.errors import AttractorError, InputError

T = TypeVar("T")

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.eqx"
#: A model's config.json is a few kB; anything this large is not one.
MAX_CONFIG_BYTES = 16 * 1024**2


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def read_config(directory: str | Path) -> dict[str, Any]:
    """The parsed ``config.json`` of a model directory, checked for shape (not yet for sizes)."""
    path = Path(directory)
    if not path.exists():
        raise InputError(f"{path}: not a model directory (it does not exist)")
    if not path.is_dir():
        raise InputError(f"{path}: not a model directory (a file, not a directory)")
    config_path = path / CONFIG_FILE
    if not config_path.is_file():
        raise InputError(f"{path}: not a model directory (no {CONFIG_FILE})")
    if not (path / WEIGHTS_FILE).is_file():
        raise InputError(f"{path}: {WEIGHTS_FILE} is missing")
    if config_path.stat().st_size > MAX_CONFIG_BYTES:
        raise InputError(f"{config_path}: too large for a model config")
    try:
        payload = json.loads(
            config_path.read_text(encoding="utf-8"), parse_constant=_refuse_constant
        )
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        raise InputError(f"{config_path}: unreadable model config ({_short(err)})") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("model"), dict):
        raise InputError(f'{config_path}: unreadable model config (no "model" object)')
    metadata = payload.get("metadata", {})
    if not isinstance(metadata, dict):
        raise InputError(f'{config_path}: "metadata" must be an object')
    return payload


def _short(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= 200 else text[:197] + "..."


def _check_metadata(config_path: Path, metadata: dict[str, Any], obs_dim: int) -> None:
    from attractor.data.standardize import Standardizer

    if "standardizer" not in metadata:
        raise InputError(
            f'{config_path}: no data standardisation in "metadata" (not written by '
            "`attractor train` or DSR.save)"
        )
    try:
        std = Standardizer.from_dict(metadata["standardizer"])
    except InputError as err:
        raise InputError(f"{config_path}: {err}") from None
    if std.dim != obs_dim:
        raise InputError(
            f"{config_path}: the standardisation has {std.dim} columns, the model {obs_dim}"
        )
    embedding = read_embedding(metadata, config_path)
    if embedding is not None and embedding.output_dim != obs_dim:
        raise InputError(f"{config_path}: the delay embedding gives {embedding.output_dim} "
                         f"columns, the model has {obs_dim}")
    x0 = metadata.get("x0")
    if x0 is not None:
        ok = isinstance(x0, list) and len(x0) == obs_dim
        ok = ok and all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in x0
        )
        if not ok:
            raise InputError(f'{config_path}: "x0" must be a list of {obs_dim} finite numbers')


def read_embedding(metadata: dict[str, Any], config_path: str | Path) -> Any:
    """The run's :class:`~attractor.data.embedding.DelayEmbedding`, or None if it has none."""
    if "embedding" not in metadata:
        return None
    from attractor.data.embedding import DelayEmbedding

    try:
        return DelayEmbedding.from_dict(metadata["embedding"])
    except InputError as err:
        raise InputError(f"{config_path}: {err}") from None


def check_model_dir(directory: str | Path) -> dict[str, Any]:
    """Validate a model directory without loading its weights; returns the parsed config.

    Besides the model itself, the metadata that ``eval`` and ``simulate`` use (the data
    standardisation, the delay embedding if any, the default start point ``x0``) must be present
    and consistent.

    Raises:
        InputError: naming the directory or file and what is wrong (see the module docstring).
    """
    path = Path(directory)
    payload = read_config(path)
    config_path = path / CONFIG_FILE
    metadata = payload.get("metadata", {})
    obs_dim = payload["model"].get("obs_dim")
    metadata_checked = isinstance(obs_dim, int) and not isinstance(obs_dim, bool) and obs_dim > 0
    if metadata_checked:  # JSON only: before the model code (and JAX) is imported
        _check_metadata(config_path, metadata, obs_dim)
    import equinox as eqx
    import jax

    from attractor.models.registry import build_model, config_from_dict

    try:
        config = config_from_dict(payload["model"])
    except AttractorError as err:
        raise InputError(f"{config_path}: {err}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise InputError(f"{config_path}: invalid model config ({_short(err)})") from None
    try:
        shapes = eqx.filter_eval_shape(lambda: build_model(config, key=jax.random.PRNGKey(0)))
    except AttractorError as err:
        raise InputError(f"{config_path}: {err}") from None
    except Exception as err:
        raise InputError(f"{config_path}: invalid model config ({_short(err)})") from None
    leaves = [leaf for leaf in jax.tree_util.tree_leaves(shapes) if hasattr(leaf, "shape")]
    n_bytes = sum(int(leaf.size) * leaf.dtype.itemsize for leaf in leaves)
    sizes = ", ".join(
        f"{k}={v}"
        for k, v in payload["model"].items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    )
    check_allocation(n_bytes, f"the model's parameters ({sizes})", str(config_path), itemsize=1)
    weights = path / WEIGHTS_FILE
    have = weights.stat().st_size
    if have < n_bytes:
        raise InputError(
            f"{weights}: {have} bytes, but the model in {CONFIG_FILE} has {n_bytes} bytes of "
            "parameters: the file is truncated or belongs to another model"
        )
    if not metadata_checked:
        _check_metadata(config_path, metadata, int(config.obs_dim))
    return payload


def state_width(spec: dict[str, Any]) -> int:
    """An upper bound on a model's per-step state size for memory estimates: the largest
    positive integer hyperparameter of its config (``latent_dim``, ``hidden_dim``, a reservoir
    size, ...), at least ``obs_dim``. Models differ in what they call their state; this needs no
    knowledge of them."""
    sizes = [v for v in spec.values() if isinstance(v, int) and not isinstance(v, bool) and v > 0]
    return max(sizes, default=1)


def load_checked(directory: str | Path, loader: Callable[[Path], T], *, precheck: bool = True) -> T:
    """:func:`check_model_dir` (unless ``precheck=False``: the caller did it), then
    ``loader(directory)``; a failure of the loader that is not an AttractorError is reported as
    an InputError naming the weights file."""
    path = Path(directory)
    if precheck:
        check_model_dir(path)
    try:
        return loader(path)
    except AttractorError:
        raise
    except Exception as err:
        raise InputError(
            f"{path / WEIGHTS_FILE}: cannot read the weights ({type(err).__name__}: "
            f"{_short(err)}); the file is damaged or was not written for this {CONFIG_FILE}"
        ) from None


__all__ = ["check_model_dir", "load_checked", "read_config", "read_embedding", "state_width"]
