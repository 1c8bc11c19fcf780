"""Tests for lib.exercises.shapes_bias: several correct answers pass, every named bug gets its own sentence."""

import numpy as np
import pytest

from lib.exercises.shapes_bias import BROADCAST_CASES, ex1, ex2, ex3, ex4, ex5
from lib.ledger import linear_ledger


def assert_correct(result):
    assert result.status == "correct", result


def assert_named(result, fragment):
    assert result.status == "incorrect", result
    assert fragment.lower() in result.message.lower(), result


# ---------------------------------------------------------------- ex1: the ledger
RIGHT = {"X": (8, 5), "W": (5, 3), "b": (3,), "Y": (8, 3), "dY": (8, 3), "dW": (5, 3), "db": (3,), "dX": (8, 5)}


def with_(**changes):
    return {**RIGHT, **changes}


@pytest.mark.parametrize("answer", [
    RIGHT,
    {k: list(v) for k, v in RIGHT.items()},
    with_(b=3, db=3),
    {k: tuple(np.int64(s) for s in v) for k, v in RIGHT.items()},
    {name: linear_ledger(8, 5, 3).shape(name) for name in RIGHT},
    with_(L=()),
    {k.lower(): v for k, v in RIGHT.items()},
    {k: np.array(v) for k, v in RIGHT.items()},
])
def test_ex1_correct(answer):
    assert_correct(ex1.check(answer))


@pytest.mark.parametrize("answer, fragment", [
    (with_(W=(3, 5)), "W is transposed"),
    (with_(dW=(3, 5)), "dW is transposed"),
    (with_(Y=(3, 8)), "Y is transposed"),
    (with_(b=(8,)), "not one per example"),
    (with_(db=(8,)), "not one per example"),
    (with_(b=(1, 3)), "1-D, (D_out,)"),
    (with_(b=(8, 3)), "1-D, (D_out,)"),
    (with_(db=()), "not a single number"),
    (with_(dX=(8, 3)), "shaped like another tensor"),
    (with_(dW=(8, 3)), "shaped like another tensor"),
    (with_(Y=(8, 5)), "write it in letters first"),
    ({k: v for k, v in RIGHT.items() if k != "dY"}, "no entry for ['dY']"),
    (with_(X="8, 5"), "tuple of integers"),
    ([RIGHT], "answer with a dict"),
])
def test_ex1_wrong(answer, fragment):
    assert_named(ex1.check(answer), fragment)


@pytest.mark.parametrize("answer", [with_(W=(3, 5)), with_(b=(8,)), with_(dX=(8, 3)), with_(Y=(8, 5))])
def test_ex1_messages_name_the_rule_not_the_answer(answer):
    message = ex1.check(answer).message
    wrong = next(k for k in RIGHT if answer[k] != RIGHT[k])
    assert str(RIGHT[wrong]) not in message, message


# ---------------------------------------------------------------- ex2: broadcasting
def broadcast_or_none(y, b):
    try:
        return np.broadcast_shapes(y, b)
    except ValueError:
        return None


def by_trying(y, b):
    try:
        return (np.zeros(y) + np.zeros(b)).shape
    except ValueError:
        return None


RIGHT2 = [(4, 3), (4, 3), None, (4, 3), None, (3, 3), (3, 3), (4, 3), (2, 5, 3)]


@pytest.mark.parametrize("answer", [
    RIGHT2,
    tuple(RIGHT2),
    [broadcast_or_none(y, b) for y, b in BROADCAST_CASES],
    [by_trying(y, b) for y, b in BROADCAST_CASES],
    [list(s) if s else s for s in RIGHT2],
])
def test_ex2_correct(answer):
    assert_correct(ex2.check(answer))


def with2(i, value):
    answer = list(RIGHT2)
    answer[i] = value
    return answer


@pytest.mark.parametrize("answer, fragment", [
    (with2(2, (4, 3)), "raises an error. align the shapes from the right"),
    (with2(3, None), "does work. a size-1 axis"),
    (with2(4, (4, 3)), "raises an error"),
    (with2(6, (1, 3)), "stretches on both sides"),
    (with2(6, None), "does work"),
    (with2(7, ()), "each axis takes the larger"),
    (with2(8, None), "missing leading axis"),
    (with2(2, "error"), "write none"),
    (RIGHT2[:7], "a list of 9 entries"),
])
def test_ex2_wrong(answer, fragment):
    assert_named(ex2.check(answer), fragment)


