"""Exercises for the chapter `attention`.

ex1 scores for T_q queries against T_k keys; ex2 the causal softmax of a KV-cache step (T_q <= T_k),
stable on large scores; ex3 split heads; ex4 the attention backward pass, graded by finite differences
(`lib.gradcheck`); ex5 predict the memory of one layer's attention weights.

Every function exercise is tried on several sizes (each size takes at least two values), so a
hard-coded d_k, h, T or B fails, and every bug a checker names is computed from the same inputs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lib import attention
from lib.exercises import (
    Case,
    Exercise,
    Wrong,
    call,
    cases,
    check_function,
    compare,
    compare_units,
    refuse_lib,
    short,
)
from lib.gradcheck import check_gradients


def _swap(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)  # (..., m, n) -> (..., n, m)


def _label(case: Case, what: str = "") -> str:
    return f"with {case.label}{what}: "


# ---------------------------------------------------------------- ex1: scores, T_q queries against T_k keys
def _make_qk(B: int, T_q: int, T_k: int, d_k: int, rng: np.random.Generator) -> tuple:
    return rng.normal(size=(B, T_q, d_k)), rng.normal(size=(B, T_k, d_k))  # Q (B, T_q, d_k), K (B, T_k, d_k)


_SCORE_CASES = cases(_make_qk, dict(B=2, T_q=3, T_k=5, d_k=4), dict(B=3, T_q=6, T_k=6, d_k=9),
                     dict(B=1, T_q=1, T_k=7, d_k=16), dict(B=3, T_q=3, T_k=3, d_k=3), seed=11)


def _score_bugs(Q: np.ndarray, K: np.ndarray) -> dict[str, Callable[[], np.ndarray]]:
    d_k, T_q, T_k = Q.shape[-1], Q.shape[-2], K.shape[-2]
    raw = Q @ _swap(K)  # (B, T_q, d_k) @ (B, d_k, T_k) -> (B, T_q, T_k)
    return {
        "you forgot to divide by sqrt(d_k): without it the variance of q . k grows like d_k and the softmax "
        "saturates.": lambda: raw,
        "you divided by d_k; the scale is 1 / sqrt(d_k), which brings the variance of q . k back to 1.":
            lambda: raw / d_k,
        "you multiplied by sqrt(d_k) instead of dividing by it.": lambda: raw * np.sqrt(d_k),
        "that is K Q^T / sqrt(d_k), the transpose of the scores: row i must hold query i's scores against "
        "every key, so compute Q @ swapaxes(K).": lambda: K @ _swap(Q) / np.sqrt(d_k),
        "you rounded sqrt(d_k) to a whole number (int(np.sqrt(d_k))); keep it a float: np.sqrt(d_k).":
            lambda: raw / int(np.sqrt(d_k)),
        "you divided by a fixed 2 = sqrt(4) whatever d_k is: take d_k from the arrays, np.sqrt(Q.shape[-1]).":
            lambda: raw / 2.0,
        "you divided by the square root of the number of keys T_k; the scale is sqrt(d_k), the size of the "
        "LAST axis of Q and K.": lambda: raw / np.sqrt(T_k),
        "you divided by the square root of the number of queries T_q; the scale is sqrt(d_k), the size of the "
        "LAST axis of Q and K.": lambda: raw / np.sqrt(T_q),
        "you returned the softmax of the scores (the weights); this function returns the scaled scores "
        "themselves.": lambda: attention.softmax(raw / np.sqrt(d_k)),
        "K.T reverses ALL axes of a 3-D array, to (d_k, T_k, B), which here happens to line up and silently "
        "mixes the batch; swap only the last two: np.swapaxes(K, -1, -2).": lambda: (Q @ K.T) / np.sqrt(d_k),
        "you returned the scores of the first sequence only, shape (T_q, T_k): keep the batch axis, "
        "Q @ np.swapaxes(K, -1, -2) works on all B sequences at once.": lambda: raw[0] / np.sqrt(d_k),
    }


def _constant_divisor(got: object, raw: np.ndarray) -> float | None:
    """c if `got` is raw / c for one constant c (to the answer's rounding), else None."""
    try:
        arr = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return None
    if arr.shape != raw.shape or not np.isfinite(arr).all() or not np.any(arr):
        return None
    c = float((raw * raw).sum() / (raw * arr).sum())
    return c if c > 0 and np.allclose(arr, raw / c, rtol=1e-4, atol=1e-6 * np.abs(raw).max()) else None


def _check_scores(fn: object) -> str:
    refuse_lib(fn, {"lib.attention.attention_forward": attention.attention_forward})
    for case in _SCORE_CASES:
        Q, K = case.make()
        try:
            got = call(fn, Q, K, name="your scores")
        except Wrong as wrong:
            text = str(wrong)
            if "matmul" in text or "broadcast" in text or "shapes" in text or "align" in text:
                text = text.rstrip(". ") + (". The inner sizes must meet: (B, T_q, d_k) @ (B, d_k, T_k). Swap only the last two axes "
                         "of K, np.swapaxes(K, -1, -2); K.T on a 3-D array reverses all three.")
            raise Wrong(short(_label(case) + text)) from None
        want = Q @ _swap(K) / np.sqrt(Q.shape[-1])  # (B, T_q, T_k)
        bugs = _score_bugs(Q, K)
        try:
            compare(got, want, name="your scores", bugs=bugs)
        except Wrong as wrong:
            c = _constant_divisor(got, Q @ _swap(K))
            if c is not None and str(wrong).startswith("your scores"):  # a generic verdict, no bug named
                raise Wrong(_label(case) + f"your scores are Q K^T divided by {c:.4g} everywhere, but here "
                            f"d_k = {Q.shape[-1]}, so the divisor is sqrt(d_k) = {np.sqrt(Q.shape[-1]):.4g}; take "
                            "d_k from the arrays (Q.shape[-1]).") from None
            raise Wrong(short(_label(case) + str(wrong))) from None
    return ("one score for every (query, key) pair: (B, T_q, d_k) @ (B, d_k, T_k) -> (B, T_q, T_k), scaled by "
            "1/sqrt(d_k) for every d_k, also with fewer queries than keys (a KV-cache step).")


ex1 = Exercise(
    "attention-ex1",
    _check_scores,
    ["The inner sizes of a matmul must meet: (B, T_q, d_k) @ (B, ?, ?) -> (B, T_q, T_k). Which two axes of K "
     "must trade places, and which must stay where it is?",
     "NumPy's @ multiplies the last two axes and treats the others as a batch. np.swapaxes(K, -1, -2) has shape "
     "(B, d_k, T_k). The scale comes from the arrays: d_k is the size of Q's last axis."],
    "def scores(Q, K):\n    d_k = Q.shape[-1]\n"
    "    return Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k)  # (B, T_q, d_k) @ (B, d_k, T_k) -> (B, T_q, T_k)",
    why="Only the last two axes of K swap, so the batch axis stays first and d_k meets d_k; dividing by "
        "sqrt(d_k) brings the variance of each score back to about 1 whatever the width.",
)


# ---------------------------------------------------------------- ex2: causal softmax with T_q <= T_k
def _make_scores(B: int, T_q: int, T_k: int, rng: np.random.Generator) -> tuple:
    return (2.0 * rng.normal(size=(B, T_q, T_k)),)  # S (B, T_q, T_k)


def _extreme(rows: list[list[float]], B: int, T_q: int, T_k: int, seed: int) -> np.ndarray:
    S = np.random.default_rng(seed).normal(size=(B, T_q, T_k))
    S[0, -1, :] = rows[0]  # the last query sees every key
    S[-1, -1, :] = rows[1]
    return S


_EXTREME_LABEL = " and scores as large as 1000"
_SOFTMAX_CASES = cases(_make_scores, dict(B=2, T_q=4, T_k=4), dict(B=3, T_q=2, T_k=6), dict(B=1, T_q=1, T_k=5),
                       dict(B=2, T_q=3, T_k=7), seed=21)
_SOFTMAX_EXTREME = [
    Case("B=2, T_q=3, T_k=3" + _EXTREME_LABEL,
         lambda: (_extreme([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]], 2, 3, 3, 31),)),
    Case("B=2, T_q=2, T_k=4" + _EXTREME_LABEL,
         lambda: (_extreme([[-1000.0, 1000.0, 0.0, 500.0], [800.0, -5.0, 0.0, 1000.0]], 2, 2, 4, 32),)),
    Case("B=1, T_q=3, T_k=5" + _EXTREME_LABEL + " (a query whose keys all score about -1000)",
         lambda: (_all_low(),)),
]


