"""Checkers of lib.exercises.low_rank: right answers pass, classic bugs are named, garbage is handled."""

import numpy as np
import pytest

from lib.exercises import low_rank as ex


def _raises(*_):
    raise RuntimeError("boom")


GARBAGE = [None, "abc", _raises, 3.5, np.array([np.nan, 1.0])]


def _svd(A):
    return np.linalg.svd(A, full_matrices=False)


# ---------------------------------------------------------------- ex1: rank k
def _rank_k(A, k):
    U, S, Vt = _svd(A)
    return U[:, :k] @ np.diag(S[:k]) @ Vt[:k]


def test_ex1_right():
    assert ex.ex1.check(_rank_k).ok


def _smallest(A, k):
    U, S, Vt = _svd(A)
    return U[:, -k:] @ np.diag(S[-k:]) @ Vt[-k:]


def _no_s(A, k):
    U, S, Vt = _svd(A)
    return U[:, :k] @ Vt[:k]


def _k_plus_1(A, k):
    return _rank_k(A, k + 1)


@pytest.mark.parametrize("fn, keyword", [
    (_smallest, "SMALLEST"), (_no_s, "left out the singular values"), (_k_plus_1, "k + 1"),
])
def test_ex1_bugs(fn, keyword):
    r = ex.ex1.check(fn)
    assert r.status == "incorrect" and keyword in r.message, r


def test_ex1_placeholder_and_garbage():
    assert ex.ex1.check(...).status == "not attempted"
    assert ex.ex1.check(lambda A, k: ...).status == "not attempted"
    for g in GARBAGE:
        assert not ex.ex1.check(g).ok


# ---------------------------------------------------------------- ex2: errors from the tail
def test_ex2_right():
    assert ex.ex2.check(lambda S, k: (S[k], np.sqrt(np.sum(S[k:] ** 2)))).ok
    assert ex.ex2.check(lambda S, k: np.array([S[k], np.linalg.norm(S[k:])])).ok


@pytest.mark.parametrize("fn, keyword", [
    (lambda S, k: (S[k - 1], np.sqrt(np.sum(S[k:] ** 2))), "S[k-1]"),
    (lambda S, k: (S[k], np.sqrt(np.sum(S[:k] ** 2))), "KEPT"),
    (lambda S, k: (S[k], np.sum(S[k:] ** 2)), "square root"),
    (lambda S, k: (S[k], np.sum(S[k:])), "without squaring"),
    (lambda S, k: (S[k], np.sqrt(np.sum(S[k - 1:] ** 2))), "one too early"),
    (lambda S, k: (np.sqrt(np.sum(S[k:] ** 2)), np.sqrt(np.sum(S[k:] ** 2))), "Frobenius error"),
])
def test_ex2_bugs(fn, keyword):
    r = ex.ex2.check(fn)
    assert r.status == "incorrect" and keyword in r.message, r


def test_ex2_placeholder_and_garbage():
    assert ex.ex2.check(...).status == "not attempted"
    for g in GARBAGE + [lambda S, k: S[k], lambda S, k: (1, 2, 3), lambda S, k: np.float64(2.0)]:
        r = ex.ex2.check(g)
        assert not r.ok and r.message


# ---------------------------------------------------------------- ex3: parameters of a factorisation
def test_ex3_right():
    r = ex.ex3.check(lambda m, n, k: k * (m + n))
    assert r.ok and "128x fewer" in r.message


@pytest.mark.parametrize("fn, keyword", [
    (lambda m, n, k: k * m * n, "k * m * n"), (lambda m, n, k: m * n, "dense count"),
    (lambda m, n, k: k * m, "only L"), (lambda m, n, k: k * k * (m + n), "k twice"),
])
def test_ex3_bugs(fn, keyword):
    r = ex.ex3.check(fn)
    assert r.status == "incorrect" and keyword in r.message, r


def test_ex3_placeholder_and_garbage():
    assert ex.ex3.check(...).status == "not attempted"
    for g in GARBAGE:
        assert not ex.ex3.check(g).ok


# ---------------------------------------------------------------- ex4: condition number
def test_ex4_right():
    assert ex.ex4.check(lambda A: np.linalg.cond(A)).ok
    assert ex.ex4.check(lambda A: np.linalg.svd(A, compute_uv=False)[0] / np.linalg.svd(A, compute_uv=False)[-1]).ok


def _sv(A):
    return np.linalg.svd(A, compute_uv=False)


@pytest.mark.parametrize("fn, keyword", [
    (lambda A: _sv(A)[-1] / _sv(A)[0], "inverse"),
    (lambda A: _sv(A)[0] / _sv(A)[1], "LAST"),
    (lambda A: np.abs(np.linalg.eigvals(A)).max() / np.abs(np.linalg.eigvals(A)).min(), "eigenvalues"),
    (lambda A: _sv(A)[0] - _sv(A)[-1], "ratio"),
])
def test_ex4_bugs(fn, keyword):
    r = ex.ex4.check(fn)
    assert r.status == "incorrect" and keyword in r.message, r


def test_ex4_placeholder_and_garbage():
    assert ex.ex4.check(...).status == "not attempted"
    for g in GARBAGE:
        assert not ex.ex4.check(g).ok
