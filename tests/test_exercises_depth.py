"""lib.exercises.depth: right answers pass, classic bugs are named, garbage never crashes."""

from __future__ import annotations

import numpy as np
import pytest

from lib import nn
from lib.exercises.depth import ex1, ex2, ex3, ex4

GARBAGE = [None, "abc", 3, lambda *a: 1 / 0, lambda *a: None, lambda *a: "abc", lambda *a: np.full((2, 2), np.nan)]


def is_incorrect(result, keyword):
    return result.status == "incorrect" and keyword.lower() in result.message.lower()


# ---------------------------------------------------------------- ex1
def test_ex1_correct():
    assert ex1.check(lambda W1, b1, W2, b2: (W1 @ W2, b1 @ W2 + b2)).ok


@pytest.mark.parametrize(("fn", "keyword"), [
    (lambda W1, b1, W2, b2: (W2 @ W1, b1 @ W2 + b2), "wrong order"),
    (lambda W1, b1, W2, b2: (W1 + W2, b1 + b2), "multiplies"),
    (lambda W1, b1, W2, b2: (W1 @ W2, b1 + b2), "passes through the second layer"),
    (lambda W1, b1, W2, b2: (W1 @ W2, b2), "b2 alone"),
    (lambda W1, b1, W2, b2: (W1 @ W2, b1 @ W2), "b2 is missing"),
    (lambda W1, b1, W2, b2: (W1 @ W2, W2 @ b1 + b2), "on the left"),
    (lambda W1, b1, W2, b2: W1 @ W2, "pair"),
])
def test_ex1_bugs(fn, keyword):
    assert is_incorrect(ex1.check(fn), keyword)


# ---------------------------------------------------------------- ex2
def test_ex2_correct():
    assert ex2.check(nn.softmax).ok


def _axis0(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


@pytest.mark.parametrize(("fn", "keyword"), [
    (_axis0, "wrong axis"),
    (lambda Z: np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True), "no max subtraction"),
    (lambda Z: np.exp(Z - Z.max()) / np.exp(Z - Z.max()).sum(axis=1, keepdims=True), "whole array"),
    (lambda Z: np.exp(Z - Z.max(axis=1, keepdims=True)), "normalize"),
    (lambda Z: np.exp(Z), "normalize"),
])
def test_ex2_bugs(fn, keyword):
    assert is_incorrect(ex2.check(fn), keyword)


# ---------------------------------------------------------------- ex3
def test_ex3_correct():
    assert ex3.check(nn.cross_entropy_backward).ok


@pytest.mark.parametrize(("fn", "keyword"), [
    (lambda Z, y: nn.softmax(Z) - nn.one_hot(y, Z.shape[1]), "missing /B"),
    (lambda Z, y: nn.softmax(Z) / len(y), "missing -onehot"),
    (lambda Z, y: (Z - nn.one_hot(y, Z.shape[1])) / len(y), "logits instead of the probabilities"),
    (lambda Z, y: (nn.one_hot(y, Z.shape[1]) - nn.softmax(Z)) / len(y), "sign"),
    (lambda Z, y: (nn.softmax(Z) - nn.one_hot(y, Z.shape[1])) / Z.size, "B * V"),
])
def test_ex3_bugs(fn, keyword):
    assert is_incorrect(ex3.check(fn), keyword)


# ---------------------------------------------------------------- ex4
def test_ex4():
    assert ex4.check(16).ok and ex4.check(16.0).ok
    assert is_incorrect(ex4.check(32), "patterns")
    assert is_incorrect(ex4.check(15), "before any line")
    assert is_incorrect(ex4.check(10), "common point")
    assert is_incorrect(ex4.check(6), "parallel")
    assert ex4.check(17).status == "incorrect"


# ---------------------------------------------------------------- placeholders and garbage
@pytest.mark.parametrize("ex", [ex1, ex2, ex3, ex4])
def test_placeholder_is_not_attempted(ex):
    assert ex.check(...).status == "not attempted"
    if ex is not ex4:
        assert ex.check(lambda *a: ...).status == "not attempted"


@pytest.mark.parametrize("ex", [ex1, ex2, ex3, ex4])
@pytest.mark.parametrize("garbage", GARBAGE)
def test_garbage_gives_a_readable_result(ex, garbage):
    result = ex.check(garbage)
    assert not result.ok and result.status in ("incorrect", "error") and result.message


def test_hints_and_solutions():
    for ex in (ex1, ex2, ex3, ex4):
        assert ex.hint().text and ex.hint(2).text and ex.solution().code
