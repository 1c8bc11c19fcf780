import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import attention
from lib.gradcheck import check_gradients


def _qkv(rng, B=2, T=5, d_k=4, d_v=3):
    return rng.normal(size=(B, T, d_k)), rng.normal(size=(B, T, d_k)), rng.normal(size=(B, T, d_v))


# ---------------------------------------------------------------- softmax and mask
def test_softmax_hand_case():
    A = attention.softmax(np.array([[0.0, np.log(3.0)]]))
    np.testing.assert_allclose(A, [[0.25, 0.75]])


def test_softmax_is_stable_for_huge_scores():
    A = attention.softmax(np.array([1000.0, 1001.0, -np.inf]))
    np.testing.assert_allclose(A, [1 / (1 + np.e), np.e / (1 + np.e), 0.0])


def test_softmax_rejects_all_masked_row_and_nan():
    with pytest.raises(ValueError, match="entirely -inf"):
        attention.softmax(np.array([[-np.inf, -np.inf]]))
    with pytest.raises(ValueError, match="NaN"):
        attention.softmax(np.array([1.0, np.nan]))


def test_causal_mask_hand_case_and_offset():
    np.testing.assert_array_equal(attention.causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(attention.causal_mask(1, 4), [[1, 1, 1, 1]])  # a KV-cache step sees everything
    np.testing.assert_array_equal(attention.causal_mask(2, 3), [[1, 1, 0], [1, 1, 1]])
    with pytest.raises(ValueError, match="T_k"):
        attention.causal_mask(3, 2)


# ---------------------------------------------------------------- forward
def test_forward_hand_case_uniform_weights():
    # equal keys -> equal scores -> uniform weights -> the output is the mean of the values
    Q = np.array([[[1.0, 2.0]]])
    K = np.ones((1, 3, 2))
    V = np.array([[[1.0], [2.0], [6.0]]])
    Y, cache = attention.attention_forward(Q, K, V)
    np.testing.assert_allclose(cache["A"], np.full((1, 1, 3), 1 / 3))
    np.testing.assert_allclose(Y, [[[3.0]]])


def test_scaling_divides_scores_by_sqrt_dk(rng):
    Q, K, V = _qkv(rng, d_k=16)
    _, scaled = attention.attention_forward(Q, K, V)
    _, raw = attention.attention_forward(Q, K, V, scale=False)
    S = Q @ np.swapaxes(K, -1, -2)  # (B, T, T)
    np.testing.assert_allclose(scaled["A"], attention.softmax(S / 4.0))
    np.testing.assert_allclose(raw["A"], attention.softmax(S))


@settings(max_examples=25, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 7), d_k=st.integers(1, 6), d_v=st.integers(1, 4),
       causal=st.booleans(), seed=st.integers(0, 10_000))
def test_rows_sum_to_one_mask_respected_output_convex(B, T, d_k, d_v, causal, seed):
    rng = np.random.default_rng(seed)
    Q, K, V = _qkv(rng, B, T, d_k, d_v)
    Y, cache = attention.attention_forward(Q, K, V, causal=causal)
    A = cache["A"]
    assert A.shape == (B, T, T) and Y.shape == (B, T, d_v)
    np.testing.assert_allclose(A.sum(axis=-1), 1.0)
    assert (A >= 0).all()
    if causal:
        assert (A[:, ~attention.causal_mask(T)] == 0).all()  # exactly zero on future keys
    # a convex combination of values stays inside their range, coordinate by coordinate
    assert (Y <= V.max(axis=1, keepdims=True) + 1e-12).all()
    assert (Y >= V.min(axis=1, keepdims=True) - 1e-12).all()


def test_causal_output_ignores_future_tokens(rng):
    Q, K, V = _qkv(rng)
    Y, _ = attention.attention_forward(Q, K, V, causal=True)
    K2, V2 = K.copy(), V.copy()
    K2[:, -1] += 5.0
    V2[:, -1] -= 7.0
    O2, _ = attention.attention_forward(Q, K2, V2, causal=True)
    np.testing.assert_allclose(O2[:, :-1], Y[:, :-1])  # only the last query may see the last token


# ---------------------------------------------------------------- backward
@pytest.mark.parametrize("causal", [False, True])
def test_attention_backward_gradcheck(rng, causal):
    Q, K, V = _qkv(rng, B=2, T=4, d_k=3, d_v=2)
    G = rng.normal(size=(2, 4, 2))

    def loss():
        Y, _ = attention.attention_forward(Q, K, V, causal=causal)
        return float((Y * G).sum())

    _, cache = attention.attention_forward(Q, K, V, causal=causal)
    dQ, dK, dV = attention.attention_backward(G, cache)
    report = check_gradients(loss, {"Q": Q, "K": K, "V": V}, {"Q": dQ, "K": dK, "V": dV})
    assert report.ok, report


