"""lib.nn: activations, losses and their gradients, the MLP, training and linear regions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import data, nn
from lib.gradcheck import check_gradients


# ---------------------------------------------------------------- activations
def test_relu_and_backward_by_hand():
    Z = np.array([[-1.0, 0.5], [2.0, -3.0]])
    np.testing.assert_array_equal(nn.relu(Z), [[0.0, 0.5], [2.0, 0.0]])
    np.testing.assert_array_equal(nn.relu_backward(Z, np.array([[1.0, 2.0], [3.0, 4.0]])), [[0.0, 2.0], [3.0, 0.0]])


def test_relu_backward_gradcheck(rng):
    Z = rng.normal(size=(4, 5)) + 0.05  # keep away from the kink at 0
    Z[np.abs(Z) < 0.1] += 0.3
    G = rng.normal(size=(4, 5))
    report = check_gradients(lambda: float((nn.relu(Z) * G).sum()), {"Z": Z}, {"Z": nn.relu_backward(Z, G)})
    assert report.ok, report


def test_softmax_rows_sum_to_one_and_hand_value():
    P = nn.softmax(np.array([[0.0, np.log(3.0)], [1.0, 1.0]]))
    np.testing.assert_allclose(P, [[0.25, 0.75], [0.5, 0.5]])
    np.testing.assert_allclose(P.sum(axis=1), 1.0)


def test_softmax_is_stable_for_logits_of_1000():
    with np.errstate(all="raise"):  # any overflow would raise here
        P = nn.softmax(np.array([[1000.0, 1000.0, 999.0], [-1000.0, -1001.0, -1000.0]]))
    assert np.all(np.isfinite(P))
    e = np.exp(-1.0)
    np.testing.assert_allclose(P[0], [1 / (2 + e), 1 / (2 + e), e / (2 + e)])
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_allclose(nn.log_softmax(np.array([[1000.0, 0.0]]))[0, 1], -1000.0)


def test_softmax_gradcheck(rng):
    Z, G = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    P = nn.softmax(Z)
    dZ = P * (G - (G * P).sum(axis=1, keepdims=True))  # the softmax Jacobian applied to G
    report = check_gradients(lambda: float((nn.softmax(Z) * G).sum()), {"Z": Z}, {"Z": dZ})
    assert report.ok, report


# ---------------------------------------------------------------- losses
def test_mse_by_hand_and_gradcheck(rng):
    assert nn.mse(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 0.0], [0.0, 4.0]])) == pytest.approx(13 / 4)
    Y_hat, Y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    report = check_gradients(lambda: nn.mse(Y_hat, Y), {"Y_hat": Y_hat}, {"Y_hat": nn.mse_backward(Y_hat, Y)})
    assert report.ok, report


def test_cross_entropy_by_hand():
    # softmax([0, log 3]) = [1/4, 3/4]; labels 1 then 0: -(log 3/4 + log 1/4) / 2
    logits = np.array([[0.0, np.log(3.0)], [0.0, np.log(3.0)]])
    assert nn.cross_entropy(logits, np.array([1, 0])) == pytest.approx(-(np.log(0.75) + np.log(0.25)) / 2)
    assert nn.cross_entropy(np.zeros((3, 4)), np.array([0, 1, 2])) == pytest.approx(np.log(4))
    assert np.isfinite(nn.cross_entropy(np.array([[1000.0, -1000.0]]), np.array([1])))


def test_cross_entropy_backward_is_p_minus_onehot_over_b(rng):
    Z, y = rng.normal(size=(5, 4)) * 2, np.array([0, 3, 1, 1, 2])
    dZ = nn.cross_entropy_backward(Z, y)
    np.testing.assert_allclose(dZ, (nn.softmax(Z) - nn.one_hot(y, 4)) / 5)
    report = check_gradients(lambda: nn.cross_entropy(Z, y), {"logits": Z}, {"logits": dZ})
    assert report.ok, report


# ---------------------------------------------------------------- collapse and the MLP
def test_collapse_identity(rng):
    X = rng.normal(size=(6, 3))
    layers = [(rng.normal(size=(3, 5)), rng.normal(size=5)), (rng.normal(size=(5, 4)), rng.normal(size=4)),
              (rng.normal(size=(4, 2)), rng.normal(size=2))]
    W, b = nn.collapse_linear(layers)
    assert W.shape == (3, 2) and b.shape == (2,)
    stacked = ((X @ layers[0][0] + layers[0][1]) @ layers[1][0] + layers[1][1]) @ layers[2][0] + layers[2][1]
    np.testing.assert_allclose(X @ W + b, stacked)
    W1, b1 = layers[0]
    W2, b2 = layers[1]
    W12, b12 = nn.collapse_linear(layers[:2])
    np.testing.assert_allclose(W12, W1 @ W2)
    np.testing.assert_allclose(b12, b1 @ W2 + b2)


def test_mlp_backward_gradcheck(rng):
    X, y = rng.normal(size=(6, 2)), np.array([0, 1, 2, 1, 0, 2])
    layers = nn.init_mlp([2, 5, 4, 3], rng)
    layers = [(W, b + rng.normal(size=b.shape) * 0.1) for W, b in layers]  # non-zero biases
    _, grads = nn.mlp_loss_and_grads(X, y, layers)
    params = {f"W{k}": W for k, (W, _) in enumerate(layers)} | {f"b{k}": b for k, (_, b) in enumerate(layers)}
    named = {f"W{k}": dW for k, (dW, _) in enumerate(grads)} | {f"b{k}": db for k, (_, db) in enumerate(grads)}
    report = check_gradients(lambda: nn.cross_entropy(nn.mlp_forward(X, layers)[0], y), params, named)
    assert report.ok, report


def test_training_loss_falls_on_a_seeded_run():
    X, y = data.make_spirals(50, np.random.default_rng(0), turns=1.0, noise=0.1)
    run = nn.train_mlp(X, y, [2, 16, 16, 2], steps=400, lr=0.2, seed=0, snapshot_steps=(0, 200))
    assert run.losses.shape == (401,)
    assert run.losses[-1] < 0.5 * run.losses[0]
    assert set(run.snapshots) == {0, 200}
    again = nn.train_mlp(X, y, [2, 16, 16, 2], steps=400, lr=0.2, seed=0)
    np.testing.assert_array_equal(run.losses, again.losses)  # seeded: the same run every time


# ---------------------------------------------------------------- linear regions
def test_regions_of_a_hand_designed_network():
    # three units: x > 0, y > 0, x + y > 1 -> 3 lines in general position cut the plane into 7 regions
    layers = [(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]), np.array([0.0, 0.0, -1.0])),
              (np.ones((3, 1)), np.zeros(1))]
    assert nn.count_linear_regions(layers, (-2.03, 2.97, -2.01, 2.99), 101) == 7 == nn.max_regions_one_layer(3)
    # two parallel lines x > 0 and x > 1: 3 strips
    parallel = [(np.array([[1.0, 1.0], [0.0, 0.0]]), np.array([0.0, -1.0])), (np.ones((2, 1)), np.zeros(1))]
    assert nn.count_linear_regions(parallel, (-2.03, 2.97, -2.01, 2.99), 101) == 3
    ids, count = nn.region_ids(np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, -0.5]]), layers)
    assert count == 2 and ids[0] == ids[2] != ids[1]


def test_sawtooth_has_two_to_the_depth_regions():
    xs = np.linspace(0.0013, 0.9991, 20001)  # avoids the dyadic points where a unit sits exactly at 0
    X = np.stack([xs, np.full_like(xs, 0.5)], axis=1)
    for depth in (1, 3, 8):
        assert nn.region_ids(X, nn.sawtooth_network(depth))[1] == 2**depth
    assert nn.count_params(nn.sawtooth_network(8)) == 6 * 8 + 3
    assert nn.max_regions_one_layer(16) == 137 < 2**8


def test_max_regions_formula():
    assert [nn.max_regions_one_layer(n) for n in (1, 2, 3, 4, 5)] == [2, 4, 7, 11, 16]
    assert nn.max_regions_one_layer(3, d_in=1) == 4


def test_activation_patterns_shape(rng):
    layers = nn.init_mlp([2, 4, 3, 2], rng)
    assert nn.activation_patterns(rng.normal(size=(7, 2)), layers).shape == (7, 7)


# ---------------------------------------------------------------- bad inputs
def test_bad_inputs_name_the_argument(rng):
    with pytest.raises(TypeError, match="labels must be integer"):
        nn.cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"labels must lie in 0..2"):
        nn.cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"labels should be 1-D"):
        nn.cross_entropy(np.zeros((2, 3)), np.array([[0, 1]]))
    with pytest.raises(ValueError, match=r"labels should have shape \(B\)"):
        nn.cross_entropy_backward(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"logits should be 2-D"):
        nn.cross_entropy(np.zeros(3), np.array([0]))
    with pytest.raises(ValueError, match=r"Y should have shape"):
        nn.mse(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="NaN"):
        nn.softmax(np.array([[1.0, np.nan]]))
    with pytest.raises(TypeError, match="Z is None"):
        nn.relu(None)
    with pytest.raises(TypeError, match="must be an array of numbers"):
        nn.softmax("abc")
    with pytest.raises(ValueError, match="empty"):
        nn.softmax(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"dA should have the shape of Z"):
        nn.relu_backward(np.zeros((2, 2)), np.zeros((2, 3)))


def test_bad_layers_name_the_layer(rng):
    layers = [(np.zeros((2, 3)), np.zeros(3)), (np.zeros((4, 1)), np.zeros(1))]
    with pytest.raises(ValueError, match=r"layers\[1\] W should have shape"):
        nn.collapse_linear(layers)
    with pytest.raises(ValueError, match=r"layers\[0\] b should have shape"):
        nn.mlp_forward(np.zeros((5, 2)), [(np.zeros((2, 3)), np.zeros(4))])
    with pytest.raises(ValueError, match=r"X should have shape"):
        nn.mlp_forward(np.zeros((5, 3)), nn.init_mlp([2, 3, 2], rng))
    with pytest.raises(TypeError, match="non-empty list"):
        nn.mlp_forward(np.zeros((5, 2)), [])
    with pytest.raises(TypeError, match=r"layers\[0\] must be a pair"):
        nn.collapse_linear([np.zeros((2, 2))])
    with pytest.raises(ValueError, match="sizes"):
        nn.init_mlp([2], rng)
    with pytest.raises(ValueError, match="lr must be a positive"):
        nn.train_mlp(np.zeros((4, 2)), np.array([0, 1, 0, 1]), [2, 3, 2], steps=5, lr=-1.0)
    with pytest.raises(TypeError, match="steps must be a positive integer"):
        nn.train_mlp(np.zeros((4, 2)), np.array([0, 1, 0, 1]), [2, 3, 2], steps=2.5, lr=0.1)
    with pytest.raises(TypeError, match="rng must be"):
        data.make_spirals(10, 0)
    with pytest.raises(TypeError, match="cache must be"):
        nn.mlp_backward(np.zeros((5, 2)), nn.init_mlp([2, 3, 2], rng), None)


# ---------------------------------------------------------------- properties
@settings(max_examples=25, deadline=None)
@given(B=st.integers(1, 6), widths=st.lists(st.integers(1, 5), min_size=2, max_size=4), seed=st.integers(0, 999))
def test_mlp_shapes_and_gradient_shapes(B, widths, seed):
    rng = np.random.default_rng(seed)
    layers = nn.init_mlp(widths, rng)
    X = rng.normal(size=(B, widths[0]))
    logits, cache = nn.mlp_forward(X, layers)
    assert logits.shape == (B, widths[-1])
    grads = nn.mlp_backward(rng.normal(size=logits.shape), layers, cache)
    assert [(dW.shape, db.shape) for dW, db in grads] == [(W.shape, b.shape) for W, b in layers]
    W, b = nn.collapse_linear(layers)
    assert W.shape == (widths[0], widths[-1]) and b.shape == (widths[-1],)


@settings(max_examples=25, deadline=None)
@given(B=st.integers(1, 5), V=st.integers(1, 6), scale=st.floats(0.1, 1000.0), seed=st.integers(0, 999))
def test_softmax_rows_sum_to_one_at_any_scale(B, V, scale, seed):
    Z = np.random.default_rng(seed).normal(size=(B, V)) * scale
    P = nn.softmax(Z)
    assert np.all(np.isfinite(P)) and np.all(P >= 0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
