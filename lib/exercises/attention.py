"""Exercises for the chapter `attention`.

`rope_offset` (a prediction: the score of rotated q and k after both positions shift);
`rope_halves` (a new case: RoPE in the half-split layout of Llama's Hugging Face code, with a start
position); `softmax_nan` (find the bug: an input on which a softmax shifted by the maximum over all
keys, masked ones included, gives NaN); ex2 the causal softmax of a KV-cache step (T_q <= T_k), stable
on large scores; ex3 split heads; ex4 the attention backward pass, graded by finite differences
(`lib.gradcheck`).

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
    refuse_lib,
    short,
    to_array,
    to_number,
)
from lib.gradcheck import check_gradients


def _swap(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)  # (..., m, n) -> (..., n, m)


def _label(case: Case, what: str = "") -> str:
    return f"with {case.label}{what}: "




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


def _future_max() -> np.ndarray:
    """The largest score of a row sits on a masked future key: shifting by the max over ALL keys breaks."""
    S = np.random.default_rng(34).normal(size=(2, 2, 4))
    S[0, 0] = [-1000.0, -998.0, -999.0, 1000.0]  # query 0 (position 2) sees keys 0..2; the max is future key 3
    S[1, 1] = [-1000.0, -999.0, -1000.0, -998.0]  # all visible and all low
    return S


_FUTURE_MAX = Case("B=2, T_q=2, T_k=4" + _EXTREME_LABEL + " (a row whose largest score sits on a future key)",
                   lambda: (_future_max(),))
_SOFTMAX_EXTREME.append(_FUTURE_MAX)


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
            if arr is not None and np.array_equal(np.isneginf(arr), ~np.broadcast_to(_kv_mask(S), S.shape)) and \
                    np.allclose(np.where(np.isneginf(arr), 0.0, arr), np.where(_kv_mask(S), S, 0.0)):
                raise Wrong(_label(case) + "you returned the masked scores themselves (-inf on the future keys): "
                            "the weights are their softmax along each row.") from None
            if case is _FUTURE_MAX and arr is not None and (not np.isfinite(arr).all() or dead):
                raise Wrong(_label(case) + "your softmax gives NaN (or a row of zeros) when a row's largest score "
                            "sits on a future key: you shifted by the maximum over ALL keys, the masked ones "
                            "included, so every visible score falls about 2000 below it and exp underflows to "
                            "0 / 0. Mask with -np.inf FIRST, then subtract the row's maximum of the masked "
                            "scores.") from None
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
    "attention-kv-causal-softmax",
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
    formerly="attention-ex2",
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
        "either you swapped h and d_k, or you used a fixed number of heads: cut the last axis into (h, d_k) with "
        "the h you are given and d_k = d // h.":
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
    "attention-split-heads",
    _check_split_heads,
    ["Two moves: cut the last axis d into (h, d_k), then bring the head axis in front of T. Which of the two "
     "keeps each token's features together?",
     "After X.reshape(B, T, h, d // h) the axes are (B, T, h, d_k); which permutation of (0, 1, 2, 3) gives "
     "(B, h, T, d_k)?"],
    "def split_heads(X, h):\n    B, T, d = X.shape\n"
    "    return X.reshape(B, T, h, d // h).transpose(0, 2, 1, 3)  # (B, T, h, d_k) -> (B, h, T, d_k)",
    why="A reshape only regroups consecutive numbers, and a token's d features are consecutive; so cut that "
        "axis first, and only then move whole axes with a transpose.",
    formerly="attention-ex3",
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
        "you returned (dV, dK, dQ): return the tuple in the order (dQ, dK, dV).":
            lambda *a: (lambda dQ, dK, dV: (dV, dK, dQ))(*_backward_parts(*a)),
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
    "attention-backward",
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
    formerly="attention-ex4",
)




# ---------------------------------------------------------------- rope_offset: predict a rotated score
_ROPE_D_H = 8  #: head width of the prediction's q and k
_ROPE_Q, _ROPE_K = np.random.default_rng(61).normal(size=(2, _ROPE_D_H))  # the q and k the chapter prints


def rope_score(m: int, n: int) -> float:
    """The score of the chapter's q rotated to position m against its k rotated to position n (no 1/sqrt(d_h))."""
    q = attention.apply_rope(_ROPE_Q[None, :], start=m)[0]  # (d_h,)
    k = attention.apply_rope(_ROPE_K[None, :], start=n)[0]
    return float(q @ k)


