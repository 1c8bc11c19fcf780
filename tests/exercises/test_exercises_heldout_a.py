"""Held-out learner answers for the exercises of `vectors`, `linear-layer` and `shapes-bias` (QA round a).

Written as a learner would, from the notebooks' exercise texts and independently of the other exercise
tests: every correct answer must be accepted, every buggy one rejected with a sentence that names it
(the phrase listed for it in PHRASES), never with the generic verdict alone.
"""

import numpy as np
import pytest

from lib import vectors as V
from lib.exercises import EXERCISES, linear_layer, shapes_bias, vectors  # noqa: F401 (registers the exercises)

nrm = np.linalg.norm
CORRECT: dict[str, list] = {}
BUGGY: dict[str, list] = {}


def ok(label, name):
    def deco(x):
        CORRECT.setdefault(label, []).append((name, x))
        return x
    return deco


def bug(label, name):
    def deco(x):
        BUGGY.setdefault(label, []).append((name, x))
        return x
    return deco


# ============================================================ vectors-cosine-table: cosine_table(A, B)
L = "vectors-cosine-table"


@ok(L, "unit rows then product")
def vectors_ex1_ok1(A, B):
    return (A / nrm(A, axis=1, keepdims=True)) @ (B / nrm(B, axis=1, keepdims=True)).T


@ok(L, "dots over outer of lengths")
def vectors_ex1_ok2(A, B):
    return A @ B.T / np.outer(nrm(A, axis=1), nrm(B, axis=1))


@ok(L, "einsum with [:, None] lengths")
def vectors_ex1_ok3(A, B):
    la = np.sqrt(np.einsum("ij,ij->i", A, A))
    lb = np.sqrt(np.einsum("ij,ij->i", B, B))
    return np.einsum("id,jd->ij", A, B) / (la[:, None] * lb[None, :])


@ok(L, "float32")
def vectors_ex1_ok4(A, B):
    A, B = A.astype(np.float32), B.astype(np.float32)
    return (A / nrm(A, axis=1, keepdims=True)) @ (B / nrm(B, axis=1, keepdims=True)).T


@ok(L, "in-place normalisation of both arguments")
def vectors_ex1_ok5(A, B):
    A /= nrm(A, axis=1, keepdims=True)
    B /= nrm(B, axis=1, keepdims=True)
    return A @ B.T


@ok(L, "double loop returning a list of lists")
def vectors_ex1_ok6(A, B):
    return [[float(a @ b / (nrm(a) * nrm(b))) for b in B] for a in A]


@ok(L, "sqrt of sum of squares, axis=-1, np.dot, np.newaxis")
def vectors_ex1_ok7(A, B):
    la = np.sqrt((A ** 2).sum(axis=-1))[:, np.newaxis]
    lb = np.sqrt((B ** 2).sum(axis=-1))[np.newaxis, :]
    return np.dot(A, B.T) / la / lb


@ok(L, "the lib's cosine_matrix on the stacked rows, the off-diagonal block")
def vectors_ex1_ok8(A, B):
    return V.cosine_matrix(np.vstack([A, B]))[: len(A), len(A):]


@ok(L, "B transposed first, then column norms of B.T")
def vectors_ex1_ok9(A, B):
    Bt = B.T
    return (A @ Bt) / nrm(A, axis=1, keepdims=True) / nrm(Bt, axis=0, keepdims=True)


@bug(L, "plain dot products")
def vectors_ex1_bug1(A, B):
    return A @ B.T


@bug(L, "only A normalised")
def vectors_ex1_bug2(A, B):
    return (A / nrm(A, axis=1, keepdims=True)) @ B.T


@bug(L, "norms along axis 0")
def vectors_ex1_bug3(A, B):
    return (A / nrm(A, axis=0, keepdims=True)) @ (B / nrm(B, axis=0, keepdims=True)).T


@bug(L, "norm without axis")
def vectors_ex1_bug4(A, B):
    return A @ B.T / (nrm(A) * nrm(B))


@bug(L, "precedence x / a * b")
def vectors_ex1_bug5(A, B):
    return A @ B.T / nrm(A, axis=1)[:, None] * nrm(B, axis=1)[None, :]


@bug(L, "lengths multiplied entry by entry")
def vectors_ex1_bug6(A, B):
    return A @ B.T / (nrm(A, axis=1) * nrm(B, axis=1))


@bug(L, "transposed table (m, n)")
def vectors_ex1_bug7(A, B):
    return (B / nrm(B, axis=1, keepdims=True)) @ (A / nrm(A, axis=1, keepdims=True)).T


@bug(L, "angles via arccos")
def vectors_ex1_bug8(A, B):
    return np.arccos(np.clip(A @ B.T / np.outer(nrm(A, axis=1), nrm(B, axis=1)), -1, 1))


@bug(L, "cosine distance 1 - cos")
def vectors_ex1_bug9(A, B):
    return 1 - A @ B.T / np.outer(nrm(A, axis=1), nrm(B, axis=1))


@bug(L, "squared lengths (no sqrt)")
def vectors_ex1_bug10(A, B):
    return A @ B.T / np.outer((A ** 2).sum(1), (B ** 2).sum(1))


@bug(L, "no keepdims: rows divided by a row vector of lengths")
def vectors_ex1_bug11(A, B):
    return (A / nrm(A, axis=1)) @ (B / nrm(B, axis=1)).T


@bug(L, "A.T @ B")
def vectors_ex1_bug12(A, B):
    return (A / nrm(A, axis=1, keepdims=True)).T @ (B / nrm(B, axis=1, keepdims=True))


@bug(L, "A @ B without transpose")
def vectors_ex1_bug13(A, B):
    return (A / nrm(A, axis=1, keepdims=True)) @ (B / nrm(B, axis=1, keepdims=True))


@bug(L, "L1 normalisation (divide by the sum of |entries|)")
def vectors_ex1_bug14(A, B):
    return (A / np.abs(A).sum(axis=1, keepdims=True)) @ (B / np.abs(B).sum(axis=1, keepdims=True)).T


@bug(L, "centred rows: Pearson correlation instead of cosine")
def vectors_ex1_bug15(A, B):
    A = A - A.mean(axis=1, keepdims=True)
    B = B - B.mean(axis=1, keepdims=True)
    return (A / nrm(A, axis=1, keepdims=True)) @ (B / nrm(B, axis=1, keepdims=True)).T


@bug(L, "absolute value")
def vectors_ex1_bug16(A, B):
    return np.abs(A @ B.T / np.outer(nrm(A, axis=1), nrm(B, axis=1)))


@bug(L, "lengths added instead of multiplied")
def vectors_ex1_bug17(A, B):
    return A @ B.T / (nrm(A, axis=1)[:, None] + nrm(B, axis=1)[None, :])


@bug(L, "A compared with itself")
def vectors_ex1_bug18(A, B):
    An = A / nrm(A, axis=1, keepdims=True)
    return An @ An.T


# ============================================================ vectors-cross-attention-shape: cross-attention score shape
L = "vectors-cross-attention-shape"
for name, x in [("tuple", (5, 7)), ("list", [5, 7]), ("np.array", np.array([5, 7])),
                ("np.int64 entries", (np.int64(5), np.int64(7))),
                ("computed from zeros", (np.zeros((5, 16)) @ np.zeros((7, 16)).T).shape),
                ("np.shape", np.shape(np.empty((5, 7))))]:
    CORRECT.setdefault(L, []).append((name, x))
for name, x in [("K @ Q.T", (7, 5)), ("self-attention T x T", (5, 5)), ("S x S", (7, 7)), ("shape of Q", (5, 16)),
                ("Q.T @ K", (16, 16)), ("d_k kept", (5, 7, 16)), ("flattened", (35,)), ("K.T", (16, 7)),
                ("chapter's T = 6", (6, 6)), ("shape of K", (7, 16)), ("concatenated T + S", (12, 12))]:
    BUGGY.setdefault(L, []).append((name, x))

# ============================================================ vectors-cosine-spread: spread at d = 3072
L = "vectors-cosine-spread"
_rng = np.random.default_rng(3)
for name, x in [("0.018", 0.018), ("1/np.sqrt(3072)", 1 / np.sqrt(3072)), ("float32", np.float32(1 / np.sqrt(3072))),
                ("np.array 0-d", np.array(0.018)), ("3072 ** -0.5", 3072 ** -0.5), ("half of 0.036", 0.036 / 2),
                ("1.8e-2", 1.8e-2), ("sampled", V.random_pair_cosines(3072, 4000, _rng).std()),
                ("0.0180", 0.0180)]:
    CORRECT.setdefault(L, []).append((name, x))
