"""Tests for lib.svd: geometry, rank-k approximation, errors, parameters, conditioning, deep stack."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import data, svd


# ---------------------------------------------------------------- geometry
def test_rotation_hand_case():
    np.testing.assert_allclose(svd.rotation(np.pi / 2), [[0, -1], [1, 0]], atol=1e-12)


def test_matrix_from_svd_agrees_with_numpy_svd():
    A = svd.matrix_from_svd(np.radians(30), 2.0, 0.5, np.radians(100))
    U, S, Vt = np.linalg.svd(A)
    np.testing.assert_allclose(S, [2.0, 0.5])
    v1, u1 = svd.rotation(np.radians(30))[:, 0], svd.rotation(np.radians(100))[:, 0]
    assert abs(abs(Vt[0] @ v1) - 1) < 1e-12 and abs(abs(U[:, 0] @ u1) - 1) < 1e-12
    np.testing.assert_allclose(A @ v1, 2.0 * u1, atol=1e-12)  # A v_1 = sigma_1 u_1


def test_matrix_from_svd_hand_case():
    # no rotations: A is diag(s1, s2)
    np.testing.assert_allclose(svd.matrix_from_svd(0.0, 3.0, 1.0, 0.0), [[3, 0], [0, 1]])


def test_ellipse_semi_axes_are_singular_values():
    A = np.array([[1.0, 2.0], [-0.5, 0.7]])
    pts = svd.ellipse_points(A, 2001)
    radii = np.linalg.norm(pts, axis=0)
    S = np.linalg.svd(A, compute_uv=False)
    assert radii.max() == pytest.approx(S[0], rel=1e-5)
    assert radii.min() == pytest.approx(S[1], rel=1e-5)


def test_svd_stages_end_at_A_times_points(rng):
    A = rng.normal(size=(3, 2))
    P = svd.unit_circle(50)
    stages = svd.svd_stages(A, P)
    assert list(stages) == ["input", "after Vt", "after S", "after U"]
    np.testing.assert_allclose(stages["after U"], A @ P, atol=1e-12)
    # Vt is a rotation/reflection: lengths are kept
    np.testing.assert_allclose(np.linalg.norm(stages["after Vt"], axis=0), 1.0)


def test_unit_circle_points_have_length_one():
    np.testing.assert_allclose(np.linalg.norm(svd.unit_circle(17), axis=0), 1.0)


# ---------------------------------------------------------------- reconstruction and rank k
def test_reconstruct_is_exact(rng):
    A = rng.normal(size=(5, 3))
    np.testing.assert_allclose(svd.reconstruct(*np.linalg.svd(A, full_matrices=False)), A, atol=1e-12)


def test_full_rank_approximation_is_exact(rng):
    A = rng.normal(size=(4, 6))
    np.testing.assert_allclose(svd.rank_k_approx(A, 4), A, atol=1e-12)
    assert svd.approx_errors(A, 4)["frobenius"] < 1e-12


def test_rank_k_hand_case():
    A = np.diag([3.0, 2.0, 1.0])
    np.testing.assert_allclose(svd.rank_k_approx(A, 1), np.diag([3.0, 0, 0]), atol=1e-12)
    assert svd.tail_errors(np.array([3.0, 2.0, 1.0]), 1) == {"frobenius": pytest.approx(np.sqrt(5)), "spectral": 2.0}


def test_errors_equal_the_tail_of_singular_values(rng):
    A = rng.normal(size=(8, 6))
    S = np.linalg.svd(A, compute_uv=False)
    for k in range(1, 6):
        got, want = svd.approx_errors(A, k), svd.tail_errors(S, k)
        assert got["frobenius"] == pytest.approx(want["frobenius"], rel=1e-10)
        assert got["spectral"] == pytest.approx(want["spectral"], rel=1e-10)
        assert want["spectral"] == pytest.approx(S[k])


def test_rank_k_beats_a_random_rank_k_matrix(rng):
    A = rng.normal(size=(6, 6))
    best = svd.approx_errors(A, 2)["frobenius"]
    for _ in range(20):
        other = rng.normal(size=(6, 2)) @ rng.normal(size=(2, 6))
        assert np.linalg.norm(A - other) >= best


def test_rank_k_has_rank_k(rng):
    A = rng.normal(size=(7, 5))
    assert np.linalg.matrix_rank(svd.rank_k_approx(A, 3)) == 3


def test_energy_kept():
    assert svd.energy_kept(np.array([3.0, 4.0]), 1) == pytest.approx(9 / 25)


def test_params_hand_cases():
    assert svd.full_params(4096, 4096) == 16_777_216
    assert svd.factored_params(4096, 4096, 16) == 131_072  # 128x fewer
    assert svd.full_params(4096, 4096) // svd.factored_params(4096, 4096, 16) == 128
    assert svd.factored_params(5, 3, 2) == 16


def test_condition_number_hand_cases():
    assert svd.condition_number(np.diag([4.0, 0.5])) == pytest.approx(8.0)
    assert svd.condition_number(svd.rotation(0.3)) == pytest.approx(1.0)
    assert svd.condition_number(np.array([[1.0, 2.0], [2.0, 4.0]])) > 1e15  # singular: huge or inf
    assert svd.condition_number(np.zeros((2, 2)) + np.diag([1.0, 0.0])) == float("inf")


def test_to_grayscale_hand_case():
    rgb = np.array([[[255, 0, 0], [255, 255, 255]]], dtype=np.uint8)
    np.testing.assert_allclose(svd.to_grayscale(rgb), [[0.299, 1.0]])


# ---------------------------------------------------------------- deep stack
def test_deep_stack_grows_above_and_shrinks_below_one_over_sqrt_D():
    D = 64
    out = {s: svd.deep_stack_norms(s / np.sqrt(D), np.random.default_rng(0), depth=30, width=D)
           for s in (0.5, 1.0, 1.5)}
    for key in ("forward", "backward"):
        small, steady, big = (out[s][key] for s in (0.5, 1.0, 1.5))
        assert small.min() < 1e-6 * small.max()
        assert big.max() > 1e4 * big.min()
        assert steady.max() < 3 * steady.min()
    assert out[1.5]["forward"][-1] > out[1.5]["forward"][0]  # forward grows with depth
    assert out[1.5]["backward"][0] > out[1.5]["backward"][-1]  # backward grows towards the input
    assert out[1.0]["singular_values"].shape == (30, 64)


def test_deep_stack_is_seeded():
    a = svd.deep_stack_norms(0.1, np.random.default_rng(3), depth=4, width=8)
    b = svd.deep_stack_norms(0.1, np.random.default_rng(3), depth=4, width=8)
    np.testing.assert_array_equal(a["forward"], b["forward"])


# ---------------------------------------------------------------- bad inputs
def test_bad_inputs():
    with pytest.raises(ValueError, match="s1 >= s2"):
        svd.matrix_from_svd(0.0, 0.5, 2.0, 0.0)
    with pytest.raises(TypeError, match="angle"):
        svd.rotation("ninety")
    with pytest.raises(ValueError, match=r"A should have shape \(2, 2\)"):
        svd.ellipse_points(np.ones((3, 3)))
    with pytest.raises(ValueError, match="A should be 2-D"):
        svd.rank_k_approx(np.ones(4), 1)
    with pytest.raises(ValueError, match="k = 4 is more than min"):
        svd.rank_k_approx(np.ones((3, 5)), 4)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        svd.rank_k_approx(np.ones((3, 5)), 0)
    with pytest.raises(TypeError, match="k must be a positive integer"):
        svd.rank_k_approx(np.ones((3, 5)), 1.5)
    with pytest.raises(ValueError, match="NaN"):
        svd.condition_number([[1.0, np.nan], [0.0, 1.0]])
    with pytest.raises(TypeError, match="A is None"):
        svd.condition_number(None)
    with pytest.raises(ValueError, match="empty"):
        svd.condition_number(np.ones((0, 3)))
    with pytest.raises(ValueError, match=r"Vt should have shape \(r, n\)"):
        svd.reconstruct(np.ones((4, 2)), np.ones(2), np.ones((3, 5)))
    with pytest.raises(ValueError, match="sorted"):
        svd.tail_errors([1.0, 2.0], 1)
    with pytest.raises(ValueError, match=r"P should have shape \(n, N\)"):
        svd.svd_stages(np.ones((3, 2)), np.ones((3, 10)))
    with pytest.raises(TypeError, match="rng"):
        svd.deep_stack_norms(0.1, 42)
    with pytest.raises(ValueError, match="scale must be positive"):
        svd.deep_stack_norms(-1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="rank = 9"):
        data.teacher_regression(np.random.default_rng(0), D_in=4, D_out=5, rank=9)
    with pytest.raises(TypeError, match="m must be a positive integer"):
        svd.factored_params("10", 3, 2)


def test_python_lists_are_accepted():
    assert svd.condition_number([[2, 0], [0, 1]]) == pytest.approx(2.0)
    np.testing.assert_allclose(svd.rank_k_approx([[1, 0], [0, 2]], 1), [[0, 0], [0, 2]], atol=1e-12)


# ---------------------------------------------------------------- properties over shapes
@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 7), n=st.integers(1, 7), seed=st.integers(0, 10_000), data=st.data())
def test_eckart_young_over_shapes(m, n, seed, data):
    A = np.random.default_rng(seed).normal(size=(m, n))
    k = data.draw(st.integers(1, min(m, n)))
    S = np.linalg.svd(A, compute_uv=False)
    got, want = svd.approx_errors(A, k), svd.tail_errors(S, k)
    assert got["frobenius"] == pytest.approx(want["frobenius"], abs=1e-9)
    assert got["spectral"] == pytest.approx(want["spectral"], abs=1e-9)
    assert svd.rank_k_approx(A, k).shape == (m, n)
    np.testing.assert_allclose(svd.reconstruct(*np.linalg.svd(A, full_matrices=False)), A, atol=1e-10)
    assert svd.condition_number(A) >= 1.0 - 1e-12


@settings(max_examples=25, deadline=None)
@given(av=st.floats(-3, 3), au=st.floats(-3, 3), s2=st.floats(0.01, 1.0), ratio=st.floats(1.0, 5.0))
def test_geometry_helpers_agree_with_numpy(av, au, s2, ratio):
    s1 = s2 * ratio
    A = svd.matrix_from_svd(av, s1, s2, au)
    np.testing.assert_allclose(np.linalg.svd(A, compute_uv=False), [s1, s2], rtol=1e-9, atol=1e-12)
    v1, u1 = svd.rotation(av)[:, 0], svd.rotation(au)[:, 0]
    np.testing.assert_allclose(A @ v1, s1 * u1, atol=1e-9)


def test_product_singular_values_gain_versus_conditioning():
    # orthogonal layers: condition number 1 at every depth, yet a scale of 1.2 grows 1.2**L
    S = svd.product_singular_values(1.2, np.random.default_rng(0), depth=30, width=16, orthogonal=True)
    np.testing.assert_allclose(S, 1.2**30, rtol=1e-9)
    # Gaussian layers at 1/sqrt(D): typical gain near 1, but the product is badly conditioned
    S = svd.product_singular_values(1 / 8, np.random.default_rng(0), depth=30, width=64)
    assert 0.5 < np.sqrt(np.mean(S**2)) < 3 and S[0] / S[-1] > 1e10
    one = svd.product_singular_values(0.5, np.random.default_rng(1), depth=1, width=4)
    np.testing.assert_allclose(one, np.linalg.svd(0.5 * np.random.default_rng(1).standard_normal((4, 4)), compute_uv=False))


def test_init_std_by_hand():
    assert svd.init_std("lecun", 256, 1024) == 1 / 16
    assert svd.init_std("he", 256, 1024) == pytest.approx(np.sqrt(2) / 16)
    assert svd.init_std("xavier", 256, 1024) == pytest.approx(np.sqrt(2 / 1280))
    with pytest.raises(ValueError, match="rule"):
        svd.init_std("kaiming", 3, 3)


def test_energy_rank_by_hand():
    S = np.array([3.0, 2.0, 1.0, 1.0])  # squares 9, 4, 1, 1: total 15
    assert svd.energy_rank(S, 9 / 15) == 1 and svd.energy_rank(S, 0.61) == 2
    assert svd.energy_rank(S, 13 / 15) == 2 and svd.energy_rank(S, 0.9) == 3 and svd.energy_rank(S, 1.0) == 4
    with pytest.raises(ValueError, match="fraction"):
        svd.energy_rank(S, 0.0)
    with pytest.raises(ValueError, match="sorted"):
        svd.energy_rank(S[::-1], 0.5)
