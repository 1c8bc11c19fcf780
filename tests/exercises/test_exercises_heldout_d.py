"""Held-out learner answers for the exercises of `attention` and `decoder-kv-cache` (QA round d).

Written as a learner would, independently of the other exercise tests: every correct answer must be
accepted, every buggy one rejected with a sentence that names it (the phrase listed with it).
"""

import math

import numpy as np
import pytest

from lib import attention, transformer
from lib.exercises import attention as XA
from lib.exercises import decoder as XD
from lib.exercises import tiny_gpt as XT


def sw(a):
    return np.swapaxes(a, -1, -2)


def _sm(S, axis=-1):
    e = np.exp(S - S.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------- attention ex2: causal softmax
def _m(S, k=None):
    Tq, Tk = S.shape[-2:]
    return np.tril(np.ones((Tq, Tk), dtype=bool), k=Tk - Tq if k is None else k)


def c_ok1(S):
    S = np.where(_m(S), S, -np.inf)
    e = np.exp(S - S.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def c_ok2(S):
    S = np.where(_m(S), S, -1e9)
    e = np.exp(S - S.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def c_ok3(S):
    B, Tq, Tk = S.shape
    out = np.zeros_like(S)
    for b in range(B):
        for i in range(Tq):
            row = S[b, i, : Tk - Tq + i + 1]
            e = np.exp(row - row.max())
            out[b, i, : Tk - Tq + i + 1] = e / e.sum()
    return out


def c_ok4(S):
    Tq, Tk = S.shape[-2:]
    future = np.triu(np.ones((Tq, Tk), dtype=bool), k=Tk - Tq + 1)
    S[:, future] = -np.inf  # in place on its copy
    S -= S.max(axis=2, keepdims=True)
    np.exp(S, out=S)
    S /= S.sum(axis=2, keepdims=True)
    return S


def c_ok5(S):
    S = S.astype(np.float32)
    S = np.where(_m(S), S, np.float32(-np.inf))
    e = np.exp(S - S.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def c_ok6(S):
    Tq, Tk = S.shape[-2:]
    mask = np.tril(np.ones((Tk, Tk), dtype=bool))[-Tq:]  # the last T_q rows of the square mask
    mx = np.where(mask, S, -np.inf).max(-1, keepdims=True)
    e = np.where(mask, np.exp(np.minimum(S - mx, 0)), 0.0)
    return e / e.sum(-1, keepdims=True)


def c_ok7(S):
    Tq, Tk = S.shape[-2:]
    i, j = np.arange(Tq)[:, None], np.arange(Tk)[None, :]
    S = np.where(j <= i + Tk - Tq, S, -np.inf)
    m = S.max(-1, keepdims=True)
    lse = m + np.log(np.exp(S - m).sum(-1, keepdims=True))
    return np.exp(S - lse)


def c_ok8(S):
    S = np.where(_m(S), S, -np.finfo(S.dtype).max)
    e = np.exp(S - S.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def c_ok9(S):
    mask = _m(S).astype(float)
    S = S + np.where(mask == 1, 0.0, -np.inf)
    e = np.exp(S - np.max(S, axis=-1)[..., None])
    return e / np.sum(e, axis=-1)[..., None]


def _soft(S, axis=-1, shift="max"):
    with np.errstate(all="ignore"):
        if shift == "max":
            S = S - S.max(axis=axis, keepdims=True)
        elif shift == "min":
            S = S - S.min(axis=axis, keepdims=True)
        elif shift == "mean":
            S = S - S.mean(axis=axis, keepdims=True)
        elif shift == "global":
            S = S - S.max()
        e = np.exp(S)
        return e / e.sum(axis=axis, keepdims=True)


def c_b_nooffset(S):
    return _soft(np.where(_m(S, 0), S, -np.inf))


def c_b_offby1(S):
    Tq, Tk = S.shape[-2:]
    return _soft(np.where(_m(S, Tk - Tq - 1), S, -np.inf))


def c_b_plus1(S):
    Tq, Tk = S.shape[-2:]
    return _soft(np.where(_m(S, Tk - Tq + 1), S, -np.inf))


def c_b_zero(S):
    return _soft(np.where(_m(S), S, 0.0))


def c_b_mulmask(S):
    return _soft(S * _m(S))


def c_b_axis2(S):
    return _soft(np.where(_m(S), S, -np.inf), axis=-2)


def c_b_min(S):
    return _soft(np.where(_m(S), S, -np.inf), shift="min")


def c_b_mean(S):
    return _soft(np.where(_m(S), S, -1e9), shift="mean")


def c_b_nomax(S):
    return _soft(np.where(_m(S), S, -np.inf), shift="none")


def c_b_global(S):
    return _soft(np.where(_m(S), S, -np.inf), shift="global")


def c_b_after(S):
    return _soft(S) * _m(S)


def c_b_triu(S):
    Tq, Tk = S.shape[-2:]
    return _soft(np.where(np.triu(np.ones((Tq, Tk), dtype=bool), k=Tk - Tq), S, -np.inf))


def c_b_first_rows(S):
    Tq, Tk = S.shape[-2:]
    return _soft(np.where(np.tril(np.ones((Tk, Tk), dtype=bool))[:Tq], S, -np.inf))


def c_b_nomask(S):
    return _soft(S)


def c_b_axis0(S):
    return _soft(np.where(_m(S), S, -np.inf), axis=0)


def c_b_sumall(S):
    e = np.exp(np.where(_m(S), S, -np.inf) - S.max(-1, keepdims=True))
    return e / e.sum()


def c_b_negoffset(S):
    Tq, Tk = S.shape[-2:]
    return _soft(np.where(_m(S, Tq - Tk), S, -np.inf)) if Tq != Tk else _soft(np.where(_m(S), S, -np.inf))


def c_b_renorm_scaled(S):  # divides by sqrt(T_k) as if it were the scores function
    return _soft(np.where(_m(S), S, -np.inf) / np.sqrt(S.shape[-1]))


# ---------------------------------------------------------------- attention ex3: split heads
def h_ok1(X, h):
    B, T, d = X.shape
    return X.reshape(B, T, h, d // h).transpose(0, 2, 1, 3)


def h_ok2(X, h):
    B, T, d = X.shape
    return X.reshape(B, T, h, -1).swapaxes(1, 2)


def h_ok3(X, h):
    dk = X.shape[-1] // h
    return np.stack([X[..., j * dk : (j + 1) * dk] for j in range(h)], axis=1)


def h_ok4(X, h):
    return np.array(np.split(X, h, axis=-1)).transpose(1, 0, 2, 3)


def h_ok5(X, h):
    B, T, d = X.shape
    return np.moveaxis(X.reshape(B, T, h, d // h), 2, 1)


def h_ok6(X, h):
    return h_ok1(X.astype(np.float32), h)


def h_ok7(X, h):
    B, T, d = X.shape
    dk = d // h
    out = np.empty((B, h, T, dk))
    for b in range(B):
        for t in range(T):
            for j in range(h):
                out[b, j, t] = X[b, t, j * dk : (j + 1) * dk]
    return out.tolist()


def h_ok8(X, h):
    B, T, d = X.shape
    return np.ascontiguousarray(X.reshape(B, T, h, d // h).transpose(0, 2, 1, 3))


def h_b_direct(X, h):
    B, T, d = X.shape
    return X.reshape(B, h, T, d // h)


def h_b_notrans(X, h):
    B, T, d = X.shape
    return X.reshape(B, T, h, d // h)


def h_b_interleave(X, h):
    B, T, d = X.shape
    return X.reshape(B, T, d // h, h).transpose(0, 3, 1, 2)


def h_b_two(X, h):
    B, T, d = X.shape
    return X.reshape(B, T, 2, d // 2).transpose(0, 2, 1, 3)


def h_b_perm(X, h):
    B, T, d = X.shape
    return X.reshape(B, T, h, d // h).transpose(0, 2, 3, 1)


def h_b_transfirst(X, h):
    B, T, d = X.shape
    return X.transpose(0, 2, 1).reshape(B, h, T, d // h)


def h_b_swapped(X, h):
    B, T, d = X.shape
    return X.reshape(B, T, d // h, h).transpose(0, 2, 1, 3)


def h_b_headfirst(X, h):
    return np.stack(np.split(X, h, axis=-1), axis=0)


def h_b_float(X, h):
    B, T, d = X.shape
    return X.reshape(B, T, h, d / h).transpose(0, 2, 1, 3)


def h_b_T(X, h):
    B, T, d = X.shape
    return X.T.reshape(B, h, T, d // h)


# ---------------------------------------------------------------- attention ex4: backward
def _A(Q, K, V):
    return attention.attention_forward(Q, K, V, causal=True)[1]["A"]


def b_ok1(Q, K, V, dY):
    A = _A(Q, K, V)
    dV = sw(A) @ dY
    dA = dY @ sw(V)
    dS = A * (dA - (dA * A).sum(-1, keepdims=True))
    s = np.sqrt(Q.shape[-1])
    return dS @ K / s, sw(dS) @ Q / s, dV


def b_ok2(Q, K, V, dY):
    d = Q.shape[-1]
    T = Q.shape[1]
    S = np.einsum("bid,bjd->bij", Q, K) / np.sqrt(d)
    S = np.where(np.tril(np.ones((T, T), dtype=bool)), S, -np.inf)
    A = np.exp(S - S.max(-1, keepdims=True))
    A /= A.sum(-1, keepdims=True)
    dV = np.einsum("bij,bie->bje", A, dY)
    dA = np.einsum("bie,bje->bij", dY, V)
    dS = A * dA - A * np.einsum("bij,bij->bi", A, dA)[..., None]
    return (np.einsum("bij,bjd->bid", dS, K) / np.sqrt(d), np.einsum("bij,bid->bjd", dS, Q) / np.sqrt(d), dV)


def b_ok3(Q, K, V, dY):
    A = _A(Q, K, V)
    dQ, dK, dV = np.zeros_like(Q), np.zeros_like(K), np.zeros_like(V)
    s = 1 / math.sqrt(Q.shape[-1])
    for b in range(Q.shape[0]):
        a = A[b]
        dV[b] = a.T @ dY[b]
        da = dY[b] @ V[b].T
        ds = np.zeros_like(a)
        for i in range(a.shape[0]):
            J = np.diag(a[i]) - np.outer(a[i], a[i])
            ds[i] = J @ da[i]
        dQ[b] = ds @ K[b] * s
        dK[b] = ds.T @ Q[b] * s
    return dQ, dK, dV


def b_ok4(Q, K, V, dY):
    out = b_ok1(Q.astype(np.float32), K.astype(np.float32), V.astype(np.float32), dY.astype(np.float32))
    return tuple(o.astype(np.float32) for o in out)


def b_ok5(Q, K, V, dY):
    A = _A(Q, K, V)
    dA = np.matmul(dY, V.transpose(0, 2, 1))
    g = dA - np.sum(A * dA, axis=2, keepdims=True)
    dS = A * g / np.sqrt(K.shape[2])  # scale folded in early
    return [dS @ K, dS.transpose(0, 2, 1) @ Q, A.transpose(0, 2, 1) @ dY]


def b_ok6(Q, K, V, dY):
    Q /= np.sqrt(Q.shape[-1])  # in place: the scale moved onto Q
    S = Q @ sw(K)
    T = S.shape[-1]
    S[:, np.triu_indices(T, 1)[0], np.triu_indices(T, 1)[1]] = -1e30
    A = np.exp(S - S.max(-1, keepdims=True))
    A /= A.sum(-1, keepdims=True)
    dA = dY @ sw(V)
    dS = A * (dA - (dA * A).sum(-1, keepdims=True))
    s = np.sqrt(K.shape[-1])
    return dS @ K / s, sw(dS) @ Q, sw(A) @ dY


def _bp(Q, K, V, dY, vjp="right", dK_T=True, scale=1, dV_T=True, causal=True, sign=1):
    A = attention.attention_forward(Q, K, V, causal=causal)[1]["A"]
    dV = (sw(A) if dV_T else A) @ dY
    dA = dY @ sw(V)
    dS = {
        "right": A * (dA - (dA * A).sum(-1, keepdims=True)),
        "diag": A * dA,
        "axis": A * (dA - (dA * A).sum(-2, keepdims=True)),
        "none": dA,
        "noA": dA - (dA * A).sum(-1, keepdims=True),
    }[vjp] * sign
    s = Q.shape[-1] ** (-0.5 * scale)
    return dS @ K * s, (sw(dS) if dK_T else dS) @ Q * s, dV


def b_b_diag(Q, K, V, dY):
    return _bp(Q, K, V, dY, vjp="diag")


def b_b_axis(Q, K, V, dY):
    return _bp(Q, K, V, dY, vjp="axis")


def b_b_none(Q, K, V, dY):
    return _bp(Q, K, V, dY, vjp="none")


def b_b_dKT(Q, K, V, dY):
    return _bp(Q, K, V, dY, dK_T=False)


def b_b_noscale(Q, K, V, dY):
    return _bp(Q, K, V, dY, scale=0)


def b_b_dV(Q, K, V, dY):
    return _bp(Q, K, V, dY, dV_T=False)


def b_b_nocausal(Q, K, V, dY):
    return _bp(Q, K, V, dY, causal=False)


def b_b_twice(Q, K, V, dY):
    return _bp(Q, K, V, dY, scale=2)


def b_b_sign(Q, K, V, dY):
    return _bp(Q, K, V, dY, sign=-1)


def b_b_noA(Q, K, V, dY):
    return _bp(Q, K, V, dY, vjp="noA")


def b_b_3dT(Q, K, V, dY):
    A = _A(Q, K, V)
    dA = dY @ sw(V)
    dS = A * (dA - (dA * A).sum(-1, keepdims=True))
    s = np.sqrt(Q.shape[-1])
    return dS @ K / s, dS.T @ Q / s, sw(A) @ dY


def b_b_keepdims(Q, K, V, dY):
    A = _A(Q, K, V)
    dA = dY @ sw(V)
    dS = A * (dA - (dA * A).sum(-1))
    s = np.sqrt(Q.shape[-1])
    return dS @ K / s, sw(dS) @ Q / s, sw(A) @ dY


def b_b_order(Q, K, V, dY):
    dQ, dK, dV = b_ok1(Q, K, V, dY)
    return dK, dQ, dV


# ---------------------------------------------------------------- decoder ex3: cached step
def k_ok1(q, k, v, Kc, Vc):
    K = np.vstack([Kc, k])
    V = np.vstack([Vc, v])
    s = K @ q / np.sqrt(q.shape[0])
    w = np.exp(s - s.max())
    w /= w.sum()
    return w @ V


def k_ok2(q, k, v, Kc, Vc):
    K = np.concatenate([Kc, k[None, :]], axis=0)
    V = np.concatenate([Vc, v[None]], 0)
    s = np.einsum("td,d->t", K, q) / math.sqrt(len(q))
    w = np.exp(s) / np.exp(s).sum()
    return np.einsum("t,td->d", w, V)


def k_ok3(q, k, v, Kc, Vc):
    K = np.append(Kc, [k], axis=0).astype(np.float32)
    V = np.append(Vc, [v], axis=0).astype(np.float32)
    s = K @ q.astype(np.float32) / np.float32(np.sqrt(q.size))
    w = np.exp(s - s.max())
    w = w / w.sum()
    return w @ V


def k_ok4(q, k, v, Kc, Vc):
    d = len(q)
    keys = list(Kc) + [k]
    vals = list(Vc) + [v]
    sc = [float(np.dot(kk, q)) / d**0.5 for kk in keys]
    m = max(sc)
    ex = [math.exp(x - m) for x in sc]
    Z = sum(ex)
    return [sum(ex[j] / Z * vals[j][c] for j in range(len(vals))) for c in range(d)]


def k_ok5(q, k, v, Kc, Vc):
    K, V = np.vstack([Kc, k]), np.vstack([Vc, v])
    return _sm(K @ q / np.sqrt(len(q))) @ V, K, V  # also returns the grown caches


def k_ok6(q, k, v, Kc, Vc):
    s = np.concatenate([Kc @ q, [k @ q]]) / np.sqrt(q.shape[-1])
    w = _sm(s)
    return w[:-1] @ Vc + w[-1] * v


def k_ok7(q, k, v, Kc, Vc):
    K, V = np.vstack([Kc, k]), np.vstack([Vc, v])
    Y, _ = attention.attention_forward(q[None, None], K[None], V[None])
    return Y[0, 0]


def _w(s):
    e = np.exp(s - s.max())
    return e / e.sum()


def k_b_cacheonly(q, k, v, Kc, Vc):
    return _w(Kc @ q / np.sqrt(len(q))) @ Vc


def k_b_noscale(q, k, v, Kc, Vc):
    return _w(np.vstack([Kc, k]) @ q) @ np.vstack([Vc, v])


def k_b_dk(q, k, v, Kc, Vc):
    return _w(np.vstack([Kc, k]) @ q / len(q)) @ np.vstack([Vc, v])


def k_b_t(q, k, v, Kc, Vc):
    K = np.vstack([Kc, k])
    return _w(K @ q / np.sqrt(len(K))) @ np.vstack([Vc, v])


def k_b_8(q, k, v, Kc, Vc):
    return _w(np.vstack([Kc, k]) @ q / np.sqrt(8)) @ np.vstack([Vc, v])


def k_b_weights(q, k, v, Kc, Vc):
    return _w(np.vstack([Kc, k]) @ q / np.sqrt(len(q)))


def k_b_v(q, k, v, Kc, Vc):
    return v


def k_b_keys(q, k, v, Kc, Vc):
    K = np.vstack([Kc, k])
    return _w(K @ q / np.sqrt(len(q))) @ K


def k_b_nosoftmax(q, k, v, Kc, Vc):
    return (np.vstack([Kc, k]) @ q / np.sqrt(len(q))) @ np.vstack([Vc, v])


def k_b_uniform(q, k, v, Kc, Vc):
    return np.vstack([Vc, v]).mean(0)


def k_b_inplace(q, k, v, Kc, Vc):
    Kc[-1] = k
    Vc[-1] = v  # overwrote the last cached row
    return _w(Kc @ q / np.sqrt(len(q))) @ Vc


def k_b_order(q, k, v, Kc, Vc):
    return _w(np.vstack([k, Kc]) @ q / np.sqrt(len(q))) @ np.vstack([Vc, v])


def k_b_KVswap(q, k, v, Kc, Vc):
    K, V = np.vstack([Kc, k]), np.vstack([Vc, v])
    return _w(V @ q / np.sqrt(len(q))) @ K


def k_b_scaleafter(q, k, v, Kc, Vc):
    K, V = np.vstack([Kc, k]), np.vstack([Vc, v])
    return (_w(K @ q) / np.sqrt(len(q))) @ V


# ---------------------------------------------------------------- decoder ex4: cached generation
def g_ok1(params, prompt, n_new, config):
    caches = [{} for _ in range(config.n_layers)]
    logits = transformer.forward(params, prompt, config, caches=caches)[0, -1]
    steps = []
    for t in range(len(prompt), len(prompt) + n_new):
        steps.append(logits)
        if len(steps) < n_new:
            logits = transformer.forward(params, [int(logits.argmax())], config, start=t, caches=caches)[0, -1]
    return np.array(steps)


def g_ok2(params, prompt, n_new, config):  # prefill all but the last prompt token, then one token at a time
    caches = [{} for _ in range(config.n_layers)]
    tokens = list(prompt)
    if len(tokens) > 1:
        transformer.forward(params, np.array(tokens[:-1]), config, caches=caches)
    out = []
    pos = len(tokens) - 1
    tok = tokens[-1]
    for _ in range(n_new):
        logits = transformer.forward(params, np.array([tok]), config, start=pos, caches=caches)[0, -1]
        out.append(logits)
        tok = int(np.argmax(logits))
        pos += 1
    return out


def g_ok3(params, prompt, n_new, config):  # token by token prefill, (n_new, 1, V) output
    caches = [{} for _ in range(config.n_layers)]
    logits = None
    for i, tok in enumerate(prompt):
        logits = transformer.forward(params, np.array([[tok]]), config, start=i, caches=caches)[:, -1]
    out = []
    t = len(prompt)
    while len(out) < n_new:
        out.append(logits)
        if len(out) == n_new:
            break
        logits = transformer.forward(params, logits.argmax(-1)[:, None], config, start=t, caches=caches)[:, -1]
        t += 1
    return np.stack(out)


def g_ok4(params, prompt, n_new, config):  # 2-D prompt, list of (1, V) rows
    caches = [dict() for _ in range(config.n_layers)]
    x = np.asarray(prompt)[None, :]
    logits = transformer.forward(params, x, config, start=0, caches=caches)[:, -1, :]
    rows = [logits]
    for i in range(1, n_new):
        nxt = np.argmax(logits, axis=-1).reshape(1, 1)
        logits = transformer.forward(params, nxt, config, start=x.shape[1] + i - 1, caches=caches)[:, -1, :]
        rows.append(logits)
    return rows


def g_ok5(params, prompt, n_new, config):
    caches = [{} for _ in range(config.n_layers)]
    seq = [int(t) for t in prompt]
    logits = transformer.forward(params, seq, config, caches=caches)[0, -1]
    out = np.zeros((n_new, config.vocab_size), dtype=np.float32)
    for i in range(n_new):
        out[i] = logits
        seq.append(int(logits.argmax()))
        if i + 1 < n_new:
            logits = transformer.forward(params, seq[-1:], config, start=len(seq) - 1, caches=caches)[0, -1]
    return out


def _gen(
    params,
    prompt,
    n_new,
    config,
    pos=lambda t: t,
    fresh=False,
    prefill=True,
    same=False,
    late=False,
    probs=False,
    argmin=False,
    uncached=False,
    dup=False,
):
    caches = [{} for _ in range(config.n_layers)]
    logits = transformer.forward(params, prompt, config, caches=caches if prefill else None)[0, -1]
    seq = list(prompt)
    if dup:
        logits = transformer.forward(params, [seq[-1]], config, start=len(seq), caches=caches)[0, -1]
    out = []
    for i in range(n_new + late):
        out.append(_sm(logits) if probs else logits)
        nxt = int(prompt[-1]) if same else int(logits.argmin() if argmin else logits.argmax())
        seq.append(nxt)
        if i == n_new + late - 1:
            break
        if uncached:
            logits = transformer.forward(params, seq, config)[0, -1]
            continue
        if fresh:
            caches = [{} for _ in range(config.n_layers)]
        logits = transformer.forward(params, [nxt], config, start=pos(len(seq) - 1 + dup), caches=caches)[0, -1]
    return np.array(out[late:])


def g_b_pos0(*a):
    return _gen(*a, pos=lambda t: 0)


def g_b_pos1(*a):
    return _gen(*a, pos=lambda t: t + 1)


def g_b_fresh(*a):
    return _gen(*a, fresh=True)


def g_b_noprefill(*a):
    return _gen(*a, prefill=False)


def g_b_same(*a):
    return _gen(*a, same=True)


def g_b_late(*a):
    return _gen(*a, late=True)


def g_b_probs(*a):
    return _gen(*a, probs=True)


def g_b_argmin(*a):
    return _gen(*a, argmin=True)


def g_b_uncached(*a):
    return _gen(*a, uncached=True)


def g_b_tokens(params, prompt, n_new, config):  # returns the chosen tokens, not their logits
    caches = [{} for _ in range(config.n_layers)]
    logits = transformer.forward(params, prompt, config, caches=caches)[0, -1]
    chosen = []
    for t in range(len(prompt), len(prompt) + n_new):
        chosen.append(int(logits.argmax()))
        if len(chosen) < n_new:
            logits = transformer.forward(params, [chosen[-1]], config, start=t, caches=caches)[0, -1]
    return np.array(chosen)


def g_b_lib(params, prompt, n_new, config):
    return transformer.generate(params, prompt, n_new, config)[1][:, 0]


def g_b_dup(*a):
    return _gen(*a, dup=True)


# ---------------------------------------------------------------- decoder ex5: cross-entropy gradient
def e_ok1(z, y):
    N = z.shape[0]
    P = np.exp(z - z.max(axis=-1, keepdims=True))
    P /= P.sum(axis=-1, keepdims=True)
    P[np.arange(N), y] -= 1
    return P / N


def e_ok2(z, y):
    P = _sm(z)
    return (P - np.eye(z.shape[1])[y]) / len(y)


def e_ok3(z, y):
    z32 = z.astype(np.float32)
    P = np.exp(z32 - z32.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    P[np.arange(len(y)), y] -= np.float32(1)
    return P / np.float32(len(y))


def e_ok4(z, y):
    N, V = z.shape
    out = []
    for n in range(N):
        m = max(z[n])
        ex = [math.exp(x - m) for x in z[n]]
        s = sum(ex)
        out.append([(ex[j] / s - (1.0 if j == y[n] else 0.0)) / N for j in range(V)])
    return out


def e_ok5(z, y):
    z -= z.max(axis=1, keepdims=True)  # in place on its copy
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    g = np.exp(logp)
    np.put_along_axis(g, y[:, None], np.take_along_axis(g, y[:, None], 1) - 1, axis=1)
    return g / z.shape[0]


def e_ok6(z, y):
    onehot = np.zeros_like(z)
    onehot[np.arange(len(y)), y] = 1
    return (_sm(z) - onehot) * (1.0 / z.shape[0])


def _P(z, axis=-1, shift="max"):
    with np.errstate(all="ignore"):
        if shift == "max":
            z = z - z.max(axis=axis, keepdims=True)
        elif shift == "global":
            z = z - z.max()
        elif shift == "min":
            z = z - z.min(axis=axis, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=axis, keepdims=True)


def _oh(z, y):
    return np.eye(z.shape[1])[y]


def e_b_cols(z, y):
    P = _P(z)
    P[:, y] -= 1
    return P / len(y)


def e_b_colsnoN(z, y):
    P = _P(z)
    P[:, y] -= 1
    return P


def e_b_noN(z, y):
    return _P(z) - _oh(z, y)


def e_b_axis0(z, y):
    return (_P(z, axis=0) - _oh(z, y)) / len(y)


def e_b_notarget(z, y):
    return _P(z) / len(y)


def e_b_sign(z, y):
    return (_oh(z, y) - _P(z)) / len(y)


def e_b_log(z, y):
    return (np.log(_P(z)) - _oh(z, y)) / len(y)


def e_b_nomax(z, y):
    return (_P(z, shift="none") - _oh(z, y)) / len(y)


def e_b_global(z, y):
    return (_P(z, shift="global") - _oh(z, y)) / len(y)


def e_b_byV(z, y):
    return (_P(z) - _oh(z, y)) / z.shape[1]


def e_b_N2(z, y):
    return (_P(z) - _oh(z, y)) / len(y) ** 2


def e_b_min(z, y):
    return (_P(z, shift="min") - _oh(z, y)) / len(y)


# ---------------------------------------------------------------- the table
OK, BUG = "ok", "bug"
HELDOUT = {
    XA.ex2: [(OK, f) for f in (c_ok1, c_ok2, c_ok3, c_ok4, c_ok5, c_ok6, c_ok7, c_ok8, c_ok9)]
    + [
        (BUG, c_b_nooffset, "first keys"),
        (BUG, c_b_offby1, "diagonal"),
        (BUG, c_b_plus1, "one key too many"),
        (BUG, c_b_zero, "with 0"),
        (BUG, c_b_mulmask, "with 0"),
        (BUG, c_b_axis2, "axis -2"),
        (BUG, c_b_min, "minimum"),
        (BUG, c_b_mean, "mean"),
        (BUG, c_b_nomax, "maximum"),
        (BUG, c_b_global, "EACH ROW"),
        (BUG, c_b_after, "AFTER the softmax"),
        (BUG, c_b_triu, "flipped"),
        (BUG, c_b_first_rows, "first keys"),
        (BUG, c_b_nomask, "forgot the causal mask"),
        (BUG, c_b_axis0, "axis 0"),
        (BUG, c_b_sumall, "sum"),
        (BUG, c_b_negoffset, "hides every key"),
        (BUG, c_b_renorm_scaled, "scale"),
    ],
    XA.ex3: [(OK, f) for f in (h_ok1, h_ok2, h_ok3, h_ok4, h_ok5, h_ok6, h_ok7, h_ok8)]
    + [
        (BUG, h_b_direct, "straight to (B, h, T, d_k)"),
        (BUG, h_b_notrans, "(B, T, h, d_k)"),
        (BUG, h_b_interleave, "interleaved"),
        (BUG, h_b_two, "2 heads"),
        (BUG, h_b_perm, "(B, h, d_k, T)"),
        (BUG, h_b_transfirst, "transposed before reshaping"),
        (BUG, h_b_swapped, "swapped h and d_k"),
        (BUG, h_b_headfirst, "head axis first"),
        (BUG, h_b_float, "d // h"),
        (BUG, h_b_T, "transpose"),
    ],
    XA.ex4: [(OK, f) for f in (b_ok1, b_ok2, b_ok3, b_ok4, b_ok5, b_ok6)]
    + [
        (BUG, b_b_diag, "diagonal"),
        (BUG, b_b_axis, "wrong axis"),
        (BUG, b_b_none, "skipped the softmax"),
        (BUG, b_b_dKT, "dK needs dS transposed"),
        (BUG, b_b_noscale, "forgot the scale"),
        (BUG, b_b_dV, "dV needs A transposed"),
        (BUG, b_b_nocausal, "causal"),
        (BUG, b_b_twice, "divided dQ and dK by d_k"),
        (BUG, b_b_sign, "sign"),
        (BUG, b_b_noA, "leading factor A"),
        (BUG, b_b_3dT, "swapaxes"),
        (BUG, b_b_keepdims, "keepdims"),
        (BUG, b_b_order, "order"),
    ],
    XD.ex3: [(OK, f) for f in (k_ok1, k_ok2, k_ok3, k_ok4, k_ok5, k_ok6, k_ok7)]
    + [
        (BUG, k_b_cacheonly, "cache only"),
        (BUG, k_b_noscale, "forgot to divide"),
        (BUG, k_b_dk, "divided the scores by d_k"),
        (BUG, k_b_t, "sqrt(t)"),
        (BUG, k_b_8, "sqrt(8)"),
        (BUG, k_b_weights, "weights"),
        (BUG, k_b_v, "new value"),
        (BUG, k_b_keys, "KEYS"),
        (BUG, k_b_nosoftmax, "softmax"),
        (BUG, k_b_uniform, "uniformly"),
        (BUG, k_b_inplace, "in place"),
        (BUG, k_b_order, "first"),
        (BUG, k_b_KVswap, "values"),
        (BUG, k_b_scaleafter, "sqrt"),
    ],
    XD.ex4: [(OK, f) for f in (g_ok1, g_ok2, g_ok3, g_ok4, g_ok5)]
    + [
        (BUG, g_b_pos0, "position 0"),
        (BUG, g_b_pos1, "one too far"),
        (BUG, g_b_fresh, "new, empty cache"),
        (BUG, g_b_noprefill, "prefill"),
        (BUG, g_b_same, "same token"),
        (BUG, g_b_late, "late"),
        (BUG, g_b_probs, "probabilities"),
        (BUG, g_b_argmin, "argmax"),
        (BUG, g_b_uncached, "FLOPs"),
        (BUG, g_b_tokens, "token ids"),
        (BUG, g_b_lib, "course's own"),
        (BUG, g_b_dup, "again"),
    ],
    XT.loss_grad: [(OK, f) for f in (e_ok1, e_ok2, e_ok3, e_ok4, e_ok5, e_ok6)]
    + [
        (BUG, e_b_cols, "COLUMNS"),
        (BUG, e_b_colsnoN, "divide by N as well"),
        (BUG, e_b_noN, "SUM"),
        (BUG, e_b_axis0, "axis 0"),
        (BUG, e_b_notarget, "target"),
        (BUG, e_b_sign, "sign"),
        (BUG, e_b_log, "log"),
        (BUG, e_b_nomax, "ROW"),
        (BUG, e_b_global, "ROW"),
        (BUG, e_b_byV, "V"),
        (BUG, e_b_N2, "N"),
        (BUG, e_b_min, "ROW"),
    ],
}

# ---------------------------------------------------------------- second round: edge cases
def c_ok_mask1e4(S):  # a finite mask value far below any real score is fine
    return _soft(np.where(_m(S), S, -1e4))


def c_b_max_before_mask(S):  # the unmasked row max: exact in arithmetic, NaN once the max sits on a future key
    S = S - S.max(-1, keepdims=True)
    S = np.where(_m(S), S, -np.inf)
    e = np.exp(S)
    return e / e.sum(-1, keepdims=True)


def h_ok_nested_lists(X, h):
    return [[list(t) for t in head] for head in h_ok1(X, h)]


def c_b_mask100(S):  # a finite mask value above the real scores of -1000
    return _soft(np.where(_m(S), S, -100.0))


def b_b_forward_unscaled(Q, K, V, dY):
    T = Q.shape[1]
    A = _sm(np.where(np.tril(np.ones((T, T), dtype=bool)), Q @ sw(K), -np.inf))  # forgot / sqrt(d_k) here
    dA = dY @ sw(V)
    dS = A * (dA - (dA * A).sum(-1, keepdims=True))
    s = np.sqrt(Q.shape[-1])
    return dS @ K / s, sw(dS) @ Q / s, sw(A) @ dY


def e_b_rows(z, y):
    P = _P(z)
    P[y] -= 1
    return P / len(y)


def e_b_assign(z, y):
    P = _P(z)
    P[np.arange(len(y)), y] = -1
    return P / len(y)




HELDOUT[XA.ex2] += [(OK, c_ok_mask1e4), (BUG, c_b_max_before_mask, "ALL keys"), (BUG, c_b_mask100, "-100")]
HELDOUT[XA.ex3] += [(OK, h_ok_nested_lists)]
HELDOUT[XA.ex4] += [(BUG, b_b_forward_unscaled, "lack the 1/sqrt(d_k)")]
HELDOUT[XT.loss_grad] += [(BUG, e_b_rows, "axis 1"), (BUG, e_b_assign, "SET the target")]


# ---------------------------------------------------------------- third round
def k_ok_q_inplace(q, k, v, Kc, Vc):  # the text forbids editing the caches, not q
    q /= np.sqrt(q.shape[0])
    return _sm(np.vstack([Kc, k]) @ q) @ np.vstack([Vc, v])


def k_ok_scores_inplace(q, k, v, Kc, Vc):
    s = np.vstack([Kc, k]) @ q / np.sqrt(len(q))
    s -= s.max()
    np.exp(s, out=s)
    s /= s.sum()
    return s @ np.vstack([Vc, v])


def g_ok_one_step_more(params, prompt, n_new, config):  # also runs the step after the last token
    caches = [{} for _ in range(config.n_layers)]
    logits = transformer.forward(params, prompt, config, caches=caches)[0, -1]
    out = []
    for t in range(len(prompt), len(prompt) + n_new):
        out.append(logits)
        logits = transformer.forward(params, [int(logits.argmax())], config, start=t, caches=caches)[0, -1]
    return np.array(out)


def b_ok_scribbles_after(Q, K, V, dY):
    out = b_ok1(Q, K, V, dY)
    Q *= 0  # edits its own copy after use
    return out


def e_ok_logsumexp(z, y):
    m = z.max(1, keepdims=True)
    g = np.exp(z - (np.log(np.sum(np.exp(z - m), 1, keepdims=True)) + m))
    g[range(len(y)), y] -= 1
    return g / len(y)


def h_ok_einsum(X, h):
    B, T, d = X.shape
    return np.einsum("bthk->bhtk", X.reshape(B, T, h, d // h))




def c_b_nan_to_num(S):  # no max subtracted, NaN hidden
    e = np.exp(np.where(_m(S), S, -np.inf))
    return np.nan_to_num(e / e.sum(-1, keepdims=True))


def c_b_no_keepdims(S):
    S = np.where(_m(S), S, -np.inf)
    e = np.exp(S - S.max(-1)[..., None])
    return e / e.sum(-1)


HELDOUT[XD.ex3] += [(OK, k_ok_q_inplace), (OK, k_ok_scores_inplace)]
HELDOUT[XD.ex4] += [(OK, g_ok_one_step_more)]
HELDOUT[XA.ex4] += [(OK, b_ok_scribbles_after)]
HELDOUT[XT.loss_grad] += [(OK, e_ok_logsumexp)]
HELDOUT[XA.ex3] += [(OK, h_ok_einsum)]
HELDOUT[XA.ex2] += [(BUG, c_b_nan_to_num, "EACH ROW"), (BUG, c_b_no_keepdims, "keepdims")]


# ---------------------------------------------------------------- fourth round
def g_b_constant_position(params, prompt, n_new, config):
    return _gen(params, prompt, n_new, config, pos=lambda t: len(prompt))


def g_b_whole_sequence_again(params, prompt, n_new, config):
    caches = [{} for _ in range(config.n_layers)]
    seq, out = list(prompt), []
    logits = transformer.forward(params, seq, config, caches=caches)[0, -1]
    for i in range(n_new):
        out.append(logits)
        seq.append(int(logits.argmax()))
        if i < n_new - 1:
            logits = transformer.forward(params, seq, config, start=0, caches=caches)[0, -1]
    return np.array(out)


def b_b_unweighted_sum(Q, K, V, dY):
    A = _A(Q, K, V)
    dA = dY @ sw(V)
    dS = A * (dA - dA.sum(-1, keepdims=True))
    s = np.sqrt(Q.shape[-1])
    return dS @ K / s, sw(dS) @ Q / s, sw(A) @ dY


def e_b_target_minus_one(z, y):
    P = _P(z)
    P[np.arange(len(y)), y - 1] -= 1
    return P / len(y)


HELDOUT[XD.ex4] += [(BUG, g_b_constant_position, "same position"), (BUG, g_b_whole_sequence_again, "whole sequence")]
HELDOUT[XA.ex4] += [(BUG, b_b_unweighted_sum, "weighted by A")]
HELDOUT[XT.loss_grad] += [(BUG, e_b_target_minus_one, "0-based")]


def test_a_count_that_is_not_whole_shows_its_digits():
    assert "133.0000001" in XD.largest_batch.check(133.0000001).message


# a message that only reports a failure (the generic verdicts), unless the checker added advice to it
GENERIC = (
    "has the right shape",
    "which is not right",
    "but it should be",
    "contains NaN or inf",
    "but the expected shape is",
    "is a single number",
)


def _id(answer):
    return getattr(answer, "__name__", repr(answer))


_CORRECT = [
    pytest.param(ex, a, id=f"{ex.label}-{_id(a)}")
    for ex, rows in HELDOUT.items()
    for k, a, *_ in rows
    if k == OK
]
_BUGGY = [
    pytest.param(ex, a, p, id=f"{ex.label}-{_id(a)}")
    for ex, rows in HELDOUT.items()
    for k, a, *p in rows
    if k == BUG
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("exercise", "answer"), _CORRECT)
def test_correct_answer_is_accepted(exercise, answer):
    result = exercise.check(answer)
    assert result.ok, result.message


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("exercise", "answer", "phrase"), _BUGGY)
def test_buggy_answer_is_rejected_and_named(exercise, answer, phrase):
    phrase = phrase[0]
    with np.errstate(all="ignore"):
        result = exercise.check(answer)
    assert result.status == "incorrect", result
    assert not any(g in result.message for g in GENERIC), result.message
    assert phrase.lower() in result.message.lower(), result.message


def test_every_exercise_has_enough_heldout_answers():
    for exercise, rows in HELDOUT.items():
        assert sum(r[0] == OK for r in rows) >= 5, exercise.label
        assert sum(r[0] == BUG for r in rows) >= 8, exercise.label
