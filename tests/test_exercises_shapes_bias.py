import numpy as np
import pytest

from lib.exercises.shapes_bias import ex1, ex2, ex3

RIGHT_LEDGER = {"X": (8, 5), "W": (5, 3), "b": (3,), "Y": (8, 3), "dY": (8, 3), "dW": (5, 3), "db": (3,), "dX": (8, 5)}
GARBAGE = [None, "abc", 3.5, [1, 2], {"X": "abc"}]


def _raises(*_args):
    raise RuntimeError("boom")


def test_ledger_right_answer():
    assert ex1.check(RIGHT_LEDGER).ok
    assert ex1.check({k: list(v) for k, v in RIGHT_LEDGER.items()}).ok  # lists are fine


@pytest.mark.parametrize("change, keyword", [
    ({"W": (3, 5)}, "D_in, D_out"),
    ({"dW": (3, 5)}, "D_in, D_out"),
    ({"b": (8,)}, "one per example"),
    ({"db": (8, 3)}, "shared by every row"),
    ({"dX": (8, 3)}, "shape of the tensor it belongs to"),
    ({"Y": (8, 5)}, "letters"),
])
def test_ledger_bugs(change, keyword):
    result = ex1.check({**RIGHT_LEDGER, **change})
    assert result.status == "incorrect"
    assert keyword in result.message


def test_ledger_placeholder_missing_and_garbage():
    assert ex1.check(...).status == "not attempted"
    assert ex1.check({k: ... for k in RIGHT_LEDGER}).status == "not attempted"
    assert "no entry" in ex1.check({"X": (8, 5)}).message
    for g in GARBAGE + [_raises]:
        result = ex1.check(g)
        assert not result.ok and result.message


RIGHT_BROADCAST = [(4, 3), (4, 3), None, (4, 3), None, (3, 3), (4, 3)]


def test_broadcast_right_answer():
    result = ex2.check(RIGHT_BROADCAST)
    assert result.ok and "silent" in result.message


@pytest.mark.parametrize("index, value, keyword", [
    (2, (4, 3), "from the right"),  # (4,) aligned from the left
    (4, (4, 3), "from the right"),
    (3, None, "stretches"),
    (6, None, "does work"),
    (5, (3, 1), "larger of the two"),
])
def test_broadcast_bugs(index, value, keyword):
    answer = list(RIGHT_BROADCAST)
    answer[index] = value
    result = ex2.check(answer)
    assert result.status == "incorrect"
    assert keyword in result.message


def test_broadcast_placeholder_and_garbage():
    assert ex2.check(...).status == "not attempted"
    for g in GARBAGE + [_raises, [None] * 6, ["abc"] * 7]:
        result = ex2.check(g)
        assert not result.ok and result.message


def test_column_bias_right_answers():
    assert ex3.check(lambda X, W, b: X @ W + b.ravel()).ok
    assert ex3.check(lambda X, W, b: X @ W + b.T).ok


@pytest.mark.parametrize("fn, keyword", [
    (lambda X, W, b: X @ W + b, "as it is"),
    (lambda X, W, b: X @ W, "missing"),
    (lambda X, W, b: (X @ W + b.ravel()).T, "rows are examples"),
    (lambda X, W, b: X @ W + 2 * b.ravel(), "different values"),
])
def test_column_bias_bugs(fn, keyword):
    result = ex3.check(fn)
    assert result.status == "incorrect"
    assert keyword in result.message


def test_column_bias_placeholder_and_garbage():
    assert ex3.check(...).status == "not attempted"
    assert ex3.check(lambda X, W, b: ...).status == "not attempted"
    for g in [None, "abc", _raises, lambda X, W, b: None, lambda X, W, b: "abc", lambda X, W, b: np.full((3, 3), np.nan)]:
        result = ex3.check(g)
        assert not result.ok and result.message