for name, x in [("1/d", 1 / 3072), ("sqrt(d)", np.sqrt(3072)), ("d = 768 value", 0.036),
                ("angle spread in degrees", np.degrees(1 / np.sqrt(3072))), ("mean 0", 0.0),
                ("one significant digit", 0.02), ("scaled like 1/d from 768: 0.036/4", 0.036 / 4),
                ("mean angle 90", 90.0), ("d = 16 value", 0.25), ("as a percentage", 1.8),
                ("variance rounded", 0.00033), ("sqrt(2/d)", np.sqrt(2 / 3072))]:
    BUGGY.setdefault(L, []).append((name, x))

# ============================================================ vectors-perpendicular-part: perpendicular(u, v)
L = "vectors-perpendicular-part"


@ok(L, "textbook")
def vectors_ex5_ok1(u, v):
    return u - (u @ v) / (v @ v) * v


@ok(L, "np.dot and norm squared")
def vectors_ex5_ok2(u, v):
    return u - np.dot(u, v) / nrm(v) ** 2 * v


@ok(L, "unit vector along v")
def vectors_ex5_ok3(u, v):
    vh = v / nrm(v)
    return u - (u @ vh) * vh


@ok(L, "float32")
def vectors_ex5_ok4(u, v):
    u, v = u.astype(np.float32), v.astype(np.float32)
    return u - (u @ v) / (v @ v) * v


@ok(L, "loops and a list")
def vectors_ex5_ok5(u, v):
    uv = sum(a * b for a, b in zip(u, v, strict=True))
    vv = sum(b * b for b in v)
    return [a - uv / vv * b for a, b in zip(u, v, strict=True)]


@ok(L, "in-place on u")
def vectors_ex5_ok6(u, v):
    u -= (u @ v) / (v @ v) * v
    return u


@ok(L, "projection matrix I - v v^T / v.v")
def vectors_ex5_ok7(u, v):
    return (np.eye(len(v)) - np.outer(v, v) / (v @ v)) @ u


@ok(L, "in-place normalisation of v")
def vectors_ex5_ok8(u, v):
    v /= nrm(v)
    return u - np.sum(u * v) * v


@bug(L, "projection itself")
def vectors_ex5_bug1(u, v):
    return (u @ v) / (v @ v) * v


@bug(L, "sign flipped")
def vectors_ex5_bug2(u, v):
    return (u @ v) / (v @ v) * v - u


@bug(L, "no division")
def vectors_ex5_bug3(u, v):
    return u - (u @ v) * v


@bug(L, "divided by |v|")
def vectors_ex5_bug4(u, v):
    return u - (u @ v) / nrm(v) * v


@bug(L, "roles swapped")
def vectors_ex5_bug5(u, v):
    return v - (u @ v) / (u @ u) * u


@bug(L, "divided by u.u")
def vectors_ex5_bug6(u, v):
    return u - (u @ v) / (u @ u) * v


@bug(L, "cosine as coefficient")
def vectors_ex5_bug7(u, v):
    return u - (u @ v) / (nrm(u) * nrm(v)) * v


@bug(L, "precedence u @ v / v @ v * v")
def vectors_ex5_bug8(u, v):
    return u - u @ v / v @ v * v


@bug(L, "forgot * v: a scalar subtracted")
def vectors_ex5_bug9(u, v):
    return u - (u @ v) / (v @ v)


@bug(L, "projection of u on itself direction: u - (u.v/u.u) u")
def vectors_ex5_bug10(u, v):
    return u - (u @ v) / (u @ u) * u


@bug(L, "np.cross")
def vectors_ex5_bug11(u, v):
    return np.cross(u, v)


@bug(L, "precedence u - u @ v / (v @ v * v)")
def vectors_ex5_bug12(u, v):
    return u - u @ v / (v @ v * v)


# ============================================================ linear-layer-shape-params: ((32, 64), 8256)
L = "linear-layer-shape-params"
for name, x in [("tuple", ((32, 64), 8256)), ("list shape", ([32, 64], 8256)), ("float count", ((32, 64), 8256.0)),
                ("np.int64", ((32, 64), np.int64(8256))), ("computed", (np.zeros((32, 64)).shape, 128 * 64 + 64)),
                ("a list pair", [(32, 64), 8256]), ("0-d array count", ((32, 64), np.array(8256))),
                ("np.int64 shape", ((np.int64(32), np.int64(64)), 8256)),
                ("np.array shape", (np.array([32, 64]), 8256))]:
    CORRECT.setdefault(L, []).append((name, x))
for name, x in [("forgot the bias", ((32, 64), 8192)), ("bias twice / one per input", ((32, 64), 8320)),
                ("bias per example", ((32, 64), 128 * 64 + 32 * 64)), ("transposed shape", ((64, 32), 8256)),
                ("X counted as parameters", ((32, 64), 8256 + 32 * 128)), ("fp32 bytes", ((32, 64), 8256 * 4)),
                ("times the batch", ((32, 64), 8256 * 32)), ("sizes added", ((32, 64), 128 + 64)),
                ("order swapped", (8256, (32, 64))), ("FLOPs", ((32, 64), 2 * 32 * 128 * 64)),
                ("one row shape", ((64,), 8256)), ("Y counted too", ((32, 64), 8256 + 32 * 64)),
                ("W shape given", ((128, 64), 8256)), ("X shape given", ((32, 128), 8256))]:
    BUGGY.setdefault(L, []).append((name, x))

# ============================================================ linear-layer-math-orientation: course_layer(X_cols, weight, bias)
L = "linear-layer-math-orientation"


@ok(L, "two transposes")
def linear_layer_ex2_ok1(X_cols, weight, bias):
    return X_cols.T @ weight.T + bias


@ok(L, "math form, then transpose")
def linear_layer_ex2_ok2(X_cols, weight, bias):
    return (weight @ X_cols + bias[:, None]).T


@ok(L, "transpose then bias")
def linear_layer_ex2_ok3(X_cols, weight, bias):
    return (weight @ X_cols).T + bias


@ok(L, "einsum")
def linear_layer_ex2_ok4(X_cols, weight, bias):
    return np.einsum("ib,oi->bo", X_cols, weight) + bias


@ok(L, "float32")
def linear_layer_ex2_ok5(X_cols, weight, bias):
    return (X_cols.T.astype(np.float32) @ weight.T.astype(np.float32)) + bias.astype(np.float32)


@ok(L, "loop over examples")
def linear_layer_ex2_ok6(X_cols, weight, bias):
    return np.array([weight @ X_cols[:, n] + bias for n in range(X_cols.shape[1])])


@ok(L, "lib linear_forward with from_torch_layout")
def linear_layer_ex2_ok7(X_cols, weight, bias):
    from lib import linear
    return linear.linear_forward(X_cols.T, linear.from_torch_layout(weight), bias)


@ok(L, "np.matmul and reshape(1, -1) bias, returned as a list")
def linear_layer_ex2_ok8(X_cols, weight, bias):
    return (np.matmul(X_cols.T, weight.T) + bias.reshape(1, -1)).tolist()


@ok(L, "in-place bias addition into the product")
def linear_layer_ex2_ok9(X_cols, weight, bias):
    Y = X_cols.T @ weight.T
    Y += bias
    return Y


@bug(L, "W @ X + b (math form, no transposes)")
def linear_layer_ex2_bug1(X_cols, weight, bias):
    return weight @ X_cols + bias


@bug(L, "forgot the bias")
def linear_layer_ex2_bug2(X_cols, weight, bias):
    return X_cols.T @ weight.T


@bug(L, "weight not transposed")
def linear_layer_ex2_bug3(X_cols, weight, bias):
    return X_cols.T @ weight + bias


@bug(L, "bias added on the wrong axis, then transposed")
def linear_layer_ex2_bug4(X_cols, weight, bias):
    return (weight @ X_cols + bias).T


@bug(L, "math form with column bias, not transposed")
def linear_layer_ex2_bug5(X_cols, weight, bias):
    return weight @ X_cols + bias[:, None]


