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


def _renormalise_all_max(S):  # exact in arithmetic, but NaN once the row max sits on a future key
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


@pytest.mark.parametrize("answer", [_good_where, _good_big_negative, _good_float32_inplace,
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
    (_with(_mask, fill=-1e9, axis=-2), "the queries, axis -2"),
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


# ---------------------------------------------------------------- ex2: the max over all keys (the review's hole)
def _shift_all_then_mask(S):
    e = np.exp(np.where(_mask(S), S, -np.inf) - S.max(-1, keepdims=True))  # max over ALL keys, future included
    return e / e.sum(-1, keepdims=True)


def _exp_then_zero(S):
    e = np.exp(S - S.max(-1, keepdims=True))
    e = np.where(_mask(S), e, 0.0)
    return e / e.sum(-1, keepdims=True)


def _max_before_mask(S):
    S = S - S.max(-1, keepdims=True)
    e = np.exp(np.where(_mask(S), S, -np.inf))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("answer", [_shift_all_then_mask, _exp_then_zero, _max_before_mask, _renormalise_all_max])
def test_ex2_names_the_shift_by_the_max_over_all_keys(answer):
    _named(ex.ex2, answer, "maximum over ALL keys")


def test_ex2_future_max_case_puts_the_max_on_a_masked_key():
    (S,) = ex._FUTURE_MAX.make()
    mask = _mask(S)
    row = S[0, 0]
    assert row.max() > row[mask[0]].max() + 745  # the row max is a future key, far above every visible one


# ---------------------------------------------------------------- rope_offset (prediction)
@pytest.mark.parametrize("answer", [
    ex.rope_score(5, 2), round(ex.rope_score(5, 2), 4), np.float32(ex.rope_score(5, 2)),
    np.array(ex.rope_score(1005, 1002)), float(f"{ex.rope_score(5, 2):.5f}"),
])
def test_rope_offset_accepts(answer):
    _accepted(ex.rope_offset, answer)


def test_rope_offset_hand_case():
    # the score is q^T R_(n-m) k: build R_(-3) pair by pair and compare
    q, k = ex._ROPE_Q, ex._ROPE_K
    theta = -3 * 10000.0 ** (-2 * np.arange(4) / 8)
    Rk = np.empty(8)
    Rk[0::2] = np.cos(theta) * k[0::2] - np.sin(theta) * k[1::2]
    Rk[1::2] = np.sin(theta) * k[0::2] + np.cos(theta) * k[1::2]
    assert np.isclose(ex.rope_score(1005, 1002), q @ Rk)


@pytest.mark.parametrize("answer, phrase", [
    (float(ex._ROPE_Q @ ex._ROPE_K), "without any rotation"),
    (ex.rope_score(2, 5), "offset reversed"),
    (ex.rope_score(5, 2) + 0.5, "not right"),
])
def test_rope_offset_names(answer, phrase):
    _named(ex.rope_offset, answer, phrase)


# ---------------------------------------------------------------- rope_halves (new case)
def _halves_loop(x, start):
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    T, d_h = x.shape[-2:]
    half = d_h // 2
    for t in range(T):
        for i in range(half):
            a = (start + t) / 10000 ** (2 * i / d_h)
            c, s = np.cos(a), np.sin(a)
            out[..., t, i] = c * x[..., t, i] - s * x[..., t, i + half]
            out[..., t, i + half] = s * x[..., t, i] + c * x[..., t, i + half]
    return out


def _halves_hf(x, start):  # Hugging Face's form: cos and sin repeated over both halves, rotate_half
    T, d_h = x.shape[-2:]
    inv_freq = 1.0 / (10000 ** (np.arange(0, d_h, 2) / d_h))
    emb = np.concatenate([np.outer(np.arange(start, start + T), inv_freq)] * 2, axis=-1)  # (T, d_h)
    rotate_half = np.concatenate([-x[..., d_h // 2:], x[..., : d_h // 2]], axis=-1)
    return x * np.cos(emb) + rotate_half * np.sin(emb)


def _halves_via_permutation(x, start):  # the interleaved lib function, conjugated by the permutation
    d_h = x.shape[-1]
    perm = np.ravel(np.column_stack([np.arange(d_h // 2), np.arange(d_h // 2) + d_h // 2]))
    return attention.apply_rope(x[..., perm], start)[..., np.argsort(perm)]


@pytest.mark.parametrize("answer", [
    lambda x, start: ex._halves(x, start), _halves_loop, _halves_hf, _halves_via_permutation,
    lambda x, start: _halves_hf(x.astype(np.float32), start).astype(np.float32),
    lambda x, start: _halves_hf(x, start).tolist(),
])
def test_rope_halves_accepts(answer):
    _accepted(ex.rope_layout, answer)


@pytest.mark.parametrize("sentence", list(ex._ROPE_BUGS))
def test_rope_halves_names_every_bug(sentence):
    _named(ex.rope_layout, ex._ROPE_BUGS[sentence], sentence)


def test_rope_halves_each_bug_alone_on_some_case():
    for sentence, bug in ex._ROPE_BUGS.items():
        alone = False
        for case in ex._ROPE_CASES:
            x, start = case.make()
            want = ex._halves(x, start)
            mine = bug(x, start)
            others = [b(x, start) for s, b in ex._ROPE_BUGS.items() if s != sentence]
            alone |= not np.allclose(mine, want) and not any(np.allclose(mine, o) for o in others)
        assert alone, sentence


# ---------------------------------------------------------------- softmax_nan (find the bug)
@pytest.mark.parametrize("answer", [
    [[-1000.0, 1000.0], [0.0, 0.0]],
    np.array([[0.0, 800.0, 0.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], dtype=np.float32),
    np.array([[[5.0, -1.0], [0.0, 0.0]], [[-400.0, 400.0], [1.0, 1.0]]]),  # a batch, the second sequence breaks
    np.triu(np.full((4, 4), 1000.0), k=1) - 500 * np.tril(np.ones((4, 4))),
])
def test_softmax_nan_accepts(answer):
    _accepted(ex.softmax_nan, answer)


@pytest.mark.parametrize("answer, phrase", [
    ([[1000.0, -1000.0], [0.0, 0.0]], "largest score sits on a key the query can see"),
    ([[-100.0, 100.0], [0.0, 0.0]], "only by 200"),
    ([[-1e4, 1e4], [0.0, 0.0]], "within 1000"),
    ([[-np.inf, 1.0], [0.0, 0.0]], "contain inf or NaN"),
    ([1.0, 2.0], "shape (2,)"),
    ([[1.0, 2.0, 3.0]], "shape (1, 3)"),
])
def test_softmax_nan_names(answer, phrase):
    _named(ex.softmax_nan, answer, phrase)


def test_softmax_nan_buggy_function_is_the_chapters():
    S = np.array([[-1000.0, 1000.0], [0.0, 0.0]])
    assert np.isnan(ex.softmax_all_max(S)[0]).all()
    np.testing.assert_allclose(ex.softmax_all_max(np.zeros((3, 3))), attention.causal_average(3))


def test_solutions_are_folded_and_hints_do_not_give_the_code():
    for exercise in (ex.ex2, ex.ex3, ex.ex4, ex.rope_offset, ex.rope_layout, ex.softmax_nan):
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


def test_ex3_names_a_hard_coded_four_heads():
    _named(ex.ex3, lambda X, h: X.reshape(X.shape[0], X.shape[1], 4, -1).transpose(0, 2, 1, 3),
           "fixed number of heads")


def test_ex4_names_the_reversed_tuple():
    def reversed_order(Q, K, V, dY):
        dQ, dK, dV = ex._backward_parts(Q, K, V, dY)
        return dV, dK, dQ
    _named(ex.ex4, reversed_order, "you returned (dV, dK, dQ)")


def test_ex2_names_masked_scores_without_softmax():
    _named(ex.ex2, lambda S: np.where(_mask(S), S, -np.inf), "masked scores themselves")
