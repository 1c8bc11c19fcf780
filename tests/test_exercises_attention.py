import re

import numpy as np
import pytest

from lib.exercises import attention as ex


def _swap(a):
    return np.swapaxes(a, -1, -2)


def test_ex1_scores():
    assert ex.ex1.check(lambda Q, K: Q @ _swap(K) / np.sqrt(Q.shape[-1])).ok
    assert ex.ex1.check(lambda Q, K: np.einsum("btd,bsd->bts", Q, K) / np.sqrt(Q.shape[-1])).ok
    bugs = {
        "sqrt": lambda Q, K: Q @ _swap(K),
        "divided by d_k": lambda Q, K: Q @ _swap(K) / Q.shape[-1],
        "transpose of the scores": lambda Q, K: K @ _swap(Q) / np.sqrt(Q.shape[-1]),
        r"swapaxes\(K, -1, -2\)": lambda Q, K: Q @ K.T / np.sqrt(Q.shape[-1]),
    }
    for keyword, fn in bugs.items():
        result = ex.ex1.check(fn)
        assert result.status == "incorrect", (keyword, result)
        assert re.search(keyword, result.message), (keyword, result.message)


def test_ex2_causal_softmax():
    def good(S):
        T = S.shape[-1]
        S = np.where(np.tril(np.ones((T, T), dtype=bool)), S, -np.inf)
        e = np.exp(S - S.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def soft(S, axis=-1):
        e = np.exp(S - S.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    tril = np.tril(np.ones((5, 5), dtype=bool))
    assert ex.ex2.check(good).ok
    cases = {
        "AFTER the softmax": lambda S: np.where(tril, soft(S), 0.0),
        "wrong axis": lambda S: soft(np.where(tril, S, -np.inf), axis=1),
        "forgot the causal mask": lambda S: soft(S),
        "flipped": lambda S: soft(np.where(tril.T, S, -np.inf)),
        "instead of -inf": lambda S: soft(np.where(tril, S, 0.0)),
    }
    for keyword, fn in cases.items():
        result = ex.ex2.check(fn)
        assert result.status == "incorrect" and keyword in result.message, (keyword, result)


def test_ex3_split_heads():
    assert ex.ex3.check(lambda X, h: X.reshape(X.shape[0], X.shape[1], h, -1).transpose(0, 2, 1, 3)).ok
    result = ex.ex3.check(lambda X, h: X.reshape(X.shape[0], h, X.shape[1], -1))
    assert result.status == "incorrect" and "reshaped straight" in result.message
    result = ex.ex3.check(lambda X, h: X.reshape(X.shape[0], X.shape[1], h, -1))
    assert result.status == "incorrect" and "head axis must come before T" in result.message


def test_ex4_variance():
    assert ex.ex4.check(64).ok and ex.ex4.check(64.0).ok
    assert "standard deviation" in ex.ex4.check(8).message
    assert "AFTER dividing" in ex.ex4.check(1).message
    assert ex.ex4.check(12).status == "incorrect"


@pytest.mark.parametrize("exercise", [ex.ex1, ex.ex2, ex.ex3, ex.ex4])
def test_placeholder_and_garbage(exercise):
    assert exercise.check(...).status == "not attempted"
    assert exercise.check(lambda *a: ...).status in ("not attempted", "incorrect")

    def boom(*args):
        raise RuntimeError("oops")

    for garbage in (None, "abc", boom, float("nan"), lambda *a: None, lambda *a: np.full((2, 2), np.nan)):
        result = exercise.check(garbage)
        assert not result.ok and isinstance(result.message, str) and result.message
    assert exercise.hint().text and exercise.solution().code
