"""Checkers of lib.exercises.low_rank: right answers pass in many forms, every named bug gets its sentence."""

import numpy as np
import pytest

from lib import svd
from lib.exercises import low_rank as ex


def _raises(*_):
    raise RuntimeError("boom")


GARBAGE = [None, "abc", _raises, 3.5, np.array([np.nan, 1.0])]


@pytest.mark.parametrize("e", [ex.ex1, ex.ex2, ex.ex3, ex.ex4, ex.ex5])
def test_placeholder_garbage_hints_and_folded_solution(e):
    assert e.check(...).status == "not attempted"
    for g in GARBAGE:
        assert not e.check(g).ok
    assert e.hint().text and e.hint(2).text
    sol = e.solution()
    assert sol.code and sol.why and sol.folded
    assert all(line.strip() not in " ".join(e.hints) for line in sol.code.splitlines() if len(line.strip()) > 12)


def _thin(A):
    return np.linalg.svd(A, full_matrices=False)


# ---------------------------------------------------------------- ex1: rank_k
def _loop(A, k):
    U, S, Vt = _thin(A)
    out = np.zeros(A.shape)
    for i in range(k):
        out += S[i] * np.outer(U[:, i], Vt[i])
    return out.tolist()


def _zero_tail(A, k):
    U, S, Vt = _thin(A)
    S = S.copy()
    S[k:] = 0
    return U @ np.diag(S) @ Vt


def _full_sliced(A, k):
    U, S, Vt = np.linalg.svd(A)
    return U[:, :k] @ np.diag(S[:k]) @ Vt[:k]


@pytest.mark.parametrize("fn", [
    lambda A, k: _thin(A)[0][:, :k] @ np.diag(_thin(A)[1][:k]) @ _thin(A)[2][:k],
    _loop, _zero_tail, _full_sliced,
    lambda A, k: (lambda U, S, Vt: (U[:, :k] * S[:k]) @ Vt[:k])(*_thin(A.astype(np.float32))),
])
def test_ex1_right(fn):
    assert ex.ex1.check(fn).ok, ex.ex1.check(fn)


def _smallest(A, k):
    U, S, Vt = _thin(A)
    return U[:, -k:] @ np.diag(S[-k:]) @ Vt[-k:]


@pytest.mark.parametrize("fn, keyword", [
    (_smallest, "k SMALLEST"),
    (lambda A, k: (lambda U, S, Vt: U[:, -k:] @ np.diag(S[-k:]) @ Vt[-k:])(*np.linalg.svd(A)), "full SVD"),
    (lambda A, k: _thin(A)[0][:, :k] @ _thin(A)[2][:k], "left out the singular values"),
    (lambda A, k: _loop(A, k + 1), "k + 1 terms"),
    (lambda A, k: _loop(A, k - 1), "k - 1 terms"),
    (lambda A, k: (_thin(A)[0][:, :k] * _thin(A)[1][:k]) @ _thin(A)[2].T[:k], "V where Vt belongs"),
    (lambda A, k: (_thin(A)[0][:, :k] * _thin(A)[1][:k] ** 2) @ _thin(A)[2][:k], "squared the kept"),
    (lambda A, k: _thin(A)[1][k] * np.outer(_thin(A)[0][:, k], _thin(A)[2][k]), "single column"),
    (lambda A, k: (_thin(A)[0][:, :k] * _thin(A)[1][:k], _thin(A)[2][:k]), "returned 2 factors"),
    (svd.rank_k_approx, "the course's own lib"),
])
def test_ex1_bugs(fn, keyword):
    r = ex.ex1.check(fn)
    assert r.status == "incorrect" and keyword in r.message, r


def test_ex1_smallest_with_full_svd_on_a_tall_matrix_is_named():
    # on the square first case the two "smallest" bugs coincide: the message names both
    r = ex.ex1.check(_smallest)
    assert "Either" in r.message and "full SVD" in r.message


# ---------------------------------------------------------------- ex2: errors
@pytest.mark.parametrize("fn", [
    lambda S, k: (S[k], np.sqrt(np.sum(S[k:] ** 2))),
    lambda S, k: [float(S[k]), float(np.linalg.norm(S[k:]))],
    lambda S, k: np.array([S[k], np.sqrt(sum(s * s for s in S[k:]))], dtype=np.float32),
    lambda S, k: (max(S[k:]), np.sqrt(np.sum(np.square(S)[k:]))),
])
def test_ex2_right(fn):
    assert ex.ex2.check(fn).ok


@pytest.mark.parametrize("fn, keyword", [
    (lambda S, k: (S[k - 1], np.sqrt(np.sum(S[k:] ** 2))), "not S[k-1]"),
    (lambda S, k: (S[0], np.sqrt(np.sum(S[k:] ** 2))), "largest singular value overall"),
    (lambda S, k: (np.sqrt(np.sum(S[k:] ** 2)), S[k]), "swapped"),
    (lambda S, k: (np.sqrt(np.sum(S[k:] ** 2)), np.sqrt(np.sum(S[k:] ** 2))), "that is the Frobenius error"),
    (lambda S, k: (S[-1], np.sqrt(np.sum(S[k:] ** 2))), "SMALLEST singular value"),
    (lambda S, k: (S[k], np.sqrt(np.sum(S[:k] ** 2))), "KEPT"),
    (lambda S, k: (S[k], np.sum(S[k:] ** 2)), "square root"),
    (lambda S, k: (S[k], np.sum(S[k:])), "without squaring"),
    (lambda S, k: (S[k], np.sqrt(np.sum(S[k - 1:] ** 2))), "one too early"),
    (lambda S, k: (S[k], np.sqrt(np.sum(S[k + 1:] ** 2))), "one too late"),
    (lambda S, k: (S[k], np.sqrt(np.sum(S**2))), "ALL singular values"),
    (lambda S, k: {"spectral": S[k], "frobenius": 0.0}, "dict"),
    (lambda S, k: S[k], "two numbers"),
])
def test_ex2_bugs(fn, keyword):
    r = ex.ex2.check(fn)
    assert r.status == "incorrect" and keyword in r.message, r


