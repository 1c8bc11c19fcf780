"""Checkers of lib.exercises.svd: right answers pass in many forms, every named bug gets its sentence."""

import numpy as np
import pytest

from lib import svd
from lib.exercises import svd as ex


def _raises(*_):
    raise RuntimeError("boom")


GARBAGE = [None, "abc", _raises, 3.5, np.array([np.nan, 1.0])]


@pytest.mark.parametrize("e", [ex.ex1, ex.ex2, ex.ex3, ex.ex4, ex.ex5])
def test_placeholder_garbage_hints_and_folded_solution(e):
    assert e.check(...).status == "not attempted"
    for g in GARBAGE:
        assert not e.check(g).ok
    assert e.hint().text and e.hint(2).text and e.hint(99).text
    sol = e.solution()
    assert sol.code and sol.why and sol.folded and "<details" in sol._repr_html_()
    # hints climb but never hand over the solution's code
    assert all(line.strip() not in " ".join(e.hints) for line in sol.code.splitlines() if len(line.strip()) > 12)


# ---------------------------------------------------------------- ex1: reconstruct
def _loop(U, S, Vt):
    A = np.zeros((U.shape[0], Vt.shape[1]))
    for i in range(len(S)):
        A += S[i] * np.outer(U[:, i], Vt[i])
    return A.tolist()


@pytest.mark.parametrize("fn", [
    lambda U, S, Vt: U @ np.diag(S) @ Vt,
    lambda U, S, Vt: (U * S) @ Vt,
    lambda U, S, Vt: np.einsum("ir,r,rj->ij", U, S, Vt),
    lambda U, S, Vt: (U.astype(np.float32) @ np.diag(S.astype(np.float32)) @ Vt.astype(np.float32)),
    _loop,
    lambda U, S, Vt: np.linalg.multi_dot([U, np.diag(S), Vt]),
])
def test_ex1_right(fn):
    assert ex.ex1.check(fn).ok, ex.ex1.check(fn)


@pytest.mark.parametrize("fn, keyword", [
    (lambda U, S, Vt: U @ S @ Vt, "matrix-vector product"),
    (lambda U, S, Vt: U @ np.diag(S) @ Vt.T, "you used Vt.T"),
    (lambda U, S, Vt: U @ Vt, "left out the singular values"),
    (lambda U, S, Vt: Vt.T @ np.diag(S) @ U.T, "wrong order"),
    (lambda U, S, Vt: U @ (Vt * S), "scales the columns of Vt"),
    (lambda U, S, Vt: np.diag(S) @ U @ Vt, "wrong place"),
    (lambda U, S, Vt: U @ np.diag(S**2) @ Vt, "squared"),
    (lambda U, S, Vt: U.T @ np.diag(S) @ Vt, "U.T"),
    (lambda U, S, Vt: Vt @ np.diag(S) @ U, "factors are reversed"),
    (lambda U, S, Vt: U @ np.diag(S), "left out Vt"),
    (lambda U, S, Vt: np.diag(S) @ Vt, "left out U"),
    (svd.reconstruct, "the course's own lib"),
])
def test_ex1_bugs(fn, keyword):
    r = ex.ex1.check(fn)
    assert r.status == "incorrect" and keyword in r.message, r


# ---------------------------------------------------------------- ex2: the most stretched direction
def _power_iteration():
    x = np.ones(3)
    for _ in range(500):
        x = ex.A_STRETCH.T @ (ex.A_STRETCH @ x)
        x /= np.linalg.norm(x)
    return x


@pytest.mark.parametrize("answer", [
    np.linalg.svd(ex.A_STRETCH)[2][0], -np.linalg.svd(ex.A_STRETCH)[2][0], list(np.linalg.svd(ex.A_STRETCH)[2][0]),
    np.linalg.svd(ex.A_STRETCH)[2][0].astype(np.float32), np.linalg.eigh(ex.A_STRETCH.T @ ex.A_STRETCH)[1][:, -1],
    _power_iteration(),
])
def test_ex2_right(answer):
    assert ex.ex2.check(answer).ok


def test_ex2_bugs():
    U, S, Vt = np.linalg.svd(ex.A_STRETCH)
    lam, vecs = np.linalg.eig(ex.A_STRETCH)
    top = vecs[:, np.argmax(np.abs(lam))].real
    cases = [(Vt[:, 0], "rows of Vt"), (U[:, 0], "left singular"), (Vt[-1], "shrinks the most"),
             (top / np.linalg.norm(top), "eigenvector"), (2 * Vt[0], "unit vector"), (Vt[:1], "shape")]
    for answer, keyword in cases:
        r = ex.ex2.check(answer)
        assert r.status == "incorrect" and keyword in r.message, (keyword, r)


# ---------------------------------------------------------------- ex3: singular values from eigenvalues
@pytest.mark.parametrize("fn", [
    lambda A: np.sort(np.abs(np.linalg.eigvalsh(A)))[::-1],
    lambda A: -np.sort(-np.abs(np.linalg.eigvalsh(A))),
    lambda A: np.sqrt(np.clip(np.linalg.eigvalsh(A @ A), 0, None))[::-1],
    lambda A: sorted(abs(float(v)) for v in np.linalg.eigvalsh(A))[::-1],
    lambda A: np.sort(np.abs(np.linalg.eigvalsh(A.astype(np.float32))))[::-1],
])
def test_ex3_right(fn):
    assert ex.ex3.check(fn).ok


