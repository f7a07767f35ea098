"""Load, validate and save time series as ``(T, D)`` float64 arrays.

Rows are time steps, columns are dimensions. Several files (or several arrays) are several
trajectories. Every problem with the input raises one :class:`~attractor.errors.InputError` whose
message starts with the file (or argument) name and says what is wrong and where, e.g.::

    run1.npy: NaN at row 17 (column 3)
    run1.csv: non-numeric value 'abc' at line 5, column 2

Conventions for positions in messages:

- arrays (``.npy``, ``.npz``, in-memory): ``row r (column c)`` are 0-based indices, so the bad
  value is ``x[r, c]``;
- text files (``.csv``, ``.tsv``, ``.txt``): ``line l, column c`` are 1-based, counted as a person
  counts lines and fields in the file (the header line and blank lines count as lines).

Text files: an optional header (the first non-blank line is a header when any of its fields is
a non-empty non-number, decimal-comma numbers counting as numbers); ``#`` comment lines and blank
lines are skipped; fields may be quoted (``"1.5"``); the delimiter is sniffed among tab,
semicolon, comma and whitespace.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np

from attractor.errors import InputError

PathLike = str | os.PathLike[str]

ARRAY_SUFFIXES = (".npy", ".npz")
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
SUPPORTED_SUFFIXES = ARRAY_SUFFIXES + TEXT_SUFFIXES

_SNIFF_LINES = 20
_DELIMITERS = ("\t", ";", ",")
_DELIMITER_NAMES = {"\t": "tab", ";": "semicolon", ",": "comma", None: "whitespace"}

# A locator turns a (row, column) index of the parsed array into words for a message.
Locator = Callable[[int, int], str]


def _array_locator(row: int, col: int) -> str:
    return f"row {row} (column {col})"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# --------------------------------------------------------------------------------------------
# validation of arrays
# --------------------------------------------------------------------------------------------


def _as_numeric(x: Any, name: str) -> np.ndarray:
    """Convert ``x`` to a float64 ndarray or raise an InputError saying why it cannot be."""
    try:
        arr = np.asarray(x)
    except ValueError as exc:  # numpy >= 1.24 refuses ragged nested sequences
        raise InputError(f"{name}: ragged rows (rows have different lengths)") from exc
    except TypeError as exc:
        raise InputError(f"{name}: cannot be read as an array ({exc})") from exc
    kind = arr.dtype.kind
    if arr.dtype.names is not None:
        fields = ", ".join(repr(f) for f in arr.dtype.names)
        raise InputError(
            f"{name}: structured array with fields {fields}; expected a plain (T, D) number array"
        )
    if kind == "c":
        raise InputError(f"{name}: complex values are not supported; split real and imaginary")
    if kind in "biuf":
        return np.array(arr, dtype=np.float64)
    if kind in "OUS":
        return _object_to_float(arr, name)
    raise InputError(f"{name}: non-numeric data (dtype {arr.dtype}); expected numbers")


def _object_to_float(arr: np.ndarray, name: str) -> np.ndarray:
    """Convert an object or string array element by element, naming the first bad element.

    Strings are accepted when ``float()`` reads them (numpy turns ``[[1, "a"]]`` into strings).
    """
    out = np.empty(arr.shape, dtype=np.float64)
    for index, value in np.ndenumerate(arr):
        if isinstance(value, np.str_ | np.bytes_):
            value = value.item()
        if isinstance(value, bool | int | float | np.integer | np.floating | np.bool_):
            out[index] = float(value)
            continue
        if isinstance(value, str | bytes) and _is_number(value):
            out[index] = float(value)
            continue
        if len(index) == 2:
            where = f"row {index[0]} (column {index[1]})"
        elif len(index) == 1:
            where = f"row {index[0]}"
        else:
            where = f"index {index}"
        raise InputError(f"{name}: non-numeric value {value!r} at {where}")
    return out


def _check_finite(x: np.ndarray, name: str, locate: Locator) -> None:
    """Raise an InputError at the first NaN or inf of the 2-D array ``x`` (row-major order)."""
    finite = np.isfinite(x)
    if finite.all():
        return
    bad = np.argwhere(~finite)
    row, col = (int(i) for i in bad[0])
    value = x[row, col]
    what = "NaN" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    extra = f"; {len(bad)} non-finite values in total" if len(bad) > 1 else ""
    raise InputError(f"{name}: {what} at {locate(row, col)}{extra}")


def _check_2d(
    x: np.ndarray,
    name: str,
    *,
    min_rows: int,
    dims: int | None,
    locate: Locator = _array_locator,
    unit: str = "row",
) -> np.ndarray:
    """Shape, size and finiteness checks of one ``(T, D)`` float64 array."""
    if x.shape[0] == 0:
        raise InputError(f"{name}: empty (no rows)")
    if x.shape[1] == 0:
        raise InputError(f"{name}: no columns")
    if x.shape[0] < min_rows:
        raise InputError(
            f"{name}: {_plural(x.shape[0], unit)}, need at least {_plural(min_rows, unit)}"
        )
    if dims is not None and x.shape[1] != dims:
        raise InputError(f"{name}: {_plural(x.shape[1], 'column')} (dimensions), expected {dims}")
    _check_finite(x, name, locate)
    return x


def _check_int(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InputError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


@overload
def validate_series(
    x: Any,
    *,
    name: str = ...,
    min_rows: int = ...,
    dims: int | None = ...,
    allow_batch: Literal[False] = ...,
) -> np.ndarray: ...


@overload
def validate_series(
    x: Any,
    *,
    name: str = ...,
    min_rows: int = ...,
    dims: int | None = ...,
    allow_batch: Literal[True],
) -> list[np.ndarray]: ...


def validate_series(
    x: Any,
    *,
    name: str = "array",
    min_rows: int = 2,
    dims: int | None = None,
    allow_batch: bool = False,
) -> np.ndarray | list[np.ndarray]:
    """Check an in-memory time series and return it as a fresh ``(T, D)`` float64 array.

    Args:
        x: array-like of numbers (numpy, JAX, nested lists). ``(T,)`` becomes ``(T, 1)``.
        name: how messages refer to ``x`` (an argument or file name).
        min_rows: the least number of time steps accepted.
        dims: the required number of columns (dimensions), or ``None`` for any.
        allow_batch: when True a 3-D ``(B, T, D)`` stack is accepted and the result is always a
            list of ``(T, D)`` arrays (one element for 1-D/2-D input), named ``name[i]`` in
            messages.

    Returns:
        A float64 copy of shape ``(T, D)``, or a list of them when ``allow_batch`` is True.

    Raises:
        InputError: ragged rows, non-numeric or complex values, NaN/inf (``row r (column c)``,
            0-based), too few rows, wrong number of columns, or the wrong number of axes.
    """
    min_rows = _check_int(min_rows, "min_rows", 1)
    arr = _as_numeric(x, name)
    if arr.ndim == 3 and allow_batch:
        if arr.shape[0] == 0:
            raise InputError(f"{name}: empty stack (0 trajectories)")
        return [
            _check_2d(arr[i].copy(), f"{name}[{i}]", min_rows=min_rows, dims=dims)
            for i in range(arr.shape[0])
        ]
    hint = "" if allow_batch else "; pass allow_batch=True to treat axis 0 as trajectories"
    series = _to_2d(arr, name, hint=hint if arr.ndim == 3 else "")
    checked = _check_2d(series, name, min_rows=min_rows, dims=dims)
    return [checked] if allow_batch else checked


def _to_2d(arr: np.ndarray, name: str, *, hint: str = "") -> np.ndarray:
    """``(T,)`` -> ``(T, 1)``; ``(T, D)`` unchanged; anything else is an InputError."""
    if arr.ndim == 1:
        return arr.reshape(-1, 1)
    if arr.ndim == 2:
        return arr
    if arr.ndim == 0:
        raise InputError(f"{name}: expected a (T, D) array, got a single number")
    raise InputError(
        f"{name}: expected a 2-D (T, D) array, got a {arr.ndim}-D array of shape {arr.shape}{hint}"
    )


# --------------------------------------------------------------------------------------------
# binary files
# --------------------------------------------------------------------------------------------


def _check_magic(path: Path, name: str, magic: bytes, what: str) -> None:
    """numpy reads a file without the right header as a pickle; say what it really is instead."""
    with path.open("rb") as fh:
        head = fh.read(len(magic))
    if head != magic:
        raise InputError(f"{name}: not a valid {what} (it does not start with the {what} header)")


def _read_npy(path: Path, name: str) -> np.ndarray:
    _check_magic(path, name, b"\x93NUMPY", ".npy file")
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise InputError(
                f"{name}: holds Python objects (pickled); only numeric arrays are supported"
            ) from None
        raise InputError(f"{name}: not a valid .npy file ({exc})") from exc
    except (OSError, EOFError) as exc:
        raise InputError(f"{name}: not a valid .npy file ({exc})") from exc


def _read_npz(path: Path, name: str, key: str | None) -> tuple[np.ndarray, str]:
    """Read one array of an ``.npz`` archive; return it and the name to use in messages."""
    _check_magic(path, name, b"PK", ".npz archive")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"{name}: not a valid .npz archive ({exc})") from exc
    with archive:
        keys = list(archive.files)
        listed = ", ".join(repr(k) for k in keys)
        if key is None:
            if not keys:
                raise InputError(f"{name}: the archive holds no arrays")
            if len(keys) > 1:
                raise InputError(
                    f"{name}: the archive holds several arrays ({listed}); pass key= to choose one"
                )
            key, label = keys[0], name
        else:
            if key not in keys:
                raise InputError(f"{name}: no array named {key!r} in the archive (keys: {listed})")
            label = f"{name}[{key}]"
        try:
            return archive[key], label
        except ValueError as exc:
            if "allow_pickle" in str(exc):
                raise InputError(
                    f"{label}: holds Python objects (pickled); only numeric arrays are supported"
                ) from None
            raise InputError(f"{label}: cannot be read ({exc})") from exc


# --------------------------------------------------------------------------------------------
# text files
# --------------------------------------------------------------------------------------------


def _is_number(text: str | bytes) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _unquote(cell: str) -> str:
    cell = cell.strip()
    if len(cell) >= 2 and cell[0] == cell[-1] and cell[0] in "\"'":
        return cell[1:-1].strip()
    return cell


def _is_name(cell: str) -> bool:
    """A header field: not empty and not a number (decimal-comma numbers count as numbers)."""
    return bool(cell) and not _is_number(cell) and not _is_number(cell.replace(",", ".", 1))


def _split(line: str, delimiter: str | None) -> list[str]:
    """Fields of one line; surrounding quotes (``"1.5"``) are removed."""
    cells = line.split() if delimiter is None else line.split(delimiter)
    return [_unquote(cell) for cell in cells]


def _sniff_delimiter(lines: Sequence[tuple[int, str]]) -> str | None:
    """Pick tab, semicolon or comma if it occurs the same number of times on every sampled line;
    else the first of them that occurs on every sampled line; else whitespace (``None``)."""
    sample = [line for _, line in lines[:_SNIFF_LINES]]
    for delimiter in _DELIMITERS:
        counts = {line.count(delimiter) for line in sample}
        if len(counts) == 1 and counts.pop() > 0:
            return delimiter
    for delimiter in _DELIMITERS:
        if all(delimiter in line for line in sample):
            return delimiter
    return None


def _text_lines(path: Path, name: str) -> list[tuple[int, str]]:
    """Non-blank, non-comment lines with their 1-based line numbers."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: not a UTF-8 text file (undecodable byte at offset {exc.start})"
        ) from None
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            out.append((number, stripped))
    return out


