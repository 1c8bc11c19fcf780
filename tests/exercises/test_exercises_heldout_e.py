"""A held-out set of learner answers for the checkers of `model-ledger` and `tiny-gpt`.

Written as a learner would, independently of the other exercise tests: every correct answer (other
formulations, floats, float32, NumPy scalars, lists, loops) must be accepted; every buggy one rejected,
with the sentence that names it (a keyword of it below; "not right" marks the few left unnamed).
"""
# ruff: noqa: E731, E741, E702

import math

import numpy as np
import pytest

from lib import sizing
from lib.exercises import model_ledger as ML
from lib.exercises import tiny_gpt as TG


# ============================================================ model-ledger ex1
def ml1_sol(d, d_ff):
    return 4 * (d * d + d) + (d * d_ff + d_ff) + (d_ff * d + d) + 2 * 2 * d
def ml1_float(d, d_ff):
    return 4.0 * (d * d + d) + 2.0 * d * d_ff + d_ff + d + 4.0 * d
def ml1_expanded(d, d_ff):
    return 4 * d**2 + 2 * d * d_ff + d_ff + 9 * d
def ml1_loop(d, d_ff):
    layers = [(d, d)] * 4 + [(d, d_ff), (d_ff, d)]
    total = 0
    for i, o in layers:
        total += i * o + o
    for _ in range(2):
        total += 2 * d
    return total
def ml1_np(d, d_ff):
    shapes = np.array([[d, d]] * 4 + [[d, d_ff], [d_ff, d]])
    return np.array(np.sum(shapes[:, 0] * shapes[:, 1] + shapes[:, 1]) + 4 * d)
def ml1_f32(d, d_ff):
    return np.float32(ml1_sol(d, d_ff))

ML1_OK = [ml1_sol, ml1_float, ml1_expanded, ml1_loop, ml1_np, ml1_f32]

ML1_BAD = {
    "no biases": lambda d, F: 4 * d * d + 2 * d * F + 4 * d,
    "no layernorm": lambda d, F: 4 * (d * d + d) + 2 * d * F + F + d,
    "LN gains only": lambda d, F: 4 * (d * d + d) + 2 * d * F + F + d + 2 * d,
    "MLP d*d": lambda d, F: 4 * (d * d + d) + 2 * d * d + F + d + 4 * d,
    "Wo missing": lambda d, F: 3 * (d * d + d) + 2 * d * F + F + d + 4 * d,
    "4d instead of d_ff": lambda d, F: ml1_sol(d, 4 * d),
    "MLP biases missing": lambda d, F: 4 * (d * d + d) + 2 * d * F + 4 * d,
    "attention biases missing": lambda d, F: 4 * d * d + 2 * d * F + F + d + 4 * d,
    "three layernorms": lambda d, F: ml1_sol(d, F) + 2 * d,
    "second MLP bias d_ff": lambda d, F: 4 * (d * d + d) + 2 * d * F + 2 * F + 4 * d,
    "double-counted biases": lambda d, F: 4 * (d * d + 2 * d) + 2 * d * F + F + d + 4 * d,
    "first MLP bias d": lambda d, F: 4 * (d * d + d) + 2 * d * F + 2 * d + 4 * d,
    "only one MLP bias (F)": lambda d, F: 4 * (d * d + d) + 2 * d * F + F + 4 * d,
    "times 12 layers": lambda d, F: 12 * ml1_sol(d, F),
    "hard-coded gpt2": lambda d, F: 7087872,
    "one MLP matrix": lambda d, F: 4 * (d * d + d) + d * F + F + 4 * d,
}

# ============================================================ model-ledger ex2
def ml2_sol(L, h, hkv, dh, T, B, nb):
    return 2 * L * hkv * dh * T * B * nb
def ml2_loop(L, h, hkv, dh, T, B, nb):
    total = 0
    for _ in range(L):
        for _kind in ("k", "v"):
            total += hkv * dh * T * B * nb
    return total
def ml2_float(L, h, hkv, dh, T, B, nb):
    per_token = 2.0 * L * hkv * dh * nb
    return per_token * T * B
def ml2_prod(L, h, hkv, dh, T, B, nb):
    return np.prod([2, L, hkv, dh, T, B, nb], dtype=np.int64)
