"""Training a `lib.transformer` model: Adam, the minibatch loop, and scoring on the digit tasks.

Letters: B batch, T tokens, N examples, n digits of a task. `train` runs Adam on every parameter
(or, with LoRA adapters, on the adapters only, the base frozen) and calls only the transformer's
kernels inside its loop: the inputs are checked once, before the first step. See the chapter `tiny-gpt`.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
from collections.abc import Iterator

import numpy as np

from lib import transformer as tf
from lib.data import SEP, _digits, _sequences
from lib.shapes import as_array, as_number, as_positive_int, as_seed, positive_ints


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run NumPy's OpenBLAS on one thread inside the block (a no-op if it cannot be found).

    The matrices here are tiny ((640, 32) @ (32, 32)); splitting them over threads costs more
    than it saves, and on a busy machine it makes training several times slower.
    """
    found = glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "*openblas*"))
    try:
        blas = ctypes.CDLL(found[0])
        get, set_ = blas.scipy_openblas_get_num_threads64_, blas.scipy_openblas_set_num_threads64_
    except (IndexError, OSError, AttributeError):
        yield
        return
    before = get()
    set_(1)
    try:
        yield
    finally:
        set_(before)


def adam_update(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int, lr: float,
                beta1: float = 0.9, beta2: float = 0.99, eps: float = 1e-8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Adam step; t counts steps from 1. p, g, m, v (any shape, all the same) -> new p, m, v.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  p <- p - lr m_hat / (sqrt(v_hat) + eps),
    with m_hat = m / (1 - b1^t) and v_hat = v / (1 - b2^t) undoing the zero start of m and v.
    """
    arrays = [as_array(a, n, "adam_update") for a, n in ((p, "p"), (g, "g"), (m, "m"), (v, "v"))]
    for a, n in zip(arrays[1:], ("g", "m", "v"), strict=True):
        if a.shape != arrays[0].shape:
            raise ValueError(f"adam_update: {n} should have the shape of p, {arrays[0].shape}, got {a.shape}.")
    if np.any(arrays[3] < 0):
        raise ValueError("adam_update: v is a running mean of squares and cannot be negative.")
    t = as_positive_int(t, "t", "adam_update")
    lr = as_number(lr, "lr", "adam_update", positive=True)
    for name, beta in (("beta1", beta1), ("beta2", beta2)):
        if not 0 <= as_number(beta, name, "adam_update") < 1:
            raise ValueError(f"adam_update: {name} must be in [0, 1), got {beta}.")
    return _adam(*arrays, t, lr, beta1, beta2, as_number(eps, "eps", "adam_update", positive=True))


def _adam(p, g, m, v, t, lr, beta1=0.9, beta2=0.99, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g  # running mean of the gradient
    v = beta2 * v + (1 - beta2) * g * g  # running mean of its square
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)  # bias correction: m and v start at 0
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _model(cfg: object, params: object, where: str) -> tf.Config:
    c = tf._config(cfg, where)
    tf._check_params(params, c, where)
    return c


def train(params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray, cfg: tf.Config, *, steps: int = 600,
          batch: int = 64, lr: float = 1e-2, seed: int = 0, lora: dict[str, np.ndarray] | None = None,
          alpha: float = 1.0) -> list[float]:
    """Adam on minibatches of a digit task (X, Y) for `steps` steps; returns the loss of every step.

    X (N, n), Y (N, n) digits. Without `lora`, every parameter in `params` is trained in place.
    With `lora`, params are frozen and only the adapter's factors are trained (in place). Seeded:
    same call, same numbers. The learning rate decays linearly to 10% over the run.
    """
    c = _model(cfg, params, "train")
    X, Y = _digits(X, "X", "train"), _digits(Y, "Y", "train")
    if X.shape != Y.shape:
        raise ValueError(f"train: Y should have the shape of X {X.shape}, got {Y.shape}.")
    steps, batch = positive_ints("train", steps=steps, batch=batch)
    lr = as_number(lr, "lr", "train", positive=True)
    s = tf._scale(lora, alpha, params, "train")
    tokens, targets = _sequences(X, Y)
    tf._tokens(tokens, c, "train", "X")  # the sequences must fit the context and the vocabulary
    rng = np.random.default_rng(as_seed(seed, "train"))
    trained = params if lora is None else lora
    m = {k: np.zeros_like(a) for k, a in trained.items()}
    v = {k: np.zeros_like(a) for k, a in trained.items()}
    losses: list[float] = []
    with one_blas_thread():
        for t in range(1, steps + 1):
            idx = rng.choice(len(tokens), size=min(batch, len(tokens)), replace=False)
            value, grads, lgrads = tf._loss_and_grads(params, tokens[idx], targets[idx], c, lora, s)
            g = grads if lora is None else lgrads
            step_lr = lr * (1 - 0.9 * (t - 1) / steps)
            for k in trained:
                trained[k][...], m[k], v[k] = _adam(trained[k], g[k], m[k], v[k], t, step_lr)  # in place
            losses.append(value)
    return losses


def solve(params: dict[str, np.ndarray], X: np.ndarray, cfg: tf.Config, *, use_cache: bool = True,
          lora: dict[str, np.ndarray] | None = None, alpha: float = 1.0) -> np.ndarray:
    """The model's answers by greedy decoding after [x, SEP]: X (N, n) -> predictions (N, n)."""
    c = _model(cfg, params, "solve")
    X = _digits(X, "X", "solve")
    return _solve(params, X, c, bool(use_cache), lora, tf._scale(lora, alpha, params, "solve"), "solve")


def _solve(params: dict, X: np.ndarray, c: tf.Config, use_cache: bool, lora: dict | None, s: float,
           where: str) -> np.ndarray:
    if 2 * X.shape[1] > c.block_size:
        raise ValueError(f"{where}: rows of {X.shape[1]} digits need a context of {2 * X.shape[1]}, more than "
                         f"block_size = {c.block_size}; X should have at most {c.block_size // 2} columns.")
    if c.vocab_size <= SEP:
        raise ValueError(f"{where}: the digit tasks need a vocabulary of at least {SEP + 1} tokens, got {c.vocab_size}.")
    prompt = np.concatenate([X, np.full((X.shape[0], 1), SEP)], axis=1)  # (N, n + 1)
    return tf._generate(params, prompt, X.shape[1], c, use_cache, None, lora, s)[0][:, X.shape[1] + 1:]


def accuracy(params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray, cfg: tf.Config, *,
             lora: dict[str, np.ndarray] | None = None, alpha: float = 1.0) -> tuple[float, float]:
    """(digit accuracy, whole-row accuracy) of greedy answers on X against Y, both (N, n) digits."""
    c = _model(cfg, params, "accuracy")
    X, Y = _digits(X, "X", "accuracy"), _digits(Y, "Y", "accuracy")
    if X.shape != Y.shape:
        raise ValueError(f"accuracy: Y should have the shape of X {X.shape}, got {Y.shape}.")
    pred = _solve(params, X, c, True, lora, tf._scale(lora, alpha, params, "accuracy"), "accuracy")
    return float((pred == Y).mean()), float((pred == Y).all(axis=1).mean())

