"""Checkers of lib.exercises.svd: right answers pass, classic bugs are named, garbage is handled."""

import numpy as np
import pytest

from lib.exercises import svd as ex


def _raises(*_):
    raise RuntimeError("boom")


GARBAGE = [None, "abc", _raises, 3.5, np.array([np.nan, 1.0])]


# ---------------------------------------------------------------- ex1: reconstruct
def test_ex1_right():
    assert ex.ex1.check(lambda U, S, Vt: U @ np.diag(S) @ Vt).ok
    assert ex.ex1.check(lambda U, S, Vt: (U * S) @ Vt).ok


@pytest.mark.parametrize("fn, keyword", [
    (lambda U, S, Vt: U @ np.diag(S) @ Vt.T, "Vt.T"),
    (lambda U, S, Vt: U @ Vt, "left out the singular values"),
    (lambda U, S, Vt: Vt.T @ np.diag(S) @ U.T, "wrong order"),
    (lambda U, S, Vt: U @ (Vt * S), "columns of Vt"),
    (lambda U, S, Vt: U @ np.diag(S**2) @ Vt, "squared"),
])
def test_ex1_bugs(fn, keyword):
    r = ex.ex1.check(fn)
    assert r.status == "incorrect" and keyword in r.message


def test_ex1_placeholder_and_garbage():
    assert ex.ex1.check(...).status == "not attempted"
    assert ex.ex1.check(lambda U, S, Vt: ...).status == "not attempted"
    for g in GARBAGE:
        assert not ex.ex1.check(g).ok


# ---------------------------------------------------------------- ex2: the most stretched direction
def test_ex2_right_either_sign():
    U, S, Vt = np.linalg.svd(ex.A_STRETCH)
    assert ex.ex2.check(Vt[0]).ok
    assert ex.ex2.check(-Vt[0]).ok
    assert ex.ex2.check(list(Vt[0])).ok


def test_ex2_bugs():
    U, S, Vt = np.linalg.svd(ex.A_STRETCH)
    lam, vecs = np.linalg.eig(ex.A_STRETCH)
    cases = [(Vt[:, 0], "rows of Vt"), (U[:, 0], "left singular"), (Vt[-1], "shrinks the most"),
             (vecs[:, np.argmax(np.abs(lam))].real, "eigenvector"), (2 * Vt[0], "unit vector")]
    for answer, keyword in cases:
        r = ex.ex2.check(answer)
        assert r.status == "incorrect" and keyword in r.message, (keyword, r)


def test_ex2_placeholder_and_garbage():
    assert ex.ex2.check(...).status == "not attempted"
    for g in GARBAGE + [np.ones(5)]:
        r = ex.ex2.check(g)
        assert not r.ok and r.message


# ---------------------------------------------------------------- ex3: singular values of a symmetric matrix
def test_ex3_right():
    assert ex.ex3.check(lambda A: np.sort(np.abs(np.linalg.eigvalsh(A)))[::-1]).ok
    assert ex.ex3.check(lambda A: np.linalg.svd(A, compute_uv=False)).ok


@pytest.mark.parametrize("fn, keyword", [
    (lambda A: np.sort(np.linalg.eigvalsh(A))[::-1], "|lambda|"),
    (lambda A: np.linalg.eigvalsh(A), "ascending"),
    (lambda A: np.sort(np.abs(np.linalg.eigvalsh(A))), "wrong order"),
    (lambda A: np.sort(np.linalg.eigvalsh(A) ** 2)[::-1], "squared"),
])
def test_ex3_bugs(fn, keyword):
    r = ex.ex3.check(fn)
    assert r.status == "incorrect" and keyword in r.message, r


def test_ex3_placeholder_and_garbage():
    assert ex.ex3.check(...).status == "not attempted"
    assert ex.ex3.check(lambda A: ...).status == "not attempted"
    for g in GARBAGE + [lambda A: "abc", lambda A: None]:
        assert not ex.ex3.check(g).ok


def test_hints_and_solutions():
    for e in (ex.ex1, ex.ex2, ex.ex3):
        assert e.hint().text and e.hint(2).text and e.solution().code
        assert "hints 1 to" in e.hint(9).text
