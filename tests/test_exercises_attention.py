"""The attention exercises: several correct answers accepted, every named bug named by its own sentence."""

import numpy as np
import pytest

from lib import attention
from lib.exercises import attention as ex

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # learner bugs overflow on purpose


def _swap(a):
    return np.swapaxes(a, -1, -2)


def _accepted(exercise, answer):
    result = exercise.check(answer)
    assert result.ok, result


def _named(exercise, answer, phrase):
    result = exercise.check(answer)
    assert result.status == "incorrect", result
    assert phrase in result.message, (phrase, result.message)
    return result.message


# ---------------------------------------------------------------- ex1 scores
def _scores_loop(Q, K):
    B, T_q, d_k = Q.shape
    out = np.zeros((B, T_q, K.shape[1]))
    for b in range(B):
        for i in range(T_q):
            for j in range(K.shape[1]):
                out[b, i, j] = Q[b, i] @ K[b, j] / d_k**0.5
    return out


@pytest.mark.parametrize("answer", [
    lambda Q, K: Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1]),
    lambda Q, K: np.einsum("bid,bjd->bij", Q, K) / np.sqrt(K.shape[-1]),
    lambda Q, K: (Q / np.sqrt(Q.shape[-1])) @ K.transpose(0, 2, 1),
    lambda Q, K: np.matmul(Q.astype(np.float32), np.swapaxes(K, 1, 2).astype(np.float32)) / np.float32(np.sqrt(Q.shape[2])),
    lambda Q, K: (Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])).tolist(),
    _scores_loop,
])
def test_ex1_accepts(answer):
    _accepted(ex.ex1, answer)


@pytest.mark.parametrize("answer, phrase", [
    (lambda Q, K: Q @ _swap(K), "forgot to divide by sqrt(d_k)"),
    (lambda Q, K: Q @ _swap(K) / Q.shape[-1], "you divided by d_k"),
    (lambda Q, K: Q @ _swap(K) * np.sqrt(Q.shape[-1]), "multiplied by sqrt(d_k)"),
    (lambda Q, K: K @ _swap(Q) / np.sqrt(Q.shape[-1]), "K Q^T / sqrt(d_k), the transpose"),
    (lambda Q, K: Q @ _swap(K) / 2.0, "a fixed 2 = sqrt(4)"),
    (lambda Q, K: np.einsum("bid,bjd->bij", Q, K) / np.sqrt(4), "a fixed 2 = sqrt(4)"),
    (lambda Q, K: Q @ _swap(K) / np.sqrt(K.shape[1]), "number of keys T_k"),
    (lambda Q, K: Q @ _swap(K) / np.sqrt(Q.shape[1]), "number of queries T_q"),
    (lambda Q, K: attention.softmax(Q @ _swap(K) / np.sqrt(Q.shape[-1])), "softmax of the scores"),
    (lambda Q, K: Q @ _swap(K) / np.sqrt(8), "divided by 2.828 everywhere"),
    (lambda Q, K: Q @ K.T / np.sqrt(Q.shape[-1]), "K.T on a 3-D array reverses all three"),
    (lambda Q, K: Q @ K / np.sqrt(Q.shape[-1]), "Swap only the last two axes"),
])
def test_ex1_names(answer, phrase):
    _named(ex.ex1, answer, phrase)


def test_ex1_names_silent_K_T_on_a_cube():
    """With B = T = d_k the K.T bug runs without an error; it must still be named."""
    Q, K = ex._SCORE_CASES[3].make()  # B = T_q = T_k = d_k = 3
    sentence = next(s for s in ex._score_bugs(Q, K) if s.startswith("K.T reverses"))
    from lib.exercises import Wrong, compare
    with pytest.raises(Wrong, match="K.T reverses"):
        compare(Q @ K.T / np.sqrt(3), Q @ _swap(K) / np.sqrt(3), bugs={sentence: ex._score_bugs(Q, K)[sentence]})


def test_ex1_refuses_lib():
    def via_lib(Q, K):
        return attention.attention_forward(Q, K, K)[1]["A"]
    _named(ex.ex1, via_lib, "course's own lib.attention.attention_forward")


# ---------------------------------------------------------------- ex2 causal softmax, T_q <= T_k
def _mask(S):
    T_q, T_k = S.shape[-2:]
    return np.tril(np.ones((T_q, T_k), dtype=bool), k=T_k - T_q)


