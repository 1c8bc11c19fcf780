"""The course's small data sets: names as characters, and the digit tasks of the tiny GPT.

Letters: N examples, n digits per row, T tokens. Names (the chapter `decoder-kv-cache`) use the
27-character vocabulary `VOCAB`, where "." marks the start and the end of a name. The digit tasks
(the chapter `tiny-gpt`) use the 11 tokens 0-9 and `SEP`: a row of n digits, the separator, then the
digits transformed (reversed, or rotated); a model is scored only on the digits after the separator.
"""

from __future__ import annotations

import numpy as np

from lib.shapes import as_array, as_seed, check_shapes, positive_ints

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
