import numpy as np
import pytest

from lib.exercises.backward import EPS_CHOICES, ex1, ex2, ex3, ex4, float32_errors


def _raises(*_args):
    raise RuntimeError("boom")


def right_backward(X, W, dY):
    return dY @ W.T, X.T @ dY, dY.sum(axis=0)


def test_backward_right_answer():
    assert ex1.check(right_backward).ok


@pytest.mark.parametrize("fn, keyword", [
    (lambda X, W, dY: (dY @ W, X.T @ dY, dY.sum(axis=0)), "not W.T"),
    (lambda X, W, dY: (W @ dY.T, X.T @ dY, dY.sum(axis=0)), "dX is transposed"),
    (lambda X, W, dY: (W.T @ dY, X.T @ dY, dY.sum(axis=0)), "wrong order"),
    (lambda X, W, dY: (dY @ W.T, dY.T @ X, dY.sum(axis=0)), "dW is transposed"),
    (lambda X, W, dY: (dY @ W.T, X @ dY, dY.sum(axis=0)), "forgets to transpose X"),
    (lambda X, W, dY: (dY @ W.T, X.T @ dY / len(X), dY.sum(axis=0)), "divided by B"),
    (lambda X, W, dY: (dY @ W.T, X.T @ dY, dY.sum(axis=1)), "axis 1"),
    (lambda X, W, dY: (dY @ W.T, X.T @ dY, dY.mean(axis=0)), "mean"),
    (lambda X, W, dY: (dY @ W.T, X.T @ dY, dY[0]), "first example"),
    (lambda X, W, dY: (dY @ W.T, X.T @ dY, dY), "not summed"),
    (lambda X, W, dY: (dY @ W.T, X.T @ dY, dY.sum()), "one number"),
    (lambda X, W, dY: (dY @ W.T, X.T @ dY, dY.sum(axis=0, keepdims=True)), "keepdims"),
    (lambda X, W, dY: (X.T @ dY, dY @ W.T, dY.sum(axis=0)), "order (dX, dW, db)"),
    (lambda X, W, dY: (dY @ W.T, X.T @ dY, 0 * dY[0]), "different values"),
])
def test_backward_bugs(fn, keyword):
    result = ex1.check(fn)
    assert result.status == "incorrect"
    assert keyword in result.message


def test_backward_placeholder_and_garbage():
    assert ex1.check(...).status == "not attempted"
    assert ex1.check(lambda X, W, dY: ...).status == "not attempted"
    assert ex1.check(lambda X, W, dY: (..., ..., ...)).status == "not attempted"
    for g in [None, "abc", _raises, lambda X, W, dY: None, lambda X, W, dY: (1, 2),
              lambda X, W, dY: (None, None, None), lambda X, W, dY: ("a", "b", "c")]:
        result = ex1.check(g)
        assert not result.ok and result.message


def central(loss, param, index, eps):
    old = param[index]
    param[index] = old + eps
    plus = loss()
    param[index] = old - eps
    minus = loss()
    param[index] = old
    return (plus - minus) / (2 * eps)


def forward_diff(loss, param, index, eps):
    base = loss()
    old = param[index]
    param[index] = old + eps
    plus = loss()
    param[index] = old
    return (plus - base) / eps


def not_restored(loss, param, index, eps):
    old = param[index]
    param[index] = old + eps
    plus = loss()
    param[index] = old - eps
    minus = loss()
    return (plus - minus) / (2 * eps)


def wrong_divisor(loss, param, index, eps):
    return 2 * central(loss, param, index, eps)


def wrong_sign(loss, param, index, eps):
    return -central(loss, param, index, eps)


def test_central_right_answer():
    assert ex2.check(central).ok


@pytest.mark.parametrize("fn, keyword", [
    (forward_diff, "forward difference"),
    (not_restored, "put the old value back"),
    (wrong_divisor, "2 * eps"),
    (wrong_sign, "sign"),
])
def test_central_bugs(fn, keyword):
    result = ex2.check(fn)
    assert result.status == "incorrect"
    assert keyword in result.message


def test_central_placeholder_and_garbage():
    assert ex2.check(...).status == "not attempted"
    assert ex2.check(lambda loss, p, i, eps: ...).status == "not attempted"
    for g in [None, "abc", _raises, lambda loss, p, i, eps: None, lambda loss, p, i, eps: "x",
              lambda loss, p, i, eps: float("nan")]:
        result = ex2.check(g)
        assert not result.ok and result.message


def test_mystery_answers():
    assert ex3.check("W").ok
    assert ex3.check("dW").ok
    for wrong in ("X", "b", "db"):
        result = ex3.check(wrong)
        assert result.status == "incorrect" and "says ok" in result.message
    assert ex3.check(...).status == "not attempted"
    for g in [None, 3, "Z", _raises]:
        assert not ex3.check(g).ok


def test_eps_answers():
    errors = float32_errors()
    best = EPS_CHOICES[int(np.argmin(errors))]
    assert best in (1e-2, 1e-3)  # float32 wants a large step
    assert ex4.check(best).ok
    assert "round-off" in ex4.check(1e-5).message
    assert "round-off" in ex4.check(1e-8).message
    assert "truncation" in ex4.check(1e-1).message
    assert ex4.check(...).status == "not attempted"
    for g in [None, "abc", True, 0.5, _raises, float("nan")]:
        result = ex4.check(g)
        assert not result.ok and result.message
