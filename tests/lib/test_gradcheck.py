import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.gradcheck import (
    LINEAR_BUGS,
    LinearBench,
    check_gradients,
    eps_sweep,
    numerical_gradient,
    relative_error,
)
from lib.linear import linear_backward


def test_relative_error_hand_cases():
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 1.0])) == pytest.approx(0.5)  # 1 / 2
    assert relative_error(np.array([0.0]), np.array([0.0])) == 0.0
    assert relative_error(np.array([3.0, 0.0]), np.array([np.nan, 1.0])) == pytest.approx(1 / 1)  # NaN ignored
    assert relative_error(np.array([2.0]), np.array([-2.0])) == pytest.approx(2.0)  # sign flip


def test_relative_error_bad_inputs():
    with pytest.raises(ValueError, match="analytic has shape"):
        relative_error(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="no computed entries"):
        relative_error(np.ones(2), np.full(2, np.nan))
    with pytest.raises(TypeError, match="analytic"):
        relative_error("abc", np.ones(2))
    with pytest.raises(TypeError, match="numeric is None"):
        relative_error(np.ones(2), None)


def test_numerical_gradient_matches_a_known_derivative_and_restores(rng):
    p = rng.normal(size=(3, 2))
    before = p.copy()
    grad = numerical_gradient(lambda: float(np.sum(np.sin(p))), p)
    np.testing.assert_allclose(grad, np.cos(before), rtol=1e-8)
    np.testing.assert_array_equal(p, before)  # every nudge undone


def test_numerical_gradient_sampled_entries_leave_others_nan(rng):
    p = rng.normal(size=(3, 3))
    grad = numerical_gradient(lambda: float(np.sum(p**2)), p, entries=[(0, 1), (2, 2)])
    assert np.isnan(grad).sum() == 7
    assert grad[0, 1] == pytest.approx(2 * p[0, 1])


def test_numerical_gradient_bad_inputs():
    with pytest.raises(TypeError, match="param must be a float ndarray"):
        numerical_gradient(lambda: 0.0, [1.0, 2.0])
    with pytest.raises(TypeError, match="param must be a float ndarray"):
        numerical_gradient(lambda: 0.0, np.arange(3))
    with pytest.raises(ValueError, match="eps must be positive"):
        numerical_gradient(lambda: 0.0, np.ones(2), eps=0.0)


def test_correct_linear_backward_passes_in_float64(rng):
    bench = LinearBench.random(4, 3, 2, rng)
    report = bench.check(linear_backward)
    assert report.ok
    assert all(row.rel_error < 1e-7 for row in report.rows)
    assert "FAIL" not in repr(report)


@pytest.mark.parametrize("bug", ["transposed weight", "bias summed over axis 1", "missing batch sum", "mean instead of sum"])
def test_each_classic_bug_is_flagged(bug):
    bench = LinearBench.random(3, 3, 3, np.random.default_rng(0))  # square: every bug has the right shapes
    report = bench.check(bug)
    assert not report.ok
    assert "FAIL" in repr(report)
    assert max(r.rel_error for r in report.rows) > 1e-2
    failing = {r.name for r in report.rows if not r.ok}
    assert failing == ({"X"} if bug == "transposed weight" else {"b"})


def test_wrong_shape_gradient_is_refused_before_any_number():
    bench = LinearBench.random(5, 4, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"grads\['b'\] has shape \(5,\) but b has shape \(3,\)"):
        bench.check("bias summed over axis 1")


def test_check_gradients_params_and_grads_must_match(rng):
    p = rng.normal(size=3)
    with pytest.raises(ValueError, match="unmatched"):
        check_gradients(lambda: float(p.sum()), {"p": p}, {"q": np.ones(3)})
    with pytest.raises(ValueError, match="has shape"):
        check_gradients(lambda: float(p.sum()), {"p": p}, {"p": np.ones(4)})