def _all_low() -> np.ndarray:
    """Query 0 sees keys 0..2, all scoring about -1000: a finite mask value such as -100 would outweigh them."""
    S = np.random.default_rng(33).normal(size=(1, 3, 5))
    S[0, 0] = [-1000.0, -995.0, -999.0, -1000.0, -1001.0]  # (T_k,); the row max is a visible key
    return S


def _softmax(S: np.ndarray, axis: int = -1, shift: str = "max") -> np.ndarray:
    """A softmax as a learner might write it, NaN and inf included (shift: max, min, mean or none)."""
    with np.errstate(all="ignore"):
        sub = {"max": np.max, "min": np.min, "mean": np.mean}.get(shift)
        e = np.exp(S - sub(S, axis=axis, keepdims=True) if sub else S)
        return e / e.sum(axis=axis, keepdims=True)


def _kv_mask(S: np.ndarray, offset: int | None = None) -> np.ndarray:
    T_q, T_k = S.shape[-2:]
    k = T_k - T_q if offset is None else offset
    return np.tril(np.ones((T_q, T_k), dtype=bool), k=k)  # query i sees keys 0 .. T_k - T_q + i


def _causal_reference(S: np.ndarray) -> np.ndarray:
    return attention.softmax(np.where(attention.causal_mask(*S.shape[-2:]), S, -np.inf), axis=-1)


