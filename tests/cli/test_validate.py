"""CLI argument validators: properties over generated values, and the memory guard."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attractor.cli import validate as v
from attractor.errors import InputError

FLAG = "--thing"
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)


def refused(fn, *args, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    assert FLAG in message  # every message names the flag
    return message


@given(anything)
def test_positive_int_accepts_exactly_the_positive_integers(value) -> None:
    is_positive_int = (isinstance(value, int) and not isinstance(value, bool) and value >= 1) or (
        isinstance(value, str) and value.strip().lstrip("+").isdigit() and int(value) >= 1
    )
    if is_positive_int:
        assert v.positive_int(value, FLAG) == int(value)
    else:
        refused(v.positive_int, value, FLAG)


@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=10**6))
def test_positive_int_maximum(n, maximum) -> None:
    if n <= maximum:
        assert v.positive_int(n, FLAG, maximum=maximum) == n
    else:
        assert "at most" in refused(v.positive_int, n, FLAG, maximum=maximum)


@given(anything)
def test_float_validators_refuse_non_finite_and_non_numbers(value) -> None:
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    finite = number is not None and math.isfinite(number)
    for fn, ok in (
        (v.finite_float, finite),
        (v.positive_float, finite and number > 0),
        (v.non_negative_float, finite and number >= 0),
        (v.probability, finite and 0 <= number <= 1),
    ):
        if ok:
            assert fn(value, FLAG) == number
        else:
            refused(fn, value, FLAG)


def test_non_negative_float_normalises_negative_zero() -> None:
    assert math.copysign(1.0, v.non_negative_float(-0.0, FLAG)) == 1.0


@given(st.one_of(st.integers(), st.sampled_from(["auto", "AUTO", " auto ", "0", "-3", "x", ""])))
def test_auto_or_positive_int_never_maps_zero_to_default(value) -> None:
    if isinstance(value, str) and value.strip().lower() == "auto":
        assert v.auto_or_positive_int(value, FLAG) is None
    elif isinstance(value, int) and value >= 1:
        assert v.auto_or_positive_int(value, FLAG) == value
    else:
        assert "'auto' or a positive integer" in refused(v.auto_or_positive_int, value, FLAG)
    assert v.auto_or_positive_int(None, FLAG) is None  # option not given


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=6))
def test_float_vector_round_trips(values) -> None:
    text = ",".join(repr(x) for x in values)
    assert v.float_vector(text, FLAG, length=len(values)) == values
    assert "needs" in refused(v.float_vector, text, FLAG, length=len(values) + 1)


@pytest.mark.parametrize(
    "text, words",
    [
        ("1,nan,3", "finite"),
        ("1,inf,3", "finite"),
        ("1,-Infinity", "finite"),
        ("1,,3", "not a number"),
        ("1;2;3", "not a number"),
        ("", "comma-separated"),
        ("0x1,2,3", "not a number"),
    ],
)
def test_float_vector_refusals(text, words) -> None:
    assert words in refused(v.float_vector, text, FLAG)


def test_seed_range() -> None:
    assert v.seed(0) == 0 and v.seed(2**32 - 1) == 2**32 - 1
    for bad in (-1, 2**32, 2**64):
        with pytest.raises(InputError, match="--seed"):
            v.seed(bad)


@pytest.mark.parametrize(
    "text, expected",
    [("1000", 1000), ("4G", 4 * 1024**3), ("512m", 512 * 1024**2), ("1.5GiB", int(1.5 * 1024**3))],
)
def test_parse_size(text, expected) -> None:
    assert v.parse_size(text) == expected


def test_check_allocation_uses_the_configured_limit(monkeypatch) -> None:
    monkeypatch.setenv(v.MAX_MEMORY_ENV, "1G")
    assert v.memory_limit() <= 1024**3
    v.check_allocation(1024**3 // 8, "x", FLAG)  # exactly at the limit: fine
    message = refused(v.check_allocation, 10**10, "the trajectory (10 x 10^9)", FLAG)
    assert "74.5 GiB" in message and "the trajectory" in message and v.MAX_MEMORY_ENV in message
    monkeypatch.setenv(v.MAX_MEMORY_ENV, "lots")
    with pytest.raises(InputError, match=v.MAX_MEMORY_ENV):
        v.check_allocation(1, "x", FLAG)


def test_check_allocation_without_configuration_uses_available_memory(monkeypatch) -> None:
    monkeypatch.delenv(v.MAX_MEMORY_ENV, raising=False)
    available = v.available_memory()
    assert available is not None and available > 0
    v.check_allocation(1000, "x", FLAG)
    assert "half the available memory" in refused(v.check_allocation, available, "x", FLAG)