def ml2_groups(L, h, hkv, dh, T, B, nb):
    group = h // hkv
    return 2 * L * (h // group) * dh * T * B * nb
def ml2_arr(L, h, hkv, dh, T, B, nb):
    return np.array(ml2_sol(L, h, hkv, dh, T, B, nb))

ML2_OK = [ml2_sol, ml2_loop, ml2_float, ml2_prod, ml2_groups, ml2_arr]
ML2_BAD = {
    "query heads": lambda L, h, hkv, dh, T, B, nb: 2 * L * h * dh * T * B * nb,
    "no factor 2": lambda L, h, hkv, dh, T, B, nb: L * hkv * dh * T * B * nb,
    "elements": lambda L, h, hkv, dh, T, B, nb: 2 * L * hkv * dh * T * B,
    "no layers": lambda L, h, hkv, dh, T, B, nb: 2 * hkv * dh * T * B * nb,
    "no batch": lambda L, h, hkv, dh, T, B, nb: 2 * L * hkv * dh * T * nb,
    "group size": lambda L, h, hkv, dh, T, B, nb: 2 * L * (h // hkv) * dh * T * B * nb,
    "hard-coded bf16": lambda L, h, hkv, dh, T, B, nb: 2 * L * hkv * dh * T * B * 2,
    "hard-coded fp32": lambda L, h, hkv, dh, T, B, nb: 2 * L * hkv * dh * T * B * 4,
    "MiB": lambda L, h, hkv, dh, T, B, nb: ml2_sol(L, h, hkv, dh, T, B, nb) / 2**20,
    "GB": lambda L, h, hkv, dh, T, B, nb: ml2_sol(L, h, hkv, dh, T, B, nb) / 1e9,
    "query heads and no factor 2": lambda L, h, hkv, dh, T, B, nb: L * h * dh * T * B * nb,
    "T+1": lambda L, h, hkv, dh, T, B, nb: 2 * L * hkv * dh * (T + 1) * B * nb,
    "bits": lambda L, h, hkv, dh, T, B, nb: 8 * ml2_sol(L, h, hkv, dh, T, B, nb),
    "no head_dim": lambda L, h, hkv, dh, T, B, nb: 2 * L * hkv * T * B * nb,
    "no T": lambda L, h, hkv, dh, T, B, nb: 2 * L * hkv * dh * B * nb,
}

# ============================================================ model-ledger ex3
def ml3_sol(cfg, T, mem):
    one = sizing.train_memory(cfg, 1, T)
    fixed = one["weights"] + one["gradients"] + one["optimizer"]
    return max(0, int((mem - fixed) // one["activations"]))
def ml3_diff(cfg, T, mem):
    m1 = sum(sizing.train_memory(cfg, 1, T).values())
    m2 = sum(sizing.train_memory(cfg, 2, T).values())
    per = m2 - m1
    fixed = m1 - per
    return max(0, math.floor((mem - fixed) / per))
def ml3_bisect(cfg, T, mem):
    def fits(B):
        return sum(sizing.train_memory(cfg, B, T).values()) <= mem
    if not fits(1):
        return 0
    lo, hi = 1, 2
    while fits(hi):
        hi *= 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo
def ml3_float(cfg, T, mem):
    one = sizing.train_memory(cfg, 1, T)
    fixed = one["weights"] + one["gradients"] + one["optimizer"]
    B = np.floor((mem - fixed) / one["activations"])
    return float(max(B, 0.0))
def ml3_npint(cfg, T, mem):
    one = sizing.train_memory(cfg, 1, T)
    spare = mem - (one["weights"] + one["gradients"] + one["optimizer"])
    return np.int64(spare // one["activations"]) if spare > 0 else np.int64(0)

ML3_OK = [ml3_sol, ml3_diff, ml3_bisect, ml3_float, ml3_npint]

def _parts(cfg, T):
    one = sizing.train_memory(cfg, 1, T)
    return one, one["weights"] + one["gradients"] + one["optimizer"], one["activations"]
def ml3_ceil(cfg, T, mem):
    one, fixed, per = _parts(cfg, T)
    return max(0, math.ceil((mem - fixed) / per))
def ml3_round(cfg, T, mem):
    one, fixed, per = _parts(cfg, T)
    return max(0, round((mem - fixed) / per))
def ml3_whole(cfg, T, mem):
    one, fixed, per = _parts(cfg, T)
    return int(mem // per)
def ml3_noopt(cfg, T, mem):
    one, fixed, per = _parts(cfg, T)
    return max(0, int((mem - one["weights"] - one["gradients"]) // per))
def ml3_nograd(cfg, T, mem):
    one, fixed, per = _parts(cfg, T)
    return max(0, int((mem - one["weights"] - one["optimizer"]) // per))
def ml3_neg(cfg, T, mem):
    one, fixed, per = _parts(cfg, T)
    return int((mem - fixed) // per)
def ml3_wholeone(cfg, T, mem):
    one, fixed, per = _parts(cfg, T)
    return max(0, int((mem - sum(one.values())) // per))
def ml3_weightsonly(cfg, T, mem):
    one, fixed, per = _parts(cfg, T)
    return max(0, int((mem - one["weights"]) // per))
def ml3_loop_overshoot(cfg, T, mem):
    B = 1
    while sum(sizing.train_memory(cfg, B, T).values()) <= mem:
        B += 1
    return B if B > 1 else 0   # returns first B that does not fit
def ml3_int_trunc_neg(cfg, T, mem):
    one, fixed, per = _parts(cfg, T)
    return max(0, int((mem - fixed) / per) + 0) if mem > fixed else -1
def ml3_hard110(cfg, T, mem):
    return 110
def ml3_fp32(cfg, T, mem):
    one = sizing.train_memory(cfg, 1, T, "fp32")
    fixed = one["weights"] + one["gradients"] + one["optimizer"]
    return max(0, int((mem - fixed) // one["activations"]))
def ml3_noact_fixed(cfg, T, mem):  # subtracts the weights twice (weights + sum of all)
    one, fixed, per = _parts(cfg, T)
    return max(0, int((mem - fixed - one["weights"]) // per))

ML3_BAD = {"ceil": ml3_ceil, "round": ml3_round, "whole memory": ml3_whole, "no optimizer": ml3_noopt,
           "no gradients": ml3_nograd, "negative": ml3_neg, "whole B=1": ml3_wholeone,
           "weights only": ml3_weightsonly, "loop overshoot": ml3_loop_overshoot, "-1 when none": ml3_int_trunc_neg,
           "hard-coded 110": ml3_hard110, "fp32 dtype": ml3_fp32, "weights twice": ml3_noact_fixed}

# ============================================================ model-ledger ex4
_r, _d, _kv, _L = 16, 8192, 8 * 128, 80
_W = _L * (_r * (2 * _d) * 2 + 2 * _r * (_d + _kv))
ML4_OK = [_W, float(_W), np.int64(_W), np.array(_W), np.float32(_W), 6.5536e7, [_W][0]]
ML4_BAD = {
    "square kv": _L * 4 * _r * 2 * _d,
    "one layer": _W // _L,
    "q and v only": _L * (_r * 2 * _d + _r * (_d + _kv)),
    "one factor Din": _L * _r * 4 * _d,
    "full matrices": _L * (2 * _d * _d + 2 * _d * _kv),
    "rank 8": _W // 2,
    "kv one head": _L * (2 * _r * 2 * _d + 2 * _r * (_d + 128)),
    "q,k,v no o": _L * (_r * 2 * _d + 2 * _r * (_d + _kv)),
    "millions": _W / 1e6,
    "79 layers": _W // _L * 79,
    "kv as 64*... wrong: using n_kv=8 without head_dim": _L * (2 * _r * 2 * _d + 2 * _r * (_d + 8)),
    "percentage": _W / sizing.n_params(sizing.preset("llama2-70b")) * 100,
    "r squared extra": _W + _L * 4 * _r * _r,
}

# ============================================================ tiny-gpt ex2
def tg2_sol(n, task):
    j = np.arange(n)
    return n - 1 - j if task == "reverse" else (j + 1) % n
def tg2_list(n, task):
    if task == "reverse":
        return [n - 1 - j for j in range(n)]
    return [(j + 1) % n for j in range(n)]
def tg2_loop(n, task):
    out = np.zeros(n, dtype=int)
    for j in range(n):
        out[j] = (n - j - 1) if task == "reverse" else (j + 1 if j + 1 < n else 0)
    return out
def tg2_roll(n, task):
    return np.arange(n)[::-1].copy() if task == "reverse" else np.roll(np.arange(n), -1)
def tg2_float(n, task):
    return np.array(tg2_sol(n, task), dtype=float)
def tg2_tuple(n, task):
    return tuple(int(v) for v in tg2_sol(n, task))
TG2_OK = [tg2_sol, tg2_list, tg2_loop, tg2_roll, tg2_float, tg2_tuple]
def _j(n): return np.arange(n)
TG2_BAD = {
    "reverse off by one": lambda n, t: n - _j(n) if t == "reverse" else (_j(n) + 1) % n,
    "count from 1": lambda n, t: tg2_sol(n, t) + 1,
    "query positions": lambda n, t: n + _j(n),
    "rotate no wrap": lambda n, t: n - 1 - _j(n) if t == "reverse" else _j(n) + 1,
    "rotate right": lambda n, t: n - 1 - _j(n) if t == "reverse" else (_j(n) - 1) % n,
    "swapped tasks": lambda n, t: tg2_sol(n, "rotate" if t == "reverse" else "reverse"),
    "rotate identity": lambda n, t: n - 1 - _j(n) if t == "reverse" else _j(n),
    "rotate 1-based j+2": lambda n, t: n - 1 - _j(n) if t == "reverse" else (_j(n) + 2) % n,
    "reverse via answer side": lambda n, t: 2 * n - 1 - _j(n) if t == "reverse" else (_j(n) + 1) % n,
    "hard-coded n=5": lambda n, t: tg2_sol(5, t),
    "reverse n-2-j": lambda n, t: n - 2 - _j(n) if t == "reverse" else (_j(n) + 1) % n,
    "previous token": lambda n, t: n + _j(n) - 1,
}

# ============================================================ tiny-gpt ex3
def tg3_sol(d, F, r, L, targets):
    s = {"Wq": (d, d), "Wk": (d, d), "Wv": (d, d), "Wo": (d, d), "W1": (d, F), "W2": (F, d)}
    return L * sum(r * (s[t][0] + s[t][1]) for t in targets)
def tg3_ifs(d, F, r, L, targets):
    total = 0
    for t in targets:
        if t in ("Wq", "Wk", "Wv", "Wo"):
            total += 2 * d * r
        else:
            total += r * (d + F)
    return total * L
def tg3_BA(d, F, r, L, targets):
    s = {"Wq": (d, d), "Wk": (d, d), "Wv": (d, d), "Wo": (d, d), "W1": (d, F), "W2": (F, d)}
    n = 0
    for _ in range(L):
        for t in targets:
            Din, Dout = s[t]
            n += Din * r + r * Dout
    return n
def tg3_float(d, F, r, L, targets):
    n_attn = sum(t.startswith("Wq") or t in ("Wk", "Wv", "Wo") for t in targets)
    n_mlp = len(targets) - n_attn
    return float(L * r * (2 * d * n_attn + (d + F) * n_mlp))
def tg3_np(d, F, r, L, targets):
    s = {"Wq": (d, d), "Wk": (d, d), "Wv": (d, d), "Wo": (d, d), "W1": (d, F), "W2": (F, d)}
    return np.sum([r * np.sum(s[t]) for t in targets]) * np.int64(L)
TG3_OK = [tg3_sol, tg3_ifs, tg3_BA, tg3_float, tg3_np]
_S = lambda d, F: {"Wq": (d, d), "Wk": (d, d), "Wv": (d, d), "Wo": (d, d), "W1": (d, F), "W2": (F, d)}
TG3_BAD = {
    "2dr everywhere": lambda d, F, r, L, t: L * len(t) * 2 * d * r,
    "no layers": lambda d, F, r, L, t: tg3_sol(d, F, r, 1, t),
    "one factor Din": lambda d, F, r, L, t: L * sum(r * _S(d, F)[x][0] for x in t),
    "full matrices": lambda d, F, r, L, t: L * sum(_S(d, F)[x][0] * _S(d, F)[x][1] for x in t),
    "2 F r for MLP": lambda d, F, r, L, t: L * sum(2 * d * r if x[1] != "W" and x not in ("W1", "W2") else 2 * F * r for x in t),
    "r*r extra": lambda d, F, r, L, t: tg3_sol(d, F, r, L, t) + L * len(t) * r * r,
    "one factor Dout": lambda d, F, r, L, t: L * sum(r * _S(d, F)[x][1] for x in t),
    "only first target": lambda d, F, r, L, t: tg3_sol(d, F, r, L, t[:1]),
    "L+1": lambda d, F, r, L, t: tg3_sol(d, F, r, L + 1, t),
    "r*Din*Dout": lambda d, F, r, L, t: L * sum(r * _S(d, F)[x][0] * _S(d, F)[x][1] for x in t),
    "hard-coded 1024": lambda d, F, r, L, t: 1024,
    "W2 as d x d": lambda d, F, r, L, t: L * sum(r * (d + d) if x != "W1" else r * (d + F) for x in t),
}

KW = {
 "model-ledger-ex1": {"no biases": "biases too", "no layernorm": "two LayerNorms", "LN gains only": "gains only",
   "MLP d*d": "d * d_ff weights", "Wo missing": "output projection", "4d instead of d_ff": "instead of the d_ff",
   "MLP biases missing": "MLP's two biases", "attention biases missing": "attention biases",
   "three layernorms": "final LayerNorm", "second MLP bias d_ff": "bias has d entries",
   "double-counted biases": "counted some twice", "first MLP bias d": "bias has d_ff entries",
   "only one MLP bias (F)": "one bias of d is missing", "times 12 layers": "ONE block",
   "hard-coded gpt2": "whatever the sizes", "one MLP matrix": "one of the MLP's two"},
 "model-ledger-ex2": {"query heads": "query heads", "no factor 2": "factor 2", "elements": "number of elements",
   "no layers": "left out the layers", "no batch": "left out the batch", "group size": "group size",
   "hard-coded bf16": "hard-coded to 2", "hard-coded fp32": "hard-coded to 4", "MiB": "in MiB", "GB": "in GB",
   "query heads and no factor 2": "two mistakes", "T+1": "T + 1", "bits": "bits", "no head_dim": "head_dim",
   "no T": "left out T"},
 "model-ledger-ex3": {"ceil": "round DOWN", "round": "round DOWN", "whole memory": "whole memory",
   "no optimizer": "optimizer state", "no gradients": "left out the gradients", "negative": "return 0",
   "whole B=1": "whole B = 1", "weights only": "only the weights", "loop overshoot": "round DOWN",
   "-1 when none": "return 0", "hard-coded 110": "whatever the arguments", "fp32 dtype": "fp32",
   "weights twice": "not right"},
 "model-ledger-ex4": {"square kv": "not square", "one layer": "one layer", "q and v only": "only q and v",
   "one factor Din": "one factor", "full matrices": "full q, k, v, o", "rank 8": "rank r = 16",
   "kv one head": "one head's 128", "q,k,v no o": "left out Wo", "millions": "millions", "79 layers": "79 layers",
   "kv as 64*... wrong: using n_kv=8 without head_dim": "1024 columns, not 8", "percentage": "whole number",
   "r squared extra": "not right"},
 "tiny-gpt-ex2": {"reverse off by one": "off by one", "count from 1": "count from 1", "query positions": "query positions",
   "rotate no wrap": "wrap round", "rotate right": "rotation to the right", "swapped tasks": "other task",
   "rotate identity": "too far left", "rotate 1-based j+2": "too far right",
   "reverse via answer side": "mirror the query", "hard-coded n=5": "expected shape is (3,)",
   "reverse n-2-j": "too far left", "previous token": "previous token"},
 "tiny-gpt-ex3": {"2dr everywhere": "2*d*r holds only", "no layers": "left out the layers",
   "one factor Din": "one factor", "full matrices": "full matrices", "2 F r for MLP": "not 2 * d_ff * r",
   "r*r extra": "not right", "one factor Dout": "(r * D_out); the other", "only first target": "only the first target",
   "L+1": "n_layers + 1", "r*Din*Dout": "not r * D_in * D_out", "hard-coded 1024": "whatever the arguments",
   "W2 as d x d": "not d x d"},
}


_SETS = {
    "model-ledger-ex1": (ML.ex1, ML1_OK, ML1_BAD), "model-ledger-ex2": (ML.ex2, ML2_OK, ML2_BAD),
    "model-ledger-ex3": (ML.ex3, ML3_OK, ML3_BAD), "model-ledger-ex4": (ML.ex4, ML4_OK, ML4_BAD),
    "tiny-gpt-ex2": (TG.ex2, TG2_OK, TG2_BAD),
    "tiny-gpt-ex3": (TG.ex3, TG3_OK, TG3_BAD),
}
_GENERIC = ("which is not right", "different values")


@pytest.mark.parametrize("label, i", [(label, i) for label, (_, ok, _) in _SETS.items() for i in range(len(ok))])
def test_correct_answers_accepted(label, i):
    ex, ok, _ = _SETS[label]
    result = ex.check(ok[i])
    assert result.ok, (label, i, result)


@pytest.mark.parametrize("label, bug", [(label, bug) for label, (_, _, bad) in _SETS.items() for bug in bad])
def test_buggy_answers_rejected_and_named(label, bug):
    ex, _, bad = _SETS[label]
    result = ex.check(bad[bug])
    assert result.status == "incorrect", (label, bug, result)
    assert KW[label][bug] in result.message, (label, bug, result)


@pytest.mark.parametrize("label", list(_SETS))
def test_at_least_90_percent_named(label):
    ex, _, bad = _SETS[label]
    named = sum(not any(g in ex.check(a).message for g in _GENERIC) for a in bad.values())
    assert named >= 0.9 * len(bad), (label, named, len(bad))
