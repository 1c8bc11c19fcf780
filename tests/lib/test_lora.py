import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import data, lora, nn, sizing, svd
from lib.gradcheck import check_gradients


# ---------------------------------------------------------------- counts (the seeds' numbers)
def test_param_counts_seed_case_128x():
    d, r = 4096, 16
    assert svd.full_params(d, d) == 16_777_216
    assert sizing.lora_layer_params(d, d, r) == 131_072 == 2 * d * r
    assert svd.full_params(d, d) // sizing.lora_layer_params(d, d, r) == 128
    assert svd.full_params(d, d) % sizing.lora_layer_params(d, d, r) == 0


def test_param_counts_rectangular_by_hand():
    assert sizing.lora_layer_params(768, 3072, 8) == 768 * 8 + 8 * 3072 == 30_720
    assert svd.full_params(3, 5) == 15


def test_scale():
    assert lora.lora_scale(16, 8) == 2.0
    assert lora.lora_scale(1.0, 4) == 0.25


# ---------------------------------------------------------------- forward, init, merge
def _adapter(rng, N=5, D_in=4, D_out=3, r=2):
    X = rng.standard_normal((N, D_in))
    W0 = rng.standard_normal((D_in, D_out))
    A = rng.standard_normal((D_in, r))
    B = rng.standard_normal((r, D_out))
    return X, W0, A, B


def test_forward_by_hand():
    X = np.array([[1.0, 2.0]])  # (1, 2)
    W0 = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]])  # (2, 3)
    A = np.array([[1.0], [1.0]])  # (2, 1)
    B = np.array([[1.0, -1.0, 0.5]])  # (1, 3)
    # X @ W0 = [1, 2, 0]; X @ A = [3]; (alpha / r) = 2 -> 2 * 3 * [1, -1, 0.5] = [6, -6, 3]
    np.testing.assert_allclose(lora.lora_forward(X, W0, A, B, 2.0), [[7.0, -4.0, 3.0]])
    np.testing.assert_allclose(lora.merge_lora(W0, A, B, 2.0), W0 + 2 * A @ B)


def test_paper_init_zeroes_the_output_side(rng):
    X, W0, _, _ = _adapter(rng, D_in=6, D_out=5)
    A, B = lora.init_lora(6, 5, 3, rng)
    assert A.shape == (6, 3) and B.shape == (3, 5)
    assert np.all(B == 0) and np.all(A != 0) and np.linalg.matrix_rank(A) == 3
    np.testing.assert_array_equal(lora.lora_forward(X, W0, A, B, 8.0), X @ W0)
    A_big, _ = lora.init_lora(400, 5, 3, np.random.default_rng(0))
    assert abs(A_big.std() - 1 / np.sqrt(400)) < 0.1 / np.sqrt(400)  # std 1/sqrt(D_in)


def test_init_is_seeded():
    A1, _ = lora.init_lora(4, 3, 2, np.random.default_rng(5))
    A2, _ = lora.init_lora(4, 3, 2, np.random.default_rng(5))
    A3, _ = lora.init_lora(4, 3, 2, np.random.default_rng(6))
    np.testing.assert_array_equal(A1, A2)
    assert not np.array_equal(A1, A3)


def test_merge_equals_unmerged_forward(rng):
    X, W0, A, B = _adapter(rng, N=7, D_in=6, D_out=4, r=3)
    W = lora.merge_lora(W0, A, B, 5.0)
    assert np.abs(X @ W - lora.lora_forward(X, W0, A, B, 5.0)).max() < 1e-12


def test_backward_gradcheck(rng):
    X, W0, A, B = _adapter(rng, N=5, D_in=4, D_out=3, r=2)
    C = rng.standard_normal((5, 3))  # loss = sum(C * Y): dY = C, non-symmetric
    alpha = 3.0

    def loss():
        return float(np.sum(C * lora.lora_forward(X, W0, A, B, alpha)))

    dX, dA, dB = lora.lora_backward(X, W0, A, B, alpha, C)
    assert dX.shape == X.shape and dA.shape == A.shape and dB.shape == B.shape
    report = check_gradients(loss, {"X": X, "A": A, "B": B}, {"X": dX, "A": dA, "B": dB})
    assert report.ok, report