def _good_where(S):
    S = np.where(_mask(S), S, -np.inf)
    e = np.exp(S - S.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _good_big_negative(S):
    S = np.where(_mask(S), S, np.finfo(S.dtype).min)
    e = np.exp(S - S.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _good_renormalise(S):
    e = np.exp(S - S.max(axis=-1, keepdims=True)) * _mask(S)
    return e / e.sum(axis=-1, keepdims=True)


def _good_float32_inplace(S):
    S = S.astype(np.float32)
    S[..., ~_mask(S)] = -np.inf
    S -= S.max(axis=-1, keepdims=True)
    np.exp(S, out=S)
    S /= S.sum(axis=-1, keepdims=True)
    return S


def _good_last_rows_of_square(S):
    T_q, T_k = S.shape[-2:]
    m = np.tril(np.ones((T_k, T_k), dtype=bool))[T_k - T_q:]
    S = S + np.where(m, 0.0, -np.inf)
    return np.exp(S - S.max(-1, keepdims=True)) / np.exp(S - S.max(-1, keepdims=True)).sum(-1, keepdims=True)


def _good_loop(S):
    out = np.zeros_like(S)
    T_q, T_k = S.shape[-2:]
    for b in range(S.shape[0]):
        for i in range(T_q):
            last = T_k - T_q + i
            row = S[b, i, :last + 1]
            e = np.exp(row - row.max())
            out[b, i, :last + 1] = e / e.sum()
    return out


@pytest.mark.parametrize("answer", [_good_where, _good_big_negative, _good_renormalise, _good_float32_inplace,
                                    _good_last_rows_of_square, _good_loop,
                                    lambda S: _good_where(S).tolist()])
def test_ex2_accepts(answer):
    _accepted(ex.ex2, answer)


def _with(mask_fn, fill=-np.inf, axis=-1, shift="max"):
    def answer(S):
        return ex._softmax(np.where(mask_fn(S), S, fill), axis=axis, shift=shift)
    return answer


def _offset(k):
    return lambda S: np.tril(np.ones(S.shape[-2:], dtype=bool), k=S.shape[-1] - S.shape[-2] + k)


def _after(S):
    return np.where(_mask(S), ex._softmax(S), 0.0)


def _added(S):
    return ex._softmax(S + (-np.inf) * (1 - _mask(S)))


def _naive(S):
    e = np.exp(np.where(_mask(S), S, -np.inf))
    return e / e.sum(axis=-1, keepdims=True)


def _square_mask(S):
    T = S.shape[-1]
    return ex._softmax(np.where(np.tril(np.ones((T, T), dtype=bool)), S, -np.inf))


@pytest.mark.parametrize("answer, phrase", [
    (_after, "mask AFTER the softmax"),
    (lambda S: ex._softmax(S), "forgot the causal mask"),
    (_with(lambda S: ~_offset(-1)(S)), "mask is flipped"),
    (_with(lambda S: np.tril(np.ones(S.shape[-2:], dtype=bool))), "aligned to the first keys"),
    (_with(_offset(-1)), "also hides the diagonal"),
    (_with(_mask, fill=0.0), "masked with 0 instead of -inf"),
    (_with(_mask, axis=-2), "wrong axis (the queries"),
    (_with(_mask, axis=0), "axis 0, the batch"),
    (_with(_mask, shift="min"), "row's minimum"),
    (_with(_mask, shift="mean"), "row's mean"),
    (_added, "-inf * 0 = NaN"),
    (_with(_mask, fill=np.finfo(float).min, shift="min"), "huge negative mask value, so the other"),
    (_with(_mask, fill=-1e4, shift="mean"), "drags the mean down"),
    (_with(_mask, fill=-1e30, axis=0), "axis 0, the batch (here with a finite"),
    (_with(_mask, fill=-1e9, axis=-2), "axis -2; here with a finite"),
    (_naive, "exp(1000) overflows"),
    (_with(_mask, shift="none"), "exp(1000) overflows"),
    (lambda S: (lambda e: e / e.sum(-1, keepdims=True))(np.exp(np.where(_mask(S), S, -np.inf) - S.max())),
     "EACH ROW's own maximum"),
    (_with(_mask, fill=-10.0), "must get exactly 0"),
    (_square_mask, "build it from both S.shape[-2] and S.shape[-1]"),
    (lambda S: _good_where(S) * 0.9, "sums to 0.9"),
    (lambda S: attention.softmax(np.where(attention.causal_mask(*S.shape[-2:]), S, -np.inf)),
     "course's own lib.attention.causal_mask"),
])
def test_ex2_names(answer, phrase):
    _named(ex.ex2, answer, phrase)


def test_ex2_min_and_mean_coincide_as_either_or():
    message = _named(ex.ex2, _with(_mask, shift="min"), "Either")
    assert "row's mean" in message


# ---------------------------------------------------------------- ex3 split heads
def _heads_stack(X, h):
    d_k = X.shape[-1] // h
    return np.stack([X[..., j * d_k:(j + 1) * d_k] for j in range(h)], axis=1)


@pytest.mark.parametrize("answer", [
    lambda X, h: X.reshape(X.shape[0], X.shape[1], h, -1).transpose(0, 2, 1, 3),
    lambda X, h: np.swapaxes(X.reshape(*X.shape[:2], h, X.shape[2] // h), 1, 2),
    _heads_stack,
    lambda X, h: np.stack(np.split(X, h, axis=-1), axis=1),
    lambda X, h: np.moveaxis(X.reshape(*X.shape[:2], h, -1), 2, 1).astype(np.float32),
    lambda X, h: np.ascontiguousarray(X.reshape(X.shape[0], X.shape[1], h, -1).transpose(0, 2, 1, 3)).tolist(),
])
def test_ex3_accepts(answer):
    _accepted(ex.ex3, answer)


@pytest.mark.parametrize("answer, phrase", [
    (lambda X, h: X.reshape(X.shape[0], h, X.shape[1], -1), "reshaped straight to (B, h, T, d_k)"),
    (lambda X, h: X.reshape(X.shape[0], X.shape[1], h, -1), "that is (B, T, h, d_k)"),
    (lambda X, h: X.reshape(X.shape[0], X.shape[1], h, -1).transpose(0, 2, 3, 1), "(B, h, d_k, T)"),
    (lambda X, h: np.stack([X[..., j::h] for j in range(h)], axis=1), "every h-th feature"),
    (lambda X, h: np.swapaxes(X, 1, 2).reshape(X.shape[0], h, X.shape[1], -1), "transposed before reshaping"),
    (lambda X, h: X.reshape(X.shape[0], X.shape[1], 2, -1).transpose(0, 2, 1, 3), "into 2 heads whatever h is"),
    (lambda X, h: X.reshape(X.shape[0], X.shape[1], X.shape[2] // h, h).transpose(0, 2, 1, 3), "swapped h and d_k"),
    (attention.split_heads, "course's own lib.attention.split_heads"),
    (lambda X, h: X.reshape(X.shape[0], X.shape[1], h, -1).transpose(2, 0, 1, 3), "head axis first"),
])
def test_ex3_names(answer, phrase):
    _named(ex.ex3, answer, phrase)


# ---------------------------------------------------------------- ex4 attention backward
def _sw(X):
    return np.swapaxes(X, -1, -2)


def _bw(Q, K, V, dY):
    A = attention.attention_forward(Q, K, V, causal=True)[1]["A"]
    dA = dY @ _sw(V)
    dS = A * (dA - (dA * A).sum(axis=-1, keepdims=True))
    s = 1 / np.sqrt(Q.shape[-1])
    return dS @ K * s, _sw(dS) @ Q * s, _sw(A) @ dY


def _bw_no_keepdims(Q, K, V, dY):
    A = attention.attention_forward(Q, K, V, causal=True)[1]["A"]
    dA = dY @ _sw(V)
    dS = A * (dA - (dA * A).sum(axis=-1))
    return dS @ K, _sw(dS) @ Q, _sw(A) @ dY


def _bw_own_forward(Q, K, V, dY):  # recomputes the forward by hand, masks with a large negative number
    d_k, T = Q.shape[-1], Q.shape[1]
    S = np.einsum("bid,bjd->bij", Q, K) / np.sqrt(d_k)
    S = np.where(np.tril(np.ones((T, T), dtype=bool)), S, -1e9)
    A = np.exp(S - S.max(-1, keepdims=True))
    A /= A.sum(-1, keepdims=True)
    dA = np.einsum("bie,bje->bij", dY, V)
    dS = A * dA - A * np.einsum("bij,bij->bi", A, dA)[..., None]
    return (np.einsum("bij,bjd->bid", dS, K) / np.sqrt(d_k), np.einsum("bij,bid->bjd", dS, Q) / np.sqrt(d_k),
            np.einsum("bij,bie->bje", A, dY))


def _bw_loop(Q, K, V, dY):  # per sequence and per row, the explicit Jacobian
    dQ, dK, dV = np.zeros_like(Q), np.zeros_like(K), np.zeros_like(V)
    for b in range(Q.shape[0]):
        A = attention.attention_forward(Q[b:b + 1], K[b:b + 1], V[b:b + 1], causal=True)[1]["A"][0]
        dV[b] = A.T @ dY[b]
        dA = dY[b] @ V[b].T
        dS = np.stack([(np.diag(a) - np.outer(a, a)) @ g for a, g in zip(A, dA, strict=True)])
        dQ[b] = dS @ K[b] / np.sqrt(Q.shape[-1])
        dK[b] = dS.T @ Q[b] / np.sqrt(Q.shape[-1])
    return dQ, dK, dV


@pytest.mark.parametrize("answer", [
    _bw, _bw_own_forward, _bw_loop,
    lambda Q, K, V, dY: tuple(g.astype(np.float32) for g in _bw(Q, K, V, dY)),
    lambda Q, K, V, dY: [g.tolist() for g in _bw(Q, K, V, dY)],
])
def test_ex4_accepts(answer):
    _accepted(ex.ex4, answer)


def _bug(**kwargs):
    return lambda Q, K, V, dY: ex._backward_parts(Q, K, V, dY, **kwargs)


@pytest.mark.parametrize("answer, phrase", [
    (_bug(vjp="diagonal"), "only the diagonal of its Jacobian"),
    (_bug(vjp="axis"), "over the wrong axis"),
    (_bug(vjp="none"), "skipped the softmax step"),
    (_bug(dK_T=False), "dK needs dS transposed"),
    (_bug(scale=False), "forgot the scale"),
    (_bug(dV_T=False), "dV needs A transposed"),
    (lambda Q, K, V, dY: _bw(Q, K, V, dY)[:2], "return a tuple of 3 arrays"),
    (lambda Q, K, V, dY: (lambda A: (A, A, A @ dY))(attention.attention_forward(Q, K, V, causal=True)[1]["A"] @ K.T),
     "X.T reverses the batch axis too"),
    (lambda Q, K, V, dY: attention.attention_backward(dY, attention.attention_forward(Q, K, V, causal=True)[1]),
     "course's own lib.attention.attention_backward"),
    (lambda Q, K, V, dY: tuple(1.001 * g for g in _bw(Q, K, V, dY)), "different values"),
    (lambda Q, K, V, dY: _bw_no_keepdims(Q, K, V, dY), "keepdims=True"),
])
def test_ex4_names(answer, phrase):
    _named(ex.ex4, answer, phrase)


def test_ex4_praise_reports_gradcheck():
    assert "lib.gradcheck" in ex.ex4.check(_bw_loop).message


# ---------------------------------------------------------------- ex5 memory of the weights
@pytest.mark.parametrize("answer", [3, 3.0, np.float32(3.0), np.array(3), 3 * 16 * 4096**2 * 4 / 2**30])
def test_ex5_accepts(answer):
    _accepted(ex.ex5, answer)


@pytest.mark.parametrize("answer, phrase", [
    (1.0, "forgot the batch"),
    (3 / 16, "forgot the heads"),
    (0.75, "counted elements"),
    (1.5, "2 bytes per number"),
    (24, "counts bits"),
    (3 / 4096, "T^2 numbers"),
    (6, "two arrays"),
    (3 * 2**30, "right amount in bytes"),
    (3 * 2**30 / 1e9, "right amount in GB"),
    (3 * 1024, "right amount in MiB"),
    (2.9, "not right"),
])
def test_ex5_names(answer, phrase):
    _named(ex.ex5, answer, phrase)


def test_solutions_are_folded_and_hints_do_not_give_the_code():
    for exercise in (ex.ex1, ex.ex2, ex.ex3, ex.ex4, ex.ex5):
        assert exercise.solution().folded and exercise.why
        assert len(exercise.hints) >= 2
        for hint in exercise.hints:
            assert exercise._solution.splitlines()[-1].strip() not in hint


def test_ex4_names_weights_without_the_mask():
    _named(ex.ex4, _bug(causal=False), "no causal mask")


def test_ex2_keepdims_advice_on_a_broadcast_error():
    def no_keepdims(S):
        S = np.where(_mask(S), S, -np.inf)
        e = np.exp(S - S.max(axis=-1))
        return e / e.sum(axis=-1, keepdims=True)
    _named(ex.ex2, no_keepdims, "keepdims=True")
