"""Checkers of lib.exercises.lora: right answers pass in many forms, every named bug gets its sentence."""

import numpy as np
import pytest

from lib import data, lora, nn, svd
from lib.exercises import lora as ex


def _raises(*_):
    raise RuntimeError("boom")


GARBAGE = [None, "abc", _raises, 42, lambda *a: None, lambda *a: "abc", lambda *a: np.nan]


@pytest.mark.parametrize("e", [ex.ex1, ex.ex2, ex.ex3, ex.ex4, ex.ex5])
def test_placeholder_garbage_hints_and_folded_solution(e):
    assert e.check(...).status == "not attempted"
    for bad in GARBAGE:
        result = e.check(bad)
        assert not result.ok and result.status in ("incorrect", "error") and result.message
    assert e.hint().text and e.hint(2).text
    sol = e.solution()
    assert sol.code and sol.why and sol.folded
    assert all(line.strip() not in " ".join(e.hints) for line in sol.code.splitlines() if len(line.strip()) > 12)


# ---------------------------------------------------------------- ex1: the paper's initialisation
def _paper(D_in, D_out, r, rng):
    return rng.standard_normal((D_in, r)) / np.sqrt(D_in), np.zeros((r, D_out))


def _peft_like(D_in, D_out, r, rng):  # kaiming-uniform bound 1/sqrt(D_in), as PEFT's lora_A
    bound = 1 / np.sqrt(D_in)
    return rng.uniform(-bound, bound, size=(D_in, r)), np.zeros((r, D_out))


def _loops(D_in, D_out, r, rng):
    A = [[float(rng.normal(0.0, 0.02)) for _ in range(r)] for _ in range(D_in)]
    B = [[0.0] * D_out for _ in range(r)]
    return A, B


@pytest.mark.parametrize("fn", [
    _paper, _peft_like, _loops,
    lambda D_in, D_out, r, rng: (rng.standard_normal((D_in, r)).astype(np.float32), np.zeros((r, D_out), np.float32)),
    lambda D_in, D_out, r, rng: (rng.normal(0, 1 / r, (D_in, r)), np.zeros((r, D_out))),
    lambda D_in, D_out, r, rng: [rng.standard_normal((r, D_in)).T, np.zeros((D_out, r)).T],
])
def test_ex1_right(fn):
    assert ex.ex1.check(fn).ok, ex.ex1.check(fn)


@pytest.mark.parametrize("fn, keyword", [
    (lambda D_in, D_out, r, rng: (np.zeros((D_in, r)), rng.standard_normal((r, D_out))), "mirror of the paper"),
    (lambda D_in, D_out, r, rng: (np.zeros((D_in, r)), np.zeros((r, D_out))), "never moves"),
    (lambda D_in, D_out, r, rng: (rng.standard_normal((D_in, r)), rng.standard_normal((r, D_out))), "step 0"),
    (lambda D_in, D_out, r, rng: (rng.standard_normal((D_in, r)), 1e-8 * rng.standard_normal((r, D_out))), "step 0"),
    (lambda D_in, D_out, r, rng: (np.zeros((r, D_out)), rng.standard_normal((D_in, r))), "you returned (B, A)"),
    (lambda D_in, D_out, r, rng: (rng.standard_normal((r, D_in)), np.zeros((D_out, r))), "(out, in) shapes"),
    (lambda D_in, D_out, r, rng: (rng.standard_normal((D_in, D_out)), np.zeros((D_out, D_out))), "should have shape"),
    (lambda D_in, D_out, r, rng: (np.tile(rng.standard_normal((D_in, 1)), (1, r)), np.zeros((r, D_out))),
     "columns are equal"),
    (lambda D_in, D_out, r, rng: (np.ones((D_in, r)), np.zeros((r, D_out))), "columns are equal"),
    (lambda D_in, D_out, r, rng: (1000 * rng.standard_normal((D_in, r)), np.zeros((r, D_out))), "huge"),
    (lambda D_in, D_out, r, rng: (1e-7 * rng.standard_normal((D_in, r)), np.zeros((r, D_out))), "almost zero"),
    (lambda D_in, D_out, r, rng: (np.random.standard_normal((D_in, r)), np.zeros((r, D_out))), "global random state"),  # noqa: NPY002 (the bug tested)
    (lambda D_in, D_out, r, rng: (np.random.default_rng(7).standard_normal((D_in, r)), np.zeros((r, D_out))),
     "the same whatever the rng"),
    (lambda D_in, D_out, r, rng: (np.random.default_rng().standard_normal((D_in, r)), np.zeros((r, D_out))),
     "same rng seed"),
    (lambda D_in, D_out, r, rng: (rng.standard_normal((D_in, r)) / np.sqrt(D_in),), "two arrays"),
    (lora.init_lora, "the course's own lib"),
])
def test_ex1_bugs(fn, keyword):
    result = ex.ex1.check(fn)
    assert result.status == "incorrect" and keyword in result.message, result