def _softmax_bugs(S: np.ndarray) -> dict[str, Callable[[], np.ndarray]]:
    mask = _kv_mask(S)
    masked = np.where(mask, S, -np.inf)
    big = np.where(mask, S, -1e9)  # a finite mask value: any huge negative number gives the same answers below
    with np.errstate(all="ignore"):
        added = S + (-np.inf) * (1 - mask)  # -inf * 0 = NaN where the mask is 1
    return {
        "you applied the mask AFTER the softmax: zeroing weights afterwards leaves rows that no longer sum to 1. "
        "Set the masked scores to -inf before the softmax.": lambda: np.where(mask, _softmax(S), 0.0),
        "you forgot the causal mask: query i must give zero weight to the keys after its own position.":
            lambda: _softmax(S),
        "your mask is flipped: it hides the past and keeps the future. Keep key j when j <= T_k - T_q + i "
        "(np.tril, not np.triu).": lambda: _softmax(np.where(~_kv_mask(S, S.shape[-1] - S.shape[-2] - 1), S, -np.inf)),
        "your mask is aligned to the first keys, so query i sees only keys 0..i. In a KV-cache step the T_q "
        "queries are the LAST T_q positions: query i sees keys 0..T_k - T_q + i, so use "
        "np.tril(np.ones((T_q, T_k), dtype=bool), k=T_k - T_q).": lambda: _softmax(np.where(_kv_mask(S, 0), S, -np.inf)),
        "your mask also hides the diagonal: a token must see itself (key T_k - T_q + i for query i); use k=T_k - T_q, "
        "not one less.": lambda: _softmax(np.where(_kv_mask(S, S.shape[-1] - S.shape[-2] - 1), S, -np.inf)),
        "you masked with 0 instead of -inf: exp(0) = 1, so the future still gets weight.":
            lambda: _softmax(np.where(mask, S, 0.0)),
        "you took the softmax over the wrong axis (the queries, axis -2): each ROW (one query, all its keys) must "
        "sum to 1, so use axis=-1.": lambda: _softmax(masked, axis=-2),
        "you took the softmax over axis 0, the batch: each row (one query of one sequence, over its keys) must "
        "sum to 1, so use axis=-1.": lambda: _softmax(masked, axis=0),
        "you subtracted each row's minimum: a masked row holds -inf, and -inf - (-inf) is NaN. Subtract the row's "
        "MAXIMUM (it is finite, and it keeps exp from overflowing).": lambda: _softmax(masked, shift="min"),
        "you subtracted each row's mean: a masked row holds -inf, so the mean is -inf and S - mean is NaN. "
        "Subtract the row's MAXIMUM.": lambda: _softmax(masked, shift="mean"),
        "you took the softmax over the wrong axis (the queries, axis -2; here with a finite mask value): each ROW "
        "(one query, all its keys) must sum to 1, so use axis=-1.": lambda: _softmax(big, axis=-2),
        "you took the softmax over axis 0, the batch (here with a finite mask value): each row (one query of one "
        "sequence, over its keys) must sum to 1, so use axis=-1.": lambda: _softmax(big, axis=0),
        "you subtracted each row's minimum: in a masked row that is the huge negative mask value, so the other "
        "scores become huge and exp overflows (inf / inf = NaN). Subtract the row's MAXIMUM.":
            lambda: _softmax(big, shift="min"),
        "you subtracted each row's mean: a huge negative mask value drags the mean down, so the other scores "
        "become huge and exp overflows (inf / inf = NaN). Subtract the row's MAXIMUM.":
            lambda: _softmax(big, shift="mean"),
        "every weight is NaN: either you masked by adding -inf * (1 - mask), which is -inf * 0 = NaN where the "
        "mask is 1 (use np.where(mask, S, -np.inf)), or your mask hides every key of every query (query i must "
        "keep keys 0..T_k - T_q + i).": lambda: _softmax(added),
        "your mask lets each query see one key too many (the next token): use k=T_k - T_q, not one more.":
            lambda: _softmax(np.where(_kv_mask(S, S.shape[-1] - S.shape[-2] + 1), S, -np.inf)),
        "you divided the scores by sqrt(T_k): S arrives already scaled, so causal_softmax only masks and "
        "normalises.": lambda: _softmax(masked / np.sqrt(S.shape[-1])),
    }


