"""Loading, validating and saving time series: values, shapes and every error message."""

from __future__ import annotations

import numpy as np
import pytest

from attractor.data import (
    TimeSeriesDataset,
    load_many,
    load_series,
    read_text_table,
    save_series,
    validate_series,
)
from attractor.errors import InputError


def _write(path, text: str):
    path.write_text(text)
    return path


def _raises(fn, *args, match_exact: str | None = None, contains: tuple[str, ...] = (), **kwargs):
    with pytest.raises(InputError) as info:
        fn(*args, **kwargs)
    msg = str(info.value)
    if match_exact is not None:
        assert msg == match_exact
    for part in contains:
        assert part in msg, f"{part!r} not in {msg!r}"
    return msg


# ------------------------------------------------------------------------------------ happy paths


def test_npy_round_trip_is_exact_float64(tmp_path):
    x = np.random.default_rng(0).normal(size=(50, 3))
    path = save_series(tmp_path / "run.npy", x)
    y = load_series(path)
    assert y.dtype == np.float64 and y.shape == (50, 3)
    np.testing.assert_array_equal(y, x)


def test_csv_round_trip_is_exact_and_keeps_header(tmp_path):
    x = np.random.default_rng(1).normal(size=(20, 2)) * 1e3
    path = save_series(tmp_path / "run.csv", x, columns=["u", "v"])
    assert path.read_text().splitlines()[0] == "u,v"
    np.testing.assert_array_equal(load_series(path), x)
    data, header = read_text_table(path)
    assert header == ["u", "v"]
    np.testing.assert_array_equal(data, x)


def test_one_dimensional_and_integer_arrays_become_float_columns(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(5))
    y = load_series(tmp_path / "a.npy")
    assert y.shape == (5, 1) and y.dtype == np.float64
    np.testing.assert_array_equal(y[:, 0], [0, 1, 2, 3, 4])


@pytest.mark.parametrize(
    "text",
    [
        "1,2,3\n4,5,6\n",
        "1;2;3\n4;5;6\n",
        "1\t2\t3\n4\t5\t6\n",
        "1 2 3\n4   5 6\n",
        "x,y,z\n1, 2 ,3\n4,5,6\n",
        "time;a;b\n1;2;3\n4;5;6\n",
        "# comment\n\nx y z\n1 2 3\n\n4 5 6\n",
        "\ufeffa,b,c\r\n1,2,3\r\n4,5,6\r\n",
    ],
)
def test_csv_delimiters_headers_comments(tmp_path, text):
    y = load_series(_write(tmp_path / "d.csv", text))
    np.testing.assert_array_equal(y, [[1, 2, 3], [4, 5, 6]])


def test_single_column_csv_and_txt_tsv(tmp_path):
    np.testing.assert_array_equal(
        load_series(_write(tmp_path / "a.csv", "v\n1\n2\n3\n")), [[1], [2], [3]]
    )
    np.testing.assert_array_equal(
        load_series(_write(tmp_path / "a.txt", "1 2\n3 4\n")), [[1, 2], [3, 4]]
    )
    np.testing.assert_array_equal(
        load_series(_write(tmp_path / "a.tsv", "1\t2\n3\t4\n")), [[1, 2], [3, 4]]
    )


def test_npz_single_array_and_key(tmp_path):
    np.savez(tmp_path / "one.npz", data=np.ones((4, 2)))
    np.testing.assert_array_equal(load_series(tmp_path / "one.npz"), np.ones((4, 2)))
    np.savez(tmp_path / "two.npz", a=np.ones((4, 2)), b=np.zeros((3, 2)))
    np.testing.assert_array_equal(load_series(tmp_path / "two.npz", key="b"), np.zeros((3, 2)))


def test_load_many_returns_one_array_per_file(tmp_path):
    np.save(tmp_path / "a.npy", np.ones((5, 2)))
    _write(tmp_path / "b.csv", "1,2\n3,4\n5,6\n")
    xs = load_many([tmp_path / "a.npy", tmp_path / "b.csv"])
    assert [x.shape for x in xs] == [(5, 2), (3, 2)]


def test_validate_series_copies_and_reshapes():
    x = np.arange(6.0)
    y = validate_series(x)
    assert y.shape == (6, 1)
    y[0, 0] = 100.0
    assert x[0] == 0.0  # never aliases the input
    stack = validate_series(np.zeros((3, 4, 2)), allow_batch=True)
    assert isinstance(stack, list) and len(stack) == 3 and stack[0].shape == (4, 2)
    assert [a.shape for a in validate_series([[1.0, 2.0], [3.0, 4.0]], allow_batch=True)] == [
        (2, 2)
    ]