# ---------------------------------------------------------------- ex3: column bias
@pytest.mark.parametrize("answer", [
    lambda X, W, b_col: X @ W + b_col.ravel(),
    lambda X, W, b_col: X @ W + b_col.T,
    lambda X, W, b_col: X @ W + b_col[:, 0],
    lambda X, W, b_col: (W.T @ X.T + b_col).T,
    lambda X, W, b_col: (X @ W + b_col.reshape(-1)).astype(np.float32),
    lambda X, W, b_col: np.einsum("ni,io->no", X, W) + np.squeeze(b_col, axis=1),
    lambda X, W, b_col: [[float(x @ W[:, j] + b_col[j, 0]) for j in range(W.shape[1])] for x in X],
])
def test_ex3_correct(answer):
    assert_correct(ex3.check(answer))


@pytest.mark.parametrize("buggy, fragment", [
    (lambda X, W, b_col: X @ W + b_col, "with one example, (1, d_out) + (d_out, 1)"),
    (lambda X, W, b_col: X @ W, "bias is missing"),
    (lambda X, W, b_col: X @ W + b_col[0], "b_col[0] is the first entry only"),
    (lambda X, W, b_col: X @ W + b_col.sum(), "sum of the bias entries"),
    (lambda X, W, b_col: (X @ W + b_col.T).T, "one row per output feature"),
])
def test_ex3_bugs(buggy, fragment):
    assert_named(ex3.check(buggy), fragment)


def test_ex3_column_bug_at_b_equals_d_out_is_named():
    def right_only_at_b_1(X, W, b_col):
        return X @ W + (b_col.T if len(X) == 1 else b_col)

    assert_named(ex3.check(right_only_at_b_1), "it only ran because B == D_out")


def test_ex3_tries_b_1_and_b_equals_d_out():
    from lib.exercises.shapes_bias import COLUMN_CASES

    shapes = [tuple(a.shape for a in case.make()) for case in COLUMN_CASES]
    assert any(x[0] == 1 for x, _, _ in shapes) and any(x[0] == w[1] for x, w, _ in shapes)


# ---------------------------------------------------------------- ex4: the guard
def guard_shape(Y, b):
    if b.shape != (Y.shape[1],):
        raise ValueError(f"bad bias {b.shape}")
    return Y + b


def guard_assert(Y, b):
    assert b.ndim == 1 and b.shape[0] == Y.shape[-1], "bias shape"
    return Y + b


def guard_list(Y, b):
    if np.ndim(b) != 1 or len(b) != np.shape(Y)[1]:
        raise ValueError("bias")
    return [[y + c for y, c in zip(row, b, strict=True)] for row in Y]


def guard_float32(Y, b):
    if tuple(b.shape) != (Y.shape[1],):
        raise ValueError("bias")
    return (Y + b).astype(np.float32)


def guard_keep_row(Y, b):  # also accepts a (1, D_out) bias, which broadcasts correctly
    if b.shape not in ((Y.shape[1],), (1, Y.shape[1])):
        raise ValueError("bias")
    return Y + b


@pytest.mark.parametrize("answer", [guard_shape, guard_list, guard_float32, guard_keep_row])
def test_ex4_correct(answer):
    assert_correct(ex4.check(answer))


def guard_len(Y, b):
    if len(b) != Y.shape[1]:
        raise ValueError("bias")
    return Y + b


def guard_size(Y, b):
    if b.size != Y.shape[1]:
        raise ValueError("bias")
    return Y + b


def guard_ndim_only(Y, b):
    if b.ndim != 1:
        raise ValueError("bias")
    return Y + b


def repairs(Y, b):
    return Y + np.ravel(b)


def too_strict(Y, b):
    if b.shape != (Y.shape[1],) or Y.shape[0] == Y.shape[1]:
        raise ValueError("bias")
    return Y + b