def _facts(got: np.ndarray, S: np.ndarray) -> None:
    """Plain facts about a wrong answer of the right shape: weight on masked keys, rows not summing to 1."""
    mask = np.broadcast_to(_kv_mask(S), S.shape)
    if not np.isfinite(got).all():
        rows = np.argwhere(np.isnan(got).all(axis=-1))
        if len(rows) and np.isfinite(S).all() and np.abs(S).max() < 100:
            at = tuple(int(i) for i in rows[0])
            raise Wrong(f"row {at} of your weights is all NaN, although the scores are small: either your mask "
                        "hides every key of that query (query i must keep keys 0..T_k - T_q + i), or a masked "
                        "entry became -inf * 0 = NaN (mask with np.where(mask, S, -np.inf)).")
        return
    future = np.argwhere(~mask & (got != 0))
    if len(future):
        at = tuple(int(i) for i in future[0])
        raise Wrong(f"the weight at index {at} is {got[at]:.3g}, but that key comes after the query's position "
                    "and must get exactly 0: mask its score with -np.inf before the softmax (a finite mask value "
                    "such as -100 must still be below every real score, and scores reach -1000).")
    sums = got.sum(axis=-1)
    off = np.argwhere(np.abs(sums - 1) > 1e-5)
    if len(off):
        at = tuple(int(i) for i in off[0])
        raise Wrong(f"row {at} of your weights sums to {sums[at]:.6g}; every row must sum to 1.")


def _check_causal_softmax(fn: object) -> str:
    refuse_lib(fn, {"lib.attention.causal_mask": attention.causal_mask}, how="(the offset mask is the point here)")
    for case in [*_SOFTMAX_CASES, *_SOFTMAX_EXTREME]:
        (S,) = case.make()
        try:
            got = call(fn, S, name="your causal_softmax")
        except Wrong as wrong:
            text = str(wrong)
            if "raised" in text and S.shape[-2] != S.shape[-1]:
                text = text.rstrip(". ") + (". Here T_q < T_k: the mask must have shape (T_q, T_k), so build it from both "
                         "S.shape[-2] and S.shape[-1].")
            elif "broadcast" in text:
                text = text.rstrip(". ") + (". If it comes from a row's max or sum: keep its axis with keepdims=True, "
                                            "so that it broadcasts along the row.")
            raise Wrong(short(_label(case) + text)) from None
        want = _causal_reference(S)
        try:
            compare(got, want, name="your weights", bugs=_softmax_bugs(S))
        except Wrong as wrong:
            arr = np.asarray(got, dtype=float) if np.shape(got) == S.shape else None
            generic = str(wrong).startswith("your weights")  # no bug named
            dead = arr is not None and np.isfinite(arr).all() and bool((np.abs(arr.sum(axis=-1)) < 1e-6).any())
            if generic and case in _SOFTMAX_EXTREME and arr is not None and (not np.isfinite(arr).all() or dead):
                raise Wrong(_label(case) + "your softmax gives NaN or inf (or rows of zeros) once the scores are "
                            "large, although it is right on small ones: exp(1000) overflows to inf (inf / inf is "
                            "NaN), and shifting by one maximum for the whole array makes other rows underflow to "
                            "0 / 0. Subtract EACH "
                            "ROW's own maximum before np.exp (it changes nothing mathematically); the min or the "
                            "mean does not prevent the overflow.") from None
            if generic and arr is not None and str(wrong).startswith("your weights has the right shape"):
                try:
                    _facts(arr, S)
                except Wrong as fact:
                    raise Wrong(_label(case) + str(fact)) from None
            raise Wrong(short(_label(case) + str(wrong))) from None
    return ("query i of the last T_q positions weighs keys 0..T_k - T_q + i, every row sums to 1, and the "
            "softmax stays finite for scores of 1000: exactly the mask a KV-cache step or a chunked prefill needs.")