def test_ex1_symmetric_init_really_stays_rank_one():
    # the reason the identical-column init is rejected: training never breaks the symmetry
    task = data.lowrank_finetune_task(np.random.default_rng(0), d=8, N=40)
    A = np.tile(np.random.default_rng(1).standard_normal((8, 1)), (1, 3)) / np.sqrt(8)
    B = np.zeros((3, 8))
    for _ in range(50):
        _, dY = nn.mse_and_grad(lora.lora_forward(task.X, task.W0, A, B, 3.0), task.Y)
        _, dA, dB = lora.lora_backward(task.X, task.W0, A, B, 3.0, dY)
        A, B = A - 0.5 * dA, B - 0.5 * dB
    assert np.linalg.matrix_rank(A @ B, tol=1e-10) == 1


# ---------------------------------------------------------------- ex2: merging
def _inplace(W0, A, B, alpha):  # what PEFT's merge does: allowed
    W0 += (alpha / A.shape[1]) * A @ B
    return W0


def _loop_merge(W0, A, B, alpha):
    r = A.shape[1]
    out = W0.copy()
    for k in range(r):
        out = out + (alpha / r) * np.outer(A[:, k], B[k])
    return out.tolist()


@pytest.mark.parametrize("fn", [
    lambda W0, A, B, alpha: W0 + (alpha / A.shape[1]) * A @ B,
    lambda W0, A, B, alpha: W0 + alpha / B.shape[0] * np.einsum("ir,ro->io", A, B),
    _loop_merge, _inplace,
    lambda W0, A, B, alpha: (W0 + (alpha / A.shape[1]) * A @ B).astype(np.float32),
    lambda W0, A, B, alpha: (B.T @ A.T * (alpha / len(B))).T + W0,
])
def test_ex2_right(fn):
    assert ex.ex2.check(fn).ok, ex.ex2.check(fn)


@pytest.mark.parametrize("fn, keyword", [
    (lambda W0, A, B, alpha: W0 + A @ B, "forgot the scale"),
    (lambda W0, A, B, alpha: W0 + (A.shape[1] / alpha) * A @ B, "upside down"),
    (lambda W0, A, B, alpha: W0 + alpha * A @ B, "still the function as given"),
    (lambda W0, A, B, alpha: W0 + alpha / np.sqrt(A.shape[1]) * A @ B, "rsLoRA"),
    (lambda W0, A, B, alpha: W0 + (alpha / A.shape[1]) * B @ A, "B @ A is a different"),
    (lambda W0, A, B, alpha: W0 + (alpha / A.shape[1]) * (A @ B).T, "transposed"),
    (lambda W0, A, B, alpha: (alpha / A.shape[1]) * A @ B, "only the update"),
    (lambda W0, A, B, alpha: W0 - (alpha / A.shape[1]) * A @ B, "subtracted"),
    (lambda W0, A, B, alpha: W0 + (alpha / W0.shape[0]) * A @ B, "is D_in"),
    (lambda W0, A, B, alpha: W0 + (alpha / W0.shape[1]) * A @ B, "is D_out"),
    (lora.merge_lora, "the course's own lib"),
])
def test_ex2_bugs(fn, keyword):
    result = ex.ex2.check(fn)
    assert result.status == "incorrect" and keyword in result.message, result


# ---------------------------------------------------------------- ex3: the backward pass
def _grads(X, W0, A, B, alpha, dY):
    s = alpha / A.shape[1]
    H = X @ A
    dH = s * dY @ B.T
    return dY @ W0.T + dH @ A.T, X.T @ dH, s * H.T @ dY


def _grads_loop(X, W0, A, B, alpha, dY):
    s = alpha / A.shape[1]
    dX, dA, dB = np.zeros(X.shape), np.zeros(A.shape), np.zeros(B.shape)
    for n in range(X.shape[0]):  # one example at a time: outer products
        h = X[n] @ A
        dh = s * B @ dY[n]
        dB += s * np.outer(h, dY[n])
        dA += np.outer(X[n], dh)
        dX[n] = W0 @ dY[n] + A @ dh
    return [dX.tolist(), dA.tolist(), dB.tolist()]


@pytest.mark.parametrize("fn", [
    _grads, _grads_loop,
    lambda *a: tuple(g.astype(np.float32) for g in _grads(*a)),
    lambda X, W0, A, B, alpha, dY: (dY @ (W0 + alpha / A.shape[1] * A @ B).T, alpha / A.shape[1] * X.T @ dY @ B.T,
                                    alpha / A.shape[1] * A.T @ X.T @ dY),
])
def test_ex3_right(fn):
    assert ex.ex3.check(fn).ok, ex.ex3.check(fn)


def _variant(**kw):
    def f(X, W0, A, B, alpha, dY):
        return ex._grads(X, W0, A, B, alpha, dY, **kw)
    return f


@pytest.mark.parametrize("fn, keyword", [
    (_variant(s_dB=False, s_dH=False), "forgot the scale s = alpha / r everywhere"),
    (_variant(s_dB=False), "dB lacks the scale"),
    (_variant(s_dH=False), "dA (and the adapter's share of dX) lack the scale"),
    (_variant(s2=True), "scale twice"),
    (_variant(adapter_dX=False), "adapter's path"),
    (_variant(s_dX=False), "dX's adapter path lacks the scale"),
    (lambda *a: (lambda g: (g[0], g[2], g[1]))(_grads(*a)), "(dX, dB, dA)"),
    (lora.lora_backward, "the course's own lib"),
])
def test_ex3_bugs(fn, keyword):
    result = ex.ex3.check(fn)
    assert result.status == "incorrect" and keyword in result.message, result