# ------------------------------------------------------------------------------------ array errors


def test_nan_in_npy_names_file_row_and_column(tmp_path):
    x = np.zeros((30, 5))
    x[17, 3] = np.nan
    np.save(tmp_path / "file.npy", x)
    path = tmp_path / "file.npy"
    _raises(load_series, path, match_exact=f"{path}: NaN at row 17 (column 3)")


def test_inf_reports_sign_first_position_and_count(tmp_path):
    x = np.zeros((10, 2))
    x[2, 0] = -np.inf
    x[7, 1] = np.inf
    np.save(tmp_path / "f.npy", x)
    _raises(
        load_series,
        tmp_path / "f.npy",
        contains=("f.npy: -inf at row 2 (column 0)", "2 non-finite values in total"),
    )


def test_three_d_npy_is_rejected(tmp_path):
    np.save(tmp_path / "cube.npy", np.zeros((2, 5, 3)))
    msg = _raises(
        load_series,
        tmp_path / "cube.npy",
        contains=("cube.npy: expected a 2-D (T, D) array, got a 3-D array of shape (2, 5, 3)",),
    )
    assert "allow_batch" not in msg  # that hint is for in-memory arrays only


def test_too_few_rows_and_wrong_dims(tmp_path):
    np.save(tmp_path / "short.npy", np.zeros((1, 3)))
    _raises(
        load_series, tmp_path / "short.npy", contains=("short.npy: 1 row, need at least 2 rows",)
    )
    np.save(tmp_path / "wide.npy", np.zeros((5, 2)))
    _raises(
        load_series,
        tmp_path / "wide.npy",
        dims=3,
        contains=("wide.npy: 2 columns (dimensions), expected 3",),
    )
    np.save(tmp_path / "empty.npy", np.zeros((0, 3)))
    _raises(load_series, tmp_path / "empty.npy", contains=("empty.npy: empty (no rows)",))


def test_npz_several_arrays_without_key_lists_keys(tmp_path):
    np.savez(tmp_path / "two.npz", a=np.ones((4, 2)), b=np.zeros((3, 2)))
    path = tmp_path / "two.npz"
    _raises(
        load_series,
        path,
        contains=(f"{path}: the archive holds several arrays", "'a', 'b'", "key="),
    )
    _raises(load_series, path, key="c", contains=("no array named 'c'", "(keys: 'a', 'b')"))
    bad = np.ones((4, 2))
    bad[1, 1] = np.nan
    np.savez(tmp_path / "nan.npz", a=np.ones((4, 2)), b=bad)
    _raises(
        load_series,
        tmp_path / "nan.npz",
        key="b",
        contains=("nan.npz[b]: NaN at row 1 (column 1)",),
    )
    np.savez(tmp_path / "none.npz")
    _raises(load_series, tmp_path / "none.npz", contains=("the archive holds no arrays",))