def _check_rope_offset(answer: object) -> str:
    want = rope_score(1005, 1002)
    compare(to_number(answer, "your prediction"), want, name="your prediction", rtol=1e-4, atol=1e-4, bugs={
        "that is q . k without any rotation: the rotations do not cancel, R_m^T R_n = R_(n-m) leaves the "
        "offset n - m = -3 in the score.": float(_ROPE_Q @ _ROPE_K),
        "that is the score with the offset reversed (q at 2, k at 5): R_m^T R_n = R_(n-m) depends on the SIGN of "
        "n - m, and here the key is 3 positions BEFORE the query.": rope_score(2, 5),
    })
    return (f"{want:.4f}, the printed score at (5, 2): q_m . k_n = q^T R_m^T R_n k = q^T R_(n-m) k depends only on "
            "n - m = -3, so shifting both positions by 1000 changes nothing. That is why a KV cache can store keys "
            "already rotated.")


rope_offset = Exercise(
    "attention-rope-offset",
    _check_rope_offset,
    ["What does R_m^T R_n simplify to, and which of m and n does it still depend on?",
     "Write the offset n - m for the printed score (m = 5, n = 2) and for the one asked (m = 1005, n = 1002)."],
    f"answer = {rope_score(5, 2):.6f}  # the score printed for (m, n) = (5, 2): same offset n - m = -3, same score",
    why="Rotations compose by adding angles: R_m^T R_n = R_(-m) R_n = R_(n-m), one rotation by the offset.",
    solution_text="The answer is the number printed for q at 5 and k at 2:",
)


# ---------------------------------------------------------------- rope_halves: RoPE in Llama's half-split layout
def _make_rope(B: int, h: int, T: int, half: int, start: int, rng: np.random.Generator) -> tuple:
    return rng.normal(size=(B, h, T, 2 * half)), start  # x (B, h, T, d_h), start


_ROPE_CASES = cases(_make_rope, dict(B=1, h=2, T=3, half=2, start=5), dict(B=2, h=1, T=4, half=3, start=0),
                    dict(B=1, h=3, T=2, half=4, start=17), dict(B=2, h=2, T=5, half=1, start=2), seed=71,
                    fixed=("start",))