@pytest.mark.parametrize("fn, keyword", [
    (lambda A: np.sort(np.linalg.eigvalsh(A))[::-1], "eigenvalues themselves"),
    (lambda A: np.linalg.eigvalsh(A), "ascending order and with their signs"),
    (lambda A: np.abs(np.linalg.eigvalsh(A)), "kept eigvalsh's order"),
    (lambda A: np.abs(np.linalg.eigvalsh(A))[::-1], "sorted by signed value (largest first)"),
    (lambda A: np.sort(np.abs(np.linalg.eigvalsh(A))), "wrong order"),
    (lambda A: np.sort(np.linalg.eigvalsh(A) ** 2)[::-1], "squared them"),
])
def test_ex3_bugs(fn, keyword):
    r = ex.ex3.check(fn)
    assert r.status == "incorrect" and keyword in r.message, r


# ---------------------------------------------------------------- ex4: y = x W
@pytest.mark.parametrize("fn", [
    lambda W: np.linalg.svd(W)[0][:, 0],
    lambda W: -np.linalg.svd(W, full_matrices=False)[0][:, 0],
    lambda W: np.linalg.eigh(W @ W.T)[1][:, -1],
    lambda W: list(np.linalg.svd(W.astype(np.float32))[0][:, 0]),
    lambda W: np.linalg.svd(W.T)[2][0],
])
def test_ex4_right(fn):
    assert ex.ex4.check(fn).ok


@pytest.mark.parametrize("fn, keyword", [
    (lambda W: np.linalg.svd(W)[2][0], "textbook y = W x"),
    (lambda W: np.linalg.svd(W)[2][:, 0], "column of Vt"),
    (lambda W: np.linalg.svd(W)[0][0], "row of U"),
    (lambda W: np.linalg.svd(W)[0][:, -1], "amplifies LEAST"),
    (lambda W: 3 * np.linalg.svd(W)[0][:, 0], "unit vector"),
])
def test_ex4_bugs(fn, keyword):
    r = ex.ex4.check(fn)
    assert r.status == "incorrect" and keyword in r.message, r


def test_ex4_smallest_nonzero_gain_named_for_a_wide_input():
    def smallest_nonzero(W):
        U, S, Vt = np.linalg.svd(W)
        return U[:, len(S) - 1] if W.shape[0] > W.shape[1] else U[:, 0]

    r = ex.ex4.check(smallest_nonzero)
    assert r.status == "incorrect" and "smallest non-zero gain" in r.message, r


# ---------------------------------------------------------------- ex5: the smallest gain
S5 = np.linalg.svd(ex.W_COMPRESS, compute_uv=False)


@pytest.mark.parametrize("answer", [(0.0, S5[-1]), [0, float(S5[-1])], np.array([0.0, S5[-1]], dtype=np.float32),
                                    (0.0, round(float(S5[-1]), 4)),
                                    (np.linalg.norm(np.linalg.svd(ex.W_COMPRESS)[0][:, -1] @ ex.W_COMPRESS), S5.min())])
def test_ex5_right(answer):
    assert ex.ex5.check(answer).ok


@pytest.mark.parametrize("answer, keyword", [
    ((S5[-1], S5[-1]), "null space and comes out as 0"),
    ((0.0, 0.0), "its smallest gain is sigma_min"),
    ((S5[-1], 0.0), "swapped"),
    ((S5[0], S5[0]), "largest gain"),
    ((0.0,), "two numbers"),
])
def test_ex5_bugs(answer, keyword):
    r = ex.ex5.check(answer)
    assert r.status == "incorrect" and keyword in r.message, r


# ---------------------------------------------------------------- ex1 as a find-the-bug; ex3 against every route
def test_ex1_the_page_s_buggy_function_is_named():
    r = ex.ex1.check(lambda U, S, Vt: U @ (S * Vt))  # the colleague's line: S broadcast over Vt's columns
    assert r.status == "incorrect" and "scales the columns of Vt" in r.message, r


@pytest.mark.parametrize("fixed", [lambda U, S, Vt: U @ (S[:, None] * Vt), lambda U, S, Vt: U @ (np.diag(S) @ Vt),
                                   lambda U, S, Vt: (U * S) @ Vt.astype(np.float32)])
def test_ex1_fixed_versions_pass(fixed):
    assert ex.ex1.check(fixed).ok


def _svd_by_imported_name(A):
    from numpy.linalg import svd as decompose  # imported inside: found at run time
    return decompose(A, compute_uv=False)


@pytest.mark.parametrize("route", [
    lambda A: np.linalg.svd(A, compute_uv=False),
    lambda A: np.linalg.svdvals(A),
    lambda A: np.sort(np.abs(np.linalg.eigvalsh(A)))[::-1] * (np.linalg.cond(A) > 0),
    lambda A: np.sort(np.abs(np.linalg.eigvalsh(A)))[::-1] + 0 * np.linalg.norm(A, 2),
    _svd_by_imported_name,
])
def test_ex3_refuses_every_route_to_the_svd(route):
    r = ex.ex3.check(route)
    assert r.status == "incorrect" and ("eigvalsh alone" in r.message or "forbids" in r.message), r


def test_ex3_refuses_a_name_imported_before_the_check():
    from numpy.linalg import svd

    r = ex.ex3.check(lambda A: svd(A)[1])
    assert r.status == "incorrect" and "svd" in r.message, r
    assert np.linalg.svd is svd  # the watch is undone


@pytest.mark.parametrize("right", [
    lambda A: np.sort(np.abs(np.linalg.eigvalsh(A)))[::-1],
    lambda A: np.sqrt(np.sort(np.linalg.eigvalsh(A @ A))[::-1].clip(0)),
    lambda A: sorted((abs(v) for v in np.linalg.eigvalsh(A).astype(np.float32)), reverse=True),
])
def test_ex3_eigvalsh_answers_pass(right):
    assert ex.ex3.check(right).ok