@bug(L, "reshape instead of transpose for X")
def linear_layer_ex2_bug6(X_cols, weight, bias):
    return X_cols.reshape(X_cols.shape[1], X_cols.shape[0]) @ weight.T + bias


@bug(L, "reshape instead of transpose for the weight")
def linear_layer_ex2_bug7(X_cols, weight, bias):
    return X_cols.T @ weight.reshape(weight.shape[1], weight.shape[0]) + bias


@bug(L, "bias inside the product")
def linear_layer_ex2_bug8(X_cols, weight, bias):
    return X_cols.T @ (weight.T + bias)


@bug(L, "bias subtracted")
def linear_layer_ex2_bug9(X_cols, weight, bias):
    return X_cols.T @ weight.T - bias


@bug(L, "bias added twice")
def linear_layer_ex2_bug10(X_cols, weight, bias):
    return X_cols.T @ weight.T + 2 * bias


@bug(L, "X not transposed: X_cols @ weight.T")
def linear_layer_ex2_bug11(X_cols, weight, bias):
    return X_cols @ weight.T + bias


# ============================================================ linear-layer-collapse: (two_layers, one_layer)
L = "linear-layer-collapse"
for name, x in [("tuple", (4718592, 589824)), ("list", [4718592, 589824]), ("expressions", (2 * 768 * 3072, 768 ** 2)),
                ("floats", (4718592.0, 589824.0)), ("np.array", np.array([4718592, 589824])),
                ("np.int64", (np.int64(4718592), np.int64(589824))),
                ("sizes of arrays", (np.empty((768, 3072)).size + np.empty((3072, 768)).size, np.empty((768, 768)).size))]:
    CORRECT.setdefault(L, []).append((name, x))
for name, x in [("one matrix as the 'one layer'", (4718592, 2359296)), ("two_layers = one matrix", (2359296, 589824)),
                ("swapped", (589824, 4718592)), ("W2 @ W1 (3072, 3072)", (4718592, 3072 * 3072)),
                ("same count", (4718592, 4718592)), ("biases added", (4718592 + 3072 + 768, 589824 + 768)),
                ("in millions", (4.72, 0.59)), ("dims added", (4718592, 768 + 768)),
                ("shapes instead of counts", ((768, 3072), (768, 768))), ("fp32 bytes", (4718592 * 4, 589824 * 4)),
                ("one layer = 768", (4718592, 768))]:
    BUGGY.setdefault(L, []).append((name, x))

# ============================================================ linear-layer-gpt2-block-params: block_params(d)
L = "linear-layer-gpt2-block-params"


@ok(L, "closed form")
def linear_layer_ex4_ok1(d):
    return 12 * d * d + 13 * d


@ok(L, "itemised")
def linear_layer_ex4_ok2(d):
    attn = 4 * (d * d + d)
    mlp = (d * 4 * d + 4 * d) + (4 * d * d + d)
    ln = 2 * (d + d)
    return attn + mlp + ln


@ok(L, "float")
def linear_layer_ex4_ok3(d):
    return 12.0 * d ** 2 + 13.0 * d


@ok(L, "loop over layer shapes")
def linear_layer_ex4_ok4(d):
    total = 0
    for din, dout in [(d, d)] * 4 + [(d, 4 * d), (4 * d, d)]:
        total += din * dout + dout
    return total + 4 * d


@ok(L, "np.int64 via lib.ledger.linear_params")
def linear_layer_ex4_ok5(d):
    from lib.ledger import linear_params
    return np.int64(4 * linear_params(d, d) + linear_params(d, 4 * d) + linear_params(4 * d, d) + 2 * 2 * d)


@ok(L, "fused c_attn")
def linear_layer_ex4_ok6(d):
    c_attn = d * 3 * d + 3 * d
    c_proj = d * d + d
    return c_attn + c_proj + d * 4 * d + 4 * d + 4 * d * d + d + 4 * d


@ok(L, "0-d array")
def linear_layer_ex4_ok7(d):
    return np.array(12 * d * d + 13 * d)


@bug(L, "no biases")
def linear_layer_ex4_bug1(d):
    return 12 * d * d + 4 * d


@bug(L, "no LayerNorms")
def linear_layer_ex4_bug2(d):
    return 12 * d * d + 9 * d


@bug(L, "LayerNorm gain only")
def linear_layer_ex4_bug3(d):
    return 12 * d * d + 11 * d


@bug(L, "both MLP biases 4d")
def linear_layer_ex4_bug4(d):
    return 12 * d * d + 16 * d


@bug(L, "both MLP biases d")
def linear_layer_ex4_bug5(d):
    return 12 * d * d + 10 * d


@bug(L, "three attention layers (forgot output)")
def linear_layer_ex4_bug6(d):
    return 11 * d * d + 12 * d


@bug(L, "MLP width 2d")
def linear_layer_ex4_bug7(d):
    return 4 * (d * d + d) + (d * 2 * d + 2 * d) + (2 * d * d + d) + 4 * d


@bug(L, "hard-coded 768")
def linear_layer_ex4_bug8(d):
    return 7087872


@bug(L, "hard-coded d_ff = 3072")
def linear_layer_ex4_bug9(d):
    return 4 * (d * d + d) + d * 3072 + 3072 + 3072 * d + d + 4 * d


@bug(L, "only weights")
def linear_layer_ex4_bug10(d):
    return 12 * d * d


@bug(L, "LayerNorm counted as d x d")
def linear_layer_ex4_bug11(d):
    return 12 * d * d + 9 * d + 2 * (d * d + d)


@bug(L, "MLP counted once (one 4d matrix)")
def linear_layer_ex4_bug12(d):
    return 4 * (d * d + d) + 4 * d * d + 4 * d + 4 * d


@bug(L, "weights in millions")
def linear_layer_ex4_bug13(d):
    return (12 * d * d + 13 * d) / 1e6


# ============================================================ shapes-bias-ledger: the ledger dict
L = "shapes-bias-ledger"
RIGHT = {"X": (8, 5), "W": (5, 3), "b": (3,), "Y": (8, 3), "dY": (8, 3), "dW": (5, 3), "db": (3,), "dX": (8, 5)}


def with_(**kw):
    d = dict(RIGHT)
    d.update(kw)
    return d


for name, x in [("tuples", dict(RIGHT)), ("lists", {k: list(v) for k, v in RIGHT.items()}),
                ("lowercase keys", {k.lower(): v for k, v in RIGHT.items()}),
                ("shapes of arrays", {k: np.zeros(v).shape for k, v in RIGHT.items()}),
                ("np.array shapes", {k: np.array(v) for k, v in RIGHT.items()}),
                ("b as a bare int", with_(b=3, db=3)), ("np.int64 entries", {k: tuple(np.int64(s) for s in v) for k, v in RIGHT.items()}),
                ("other key order", dict(reversed(list(RIGHT.items()))))]:
    CORRECT.setdefault(L, []).append((name, x))
for name, x in [("torch orientation W and dW", with_(W=(3, 5), dW=(3, 5))), ("b per example", with_(b=(8, 3), db=(8, 3))),
                ("db not summed", with_(db=(8, 3))), ("dW like Y", with_(dW=(8, 3))), ("dX like Y", with_(dX=(8, 3))),
                ("dY like X", with_(dY=(8, 5))), ("column bias", with_(b=(3, 1), db=(3, 1))),
                ("Y transposed", with_(Y=(3, 8), dY=(3, 8))), ("X transposed", with_(X=(5, 8), dX=(5, 8))),
                ("b one per example (B,)", with_(b=(8,), db=(8,))), ("b one per input", with_(b=(5,), db=(5,))),
                ("missing dX", {k: v for k, v in RIGHT.items() if k != "dX"}),
                ("math convention throughout", {"X": (5, 8), "W": (3, 5), "b": (3, 1), "Y": (3, 8), "dY": (3, 8),
                                                "dW": (3, 5), "db": (3, 1), "dX": (5, 8)}),
                ("dW transposed only", with_(dW=(3, 5)))]:
    BUGGY.setdefault(L, []).append((name, x))

# ============================================================ shapes-bias-which-broadcast: which shapes broadcast
L = "shapes-bias-which-broadcast"
RIGHT2 = [(4, 3), (4, 3), None, (4, 3), None, (3, 3), (3, 3), (4, 3), (2, 5, 3)]


def b2(**changes):
    out = list(RIGHT2)
    for k, v in changes.items():
        out[int(k[1:])] = v
    return out


