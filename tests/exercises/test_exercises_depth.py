"""lib.exercises.depth: several right answers pass, every named bug gets its own sentence."""

from __future__ import annotations

import numpy as np
import pytest

from lib import nn
from lib.exercises.depth import ex1, ex2, ex3, ex4


def _said(result, fragment: str) -> bool:
    return result.status == "incorrect" and fragment.lower() in result.message.lower()


# ---------------------------------------------------------------- ex1: collapse
def _probe(W1, b1, W2, b2):
    eye = np.eye(W1.shape[0])
    b = (np.zeros(W1.shape[0]) @ W1 + b1) @ W2 + b2
    return ((eye @ W1 + b1) @ W2 + b2) - b, b


@pytest.mark.parametrize("fn", [
    lambda W1, b1, W2, b2: (W1 @ W2, b1 @ W2 + b2),
    lambda W1, b1, W2, b2: [np.dot(W1, W2).tolist(), list(np.dot(b1, W2) + b2)],
    _probe,
    lambda W1, b1, W2, b2: (W1 @ W2, (b1 @ W2 + b2)[None, :]),  # a (1, D_out) row works in X @ W + b too
    lambda W1, b1, W2, b2: (np.einsum("ih,ho->io", W1, W2).astype(np.float32), (b1 @ W2 + b2).astype(np.float32)),
])
def test_ex1_right(fn):
    assert ex1.check(fn).ok, ex1.check(fn)


@pytest.mark.parametrize(("fn", "fragment"), [
    (lambda W1, b1, W2, b2: (W2 @ W1, b1 @ W2 + b2), "wrong order"),
    (lambda W1, b1, W2, b2: (W1 + W2, b1 @ W2 + b2), "does not add them"),
    (lambda W1, b1, W2, b2: (W1.T @ W2, b1 @ W2 + b2), "W1.T @ W2"),
    (lambda W1, b1, W2, b2: ((W1 @ W2).T, b1 @ W2 + b2), "(W1 @ W2).T"),
    (lambda W1, b1, W2, b2: (W1 @ W2, b1 + b2), "passes through the second layer"),
    (lambda W1, b1, W2, b2: (W1 @ W2, b2), "b2 alone"),
    (lambda W1, b1, W2, b2: (W1 @ W2, b1 @ W2), "b2 is missing"),
    (lambda W1, b1, W2, b2: (W1 @ W2, W2 @ b1 + b2), "on the left"),
    (lambda W1, b1, W2, b2: W1 @ W2, "pair"),
])
def test_ex1_bugs(fn, fragment):
    assert _said(ex1.check(fn), fragment), ex1.check(fn)


# ---------------------------------------------------------------- ex2: stable softmax
def _softmax_loop(Z):
    rows = []
    for z in np.asarray(Z).tolist():
        m = max(z)
        e = [np.exp(v - m) for v in z]
        rows.append([v / sum(e) for v in e])
    return rows


def test_ex2_the_library_function_is_not_an_answer():
    assert _said(ex2.check(nn.softmax), "course's own")
    assert _said(ex2.check(lambda Z: nn.softmax(Z)), "course's own")  # a wrapper too


@pytest.mark.parametrize("fn", [
    lambda Z: (lambda E: E / E.sum(axis=-1, keepdims=True))(np.exp(Z - Z.max(axis=-1, keepdims=True))),
    _softmax_loop,
    lambda Z: np.exp(Z - Z.max(1, keepdims=True) - np.log(np.exp(Z - Z.max(1, keepdims=True)).sum(1, keepdims=True))),
    lambda Z: (lambda E: E / E.sum(1, keepdims=True))(np.exp((Z - Z.max(1, keepdims=True)).astype(np.float32))),
])
def test_ex2_right(fn):
    assert ex2.check(fn).ok, ex2.check(fn)


def _shift(how):
    def fn(Z):
        with np.errstate(all="ignore"):
            E = np.exp(Z - how(Z))
            return E / E.sum(axis=1, keepdims=True)
    return fn


@pytest.mark.parametrize(("fn", "fragment"), [
    (_shift(lambda Z: 0.0), "no max subtraction"),
    (_shift(lambda Z: Z.max()), "max of the whole array"),
    (_shift(lambda Z: Z.min(axis=1, keepdims=True)), "row's minimum"),
    (_shift(lambda Z: Z.mean(axis=1, keepdims=True)), "row's mean"),
    (_shift(lambda Z: np.median(Z, axis=1, keepdims=True)), "span 2000"),
    (lambda Z: (lambda E: E / E.sum(axis=0, keepdims=True))(np.exp(Z - Z.max(axis=0, keepdims=True))), "wrong axis"),
    (lambda Z: np.exp(Z - Z.max(1, keepdims=True)), "forgot to normalize (divide by the row sums)"),
    (lambda Z: (lambda E: E / E.sum())(np.exp(Z - Z.max(1, keepdims=True))), "after subtracting the max"),
    (lambda Z: np.exp(Z), "exp(z) alone"),
])
def test_ex2_bugs(fn, fragment):
    assert _said(ex2.check(fn), fragment), ex2.check(fn)


