"""Tests for lib.exercises.linear_layer: right answers pass, each diagnosed bug is named, garbage is safe."""

import numpy as np
import pytest

from lib.exercises.linear_layer import ex1, ex2, ex3, ex4


def raises(*_args):
    raise RuntimeError("boom")


def assert_incorrect(result, keyword):
    assert result.status == "incorrect", result
    assert keyword.lower() in result.message.lower(), result


def assert_readable_failure(result):
    assert not result.ok and result.status in ("incorrect", "error") and result.message


# ---------------------------------------------------------------- ex1: y by hand
def test_ex1_correct():
    assert ex1.check([0.5 * 2 + (-0.3) * 3 + 0.1 * 1, 0.2 * 2 + 0.4 * 3 + (-0.2) * 1]).ok
    assert ex1.check(np.array([0.2, 1.4])).ok


@pytest.mark.parametrize("answer, keyword", [
    ([1.4, 0.2], "opposite order"),
    ([2.0, 1.8], "minus signs"),
    ([[1.0, -0.9, 0.1], [0.4, 1.2, -0.2]], "did not sum"),
])
def test_ex1_bugs(answer, keyword):
    assert_incorrect(ex1.check(answer), keyword)


@pytest.mark.parametrize("garbage", [None, "abc", raises, [0.2], [np.nan, 1.4], {"y": 1}])
def test_ex1_garbage(garbage):
    assert_readable_failure(ex1.check(garbage))


def test_ex1_placeholder():
    assert ex1.check(...).status == "not attempted"


# ---------------------------------------------------------------- ex2: shape and parameter count
def test_ex2_correct():
    assert ex2.check(((32, 64), 8256)).ok
    assert ex2.check([[32, 64], np.int64(8256)]).ok


@pytest.mark.parametrize("answer, keyword", [
    (((64, 32), 8256), "(D_out, B)"),
    (((32, 128), 8256), "input's shape"),
    (((128, 64), 8256), "shape of W"),
    (((64,), 8256), "batch axis"),
    (((32, 64), 8192), "weights only"),
    (((32, 64), 8192 + 128), "per input"),
    (((32, 64), 8192 + 32 * 64), "shared by every example"),
    (((32, 64), 32 * 128 + 8192 + 64), "X is data"),
    (((32, 64), 192), "D_in * D_out"),
    (((32, 64), 1000), "not right"),
    (((3, 4), 8256), "not right"),
])
def test_ex2_bugs(answer, keyword):
    assert_incorrect(ex2.check(answer), keyword)


@pytest.mark.parametrize("garbage", [None, "abc", raises, (1, 2, 3), ((32, 64), None), ((32, 64), True),
                                     (("a", "b"), 8256), ((32.0, 64.0), 8256)])
def test_ex2_garbage(garbage):
    assert_readable_failure(ex2.check(garbage))


def test_ex2_placeholder():
    assert ex2.check(...).status == "not attempted"


# ---------------------------------------------------------------- ex3: linear_forward
def test_ex3_correct():
    assert ex3.check(lambda X, W, b: X @ W + b).ok
    assert ex3.check(lambda X, W, b: np.einsum("bi,io->bo", X, W) + b[None, :]).ok


@pytest.mark.parametrize("buggy, keyword", [
    (lambda X, W, b: X @ W.T + b, "transposed (X @ W.T)"),
    (lambda X, W, b: X @ W.T, "transposed and the bias is missing"),
    (lambda X, W, b: X @ W + b[:, None], "wrong axis"),
    (lambda X, W, b: X @ W + b.reshape(-1, 1), "wrong axis"),
    (lambda X, W, b: X @ W, "bias is missing"),
    (lambda X, W, b: W.T @ X.T + b[:, None], "output is transposed"),
    (lambda X, W, b: (X @ W + b).sum(axis=0), "wrong shape"),
    (lambda X, W, b: (X @ W + b)[:, :1], "wrong shape"),
    (lambda X, W, b: X @ W - b, "different values"),
])
def test_ex3_bugs(buggy, keyword):
    assert_incorrect(ex3.check(buggy), keyword)


def test_ex3_wrong_shape_on_non_square_case_only():
    def squeezes_single_rows(X, W, b):
        return np.squeeze(X @ W + b)  # right for B > 1, (D_out,) for B = 1

    assert_incorrect(ex3.check(squeezes_single_rows), "wrong shape")


def test_ex3_bias_axis_bug_detected_even_if_it_raises_later():
    def bias_on_rows(X, W, b):
        return X @ W + b[:, None]  # runs for the square case, raises for (4, 3) @ (3, 2)

    assert "wrong axis" in ex3.check(bias_on_rows).message


def test_ex3_mutation_is_caught():
    def mutates(X, W, b):
        X *= 2
        return X @ W + b

    assert_incorrect(ex3.check(mutates), "in place")


@pytest.mark.parametrize("garbage", [None, "abc", 3, raises, lambda X, W, b: None, lambda X, W, b: "Y",
                                     lambda X, W, b: X @ W + b + np.nan, lambda X, W, b: [[1, 2], [3]]])
def test_ex3_garbage(garbage):
    assert_readable_failure(ex3.check(garbage))


def test_ex3_placeholder():
    assert ex3.check(...).status == "not attempted"
    assert ex3.check(lambda X, W, b: ...).status == "not attempted"


# ---------------------------------------------------------------- ex4: PyTorch layout
def test_ex4_correct():
    assert ex4.check(lambda weight: weight.T).ok
    assert ex4.check(lambda weight: np.transpose(weight).copy()).ok


@pytest.mark.parametrize("buggy, keyword", [
    (lambda weight: weight, "unchanged"),
    (lambda weight: weight.reshape(weight.shape[1], weight.shape[0]), "reshape"),
    (lambda weight: weight.T[::-1], "different values"),
])
def test_ex4_bugs(buggy, keyword):
    assert_incorrect(ex4.check(buggy), keyword)


@pytest.mark.parametrize("garbage", [None, "abc", raises, lambda w: None, lambda w: "W", lambda w: w.T * np.nan])
def test_ex4_garbage(garbage):
    assert_readable_failure(ex4.check(garbage))


def test_ex4_placeholder():
    assert ex4.check(...).status == "not attempted"
    assert ex4.check(lambda w: ...).status == "not attempted"


def test_labels_hints_solutions():
    for n, ex in enumerate((ex1, ex2, ex3, ex4), start=1):
        assert ex.label == f"linear-layer-ex{n}"
        assert len(ex.hints) >= 2
        assert ex.solution().code