def computed():
    from lib.exercises.shapes_bias import BROADCAST_CASES
    out = []
    for y, b in BROADCAST_CASES:
        try:
            out.append(np.broadcast_shapes(y, b))
        except ValueError:
            out.append(None)
    return out


for name, x in [("tuples", list(RIGHT2)), ("lists", [list(s) if s else None for s in RIGHT2]),
                ("a tuple of 9", tuple(RIGHT2)), ("computed", computed()),
                ("np.array shapes", [np.array(s) if s else None for s in RIGHT2]),
                ("np.int64", [tuple(np.int64(v) for v in s) if s else None for s in RIGHT2])]:
    CORRECT.setdefault(L, []).append((name, x))
for name, x in [("(B,) aligned from the left", b2(i2=(4, 3))), ("(3, 1) thought to fit", b2(i4=(4, 3))),
                ("(1, 3) + (3, 1) kept (1, 3)", b2(i6=(1, 3))), ("(1, 3) + (3, 1) error", b2(i6=None)),
                ("scalar fails", b2(i7=None)), ("3-D fails", b2(i8=None)), ("(3, 3) + (3, 1) error", b2(i5=None)),
                ("(4, 1) error", b2(i3=None)), ("8 entries", RIGHT2[:8]),
                ("left-aligned rule throughout", [(4, 3), (4, 3), (4, 3), (4, 3), None, (3, 3), (3, 3), (4, 3), None]),
                ("(3, 1) on (4, 3) gives (3, 3)", b2(i4=(3, 3))), ("(1, 3) + (3, 1) gives (3, 1)", b2(i6=(3, 1)))]:
    BUGGY.setdefault(L, []).append((name, x))

# ============================================================ shapes-bias-column-bias: fix a column bias
L = "shapes-bias-column-bias"


@ok(L, "ravel")
def shapes_bias_ex3_ok1(X, W, b_col):
    return X @ W + b_col.ravel()


@ok(L, "b_col.T")
def shapes_bias_ex3_ok2(X, W, b_col):
    return X @ W + b_col.T


@ok(L, "b_col[:, 0]")
def shapes_bias_ex3_ok3(X, W, b_col):
    return X @ W + b_col[:, 0]


@ok(L, "math form then transpose")
def shapes_bias_ex3_ok4(X, W, b_col):
    return (W.T @ X.T + b_col).T


@ok(L, "float32")
def shapes_bias_ex3_ok5(X, W, b_col):
    return X.astype(np.float32) @ W.astype(np.float32) + b_col.astype(np.float32).reshape(-1)


@ok(L, "in-place +=")
def shapes_bias_ex3_ok6(X, W, b_col):
    Y = X @ W
    Y += b_col.reshape(1, -1)
    return Y


@ok(L, "np.squeeze axis=1, einsum")
def shapes_bias_ex3_ok7(X, W, b_col):
    return np.einsum("bi,io->bo", X, W) + np.squeeze(b_col, axis=1)


@ok(L, "in-place on the argument")
def shapes_bias_ex3_ok8(X, W, b_col):
    b_col.shape = (b_col.size,)
    return X @ W + b_col


@bug(L, "left as it is")
def shapes_bias_ex3_bug1(X, W, b_col):
    return X @ W + b_col


@bug(L, "forgot the bias")
def shapes_bias_ex3_bug2(X, W, b_col):
    return X @ W


@bug(L, "sum of the bias added")
def shapes_bias_ex3_bug3(X, W, b_col):
    return X @ W + b_col.sum()


@bug(L, "first entry only")
def shapes_bias_ex3_bug4(X, W, b_col):
    return X @ W + b_col[0]


@bug(L, "(W^T X^T + b) without the final transpose")
def shapes_bias_ex3_bug5(X, W, b_col):
    return W.T @ X.T + b_col


@bug(L, "mean of the bias")
def shapes_bias_ex3_bug6(X, W, b_col):
    return X @ W + b_col.mean()


@bug(L, "bias subtracted")
def shapes_bias_ex3_bug7(X, W, b_col):
    return X @ W - b_col.ravel()


@bug(L, "bias twice")
def shapes_bias_ex3_bug8(X, W, b_col):
    return X @ W + b_col.ravel() + b_col.T


@bug(L, "transpose of the output with the column bias")
def shapes_bias_ex3_bug9(X, W, b_col):
    return (X @ W).T + b_col


@bug(L, "W transposed")
def shapes_bias_ex3_bug10(X, W, b_col):
    return X @ W.T + b_col.ravel()


@bug(L, "squeeze (no axis) then column-added via [:, None]")
def shapes_bias_ex3_bug11(X, W, b_col):
    return X @ W + b_col.squeeze()[:, None]


# ============================================================ shapes-bias-bias-guard: a bias guard
L = "shapes-bias-bias-guard"


@ok(L, "exact shape")
def shapes_bias_ex4_ok1(Y, b):
    if b.shape != (Y.shape[1],):
        raise ValueError(f"b should be ({Y.shape[1]},), got {b.shape}")
    return Y + b


@ok(L, "ndim and length")
def shapes_bias_ex4_ok2(Y, b):
    if b.ndim != 1 or len(b) != Y.shape[-1]:
        raise ValueError("bad bias")
    return Y + b


@ok(L, "Y.shape[1:]")
def shapes_bias_ex4_ok3(Y, b):
    if np.shape(b) != Y.shape[1:]:
        raise ValueError("bad bias")
    return Y + b[None, :]


@ok(L, "a ValueError subclass")
def shapes_bias_ex4_ok4(Y, b):
    class ShapeError(ValueError):
        pass
    if b.shape != (Y.shape[1],):
        raise ShapeError("bad bias")
    return Y + b


@ok(L, "in-place add")
def shapes_bias_ex4_ok5(Y, b):
    if len(b.shape) != 1 or b.shape[0] != Y.shape[1]:
        raise ValueError("bad bias")
    Y += b
    return Y


@ok(L, "try/except around np.broadcast_to of an exact shape")
def shapes_bias_ex4_ok6(Y, b):
    if tuple(b.shape) != tuple([Y.shape[1]]):
        raise ValueError
    return np.add(Y, b)


@bug(L, "no check at all")
def shapes_bias_ex4_bug1(Y, b):
    return Y + b


@bug(L, "size check (lets (D_out, 1) through)")
def shapes_bias_ex4_bug2(Y, b):
    if b.size != Y.shape[1]:
        raise ValueError("bad bias")
    return Y + b


@bug(L, "len check (lets (D_out, 1) through)")
def shapes_bias_ex4_bug3(Y, b):
    if len(b) != Y.shape[1]:
        raise ValueError("bad bias")
    return Y + b


@bug(L, "assert instead of raise")
def shapes_bias_ex4_bug4(Y, b):
    assert b.shape == (Y.shape[1],), "bad bias"
    return Y + b


@bug(L, "TypeError")
def shapes_bias_ex4_bug5(Y, b):
    if b.shape != (Y.shape[1],):
        raise TypeError("bad bias")
    return Y + b


@bug(L, "broadcast result shape check")
def shapes_bias_ex4_bug6(Y, b):
    if np.broadcast_shapes(Y.shape, b.shape) != Y.shape:
        raise ValueError("bad bias")
    return Y + b


@bug(L, "last axis only")
def shapes_bias_ex4_bug7(Y, b):
    if b.shape[-1] != Y.shape[-1]:
        raise ValueError("bad bias")
    return Y + b


@bug(L, "ndim only")
def shapes_bias_ex4_bug8(Y, b):
    if b.ndim != 1:
        raise ValueError("bad bias")
    return Y + b


@bug(L, "checks against B")
def shapes_bias_ex4_bug9(Y, b):
    if b.shape != (Y.shape[0],):
        raise ValueError("bad bias")
    return Y + b


@bug(L, "hard-coded D_out = 3")
def shapes_bias_ex4_bug10(Y, b):
    if b.shape != (3,):
        raise ValueError("bad bias")
    return Y + b


@bug(L, "tuple compared to int: always raises")
def shapes_bias_ex4_bug11(Y, b):
    if b.shape != Y.shape[1]:
        raise ValueError("bad bias")
    return Y + b


@bug(L, "returns the error instead of raising")
def shapes_bias_ex4_bug12(Y, b):
    if b.shape != (Y.shape[1],):
        return ValueError("bad bias")
    return Y + b