def test_backward_at_zero_init_only_B_moves(rng):
    X, W0, _, _ = _adapter(rng)
    A, B = lora.init_lora(4, 3, 2, rng)
    _, dA, dB = lora.lora_backward(X, W0, A, B, 4.0, rng.standard_normal((5, 3)))
    assert np.all(dA == 0) and np.any(dB != 0)


def test_best_update_is_the_optimum(rng):
    X, delta = rng.standard_normal((40, 6)), rng.standard_normal((6, 5))
    D2 = lora.best_update(X, delta, 2)
    assert np.linalg.matrix_rank(D2) == 2
    best = np.linalg.norm(X @ (delta - D2))
    for _ in range(200):  # no perturbed rank-2 matrix does better on the data
        P = D2 + 0.05 * rng.standard_normal((6, 2)) @ rng.standard_normal((2, 5))
        R = svd.rank_k_approx(P, 2)
        assert np.linalg.norm(X @ (delta - R)) >= best - 1e-12
    # with orthonormal columns in X the weighting disappears: plain Eckart-Young
    Q = np.linalg.qr(rng.standard_normal((40, 6)))[0]
    np.testing.assert_allclose(lora.best_update(Q, delta, 2), svd.rank_k_approx(delta, 2), atol=1e-12)
    np.testing.assert_allclose(lora.best_update(X, delta, 5), delta, atol=1e-12)  # full rank: exact
    with pytest.raises(ValueError, match="full column rank"):
        lora.best_update(X[:3], delta, 2)


def test_llama2_7b_count_by_hand():
    d, d_ff, L, V = 4096, 11008, 32, 32_000
    by_hand = L * (4 * d * d + 3 * d * d_ff + 2 * d) + d + 2 * V * d
    llama = sizing.preset("llama2-7b")
    assert sizing.n_params(llama) == by_hand == 6_738_415_616  # the published size of Llama-2-7B
    # r = 8 on W_q and W_v: 32 blocks * 2 projections * 8 * (4096 + 4096)
    assert sizing.lora_params(llama, 8, ("q", "v")) == 32 * 2 * 8 * (4096 + 4096) == 4_194_304
    every = sizing.lora_params(llama, 8, tuple(sizing.projection_shapes(llama)))
    assert every == 32 * 8 * (4 * (d + d) + 2 * (d + d_ff) + (d_ff + d)) == 19_988_480


def test_mse_gradcheck(rng):
    Y_hat, Y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    _, d = nn.mse_and_grad(Y_hat, Y)
    report = check_gradients(lambda: nn.mse_and_grad(Y_hat, Y)[0], {"Y_hat": Y_hat}, {"Y_hat": d})
    assert report.ok, report


def test_low_rank_approx_keeps_rank(rng):
    M = rng.standard_normal((6, 5))
    M2 = svd.rank_k_approx(M, 2)
    assert np.linalg.matrix_rank(M2) == 2
    np.testing.assert_allclose(svd.rank_k_approx(M, 5), M, atol=1e-12)


# ---------------------------------------------------------------- training on the small task
@pytest.fixture(scope="module")
def task():
    return data.lowrank_finetune_task(np.random.default_rng(0))


def test_full_update_is_close_to_rank_2(task):
    W, losses = lora.train_full(task.X, task.Y, task.W0)
    S = np.linalg.svd(W - task.W0, compute_uv=False)
    assert losses[-1] < 1e-20 and S[1] > 1.0 and S[2] < 0.2
    assert np.abs(W - task.W_target).max() < 1e-12  # N > d: the full fine-tune recovers the target


