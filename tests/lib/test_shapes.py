"""Tests for lib.shapes: as_array, as_positive_int and the messages of check_shapes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.shapes import (
    as_array,
    as_number,
    as_positive_int,
    as_rng,
    as_seed,
    check_shapes,
    positive_ints,
)


# ---------------------------------------------------------------- as_array
def test_as_array_accepts_lists_and_makes_ints_float():
    arr = as_array([[1, 2], [3, 4]], "X")
    assert arr.dtype == np.float64 and arr.shape == (2, 2)


def test_as_array_bool_becomes_float():
    assert as_array([True, False], "mask").dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.float64])
def test_as_array_keeps_float_precision(dtype):
    assert as_array(np.ones(3, dtype=dtype), "x").dtype == dtype


def test_as_array_returns_the_same_values():
    x = np.array([0.5, -2.0])
    np.testing.assert_array_equal(as_array(x, "x"), x)


def test_as_array_scalar():
    assert as_array(3, "s").shape == ()


@pytest.mark.parametrize("bad, err, pattern", [
    (None, TypeError, r"^f: X is None"),
    ("abc", TypeError, r"X must be an array of numbers, got str"),
    (b"abc", TypeError, r"got bytes"),
    ({"a": 1}, TypeError, r"got dict"),
    ({1, 2}, TypeError, r"got set"),
    ([[1, 2], [3]], TypeError, r"X could not be read as an array"),
    (["a", "b"], TypeError, r"X must hold numbers, got dtype <U1"),
    ([object(), object()], TypeError, r"X must hold numbers"),
    (np.array([1 + 2j]), TypeError, r"X must hold real numbers"),
    ([], ValueError, r"X is empty \(shape \(0,\)\)"),
    (np.ones((2, 0)), ValueError, r"X is empty \(shape \(2, 0\)\)"),
    ([1.0, np.nan], ValueError, r"X contains NaN or inf \(first at index \(1,\)\)"),
    ([[0.0, 1.0], [np.inf, 2.0]], ValueError, r"first at index \(1, 0\)"),
])
def test_as_array_bad_inputs(bad, err, pattern):
    with pytest.raises(err, match=pattern):
        as_array(bad, "X", "f")


def test_as_array_without_where_has_no_prefix():
    with pytest.raises(TypeError, match=r"^X is None"):
        as_array(None, "X")


def test_as_array_finite_false_allows_nan():
    arr = as_array([1.0, np.nan], "x", finite=False)
    assert np.isnan(arr[1])


# ---------------------------------------------------------------- as_positive_int
@pytest.mark.parametrize("good", [1, 7, np.int64(3), np.int32(12)])
def test_as_positive_int_accepts(good):
    out = as_positive_int(good, "B")
    assert out == int(good) and type(out) is int


@pytest.mark.parametrize("bad, err", [
    (0, ValueError), (-3, ValueError), (2.0, TypeError), (2.5, TypeError), ("4", TypeError),
    (None, TypeError), (True, TypeError), (np.float64(3.0), TypeError),
])
def test_as_positive_int_rejects(bad, err):
    with pytest.raises(err, match=r"g: B must be a positive integer"):
        as_positive_int(bad, "B", "g")


# ---------------------------------------------------------------- check_shapes
def test_check_shapes_binds_letters():
    sizes = check_shapes("f", X=(np.ones((4, 3)), "B D_in"), W=(np.ones((3, 2)), "D_in D_out"))
    assert sizes == {"B": 4, "D_in": 3, "D_out": 2}


def test_check_shapes_wrong_rank_message():
    with pytest.raises(ValueError) as info:
        check_shapes("f", X=(np.ones(3), "B D_in"))
    assert str(info.value) == "f: X should be 2-D with shape (B, D_in), got 1-D shape (3,)."


def test_check_shapes_mismatch_names_argument_expected_actual_and_origin():
    with pytest.raises(ValueError) as info:
        check_shapes("f", X=(np.ones((4, 3)), "B D_in"), W=(np.ones((5, 2)), "D_in D_out"))
    msg = str(info.value)
    assert msg.startswith("f: W should have shape (D_in, D_out) = (3, D_out), got (5, 2)")
    assert "D_in is 3 (from X)" in msg and "axis 0 of W is 5" in msg
    assert ".T" not in msg  # (5, 2) is not (3, ?) transposed


def test_check_shapes_suggests_transpose():
    with pytest.raises(ValueError, match=r"It looks transposed: did you mean \.T"):
        check_shapes("f", X=(np.ones((4, 3)), "B D_in"), W=(np.ones((2, 3)), "D_in D_out"))


def test_check_shapes_suggests_transpose_when_both_bound():
    with pytest.raises(ValueError, match=r"did you mean \.T"):
        check_shapes("f", sizes={"D_in": 3, "D_out": 2}, W=(np.ones((2, 3)), "D_in D_out"))


def test_check_shapes_no_transpose_hint_for_1d():
    with pytest.raises(ValueError) as info:
        check_shapes("f", W=(np.ones((3, 2)), "D_in D_out"), b=(np.ones(3), "D_out"))
    assert "b should have shape (D_out) = (2,), got (3,)" in str(info.value)
    assert ".T" not in str(info.value)


def test_check_shapes_numeric_letter():
    check_shapes("f", u=(np.ones(2), "2"))
    with pytest.raises(ValueError) as info:
        check_shapes("f", u=(np.ones(3), "2"))
    assert "u should have shape (2) = (2,), got (3,) but axis 0 of u is 3." in str(info.value)
    assert "from" not in str(info.value)


def test_check_shapes_presized_letters_name_the_arguments():
    with pytest.raises(ValueError, match=r"d is 16 \(from the arguments\)"):
        check_shapes("f", sizes={"d": 16}, x=(np.ones((4, 8)), "T d"))


def test_check_shapes_accepts_lists():
    assert check_shapes("f", x=([[1, 2, 3]], "B D")) == {"B": 1, "D": 3}


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4))
def test_check_shapes_binds_any_shape_property(shape):
    letters = [f"a{i}" for i in range(len(shape))]
    assert check_shapes("f", x=(np.zeros(shape), " ".join(letters))) == dict(zip(letters, shape, strict=True))


def test_no_transpose_hint_when_reversal_would_not_fit():
    with pytest.raises(ValueError) as info:
        check_shapes("f", sizes={"D_out": 2}, X=(np.ones((4, 3)), "B D_in"), dY=(np.ones((5, 4)), "B D_out"))
    assert ".T" not in str(info.value)


# ---------------------------------------------------------------- positive_ints, as_number, as_rng, as_seed
def test_positive_ints_names_the_bad_one():
    assert positive_ints("f", B=2, D=np.int64(3)) == (2, 3)
    with pytest.raises(ValueError, match=r"^f: D must be a positive integer, got 0\.$"):
        positive_ints("f", B=2, D=0)


@pytest.mark.parametrize("good, positive, want", [(2, False, 2.0), (-1.5, False, -1.5), (np.float32(0.5), True, 0.5)])
def test_as_number_accepts(good, positive, want):
    out = as_number(good, "lr", "f", positive=positive)
    assert out == want and type(out) is float


@pytest.mark.parametrize("bad, positive, err, pattern", [
    (None, False, TypeError, r"^f: lr must be a number, got None\.$"),
    ("0.1", False, TypeError, r"got '0.1'"),
    (True, False, TypeError, r"got True"),
    (np.ones(2), False, TypeError, r"must be a number"),
    (float("nan"), False, ValueError, r"^f: lr must be a finite number, got nan\.$"),
    (float("inf"), True, ValueError, r"must be a positive finite number, got inf"),
    (0.0, True, ValueError, r"must be a positive finite number, got 0.0"),
    (-1, True, ValueError, r"must be a positive finite number, got -1"),
])
def test_as_number_rejects(bad, positive, err, pattern):
    with pytest.raises(err, match=pattern):
        as_number(bad, "lr", "f", positive=positive)


def test_as_rng_and_as_seed():
    rng = np.random.default_rng(0)
    assert as_rng(rng, "f") is rng
    with pytest.raises(TypeError, match=r"^f: rng must be np.random.default_rng\(seed\), got int\.$"):
        as_rng(0, "f")
    assert as_seed(np.int64(3), "f") == 3 and as_seed(0, "f") == 0
    with pytest.raises(ValueError, match=r"^f: seed must be a non-negative integer, got -1\.$"):
        as_seed(-1, "f")
    with pytest.raises(TypeError, match=r"got 1.5"):
        as_seed(1.5, "f")