@bug(L, "b.shape[0] check")
def shapes_bias_ex4_bug13(Y, b):
    if b.shape[0] != Y.shape[1]:
        raise ValueError("bad bias")
    return Y + b


# ============================================================ shapes-bias-recover-affine: recover(layer, D_in)
L = "shapes-bias-recover-affine"


@ok(L, "zeros and identity")
def shapes_bias_ex5_ok1(layer, D_in):
    b = layer(np.zeros(D_in))
    return layer(np.eye(D_in)) - b, b


@ok(L, "unit vectors one by one")
def shapes_bias_ex5_ok2(layer, D_in):
    b = layer(np.zeros(D_in))
    W = np.stack([layer(e) - b for e in np.eye(D_in)])
    return W, b


@ok(L, "batch of zeros")
def shapes_bias_ex5_ok3(layer, D_in):
    b = layer(np.zeros((1, D_in)))[0]
    return layer(np.eye(D_in)) - b, b


@ok(L, "least squares on random inputs")
def shapes_bias_ex5_ok4(layer, D_in):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3 * D_in + 5, D_in))
    Xa = np.hstack([X, np.ones((len(X), 1))])
    sol, *_ = np.linalg.lstsq(Xa, layer(X), rcond=None)
    return sol[:-1], sol[-1]


@ok(L, "differences at 2 e_i, a list pair")
def shapes_bias_ex5_ok5(layer, D_in):
    b = layer(np.zeros(D_in))
    return [(layer(2 * np.eye(D_in)) - b) / 2, b]


@ok(L, "differences from an arbitrary point")
def shapes_bias_ex5_ok6(layer, D_in):
    x0 = np.ones(D_in)
    y0 = layer(x0)
    W = layer(x0 + np.eye(D_in)) - y0
    return W, y0 - x0 @ W


@ok(L, "float32")
def shapes_bias_ex5_ok7(layer, D_in):
    b = layer(np.zeros(D_in)).astype(np.float32)
    return (layer(np.eye(D_in)).astype(np.float32) - b), b


@bug(L, "forgot to subtract b")
def shapes_bias_ex5_bug1(layer, D_in):
    return layer(np.eye(D_in)), layer(np.zeros(D_in))


@bug(L, "W transposed")
def shapes_bias_ex5_bug2(layer, D_in):
    b = layer(np.zeros(D_in))
    return (layer(np.eye(D_in)) - b).T, b


@bug(L, "(b, W) swapped")
def shapes_bias_ex5_bug3(layer, D_in):
    b = layer(np.zeros(D_in))
    return b, layer(np.eye(D_in)) - b


@bug(L, "b from ones")
def shapes_bias_ex5_bug4(layer, D_in):
    b = layer(np.ones(D_in))
    return layer(np.eye(D_in)) - layer(np.zeros(D_in)), b


@bug(L, "b of shape (1, D_out)")
def shapes_bias_ex5_bug5(layer, D_in):
    b = layer(np.zeros((1, D_in)))
    return layer(np.eye(D_in)) - b, b


@bug(L, "columns stacked: (D_out, D_in)")
def shapes_bias_ex5_bug6(layer, D_in):
    b = layer(np.zeros(D_in))
    return np.column_stack([layer(e) - b for e in np.eye(D_in)]), b


@bug(L, "b subtracted twice")
def shapes_bias_ex5_bug7(layer, D_in):
    b = layer(np.zeros(D_in))
    return layer(np.eye(D_in)) - 2 * b, b


@bug(L, "precedence in a finite difference")
def shapes_bias_ex5_bug8(layer, D_in):
    h = 1e-3
    x0 = np.zeros(D_in)
    W = np.stack([layer(x0 + h * e) - layer(x0) / h for e in np.eye(D_in)])
    return W, layer(x0)


@bug(L, "b from the mean of the outputs on the identity")
def shapes_bias_ex5_bug9(layer, D_in):
    Y = layer(np.eye(D_in))
    b = Y.mean(axis=0)
    return Y - b, b


@bug(L, "W from ones minus zeros, repeated")
def shapes_bias_ex5_bug10(layer, D_in):
    b = layer(np.zeros(D_in))
    return np.tile(layer(np.ones(D_in)) - b, (D_in, 1)), b


@bug(L, "hard-coded D_out by reshaping")
def shapes_bias_ex5_bug11(layer, D_in):
    b = layer(np.zeros(D_in))
    return (layer(np.eye(D_in)) - b).reshape(D_in, 3), b


# ============================================================ round 2
L = "vectors-cosine-table"


@ok(L, "chained divisions by lengths")
def vectors_ex1_ok10(A, B):
    return A @ B.T / nrm(A, axis=1)[:, None] / nrm(B, axis=1)


@ok(L, "column lengths times row lengths")
def vectors_ex1_ok11(A, B):
    return A @ B.T / (nrm(A, axis=1, keepdims=True) * nrm(B, axis=1, keepdims=True).T)


@ok(L, "outer product of lengths as a matmul")
def vectors_ex1_ok12(A, B):
    return A @ B.T / (nrm(A, axis=1, keepdims=True) @ nrm(B, axis=1, keepdims=True).T)


@ok(L, "lib cosine in a loop, float32 result")
def vectors_ex1_ok13(A, B):
    return np.array([[V.cosine(a, b) for b in B] for a in A], dtype=np.float32)


@bug(L, "np.cos of the dot products")
def vectors_ex1_bug19(A, B):
    return np.cos(A @ B.T)


@bug(L, "table divided by its own norm")
def vectors_ex1_bug20(A, B):
    T = A @ B.T
    return T / nrm(T)


L = "vectors-perpendicular-part"


@ok(L, "outer-product projection")
def vectors_ex5_ok9(u, v):
    return u - np.outer(v, v) @ u / (v @ v)


@ok(L, "least squares coefficient")
def vectors_ex5_ok10(u, v):
    c = np.linalg.lstsq(v[:, None], u, rcond=None)[0][0]
    return u - c * v


@bug(L, "returns only the coefficient")
def vectors_ex5_bug13(u, v):
    return (u @ v) / (v @ v)


@bug(L, "unit v but raw dot product")
def vectors_ex5_bug14(u, v):
    vh = v / nrm(v)
    return u - (u @ v) * vh


L = "linear-layer-shape-params"
BUGGY[L].append(("bias counted per example (B)", ((32, 64), 128 * 64 + 32)))
BUGGY[L].append(("shape as a string", ("(32, 64)", 8256)))

L = "linear-layer-math-orientation"


@ok(L, "np.dot then .T")
def linear_layer_ex2_ok10(X_cols, weight, bias):
    return np.dot(weight, X_cols).T + bias


@ok(L, "np.transpose and newaxis")
def linear_layer_ex2_ok11(X_cols, weight, bias):
    return np.transpose(weight @ X_cols) + bias[np.newaxis, :]


@bug(L, "(weight.T @ X_cols).T + bias")
def linear_layer_ex2_bug12(X_cols, weight, bias):
    return (weight.T @ X_cols).T + bias


@bug(L, "bias as a column on the course result")
def linear_layer_ex2_bug13(X_cols, weight, bias):
    return X_cols.T @ weight.T + bias.reshape(-1, 1)


L = "linear-layer-gpt2-block-params"


@ok(L, "int of a float expression")
def linear_layer_ex4_ok8(d):
    return int(12 * d ** 2 + 13 * d)


@bug(L, "twelve blocks")
def linear_layer_ex4_bug14(d):
    return 12 * (12 * d * d + 13 * d)


@bug(L, "only one LayerNorm")
def linear_layer_ex4_bug15(d):
    return 4 * (d * d + d) + (4 * d * d + 4 * d) + (4 * d * d + d) + 2 * d


@bug(L, "attention output bias forgotten")
def linear_layer_ex4_bug16(d):
    return 12 * d * d + 12 * d


L = "shapes-bias-ledger"
BUGGY[L].append(("b as a row (1, 3)", with_(b=(1, 3), db=(1, 3))))

L = "shapes-bias-which-broadcast"
BUGGY[L].append(("'error' strings", [s if s else "error" for s in RIGHT2]))

L = "shapes-bias-column-bias"


@ok(L, "reshape(W.shape[1])")
def shapes_bias_ex3_ok9(X, W, b_col):
    return X @ W + b_col.reshape(W.shape[1])