def _parse_cell(
    cell: str, name: str, line: int, col: int, delimiter: str | None, *, last: bool = False
) -> float:
    try:
        return float(cell)
    except ValueError:
        pass
    where = f"line {line}, column {col}"
    if cell == "":
        trailing = " (trailing delimiter?)" if last else ""
        raise InputError(f"{name}: empty value at {where}{trailing}")
    hint = ""
    if "," in cell and delimiter != "," and _is_number(cell.replace(",", ".", 1)):
        hint = " (decimal comma? write numbers with a decimal point)"
    raise InputError(f"{name}: non-numeric value {cell!r} at {where}{hint}")


def _parse_rows(
    rows: Sequence[tuple[int, str]], name: str, delimiter: str | None, width: int, ref: str
) -> np.ndarray:
    """Exact, cell-by-cell parser used to produce precise messages (and as a fallback)."""
    out = np.empty((len(rows), width), dtype=np.float64)
    for r, (number, line) in enumerate(rows):
        cells = _split(line, delimiter)
        if len(cells) != width:
            raise InputError(
                f"{name}: ragged rows: line {number} has {_plural(len(cells), 'value')}, "
                f"expected {width} ({ref})"
            )
        for c, cell in enumerate(cells):
            out[r, c] = _parse_cell(cell, name, number, c + 1, delimiter, last=c == width - 1)
    return out