def test_lora_loss_falls_for_r_at_least_true_rank(task):
    finals = {}
    for r in (1, 2, 4):
        A, B, losses = lora.train_lora(task.X, task.Y, task.W0, r, np.random.default_rng(1))
        assert len(losses) == 301 and losses[-1] < losses[0]
        finals[r] = losses[-1]
        optimum = np.mean((task.X @ (task.delta - lora.best_update(task.X, task.delta, r))) ** 2)
        assert finals[r] >= optimum - 1e-12
        if r <= 2:  # ranks 1 and 2 reach their optimum in 300 steps
            assert finals[r] == pytest.approx(optimum, rel=1e-6)
    assert finals[2] < 0.05 * losses[0] and finals[4] <= finals[2] * 1.01
    assert finals[1] > 10 * finals[2]  # rank 1 cannot hold a rank-2 change


def test_train_lora_keeps_W0_frozen(task):
    W0 = task.W0.copy()
    lora.train_lora(task.X, task.Y, task.W0, 2, np.random.default_rng(1), steps=5)
    np.testing.assert_array_equal(task.W0, W0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_training_divergence_is_reported(task):
    with pytest.raises(ValueError, match="lower lr"):
        lora.train_lora(task.X, task.Y, task.W0, 1, np.random.default_rng(1), lr=1e3, steps=200)


# ---------------------------------------------------------------- bad inputs
def test_bad_shapes_name_the_argument(rng):
    X, W0, A, B = _adapter(rng)
    with pytest.raises(ValueError, match=r"lora_forward: B should have shape \(r, D_out\)"):
        lora.lora_forward(X, W0, A, B.T, 1.0)
    with pytest.raises(ValueError, match=r"A should have shape \(D_in, r\)"):
        lora.merge_lora(W0, A.T, B, 1.0)
    with pytest.raises(ValueError, match="X should be 2-D"):
        lora.lora_forward(X[0], W0, A, B, 1.0)
    with pytest.raises(ValueError, match=r"dY should have shape \(N, D_out\)"):
        lora.lora_backward(X, W0, A, B, 1.0, np.ones((5, 4)))


def test_bad_values(rng):
    X, W0, A, B = _adapter(rng)
    with pytest.raises(TypeError, match="A is None"):
        lora.lora_forward(X, W0, None, B, 1.0)
    with pytest.raises(TypeError, match="X must be an array"):
        lora.lora_forward("abc", W0, A, B, 1.0)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        lora.lora_forward(Xn, W0, A, B, 1.0)
    with pytest.raises(ValueError, match="W0 is empty"):
        lora.merge_lora(np.zeros((0, 3)), A, B, 1.0)
    with pytest.raises(ValueError, match="alpha must be a positive"):
        lora.merge_lora(W0, A, B, -1.0)
    with pytest.raises(TypeError, match="alpha must be a positive number"):
        lora.lora_scale("2", 4)
    with pytest.raises(TypeError, match="rng must be"):
        lora.init_lora(3, 3, 1, 42)


def test_python_lists_are_accepted():
    Y = lora.lora_forward([[1.0, 2.0]], [[1.0], [0.0]], [[0.0], [0.0]], [[1.0]], 1.0)  # X, W0, A, B
    np.testing.assert_allclose(Y, [[1.0]])


# ---------------------------------------------------------------- properties
@settings(max_examples=30, deadline=None)
@given(N=st.integers(1, 6), D_in=st.integers(1, 7), D_out=st.integers(1, 7), r=st.integers(1, 4),
       alpha=st.floats(0.1, 10))
def test_shapes_and_merge_property(N, D_in, D_out, r, alpha):
    rng = np.random.default_rng(N + 10 * D_in + 100 * D_out + 1000 * r)
    X, W0, A, B = _adapter(rng, N, D_in, D_out, r)
    Y = lora.lora_forward(X, W0, A, B, alpha)
    dX, dA, dB = lora.lora_backward(X, W0, A, B, alpha, np.ones_like(Y))
    assert Y.shape == (N, D_out) and dX.shape == X.shape and dA.shape == A.shape and dB.shape == B.shape
    np.testing.assert_allclose(X @ lora.merge_lora(W0, A, B, alpha), Y, atol=1e-9)
    assert sizing.lora_layer_params(D_in, D_out, r) == A.size + B.size