# ---------------------------------------------------------------- ex3: cross-entropy gradient
def _ce(Z, y):
    P = nn.softmax(Z)
    P[np.arange(len(y)), y] -= 1
    return P / len(y)


def _ce_loop(Z, y):
    out = []
    for z, label in zip(np.asarray(Z), y, strict=True):
        e = np.exp(z - z.max())
        p = e / e.sum()
        p[label] -= 1
        out.append(p / len(y))
    return np.array(out, dtype=np.float32)


@pytest.mark.parametrize("fn", [_ce, _ce_loop, lambda Z, y: (nn.softmax(Z) - np.eye(Z.shape[1])[y]) / Z.shape[0]])
def test_ex3_right(fn):
    assert ex3.check(fn).ok, ex3.check(fn)


def _col(Z, y):
    P = nn.softmax(Z)
    P[:, y] -= 1
    return P / len(y)


@pytest.mark.parametrize(("fn", "fragment"), [
    (lambda Z, y: nn.softmax(Z) - np.eye(Z.shape[1])[y], "missing /B"),
    (lambda Z, y: nn.softmax(Z) / len(y), "missing -onehot"),
    (lambda Z, y: (Z - np.eye(Z.shape[1])[y]) / len(y), "logits instead"),
    (lambda Z, y: (np.eye(Z.shape[1])[y] - nn.softmax(Z)) / len(y), "sign is flipped"),
    (lambda Z, y: (nn.softmax(Z) - np.eye(Z.shape[1])[y]) / Z.size, "b * v"),
    (lambda Z, y: (nn.softmax(Z) - np.eye(Z.shape[1])[y]) / Z.shape[1], "number of classes"),
    (_col, "whole columns"),
    (lambda Z, y: ((lambda E: E / E.sum(0, keepdims=True))(np.exp(Z - Z.max(0, keepdims=True)))
                   - np.eye(Z.shape[1])[y]) / len(y), "wrong axis"),
    (nn.cross_entropy_backward, "course's own"),
    (lambda Z, y: nn.cross_entropy_backward(Z, y), "course's own"),
])
def test_ex3_bugs(fn, fragment):
    assert _said(ex3.check(fn), fragment), ex3.check(fn)


# ---------------------------------------------------------------- ex4: depth against width
@pytest.mark.parametrize("answer", [15, 15.0, np.int64(15), np.array(15), 2**4 - 1])
def test_ex4_right(answer):
    assert ex4.check(answer).ok


@pytest.mark.parametrize(("answer", "fragment"), [
    (16, "number of pieces"), (8, "units the deep network uses"), (4, "is the depth"), (5, "2-D input"),
    (2**16, "on/off patterns"), (14, "fewer than 16"), (17, "find the smallest"), ("15", "whole number"),
])
def test_ex4_wrong(answer, fragment):
    assert _said(ex4.check(answer), fragment), ex4.check(answer)


def test_ex4_the_deep_net_really_makes_16_pieces_with_8_units():
    deep = nn.sawtooth_network(4)
    xs = np.linspace(0.0013, 0.9991, 20001)
    line = np.stack([xs, np.full_like(xs, 0.5)], axis=1)
    assert nn.region_ids(line, deep)[1] == 16
    assert sum(W.shape[1] for W, _ in deep[:-1]) == 8


# ---------------------------------------------------------------- the page's find-the-bug and the reordered cases
def test_ex2_the_page_s_buggy_softmax_is_named():
    def softmax(Z):  # the page's version: the maximum of the whole batch
        E = np.exp(Z - Z.max())
        return E / E.sum(axis=1, keepdims=True)

    r = ex2.check(softmax)
    assert r.status == "incorrect" and "max of the whole array" in r.message, r


def test_ex3_every_entry_minus_one_is_not_the_fancy_index_slip():
    def minus_one(Z, y):
        return (nn.softmax(Z) - 1) / len(y)

    def columns(Z, y):
        P = nn.softmax(Z)
        P[:, y] -= 1
        return P / len(y)

    r1, r2 = ex3.check(minus_one), ex3.check(columns)
    assert "every entry" in r1.message and "whole columns" in r2.message, (r1, r2)


def test_ex2_nan_to_num_patch_is_named():
    def patched(Z):  # the batch's max, and the NaN rows zeroed afterwards
        E = np.exp(Z - Z.max())
        return np.nan_to_num(E / E.sum(axis=1, keepdims=True))

    r = ex2.check(patched)
    assert r.status == "incorrect" and "np.nan_to_num" in r.message, r
