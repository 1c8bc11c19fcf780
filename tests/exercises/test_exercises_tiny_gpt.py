"""Checkers of the chapter tiny-gpt: right answers in several forms, every named bug."""

import numpy as np
import pytest

from lib import nn
from lib.exercises.tiny_gpt import embedding_bug, ex2, ex3, loss_grad, rmsnorm_backward

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


@pytest.mark.parametrize("ex", [rmsnorm_backward, ex2, ex3, embedding_bug, loss_grad])
def test_placeholder_and_garbage(ex):
    assert ex.check(...).status == "not attempted"
    for bad in GARBAGE:
        result = ex.check(bad)
        assert not result.ok and result.status in ("incorrect", "error") and result.message
    assert ex.hint().text and ex.hint(99).text and ex.solution().code


# ---------------------------------------------------------------- rmsnorm_backward


def rms_reference(dy, x, g):
    d = x.shape[-1]
    r = 1 / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5)
    xh, u = x * r, dy * g
    return r * (u - xh * (u * xh).mean(-1, keepdims=True)), (dy * xh).reshape(-1, d).sum(0)


def rms_chain_rule(dy, x, g):  # the staged chain rule through ms = mean(x^2)
    d = x.shape[-1]
    ms = (x * x).mean(-1, keepdims=True) + 1e-5
    u = dy * g
    dms = (u * x).sum(-1, keepdims=True) * (-0.5) * ms**-1.5
    return u / np.sqrt(ms) + dms * 2 * x / d, (dy * x / np.sqrt(ms)).reshape(-1, d).sum(0)


def rms_float32_lists(dy, x, g):
    dx, dg = rms_reference(dy.astype(np.float32), x.astype(np.float32), g.astype(np.float32))
    return dx.tolist(), list(dg)


def rms_jacobian_loop(dy, x, g):
    d = x.shape[-1]
    X, DY = x.reshape(-1, d), dy.reshape(-1, d)
    dx = np.zeros_like(X)
    for i, (row, drow) in enumerate(zip(X, DY, strict=True)):
        r = np.sqrt((row**2).mean() + 1e-5)
        J = np.eye(d) / r - np.outer(row, row) / (d * r**3)  # d xhat / d x, symmetric
        dx[i] = J @ (drow * g)
    return dx.reshape(x.shape), (dy * x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5)).reshape(-1, d).sum(0)


@pytest.mark.parametrize("fn", [rms_reference, rms_chain_rule, rms_float32_lists, rms_jacobian_loop])
def test_rmsnorm_correct(fn):
    _accepted(rmsnorm_backward, fn)


def test_rmsnorm_names_every_bug():
    from lib.exercises.tiny_gpt import _RMS_BUGS
    for sentence, bug in _RMS_BUGS.items():
        _named(rmsnorm_backward, bug, sentence)


def test_rmsnorm_dg_with_leading_axes_is_named():
    def keep(dy, x, g):
        dx, _ = rms_reference(dy, x, g)
        r = 1 / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5)
        return dx, (dy * x * r).sum(0)  # sums only axis 0
    _named(rmsnorm_backward, keep, "all the leading axes")


def test_rmsnorm_refuses_lib():
    def via_lib(dy, x, g):
        _, cache = nn.rms_norm(x, g)
        return nn.norm_backward(dy, cache)[:2]
    _named(rmsnorm_backward, via_lib, "course's own")


# ---------------------------------------------------------------- embedding_bug
def emb_loop(tokens, dx, V):
    out = np.zeros((V, dx.shape[-1]))
    for t, row in zip(tokens.ravel(), dx.reshape(-1, dx.shape[-1]), strict=True):
        out[t] += row
    return out


@pytest.mark.parametrize("fn", [
    emb_loop,
    lambda t, dx, V: np.eye(V)[t.ravel()].T @ dx.reshape(-1, dx.shape[-1]),        # one-hot^T dx
    lambda t, dx, V: np.stack([dx[t == v].sum(0) for v in range(V)]),
    lambda t, dx, V: np.add.reduceat(dx.reshape(-1, dx.shape[-1])[np.argsort(t.ravel(), kind="stable")],
                                     np.searchsorted(np.sort(t.ravel()), np.arange(V))) * (np.bincount(t.ravel(), minlength=V) > 0)[:, None],
])
def test_embedding_correct(fn):
    _accepted(embedding_bug, fn)


def test_embedding_names_every_bug():
    from lib.exercises.tiny_gpt import _EMB_BUGS
    for sentence, bug in _EMB_BUGS.items():
        _named(embedding_bug, bug, sentence)


def test_embedding_the_pages_buggy_function_is_named():
    def buggy(tokens, dx, V):
        dwte = np.zeros((V, dx.shape[-1]))
        dwte[tokens] += dx
        return dwte
    _named(embedding_bug, buggy, "still the buffered scatter")


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
