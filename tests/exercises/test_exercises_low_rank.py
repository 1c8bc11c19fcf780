"""Checkers of lib.exercises.low_rank: right answers pass in many forms, every named bug gets its sentence."""

import numpy as np
import pytest

from lib import svd
from lib.exercises import low_rank as ex


def _raises(*_):
    raise RuntimeError("boom")


GARBAGE = [None, "abc", _raises, 3.5, np.array([np.nan, 1.0])]


@pytest.mark.parametrize("e", [ex.ex1, ex.choose_k, ex.init_gain, ex.ex4])
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


# ---------------------------------------------------------------- choose_k: the smallest rank for a target error
def _k_loop(S, target):
    S = [float(v) for v in S]
    total = sum(v * v for v in S)
    for k in range(len(S) + 1):
        if (sum(v * v for v in S[k:]) / total) ** 0.5 <= target:
            return k
    return len(S)


def _k_energy(S, target):  # dropped energy at most target**2: the same condition, squared
    S = np.asarray(S, dtype=np.float32)
    dropped = 1 - np.concatenate([[0.0], np.cumsum(S**2)]) / np.sum(S**2)
    return int(np.argmax(dropped <= target**2 + 1e-6))


def _k_searchsorted(S, target):
    errs = np.sqrt(np.cumsum(np.asarray(S)[::-1] ** 2)[::-1] / np.sum(np.square(S)))  # error of k = 0 .. r-1
    return int(np.sum(errs > target))


def _k_norm(S, target):
    return next(k for k in range(len(S) + 1) if np.linalg.norm(S[k:]) <= target * np.linalg.norm(S))


@pytest.mark.parametrize("fn", [_k_loop, _k_energy, _k_searchsorted, _k_norm,
                                lambda S, t: np.int64(_k_loop(S, t)), lambda S, t: float(_k_loop(S, t))])
def test_choose_k_right(fn):
    assert ex.choose_k.check(fn).ok, ex.choose_k.check(fn)


def _first(ok):
    return int(np.argmax(ok)) if np.any(ok) else len(ok) - 1


def _spectral(S, t):
    return _first(np.append(S, 0.0) / S[0] <= t)


def _dropped_energy(S, t):
    return _first(np.append(np.cumsum(S[::-1] ** 2)[::-1], 0.0) / np.sum(S**2) <= t)


def _kept_energy(S, t):
    return _first(np.append(0.0, np.cumsum(S**2)) / np.sum(S**2) >= 1 - t)


def _absolute(S, t):
    return _first(np.sqrt(np.append(np.cumsum(S[::-1] ** 2)[::-1], 0.0)) <= t)


def _not_squared(S, t):
    return _first(np.append(np.cumsum(S[::-1])[::-1], 0.0) / np.sum(S) <= t)


@pytest.mark.parametrize(("fn", "keyword"), [
    (_spectral, "spectral error"),
    (_dropped_energy, "dropped ENERGY"),
    (_kept_energy, "dropped ENERGY"),
    (_absolute, "absolute error"),
    (_not_squared, "without squaring"),
    (lambda S, t: _k_loop(S, t) + 1, "one too many"),
    (lambda S, t: _k_loop(S, t) - 1, "one too few"),
])
def test_choose_k_bugs(fn, keyword):
    r = ex.choose_k.check(fn)
    assert r.status == "incorrect" and keyword in r.message and "Either" not in r.message, r


def test_choose_k_every_bug_alone_on_the_first_case():
    S, t = ex._CHOOSE_CASES[0]
    values = [v for v in ex._choose_bugs(S, t).values()]
    assert len(set(values)) == len(values) and ex._smallest_k(S, t) not in values
    assert np.min(np.abs(ex._rel_errors(S) - t)) > 0.01  # no formulation's rounding can cross the target


def test_choose_k_hard_coded_and_garbage():
    k0 = ex._smallest_k(*ex._CHOOSE_CASES[0])
    r = ex.choose_k.check(lambda S, t: k0)
    assert r.status == "incorrect" and "hard-coded" in r.message, r
    assert ex.choose_k.check(lambda S, t: "ten").status == "incorrect"
    r = ex.choose_k.check(lambda S, t: __import__("lib").svd.energy_rank(S, 1 - t**2))
    assert r.status == "incorrect" and "lib.svd.energy_rank" in r.message, r


def test_choose_k_reference_by_hand():
    assert ex._smallest_k(np.array([3.0, 0.0]), 0.5) == 1  # A = diag(3, 0): rank 1 is exact
    assert ex._smallest_k(np.array([4.0, 3.0]), 0.7) == 1  # rank 1 leaves 3/5 = 0.6
    assert ex._smallest_k(np.array([4.0, 3.0]), 0.5) == 2


# ---------------------------------------------------------------- init_gain: LeCun on a compressing layer
@pytest.mark.parametrize("answer", [0.5, np.float32(0.5), np.sqrt(256 / 1024), 0.49, np.array(0.505)])
def test_init_gain_right(answer):
    assert ex.init_gain.check(answer).ok


@pytest.mark.parametrize(("answer", "keyword"), [
    (1.0, "each COORDINATE"), (2.0, "upside down"), (0.25, "squared lengths"), (0.5 * np.sqrt(2), "He's rule"),
    (1 / 32, "std of the weights"),
])
def test_init_gain_bugs(answer, keyword):
    r = ex.init_gain.check(answer)
    assert r.status == "incorrect" and keyword in r.message, r


def test_init_gain_matches_a_measurement():
    W = np.random.default_rng(0).standard_normal((1024, 256)) / 32
    x = np.random.default_rng(1).standard_normal((2000, 1024))
    ratio = np.linalg.norm(x @ W, axis=1).mean() / np.linalg.norm(x, axis=1).mean()
    assert abs(ratio - 0.5) < 0.01


# ---------------------------------------------------------------- ex5: gain or conditioning
@pytest.mark.parametrize("answer", [(0.9**20, 1.0), (0.12, 1), [0.1216, 1], np.array([0.9**20, 1.0], dtype=np.float32),
                                    (np.prod([0.9] * 20), 1)])
def test_ex5_right(answer):
    assert ex.ex4.check(answer).ok


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
    r = ex.ex4.check(answer)
    assert r.status == "incorrect" and keyword in r.message, r


def test_ex1_the_page_s_buggy_function_is_named():
    def rank_k(A, k):
        U, S, V = np.linalg.svd(A, full_matrices=False)
        return U[:, :k] @ np.diag(S[:k]) @ V.T[:k]

    r = ex.ex1.check(rank_k)
    assert r.status == "incorrect" and "V where Vt belongs" in r.message, r
