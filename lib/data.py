"""The course's small data sets: two spirals, a low-rank teacher, names as characters, the digit tasks
of the tiny GPT, a low-rank fine-tuning task.

Letters: N examples, n digits per row, T tokens. Names (the chapter `decoder-kv-cache`) use the
27-character vocabulary `VOCAB`, where "." marks the start and the end of a name. The digit tasks
(the chapter `tiny-gpt`) use the 11 tokens 0-9 and `SEP`: a row of n digits, the separator, then the
digits transformed (reversed, or rotated); a model is scored only on the digits after the separator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lib.shapes import (
    as_array,
    as_number,
    as_positive_int,
    as_rng,
    as_seed,
    check_shapes,
    positive_ints,
)

#: The 27 characters of the names data: "." (id 0) marks the start and end of a name, then "a".."z" (ids 1-26).
VOCAB = "." + "abcdefghijklmnopqrstuvwxyz"
#: The separator token of the digit tasks; the tokens 0-9 are the digits themselves.
SEP = 10
#: The number of tokens of the digit tasks: the ten digits and SEP.
DIGIT_VOCAB = 11
#: The digit tasks `digit_task` can draw.
TASKS = ("reverse", "rotate")


# ---------------------------------------------------------------- names, character by character
def _token_ids(tokens: object, vocab_size: int, where: str, name: str = "tokens") -> np.ndarray:
    arr = as_array(tokens, name, where)
    if arr.ndim == 1:
        arr = arr[None, :]  # (T,) -> (1, T)
    check_shapes(where, **{name: (arr, "B T")})
    if not np.array_equal(arr, np.round(arr)) or arr.min() < 0 or arr.max() >= vocab_size:
        raise ValueError(f"{where}: {name} must be integers in [0, {vocab_size}), got values from {arr.min()} to {arr.max()}.")
    return arr.astype(np.int64)


def encode(text: str) -> np.ndarray:
    """Characters to token ids over VOCAB ('.' is 0, 'a' is 1, ...). text of length T -> ids (T,)"""
    if not isinstance(text, str):
        raise TypeError(f"encode: text must be a string, got {type(text).__name__}.")
    bad = sorted(set(text) - set(VOCAB))
    if bad:
        raise ValueError(f"encode: text has characters {bad} that are not in the vocabulary {VOCAB!r}.")
    return np.array([VOCAB.index(ch) for ch in text], dtype=np.int64)


def decode(tokens: object) -> str:
    """Token ids back to characters: ids (T,) or (1, T) -> str of length T."""
    return "".join(VOCAB[int(i)] for i in np.ravel(_token_ids(tokens, len(VOCAB), "decode")))


def name_of(tokens: object) -> str:
    """The text of a generated sequence up to and including the first end token "." after the start.

    tokens (T,) or (1, T) -> str; ".emma.xq" -> ".emma.", and the whole text if no "." follows.
    """
    text = "".join(VOCAB[int(i)] for i in np.ravel(_token_ids(tokens, len(VOCAB), "name_of")))
    end = text.find(".", 1)
    return text if end < 0 else text[: end + 1]


# ---------------------------------------------------------------- the digit tasks
def digit_task(kind: str, n_examples: int, n_digits: int, seed: int, *,
               exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct random digit rows and their transformation, seeded; rows in `exclude` are never drawn.

    -> X (n_examples, n_digits), Y (n_examples, n_digits) ints 0-9.
    'reverse': Y[:, j] = X[:, n-1-j].  'rotate': Y[:, j] = X[:, (j+1) mod n] (shift left by one).
    """
    if kind not in TASKS:
        raise ValueError(f"digit_task: kind must be one of {TASKS}, got {kind!r}.")
    n_examples, n_digits = positive_ints("digit_task", n_examples=n_examples, n_digits=n_digits)
    rng = np.random.default_rng(as_seed(seed, "digit_task"))
    seen = set() if exclude is None else {tuple(r) for r in np.asarray(as_array(exclude, "exclude", "digit_task"), dtype=np.int64)}
    if n_examples > 10**n_digits - len(seen):
        raise ValueError(f"digit_task: cannot draw {n_examples} distinct rows of {n_digits} digits.")
    rows: list[tuple[int, ...]] = []
    chosen: set[tuple[int, ...]] = set()
    while len(rows) < n_examples:
        for r in map(tuple, rng.integers(0, 10, size=(n_examples, n_digits)).tolist()):
            if r not in seen and r not in chosen and len(rows) < n_examples:
                chosen.add(r)
                rows.append(r)
    X = np.array(rows, dtype=np.int64)
    Y = X[:, ::-1] if kind == "reverse" else np.roll(X, -1, axis=1)
    return X, Y.copy()


def _digits(X: object, name: str, where: str) -> np.ndarray:
    arr = as_array(X, name, where)
    if arr.ndim != 2:
        raise ValueError(f"{where}: {name} should be 2-D with shape (N, n), got shape {arr.shape}.")
    if not np.array_equal(arr, np.round(arr)) or arr.min() < 0 or arr.max() > 9:
        raise ValueError(f"{where}: {name} must hold digits 0-9, got values from {arr.min()} to {arr.max()}.")
    return arr.astype(np.int64)


