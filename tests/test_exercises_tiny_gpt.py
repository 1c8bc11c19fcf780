"""Checkers of the chapter tiny-gpt: right answers in several forms, every named bug."""

import numpy as np
import pytest

from lib import nn
from lib.exercises.tiny_gpt import ex1, ex2, ex3, loss_grad

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # learner bugs overflow on purpose


def _accepted(exercise, answer):
    result = exercise.check(answer)
    assert result.ok, result


def _named(exercise, answer, phrase):
    result = exercise.check(answer)
    assert result.status == "incorrect", result
    assert phrase in result.message, (phrase, result.message)
    return result.message


def _raises(*_args):
    raise RuntimeError("boom")


GARBAGE = [None, "abc", 42, _raises, lambda *a: None, lambda *a: "abc", lambda *a: np.nan]


@pytest.mark.parametrize("ex", [ex1, ex2, ex3])
def test_placeholder_and_garbage(ex):
    assert ex.check(...).status == "not attempted"
    for bad in GARBAGE:
        result = ex.check(bad)
        assert not result.ok and result.status in ("incorrect", "error") and result.message
    assert ex.hint().text and ex.hint(99).text and ex.solution().code


# ---------------------------------------------------------------- ex1: LayerNorm backward
def _parts(dy, x, g):
    d = x.shape[-1]
    mu = x.mean(-1, keepdims=True)
    sigma = np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + 1e-5)
    xhat = (x - mu) / sigma
    return d, sigma, xhat, dy * g


def ln_reference(dy, x, g):
    d, sigma, xhat, u = _parts(dy, x, g)
    dx = (u - u.mean(-1, keepdims=True) - xhat * (u * xhat).mean(-1, keepdims=True)) / sigma
    return dx, (dy * xhat).reshape(-1, d).sum(0), dy.reshape(-1, d).sum(0)


def ln_float32(dy, x, g):
    dx, dg, db = ln_reference(dy.astype(np.float32), x.astype(np.float32), g.astype(np.float32))
    return dx, dg, db


def ln_via_library(dy, x, g):
    _, cache = nn.layer_norm(x, g, np.zeros_like(g))
    return nn.norm_backward(dy, cache)


def ln_loop_and_lists(dy, x, g):
    """Row by row with the full Jacobian of a row, returned as Python lists."""
    d = x.shape[-1]
    rows_x, rows_dy = x.reshape(-1, d), dy.reshape(-1, d)
    dx_rows, dg, db = [], np.zeros(d), np.zeros(d)
    for xr, dyr in zip(rows_x, rows_dy, strict=True):
        mu, var = xr.mean(), xr.var()
        s = np.sqrt(var + 1e-5)
        xhat = (xr - mu) / s
        J = (np.eye(d) - 1.0 / d - np.outer(xhat, xhat) / d) / s  # d xhat / d x, symmetric
        dx_rows.append(J @ (dyr * g))
        dg += dyr * xhat
        db += dyr
    return np.array(dx_rows).reshape(x.shape).tolist(), list(dg), list(db)


def ln_no_eps(dy, x, g):
    """Without the epsilon: a near miss the checker names."""
    d = x.shape[-1]
    mu = x.mean(-1, keepdims=True)
    sigma = x.std(-1, keepdims=True)
    xhat = (x - mu) / sigma
    u = dy * g
    dx = (u - u.mean(-1, keepdims=True) - xhat * (u * xhat).mean(-1, keepdims=True)) / sigma
    return dx, (dy * xhat).reshape(-1, d).sum(0), dy.reshape(-1, d).sum(0)


@pytest.mark.parametrize("fn", [ln_reference, ln_float32, ln_via_library, ln_loop_and_lists])
def test_ex1_correct(fn):
    result = ex1.check(fn)
    assert result.ok, result


def test_ex1_no_eps_is_named():
    result = ex1.check(ln_no_eps)
    assert result.status == "incorrect" and "epsilon" in result.message, result