def test_self_attention_backward_gradcheck(rng):
    X = rng.normal(size=(2, 4, 5))
    Wq, Wk, Wv = rng.normal(size=(5, 3)), rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    G = rng.normal(size=(2, 4, 2))

    def loss():
        Y, _ = attention.self_attention_forward(X, Wq, Wk, Wv, causal=True)
        return float((Y * G).sum())

    _, cache = attention.self_attention_forward(X, Wq, Wk, Wv, causal=True)
    grads = attention.self_attention_backward(G, cache)
    report = check_gradients(loss, {"X": X, "Wq": Wq, "Wk": Wk, "Wv": Wv}, grads)
    assert report.ok, report


def test_backward_rejects_wrong_dO_shape(rng):
    _, cache = attention.attention_forward(*_qkv(rng))
    with pytest.raises(ValueError, match=r"dY should have the output's shape \(2, 5, 3\)"):
        attention.attention_backward(np.ones((2, 5, 4)), cache)


# ---------------------------------------------------------------- heads
def test_split_merge_roundtrip_and_layout(rng):
    X = rng.normal(size=(2, 3, 8))
    H = attention.split_heads(X, 4)
    assert H.shape == (2, 4, 3, 2)
    np.testing.assert_array_equal(H[1, 2, 0], X[1, 0, 4:6])  # head 2 of token 0 = features 4..5
    np.testing.assert_array_equal(attention.merge_heads(H), X)


def test_multi_head_equals_loop_over_heads(rng):
    B, T, d, h = 2, 5, 8, 2
    X = rng.normal(size=(B, T, d))
    Wq, Wk, Wv, Wo = (rng.normal(size=(d, d)) for _ in range(4))
    Y, A = attention.multi_head_attention(X, Wq, Wk, Wv, Wo, h, causal=True)
    d_k = d // h
    outs = []
    for j in range(h):
        cols = slice(j * d_k, (j + 1) * d_k)
        O_j, cache = attention.self_attention_forward(X, Wq[:, cols], Wk[:, cols], Wv[:, cols], causal=True)
        np.testing.assert_allclose(A[:, j], cache["A"])
        outs.append(O_j)
    np.testing.assert_allclose(Y, np.concatenate(outs, axis=-1) @ Wo)
    assert A.shape == (B, h, T, T)


# ---------------------------------------------------------------- scaling experiments
def test_score_variance_grows_like_dk():
    rng = np.random.default_rng(0)
    raw, scaled = attention.score_variance(64, 20_000, rng)
    assert 58 < raw < 70 and 0.9 < scaled < 1.1


def test_unscaled_softmax_saturates():
    rng = np.random.default_rng(0)
    unscaled = [attention.max_weight(d, 6, rng, scale=False) for d in (4, 64, 1024)]
    assert unscaled[0] < unscaled[1] < unscaled[2] and unscaled[2] > 0.9
    assert attention.max_weight(1024, 6, rng, scale=True) < 0.6


# ---------------------------------------------------------------- bad inputs
def test_bad_inputs_name_the_argument(rng):
    Q, K, V = _qkv(rng)
    with pytest.raises(ValueError, match=r"K should have shape \(B, T_k, d_k\)"):
        attention.attention_forward(Q, K[:, :, :3], V)
    with pytest.raises(ValueError, match=r"V should have shape \(B, T_k, d_v\)"):
        attention.attention_forward(Q, K, V[:, :4])
    with pytest.raises(ValueError, match=r"Q should be 3-D"):
        attention.attention_forward(Q[0], K, V)
    with pytest.raises(TypeError, match="Q is None"):
        attention.attention_forward(None, K, V)
    with pytest.raises(TypeError, match="Q must be an array of numbers"):
        attention.attention_forward("abc", K, V)
    with pytest.raises(ValueError, match="K contains NaN"):
        attention.attention_forward(Q, np.full_like(K, np.nan), V)
    with pytest.raises(ValueError, match="Q is empty"):
        attention.attention_forward(np.ones((2, 0, 4)), K, V)
    with pytest.raises(ValueError, match="divisible by n_heads"):
        attention.split_heads(np.ones((1, 2, 6)), 4)
    with pytest.raises(TypeError, match="n_heads must be a positive integer"):
        attention.split_heads(np.ones((1, 2, 6)), 1.5)
    with pytest.raises(ValueError, match=r"Wk should have shape \(d, d_k\)"):
        attention.self_attention_forward(np.ones((1, 2, 3)), np.ones((3, 2)), np.ones((4, 2)), np.ones((3, 2)))


def test_python_lists_are_accepted():
    Y, _ = attention.attention_forward([[[1.0, 0.0]]], [[[1.0, 0.0]]], [[[2.0]]])
    np.testing.assert_allclose(Y, [[[2.0]]])


