"""The averaging bridge, the softmax backward pass, grouped-query attention, attention costs,
and the numbers the chapter `attention` states in its prose."""

import numpy as np
import pytest

from lib import attention
from lib.gradcheck import check_gradients


def test_causal_average_hand_case_equals_softmax_of_masked_zeros():
    M = attention.causal_average(3)
    np.testing.assert_allclose(M, [[1, 0, 0], [1 / 2, 1 / 2, 0], [1 / 3, 1 / 3, 1 / 3]])
    zeros = np.where(attention.causal_mask(3), 0.0, -np.inf)
    np.testing.assert_allclose(attention.softmax(zeros), M)
    X = np.array([[3.0, 0.0], [1.0, 2.0], [2.0, 4.0]])
    np.testing.assert_allclose((M @ X)[2], [2.0, 2.0])  # the mean of all three rows


def test_softmax_backward_is_jacobian_transpose_times_g():
    s = np.array([0.5, -1.0, 2.0])
    a = attention.softmax(s)
    J = np.diag(a) - np.outer(a, a)  # da_i / ds_j = a_i (delta_ij - a_j)
    g = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(attention.softmax_backward(a, g), J.T @ g)
    np.testing.assert_allclose(J, J.T)


def test_softmax_backward_gradcheck_and_masked_entries(rng):
    S = rng.normal(size=(2, 4, 4))
    G = rng.normal(size=(2, 4, 4))
    mask = attention.causal_mask(4)

    def loss():
        return float((attention.softmax(np.where(mask, S, -np.inf)) * G).sum())

    A = attention.softmax(np.where(mask, S, -np.inf))
    dS = attention.softmax_backward(A, G)
    assert check_gradients(loss, {"S": S}, {"S": dS}).ok
    assert np.all(dS[:, ~mask] == 0)


def test_attention_backward_uses_the_same_softmax_vjp(rng):
    Q, K, V = rng.normal(size=(1, 3, 2)), rng.normal(size=(1, 3, 2)), rng.normal(size=(1, 3, 2))
    dY = rng.normal(size=(1, 3, 2))
    _, cache = attention.attention_forward(Q, K, V)
    dQ, _, _ = attention.attention_backward(dY, cache)
    dS = attention.softmax_backward(cache["A"], dY @ np.swapaxes(V, -1, -2))
    np.testing.assert_allclose(dQ, dS @ K / np.sqrt(2))


def test_repeat_kv_layout():
    K = np.arange(2 * 3 * 1).reshape(1, 2, 3, 1).astype(float)  # 2 KV heads
    R = attention.repeat_kv(K, 3)
    assert R.shape == (1, 6, 3, 1)
    for head in range(6):
        np.testing.assert_array_equal(R[0, head], K[0, head // 3])


@pytest.mark.parametrize("h, h_kv", [(4, 4), (4, 2), (6, 1), (6, 3)])
def test_grouped_query_attention_matches_a_loop_over_heads(rng, h, h_kv):
    B, T, d_k = 2, 5, 3
    Q = rng.normal(size=(B, h, T, d_k))
    K, V = rng.normal(size=(B, h_kv, T, d_k)), rng.normal(size=(B, h_kv, T, 2))
    Y, A = attention.grouped_query_attention(Q, K, V, causal=True)
    for head in range(h):
        g = head // (h // h_kv)  # the KV head this query head shares
        Yj, cache = attention.attention_forward(Q[:, head], K[:, g], V[:, g], causal=True)
        np.testing.assert_allclose(Y[:, head], Yj)
        np.testing.assert_allclose(A[:, head], cache["A"])


def test_grouped_query_attention_rejects_heads_that_do_not_divide(rng):
    with pytest.raises(ValueError, match="multiple"):
        attention.grouped_query_attention(rng.normal(size=(1, 4, 2, 3)), rng.normal(size=(1, 3, 2, 3)),
                                          rng.normal(size=(1, 3, 2, 3)))


def test_attention_flops_and_score_bytes_hand_cases():
    assert attention.attention_flops(2, 3, 4) == 2 * 2 * 3 * 4 * 2  # two (2,4)@(4,3)-sized products
    assert attention.score_bytes(1, 32, 4096, bytes_per_element=2) == 2**30  # the chapter's 1 GiB
    assert attention.score_bytes(1, 32, 32768, bytes_per_element=2) == 64 * 2**30
    assert attention.score_bytes(8, 16, 2048, bytes_per_element=2) == 2**30  # review question 8
    assert attention.score_bytes(2, 3, 4, 5, 4) == 2 * 3 * 4 * 5 * 4


def test_chapter_three_token_example():
    Q = np.array([[1, 0, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1]], dtype=float)
    K = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 1, 1, 1]], dtype=float)
    V = np.array([[1, 0], [0, 1], [1, 1]], dtype=float)
    Y, cache = attention.attention_forward(Q[None], K[None], V[None], causal=True)
    e = np.e
    np.testing.assert_allclose(cache["A"][0, 2], [1 / (2 + e), 1 / (2 + e), e / (2 + e)])
    np.testing.assert_allclose(cache["A"][0, 1], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(Y[0], [[1, 0], [0.5, 0.5], [(1 + e) / (2 + e)] * 2])
    assert round(1 / (2 + e), 3) == 0.212 and round(e / (2 + e), 3) == 0.576 and round((1 + e) / (2 + e), 3) == 0.788


def test_permutation_equivariance_without_mask_and_positions(rng):
    X = rng.normal(size=(2, 6, 5))
    Wq, Wk, Wv = (rng.normal(size=(5, 3)) for _ in range(3))
    perm = rng.permutation(6)
    Y, _ = attention.self_attention_forward(X, Wq, Wk, Wv)
    Yp, _ = attention.self_attention_forward(X[:, perm], Wq, Wk, Wv)
    np.testing.assert_allclose(Yp, Y[:, perm])
    pos = rng.normal(size=(6, 5))
    Y2, _ = attention.self_attention_forward(X + pos, Wq, Wk, Wv)
    Y2p, _ = attention.self_attention_forward(X[:, perm] + pos, Wq, Wk, Wv)
    assert not np.allclose(Y2p, Y2[:, perm])


def test_chapter_gradient_check_errors_are_below_1e_9():
    """The chapter says all four relative errors of its gradient check are below 1e-9."""
    rng_g = np.random.default_rng(3)
    Xs = rng_g.normal(size=(2, 4, 5))
    Wq, Wk, Wv = (rng_g.normal(size=(5, 3)) for _ in range(3))
    G = rng_g.normal(size=(2, 4, 3))

    def loss():
        return float((attention.self_attention_forward(Xs, Wq, Wk, Wv, causal=True)[0] * G).sum())

    _, cache = attention.self_attention_forward(Xs, Wq, Wk, Wv, causal=True)
    report = check_gradients(loss, {"X": Xs, "Wq": Wq, "Wk": Wk, "Wv": Wv},
                             attention.self_attention_backward(G, cache))
    assert len(report.rows) == 4 and all(row.rel_error < 1e-9 for row in report.rows), report