ex2 = Exercise(
    "attention-ex2",
    _check_causal_softmax,
    ["The T_q queries are the LAST T_q of the T_k positions. Write down, for T_q = 2 and T_k = 4, which keys "
     "query 0 and query 1 may see; then find a NumPy function that builds that pattern for any T_q, T_k.",
     "np.tril(np.ones((T_q, T_k), dtype=bool), k=...) keeps the entries with j <= i + k: which k makes query "
     "T_q - 1 see all T_k keys? Put -np.inf where the mask is False, and subtract each row's max before "
     "np.exp."],
    "def causal_softmax(S):\n    T_q, T_k = S.shape[-2:]\n"
    "    mask = np.tril(np.ones((T_q, T_k), dtype=bool), k=T_k - T_q)  # query i sees keys 0 .. T_k - T_q + i\n"
    "    S = np.where(mask, S, -np.inf)\n"
    "    e = np.exp(S - S.max(axis=-1, keepdims=True))  # the max is finite: every row sees one key at least\n"
    "    return e / e.sum(axis=-1, keepdims=True)",
    why="The new queries sit at positions T_k - T_q .. T_k - 1, so the diagonal of the mask is shifted by "
        "T_k - T_q; -inf before the softmax gives exactly 0 weight, and subtracting the row maximum keeps exp "
        "from overflowing without changing the result.",
)


# ---------------------------------------------------------------- ex3: split heads
def _make_heads(B: int, T: int, d: int, h: int, rng: np.random.Generator) -> tuple:
    return rng.normal(size=(B, T, d)), h  # X (B, T, d), h


_HEAD_CASES = cases(_make_heads, dict(B=2, T=3, d=8, h=2), dict(B=1, T=4, d=12, h=3), dict(B=3, T=2, d=12, h=4),
                    dict(B=2, T=5, d=6, h=6), seed=41)