def _bug(kind):
    def fn(dy, x, g):
        d, sigma, xhat, u = _parts(dy, x, g)
        mean, proj = u.mean(-1, keepdims=True), (u * xhat).mean(-1, keepdims=True)
        dx = (u - mean - xhat * proj) / sigma
        dg, db = (dy * xhat).reshape(-1, d).sum(0), dy.reshape(-1, d).sum(0)
        if kind == "constants":
            dx = u / sigma
        elif kind == "no mean":
            dx = (u - xhat * proj) / sigma
        elif kind == "no var":
            dx = (u - mean) / sigma
        elif kind == "no gain":
            dx = (dy - dy.mean(-1, keepdims=True) - xhat * (dy * xhat).mean(-1, keepdims=True)) / sigma
        elif kind == "dg x":
            dg = (dy * x).reshape(-1, d).sum(0)
        elif kind == "db mean":
            db = dy.reshape(-1, d).mean(0)
        elif kind == "dg mean":
            dg = (dy * xhat).reshape(-1, d).mean(0)
        elif kind == "no sum":
            dg, db = dy * xhat, dy
        elif kind == "two":
            return dx, dg
        elif kind == "sign":
            dx = -dx
        return dx, dg, db
    return fn


@pytest.mark.parametrize("kind, keyword", [
    ("constants", "constants"),
    ("no mean", "- mean(u) term"),
    ("no var", "variance"),
    ("no gain", "gain"),
    ("dg x", "xhat"),
    ("db mean", "db is a mean"),
    ("dg mean", "dg is a mean"),
    ("no sum", "shape (d,)"),
    ("two", "tuple of 3"),
    ("sign", "dx"),
])
def test_ex1_bugs(kind, keyword):
    result = ex1.check(_bug(kind))
    assert result.status == "incorrect" and keyword in result.message, result


# ---------------------------------------------------------------- ex2: the attention pattern
def _positions_loop(n, task):
    out = []
    for j in range(n):
        out.append(n - 1 - j if task == "reverse" else (j + 1) % n)
    return out


@pytest.mark.parametrize("fn", [
    lambda n, task: np.arange(n)[::-1] if task == "reverse" else np.roll(np.arange(n), -1),
    _positions_loop,
    lambda n, task: np.array(_positions_loop(n, task), dtype=np.float32),
    lambda n, task: tuple(_positions_loop(n, task)),
])
def test_ex2_correct(fn):
    assert ex2.check(fn).ok, ex2.check(fn)


@pytest.mark.parametrize("fn, keyword", [
    (lambda n, task: n - np.arange(n) if task == "reverse" else (np.arange(n) + 1) % n, "off by one"),
    (lambda n, task: np.array(_positions_loop(n, task)) + 1, "count from 1"),
    (lambda n, task: n + np.arange(n), "query positions"),
    (lambda n, task: n + 1 + np.arange(n), "being written"),
    (lambda n, task: n - 1 - np.arange(n) if task == "reverse" else np.arange(n) + 1, "wrap round"),
    (lambda n, task: n - 1 - np.arange(n) if task == "reverse" else (np.arange(n) - 1) % n, "to the right"),
    (lambda n, task: np.roll(np.arange(n), -1), "other task"),
    (lambda n, task: np.arange(n)[::-1].reshape(1, -1), "shape"),
])
def test_ex2_bugs(fn, keyword):
    result = ex2.check(fn)
    assert result.status == "incorrect" and keyword in result.message, result


# ---------------------------------------------------------------- ex3: the adapter's size
SIZES = lambda d, F: {"Wq": (d, d), "Wk": (d, d), "Wv": (d, d), "Wo": (d, d), "W1": (d, F), "W2": (F, d)}  # noqa: E731


def _adapter_loop(d, d_ff, r, n_layers, targets):
    total = 0
    for _ in range(n_layers):
        for t in targets:
            D_in, D_out = SIZES(d, d_ff)[t]
            total += D_in * r + r * D_out
    return total


@pytest.mark.parametrize("fn", [
    lambda d, F, r, L, targets: L * sum(r * sum(SIZES(d, F)[t]) for t in targets),
    _adapter_loop,
    lambda d, F, r, L, targets: np.float32(_adapter_loop(d, F, r, L, targets)),
    lambda d, F, r, L, targets: L * r * (2 * d * sum(t[1] in "qkvo" for t in targets)
                                         + (d + F) * sum(t in ("W1", "W2") for t in targets)),
])
def test_ex3_correct(fn):
    assert ex3.check(fn).ok, ex3.check(fn)


