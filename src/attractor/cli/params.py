"""Typed ``KEY=VALUE`` settings for the CLI: model hyperparameters and objective options.

``--set hidden_dim=100`` is converted with the type the model's config declares for the field
(``int``, ``float``, ``bool``, ``str``, optionally ``none``), so a model's flags come from its
config and adding a model needs no CLI change. Objective options (``--objective-set alpha=0.2``)
are parsed as literals (int, float, true/false, none, else a string) and checked by the objective.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Iterable
from typing import Any

from attractor.errors import InputError


def split_assignment(text: str, flag: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise InputError(f"{flag}: expected KEY=VALUE, got {text!r}")
    return key.strip(), value.strip()


def parse_model_settings(pairs: Iterable[str], config_cls: type, flag: str = "--set") -> dict:
    """``KEY=VALUE`` strings -> hyperparameters typed by ``config_cls``'s field annotations."""
    hints = typing.get_type_hints(config_cls)
    fields = {f.name for f in dataclasses.fields(config_cls)} - {"obs_dim"}
    out: dict[str, Any] = {}
    for text in pairs:
        key, raw = split_assignment(text, flag)
        if key not in fields:
            raise InputError(
                f"{flag} {key}: model {config_cls.name!r} has no such hyperparameter; "
                f"known: {', '.join(sorted(fields))}"
            )
        if key in out:
            raise InputError(f"{flag} {key} given twice")
        out[key] = convert(raw, hints.get(key, str), f"{flag} {key}")
    return out


def convert(raw: str, hint: Any, what: str) -> Any:
    """``raw`` converted to the annotation ``hint`` (a type or an ``X | None`` union)."""
    kinds = typing.get_args(hint) or (hint,)
    if type(None) in kinds and raw.lower() == "none":
        return None
    for kind in kinds:
        if kind is bool:
            if raw.lower() in ("true", "1", "yes", "on"):
                return True
            if raw.lower() in ("false", "0", "no", "off"):
                return False
        elif kind is int:
            try:
                return int(raw)
            except ValueError:
                pass
        elif kind is float:
            try:
                value = float(raw)
            except ValueError:
                continue
            if math.isfinite(value):
                return value
        elif kind is str:
            return raw
    names = " or ".join(getattr(k, "__name__", str(k)).replace("NoneType", "none") for k in kinds)
    raise InputError(f"{what}: expected {names}, got {raw!r}")


def parse_literal(raw: str) -> Any:
    """An objective option's value: int, float, bool, none, or the string itself."""
    low = raw.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "none":
        return None
    for kind in (int, float):
        try:
            value = kind(raw)
        except ValueError:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(f"option value must be finite, got {raw!r}")
        return value
    return raw


def parse_objective_settings(pairs: Iterable[str], flag: str = "--objective-set") -> dict:
    out: dict[str, Any] = {}
    for text in pairs:
        key, raw = split_assignment(text, flag)
        if key in out:
            raise InputError(f"{flag} {key} given twice")
        out[key] = parse_literal(raw)
    return out