def _head_bugs(X: np.ndarray, h: int) -> dict[str, Callable[[], np.ndarray]]:
    B, T, d = X.shape
    d_k = d // h
    return {
        "you reshaped straight to (B, h, T, d_k): that cuts the sequence axis instead of the feature axis and "
        "mixes tokens. Reshape to (B, T, h, d_k) first, then transpose to (B, h, T, d_k).":
            lambda: X.reshape(B, h, T, d_k),
        "that is (B, T, h, d_k): the head axis must come before T, so that attention runs per head; transpose "
        "with (0, 2, 1, 3).": lambda: X.reshape(B, T, h, d_k),
        "you moved the axes to (B, h, d_k, T): transpose (B, T, h, d_k) with (0, 2, 1, 3) to get (B, h, T, d_k).":
            lambda: X.reshape(B, T, h, d_k).transpose(0, 2, 3, 1),
        "you took every h-th feature (interleaved heads): head j must hold the contiguous block of features "
        "j*d_k .. (j+1)*d_k - 1, so reshape to (B, T, h, d_k), not (B, T, d_k, h).":
            lambda: X.reshape(B, T, d_k, h).transpose(0, 3, 1, 2),
        "you transposed before reshaping: (B, d, T) cut into (B, h, T, d_k) mixes features of different tokens. "
        "Reshape (B, T, d) to (B, T, h, d_k) first, then transpose.": lambda: _swap(X).reshape(B, h, T, d_k),
        "you cut the features into 2 heads whatever h is: use the h you are given (d_k = d // h).":
            lambda: X.reshape(B, T, 2, d // 2).transpose(0, 2, 1, 3),
        "you put the head axis first, (h, B, T, d_k): the batch stays first, so transpose (B, T, h, d_k) with "
        "(0, 2, 1, 3).": lambda: X.reshape(B, T, h, d_k).transpose(2, 0, 1, 3),
        "you swapped h and d_k: cut the last axis into (h, d_k) with d_k = d // h, so that there are h heads.":
            lambda: X.reshape(B, T, d_k, h).transpose(0, 2, 1, 3),
        "X.T reverses ALL three axes, to (d, T, B), so the reshape mixes tokens and sequences: reshape (B, T, d) "
        "to (B, T, h, d_k) first, then transpose with (0, 2, 1, 3).": lambda: X.T.reshape(B, h, T, d_k),
    }


def _check_split_heads(fn: object) -> str:
    refuse_lib(fn, {"lib.attention.split_heads": attention.split_heads})
    for case in _HEAD_CASES:
        X, h = case.make()
        try:
            try:
                got = call(fn, X, h, name="your split_heads")
            except Wrong as wrong:
                text = str(wrong)
                if "float" in text and "integer" in text:
                    raise Wrong(text.rstrip(". ") + ". d / h is a float even when it divides exactly; use integer "
                                "division, d_k = d // h.") from None
                raise
            compare(got, attention.split_heads(X, h), name="your heads", bugs=_head_bugs(X, h))
        except Wrong as wrong:
            raise Wrong(short(_label(case) + str(wrong))) from None
    return "head j of token t holds features j*d_k to (j+1)*d_k - 1 of that token, for every h."


ex3 = Exercise(
    "attention-ex3",
    _check_split_heads,
    ["Two moves: cut the last axis d into (h, d_k), then bring the head axis in front of T. Which of the two "
     "keeps each token's features together?",
     "After X.reshape(B, T, h, d // h) the axes are (B, T, h, d_k); which permutation of (0, 1, 2, 3) gives "
     "(B, h, T, d_k)?"],
    "def split_heads(X, h):\n    B, T, d = X.shape\n"
    "    return X.reshape(B, T, h, d // h).transpose(0, 2, 1, 3)  # (B, T, h, d_k) -> (B, h, T, d_k)",
    why="A reshape only regroups consecutive numbers, and a token's d features are consecutive; so cut that "
        "axis first, and only then move whole axes with a transpose.",
)


# ---------------------------------------------------------------- ex4: the attention backward pass, by finite differences
def _make_backward(B: int, T: int, d_k: int, d_v: int, rng: np.random.Generator) -> tuple:
    Q, K = rng.normal(size=(B, T, d_k)), rng.normal(size=(B, T, d_k))  # (B, T, d_k)
    return Q, K, rng.normal(size=(B, T, d_v)), rng.normal(size=(B, T, d_v))  # V, dY (B, T, d_v)


_BACKWARD_CASES = cases(_make_backward, dict(B=2, T=4, d_k=3, d_v=2), dict(B=1, T=3, d_k=5, d_v=4),
                        dict(B=3, T=5, d_k=2, d_v=3), seed=51)


def _backward_parts(Q, K, V, dY, *, vjp: str = "right", dK_T: bool = True, scale: float = 1.0, dV_T: bool = True,
                    causal: bool = True, forward_scale: bool = True):
    """The causal attention backward pass, with optional learner mistakes -> (dQ, dK, dV)."""
    s = Q.shape[-1] ** (-0.5 * scale)  # scale 1: 1/sqrt(d_k); 0: no scale; 2: 1/d_k
    Q_fwd = Q if forward_scale else Q * np.sqrt(Q.shape[-1])  # undoes the forward pass's 1/sqrt(d_k)
    _, cache = attention.attention_forward(Q_fwd, K, V, causal=causal)
    A = cache["A"]  # (B, T, T)
    dV = (_swap(A) if dV_T else A) @ dY  # (B, T, T) @ (B, T, d_v)
    dA = dY @ _swap(V)  # (B, T, d_v) @ (B, d_v, T) -> (B, T, T)
    dS = {"right": A * (dA - (dA * A).sum(axis=-1, keepdims=True)),
          "diagonal": A * dA,
          "axis": A * (dA - (dA * A).sum(axis=-2, keepdims=True)),
          "none": dA,
          "sign": -A * (dA - (dA * A).sum(axis=-1, keepdims=True)),
          "no A": dA - (dA * A).sum(axis=-1, keepdims=True),
          "unweighted": A * (dA - dA.sum(axis=-1, keepdims=True))}[vjp]
    dQ = dS @ K * s  # (B, T, T) @ (B, T, d_k)
    dK = (_swap(dS) if dK_T else dS) @ Q * s
    return dQ, dK, dV


def _backward_bugs() -> dict[str, Callable[..., tuple]]:
    return {
        "the softmax step kept only the diagonal of its Jacobian (A * dA): subtract A times each row's dot "
        "product sum(dA * A), J = diag(a) - a a^T.": lambda *a: _backward_parts(*a, vjp="diagonal"),
        "the softmax step summed dA * A over the wrong axis: the softmax runs along the keys (axis=-1), so the "
        "row sums are over axis=-1.": lambda *a: _backward_parts(*a, vjp="axis"),
        "you skipped the softmax step: dS = A * (dA - sum(dA * A, axis=-1)), not dA itself.":
            lambda *a: _backward_parts(*a, vjp="none"),
        "dK needs dS transposed: S = Q K^T, so dK = dS^T Q / sqrt(d_k) (in a batch, swap only the last two axes).":
            lambda *a: _backward_parts(*a, dK_T=False),
        "you forgot the scale: S = Q K^T / sqrt(d_k), so dQ and dK are divided by sqrt(d_k) too.":
            lambda *a: _backward_parts(*a, scale=0),
        "you divided dQ and dK by d_k; the forward pass divides by sqrt(d_k), so the gradients do too.":
            lambda *a: _backward_parts(*a, scale=2),
        "the softmax step has the wrong sign: dS = A * (dA - sum(dA * A, axis=-1)), not A * (sum - dA).":
            lambda *a: _backward_parts(*a, vjp="sign"),
        "the softmax step lost its leading factor A: dS = A * (dA - sum(dA * A, axis=-1)), multiplied entry by "
        "entry by A.": lambda *a: _backward_parts(*a, vjp="no A"),
        "your recomputed weights A lack the 1/sqrt(d_k) of the forward pass: A = softmax(mask(Q K^T / sqrt(d_k))).":
            lambda *a: _backward_parts(*a, forward_scale=False),
        "the softmax step's row sums are weighted by A: dS = A * (dA - sum(dA * A, axis=-1)), not sum(dA).":
            lambda *a: _backward_parts(*a, vjp="unweighted"),
        "dQ and dK are swapped: return the tuple in the order (dQ, dK, dV).":
            lambda *a: (lambda dQ, dK, dV: (dK, dQ, dV))(*_backward_parts(*a)),
        "dV needs A transposed: Y = A V, so dV = A^T dY.": lambda *a: _backward_parts(*a, dV_T=False),
        "your weights A have no causal mask: recompute them exactly as the forward pass did, with causal=True.":
            lambda *a: _backward_parts(*a, causal=False),
    }


def _check_attention_backward(fn: object) -> str:
    refuse_lib(fn, {"lib.attention.attention_backward": attention.attention_backward,
                    "lib.attention.softmax_backward": attention.softmax_backward,
                    "lib.attention.self_attention_backward": attention.self_attention_backward})
    try:
        outputs = check_function(fn, lambda *a: _backward_parts(*a), _BACKWARD_CASES, name="your attention_backward",
                                 bugs=_backward_bugs(), parts=("dQ", "dK", "dV"))
    except Wrong as wrong:
        text = str(wrong)
        if "matmul" in text or "remapped" in text:  # a matmul's core or batch axes do not line up
            text = text.rstrip(". ") + (". In a batch (B, T, d), transpose with np.swapaxes(X, -1, -2): X.T "
                                        "reverses the batch axis too.")
        elif "broadcast" in text:
            text = text.rstrip(". ") + (". If it comes from the softmax step's row sums: keep their axis with "
                                        "keepdims=True.")
        raise Wrong(short(text)) from None
    worst = 0.0
    for case, got in zip(_BACKWARD_CASES, outputs, strict=True):
        Q, K, V, dY = case.make()

        def loss(Q=Q, K=K, V=V, dY=dY) -> float:
            return float((attention.attention_forward(Q, K, V, causal=True)[0] * dY).sum())

        report = check_gradients(loss, {"Q": Q, "K": K, "V": V},
                                 {n: np.asarray(g, dtype=float) for n, g in zip("QKV", got, strict=True)}, tol=1e-5)
        if not report.ok:
            bad = next(r for r in report.rows if not r.ok)
            raise Wrong(_label(case) + f"d{bad.name} disagrees with central differences (relative error "
                        f"{bad.rel_error:.1e}).")
        worst = max(worst, *(r.rel_error for r in report.rows))
    return (f"dQ, dK and dV agree with central differences of the loss on every case (lib.gradcheck, relative "
            f"error at most {worst:.0e}), through the causal mask and the softmax.")


ex4 = Exercise(
    "attention-ex4",
    _check_attention_backward,
    ["Go backwards through the three steps of the forward pass, S = Q K^T / sqrt(d_k), A = softmax(S) with the "
     "mask, Y = A V. Each product contributes one gradient per input, with a transpose, as in a linear layer.",
     "Recompute A with attention_forward(Q, K, V, causal=True). Then dV and dA from Y = A V; dS from dA "
     "(the softmax line of the chapter, summed along axis=-1 with keepdims=True); dQ and dK from dS. Transpose "
     "batches with np.swapaxes(..., -1, -2)."],
    "def attention_backward(Q, K, V, dY):\n"
    "    A = attention.attention_forward(Q, K, V, causal=True)[1][\"A\"]  # (B, T, T)\n"
    "    swap = lambda X: np.swapaxes(X, -1, -2)\n"
    "    dV = swap(A) @ dY                                   # (B, T, d_v)\n"
    "    dA = dY @ swap(V)                                   # (B, T, T)\n"
    "    dS = A * (dA - (dA * A).sum(axis=-1, keepdims=True))  # softmax, row by row\n"
    "    s = 1 / np.sqrt(Q.shape[-1])\n"
    "    return dS @ K * s, swap(dS) @ Q * s, dV",
    why="Each matrix product passes the gradient back with the other factor transposed; the softmax couples a "
        "row through J = diag(a) - a a^T; masked weights are 0, so their gradients vanish on their own.",
)


# ---------------------------------------------------------------- ex5: predict the memory of the weights
_GiB = 2.0**30
_WEIGHTS_GIB = attention.score_bytes(batch=3, n_heads=16, T_q=4096, bytes_per_element=4) / _GiB  # 3 GiB


def _check_weights_memory(answer: object) -> str:
    compare_units(answer, _WEIGHTS_GIB, "GiB", name="your answer", bugs={
        "you forgot the batch: each of the 3 sequences has its own weights.": _WEIGHTS_GIB / 3,
        "you forgot the heads: each of the 16 heads has its own (T, T) weights.": _WEIGHTS_GIB / 16,
        "you counted elements, not bytes: fp32 takes 4 bytes per number.": _WEIGHTS_GIB / 4,
        "you used 2 bytes per number (fp16); the question says fp32, 4 bytes.": _WEIGHTS_GIB / 2,
        "you multiplied by 8: that counts bits, not bytes.": _WEIGHTS_GIB * 8,
        "you counted T numbers per head and sequence; the weights are a (T, T) table, T^2 numbers.":
            _WEIGHTS_GIB / 4096,
        "you counted two arrays (the scores S and the weights A); the question asks for A alone.": _WEIGHTS_GIB * 2,
        "you used 8 bytes per number (fp64); the question says fp32, 4 bytes.": _WEIGHTS_GIB * 2,
        "you counted half of the (T, T) table: A stores all T^2 entries, the zeros of the mask included.":
            _WEIGHTS_GIB / 2,
        "you counted only the lower triangle, T(T + 1) / 2 entries: A stores all T^2 entries, the zeros of the "
        "mask included.": _WEIGHTS_GIB * 4097 / 4096 / 2,
        "you forgot both the batch (3 sequences) and the heads (16): multiply by B h.": _WEIGHTS_GIB / 48,
    })
    return (f"3 x 16 x 4096^2 x 4 B = {_WEIGHTS_GIB:g} GiB for one layer; at T = 8192 it would be four times "
            "as much. This quadratic array is what FlashAttention avoids storing.")


ex5 = Exercise(
    "attention-ex5",
    _check_weights_memory,
    ["List the axes of the weight array A of one layer and their sizes; the memory is the product of the "
     "sizes times the bytes per number.",
     "A has shape (B, h, T, T). 1 GiB is 2**30 bytes."],
    "answer = 3 * 16 * 4096 * 4096 * 4 / 2**30  # (B, h, T, T) numbers x 4 bytes, in GiB: 3.0",
    why="There is one weight per (sequence, head, query, key): B h T^2 numbers, quadratic in T.",
)