def _fast_parse(rows: Sequence[tuple[int, str]], delimiter: str | None, width: int) -> np.ndarray:
    """numpy's C parser; any failure returns an empty array so the exact parser takes over."""
    try:
        data = np.loadtxt(
            [line for _, line in rows],
            delimiter=delimiter,
            dtype=np.float64,
            ndmin=2,
            comments=None,
            quotechar='"',
        )
    except (ValueError, TypeError):
        return np.empty((0, 0))
    return data if data.shape == (len(rows), width) else np.empty((0, 0))


def _read_text(path: Path, name: str) -> tuple[np.ndarray, list[str], list[tuple[int, str]]]:
    """Parse a text table; also return the data lines (with numbers) that became rows."""
    lines = _text_lines(path, name)
    if not lines:
        raise InputError(f"{name}: empty file (no data rows)")
    delimiter = _sniff_delimiter(lines)
    first_number, first_line = lines[0]
    first_cells = _split(first_line, delimiter)
    header: list[str] = []
    rows = lines
    if any(_is_name(cell) for cell in first_cells):
        header, rows = first_cells, lines[1:]
        if "" in header:
            col = header.index("") + 1
            raise InputError(
                f"{name}: empty column name at line {first_number}, column {col} (a row index "
                "written by pandas? save with index=False or drop that column)"
            )
        if not rows:
            raise InputError(f"{name}: no data rows (only a header at line {first_number})")
        ref = f"as in the header at line {first_number}"
    else:
        ref = f"as on line {first_number}"
    width = len(first_cells)
    data = _fast_parse(rows, delimiter, width)
    if data.shape[0] == 0:
        data = _parse_rows(rows, name, delimiter, width, ref)
    return data, header, rows


