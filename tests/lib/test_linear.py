"""Tests for lib.linear: hand cases, batching, the backward pass, orientation helpers, bad inputs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import linear
from lib.gradcheck import check_gradients

X_HAND = np.array([2.0, 3.0, 1.0])
W_MATH = np.array([[0.5, -0.3, 0.1], [0.2, 0.4, -0.2]])  # (D_out, D_in): the seeds' 3-to-2 layer


# ---------------------------------------------------------------- hand cases
def test_matvec_hand_case():
    np.testing.assert_allclose(linear.matvec(W_MATH, X_HAND), [0.2, 1.4], atol=1e-12)


def test_forward_hand_case_course_orientation():
    Y = linear.linear_forward(X_HAND[None, :], W_MATH.T)  # (1, 3) @ (3, 2)
    assert Y.shape == (1, 2)
    np.testing.assert_allclose(Y, [[0.2, 1.4]], atol=1e-12)


def test_forward_hand_case_with_bias():
    Y = linear.linear_forward([[2.0, 3.0, 1.0]], W_MATH.T, [1.0, -1.0])
    np.testing.assert_allclose(Y, [[1.2, 0.4]], atol=1e-12)


def test_forward_without_bias_is_linear():
    x = X_HAND[None, :]
    np.testing.assert_allclose(linear.linear_forward(2 * x, W_MATH.T), 2 * linear.linear_forward(x, W_MATH.T))


def test_forward_matches_a_loop_over_rows(rng):
    X, W, b = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    Y = linear.linear_forward(X, W, b)
    by_loop = np.array([[sum(X[n, i] * W[i, o] for i in range(4)) + b[o] for o in range(3)] for n in range(5)])
    np.testing.assert_allclose(Y, by_loop)


def test_batched_forward_matches_matvec_per_row(rng):
    X, W = rng.normal(size=(6, 3)), rng.normal(size=(3, 2))
    Y = linear.linear_forward(X, W)
    np.testing.assert_allclose(Y, [linear.matvec(W.T, row) for row in X])


def test_seed_shapes_4_by_768_to_3072(rng):
    X = rng.normal(size=(4, 768))
    W, b = linear.init_linear(768, 3072, rng)
    assert linear.linear_forward(X, W, b).shape == (4, 3072)


def test_lists_are_accepted():
    Y = linear.linear_forward([[1, 2]], [[1, 0, 2], [0, 1, 3]], [0, 0, 1])
    np.testing.assert_allclose(Y, [[1.0, 2.0, 9.0]])
    np.testing.assert_allclose(linear.matvec([[1, 2]], [3, 4]), [11.0])


# ---------------------------------------------------------------- backward
def test_backward_shapes_and_formulas(rng):
    X, W, dY = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=(4, 2))
    dX, dW, db = linear.linear_backward(X, W, dY)
    assert (dX.shape, dW.shape, db.shape) == ((4, 3), (3, 2), (2,))
    np.testing.assert_allclose(db, dY.sum(axis=0))


def test_backward_matches_finite_differences(rng):
    X = rng.normal(size=(4, 3)) + 0.3
    W = rng.normal(size=(3, 2)) - 0.2
    b = np.array([0.7, -1.3])
    target = rng.normal(size=(4, 2))

    def loss() -> float:
        Y = linear.linear_forward(X, W, b)
        return float(0.5 * np.sum((Y - target) ** 2 * np.array([1.0, 2.5])))  # non-symmetric weights

    Y = linear.linear_forward(X, W, b)
    dY = (Y - target) * np.array([1.0, 2.5])
    dX, dW, db = linear.linear_backward(X, W, dY)
    report = check_gradients(loss, {"X": X, "W": W, "b": b}, {"X": dX, "W": dW, "b": db})
    assert report.ok, repr(report)


def test_backward_mismatched_dY_names_it(rng):
    with pytest.raises(ValueError, match=r"dY should have shape"):
        linear.linear_backward(rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=(4, 5)))


# ---------------------------------------------------------------- orientation helpers
def test_from_torch_layout_transposes_and_copies():
    weight = np.arange(6.0).reshape(2, 3)  # (out, in)
    W = linear.from_torch_layout(weight)
    assert W.shape == (3, 2)
    np.testing.assert_array_equal(W, weight.T)
    W[0, 0] = 99.0
    assert weight[0, 0] == 0.0  # a copy, not a view


def test_from_torch_layout_reproduces_torch_forward(rng):
    weight, X = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    np.testing.assert_allclose(linear.linear_forward(X, linear.from_torch_layout(weight)), X @ weight.T)


def test_from_torch_layout_rejects_1d():
    with pytest.raises(ValueError, match=r"weight should be 2-D"):
        linear.from_torch_layout(np.ones(3))


def test_init_linear_shapes_scale_and_seed():
    W, b = linear.init_linear(400, 300, np.random.default_rng(0))
    assert W.shape == (400, 300) and b.shape == (300,)
    assert np.all(b == 0)
    assert abs(W.std() - 1 / np.sqrt(400)) < 0.005
    W2, _ = linear.init_linear(400, 300, np.random.default_rng(0))
    np.testing.assert_array_equal(W, W2)
    assert linear.init_linear(3, 2, np.random.default_rng(0), bias=False)[1] is None


@pytest.mark.parametrize("D_in, D_out, err, word", [
    (0, 3, ValueError, "D_in"), (3, -1, ValueError, "D_out"), (2.5, 3, TypeError, "D_in"),
    ("3", 3, TypeError, "D_in"), (True, 3, TypeError, "D_in"),
])
def test_init_linear_bad_sizes(D_in, D_out, err, word):
    with pytest.raises(err, match=word):
        linear.init_linear(D_in, D_out, np.random.default_rng(0))


def test_init_linear_needs_a_generator():
    with pytest.raises(TypeError, match="rng"):
        linear.init_linear(3, 2, 42)


# ---------------------------------------------------------------- bad inputs
def test_transposed_weight_message_mentions_T():
    X = np.ones((4, 3))
    with pytest.raises(ValueError, match=r"W should have shape \(D_in, D_out\).*got \(2, 3\).*\.T"):
        linear.linear_forward(X, np.ones((2, 3)))


def test_wrong_bias_length_names_b():
    with pytest.raises(ValueError, match=r"b should have shape \(D_out\) = \(2,\), got \(3,\)"):
        linear.linear_forward(np.ones((4, 3)), np.ones((3, 2)), np.ones(3))


@pytest.mark.parametrize("X, W, name", [
    (np.ones(3), np.ones((3, 2)), "X should be 2-D"),
    (np.ones((2, 4, 3)), np.ones((3, 2)), "X should be 2-D"),
    (np.ones((4, 3)), np.ones(3), "W should be 2-D"),
])
def test_wrong_rank(X, W, name):
    with pytest.raises(ValueError, match=name):
        linear.linear_forward(X, W)


def test_bias_wrong_rank():
    with pytest.raises(ValueError, match="b should be 1-D"):
        linear.linear_forward(np.ones((4, 3)), np.ones((3, 2)), np.ones((1, 2)))


def test_matvec_mismatch_names_x():
    with pytest.raises(ValueError, match=r"matvec: x should have shape"):
        linear.matvec(W_MATH, [1.0, 2.0])


@pytest.mark.parametrize("bad, err, pattern", [
    (np.ones((0, 3)), ValueError, "X is empty"),
    ("abc", TypeError, "X must be an array of numbers"),
    (None, TypeError, "X is None"),
    (np.array([[1.0, np.nan, 0.0]]), ValueError, "X contains NaN"),
    ([[1, 2], [3]], TypeError, "X could not be read"),
    (np.array([["a", "b", "c"]]), TypeError, "X must hold numbers"),
])
def test_bad_X(bad, err, pattern):
    with pytest.raises(err, match=pattern):
        linear.linear_forward(bad, np.ones((3, 2)))


@pytest.mark.parametrize("bad, err, pattern", [
    (None, TypeError, "W is None"),
    (np.full((3, 2), np.inf), ValueError, "W contains NaN or inf"),
    (np.ones((3, 0)), ValueError, "W is empty"),
])
def test_bad_W(bad, err, pattern):
    with pytest.raises(err, match=pattern):
        linear.linear_forward(np.ones((4, 3)), bad)


def test_bad_b_string():
    with pytest.raises(TypeError, match="b must be an array of numbers"):
        linear.linear_forward(np.ones((4, 3)), np.ones((3, 2)), "zero")


def test_forward_does_not_modify_inputs(rng):
    X, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    copies = X.copy(), W.copy(), b.copy()
    linear.linear_forward(X, W, b)
    for before, after in zip(copies, (X, W, b), strict=True):
        np.testing.assert_array_equal(before, after)


# ---------------------------------------------------------------- property-based
dims = st.integers(min_value=1, max_value=6)


@settings(max_examples=30, deadline=None)
@given(B=dims, D_in=dims, D_out=dims, seed=st.integers(0, 2**16))
def test_shapes_and_bias_broadcast_property(B, D_in, D_out, seed):
    rng = np.random.default_rng(seed)
    X, W, b = rng.normal(size=(B, D_in)), rng.normal(size=(D_in, D_out)), rng.normal(size=D_out)
    Y = linear.linear_forward(X, W, b)
    assert Y.shape == (B, D_out)
    np.testing.assert_allclose(Y - linear.linear_forward(X, W), np.broadcast_to(b, (B, D_out)), atol=1e-12)
    dX, dW, db = linear.linear_backward(X, W, np.ones((B, D_out)))
    assert (dX.shape, dW.shape, db.shape) == ((B, D_in), (D_in, D_out), (D_out,))


@settings(max_examples=30, deadline=None)
@given(B=dims, D_in=dims, D_out=dims)
def test_transposed_non_square_weight_always_rejected(B, D_in, D_out):
    if D_in == D_out:
        return
    with pytest.raises(ValueError, match=r"W should have shape"):
        linear.linear_forward(np.ones((B, D_in)), np.ones((D_out, D_in)))
