"""lib.train: Adam by hand, and the training loop of the tiny GPT (learns, is seeded)."""

import numpy as np

from lib import data, train
from lib import transformer as tf


def test_adam_update_by_hand():
    p, g = np.array([1.0, -2.0]), np.array([0.5, -0.1])
    p1, m, v = train.adam_update(p, g, np.zeros(2), np.zeros(2), 1, lr=0.1)
    np.testing.assert_allclose(p1, [0.9, -1.9], atol=1e-6)  # first step: lr * sign(g)
    np.testing.assert_allclose(m, 0.1 * g)
    np.testing.assert_allclose(v, 0.01 * g * g)
    p2, _, _ = train.adam_update(p1, g, m, v, 2, lr=0.1)
    np.testing.assert_allclose(p2, [0.8, -1.8], atol=1e-6)  # a constant gradient: lr * sign(g) again


def test_training_learns_reversal_and_is_deterministic():
    cfg = tf.Config(block_size=8)
    X, Y = data.digit_task("reverse", 1000, 4, 0)
    Xt, Yt = data.digit_task("reverse", 200, 4, 1, exclude=X)
    params = tf.init_params(cfg, 0)
    losses = train.train(params, X, Y, cfg, steps=150, batch=32, lr=0.01, seed=0)
    assert np.mean(losses[-10:]) < 0.1 * losses[0]
    digit_acc, seq_acc = train.accuracy(params, Xt, Yt, cfg)
    assert digit_acc > 0.8 and seq_acc > 0.5  # chance: 0.1 and 0.0001
    assert train.train(tf.init_params(cfg, 0), X, Y, cfg, steps=150, batch=32, lr=0.01, seed=0) == losses