def read_text_table(path: PathLike, *, name: str | None = None) -> tuple[np.ndarray, list[str]]:
    """Parse a delimited text file into a ``(T, D)`` float64 array and its column names.

    Values are not checked for NaN/inf or size here; :func:`load_series` does that. Column names
    are the header fields, or ``[]`` when the file has no header.

    Raises:
        InputError: empty file, header without data, ragged rows, empty or non-numeric values
            (``line l, column c``, 1-based).
    """
    p, name_, _ = _checked_path(path)
    data, header, _ = _read_text(p, name_ if name is None else name)
    return data, header


def _text_locator(rows: Sequence[tuple[int, str]]) -> Locator:
    def locate(row: int, col: int) -> str:
        return f"line {rows[row][0]}, column {col + 1}"

    return locate


# --------------------------------------------------------------------------------------------
# public loaders
# --------------------------------------------------------------------------------------------


def _checked_path(path: PathLike) -> tuple[Path, str, str]:
    if not isinstance(path, str | os.PathLike):
        raise InputError(f"expected a file path, got {type(path).__name__}")
    p = Path(path)
    name = str(path)
    if not p.exists():
        raise InputError(f"{name}: no such file")
    if p.is_dir():
        raise InputError(f"{name}: is a directory, expected a file")
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = repr(suffix) if suffix else "no extension"
        raise InputError(
            f"{name}: unsupported file type ({shown}); expected one of "
            + ", ".join(SUPPORTED_SUFFIXES)
        )
    return p, name, suffix


