"""lib.data: the names vocabulary, the digit tasks, the spirals, the low-rank teacher, the fine-tuning task."""

import numpy as np
import pytest

from lib import data


def test_names_vocabulary():
    assert data.decode(data.encode(".anna.")) == ".anna."
    assert data.name_of(data.encode(".emma.xq")) == ".emma." and data.name_of(data.encode(".emma")) == ".emma"
    assert data.name_of(data.encode("..")) == ".."
    with pytest.raises(ValueError, match="not in the vocabulary"):
        data.encode("Anna")


def test_to_sequences_layout_and_tasks():
    tok, tgt = data.to_sequences(np.array([[1, 2, 3]]), np.array([[3, 2, 1]]))
    np.testing.assert_array_equal(tok, [[1, 2, 3, data.SEP, 3, 2]])
    np.testing.assert_array_equal(tgt, [[-1, -1, -1, 3, 2, 1]])
    X, Y = data.digit_task("reverse", 50, 4, 0)
    np.testing.assert_array_equal(Y, X[:, ::-1])
    Xr, Yr = data.digit_task("rotate", 50, 4, 0)
    np.testing.assert_array_equal(Yr, np.roll(Xr, -1, axis=1))
    held = data.digit_task("reverse", 50, 4, 1, exclude=X)[0]
    assert not {tuple(r) for r in held} & {tuple(r) for r in X} and len({tuple(r) for r in X}) == 50


def test_spirals_shapes_and_labels():
    X, y = data.make_spirals(30, np.random.default_rng(1))
    assert X.shape == (60, 2) and y.shape == (60,)
    assert set(np.unique(y)) == {0, 1}


def test_teacher_regression_shapes_and_rank(rng):
    X, Y, W = data.teacher_regression(rng, B=50, D_in=6, D_out=5, rank=2, noise=0.1)
    assert X.shape == (50, 6) and Y.shape == (50, 5) and W.shape == (6, 5)
    assert np.linalg.matrix_rank(W) == 2


def test_lowrank_finetune_task_has_the_stated_rank_and_targets():
    task = data.lowrank_finetune_task(np.random.default_rng(0), d=8, N=20, true_rank=2, noise=0.0)
    assert task.X.shape == (20, 8) and task.W0.shape == (8, 8)
    np.testing.assert_allclose(task.Y, task.X @ task.W_target)
    s = np.linalg.svd(task.delta, compute_uv=False)
    np.testing.assert_allclose(s[:2], [2.0, 1.5])  # the change's singular values, no noise
    assert s[2] < 1e-12
    with pytest.raises(ValueError, match="true_rank"):
        data.lowrank_finetune_task(np.random.default_rng(0), d=4, true_rank=5)
