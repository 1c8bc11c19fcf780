"""Held-out learner answers (written by qa-b without reading the other tests) for the exercises of
`backward`, `memory-flops` and `depth`: every correct form is accepted, every buggy one is rejected
with its own sentence (the start of which is pinned in EXPECT)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from lib import nn

A: list[tuple[str, str, str, object]] = []  # (module.exercise, "ok" or "bug", label, answer)


def ok(ex, label):
    def deco(f):
        A.append((ex, "ok", label, f))
        return f

    return deco


def bug(ex, label):
    def deco(f):
        A.append((ex, "bug", label, f))
        return f

    return deco


def okv(ex, label, v):
    A.append((ex, "ok", label, v))


def bugv(ex, label, v):
    A.append((ex, "bug", label, v))


# ================= backward ex1
E = "backward.ex1"


@ok(E, "reference")
def _answer21(loss, p, i, eps):
    old = p[i]
    p[i] = old + eps
    a = loss()
    p[i] = old - eps
    b = loss()
    p[i] = old
    return (a - b) / (2 * eps)


@ok(E, "+= arithmetic restore")
def _answer22(loss, p, i, eps):
    p[i] += eps
    a = loss()
    p[i] -= 2 * eps
    b = loss()
    p[i] += eps
    return (a - b) / (2 * eps)


@ok(E, "float32 result")
def _answer23(loss, p, i, eps):
    old = p[i].copy()
    p[i] = old + eps
    a = loss()
    p[i] = old - eps
    b = loss()
    p[i] = old
    return np.float32((a - b) / (2 * eps))


@ok(E, "0-d array")
def _answer24(loss, p, i, eps):
    old = float(p[i])
    try:
        p[i] = old + eps
        a = loss()
        p[i] = old - eps
        b = loss()
    finally:
        p[i] = old
    return np.array((a - b) / (2 * eps))


@ok(E, "list of one, loop over signs")
def _answer25(loss, p, i, eps):
    old = p[i]
    vals = []
    for s in (+1, -1):
        p[i] = old + s * eps
        vals.append(loss())
    p[i] = old
    return [(vals[0] - vals[1]) / eps / 2]


@ok(E, "p.flat index")
def _answer26(loss, p, i, eps):
    k = np.ravel_multi_index(i, p.shape)
    old = p.flat[k]
    p.flat[k] = old + eps
    a = loss()
    p.flat[k] = old - eps
    b = loss()
    p.flat[k] = old
    return (a - b) / (eps + eps)


@bug(E, "forward difference")
def _answer27(loss, p, i, eps):
    base = loss()
    old = p[i]
    p[i] = old + eps
    a = loss()
    p[i] = old
    return (a - base) / eps


@bug(E, "divide by eps")
def _answer28(loss, p, i, eps):
    old = p[i]
    p[i] = old + eps
    a = loss()
    p[i] = old - eps
    b = loss()
    p[i] = old
    return (a - b) / eps


@bug(E, "sign flipped")
def _answer29(loss, p, i, eps):
    old = p[i]
    p[i] = old + eps
    a = loss()
    p[i] = old - eps
    b = loss()
    p[i] = old
    return (b - a) / (2 * eps)


@bug(E, "precedence /2*eps")
def _answer30(loss, p, i, eps):
    old = p[i]
    p[i] = old + eps
    a = loss()
    p[i] = old - eps
    b = loss()
    p[i] = old
    return (a - b) / 2 * eps


@bug(E, "nudge a copy")
def _answer31(loss, p, i, eps):
    q = p.copy()
    old = q[i]
    q[i] = old + eps
    a = loss()
    q[i] = old - eps
    b = loss()
    return (a - b) / (2 * eps)


@bug(E, "forget to restore")
def _answer32(loss, p, i, eps):
    old = p[i]
    p[i] = old + eps
    a = loss()
    p[i] = old - eps
    b = loss()
    return (a - b) / (2 * eps)


@bug(E, "set to eps")
def _answer33(loss, p, i, eps):
    old = p[i]
    p[i] = eps
    a = loss()
    p[i] = -eps
    b = loss()
    p[i] = old
    return (a - b) / (2 * eps)


@bug(E, "whole array nudge")
def _answer34(loss, p, i, eps):
    p += eps
    a = loss()
    p -= 2 * eps
    b = loss()
    p += eps
    return (a - b) / (2 * eps)


@bug(E, "alias old = p")
def _answer35(loss, p, i, eps):
    old = p
    p[i] = old[i] + eps
    a = loss()
    p[i] = old[i] - eps
    b = loss()
    p[i] = old[i]
    return (a - b) / (2 * eps)


@bug(E, "p = p + eps (rebinding)")
def _answer36(loss, p, i, eps):
    e = np.zeros_like(p)
    e[i] = eps
    p = p + e
    a = loss()
    p = p - 2 * e
    b = loss()
    return (a - b) / (2 * eps)


@bug(E, "restore to old+eps (typo)")
def _answer37(loss, p, i, eps):
    old = p[i]
    p[i] = old + eps
    a = loss()
    p[i] = old - eps
    b = loss()
    p[i] = old + eps
    return (a - b) / (2 * eps)


# ================= backward ex2
E = "backward.ex2"


def _cd(loss, p, idx, eps):
    old = p[idx]
    p[idx] = old + eps
    a = loss()
    p[idx] = old - eps
    b = loss()
    p[idx] = old
    return (a - b) / (2 * eps)


@ok(E, "reference")
def _answer38(loss, params, grads, eps):
    out = {}
    for k, p in params.items():
        n = np.zeros(p.shape)
        for idx in np.ndindex(p.shape):
            n[idx] = _cd(loss, p, idx, eps)
        a = grads[k]
        out[k] = np.abs(a - n).max() / max(np.abs(a).max(), np.abs(n).max())
    return out


@bug(E, "lib numerical_gradient (the prompt forbids lib.gradcheck)")
def _answer39(loss, params, grads, eps):
    from lib.gradcheck import numerical_gradient

    out = {}
    for k, p in params.items():
        n = numerical_gradient(loss, p, eps=eps)
        a = grads[k]
        out[k] = float(np.max(np.abs(a - n)) / np.maximum(np.abs(a).max(), np.abs(n).max()))
    return out


@ok(E, "nditer multi_index + np.float32 values")
def _answer40(loss, params, grads, eps):
    out = {}
    for k in params:
        p = params[k]
        n = np.empty_like(p)
        it = np.nditer(p, flags=["multi_index"])
        for _ in it:
            idx = it.multi_index
            n[idx] = _cd(loss, p, idx, eps)
        a = grads[k]
        out[k] = np.float32(np.abs(a - n).max() / max(np.abs(a).max(), np.abs(n).max()))
    return out


@ok(E, "+= restore, flat loop, 0-d arrays")
def _answer41(loss, params, grads, eps):
    out = {}
    for k, p in params.items():
        flat = p.reshape(-1)
        n = np.zeros(flat.size)
        for j in range(flat.size):
            flat[j] += eps
            a = loss()
            flat[j] -= 2 * eps
            b = loss()
            flat[j] += eps
            n[j] = (a - b) / (2 * eps)
        n = n.reshape(p.shape)
        g = grads[k]
        out[k] = np.array(np.abs(g - n).max() / np.max([np.abs(g).max(), np.abs(n).max()]))
    return out


@ok(E, "itertools product, dict comprehension")
def _answer42(loss, params, grads, eps):
    import itertools

    def num(p):
        n = np.zeros_like(p)
        for idx in itertools.product(*map(range, p.shape)):
            n[idx] = _cd(loss, p, idx, eps)
        return n

    nums = {k: num(p) for k, p in params.items()}
    return {
        k: np.max(np.abs(grads[k] - nums[k]))
        / max(np.max(np.abs(grads[k])), np.max(np.abs(nums[k])))
        for k in params
    }


def _gc(diff_fn=None, rel=None, restore=True, copy=False, fixed_eps=None, first_only=False):
    def g(loss, params, grads, eps):
        e = fixed_eps or eps
        out = {}
        for k, p0 in params.items():
            p = p0.copy() if copy else p0
            n = np.zeros(p.shape)
            idxs = list(np.ndindex(p.shape))[:1] if first_only else np.ndindex(p.shape)
            for idx in idxs:
                old = p[idx]
                base = loss()
                p[idx] = old + e
                a = loss()
                p[idx] = old - e
                b = loss()
                if restore:
                    p[idx] = old
                n[idx] = diff_fn(a, b, base, e) if diff_fn else (a - b) / (2 * e)
            ga = grads[k]
            if first_only:
                ga, n = np.ravel(ga)[:1], np.ravel(n)[:1]
            out[k] = (
                rel(ga, n) if rel else np.abs(ga - n).max() / max(np.abs(ga).max(), np.abs(n).max())
            )
        return out

    return g


A += [
    (E, "bug", "forward difference", _gc(diff_fn=lambda a, b, base, e: (a - base) / e)),
    (E, "bug", "divide by eps", _gc(diff_fn=lambda a, b, base, e: (a - b) / e)),
    (E, "bug", "sign flipped numeric", _gc(diff_fn=lambda a, b, base, e: (b - a) / (2 * e))),
    (E, "bug", "nudge copies", _gc(copy=True)),
    (E, "bug", "no restore", _gc(restore=False)),
    (E, "bug", "fixed eps 1e-5", _gc(fixed_eps=1e-5)),
    (E, "bug", "first entry only", _gc(first_only=True)),
    (
        E,
        "bug",
        "elementwise rel",
        _gc(rel=lambda a, n: np.max(np.abs(a - n) / np.maximum(np.abs(a), np.abs(n)))),
    ),
    (
        E,
        "bug",
        "divide by max|a| only",
        _gc(rel=lambda a, n: np.abs(a - n).max() / np.abs(a).max()),
    ),
    (E, "bug", "absolute diff", _gc(rel=lambda a, n: np.abs(a - n).max())),
    (
        E,
        "bug",
        "mean diff",
        _gc(rel=lambda a, n: np.abs(a - n).mean() / max(np.abs(a).max(), np.abs(n).max())),
    ),
    (
        E,
        "bug",
        "norm rel sum",
        _gc(rel=lambda a, n: np.linalg.norm(a - n) / (np.linalg.norm(a) + np.linalg.norm(n))),
    ),
    (
        E,
        "bug",
        "divide by min of maxes",
        _gc(rel=lambda a, n: np.abs(a - n).max() / min(np.abs(a).max(), np.abs(n).max())),
    ),
    (
        E,
        "bug",
        "no abs: max(a-n)/max",
        _gc(rel=lambda a, n: np.max(a - n) / max(np.abs(a).max(), np.abs(n).max())),
    ),
]

# ================= backward ex3
E = "backward.ex3"
for s in ["W", "w", "dW", " W ", "'W'"]:
    okv(E, f"str {s!r}", s)
for s in ["X", "b", "dX", "db", "x", "bias", "B", "input"]:
    bugv(E, f"str {s!r}", s)

# ================= backward ex4
E = "backward.ex4"


def _lin(X, W, dZ):
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)


@ok(E, "reference")
def _answer43(X, W, b, dH):
    Z = X @ W + b
    return _lin(X, W, dH * (Z > 0))


@ok(E, "np.where")
def _answer44(X, W, b, dH):
    Z = X @ W + b
    return _lin(X, W, np.where(Z > 0, dH, 0.0))


@ok(E, "heaviside float32")
def _answer45(X, W, b, dH):
    X, W, b, dH = (a.astype(np.float32) for a in (X, W, b, dH))
    Z = X @ W + b
    return _lin(X, W, dH * np.heaviside(Z, 0).astype(np.float32))


@ok(E, "mask from H>0")
def _answer46(X, W, b, dH):
    H = np.maximum(X @ W + b, 0)
    return _lin(X, W, dH * (H > 0))


@ok(E, "in-place dH edit")
def _answer47(X, W, b, dH):
    Z = X @ W + b
    dH[Z <= 0] = 0
    return _lin(X, W, dH)


@ok(E, "Z >= 0 mask (no ties)")
def _answer48(X, W, b, dH):
    Z = X @ W + b
    return _lin(X, W, dH * (Z >= 0))


@ok(E, "loops")
def _answer49(X, W, b, dH):
    B, Din = X.shape
    Dout = W.shape[1]
    dX = np.zeros((B, Din))
    dW = np.zeros((Din, Dout))
    db = np.zeros(Dout)
    for n in range(B):
        z = X[n] @ W + b
        dz = dH[n] * (z > 0)
        dX[n] = W @ dz
        dW += np.outer(X[n], dz)
        db += dz
    return dX, dW, db


@bug(E, "no mask")
def _answer50(X, W, b, dH):
    return _lin(X, W, dH)


@bug(E, "mask by dH")
def _answer51(X, W, b, dH):
    return _lin(X, W, dH * (dH > 0))


@bug(E, "times Z")
def _answer52(X, W, b, dH):
    return _lin(X, W, dH * (X @ W + b))


@bug(E, "mask Z<0")
def _answer53(X, W, b, dH):
    return _lin(X, W, dH * (X @ W + b < 0))


@bug(E, "mask without bias")
def _answer54(X, W, b, dH):
    return _lin(X, W, dH * (X @ W > 0))


@bug(E, "db mean")
def _answer55(X, W, b, dH):
    dZ = dH * (X @ W + b > 0)
    return dZ @ W.T, X.T @ dZ, dZ.mean(axis=0)


@bug(E, "dW transposed")
def _answer56(X, W, b, dH):
    dZ = dH * (X @ W + b > 0)
    return dZ @ W.T, dZ.T @ X, dZ.sum(axis=0)


@bug(E, "dX uses dH")
def _answer57(X, W, b, dH):
    dZ = dH * (X @ W + b > 0)
    return dH @ W.T, X.T @ dZ, dZ.sum(axis=0)


@bug(E, "db uses dH")
def _answer58(X, W, b, dH):
    dZ = dH * (X @ W + b > 0)
    return dZ @ W.T, X.T @ dZ, dH.sum(axis=0)


@bug(E, "dX no transpose")
def _answer59(X, W, b, dH):
    dZ = dH * (X @ W + b > 0)
    return dZ @ W, X.T @ dZ, dZ.sum(axis=0)


@bug(E, "times relu(Z)")
def _answer60(X, W, b, dH):
    return _lin(X, W, dH * np.maximum(X @ W + b, 0))


@bug(E, "only db masked")
def _answer61(X, W, b, dH):
    Z = X @ W + b
    dX, dW, _ = _lin(X, W, dH)
    return dX, dW, (dH * (Z > 0)).sum(0)


@bug(E, "order (dW, dX, db)")
def _answer62(X, W, b, dH):
    dZ = dH * (X @ W + b > 0)
    return X.T @ dZ, dZ @ W.T, dZ.sum(axis=0)


# ================= memory-flops ex1
E = "memory_flops.ex1"
okv(E, "reference", lambda B, T, d, p: B * T * (d + 4 * d) * p)
okv(E, "two terms", lambda B, T, d, p: B * T * d * p + B * T * 4 * d * p)
okv(E, "float", lambda B, T, d, p: 5.0 * B * T * d * p)
okv(E, "np.prod int64", lambda B, T, d, p: np.prod([B, T, d, p], dtype=np.int64) * 5)


@ok(E, "loop over layers")
def _answer63(B, T, d, p):
    total = 0
    for width in (d, 4 * d):
        total += B * T * width * p
    return total


okv(E, "np.array 0-d", lambda B, T, d, p: np.array(B * T * 5 * d * p))
okv(E, "float32", lambda B, T, d, p: np.float32(B * T * 5 * d * p))
okv(E, "bits/8", lambda B, T, d, p: B * T * 5 * d * (8 * p) / 8)
bugv(E, "no T", lambda B, T, d, p: B * 5 * d * p)
bugv(E, "only X", lambda B, T, d, p: B * T * d * p)
bugv(E, "only H", lambda B, T, d, p: B * T * 4 * d * p)
bugv(E, "H as d wide", lambda B, T, d, p: B * T * 2 * d * p)
bugv(E, "outputs too", lambda B, T, d, p: B * T * 10 * d * p)
bugv(E, "elements", lambda B, T, d, p: B * T * 5 * d)
bugv(E, "hardcoded 4", lambda B, T, d, p: B * T * 5 * d * 4)
bugv(E, "MiB", lambda B, T, d, p: B * T * 5 * d * p / 2**20)
bugv(E, "MB", lambda B, T, d, p: B * T * 5 * d * p / 1e6)
bugv(E, "bits", lambda B, T, d, p: B * T * 5 * d * p * 8)
bugv(E, "plus final output (6d)", lambda B, T, d, p: B * T * 6 * d * p)
bugv(E, "activation in+out (8d)", lambda B, T, d, p: B * T * 8 * d * p)
bugv(E, "weights instead", lambda B, T, d, p: 8 * d * d * p)
bugv(E, "weights plus inputs", lambda B, T, d, p: (8 * d * d + B * T * 5 * d) * p)
bugv(E, "KiB", lambda B, T, d, p: B * T * 5 * d * p / 1024)

# ================= memory-flops ex2
E = "memory_flops.ex2"
okv(
    E,
    "reference",
    lambda B, i, o: max(2 * B * i * o / 312e12, (B * i + i * o + B * o) * 2 / 2039e9),
)


@ok(E, "if/else")
def _answer64(B, i, o):
    t_c = 2 * B * i * o / 312e12
    t_m = 2 * (B * i + i * o + B * o) / 2.039e12
    if t_c > t_m:
        return t_c
    return t_m


okv(
    E,
    "ms then /1000",
    lambda B, i, o: max(2 * B * i * o / 312e9, (B * i + i * o + B * o) * 2 / 2039e6) / 1000,
)
okv(
    E,
    "np.maximum float32",
    lambda B, i, o: np.float32(
        np.maximum(2 * B * i * o / 312e12, (B * i + i * o + B * o) * 2 / 2039e9)
    ),
)
okv(
    E,
    "exact (2Din-1) count",
    lambda B, i, o: max((2 * i - 1) * B * o / 312e12, (B * i + i * o + B * o) * 2 / 2039e9),
)


@ok(E, "intensity form")
def _answer65(B, i, o):
    F, moved = 2 * B * i * o, 2 * (B * i + i * o + B * o)
    return F / min(312e12, F / moved * 2039e9)


okv(
    E,
    "np.array",
    lambda B, i, o: np.array([2 * B * i * o / 312e12, (B * i + i * o + B * o) * 2 / 2039e9]).max(),
)
bugv(E, "sum", lambda B, i, o: 2 * B * i * o / 312e12 + (B * i + i * o + B * o) * 2 / 2039e9)
bugv(E, "min", lambda B, i, o: min(2 * B * i * o / 312e12, (B * i + i * o + B * o) * 2 / 2039e9))
bugv(E, "memory only", lambda B, i, o: (B * i + i * o + B * o) * 2 / 2039e9)
bugv(E, "compute only", lambda B, i, o: 2 * B * i * o / 312e12)
bugv(
    E, "4 bytes", lambda B, i, o: max(2 * B * i * o / 312e12, (B * i + i * o + B * o) * 4 / 2039e9)
)
bugv(
    E, "bias", lambda B, i, o: max(2 * B * i * o / 312e12, (B * i + i * o + o + B * o) * 2 / 2039e9)
)
bugv(
    E,
    "no factor 2 flops",
    lambda B, i, o: max(B * i * o / 312e12, (B * i + i * o + B * o) * 2 / 2039e9),
)
bugv(E, "weights only", lambda B, i, o: max(2 * B * i * o / 312e12, i * o * 2 / 2039e9))
bugv(
    E,
    "GiB/s",
    lambda B, i, o: max(2 * B * i * o / 312e12, (B * i + i * o + B * o) * 2 / (2039 * 2**30)),
)
bugv(
    E, "ms", lambda B, i, o: 1e3 * max(2 * B * i * o / 312e12, (B * i + i * o + B * o) * 2 / 2039e9)
)
bugv(
    E,
    "sparse peak 624",
    lambda B, i, o: max(2 * B * i * o / 624e12, (B * i + i * o + B * o) * 2 / 2039e9),
)
bugv(
    E,
    "6 flops (training)",
    lambda B, i, o: max(6 * B * i * o / 312e12, (B * i + i * o + B * o) * 2 / 2039e9),
)
bugv(
    E,
    "bits bytes (16 per element)",
    lambda B, i, o: max(2 * B * i * o / 312e12, (B * i + i * o + B * o) * 16 / 2039e9),
)
bugv(E, "1 byte", lambda B, i, o: max(2 * B * i * o / 312e12, (B * i + i * o + B * o) * 1 / 2039e9))
bugv(E, "X not counted", lambda B, i, o: max(2 * B * i * o / 312e12, (i * o + B * o) * 2 / 2039e9))


def _roofline(B, i, o, peak, bandwidth):
    from lib import ledger

    costs = ledger.linear_costs(B, i, o, "bf16", bias=False)
    return ledger.roofline_time(costs.forward_flops, costs.traffic_bytes, peak, bandwidth)


okv(E, "ledger.roofline_time in GFLOP/s and GB/s", lambda B, i, o: _roofline(B, i, o, 312e3, 2039))
bugv(
    E,
    "ledger.roofline_time fed FLOP/s and bytes/s",
    lambda B, i, o: _roofline(B, i, o, 312e12, 2039e9),
)

bugv(E, "W counted as D_in**2 (the page's bug)", lambda B, i, o: max(2 * B * i * o / 312e12, (B * i + i * i + B * o) * 2 / 2039e9))
bugv(E, "Y counted as B*D_in", lambda B, i, o: max(2 * B * i * o / 312e12, (B * i + i * o + B * i) * 2 / 2039e9))
bugv(E, "Y left out", lambda B, i, o: max(2 * B * i * o / 312e12, (B * i + i * o) * 2 / 2039e9))

# ================= memory-flops ex3
E = "memory_flops.ex3"
R = ["memory", "memory", "compute", "compute", "memory"]
okv(E, "list", list(R))
okv(E, "tuple", tuple(R))
okv(E, "Capitalised", [w.capitalize() for w in R])
okv(E, "-bound", [w + "-bound" for w in R])
okv(E, "upper", [w.upper() for w in R])
okv(E, "np.array of str", np.array(R))
flip = {"memory": "compute", "compute": "memory"}
for k in range(5):
    w = list(R)
    w[k] = flip[w[k]]
    bugv(E, f"flip {k + 1}", w)
bugv(E, "all memory", ["memory"] * 5)
bugv(E, "all compute", ["compute"] * 5)
bugv(E, "all swapped", [flip[w] for w in R])

# ================= memory-flops ex4
E = "memory_flops.ex4"
okv(E, "reference", lambda n, t, a: 4 * n + 12 * t + a)
okv(E, "frozen + trainable split", lambda n, t, a: 4 * (n - t) + 16 * t + a)


@ok(E, "dict of parts")
def _answer66(n, t, a):
    parts = {"weights": 4 * n, "grads": 4 * t, "m": 4 * t, "v": 4 * t, "acts": a}
    return sum(parts.values())


okv(E, "float", lambda n, t, a: 4.0 * n + 3 * 4.0 * t + float(a))
okv(E, "np.int64", lambda n, t, a: np.int64(n) * 4 + np.int64(t) * 12 + np.int64(a))
okv(E, "float32 bits/8", lambda n, t, a: np.float32((32 * n + 96 * t) / 8 + a))
bugv(E, "all trained", lambda n, t, a: 16 * n + a)
bugv(E, "only trainable weights", lambda n, t, a: 16 * t + a)
bugv(E, "no adam", lambda n, t, a: 4 * n + 4 * t + a)
bugv(E, "no grads", lambda n, t, a: 4 * n + 8 * t + a)
bugv(E, "one adam moment", lambda n, t, a: 4 * n + 8 * t + a)
bugv(E, "no activations", lambda n, t, a: 4 * n + 12 * t)
bugv(E, "weights only", lambda n, t, a: 4 * n + a)
bugv(E, "double trainable weights", lambda n, t, a: 4 * n + 16 * t + a)
bugv(E, "2 bytes", lambda n, t, a: 2 * n + 6 * t + a)
bugv(E, "MB", lambda n, t, a: (4 * n + 12 * t + a) / 1e6)
bugv(E, "GiB", lambda n, t, a: (4 * n + 12 * t + a) / 2**30)
bugv(E, "frozen weights only + trainable grads/adam", lambda n, t, a: 4 * (n - t) + 12 * t + a)
bugv(E, "activations *4 (elements)", lambda n, t, a: 4 * n + 12 * t + 4 * a)
bugv(E, "grads for all", lambda n, t, a: 8 * n + 8 * t + a)

# ================= memory-flops ex5
E = "memory_flops.ex5"
H = 6 * 350e6 * 7e9 / (8 * 0.4 * 312e12) / 3600
okv(E, "exact", H)
okv(E, "3 sig", 4.09)
okv(E, "float32", np.float32(H))
okv(E, "0-d", np.array(H))
okv(E, "via seconds int", round(6 * 350e6 * 7e9 / (8 * 0.4 * 312e12)) / 3600)
okv(E, "4.1", 4.1)
bugv(E, "2ND", H / 3)
bugv(E, "3ND", H / 2)
bugv(E, "one GPU", H * 8)
bugv(E, "100%", H * 0.4)
bugv(E, "seconds", H * 3600)
bugv(E, "minutes", H * 60)
bugv(E, "624 peak", H / 2)
bugv(E, "days", H / 24)
bugv(E, "divide by utilisation inverse", 6 * 350e6 * 7e9 / (8 / 0.4 * 312e12) / 3600)
bugv(E, "8ND", H * 8 / 6)
bugv(E, "fp32 peak 19.5", H * 312 / 19.5)

# ================= depth ex1
E = "depth.ex1"
okv(E, "reference", lambda W1, b1, W2, b2: (W1 @ W2, b1 @ W2 + b2))
okv(
    E,
    "float32",
    lambda W1, b1, W2, b2: ((W1 @ W2).astype(np.float32), (b1 @ W2 + b2).astype(np.float32)),
)
okv(E, "list + np.dot", lambda W1, b1, W2, b2: [np.dot(W1, W2), np.dot(b1, W2) + b2])
okv(
    E,
    "push zero row through",
    lambda W1, b1, W2, b2: (W1 @ W2, (np.zeros((1, W1.shape[0])) @ W1 + b1) @ W2 + b2),
)


@ok(E, "push identity")
def _answer67(W1, b1, W2, b2):
    b = b1 @ W2 + b2
    eye = np.eye(W1.shape[0])
    return (eye @ W1 + b1) @ W2 + b2 - b, b


okv(
    E,
    "einsum",
    lambda W1, b1, W2, b2: (np.einsum("ih,ho->io", W1, W2), np.einsum("h,ho->o", b1, W2) + b2),
)


@ok(E, "in-place b2")
def _answer68(W1, b1, W2, b2):
    b2 += b1 @ W2
    return W1 @ W2, b2


bugv(E, "W2@W1", lambda W1, b1, W2, b2: (W2 @ W1, b1 @ W2 + b2))
bugv(E, "W1+W2", lambda W1, b1, W2, b2: (W1 + W2, b1 @ W2 + b2))
bugv(E, "b1+b2", lambda W1, b1, W2, b2: (W1 @ W2, b1 + b2))
bugv(E, "b2 only", lambda W1, b1, W2, b2: (W1 @ W2, b2))
bugv(E, "b1@W2 only", lambda W1, b1, W2, b2: (W1 @ W2, b1 @ W2))
bugv(E, "W2@b1", lambda W1, b1, W2, b2: (W1 @ W2, W2 @ b1 + b2))
bugv(E, "swapped return", lambda W1, b1, W2, b2: (b1 @ W2 + b2, W1 @ W2))
bugv(E, "(b1+b2)@W2", lambda W1, b1, W2, b2: (W1 @ W2, (b1 + b2) @ W2))
bugv(E, "b1@W2.T", lambda W1, b1, W2, b2: (W1 @ W2, b1 @ W2.T + b2))
bugv(E, "(W1@W2).T", lambda W1, b1, W2, b2: ((W1 @ W2).T, b1 @ W2 + b2))

# ================= depth ex2
E = "depth.ex2"
okv(
    E,
    "reference",
    lambda Z: (lambda E: E / E.sum(axis=1, keepdims=True))(
        np.exp(Z - Z.max(axis=1, keepdims=True))
    ),
)
okv(
    E,
    "axis -1",
    lambda Z: (lambda E: E / np.sum(E, axis=-1, keepdims=True))(
        np.exp(Z - np.max(Z, axis=-1, keepdims=True))
    ),
)
okv(
    E,
    "logsumexp",
    lambda Z: np.exp(
        Z
        - (
            Z.max(1, keepdims=True)
            + np.log(np.exp(Z - Z.max(1, keepdims=True)).sum(1, keepdims=True))
        )
    ),
)


@ok(E, "row loop")
def _answer69(Z):
    out = np.empty_like(Z, dtype=float)
    for r in range(Z.shape[0]):
        e = np.exp(Z[r] - Z[r].max())
        out[r] = e / e.sum()
    return out


@ok(E, "in-place")
def _answer70(Z):
    Z -= Z.max(axis=1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=1)[:, None]
    return Z


@ok(E, "float32")
def _answer71(Z):
    Z = Z.astype(np.float32)
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


@ok(E, "transpose trick")
def _answer72(Z):
    E = np.exp(Z.T - Z.max(axis=1))
    return (E / E.sum(axis=0)).T


bugv(E, "naive", lambda Z: np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True))
bugv(
    E, "global max", lambda Z: np.exp(Z - Z.max()) / np.exp(Z - Z.max()).sum(axis=1, keepdims=True)
)
bugv(E, "axis 0", lambda Z: np.exp(Z - Z.max(0)) / np.exp(Z - Z.max(0)).sum(axis=0, keepdims=True))
bugv(
    E,
    "min shift",
    lambda Z: (
        np.exp(Z - Z.min(1, keepdims=True))
        / np.exp(Z - Z.min(1, keepdims=True)).sum(axis=1, keepdims=True)
    ),
)
bugv(
    E,
    "mean shift",
    lambda Z: (
        np.exp(Z - Z.mean(1, keepdims=True))
        / np.exp(Z - Z.mean(1, keepdims=True)).sum(axis=1, keepdims=True)
    ),
)
bugv(E, "no normalization", lambda Z: np.exp(Z - Z.max(1, keepdims=True)))
bugv(
    E,
    "total sum",
    lambda Z: np.exp(Z - Z.max(1, keepdims=True)) / np.exp(Z - Z.max(1, keepdims=True)).sum(),
)
bugv(
    E,
    "no keepdims on sum",
    lambda Z: np.exp(Z - Z.max(1, keepdims=True)) / np.exp(Z - Z.max(1, keepdims=True)).sum(axis=1),
)
bugv(
    E,
    "no keepdims on max",
    lambda Z: np.exp(Z - Z.max(1)) / np.exp(Z - Z.max(1)).sum(axis=1, keepdims=True),
)
bugv(
    E,
    "log-softmax",
    lambda Z: (
        Z
        - Z.max(1, keepdims=True)
        - np.log(np.exp(Z - Z.max(1, keepdims=True)).sum(1, keepdims=True))
    ),
)
bugv(
    E,
    "clip logits",
    lambda Z: (lambda C: np.exp(C) / np.exp(C).sum(1, keepdims=True))(np.clip(Z, -50, 50)),
)
bugv(
    E,
    "subtract first column",
    lambda Z: (lambda E: E / E.sum(1, keepdims=True))(np.exp(Z - Z[:, :1])),
)

# ================= depth ex3
E = "depth.ex3"


def _sm(Z):
    E_ = np.exp(Z - Z.max(1, keepdims=True))
    return E_ / E_.sum(1, keepdims=True)


@ok(E, "reference")
def _answer73(Z, y):
    P = nn.softmax(Z)
    P[np.arange(len(y)), y] -= 1
    return P / len(y)


okv(E, "eye onehot", lambda Z, y: (_sm(Z) - np.eye(Z.shape[1])[y]) / Z.shape[0])


@ok(E, "row loop")
def _answer74(Z, y):
    B = len(Z)
    G = np.zeros_like(Z)
    for n in range(B):
        p = np.exp(Z[n] - Z[n].max())
        p /= p.sum()
        p[y[n]] -= 1
        G[n] = p / B
    return G


okv(E, "float32", lambda Z, y: ((_sm(Z) - np.eye(Z.shape[1])[y]) / len(y)).astype(np.float32))


@ok(E, "in-place Z")
def _answer75(Z, y):
    Z -= Z.max(1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(1, keepdims=True)
    Z[range(len(y)), y] -= 1
    Z /= len(y)
    return Z


@ok(E, "np.add.at")
def _answer76(Z, y):
    Y = np.zeros_like(Z)
    np.add.at(Y, (np.arange(len(y)), y), 1.0)
    return (_sm(Z) - Y) * (1.0 / Z.shape[0])


okv(
    E,
    "list of rows",
    lambda Z, y: [list((_sm(Z)[n] - np.eye(Z.shape[1])[y[n]]) / len(y)) for n in range(len(y))],
)


def _Y(Z, y):
    return np.eye(Z.shape[1])[y]


bugv(E, "no /B", lambda Z, y: _sm(Z) - _Y(Z, y))
bugv(E, "no onehot", lambda Z, y: _sm(Z) / len(y))
bugv(E, "logits", lambda Z, y: (Z - _Y(Z, y)) / len(y))
bugv(E, "sign", lambda Z, y: (_Y(Z, y) - _sm(Z)) / len(y))
bugv(E, "/(B*V)", lambda Z, y: (_sm(Z) - _Y(Z, y)) / Z.size)


@bug(E, "P[:, y] -= 1")
def _answer77(Z, y):
    P = _sm(Z)
    P[:, y] -= 1
    return P / len(y)


bugv(E, "softmax axis 0", lambda Z, y: (np.exp(Z) / np.exp(Z).sum(0) - _Y(Z, y)) / len(y))
bugv(E, "/V", lambda Z, y: (_sm(Z) - _Y(Z, y)) / Z.shape[1])
bugv(E, "/B**2", lambda Z, y: (_sm(Z) - _Y(Z, y)) / len(y) ** 2)
bugv(E, "mean over rows", lambda Z, y: (_sm(Z) - _Y(Z, y)).mean(axis=0))
bugv(E, "log P - onehot", lambda Z, y: (np.log(_sm(Z)) - _Y(Z, y)) / len(y))
bugv(E, "P*(1-P) style", lambda Z, y: (_sm(Z) * (1 - _sm(Z)) - _Y(Z, y)) / len(y))
bugv(E, "-1/P at label", lambda Z, y: -_Y(Z, y) / np.maximum(_sm(Z), 1e-300) / len(y))

# ================= depth ex4
E = "depth.ex4"
for v in [15, 15.0, np.int64(15), np.array(15), np.float32(15), 2**4 - 1]:
    okv(E, f"{v!r} {type(v).__name__}", v)
for v in [16, 8, 4, 5, 2**16, 14, 30, 32, 7, 17]:
    bugv(E, f"{v}", v)


EXPECT = {
    (
        "backward.ex1",
        "forward difference",
    ): "that is the forward difference (L(p + eps) - L(p)) / eps; nu",
    ("backward.ex1", "divide by eps"): "the nudges are both ways, but divide by 2 * eps, not eps.",
    (
        "backward.ex1",
        "sign flipped",
    ): "the sign is flipped: it is (L(p + eps) - L(p - eps)), plus m",
    (
        "backward.ex1",
        "precedence /2*eps",
    ): "precedence: (plus - minus) / 2 * eps divides by 2 and then m",
    (
        "backward.ex1",
        "nudge a copy",
    ): "your estimate is 0: the loss never saw the nudge. Either you",
    (
        "backward.ex1",
        "forget to restore",
    ): "the parameter was left changed (W[0, 1] moved by 0.001); sav",
    ("backward.ex1", "set to eps"): "you set param[index] to +eps and -eps instead of nudging it:",
    (
        "backward.ex1",
        "whole array nudge",
    ): "you nudged every entry of param at once (param + eps); nudge",
    (
        "backward.ex1",
        "alias old = p",
    ): "that is half the forward difference: `old` changed with the ",
    (
        "backward.ex1",
        "p = p + eps (rebinding)",
    ): "your estimate is 0: the loss never saw the nudge. Either you",
    (
        "backward.ex1",
        "restore to old+eps (typo)",
    ): "the parameter was left changed (W[0, 1] moved by 0.001); sav",
    (
        "backward.ex2",
        "forward difference",
    ): "that is the forward difference (L(p + eps) - L(p)) / eps; nu",
    (
        "backward.ex2",
        "divide by eps",
    ): "every relative error of a correct gradient is 0.5: your nume",
    (
        "backward.ex2",
        "sign flipped numeric",
    ): "every relative error of a correct gradient is 2: your numeri",
    (
        "backward.ex2",
        "nudge copies",
    ): "every relative error is 1: your numerical gradient is 0 ever",
    ("backward.ex2", "lib numerical_gradient (the prompt forbids lib.gradcheck)"): "your grad_check reaches lib.gradcheck.numerical_gradient",
    ("backward.ex2", "no restore"): "params['X'] was left changed; put every entry back (param[id",
    (
        "backward.ex2",
        "fixed eps 1e-5",
    ): "your check ignores the eps it is given (a step fixed inside ",
    (
        "backward.ex2",
        "first entry only",
    ): "you checked only one entry per tensor; estimate every entry ",
    (
        "backward.ex2",
        "elementwise rel",
    ): "that is the element-wise relative error, max of |a - n| / ma",
    (
        "backward.ex2",
        "divide by max|a| only",
    ): "you divided by max|a| alone; the chapter's relative error di",
    (
        "backward.ex2",
        "absolute diff",
    ): "that is the largest absolute difference max|a - n|, not yet ",
    ("backward.ex2", "mean diff"): "you averaged |a - n| over the entries; the relative error ta",
    (
        "backward.ex2",
        "norm rel sum",
    ): "that is a norm-based relative error, |a - n| / (|a| + |n|) w",
    (
        "backward.ex2",
        "divide by min of maxes",
    ): "you divided by the smaller of max|a| and max|n|; the chapter",
    (
        "backward.ex2",
        "no abs: max(a-n)/max",
    ): "you took the largest a - n without the absolute value, so di",
    ("backward.ex3", "str 'X'"): "the gradient of X is right: a correct check gives it a relat",
    ("backward.ex3", "str 'b'"): "the gradient of b is right: a correct check gives it a relat",
    ("backward.ex3", "str 'dX'"): "the gradient of X is right: a correct check gives it a relat",
    ("backward.ex3", "str 'db'"): "the gradient of b is right: a correct check gives it a relat",
    ("backward.ex3", "str 'x'"): "the gradient of X is right: a correct check gives it a relat",
    ("backward.ex3", "str 'bias'"): "the gradient of b is right: a correct check gives it a relat",
    ("backward.ex3", "str 'B'"): "the gradient of b is right: a correct check gives it a relat",
    ("backward.ex3", "str 'input'"): "the gradient of X is right: a correct check gives it a relat",
    ("backward.ex4", "no mask"): "that is the linear layer's backward pass without the ReLU: e",
    ("backward.ex4", "mask by dH"): "you masked by the sign of dH; the mask comes from the forwar",
    ("backward.ex4", "times Z"): "you multiplied dH by Z (or by H = ReLU(Z)); the derivative o",
    ("backward.ex4", "mask Z<0"): "you masked where Z < 0; ReLU passes the gradient where Z > 0",
    (
        "backward.ex4",
        "mask without bias",
    ): "your mask leaves out the bias: the ReLU acts on Z = X @ W + ",
    ("backward.ex4", "db mean"): "db: you took the mean over the batch; the bias is broadcast ",
    (
        "backward.ex4",
        "dW transposed",
    ): "dW is transposed: dY.T @ X gives (D_out, D_in); write X.T @ ",
    ("backward.ex4", "dX uses dH"): "dX uses dH; it must use the masked gradient dZ = dH * (Z > 0",
    ("backward.ex4", "db uses dH"): "db uses dH; it must use the masked gradient dZ = dH * (Z > 0",
    (
        "backward.ex4",
        "dX no transpose",
    ): "dX: you multiplied by W, not W.T; the product must undo X @ ",
    (
        "backward.ex4",
        "times relu(Z)",
    ): "you multiplied dH by H = ReLU(Z); the derivative of ReLU is ",
    (
        "backward.ex4",
        "only db masked",
    ): "dX uses dH; it must use the masked gradient dZ = dH * (Z > 0",
    (
        "backward.ex4",
        "order (dW, dX, db)",
    ): "item 1 of your tuple is dW; return them in the order (dX, dW",
    ("memory_flops.ex1", "no T"): "you left out T: every token of every sequence is a row, so e",
    ("memory_flops.ex1", "only X"): "you counted only X, the first layer's input; the second laye",
    ("memory_flops.ex1", "only H"): "you counted only H; the first layer's input X (d wide) is ca",
    ("memory_flops.ex1", "H as d wide"): "H is 4d wide, not d: the up-projection maps d to 4d.",
    (
        "memory_flops.ex1",
        "outputs too",
    ): "either you also counted the two layers' outputs (4d and d wid",
    (
        "memory_flops.ex1",
        "elements",
    ): "you returned elements, not bytes: multiply by bytes_per_elem",
    (
        "memory_flops.ex1",
        "hardcoded 4",
    ): "you hard-coded 4 bytes per element; use bytes_per_element (t",
    ("memory_flops.ex1", "MiB"): "that looks like the right amount in MiB (2**20 bytes); give ",
    ("memory_flops.ex1", "MB"): "that looks like the right amount in MB (10**6 bytes); give i",
    ("memory_flops.ex1", "bits"): "that is the number of bits; give it in bytes (8 bits each).",
    (
        "memory_flops.ex1",
        "plus final output (6d)",
    ): "either you also counted the block's output (d wide) or you co",
    (
        "memory_flops.ex1",
        "activation in+out (8d)",
    ): "you counted the activation function's input and its output H",
    (
        "memory_flops.ex1",
        "weights instead",
    ): "you counted the weights (d*4d + 4d*d); the question asks for",
    (
        "memory_flops.ex1",
        "weights plus inputs",
    ): "you added the weights (d*4d + 4d*d); the question asks only ",
    ("memory_flops.ex1", "KiB"): "that looks like the right amount in KiB (1,024 bytes); give ",
    ("memory_flops.ex2", "sum"): "you added the two times; the bound is the larger one (max), ",
    ("memory_flops.ex2", "min"): "you took the smaller time (min); the bound is the larger one",
    (
        "memory_flops.ex2",
        "memory only",
    ): "that is the memory time alone; at large B the compute time F",
    (
        "memory_flops.ex2",
        "compute only",
    ): "that is the compute time alone; at small B the memory time b",
    ("memory_flops.ex2", "4 bytes"): "you counted 4 bytes per element; the layer is bf16, 2 bytes.",
    ("memory_flops.ex2", "W counted as D_in**2 (the page's bug)"): "that is still the colleague's bug: W holds D_in*D_out",
    ("memory_flops.ex2", "Y counted as B*D_in"): "Y is (B, D_out): it holds B*D_out numbers, not B*D_in.",
    ("memory_flops.ex2", "Y left out"): "the traffic leaves out Y: the matmul writes Y (B*D_out numbers)",
    ("memory_flops.ex2", "bias"): "the layer has no bias: leave the D_out bias entries out of t",
    (
        "memory_flops.ex2",
        "no factor 2 flops",
    ): "More than one mistake gives exactly this answer. Either: you f",
    (
        "memory_flops.ex2",
        "weights only",
    ): "that counts only the weights' bytes; X is read and Y written",
    ("memory_flops.ex2", "GiB/s"): "2,039 GB/s is 2,039e9 bytes per second, not 2,039 GiB/s (2**",
    ("memory_flops.ex2", "ms"): "that looks like the right time in milliseconds; give it in s",
    (
        "memory_flops.ex2",
        "sparse peak 624",
    ): "More than one mistake gives exactly this answer. Either: you f",
    (
        "memory_flops.ex2",
        "6 flops (training)",
    ): "6 FLOPs per weight and row is training (forward and backward",
    (
        "memory_flops.ex2",
        "bits bytes (16 per element)",
    ): "bf16 is 16 bits but 2 bytes: multiply the element count by 2",
    ("memory_flops.ex2", "1 byte"): "1 byte per element is int8; bf16 takes 2 bytes.",
    (
        "memory_flops.ex2",
        "X not counted",
    ): "the traffic leaves out X: the matmul reads X (B*D_in numbers",
    (
        "memory_flops.ex2",
        "ledger.roofline_time fed FLOP/s and bytes/s",
    ): "that is 10**9 times too small: ledger.roofline_time takes th",
    ("memory_flops.ex3", "flip 1"): "workload 1: 1 row gives about 1 FLOP/byte in bf16 (about 2B/",
    ("memory_flops.ex3", "flip 2"): "workload 2: 64 rows give about 63 FLOP/byte in bf16 (about 2",
    ("memory_flops.ex3", "flip 3"): "workload 3: 2,048 rows give about 1,215 FLOP/byte in bf16 (a",
    ("memory_flops.ex3", "flip 4"): "workload 4: 256 rows give about 228 FLOP/byte in bf16 (about",
    ("memory_flops.ex3", "flip 5"): "workload 5: a 128 -> 64 layer never reaches the ridge: its i",
    (
        "memory_flops.ex3",
        "all memory",
    ): "workload 3: 2,048 rows give about 1,215 FLOP/byte in bf16 (a",
    (
        "memory_flops.ex3",
        "all compute",
    ): "workload 1: 1 row gives about 1 FLOP/byte in bf16 (about 2B/",
    (
        "memory_flops.ex3",
        "all swapped",
    ): "every answer is swapped: an intensity below the ridge (153 F",
    (
        "memory_flops.ex4",
        "all trained",
    ): "frozen parameters need no gradient and no optimizer state: o",
    (
        "memory_flops.ex4",
        "only trainable weights",
    ): "the frozen weights are still in memory (the forward pass use",
    ("memory_flops.ex4", "no adam"): "you left out Adam's state: it keeps m and v, two fp32 number",
    (
        "memory_flops.ex4",
        "no grads",
    ): "either you left out the gradients (4 bytes per trainable par",
    (
        "memory_flops.ex4",
        "one adam moment",
    ): "either you left out the gradients (4 bytes per trainable par",
    ("memory_flops.ex4", "no activations"): "you left out the activations: add activation_bytes.",
    (
        "memory_flops.ex4",
        "weights only",
    ): "that counts the weights only; the trainable parameters also ",
    (
        "memory_flops.ex4",
        "double trainable weights",
    ): "either you counted the trainable weights twice (they are alr",
    ("memory_flops.ex4", "2 bytes"): "everything here is fp32: 4 bytes per number, not 2.",
    ("memory_flops.ex4", "MB"): "that looks like the right amount in MB (10**6 bytes); give i",
    ("memory_flops.ex4", "GiB"): "that looks like the right amount in GiB (2**30 bytes); give ",
    (
        "memory_flops.ex4",
        "frozen weights only + trainable grads/adam",
    ): "either you left out the gradients (4 bytes per trainable par",
    (
        "memory_flops.ex4",
        "activations *4 (elements)",
    ): "activation_bytes is already in bytes: add it as it is, witho",
    (
        "memory_flops.ex4",
        "grads for all",
    ): "frozen parameters need no gradient: only the n_trainable one",
    ("memory_flops.ex5", "2ND"): "that is the forward pass alone (2 N D); training adds the ba",
    ("memory_flops.ex5", "3ND"): "More than one mistake gives exactly this answer. Either: tha",
    ("memory_flops.ex5", "one GPU"): "that is the time on one GPU; the 8 GPUs share the work.",
    ("memory_flops.ex5", "100%"): "that assumes 100% of the peak; the GPUs keep only 40% of it ",
    ("memory_flops.ex5", "seconds"): "your time looks like the right amount in s; give it in h.",
    ("memory_flops.ex5", "minutes"): "your time looks like the right amount in min; give it in h.",
    (
        "memory_flops.ex5",
        "624 peak",
    ): "More than one mistake gives exactly this answer. Either: tha",
    ("memory_flops.ex5", "days"): "that looks like the right time in days; give it in hours.",
    (
        "memory_flops.ex5",
        "divide by utilisation inverse",
    ): "you divided by the utilisation; the GPUs deliver 0.4 x peak,",
    ("memory_flops.ex5", "8ND"): "that counts 8 N D (recomputing the activations); the rule he",
    (
        "memory_flops.ex5",
        "fp32 peak 19.5",
    ): "19.5 TFLOP/s is the A100's fp32 peak without tensor cores; t",
    ("depth.ex1", "W2@W1"): "W is W2 @ W1: the product is in the wrong order. X goes thro",
    ("depth.ex1", "W1+W2"): "W is W1 + W2: stacking layers multiplies their matrices, it ",
    ("depth.ex1", "b1+b2"): "b is b1 + b2, but b1 also passes through the second layer: b",
    ("depth.ex1", "b2 only"): "b is b2 alone: the first bias still counts, after passing th",
    ("depth.ex1", "b1@W2 only"): "b is b1 @ W2 but the second layer's own bias b2 is missing.",
    ("depth.ex1", "W2@b1"): "b uses W2 @ b1 (the same as b1 @ W2.T): with rows as example",
    ("depth.ex1", "swapped return"): "your pair is (b, W): return the matrix first, `return W, b`.",
    ("depth.ex1", "(b1+b2)@W2"): "b is (b1 + b2) @ W2, but b2 is added after the second layer'",
    ("depth.ex1", "b1@W2.T"): "b uses W2 @ b1 (the same as b1 @ W2.T): with rows as example",
    ("depth.ex1", "(W1@W2).T"): "W is (W1 @ W2).T: with rows as examples the combined W is (D",
    ("depth.ex2", "naive"): "right for small logits, but logits near 1000 give NaN: exp(1",
    ("depth.ex2", "global max"): "a row of logits near -1000 next to a row near 0 gives NaN: y",
    ("depth.ex2", "axis 0"): "wrong axis: your columns sum to 1, not your rows; softmax ru",
    ("depth.ex2", "min shift"): "you subtracted each row's minimum: on a row like [-1000, 100",
    ("depth.ex2", "mean shift"): "you subtracted each row's mean: on a row like [-1000, 1000, ",
    (
        "depth.ex2",
        "no normalization",
    ): "the rows do not sum to 1: you forgot to normalize (divide by",
    ("depth.ex2", "total sum"): "you divided by the sum of the whole array (after subtracting",
    (
        "depth.ex2",
        "no keepdims on sum",
    ): "a per-row max or sum of shape (B,) does not broadcast agains",
    (
        "depth.ex2",
        "no keepdims on max",
    ): "a per-row max or sum of shape (B,) does not broadcast agains",
    ("depth.ex2", "log-softmax"): "that is log-softmax, the log of the probabilities; softmax i",
    ("depth.ex2", "clip logits"): "logits 1000, 1001, 1002 and 999 all got the same probability",
    (
        "depth.ex2",
        "subtract first column",
    ): "you subtracted each row's first entry: on a row like [-1000,",
    ("depth.ex3", "no /B"): "missing /B: the loss is the mean over the B examples, so its",
    ("depth.ex3", "no onehot"): "missing -onehot: the correct class's probability must be low",
    ("depth.ex3", "logits"): "you used the logits instead of the probabilities: apply soft",
    ("depth.ex3", "sign"): "the sign is flipped: it is (P - onehot) / B, which points up",
    ("depth.ex3", "/(B*V)"): "you divided by B * V: the loss averages over the B rows only",
    ("depth.ex3", "P[:, y] -= 1"): "P[:, y] -= 1 subtracts 1 from whole columns (every row, at e",
    ("depth.ex3", "softmax axis 0"): "softmax over the wrong axis: each row of logits is one examp",
    ("depth.ex3", "/V"): "you divided by V, the number of classes; the loss averages o",
    ("depth.ex3", "/B**2"): "you divided by B twice: the mean over the batch divides once",
    ("depth.ex3", "mean over rows"): "you averaged the rows into one: each example keeps its own r",
    ("depth.ex3", "log P - onehot"): "you used log P; the gradient with respect to the logits uses",
    ("depth.ex3", "P*(1-P) style"): "P * (1 - P) is only the diagonal of the softmax's derivative",
    ("depth.ex3", "-1/P at label"): "that is the gradient with respect to the probabilities, -one",
    ("depth.ex4", "16"): "16 is the number of pieces; one layer of n units on a line m",
    ("depth.ex4", "8"): "8 is how many units the deep network uses; one layer of 8 un",
    ("depth.ex4", "4"): "4 is the depth; one layer of 4 units makes at most 5 pieces ",
    ("depth.ex4", "5"): "that solves 1 + n + n(n - 1)/2 >= 16, the count for a 2-D in",
    ("depth.ex4", "65536"): "2**16 would be the number of on/off patterns of 16 units, no",
    ("depth.ex4", "14"): "one layer of 14 units makes at most 15 pieces on a line (one",
    ("depth.ex4", "30"): "30 units can make 16 pieces, but a narrower layer can too: f",
    ("depth.ex4", "32"): "32 units can make 16 pieces, but a narrower layer can too: f",
    ("depth.ex4", "7"): "one layer of 7 units makes at most 8 pieces on a line (one b",
    ("depth.ex4", "17"): "17 units can make 16 pieces, but a narrower layer can too: f",
}


def _exercise(ex: str):
    module, name = ex.split(".")
    return getattr(importlib.import_module(f"lib.exercises.{module}"), name)


@pytest.mark.parametrize(
    "ex, label, answer",
    [(e, lab, a) for e, k, lab, a in A if k == "ok"],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_right_answer_accepted(ex, label, answer):
    result = _exercise(ex).check(answer)
    assert result.ok, f"{ex} [{label}]: {result!r}"


@pytest.mark.parametrize(
    "ex, label, answer",
    [(e, lab, a) for e, k, lab, a in A if k == "bug"],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_bug_rejected_and_named(ex, label, answer):
    result = _exercise(ex).check(answer)
    assert result.status == "incorrect", f"{ex} [{label}]: {result!r}"
    assert result.message.startswith(EXPECT[(ex, label)]), f"{ex} [{label}]: {result.message}"


def test_every_bug_has_its_expected_sentence():
    assert {(e, lab) for e, k, lab, _ in A if k == "bug"} == set(EXPECT)