def test_pickled_and_corrupt_binary_files(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    _raises(load_series, tmp_path / "obj.npy", contains=("obj.npy: holds Python objects",))
    _write(tmp_path / "fake.npy", "not an array")
    _raises(load_series, tmp_path / "fake.npy", contains=("fake.npy: not a valid .npy file",))
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x81garbage")
    _raises(load_series, tmp_path / "bin.csv", contains=("bin.csv: not a UTF-8 text file",))


def test_path_errors(tmp_path):
    _raises(
        load_series,
        tmp_path / "missing.npy",
        match_exact=f"{tmp_path / 'missing.npy'}: no such file",
    )
    _raises(load_series, tmp_path, contains=("is a directory",))
    _write(tmp_path / "data.xlsx", "x")
    _raises(
        load_series,
        tmp_path / "data.xlsx",
        contains=("data.xlsx: unsupported file type ('.xlsx')",),
    )
    _write(tmp_path / "a.csv", "1,2\n3,4\n")
    _raises(load_series, tmp_path / "a.csv", key="x", contains=("key= only applies to .npz",))
    _raises(load_series, 42, contains=("expected a file path",))


# ------------------------------------------------------------------------------------ text errors


def test_non_numeric_cell_counts_lines_like_a_person(tmp_path):
    # header on line 1, a comment on line 3 and a blank line 4: line numbers are file lines
    text = "a,b\n1,2\n# note\n\n3,abc\n5,6\n"
    path = _write(tmp_path / "file.csv", text)
    _raises(load_series, path, match_exact=f"{path}: non-numeric value 'abc' at line 5, column 2")


def test_nan_in_csv_reports_file_line_and_column(tmp_path):
    path = _write(tmp_path / "n.csv", "x,y,z\n1,2,3\n4,5,nan\n")
    _raises(load_series, path, match_exact=f"{path}: NaN at line 3, column 3")
    path = _write(tmp_path / "i.csv", "1 2\n3 -inf\n")
    _raises(load_series, path, match_exact=f"{path}: -inf at line 2, column 2")


def test_ragged_rows(tmp_path):
    path = _write(tmp_path / "r.csv", "1,2,3\n4,5,6\n7,8\n")
    _raises(
        load_series,
        path,
        match_exact=f"{path}: ragged rows: line 3 has 2 values, expected 3 (as on line 1)",
    )
    path = _write(tmp_path / "h.csv", "a,b,c\n1,2\n")
    _raises(
        load_series,
        path,
        contains=("line 2 has 2 values, expected 3 (as in the header at line 1)",),
    )


def test_empty_values_empty_files_and_header_only(tmp_path):
    _raises(
        load_series,
        _write(tmp_path / "e.csv", "1,2,3\n4,,6\n"),
        contains=("e.csv: empty value at line 2, column 2",),
    )
    _raises(load_series, _write(tmp_path / "z.csv", ""), contains=("z.csv: empty file",))
    _raises(load_series, _write(tmp_path / "c.csv", "# only\n\n"), contains=("c.csv: empty file",))
    _raises(
        load_series,
        _write(tmp_path / "h.csv", "x,y\n"),
        contains=("h.csv: no data rows (only a header at line 1)",),
    )


def test_too_few_data_rows_in_csv(tmp_path):
    path = _write(tmp_path / "s.csv", "x\n1\n2\n3\n")
    _raises(
        load_series, path, min_rows=10, contains=("s.csv: 3 data rows, need at least 10 data rows",)
    )


def test_decimal_comma_gets_a_hint(tmp_path):
    path = _write(tmp_path / "eu.csv", "1,5;2,5\n3,5;4,5\n")
    _raises(
        load_series, path, contains=("non-numeric value '1,5' at line 1, column 1", "decimal comma")
    )


def test_load_many_names_both_files_on_dimension_mismatch(tmp_path):
    np.save(tmp_path / "a.npy", np.ones((5, 3)))
    np.save(tmp_path / "b.npy", np.ones((5, 2)))
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    _raises(load_many, [a, b], contains=(f"{b}: 2 columns but {a} has 3",))
    _raises(load_many, [], contains=("no files given",))


# ------------------------------------------------------------------------------------ in-memory


def test_validate_series_errors_name_the_argument():
    _raises(validate_series, [[1.0, 2.0], [3.0]], name="X", contains=("X: ragged rows",))
    _raises(
        validate_series, [[1, "a"]], contains=("array: non-numeric value 'a' at row 0 (column 1)",)
    )
    _raises(validate_series, [1.0, None, 2.0], contains=("non-numeric value None at row 1",))
    _raises(validate_series, np.zeros((2, 3, 4)), contains=("3-D array", "allow_batch=True"))
    _raises(validate_series, np.zeros((2, 2, 2, 2)), allow_batch=True, contains=("4-D array",))
    _raises(validate_series, 3.0, contains=("single number",))
    _raises(validate_series, np.ones((3, 2), dtype=complex), contains=("complex",))
    _raises(validate_series, np.zeros((3, 0)), contains=("no columns",))
    bad = np.zeros((3, 4, 2))
    bad[1, 2, 0] = np.nan
    _raises(validate_series, bad, allow_batch=True, match_exact="array[1]: NaN at row 2 (column 0)")


def test_save_series_errors(tmp_path):
    _raises(save_series, tmp_path / "x.json", np.ones((3, 2)), contains=("use .npy or .csv",))
    _raises(
        save_series,
        tmp_path / "x.csv",
        np.ones((3, 2)),
        columns=["a"],
        contains=("1 column names for 2",),
    )
    _raises(save_series, tmp_path / "x.csv", np.ones((3, 2)), columns=["a", "1"], contains=("'1'",))
    _raises(save_series, tmp_path / "no" / "x.npy", np.ones((3, 2)), contains=("cannot write",))
    _raises(save_series, tmp_path / "x.npy", [[1.0, np.nan]], contains=("NaN at row 0 (column 1)",))


def test_quoted_fields_are_numbers(tmp_path):
    path = _write(tmp_path / "q.csv", '"x","y"\n"1.5","2"\n3,4\n')
    np.testing.assert_array_equal(load_series(path), [[1.5, 2.0], [3.0, 4.0]])


def test_trailing_delimiter_and_pandas_index_column(tmp_path):
    path = _write(tmp_path / "t.csv", "1,2,3,\n4,5,6,\n")
    _raises(
        load_series,
        path,
        match_exact=f"{path}: empty value at line 1, column 4 (trailing delimiter?)",
    )
    path = _write(tmp_path / "p.csv", ",x,y\n0,1,2\n1,3,4\n")
    _raises(load_series, path, contains=("empty column name at line 1, column 1", "index=False"))


def test_fake_npz_is_reported(tmp_path):
    _write(tmp_path / "fake.npz", "hello")
    _raises(load_series, tmp_path / "fake.npz", contains=("fake.npz: not a valid .npz archive",))
    np.save(tmp_path / "arr.npy", np.ones((3, 2)))
    (tmp_path / "arr.npz").write_bytes((tmp_path / "arr.npy").read_bytes())
    _raises(load_series, tmp_path / "arr.npz", contains=("arr.npz: not a valid .npz archive",))


# ------------------------------------------------------------------------------------ dataset


def test_dataset_from_arrays_holds_read_only_copies():
    a, b = np.ones((5, 2)), np.zeros((8, 2))
    ds = TimeSeriesDataset.from_arrays([a, b])
    assert (len(ds), ds.dim, ds.lengths, ds.total_length) == (2, 2, (5, 8), 13)
    assert ds.names == ("array[0]", "array[1]")
    a[0, 0] = 7.0
    assert ds[0][0, 0] == 1.0  # copied
    with pytest.raises(ValueError):
        ds[0][0, 0] = 3.0  # read-only
    np.testing.assert_array_equal(ds.concatenated(), np.vstack([np.ones((5, 2)), b]))
    np.testing.assert_array_equal(ds.offsets(), [0, 5, 13])
    doubled = ds.map(lambda x: 2 * x + 1)
    assert doubled.names == ds.names and doubled[1][0, 0] == 1.0


def test_dataset_input_kinds():
    stack = TimeSeriesDataset.from_arrays(np.zeros((3, 4, 2)))
    assert stack.lengths == (4, 4, 4) and stack.names == ("array[0]", "array[1]", "array[2]")
    single = TimeSeriesDataset.from_arrays(np.arange(6.0))
    assert single.lengths == (6,) and single.dim == 1 and single.names == ("array",)
    # a nested list literal is one series, a list of arrays is several
    assert TimeSeriesDataset.from_arrays([[1.0, 2.0], [3.0, 4.0]]).lengths == (2,)
    assert TimeSeriesDataset.from_arrays([np.ones(3), np.ones(4)]).lengths == (3, 4)
    named = TimeSeriesDataset.from_arrays([np.ones((3, 1))], names=["train"])
    assert named.names == ("train",)


def test_dataset_errors_name_the_trajectory(tmp_path):
    with pytest.raises(InputError, match=r"array\[1\]: 3 columns but array\[0\] has 2"):
        TimeSeriesDataset.from_arrays([np.ones((5, 2)), np.ones((5, 3))])
    bad = np.ones((5, 2))
    bad[4, 0] = np.nan
    with pytest.raises(InputError, match=r"^run2: NaN at row 4 \(column 0\)$"):
        TimeSeriesDataset.from_arrays([np.ones((5, 2)), bad], names=["run1", "run2"])
    with pytest.raises(InputError, match="empty list"):
        TimeSeriesDataset.from_arrays([])
    with pytest.raises(InputError, match="1 names for 2 arrays"):
        TimeSeriesDataset.from_arrays([np.ones((3, 1)), np.ones((3, 1))], names=["a"])


def test_dataset_from_files(tmp_path):
    np.save(tmp_path / "a.npy", np.ones((5, 2)))
    _write(tmp_path / "b.csv", "1,2\n3,4\n5,6\n")
    ds = TimeSeriesDataset.from_files([tmp_path / "a.npy", tmp_path / "b.csv"])
    assert ds.lengths == (5, 3) and ds.names == (str(tmp_path / "a.npy"), str(tmp_path / "b.csv"))
    one = TimeSeriesDataset.from_files(tmp_path / "b.csv")
    assert one.lengths == (3,)