@ok(L, "transpose, add the column, transpose back")
def shapes_bias_ex3_ok10(X, W, b_col):
    return ((X @ W).T + b_col).T


@ok(L, "np.squeeze without axis")
def shapes_bias_ex3_ok11(X, W, b_col):
    return np.add(X @ W, np.squeeze(b_col))


@bug(L, "reshaped back into a column")
def shapes_bias_ex3_bug12(X, W, b_col):
    return X @ W + b_col.reshape(1, -1).T


@bug(L, "bias folded into W")
def shapes_bias_ex3_bug13(X, W, b_col):
    return X @ (W + b_col.T)


L = "shapes-bias-bias-guard"


@ok(L, "TypeError for non-arrays, ValueError for shapes")
def shapes_bias_ex4_ok7(Y, b):
    if not isinstance(b, np.ndarray):
        raise TypeError("b must be an array")
    if b.shape != (Y.shape[1],):
        raise ValueError("bad bias")
    return Y + b


@ok(L, "np.asarray first, np.add")
def shapes_bias_ex4_ok8(Y, b):
    b = np.asarray(b)
    if b.ndim != 1 or b.shape[0] != Y.shape[1]:
        raise ValueError("bad bias")
    return np.add(Y, b)


@bug(L, "len before ndim (TypeError on a scalar)")
def shapes_bias_ex4_bug14(Y, b):
    if len(b) != Y.shape[1] or b.ndim != 1:
        raise ValueError("bad bias")
    return Y + b


@bug(L, "np.broadcast_to as the check")
def shapes_bias_ex4_bug15(Y, b):
    np.broadcast_to(b, (Y.shape[1],))
    return Y + b


L = "shapes-bias-recover-affine"


@ok(L, "one batch call with zeros on top")
def shapes_bias_ex5_ok8(layer, D_in):
    out = layer(np.vstack([np.zeros(D_in), np.eye(D_in)]))
    return out[1:] - out[0], out[0]


@ok(L, "list comprehension over range")
def shapes_bias_ex5_ok9(layer, D_in):
    b = layer(np.zeros(D_in))
    return np.array([layer(np.eye(D_in)[i]) for i in range(D_in)]) - b, b


