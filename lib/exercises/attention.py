"""Exercises for the chapter `attention`: batched scores, causal softmax, split heads, score variance."""

from __future__ import annotations

import numpy as np

from lib import attention
from lib.exercises import Exercise, Wrong, call, compare, to_number

_rng = np.random.default_rng(11)
B, T, D_K = 2, 5, 4
Q_EX = _rng.normal(size=(B, T, D_K))  # (B, T, d_k)
K_EX = _rng.normal(size=(B, T, D_K))  # (B, T, d_k)
S_EX = _rng.normal(size=(B, T, T))  # (B, T, T) raw scores for ex2
X_HEADS = _rng.normal(size=(2, 3, 8))  # (B, T, d) with d = 8, for ex3 (h = 2)


def _swap(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


def _call_shapes(fn, *args, name: str):
    """Call the learner's function, turning NumPy's matmul error into advice about transposes."""
    try:
        return call(fn, *args, name=name)
    except Wrong as wrong:
        text = str(wrong)
        if "matmul" in text or "broadcast" in text or "shapes" in text:
            raise Wrong(f"{text}. For a batch (B, T, d_k), K.T reverses ALL axes to (d_k, T, B); "
                        "swap only the last two: np.swapaxes(K, -1, -2) or K.transpose(0, 2, 1).") from None
        raise


def _check_scores(fn) -> str:
    want = Q_EX @ _swap(K_EX) / np.sqrt(D_K)  # (B, T, d_k) @ (B, d_k, T) -> (B, T, T)
    got = _call_shapes(fn, Q_EX, K_EX, name="your scores")
    compare(got, want, name="scores(Q, K)", bugs={
        "you forgot to divide by sqrt(d_k): without it the variance of q . k grows like d_k and the softmax saturates.":
            Q_EX @ _swap(K_EX),
        "you divided by d_k; the scale is 1 / sqrt(d_k), which brings the variance of q . k back to 1.":
            Q_EX @ _swap(K_EX) / D_K,
        "that is K Q^T / sqrt(d_k), the transpose of the scores: row i must hold query i's scores against every key.":
            K_EX @ _swap(Q_EX) / np.sqrt(D_K),
        "you multiplied by sqrt(d_k) instead of dividing by it.": Q_EX @ _swap(K_EX) * np.sqrt(D_K),
    })
    one = Q_EX[:1, :1]  # (1, 1, d_k): a single query still works
    compare(call(fn, one, K_EX[:1], name="your scores"), one @ _swap(K_EX[:1]) / np.sqrt(D_K),
            name="scores for a single query (1, 1, d_k) against (1, T, d_k)")
    return f"scores have shape {want.shape} = (B, T, T): one score for every (query, key) pair in each sequence."


ex1 = Exercise(
    "attention-ex1",
    _check_scores,
    ["The inner dimensions of the matmul must be d_k: (B, T, d_k) @ (B, d_k, T). Which axes of K must swap?",
     "np.swapaxes(K, -1, -2) swaps only the last two axes; then divide by np.sqrt(Q.shape[-1])."],
    "def scores(Q, K):\n    d_k = Q.shape[-1]\n    return Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k)  # (B, T, T)",
)


def _check_causal_softmax(fn) -> str:
    mask = attention.causal_mask(T)  # (T, T)
    want = attention.softmax(np.where(mask, S_EX, -np.inf), axis=-1)
    e = np.exp(S_EX - S_EX.max(axis=-1, keepdims=True))
    after = np.where(mask, e / e.sum(axis=-1, keepdims=True), 0.0)
    got = call(fn, S_EX, name="your causal_softmax")
    compare(got, want, name="causal_softmax(S)", bugs={
        "you applied the mask AFTER the softmax: zeroing weights afterwards leaves rows that no longer sum to 1. "
        "Set future scores to -inf before the softmax.": after,
        "you took the softmax over the wrong axis (the queries): each ROW (one query, all keys) must sum to 1, "
        "so use axis=-1.": lambda: attention.softmax(np.where(mask, S_EX, -np.inf), axis=-2),
        "you forgot the causal mask: query i must give zero weight to keys j > i.": attention.softmax(S_EX, axis=-1),
        "your mask is flipped: it hides the past and keeps the future. Keep j <= i (np.tril).":
            lambda: attention.softmax(np.where(mask.T, S_EX, -np.inf), axis=-1),
        "you masked with 0 instead of -inf: exp(0) = 1, so the future still gets weight.":
            attention.softmax(np.where(mask, S_EX, 0.0), axis=-1),
    })
    return "every row sums to 1 and the weights above the diagonal are exactly 0."


ex2 = Exercise(
    "attention-ex2",
    _check_causal_softmax,
    ["Build a (T, T) boolean mask with np.tril(np.ones((T, T), dtype=bool)), replace the scores where it "
     "is False by -np.inf, and only then take the softmax.",
     "S = np.where(mask, S, -np.inf); subtract S.max(axis=-1, keepdims=True), exponentiate, divide by the "
     "sum over axis=-1."],
    "def causal_softmax(S):\n    T = S.shape[-1]\n    mask = np.tril(np.ones((T, T), dtype=bool))\n"
    "    S = np.where(mask, S, -np.inf)\n    e = np.exp(S - S.max(axis=-1, keepdims=True))\n"
    "    return e / e.sum(axis=-1, keepdims=True)",
)


def _check_split_heads(fn) -> str:
    h = 2
    Bx, Tx, d = X_HEADS.shape
    want = attention.split_heads(X_HEADS, h)  # (B, h, T, d_k)
    got = call(fn, X_HEADS, h, name="your split_heads")
    compare(got, want, name="split_heads(X, 2)", bugs={
        "you reshaped straight to (B, h, T, d_k): that cuts the sequence axis instead of the feature axis and "
        "mixes tokens. Reshape to (B, T, h, d_k) first, then transpose to (B, h, T, d_k).":
            X_HEADS.reshape(Bx, h, Tx, d // h),
        "you swapped the wrong axes: transpose (B, T, h, d_k) with (0, 2, 1, 3), not (0, 2, 3, 1) or similar.":
            lambda: X_HEADS.reshape(Bx, Tx, h, d // h).transpose(0, 3, 1, 2).reshape(Bx, h, Tx, d // h),
        "that is the shape (B, T, h, d_k): the head axis must come before T so attention runs per head.":
            X_HEADS.reshape(Bx, Tx, h, d // h),
    })
    return "head j of token t holds features j*d_k to (j+1)*d_k - 1 of that token, as it should."


ex3 = Exercise(
    "attention-ex3",
    _check_split_heads,
    ["Two moves: cut the last axis d into (h, d_k), then bring the head axis in front of T.",
     "X.reshape(B, T, h, d // h).transpose(0, 2, 1, 3)"],
    "def split_heads(X, h):\n    B, T, d = X.shape\n    return X.reshape(B, T, h, d // h).transpose(0, 2, 1, 3)  # (B, h, T, d_k)",
)


def _check_variance(answer) -> str:
    value = to_number(answer)
    if np.isclose(value, 8.0):
        raise Wrong("8 = sqrt(64) is the standard deviation of q . k; the question asks for the variance.")
    if np.isclose(value, 1.0):
        raise Wrong("1 is the variance AFTER dividing by sqrt(d_k); the question asks about the raw dot product.")
    if not np.isclose(value, 64.0):
        raise Wrong(f"{value:g} is not it. q . k is a sum of 64 products q_i k_i, each with mean 0 and variance 1.")
    return "q . k is a sum of d_k = 64 independent terms of variance 1, so its variance is 64; dividing by sqrt(64) = 8 brings it back to 1."


ex4 = Exercise(
    "attention-ex4",
    _check_variance,
    ["Each product q_i k_i has mean 0 and variance E[q_i^2] E[k_i^2] = 1. Variances of independent terms add.",
     "Add up d_k = 64 variances of 1."],
    "answer = 64  # variance of q . k; its standard deviation is 8 = sqrt(64)",
    solution_text="The variance of a sum of independent terms is the sum of their variances:",
)