@pytest.mark.parametrize("buggy, fragment", [
    (lambda Y, b: Y + b, "the b = 1 trap"),
    (guard_len, "the b = 1 trap"),
    (guard_size, "the b = 1 trap"),
    (guard_ndim_only, "a one-entry bias is added to every feature"),
    (repairs, "repaired b of shape (3, 1)"),
    (too_strict, "rejected a correct bias of shape (4,)"),
    (guard_assert, "with an assert"),  # the text asks for a ValueError; python -O drops asserts
])
def test_ex4_bugs(buggy, fragment):
    assert_named(ex4.check(buggy), fragment)


def guard_letting_through(bad_shape):
    """A correct guard, except that it lets one wrong bias shape through."""
    def guard(Y, b):
        if b.shape != (Y.shape[1],) and b.shape != bad_shape:
            raise ValueError("bias")
        return Y + b

    return guard


@pytest.mark.parametrize("bad_shape, fragment", [
    ((3, 1), "the b = 1 trap"),
    ((1,), "a one-entry bias is added to every feature"),
    ((4, 1), "runs silently when b == d_out"),
    ((5, 1), "a (b, 1) bias adds one number per example"),
    ((2, 6), "a different bias for every example"),
    ((), "a single number is added to every feature"),
])
def test_ex4_each_silent_shape_is_named(bad_shape, fragment):
    assert_named(ex4.check(guard_letting_through(bad_shape)), fragment)


def test_ex4_numpy_error_is_not_enough_when_swallowed():
    def swallow(Y, b):
        if b.shape != (Y.shape[1],) and b.shape != (5,):
            raise ValueError("bias")
        try:
            return Y + b
        except ValueError:
            return Y

    assert_named(ex4.check(swallow), "raises inside numpy")


# ---------------------------------------------------------------- ex5: recover W and b
def recover_loop(layer, D_in):
    b = np.asarray(layer(np.zeros(D_in)))
    rows = [np.asarray(layer(np.eye(D_in)[i])) - b for i in range(D_in)]
    return np.array(rows), b


@pytest.mark.parametrize("answer", [
    lambda layer, D_in: (layer(np.eye(D_in)) - layer(np.zeros(D_in)), layer(np.zeros(D_in))),
    recover_loop,
    lambda layer, D_in: ((layer(np.eye(D_in)) - layer(np.zeros(D_in))).tolist(), list(layer(np.zeros(D_in)))),
    lambda layer, D_in: ((layer(np.eye(D_in)) - layer(np.zeros(D_in))).astype(np.float32),
                         layer(np.zeros(D_in)).astype(np.float32)),
    lambda layer, D_in: (layer(np.vstack([np.eye(D_in), np.zeros(D_in)]))[:-1] - layer(np.zeros((1, D_in)))[0],
                         layer(np.zeros((1, D_in)))[0]),
])
def test_ex5_correct(answer):
    assert_correct(ex5.check(answer))


@pytest.mark.parametrize("buggy, fragment", [
    (lambda layer, D_in: (layer(np.eye(D_in)), layer(np.zeros(D_in))), "subtract b = f(0)"),
    (lambda layer, D_in: ((layer(np.eye(D_in)) - layer(np.zeros(D_in))).T, layer(np.zeros(D_in))), "as columns"),
    (lambda layer, D_in: (layer(np.zeros(D_in)) - layer(np.eye(D_in)), layer(np.zeros(D_in))), "sign is flipped"),
    (lambda layer, D_in: (layer(np.eye(D_in)) - layer(np.zeros(D_in)), layer(np.ones(D_in))), "vector of ones"),
    (lambda layer, D_in: (layer(np.eye(D_in)) - layer(np.zeros(D_in)), layer(np.zeros((1, D_in)))), "batch of one"),
    (lambda layer, D_in: (layer(np.zeros(D_in)), layer(np.eye(D_in)) - layer(np.zeros(D_in))), "order (w, b)"),
    (lambda layer, D_in: layer(np.eye(D_in)), "return a tuple of 2 arrays"),
])
def test_ex5_bugs(buggy, fragment):
    assert_named(ex5.check(buggy), fragment)


@pytest.mark.parametrize("ex", [ex1, ex2, ex3, ex4, ex5])
def test_placeholders_and_hints(ex):
    assert ex.check(...).status == "not attempted"
    assert len(ex.hints) == 2 and ex.hints[1] not in ex.solution().code