def _halves(x: np.ndarray, start: int, *, theta: np.ndarray | None = None) -> np.ndarray:
    """Reference: pair i is (x[..., i], x[..., i + d_h/2]), rotated by the RoPE angle of its position."""
    T, d_h = x.shape[-2:]
    theta = attention.rope_angles(T, d_h, start=start) if theta is None else theta  # (T, d_h // 2)
    cos, sin = np.cos(theta), np.sin(theta)
    x1, x2 = x[..., : d_h // 2], x[..., d_h // 2:]  # (..., T, d_h // 2) each
    return np.concatenate([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1)


def _angles(x: np.ndarray, start: int, *, exponent: float = 2.0, sign: float = 1.0, reverse: bool = False):
    """RoPE angles (T, d_h // 2) with a learner's slips: base ** (-exponent i / d_h), the sign, the order."""
    T, d_h = x.shape[-2:]
    freqs = 10000.0 ** (-exponent * np.arange(d_h // 2) / d_h)  # (d_h // 2,)
    return sign * (start + np.arange(T))[:, None] * (freqs[::-1] if reverse else freqs)[None, :]


_ROPE_BUGS: dict[str, Callable[..., np.ndarray]] = {
    "you rotated interleaved pairs (x[2i], x[2i+1]), the RoFormer layout of lib.attention.apply_rope; here "
    "pair i is (x[i], x[i + d_h/2]), the first half against the second.": lambda x, start: attention.apply_rope(x, start),
    "you ignored start: token t sits at position start + t, as in a KV-cache step whose new tokens come "
    "after the cached ones.": lambda x, start: _halves(x, 0),
    "your positions start at start + 1: the first token of x sits at position start itself.":
        lambda x, start: _halves(x, start + 1),
    "your frequencies use base ** (-i / d_h); RoPE's are base ** (-2 i / d_h), one per PAIR.":
        lambda x, start: _halves(x, start, theta=_angles(x, start, exponent=1.0)),
    "you rotated the other way (the sign of sin is flipped): the first half gets x1 cos - x2 sin, the second "
    "x1 sin + x2 cos.": lambda x, start: _halves(x, start, theta=_angles(x, start, sign=-1.0)),
    "your frequencies run the wrong way: pair 0 turns fastest (1 radian per position), the last pair slowest.":
        lambda x, start: _halves(x, start, theta=_angles(x, start, reverse=True)),
}


def _check_rope_halves(fn: object) -> str:
    check_function(fn, _halves, _ROPE_CASES, name="your rope_halves", bugs=_ROPE_BUGS)
    return ("each pair (x_i, x_(i + d_h/2)) turns by (start + t) base^(-2i/d_h), for every head width and start: the "
            "layout of Llama's Hugging Face code, the same rotation as the interleaved one up to a fixed permutation "
            "of the coordinates.")


rope_halves = Exercise(
    "attention-rope-halves",
    _check_rope_halves,
    ["Which two coordinates form pair i in this layout, and which angle does pair i of token t get?",
     "Split x into x1 = x[..., :d_h // 2] and x2 = x[..., d_h // 2:]; the angles (T, d_h // 2) come from "
     "attention.rope_angles(T, d_h, start=start) and broadcast over the leading axes."],
    "def rope_halves(x, start):\n    T, d_h = x.shape[-2:]\n"
    "    theta = attention.rope_angles(T, d_h, start=start)        # (T, d_h // 2)\n"
    "    cos, sin = np.cos(theta), np.sin(theta)\n"
    "    x1, x2 = x[..., :d_h // 2], x[..., d_h // 2:]               # the two coordinates of every pair\n"
    "    return np.concatenate([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1)",
    why="Pair i is rotated by the 2-D rotation of angle (start + t) base^(-2i/d_h), whatever coordinates store it; "
        "Hugging Face's rotate_half is this with the pairs laid out as the two halves.",
)


# ---------------------------------------------------------------- softmax_nan: find the input that breaks a softmax
def softmax_all_max(S: np.ndarray) -> np.ndarray:
    """The chapter's buggy causal softmax: shifted by each row's max over ALL keys, masked after exp.

    S (T, T) or (B, T, T) -> weights of the same shape; NaN where a row's visible weights all underflow.
    """
    T = S.shape[-1]
    mask = np.tril(np.ones((T, T), dtype=bool))  # query i sees keys 0..i
    with np.errstate(all="ignore"):
        e = np.exp(S - S.max(axis=-1, keepdims=True))  # the row max, future keys included
        e = np.where(mask, e, 0.0)
        return e / e.sum(axis=-1, keepdims=True)


def _check_softmax_nan(answer: object) -> str:
    S = to_array(answer, "your scores")
    if S.ndim not in (2, 3) or S.shape[-1] != S.shape[-2] or S.shape[-1] < 2:
        raise Wrong(f"your scores have shape {S.shape}; the function takes self-attention scores (T, T) (or a batch "
                    "(B, T, T)) with T >= 2, so that some query has a future key.")
    if not np.isfinite(S).all():
        raise Wrong("your scores contain inf or NaN; the function only promises to handle finite scores, so the "
                    "bug must show with finite ones (up to 1000 in size).")
    if np.abs(S).max() > 1000:
        raise Wrong(f"your largest score is {np.abs(S).max():.4g} in size; keep every score within 1000, as the "
                    "exercise allows: the bug shows with scores the model really produces.")
    out = softmax_all_max(S)
    if not np.isfinite(out).all():
        at = tuple(int(i) for i in np.argwhere(~np.isfinite(out))[0])
        return (f"row {at[:-1]} comes out NaN: its largest score sits on a future key, so after the shift every "
                "visible exp underflows to 0 and the row is 0 / 0. Masking first (np.where(mask, S, -np.inf)) and "
                "then shifting by the max of the masked row always leaves one visible weight at exp(0) = 1.")
    T = S.shape[-1]
    future = np.triu(np.ones((T, T), dtype=bool), k=1)
    gap = np.where(future, S, -np.inf).max(-1) - np.where(~future, S, -np.inf).max(-1)  # (..., T)
    if (gap <= 0).all():
        raise Wrong("in every row the largest score sits on a key the query can see (j <= i), so after the shift "
                    "that key keeps exp(0) = 1 and the row sum is at least 1: the shift is harmless there. Where "
                    "else can a row's maximum be?")
    at = np.unravel_index(int(np.argmax(gap)), gap.shape)
    raise Wrong(f"in row {tuple(int(i) for i in at)} a future key is above every visible one, but only by "
                f"{gap[at]:.4g}: exp(-{gap[at]:.4g}) is still a positive float64, so the visible weights survive. "
                "Every visible score of that row must fall far enough below the future maximum that exp underflows "
                "to exactly 0 (float64 reaches 0 a little below exp(-745)).")


softmax_nan = Exercise(
    "attention-softmax-nan",
    _check_softmax_nan,
    ["After the shift, which entry of a row becomes exp(0) = 1, and is that entry always one the query may see?",
     "Take T = 2. Row 0 sees only key 0 and not key 1; choose S[0, 0] and S[0, 1] so that exp(S[0, 0] - max) "
     "rounds to 0 in float64 (below about exp(-745))."],
    "answer = np.array([[-1000.0, 1000.0],   # row 0: the max is on key 1, which query 0 may not see\n"
    "                   [0.0, 0.0]])         # row 1 sees both keys: fine",
    why="exp underflows to 0 below about e^-745; if the shift is taken over the future keys as well, a large future "
        "score pushes every visible one there, and 0 / 0 is NaN. The max over the MASKED row is always a visible key.",
)