def test_ex3_reference_matches_finite_differences():
    from lib.gradcheck import check_gradients

    rng = np.random.default_rng(5)
    X, W0, A, B, dY = (rng.standard_normal(s) for s in ((4, 5), (5, 3), (5, 2), (2, 3), (4, 3)))
    dX, dA, dB = ex._grads(X, W0, A, B, 3.0, dY)

    def loss():
        return float(np.sum(dY * lora.lora_forward(X, W0, A, B, 3.0)))

    assert check_gradients(loss, {"X": X, "A": A, "B": B}, {"X": dX, "A": dA, "B": dB}).ok


# ---------------------------------------------------------------- ex4: the data-weighted best rank-r update
def _best_sol(X, delta, r):
    _, S, Vt = np.linalg.svd(X, full_matrices=False)
    U2, S2, Vt2 = np.linalg.svd(S[:, None] * Vt @ delta, full_matrices=False)
    return Vt.T @ (((U2[:, :r] * S2[:r]) @ Vt2[:r]) / S[:, None])


def _best_pinv(X, delta, r):  # the truncated SVD of X delta, pulled back with the pseudo-inverse
    U, S, Vt = np.linalg.svd(X @ delta, full_matrices=False)
    return np.linalg.pinv(X) @ ((U[:, :r] * S[:r]) @ Vt[:r])


def _best_qr(X, delta, r):  # the chapter's library route, written out
    _, R = np.linalg.qr(X)
    U, S, Vt = np.linalg.svd(R @ delta)
    return np.linalg.solve(R, (U[:, :r] * S[:r]) @ Vt[:r])


def _best_gram(X, delta, r):  # the symmetric square root of X^T X instead of S Vt
    w, V = np.linalg.eigh(X.T @ X)
    root = (V * np.sqrt(w)) @ V.T
    U, S, Vt = np.linalg.svd(root @ delta)
    return np.linalg.solve(root, (U[:, :r] * S[:r]) @ Vt[:r])


@pytest.mark.parametrize("answer", [_best_sol, _best_pinv, _best_qr, _best_gram,
                                    lambda X, d, r: _best_sol(X.astype(np.float32), d.astype(np.float32), r)
                                    .astype(np.float64).tolist()])
def test_ex4_right(answer):
    result = ex.ex4.check(answer)
    if "float32" in repr(answer) and not result.ok:  # float32 SVDs are judged at float32 precision
        pytest.skip(result.message)
    assert result.ok, result


def test_ex4_reference_is_lora_best_update():
    rng = np.random.default_rng(3)
    X, delta = rng.standard_normal((30, 5)) * np.arange(1, 6), rng.standard_normal((5, 4))
    np.testing.assert_allclose(ex._best(X, delta, 2), lora.best_update(X, delta, 2), atol=1e-10)
    # and it beats the plain truncated SVD of delta on the loss, which is what makes the case informative
    loss = lambda D: np.linalg.norm(X @ (delta - D))  # noqa: E731
    assert loss(ex._best(X, delta, 2)) < loss(svd.rank_k_approx(delta, 2)) - 1e-3


@pytest.mark.parametrize("sentence", list(ex._BEST_BUGS))
def test_ex4_bugs(sentence):
    result = ex.ex4.check(ex._BEST_BUGS[sentence])
    assert result.status == "incorrect" and sentence in result.message, result


def test_ex4_refuses_lib():
    result = ex.ex4.check(lambda X, d, r: lora.best_update(X, d, r))
    assert "course's own lib.lora.best_update" in result.message


# ---------------------------------------------------------------- ex5: which factor moves first
@pytest.mark.parametrize("answer", ["B", "b", " 'B' "])
def test_ex5_right(answer):
    assert ex.ex5.check(answer).ok


@pytest.mark.parametrize("answer, keyword", [("A", "does not move"), ("both", "only one gradient"),
                                             ("neither", "one factor does move"), ("maybe", "not one of"), (2, "as a string")])
def test_ex5_bugs(answer, keyword):
    result = ex.ex5.check(answer)
    assert result.status == "incorrect" and keyword in result.message, result


def test_ex5_prediction_is_what_training_does():
    task = data.lowrank_finetune_task(np.random.default_rng(0), d=8, N=40)
    A0, B0 = lora.init_lora(8, 8, 2, np.random.default_rng(1))
    A1, B1, _ = lora.train_lora(task.X, task.Y, task.W0, 2, np.random.default_rng(1), steps=1)
    assert np.array_equal(A1, A0) and not np.array_equal(B1, B0)


def test_ex1_names_a_deterministic_A_as_not_drawn_from_rng():
    result = ex.ex1.check(lambda D_in, D_out, r, rng: (np.eye(D_in, r), np.zeros((r, D_out))))
    assert result.status == "incorrect" and "the same whatever the rng" in result.message, result
