"""Exercises for the chapter `lora`: parameter count, initialisation, merging the adapter."""

from __future__ import annotations

import numpy as np

from lib import lora
from lib.exercises import Exercise, Wrong, call, compare, to_array

# ---------------------------------------------------------------- ex1: counting parameters
_COUNT_CASES = ((4096, 4096, 16), (768, 3072, 8), (10, 6, 3))


def _check_count(fn) -> str:
    for D_in, D_out, r in _COUNT_CASES:
        got = call(fn, D_in, D_out, r, name="your lora_param_count")
        if isinstance(got, (bool, np.bool_)):
            raise Wrong(f"lora_param_count({D_in}, {D_out}, {r}) returned a boolean; return the count (an integer).")
        compare(got, lora.lora_params(D_in, D_out, r), name=f"lora_param_count({D_in}, {D_out}, {r})", bugs={
            "you counted only one factor (D_in*r, that is B); the adapter also trains A (r, D_out).": D_in * r,
            "you counted only one factor (r*D_out, that is A); the adapter also trains B (D_in, r).": r * D_out,
            "that is the full matrix D_in*D_out, what LoRA avoids training.": D_in * D_out,
            "you squared (d*r); B and A are two separate matrices, so their sizes add: D_in*r + r*D_out.": (D_in * r) ** 2,
            "2*d*r holds only for a square layer; B has D_in*r entries and A has r*D_out.": 2 * D_in * r,
            "that is the number of entries of B @ A times r; count the entries of B and of A instead.": D_in * D_out * r,
        }, rtol=0, atol=0.5)
    return "for d = 4096 and r = 16 the adapter has 131,072 parameters, 128x fewer than the 16,777,216 of W."


ex1 = Exercise(
    "lora-ex1",
    _check_count,
    ["Count the entries of each trainable matrix and add them. W0 is frozen and does not count.",
     "B is (D_in, r) and A is (r, D_out)."],
    "def lora_param_count(D_in, D_out, r):\n    return D_in * r + r * D_out",
)


# ---------------------------------------------------------------- ex2: initialisation
def _check_init(fn) -> str:
    D_in, D_out, r, alpha = 6, 4, 2, 4.0
    out = call(fn, D_in, D_out, r, np.random.default_rng(0), name="your init_lora")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Wrong(f"init_lora should return two arrays (B, A), got {type(out).__name__}.")
    B, A = to_array(out[0], "B"), to_array(out[1], "A")
    want_B, want_A = (D_in, r), (r, D_out)
    if B.shape == want_A and A.shape == want_B:
        raise Wrong(f"you returned (A, B); return (B, A) with B of shape {want_B} and A of shape {want_A}.")
    if B.shape == want_B[::-1] or A.shape == want_A[::-1]:
        raise Wrong(f"B and A look transposed: got B {B.shape} and A {A.shape}. In the row convention "
                    f"X @ B @ A, B is (D_in, r) = {want_B} and A is (r, D_out) = {want_A}.")
    if B.shape != want_B or A.shape != want_A:
        raise Wrong(f"B should have shape (D_in, r) = {want_B} and A (r, D_out) = {want_A}; got B {B.shape}, A {A.shape}.")
    if not (np.all(np.isfinite(B)) and np.all(np.isfinite(A))):
        raise Wrong("B or A contains NaN or inf.")
    if np.all(A == 0) and np.all(B == 0):
        raise Wrong("both factors are zero: then dB = s X.T @ dY @ A.T and dA = s (X @ B).T @ dY are both "
                    "zero too, so gradient descent never moves. Keep B at zero but draw A at random.")
    if np.all(A == 0):
        raise Wrong("you zeroed A and randomised B. The output is unchanged at step 0 either way, but this "
                    "chapter's convention (and its backward pass) keeps B at zero and A random.")
    if np.any(B != 0):
        X = np.random.default_rng(1).standard_normal((5, D_in))
        W0 = np.random.default_rng(2).standard_normal((D_in, D_out))
        shift = np.abs(lora.lora_forward(X, W0, B, A, alpha) - X @ W0).max()
        raise Wrong(f"B is random, so at step 0 the adapted layer already differs from the pretrained one "
                    f"(outputs move by up to {shift:.3g} here). Initialise B to zeros so training starts exactly at W0.")
    A_other = to_array(call(fn, D_in, D_out, r, np.random.default_rng(1), name="your init_lora")[1], "A")
    if A_other.shape == A.shape and np.array_equal(A_other, A):
        raise Wrong("A comes out the same for different rng's; draw it from the `rng` you are given.")
    return "B @ A is exactly zero, so the first forward pass equals the pretrained layer, and A lets B start learning."


ex2 = Exercise(
    "lora-ex2",
    _check_init,
    ["One factor must be zero so that B @ A = 0; the other must be random so that the gradient of the "
     "zero one is not zero.",
     "B = np.zeros((D_in, r)); A = 0.1 * rng.standard_normal((r, D_out))"],
    "def init_lora(D_in, D_out, r, rng):\n    B = np.zeros((D_in, r))                       # (D_in, r)\n"
    "    A = rng.standard_normal((r, D_out)) / np.sqrt(D_out)  # (r, D_out)\n    return B, A",
)


# ---------------------------------------------------------------- ex3: merging
_rng = np.random.default_rng(3)
# first a square case with r = d, where every wrong order or scale still has the right shape
_MERGE_CASES = [
    (_rng.standard_normal((3, 3)), _rng.standard_normal((3, 3)), _rng.standard_normal((3, 3)), 6.0),
    (_rng.standard_normal((5, 4)), _rng.standard_normal((5, 2)), _rng.standard_normal((2, 4)), 3.0),
]


def _check_merge(fn) -> str:
    for W0, B, A, alpha in _MERGE_CASES:
        r = B.shape[1]
        got = call(fn, W0, B, A, alpha, name="your merge")
        s = alpha / r
        compare(got, lora.merge_lora(W0, B, A, alpha), name=f"merge with W0 {W0.shape}, r = {r}", bugs={
            "you forgot the scale: the merged weight is W0 + (alpha / r) * B @ A, not W0 + B @ A.": W0 + B @ A,
            "the scale is upside down: use alpha / r, not r / alpha.": W0 + (r / alpha) * B @ A,
            "you multiplied by alpha but forgot to divide by r.": W0 + alpha * B @ A,
            # the next two only have a shape when r == D_in == D_out, so they are computed lazily
            "the order is B @ A, (D_in, r) @ (r, D_out); A @ B is a different (r, r) matrix.":
                lambda W0=W0, B=B, A=A, s=s: W0 + s * A @ B,
            "your update is transposed: B @ A is already (D_in, D_out), like W0.":
                lambda W0=W0, B=B, A=A, s=s: W0 + s * (B @ A).T,
            "you returned only the update; add it to the frozen W0.": s * B @ A,
        })
    return "the merged W gives the same outputs as the adapter, with no extra cost at inference."


ex3 = Exercise(
    "lora-ex3",
    _check_merge,
    ["The merged weight is the frozen one plus the scaled low-rank update, and it has W0's shape.",
     "r is B.shape[1]; the update is (alpha / r) * (B @ A)."],
    "def merge(W0, B, A, alpha):\n    r = B.shape[1]\n    return W0 + (alpha / r) * (B @ A)  # (D_in, r) @ (r, D_out) -> (D_in, D_out)",
)