@pytest.mark.parametrize("fn, keyword", [
    (lambda d, F, r, L, targets: L * len(targets) * 2 * d * r, "square"),
    (lambda d, F, r, L, targets: sum(r * sum(SIZES(d, F)[t]) for t in targets), "layers"),
    (lambda d, F, r, L, targets: L * sum(r * SIZES(d, F)[t][0] for t in targets), "one factor"),
    (lambda d, F, r, L, targets: L * sum(SIZES(d, F)[t][0] * SIZES(d, F)[t][1] for t in targets), "full matrices"),
])
def test_ex3_bugs(fn, keyword):
    result = ex3.check(fn)
    assert result.status == "incorrect" and keyword in result.message, result


# ---------------------------------------------------------------- ex5 cross-entropy gradient
def _ce(z, y):
    N = z.shape[0]
    P = np.exp(z - z.max(axis=-1, keepdims=True))
    P /= P.sum(axis=-1, keepdims=True)
    P[np.arange(N), y] -= 1.0
    return P / N


def _ce_onehot(z, y):
    P = np.exp(z - z.max(1, keepdims=True))
    return (P / P.sum(1, keepdims=True) - np.eye(z.shape[1])[y]) / len(y)


def _ce_loop(z, y):
    out = []
    for row, target in zip(z, y, strict=True):
        e = np.exp(row - max(row))
        p = e / e.sum()
        p[target] -= 1
        out.append(list(p / len(z)))
    return out


@pytest.mark.parametrize("answer", [_ce, _ce_onehot, _ce_loop, lambda z, y: _ce(z.astype(np.float32), y)])
def test_loss_grad_accepts(answer):
    _accepted(loss_grad, answer)


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _columns(z, y, divide=True):
    P = _softmax(z)
    P[:, y] -= 1
    return P / len(y) if divide else P


@pytest.mark.parametrize("answer, phrase", [
    (_columns, "whole COLUMNS y, in every row; subtract it once per row"),
    (lambda z, y: _columns(z, y, divide=False), "divide by N as well"),
    (lambda z, y: _softmax(z) - np.eye(z.shape[1])[y], "SUM of the N losses"),
    (lambda z, y: (_softmax(z, axis=0) - np.eye(z.shape[1])[y]) / len(y), "axis 0"),
    (lambda z, y: _softmax(z) / len(y), "left out the target"),
    (lambda z, y: (np.eye(z.shape[1])[y] - _softmax(z)) / len(y), "sign is flipped"),
    (lambda z, y: (np.log(_softmax(z)) - np.eye(z.shape[1])[y]) / len(y), "log-probabilities"),
    (lambda z, y: (np.exp(z) / np.exp(z).sum(1, keepdims=True) - np.eye(z.shape[1])[y]) / len(y), "exp(1000) overflows"),
    (nn.cross_entropy_backward, "course's own lib.nn.cross_entropy_backward"),
    (lambda z, y: (np.exp(z - z.max()) / np.exp(z - z.max()).sum(1, keepdims=True) - np.eye(z.shape[1])[y]) / len(y),
     "EACH ROW's own maximum"),
])
def test_loss_grad_names(answer, phrase):
    _named(loss_grad, answer, phrase)


def test_loss_grad_reference_by_hand():
    z, y = np.array([[0.0, np.log(3.0)]]), np.array([1])  # p = (1/4, 3/4)
    np.testing.assert_allclose(nn.cross_entropy_backward(z, y), [[0.25, -0.25]])




def _shift_by_target(z, y):  # log-sum-exp around the target's logit: NaN when the max is elsewhere
    N = len(y)
    P = np.exp(z - z[np.arange(N), y][:, None])
    P /= P.sum(1, keepdims=True)
    P[np.arange(N), y] -= 1
    return P / N


def test_loss_grad_names_the_shift_by_the_targets_logit():
    _named(loss_grad, _shift_by_target, "shifted by the target's logit")


def test_loss_grad_extreme_case_has_its_max_away_from_a_target():
    from lib.exercises import tiny_gpt
    z, y = tiny_gpt._extreme_ce()
    assert (z.argmax(1) != y).any() and np.abs(z).max() == 1000