# ---------------------------------------------------------------- what each buggy answer must be told
PHRASES = {
    ('vectors-cosine-table', 'plain dot products'): 'that is the table of plain dot products A @',
    ('vectors-cosine-table', 'only A normalised'): 'you scaled only the rows of A to length 1;',
    ('vectors-cosine-table', 'norms along axis 0'): 'you divided by the lengths of the columns',
    ('vectors-cosine-table', 'norm without axis'): 'np.linalg.norm(A) without an axis is one',
    ('vectors-cosine-table', 'precedence x / a * b'): 'operator precedence: `x / a * b` divides by a',
    ('vectors-cosine-table', 'lengths multiplied entry by entry'): 'len_A * len_B multiplies the two lists of',
    ('vectors-cosine-table', 'transposed table (m, n)'): 'rows and columns are swapped: entry (i, j)',
    ('vectors-cosine-table', 'angles via arccos'): 'those are angles (np.arccos of the cosines);',
    ('vectors-cosine-table', 'cosine distance 1 - cos'): 'that is 1 - cosine, the cosine distance; return',
    ('vectors-cosine-table', 'squared lengths (no sqrt)'): 'you divided by squared lengths (a @ a); a',
    ('vectors-cosine-table', 'no keepdims: rows divided by a row vector of lengths'): 'To divide the n rows of A by their n lengths,',
    ('vectors-cosine-table', 'A.T @ B'): 'A.T @ B contracts the vectors instead of their',
    ('vectors-cosine-table', 'A @ B without transpose'): 'The inner sizes of a product must match: A is',
    ('vectors-cosine-table', 'L1 normalisation (divide by the sum of |entries|)'): 'np.abs(A).sum(axis=1) is the L1 length (the sum',
    ('vectors-cosine-table', 'centred rows: Pearson correlation instead of cosine'): "you subtracted each row's mean first, which",
    ('vectors-cosine-table', 'absolute value'): 'you took the absolute value; a cosine keeps its',
    ('vectors-cosine-table', 'lengths added instead of multiplied'): 'you added the lengths; the cosine divides by',
    ('vectors-cosine-table', 'A compared with itself'): 'that table compares A with itself; its columns',
    ('vectors-cosine-table', 'np.cos of the dot products'): 'np.cos of a dot product is not the cosine',
    ('vectors-cosine-table', 'table divided by its own norm'): 'you divided the table by its own length, one',
    ('vectors-cross-attention-shape', 'K @ Q.T'): 'that is the shape of K @ Q.T. Each query gets a',
    ('vectors-cross-attention-shape', 'self-attention T x T'): "(T, T) is self-attention's shape, where queries",
    ('vectors-cross-attention-shape', 'S x S'): '(S, S) would pair keys with keys; the scores',
    ('vectors-cross-attention-shape', 'shape of Q'): '(T, d_k) is the shape of Q itself; the product',
    ('vectors-cross-attention-shape', 'Q.T @ K'): 'Q.T @ K cancels the tokens and keeps d_k; the',
    ('vectors-cross-attention-shape', 'd_k kept'): 'the dot product sums over d_k, so d_k',
    ('vectors-cross-attention-shape', 'flattened'): 'one score per (query, key) pair, yes, but',
    ('vectors-cross-attention-shape', 'K.T'): '(d_k, S) is the shape of K.T alone; in Q @ K.T',
    ('vectors-cross-attention-shape', "chapter's T = 6"): "(6, 6) is the score shape of the chapter's",
    ('vectors-cross-attention-shape', 'shape of K'): '(S, d_k) is the shape of K itself; the scores',
    ('vectors-cross-attention-shape', 'concatenated T + S'): 'the two sequences are not concatenated: the',
    ('vectors-cosine-spread', '1/d'): 'that is 1/d, the variance of the cosine; the',
    ('vectors-cosine-spread', 'sqrt(d)'): 'that is sqrt(d); the spread is its inverse,',
    ('vectors-cosine-spread', 'd = 768 value'): 'that is the spread for d = 768 from the',
    ('vectors-cosine-spread', 'angle spread in degrees'): 'that is the spread of the angle in degrees; the',
    ('vectors-cosine-spread', 'mean 0'): '0 is the mean of the cosine (as often positive',
    ('vectors-cosine-spread', 'one significant digit'): 'close, but that is one significant digit; give',
    ('vectors-cosine-spread', 'scaled like 1/d from 768: 0.036/4'): 'that divides the spread of d = 768 by 4, as if',
    ('vectors-cosine-spread', 'mean angle 90'): '90 degrees is the typical angle; the question',
    ('vectors-cosine-spread', 'd = 16 value'): 'that is the spread for d = 16 from the',
    ('vectors-cosine-spread', 'as a percentage'): 'that is the spread in percent; give it as a',
    ('vectors-cosine-spread', 'variance rounded'): 'that is 1/d, the variance of the cosine; the',
    ('vectors-cosine-spread', 'sqrt(2/d)'): 'that is sqrt(2/d); the spread of the cosine is',
    ('vectors-perpendicular-part', 'projection itself'): 'that is the projection itself, the part of u',
    ('vectors-perpendicular-part', 'sign flipped'): 'the sign is flipped: the perpendicular part is',
    ('vectors-perpendicular-part', 'no division'): 'you forgot to divide by v . v: the projection',
    ('vectors-perpendicular-part', 'divided by |v|'): 'you divided by |v| instead of v . v =',
    ('vectors-perpendicular-part', 'roles swapped'): 'the roles are swapped: that is v minus its',
    ('vectors-perpendicular-part', 'divided by u.u'): 'you divided by u . u; the projection on v',
    ('vectors-perpendicular-part', 'cosine as coefficient'): 'you used the cosine as the coefficient; the',
    ('vectors-perpendicular-part', 'precedence u @ v / v @ v * v'): 'operator precedence: u @ v / v @ v * v is read',
    ('vectors-perpendicular-part', 'forgot * v: a scalar subtracted'): '(u . v) / (v . v) is only the coefficient, a',
    ('vectors-perpendicular-part', 'projection of u on itself direction: u - (u.v/u.u) u'): 'you scaled u instead of v: the projection on v',
    ('vectors-perpendicular-part', 'np.cross'): 'np.cross gives a vector perpendicular to both u',
    ('vectors-perpendicular-part', 'precedence u - u @ v / (v @ v * v)'): 'operator precedence: u @ v / (v @ v * v)',
    ('vectors-perpendicular-part', 'returns only the coefficient'): 'that is only the coefficient (u . v) / (v . v),',
    ('vectors-perpendicular-part', 'unit v but raw dot product'): 'you divided by |v| instead of v . v =',
    ('linear-layer-shape-params', 'forgot the bias'): 'you counted the weights only; the bias adds',
    ('linear-layer-shape-params', 'bias twice / one per input'): 'the bias got one entry per input (D_in); it has',
    ('linear-layer-shape-params', 'bias per example'): 'the bias is shared by every example: D_out',
    ('linear-layer-shape-params', 'transposed shape'): 'that is (D_out, B): rows are examples, so Y is',
    ('linear-layer-shape-params', 'X counted as parameters'): 'X is data, not a parameter: count only W and',
    ('linear-layer-shape-params', 'fp32 bytes'): 'that is the size in bytes in fp32 (4 bytes per',
    ('linear-layer-shape-params', 'times the batch'): 'the parameters are shared by the whole batch:',
    ('linear-layer-shape-params', 'sizes added'): 'W has D_in * D_out entries (one per',
    ('linear-layer-shape-params', 'order swapped'): 'the two parts are in the wrong order: the',
    ('linear-layer-shape-params', 'FLOPs'): 'that is the FLOP count of the product, 2 B D_in',
    ('linear-layer-shape-params', 'one row shape'): 'that is the shape of one output row (or of b);',
    ('linear-layer-shape-params', 'Y counted too'): 'Y is an activation, computed from the data;',
    ('linear-layer-shape-params', 'W shape given'): 'that is the shape of W; the output has one row',
    ('linear-layer-shape-params', 'X shape given'): "that is the input's shape; the layer changes",
    ('linear-layer-shape-params', 'bias counted per example (B)'): 'the bias has one entry per output (D_out), not',
    ('linear-layer-shape-params', 'shape as a string'): 'answer with the output shape, a tuple of',
    ('linear-layer-math-orientation', 'W @ X + b (math form, no transposes)'): 'weight @ X_cols is the math-orientation',
    ('linear-layer-math-orientation', 'forgot the bias'): 'the bias is missing: add it after the',
    ('linear-layer-math-orientation', 'weight not transposed'): 'the weight is used as stored, (out, in); the',
    ('linear-layer-math-orientation', 'bias added on the wrong axis, then transposed'): 'the bias was added per example (one value per',
    ('linear-layer-math-orientation', 'math form with column bias, not transposed'): 'that is the math-orientation output, one column',
    ('linear-layer-math-orientation', 'reshape instead of transpose for X'): 'the examples are the columns of X_cols; the',
    ('linear-layer-math-orientation', 'reshape instead of transpose for the weight'): 'the weight is used as stored, (out, in); the',
    ('linear-layer-math-orientation', 'bias inside the product'): 'the bias went into the weight before the',
    ('linear-layer-math-orientation', 'bias subtracted'): 'the bias is subtracted; add',
    ('linear-layer-math-orientation', 'bias added twice'): 'the bias is added twice; add it',
    ('linear-layer-math-orientation', 'X not transposed: X_cols @ weight.T'): 'the examples are the columns of X_cols; the',
    ('linear-layer-math-orientation', '(weight.T @ X_cols).T + bias'): 'the weight is used as stored, (out, in); the',
    ('linear-layer-math-orientation', 'bias as a column on the course result'): 'the bias was added per example (one value per',
    ('linear-layer-collapse', "one matrix as the 'one layer'"): 'W1 @ W2 is not (768, 3072): the inner 3072',
    ('linear-layer-collapse', 'two_layers = one matrix'): 'that counts one matrix; the stack has two, W1',
    ('linear-layer-collapse', 'swapped'): 'the two numbers are in the wrong order: the two',
    ('linear-layer-collapse', 'W2 @ W1 (3072, 3072)'): '(768, 3072) @ (3072, 768) cancels the inner',
    ('linear-layer-collapse', 'same count'): 'the single layer W1 @ W2 is one matrix:',
    ('linear-layer-collapse', 'biases added'): 'there are no biases in this stack: count the',
    ('linear-layer-collapse', 'in millions'): 'your count for the two layers is 4.72, but a',
    ('linear-layer-collapse', 'dims added'): 'a weight matrix holds the product of its two',
    ('linear-layer-collapse', 'shapes instead of counts'): 'answer with a parameter count, got',
    ('linear-layer-collapse', 'fp32 bytes'): 'that is the size in bytes in fp32 (4 bytes per',
    ('linear-layer-collapse', 'one layer = 768'): "768 is the width of the single layer's input",
    ('linear-layer-gpt2-block-params', 'no biases'): 'the biases of the linear layers are missing:',
    ('linear-layer-gpt2-block-params', 'no LayerNorms'): 'the two LayerNorms are missing: each has a gain',
    ('linear-layer-gpt2-block-params', 'LayerNorm gain only'): 'each LayerNorm got one vector of d instead of',
    ('linear-layer-gpt2-block-params', 'both MLP biases 4d'): 'the second MLP layer maps 4d back to d: d',
    ('linear-layer-gpt2-block-params', 'both MLP biases d'): 'the first MLP layer maps d to 4d, so it has 4d',
    ('linear-layer-gpt2-block-params', 'three attention layers (forgot output)'): "the attention's output layer (d -> d) is",
    ('linear-layer-gpt2-block-params', 'MLP width 2d'): 'the MLP widens to 4d, not 2d: its layers are d',
    ('linear-layer-gpt2-block-params', 'hard-coded 768'): 'that is 7,087,872, the count for d = 768,',
    ('linear-layer-gpt2-block-params', 'hard-coded d_ff = 3072'): "the MLP's hidden width is 4d, which is 3072",
    ('linear-layer-gpt2-block-params', 'only weights'): 'you counted only the weight matrices: add the',
    ('linear-layer-gpt2-block-params', 'LayerNorm counted as d x d'): 'a LayerNorm has no matrix: its gain and shift',
    ('linear-layer-gpt2-block-params', 'MLP counted once (one 4d matrix)'): 'the MLP has two layers, d -> 4d and then 4d ->',
    ('linear-layer-gpt2-block-params', 'weights in millions'): 'block_params(768) is 7.087872, but a parameter',
    ('linear-layer-gpt2-block-params', 'twelve blocks'): "that counts twelve blocks, GPT-2 small's depth;",
    ('linear-layer-gpt2-block-params', 'only one LayerNorm'): 'each LayerNorm got one vector of d instead of',
    ('linear-layer-gpt2-block-params', 'attention output bias forgotten'): "the biases of the attention's output layer (d",
    ('shapes-bias-ledger', 'torch orientation W and dW'): 'W is transposed: rows are examples and W is',
    ('shapes-bias-ledger', 'b per example'): 'b is one vector shared by every row of the',
    ('shapes-bias-ledger', 'db not summed'): 'db is shaped like another tensor: a gradient',
    ('shapes-bias-ledger', 'dW like Y'): 'dW is shaped like another tensor: a gradient',
    ('shapes-bias-ledger', 'dX like Y'): 'dX is shaped like another tensor: a gradient',
    ('shapes-bias-ledger', 'dY like X'): 'dY is shaped like another tensor: a gradient',
    ('shapes-bias-ledger', 'column bias'): 'b is one vector shared by every row of the',
    ('shapes-bias-ledger', 'Y transposed'): 'Y is transposed: rows are examples and W is',
    ('shapes-bias-ledger', 'X transposed'): 'X is transposed: rows are examples and W is',
    ('shapes-bias-ledger', 'b one per example (B,)'): 'b has one entry per output feature, not one per',
    ('shapes-bias-ledger', 'b one per input'): 'b has one entry per output feature (D_out), not',
    ('shapes-bias-ledger', 'missing dX'): "the dict has no entry for ['dX']; the ledger",
    ('shapes-bias-ledger', 'math convention throughout'): 'X is transposed: rows are examples and W is',
    ('shapes-bias-ledger', 'dW transposed only'): 'dW is transposed: rows are examples and W is',
    ('shapes-bias-ledger', 'b as a row (1, 3)'): 'b is one vector shared by every row of the',
    ('shapes-bias-which-broadcast', '(B,) aligned from the left'): 'Y (4, 3) + b (4,) raises an error. Align the',
    ('shapes-bias-which-broadcast', '(3, 1) thought to fit'): 'Y (4, 3) + b (3, 1) raises an error. Align the',
    ('shapes-bias-which-broadcast', '(1, 3) + (3, 1) kept (1, 3)'): 'Y (1, 3) + b (3, 1) does not give (1, 3): each',
    ('shapes-bias-which-broadcast', '(1, 3) + (3, 1) error'): 'Y (1, 3) + b (3, 1) does work. A size-1 axis',
    ('shapes-bias-which-broadcast', 'scalar fails'): 'Y (4, 3) + b () does work. A size-1 axis (or a',
    ('shapes-bias-which-broadcast', '3-D fails'): 'Y (2, 5, 3) + b (3,) does work. A size-1 axis',
    ('shapes-bias-which-broadcast', '(3, 3) + (3, 1) error'): 'Y (3, 3) + b (3, 1) does work. A size-1 axis',
    ('shapes-bias-which-broadcast', '(4, 1) error'): 'Y (4, 3) + b (4, 1) does work. A size-1 axis',
    ('shapes-bias-which-broadcast', '8 entries'): 'answer with a list of 9 entries, one per case:',
    ('shapes-bias-which-broadcast', 'left-aligned rule throughout'): 'Y (4, 3) + b (4,) raises an error. Align the',
    ('shapes-bias-which-broadcast', '(3, 1) on (4, 3) gives (3, 3)'): 'Y (4, 3) + b (3, 1) raises an error. Align the',
    ('shapes-bias-which-broadcast', '(1, 3) + (3, 1) gives (3, 1)'): 'Y (1, 3) + b (3, 1) does not give (3, 1): each',
    ('shapes-bias-which-broadcast', "'error' strings"): 'for Y (4, 3) + b (4,) write None (not a string)',
    ('shapes-bias-column-bias', 'left as it is'): 'you added the column b_col as it is: with one',
    ('shapes-bias-column-bias', 'forgot the bias'): 'the bias is missing: add it after the matrix',
    ('shapes-bias-column-bias', 'sum of the bias added'): 'you added the sum of the bias entries to every',
    ('shapes-bias-column-bias', 'first entry only'): 'b_col[0] is the first entry only (a length-1',
    ('shapes-bias-column-bias', '(W^T X^T + b) without the final transpose'): 'that is one row per output feature; return (B,',
    ('shapes-bias-column-bias', 'mean of the bias'): 'you added the mean of the bias entries to every',
    ('shapes-bias-column-bias', 'bias subtracted'): 'the bias is subtracted; add',
    ('shapes-bias-column-bias', 'bias twice'): 'the bias is added twice; add it',
    ('shapes-bias-column-bias', 'transpose of the output with the column bias'): 'that is one row per output feature; return (B,',
    ('shapes-bias-column-bias', 'W transposed'): 'X (B, D_in) @ W (D_in, D_out) lines up as it',
    ('shapes-bias-column-bias', 'squeeze (no axis) then column-added via [:, None]'): 'you added the column b_col as it is: with one',
    ('shapes-bias-column-bias', 'reshaped back into a column'): 'you added the column b_col as it is: with one',
    ('shapes-bias-column-bias', 'bias folded into W'): 'the bias went into W before the product, X @ (W',
    ('shapes-bias-bias-guard', 'no check at all'): 'your add_bias accepted b of shape (3, 1) for Y',
    ('shapes-bias-bias-guard', 'size check (lets (D_out, 1) through)'): 'your add_bias accepted b of shape (3, 1) for Y',
    ('shapes-bias-bias-guard', 'len check (lets (D_out, 1) through)'): 'your add_bias accepted b of shape (3, 1) for Y',
    ('shapes-bias-bias-guard', 'assert instead of raise'): 'your add_bias refused b of shape (3, 1) with an',
    ('shapes-bias-bias-guard', 'TypeError'): 'your add_bias raised TypeError (bad bias) for b',
    ('shapes-bias-bias-guard', 'broadcast result shape check'): 'your add_bias accepted b of shape (1,) for Y',
    ('shapes-bias-bias-guard', 'last axis only'): 'your add_bias accepted b of shape (2, 6) for Y',
    ('shapes-bias-bias-guard', 'ndim only'): 'your add_bias accepted b of shape (1,) for Y',
    ('shapes-bias-bias-guard', 'checks against B'): 'your add_bias rejected a correct bias of shape',
    ('shapes-bias-bias-guard', 'hard-coded D_out = 3'): 'your add_bias rejected a correct bias of shape',
    ('shapes-bias-bias-guard', 'tuple compared to int: always raises'): 'your add_bias rejected a correct bias of shape',
    ('shapes-bias-bias-guard', 'returns the error instead of raising'): 'your add_bias returned a ValueError instead of',
    ('shapes-bias-bias-guard', 'b.shape[0] check'): 'your add_bias accepted b of shape (3, 1) for Y',
    ('shapes-bias-bias-guard', 'len before ndim (TypeError on a scalar)'): 'your add_bias raised TypeError (len() of',
    ('shapes-bias-bias-guard', 'np.broadcast_to as the check'): 'your add_bias accepted b of shape (1,) for Y',
    ('shapes-bias-recover-affine', 'forgot to subtract b'): 'each row you found is f(e_i) = W[i] + b:',
    ('shapes-bias-recover-affine', 'W transposed'): 'you stacked the outputs f(e_i) - b as columns;',
    ('shapes-bias-recover-affine', '(b, W) swapped'): 'return them in the order (W, b): the matrix',
    ('shapes-bias-recover-affine', 'b from ones'): 'that b is f of a vector of ones, the sum of all',
    ('shapes-bias-recover-affine', 'b of shape (1, D_out)'): 'b should be 1-D, (D_out,): you called the layer',
    ('shapes-bias-recover-affine', 'columns stacked: (D_out, D_in)'): 'you stacked the outputs f(e_i) - b as columns;',
    ('shapes-bias-recover-affine', 'b subtracted twice'): 'b was subtracted twice: row i is f(e_i) - f(0),',
    ('shapes-bias-recover-affine', 'precedence in a finite difference'): 'operator precedence: (f(x + h e_i) - f(x)) / h',
    ('shapes-bias-recover-affine', 'b from the mean of the outputs on the identity'): 'b is f(0), the output for the zero input; the',
    ('shapes-bias-recover-affine', 'W from ones minus zeros, repeated'): 'f(ones) - f(0) is the sum of all the rows of W;',
    ('shapes-bias-recover-affine', 'hard-coded D_out by reshaping'): 'D_out is not given: read it from what the layer',
}