def to_sequences(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training sequences for next-token prediction, scored only on the answer.

    X (N, n), Y (N, n) -> tokens (N, 2n) = [x_1..x_n, SEP, y_1..y_{n-1}],
    targets (N, 2n) = [-1 (n times), y_1..y_n]: the input SEP at position n predicts y_1, and so on.
    """
    X, Y = _digits(X, "X", "to_sequences"), _digits(Y, "Y", "to_sequences")
    if X.shape != Y.shape:
        raise ValueError(f"to_sequences: Y should have the shape of X {X.shape}, got {Y.shape}.")
    return _sequences(X, Y)


def _sequences(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    N, n = X.shape
    full = np.concatenate([X, np.full((N, 1), SEP), Y], axis=1)  # (N, 2n + 1)
    targets = full[:, 1:].copy()
    targets[:, : n - 1] = -1  # no loss on predicting the input digits (they are random)
    targets[:, n - 1] = -1  # nor on predicting the separator
    return full[:, :-1], targets


# ---------------------------------------------------------------- a fine-tuning task for one layer (the chapter lora)
@dataclass(frozen=True)
class Task:
    """The data of `lowrank_finetune_task` (the chapter `lora`): a frozen layer W0 and data from a target W0 + (rank-`true_rank` change) + small noise."""

    X: np.ndarray  # (N, d) inputs
    Y: np.ndarray  # (N, d) targets, X @ W_target
    W0: np.ndarray  # (d, d) the "pretrained" weights
    W_target: np.ndarray  # (d, d)
    true_rank: int

    @property
    def delta(self) -> np.ndarray:
        """The change the fine-tune should find: W_target - W0, (d, d)."""
        return self.W_target - self.W0


def lowrank_finetune_task(
    rng: np.random.Generator, *, d: int = 32, N: int = 256, true_rank: int = 2, noise: float = 0.01
) -> Task:
    """Draw W0, a rank-`true_rank` change with singular values 2.0, 1.5, ... plus noise, and data.

    -> Task with X (N, d), Y (N, d), W0 (d, d), W_target (d, d)
    """
    rng, d, N = as_rng(rng, "lowrank_finetune_task"), as_positive_int(d, "d", "lowrank_finetune_task"), as_positive_int(N, "N", "lowrank_finetune_task")
    true_rank = as_positive_int(true_rank, "true_rank", "lowrank_finetune_task")
    if true_rank > d:
        raise ValueError(f"lowrank_finetune_task: true_rank = {true_rank} cannot exceed d = {d}.")
    noise = float(noise) if noise == 0 else as_number(noise, "noise", "lowrank_finetune_task", positive=True)
    W0 = rng.standard_normal((d, d)) / np.sqrt(d)
    U, _ = np.linalg.qr(rng.standard_normal((d, true_rank)))  # (d, k) orthonormal columns
    V, _ = np.linalg.qr(rng.standard_normal((d, true_rank)))  # (d, k)
    sigmas = 2.0 - 0.5 * np.arange(true_rank)  # 2.0, 1.5, 1.0, ...
    delta = (U * np.maximum(sigmas, 0.5)) @ V.T  # (d, k) @ (k, d) -> (d, d), rank k
    W_target = W0 + delta + noise * rng.standard_normal((d, d))
    X = rng.standard_normal((N, d))
    return Task(X, X @ W_target, W0, W_target, true_rank)  # (N, d) @ (d, d) -> (N, d)


# ---------------------------------------------------------------- two spirals (the chapter depth)
def make_spirals(n_per_class: int, rng: np.random.Generator, *, turns: float = 1.0, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals in the plane, one per class.

    -> X (2 n, 2), labels (2 n,) in {0, 1}
    """
    n, rng = as_positive_int(n_per_class, "n_per_class", "make_spirals"), as_rng(rng, "make_spirals")
    turns, noise = as_number(turns, "turns", "make_spirals"), as_number(noise, "noise", "make_spirals")
    r = np.linspace(0.15, 1.0, n)  # (n,) radius grows along the arm
    X, labels = [], []
    for c in (0, 1):
        angle = 2 * np.pi * turns * r + np.pi * c  # the second arm is the first turned by 180 degrees
        arm = 2.0 * r[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)  # (n, 2)
        X.append(arm + noise * rng.standard_normal((n, 2)))
        labels.append(np.full(n, c))
    return np.concatenate(X), np.concatenate(labels)


# ---------------------------------------------------------------- regression from a low-rank teacher (the chapter low-rank)
def teacher_regression(
    rng: np.random.Generator, *, B: int = 400, D_in: int = 32, D_out: int = 24, rank: int = 4, noise: float = 0.3
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Synthetic regression data from a low-rank teacher plus noise.

    Y = X @ W_true + noise with W_true = P @ Q of rank `rank`.
    -> X (B, D_in), Y (B, D_out), W_true (D_in, D_out)
    """
    rng = as_rng(rng, "teacher_regression")
    B, D_in, D_out, r = positive_ints("teacher_regression", B=B, D_in=D_in, D_out=D_out, rank=rank)
    if r > min(D_in, D_out):
        raise ValueError(f"teacher_regression: rank = {r} is more than min(D_in, D_out) = {min(D_in, D_out)}.")
    noise = as_number(noise, "noise", "teacher_regression")
    P = rng.standard_normal((D_in, r)) / np.sqrt(r)  # (D_in, r)
    Q = rng.standard_normal((r, D_out))  # (r, D_out)
    W_true = P @ Q  # (D_in, r) @ (r, D_out) -> (D_in, D_out), rank r
    X = rng.standard_normal((B, D_in))  # (B, D_in)
    Y = X @ W_true + noise * rng.standard_normal((B, D_out))  # (B, D_in) @ (D_in, D_out) -> (B, D_out)
    return X, Y, W_true