def test_sampled_check_counts_and_is_reproducible(rng):
    bench = LinearBench.random(6, 5, 4, rng)
    a = bench.check(samples=5, rng=np.random.default_rng(1))
    b = bench.check(samples=5, rng=np.random.default_rng(1))
    assert [r.checked for r in a.rows] == [5, 5, 4]  # b has only 4 entries: all are checked
    assert repr(a) == repr(b)
    assert a.ok


def test_eps_sweep_has_a_valley_and_float32_is_higher_and_earlier():
    eps = 10.0 ** np.arange(-12, -0.5, 0.5)
    e64 = LinearBench.random(4, 3, 3, np.random.default_rng(0), "float64").sweep(eps)
    e32 = LinearBench.random(4, 3, 3, np.random.default_rng(0), "float32").sweep(eps)
    i64, i32 = int(np.argmin(e64)), int(np.argmin(e32))
    assert e64[i64] < 1e-9 and e32[i32] > 1e-6  # float32's best is far worse
    assert eps[i32] > eps[i64]  # ... and needs a larger step
    assert e64[0] > 100 * e64[i64] and e64[-1] > 100 * e64[i64]  # rises on both sides
    assert e32[0] > 0.5  # eps below float32 resolution: p + eps == p


def test_eps_sweep_bad_inputs(rng):
    p = rng.normal(size=2)
    loss = lambda: float(np.sum(p**3))  # noqa: E731
    with pytest.raises(ValueError, match="every eps must be positive"):
        eps_sweep(loss, {"p": p}, {"p": 3 * p**2}, [1e-3, 0.0])
    with pytest.raises(ValueError, match=r"1-D with shape \(E,\)"):
        eps_sweep(loss, {"p": p}, {"p": 3 * p**2}, [[1e-3]])
    with pytest.raises(TypeError, match="eps_values"):
        eps_sweep(loss, {"p": p}, {"p": 3 * p**2}, "small")


def test_linear_bench_bad_inputs(rng):
    with pytest.raises(ValueError, match="dtype"):
        LinearBench.random(2, 2, 2, rng, "float16")
    with pytest.raises(TypeError, match="rng"):
        LinearBench.random(2, 2, 2, 0)
    with pytest.raises(ValueError, match="B must be a positive integer"):
        LinearBench.random(0, 2, 2, rng)
    with pytest.raises(ValueError, match=r"LinearBench: W should have shape"):
        LinearBench(np.ones((2, 3)), np.ones((2, 3)), np.ones(3), np.ones((2, 3)))
    with pytest.raises(ValueError, match="unknown backward"):
        LinearBench.random(2, 2, 2, rng).check("typo")
    with pytest.raises(TypeError, match="backward must be a function"):
        LinearBench.random(2, 2, 2, rng).check(42)
    with pytest.raises(ValueError, match="NaN"):
        LinearBench(np.full((2, 2), np.nan), np.ones((2, 2)), np.ones(2), np.ones((2, 2)))


def test_bench_upstream_is_the_gradient_of_the_loss_wrt_Y(rng):
    bench = LinearBench.random(3, 2, 4, rng)
    Y = bench.X @ bench.W + bench.b
    num = numerical_gradient(lambda: float(np.sum(bench.G * np.tanh(Y))), Y)
    np.testing.assert_allclose(bench.upstream(), num, rtol=1e-6, atol=1e-9)


def test_all_named_backwards_return_three_arrays(rng):
    bench = LinearBench.random(3, 3, 3, rng)
    for name in LINEAR_BUGS:
        assert set(bench.grads(name)) == {"X", "W", "b"}


@settings(max_examples=20, deadline=None)
@given(B=st.integers(1, 5), D_in=st.integers(1, 5), D_out=st.integers(1, 5), seed=st.integers(0, 10_000))
def test_linear_backward_passes_for_any_shape(B, D_in, D_out, seed):
    report = LinearBench.random(B, D_in, D_out, np.random.default_rng(seed)).check(linear_backward)
    assert report.ok, repr(report)
