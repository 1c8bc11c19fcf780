"""Tests for lib.vectors: hand cases for dot, norm, cosine, projection, cosine_matrix, bad inputs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import vectors


def test_dot_hand_case():
    assert vectors.dot([2, 3, 1], [0.5, -0.3, 0.1]) == pytest.approx(0.2)


def test_dot_matches_at(rng):
    u, v = rng.normal(size=7), rng.normal(size=7)
    assert vectors.dot(u, v) == pytest.approx(u @ v)


def test_norm_3_4_5():
    assert vectors.norm([3.0, 4.0]) == pytest.approx(5.0)


def test_cosine_perpendicular_is_zero():
    assert vectors.cosine([3.0, 4.0], [4.0, -3.0]) == pytest.approx(0.0, abs=1e-12)


def test_cosine_opposite_is_minus_one():
    assert vectors.cosine([1.0, 2.0, 2.0], [-2.0, -4.0, -4.0]) == pytest.approx(-1.0)


def test_cosine_same_direction_is_one_and_clipped():
    assert vectors.cosine([1e-3, 3e-3], [2.0, 6.0]) == pytest.approx(1.0)
    assert vectors.cosine([0.1, 0.7, 0.3], [0.1, 0.7, 0.3]) <= 1.0


def test_cosine_45_degrees():
    assert vectors.cosine([1.0, 0.0], [1.0, 1.0]) == pytest.approx(1 / np.sqrt(2))


def test_project_hand_case():
    np.testing.assert_allclose(vectors.project([2.0, 3.0], [4.0, 0.0]), [2.0, 0.0])
    np.testing.assert_allclose(vectors.project([1.0, 3.0], [1.0, 1.0]), [2.0, 2.0])


def test_project_perpendicular_is_zero():
    np.testing.assert_allclose(vectors.project([3.0, 4.0], [4.0, -3.0]), [0.0, 0.0], atol=1e-12)


def test_project_residual_is_perpendicular(rng):
    u, v = rng.normal(size=5), rng.normal(size=5)
    p = vectors.project(u, v)
    assert (u - p) @ v == pytest.approx(0.0, abs=1e-12)


def test_unit():
    np.testing.assert_allclose(vectors.unit(np.pi / 2), [0.0, 1.0], atol=1e-12)
    assert vectors.norm(vectors.unit(1.234)) == pytest.approx(1.0)


def test_cosine_matrix_hand_case():
    E = np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0]])
    np.testing.assert_allclose(vectors.cosine_matrix(E), [[1, 0, -1], [0, 1, 0], [-1, 0, 1]], atol=1e-12)


def test_cosine_matrix_matches_pairwise_cosine(rng):
    E = rng.normal(size=(4, 6))
    S = vectors.cosine_matrix(E)
    assert S.shape == (4, 4)
    for i in range(4):
        for j in range(4):
            assert S[i, j] == pytest.approx(vectors.cosine(E[i], E[j]))


# ---------------------------------------------------------------- zero vectors and bad inputs
def test_cosine_zero_vector():
    with pytest.raises(ValueError, match=r"cosine: .*zero vector"):
        vectors.cosine([0.0, 0.0], [1.0, 2.0])


def test_project_onto_zero_vector():
    with pytest.raises(ValueError, match=r"project: .*zero vector v"):
        vectors.project([1.0, 2.0], [0.0, 0.0])


def test_cosine_matrix_zero_row():
    with pytest.raises(ValueError, match=r"cosine_matrix: a row of E is all zeros"):
        vectors.cosine_matrix([[1.0, 2.0], [0.0, 0.0]])


@pytest.mark.parametrize("fn", [vectors.dot, vectors.cosine, vectors.project])
def test_length_mismatch_names_v(fn):
    with pytest.raises(ValueError, match=r"v should have shape \(d\) = \(3,\), got \(2,\)"):
        fn([1.0, 2.0, 3.0], [1.0, 2.0])


@pytest.mark.parametrize("fn", [vectors.dot, vectors.cosine, vectors.project])
def test_wrong_rank_names_u(fn):
    with pytest.raises(ValueError, match=r"u should be 1-D"):
        fn(np.ones((2, 2)), np.ones(2))


@pytest.mark.parametrize("bad, err, pattern", [
    (None, TypeError, "u is None"),
    ("abc", TypeError, "u must be an array of numbers"),
    ([], ValueError, "u is empty"),
    ([1.0, np.nan], ValueError, "u contains NaN"),
])
def test_bad_u(bad, err, pattern):
    with pytest.raises(err, match=pattern):
        vectors.dot(bad, [1.0, 2.0])


def test_norm_bad_rank():
    with pytest.raises(ValueError, match=r"norm: u should be 1-D"):
        vectors.norm([[1.0]])


def test_cosine_matrix_bad_rank():
    with pytest.raises(ValueError, match=r"cosine_matrix: E should be 2-D"):
        vectors.cosine_matrix([1.0, 2.0])


@settings(max_examples=30, deadline=None)
@given(d=st.integers(1, 8), seed=st.integers(0, 2**16))
def test_cosine_is_bounded_and_symmetric(d, seed):
    rng = np.random.default_rng(seed)
    u, v = rng.normal(size=d) + 0.1, rng.normal(size=d) - 0.1
    c = vectors.cosine(u, v)
    assert -1.0 <= c <= 1.0
    assert c == pytest.approx(vectors.cosine(v, u))


def test_cosine_matrix_stays_in_range():
    rng = np.random.default_rng(0)
    worst = max(np.abs(vectors.cosine_matrix(rng.normal(size=(5, 7)))).max() for _ in range(200))
    assert worst <= 1.0


# ---------------------------------------------------------------- the chapter's numbers
def test_hand_cosine_of_the_chapter():
    u, v = np.array([3.0, 4.0]), np.array([4.0, 3.0])
    assert u @ v == 24.0 and vectors.norm(u) == vectors.norm(v) == 5.0
    assert vectors.cosine(u, v) == pytest.approx(0.96)
    assert np.degrees(np.arccos(0.96)) == pytest.approx(16.26, abs=0.01)  # "about 16 degrees"


def test_vocabulary_dot_and_cosine():
    E = vectors.EMBEDDINGS
    assert E.shape == (len(vectors.WORDS), 4)
    S = vectors.cosine_matrix(E)
    assert S[0, 1] == pytest.approx(0.998, abs=5e-4)  # queen, nearest by cosine
    assert (E @ E.T)[0, 2] > (E @ E.T)[0, 1]  # emperor wins by dot product only
    assert E[0] @ E[4] == pytest.approx(0.0, abs=1e-15)  # banana's "-0.000" is an exact 0 rounded


def test_random_pair_cosines_shape_and_range(rng):
    c = vectors.random_pair_cosines(5, 300, rng)
    assert c.shape == (300,) and np.all(np.abs(c) <= 1.0)


@pytest.mark.parametrize("d", [2, 16, 768])
def test_random_pair_cosines_spread_is_about_one_over_sqrt_d(d):
    c = vectors.random_pair_cosines(d, 2000, np.random.default_rng(1))
    assert abs(c.mean()) < 4 / np.sqrt(2000)
    assert c.std() == pytest.approx(1 / np.sqrt(d), rel=0.1)


def test_random_pair_angles_as_the_chapter_states():
    rng = np.random.default_rng(1)  # the chapter's seed and order: d = 2, 16, 768
    spreads = [np.degrees(np.arccos(vectors.random_pair_cosines(d, 2000, rng))).std() for d in (2, 16, 768)]
    assert spreads[0] == pytest.approx(51, abs=1.0)  # "about 51 degrees", uniform angle: 180 / sqrt(12) = 52
    assert round(spreads[1]) == 15 and round(spreads[2]) == 2


def test_random_pair_cosines_reproducible_and_uses_rng():
    a = vectors.random_pair_cosines(8, 10, np.random.default_rng(3))
    b = vectors.random_pair_cosines(8, 10, np.random.default_rng(3))
    c = vectors.random_pair_cosines(8, 10, np.random.default_rng(4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_projection_demo_bar_is_the_shadow_not_the_dot_product():
    """The caption: the green bar is the shadow, |u| cos; u . v is that length times |v| = 2."""
    from lib.demos.vectors import projection_demo

    demo = projection_demo()
    assert "scaled by" not in demo.caption and "times |v| = 2" in demo.caption
    u = 1.5 * vectors.unit(np.radians(60.0))  # the demo's defaults
    v = np.array([2.0, 0.0])
    bar = vectors.project(u, v)
    assert np.linalg.norm(bar) == pytest.approx(0.75)
    assert vectors.dot(u, v) == pytest.approx(np.linalg.norm(bar) * vectors.norm(v)) == pytest.approx(1.5)