# ---------------------------------------------------------------- RoPE
def test_rope_angles_hand_case():
    # d_h = 4: frequencies 10000**0 = 1 and 10000**(-1/2) = 0.01; positions 2, 3 (start = 2)
    np.testing.assert_allclose(attention.rope_angles(2, 4, start=2), [[2.0, 0.02], [3.0, 0.03]])
    np.testing.assert_allclose(attention.rope_angles(1, 2, base=4.0, start=5), [[5.0]])


def test_apply_rope_hand_case():
    # one token at position 1, pairs (1, 0) and (0, 2); angles 1 rad and 0.01 rad (d_h = 4)
    y = attention.apply_rope(np.array([[1.0, 0.0, 0.0, 2.0]]), start=1)
    c1, s1, c2, s2 = np.cos(1.0), np.sin(1.0), np.cos(0.01), np.sin(0.01)
    np.testing.assert_allclose(y, [[c1, s1, -2 * s2, 2 * c2]])
    # position 0 is the identity
    x = np.arange(6.0).reshape(1, 6)
    np.testing.assert_array_equal(attention.apply_rope(x), x)


def test_rope_score_depends_only_on_offset(rng):
    q, k = rng.normal(size=8), rng.normal(size=8)
    def score(m, n):
        qm = attention.apply_rope(q[None, :], start=m)[0]
        kn = attention.apply_rope(k[None, :], start=n)[0]
        return qm @ kn
    for m, n in [(0, 3), (5, 8), (100, 103)]:
        np.testing.assert_allclose(score(m, n), score(0, 3), rtol=1e-10)
    assert not np.isclose(score(0, 3), score(0, 4))
    # the same with a whole sequence: entry (m, n) of rope(Q) rope(K)^T is score(m, n), a function of n - m
    Q, K = np.tile(q, (6, 1)), np.tile(k, (6, 1))
    S = attention.apply_rope(Q) @ attention.apply_rope(K).T
    for m in range(6):
        for n in range(6):
            np.testing.assert_allclose(S[m, n], score(max(m - n, 0), max(n - m, 0)), rtol=1e-10)


def test_rope_keeps_norms_shape_dtype_and_batches(rng):
    x = rng.normal(size=(2, 3, 5, 6))
    y = attention.apply_rope(x, start=7)
    assert y.shape == x.shape
    np.testing.assert_allclose(np.linalg.norm(y.reshape(*y.shape[:-1], 3, 2), axis=-1),
                               np.linalg.norm(x.reshape(*x.shape[:-1], 3, 2), axis=-1))
    np.testing.assert_allclose(y[1, 2], attention.apply_rope(x[1, 2], start=7))
    assert attention.apply_rope(x.astype(np.float32)).dtype == np.float32
    # start shifts positions: rotating from 7 equals rotating 7 extra rows and keeping the last ones
    long = np.concatenate([np.zeros((2, 3, 7, 6)), x], axis=2)
    np.testing.assert_allclose(attention.apply_rope(long)[:, :, 7:], y)


def test_rope_half_rotation_form_is_a_permutation(rng):
    # Llama's HF form pairs i with i + d_h/2; permuting coordinates maps it to the interleaved form
    d_h, T = 8, 4
    x = rng.normal(size=(T, d_h))
    theta = attention.rope_angles(T, d_h)
    cos, sin = np.cos(np.concatenate([theta, theta], -1)), np.sin(np.concatenate([theta, theta], -1))
    half = x * cos + np.concatenate([-x[:, d_h // 2:], x[:, :d_h // 2]], -1) * sin
    perm = np.ravel(np.column_stack([np.arange(d_h // 2), np.arange(d_h // 2) + d_h // 2]))  # 0, 4, 1, 5, ...
    np.testing.assert_allclose(attention.apply_rope(x[:, perm]), half[:, perm])


def test_rope_refuses_bad_inputs():
    with pytest.raises(ValueError, match="rope_angles: d_h must be even"):
        attention.rope_angles(3, 5)
    with pytest.raises(ValueError, match=r"apply_rope: the last axis d_h of x must be even.*\(2, 3\)"):
        attention.apply_rope(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"apply_rope: x should have shape \(\.\.\., T, d_h\)"):
        attention.apply_rope(np.ones(4))
    with pytest.raises(ValueError, match="apply_rope: start must be a non-negative integer"):
        attention.apply_rope(np.ones((2, 4)), start=-1)
    with pytest.raises(TypeError, match="rope_angles: start"):
        attention.rope_angles(2, 4, start=1.5)
    with pytest.raises(ValueError, match="rope_angles: base"):
        attention.rope_angles(2, 4, base=0.0)