def load_series(
    path: PathLike, *, min_rows: int = 2, dims: int | None = None, key: str | None = None
) -> np.ndarray:
    """Load one time series file as a ``(T, D)`` float64 array (rows = time, columns = dims).

    Args:
        path: ``.npy``, ``.npz``, ``.csv``, ``.tsv`` or ``.txt`` file. A 1-D array is one column.
        min_rows: the least number of time steps (data rows) accepted.
        dims: the required number of columns, or ``None`` for any.
        key: the array to read from an ``.npz`` archive; needed when it holds several.

    Raises:
        InputError: naming the file and the problem: missing file, unsupported extension, empty
            file, ragged rows, non-numeric value, NaN/inf, too few rows, wrong number of columns
            or of axes, several arrays in an ``.npz`` without ``key``.
    """
    min_rows = _check_int(min_rows, "min_rows", 1)
    p, name, suffix = _checked_path(path)
    if key is not None and suffix != ".npz":
        raise InputError(f"{name}: key= only applies to .npz archives")
    try:
        if suffix in TEXT_SUFFIXES:
            table, _, data_rows = _read_text(p, name)
            return _check_2d(
                table,
                name,
                min_rows=min_rows,
                dims=dims,
                locate=_text_locator(data_rows),
                unit="data row",
            )
        if suffix == ".npy":
            raw, label = _read_npy(p, name), name
        else:
            raw, label = _read_npz(p, name, key)
    except PermissionError:
        raise InputError(f"{name}: permission denied") from None
    arr = _as_numeric(raw, label)
    return _check_2d(_to_2d(arr, label), label, min_rows=min_rows, dims=dims)


def load_many(
    paths: PathLike | Sequence[PathLike], *, min_rows: int = 2, dims: int | None = None
) -> list[np.ndarray]:
    """Load several files as several trajectories; all must have the same number of columns.

    Raises:
        InputError: no paths, any :func:`load_series` problem, or two files whose numbers of
            columns differ (the message names both).
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    paths = list(paths)
    if not paths:
        raise InputError("no files given")
    out: list[np.ndarray] = []
    for path in paths:
        x = load_series(path, min_rows=min_rows, dims=dims)
        if out and x.shape[1] != out[0].shape[1]:
            raise InputError(
                f"{path}: {_plural(x.shape[1], 'column')} but {paths[0]} has "
                f"{out[0].shape[1]}; every series must have the same number of dimensions"
            )
        out.append(x)
    return out


def save_series(path: PathLike, x: Any, *, columns: Sequence[str] | None = None) -> Path:
    """Save one ``(T, D)`` series as ``.npy`` (exact) or ``.csv`` (``%.17g``, round-trips float64).

    Args:
        path: target file; its extension (``.npy`` or ``.csv``) picks the format.
        x: the series, validated like :func:`validate_series` (at least one row, all finite).
        columns: optional CSV header names, one per column (ignored for ``.npy``).

    Returns:
        The path written.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".npy", ".csv"):
        raise InputError(f"{path}: cannot save as {suffix or 'no extension'!r}; use .npy or .csv")
    data = validate_series(x, name=str(path), min_rows=1)
    header = ""
    if columns is not None:
        columns = [str(c) for c in columns]
        if len(columns) != data.shape[1]:
            raise InputError(f"{path}: {len(columns)} column names for {data.shape[1]} columns")
        bad = [c for c in columns if not _is_name(c) or any(ch in c for ch in ",\n#\"'")]
        if bad:
            raise InputError(
                f"{path}: column name {bad[0]!r} cannot be read back (empty, a number, or has "
                "one of , # \" ' or a newline)"
            )
        header = ",".join(columns)
    try:
        if suffix == ".npy":
            np.save(p, data, allow_pickle=False)
        else:
            np.savetxt(p, data, delimiter=",", fmt="%.17g", header=header, comments="")
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return p


__all__ = [
    "SUPPORTED_SUFFIXES",
    "load_many",
    "load_series",
    "read_text_table",
    "save_series",
    "validate_series",
]