# a message that only reports a failure (the generic verdicts), unless the checker added advice to it
GENERIC = ("has the right shape", "which is not right", "but it should be", "contains NaN or inf",
           "but the expected shape is", "is not the shape", "is not the right choice")

_CORRECT = [pytest.param(label, a, id=f"{label}-{name}") for label, rows in CORRECT.items() for name, a in rows]
_BUGGY = [pytest.param(label, a, PHRASES[label, name], id=f"{label}-{name}")
          for label, rows in BUGGY.items() for name, a in rows]


@pytest.mark.parametrize(("label", "answer"), _CORRECT)
def test_correct_answer_is_accepted(label, answer):
    result = EXERCISES[label].check(answer)
    assert result.ok, result.message


@pytest.mark.parametrize(("label", "answer", "phrase"), _BUGGY)
def test_buggy_answer_is_rejected_and_named(label, answer, phrase):
    result = EXERCISES[label].check(answer)
    assert result.status == "incorrect", result
    assert not any(g in result.message for g in GENERIC), result.message
    assert phrase.lower() in result.message.lower(), result.message


def test_every_exercise_has_enough_heldout_answers():
    # round a covers the exercises these chapters had then, vectors-ex1 ... shapes-bias-ex5 (now renamed)
    assert set(CORRECT) == set(BUGGY) == {label for label, ex in EXERCISES.items()
                                          if (ex.formerly or "").split("-ex")[0] in ("vectors", "linear-layer",
                                                                                     "shapes-bias")}
    for label in CORRECT:
        assert len(CORRECT[label]) >= 5, label
        assert len(BUGGY[label]) >= 8, label
        assert len({name for name, _ in BUGGY[label]}) == len(BUGGY[label]), label