# ---------------------------------------------------------------- ex3: condition
@pytest.mark.parametrize("fn", [
    lambda A: (lambda S: S[0] / S[-1])(np.linalg.svd(A, compute_uv=False)),
    lambda A: np.linalg.cond(A),
    lambda A: np.linalg.norm(A, 2) * np.linalg.norm(np.linalg.pinv(A), 2),
    lambda A: (lambda S: np.float32(S.max() / S.min()))(np.linalg.svd(A.astype(np.float32), compute_uv=False)),
    lambda A: (lambda G: np.sqrt(np.linalg.eigvalsh(G)[-1] / np.linalg.eigvalsh(G)[0]))(
        A.T @ A if A.shape[0] >= A.shape[1] else A @ A.T),
])
def test_ex3_right(fn):
    assert ex.ex3.check(fn).ok


def _sv(A):
    return np.linalg.svd(A, compute_uv=False)


@pytest.mark.parametrize("fn, keyword", [
    (lambda A: _sv(A)[-1] / _sv(A)[0], "the inverse"),
    (lambda A: _sv(A)[0] / _sv(A)[1], "second singular value"),
    (lambda A: (lambda lam: lam.max() / lam.min())(np.abs(np.linalg.eigvals(A))), "|eigenvalues|"),
    (lambda A: _sv(A)[0] - _sv(A)[-1], "is a ratio"),
    (lambda A: _sv(A)[0], "sigma_max alone"),
    (lambda A: (_sv(A)[0] / _sv(A)[-1]) ** 2, "kappa squared"),
    (lambda A: np.linalg.cond(A, "fro"), "Frobenius norm"),
    (lambda A: np.sqrt(np.abs(np.linalg.eigvalsh(A.T @ A)).max() / np.abs(np.linalg.eigvalsh(A.T @ A)).min()),
     "zero eigenvalues"),
    (svd.condition_number, "the course's own lib"),
])
def test_ex3_bugs(fn, keyword):
    r = ex.ex3.check(fn)
    assert r.status == "incorrect" and keyword in r.message, r


# ---------------------------------------------------------------- ex4: initialisation scale
@pytest.mark.parametrize("fn", [
    lambda D_in, D_out, act: np.sqrt((2.0 if act == "relu" else 1.0) / D_in),
    lambda D_in, D_out, act: (np.sqrt(2) if act.lower() == "relu" else 1) / np.sqrt(D_in),
    lambda D_in, D_out, act: np.float32({"linear": 1.0, "relu": 2.0}[act] / D_in) ** 0.5,
    lambda D_in, D_out, act: (1 + (act == "relu")) ** 0.5 * D_in**-0.5,
])
def test_ex4_right(fn):
    assert ex.ex4.check(fn).ok


def _g(act):
    return 2.0 if act == "relu" else 1.0


@pytest.mark.parametrize("fn, keyword", [
    (lambda D_in, D_out, act: _g(act) / D_in, "the variance"),
    (lambda D_in, D_out, act: np.sqrt(_g(act) * D_in), "DIVIDE"),
    (lambda D_in, D_out, act: np.sqrt(_g(act) / D_out), "you used D_out"),
    (lambda D_in, D_out, act: np.sqrt(2 / (D_in + D_out)), "Xavier"),
    (lambda D_in, D_out, act: np.sqrt(2 / D_in), "for ReLU only"),
    (lambda D_in, D_out, act: np.sqrt(1 / D_in), "double the weight variance"),
    (lambda D_in, D_out, act: (2.0 if act == "relu" else 1.0) / np.sqrt(D_in), "inside the square root"),
    (lambda D_in, D_out, act: np.sqrt((0.5 if act == "relu" else 1.0) / D_in), "not half"),
    (svd.init_std, "the course's own lib"),
])
def test_ex4_bugs(fn, keyword):
    r = ex.ex4.check(fn)
    assert r.status == "incorrect" and keyword in r.message, r


# ---------------------------------------------------------------- ex5: gain or conditioning
@pytest.mark.parametrize("answer", [(0.9**20, 1.0), (0.12, 1), [0.1216, 1], np.array([0.9**20, 1.0], dtype=np.float32),
                                    (np.prod([0.9] * 20), 1)])
def test_ex5_right(answer):
    assert ex.ex5.check(answer).ok


@pytest.mark.parametrize("answer, keyword", [
    ((0.9**20, 0.9**20), "the ratio is 1"),
    ((18.0, 1.0), "not 0.9 * 20"),
    ((0.9, 1.0), "one layer"),
    ((1.0, 1.0), "keep lengths"),
    ((0.9**-20, 1.0), "shrinks"),
    ((0.9**20, 0.0), "at least 1"),
    (0.9**20, "two numbers"),
])
def test_ex5_bugs(answer, keyword):
    r = ex.ex5.check(answer)
    assert r.status == "incorrect" and keyword in r.message, r
