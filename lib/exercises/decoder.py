"""Exercises for the chapter `decoder-kv-cache`: the KV-cache formula, a worked size, a cached step."""

from __future__ import annotations

import numpy as np

from lib import attention, decoder
from lib.exercises import Exercise, Wrong, call, compare, to_number

# (n_layers, n_heads, head_dim, seq_len, batch, bytes_per_element)
_KV_CASES = [
    (3, 5, 6, 11, 7, 4),  # every factor different (and not 2 or 8), so each classic slip is recognisable
    (32, 32, 128, 4096, 1, 2),  # Llama-2-7B, fp16, 4096 tokens: 2 GiB
    (1, 4, 4, 16, 1, 4),  # the tiny decoder, fp32
    (40, 40, 128, 2048, 3, 2),  # Llama-2-13B, batch 3
    (2, 3, 5, 7, 11, 1),  # all different, int8
]


def _check_kv_bytes(fn) -> str:
    for L, h, d_k, T, B, nb in _KV_CASES:
        want = decoder.kv_cache_bytes(L, h, d_k, T, B, nb)
        got = call(fn, L, h, d_k, T, B, nb, name="your kv_cache_bytes")
        if isinstance(got, bool) or not isinstance(got, (int, float, np.number)):
            raise Wrong(f"kv_cache_bytes should return a number of bytes, got {type(got).__name__}.")
        compare(got, want, name=f"kv_cache_bytes{(L, h, d_k, T, B, nb)}", bugs={
            "you forgot the factor 2: the cache stores keys AND values.": want / 2,
            "that is bits, not bytes: you multiplied by 8 (or by the bits per element).": want * 8,
            "you forgot the number of layers: every layer keeps its own K and V.": want // L,
            "you forgot the batch size: every sequence in the batch has its own cache.": want // B,
            "you forgot the bytes per element (you counted elements, not bytes).": want // nb,
            "you forgot the number of heads: each head has its own keys and values.": want // h,
        })
    return "Llama-2-7B at 4096 tokens in fp16 needs 2 GiB of KV cache per sequence, 0.5 MiB per token."


ex1 = Exercise(
    "decoder-kv-cache-ex1",
    _check_kv_bytes,
    ["Count the numbers stored: for each layer, each head, each position and each sequence, one key vector "
     "and one value vector of length head_dim.",
     "2 * n_layers * n_heads * head_dim * seq_len * batch * bytes_per_element"],
    "def kv_cache_bytes(n_layers, n_heads, head_dim, seq_len, batch, bytes_per_element):\n"
    "    return 2 * n_layers * n_heads * head_dim * seq_len * batch * bytes_per_element",
)

_MIB = 2**20
_13B_PER_TOKEN = decoder.kv_cache_bytes(40, 40, 128, 1, 1, 2) / _MIB  # 0.78125 MiB


def _check_13b(answer) -> str:
    answer = to_number(answer, what="a number of MiB")
    compare(answer, _13B_PER_TOKEN, name="MiB per token", rtol=1e-3, bugs={
        "you forgot the factor 2 for keys and values.": _13B_PER_TOKEN / 2,
        "that is in bits (or used 16 bits per element as if they were bytes): divide by 8.": _13B_PER_TOKEN * 8,
        "you forgot the 40 layers.": _13B_PER_TOKEN / 40,
        "that is in MB (10^6 bytes), not MiB (2^20 bytes).": _13B_PER_TOKEN * _MIB / 1e6,
        "you used 4 bytes per element (fp32); the model runs in fp16, 2 bytes.": _13B_PER_TOKEN * 2,
    })
    return f"2 x 40 x 40 x 128 x 2 B = 819,200 B = {_13B_PER_TOKEN} MiB per token, so 3.125 GiB at 4096 tokens."


ex2 = Exercise(
    "decoder-kv-cache-ex2",
    _check_13b,
    ["Use the formula with seq_len = 1 and batch = 1, then divide by 2**20.",
     "2 * 40 * 40 * 128 * 2 / 2**20"],
    "answer = 2 * 40 * 40 * 128 * 2 / 2**20  # 0.78125 MiB",
)

_rng = np.random.default_rng(5)
_T_PAST, _D_K = 4, 8
_STEP = {
    "q": _rng.normal(size=_D_K), "k": _rng.normal(size=_D_K), "v": _rng.normal(size=_D_K),  # (d_k,) each
    "K_cache": _rng.normal(size=(_T_PAST, _D_K)), "V_cache": _rng.normal(size=(_T_PAST, _D_K)),  # (t-1, d_k)
}


def _step_reference(q, k, v, K_cache, V_cache, *, scale=True, include_new=True, axis=-1) -> np.ndarray:
    K = np.vstack([K_cache, k]) if include_new else K_cache  # (t, d_k)
    V = np.vstack([V_cache, v]) if include_new else V_cache
    s = K @ q / (np.sqrt(q.shape[0]) if scale else 1.0)  # (t, d_k) @ (d_k,) -> (t,)
    return attention.softmax(s) @ V  # (t,) @ (t, d_k) -> (d_k,)


def _check_cached_step(fn) -> str:
    args = [_STEP[n] for n in ("q", "k", "v", "K_cache", "V_cache")]
    got = call(fn, *args, name="your cached_step", forbid_inplace=True)
    if isinstance(got, tuple):
        got = got[0]  # accept (out, K, V)
    # independent reference: full causal attention over the whole sequence, last row
    K_all, V_all = np.vstack([_STEP["K_cache"], _STEP["k"]]), np.vstack([_STEP["V_cache"], _STEP["v"]])
    Q_all = np.vstack([np.zeros((_T_PAST, _D_K)), _STEP["q"]])  # only the last query matters
    Y, _ = attention.attention_forward(Q_all[None], K_all[None], V_all[None], causal=True)
    want = Y[0, -1]  # (d_k,)
    compare(got, want, name="cached_step output", bugs={
        "you attended over the cache only: append the new k and v first, so the token can see itself.":
            _step_reference(*args, include_new=False),
        "you forgot to divide the scores by sqrt(d_k).": _step_reference(*args, scale=False),
        "you returned the attention weights, not the weighted sum of values.":
            lambda: attention.softmax(K_all @ _STEP["q"] / np.sqrt(_D_K)),
        "you returned the new value v itself; the output mixes ALL values with the softmax weights.": _STEP["v"],
    })
    return "one query against t cached keys: 2 x t x d_k FLOPs for the scores instead of recomputing all t rows."


ex3 = Exercise(
    "decoder-kv-cache-ex3",
    _check_cached_step,
    ["Stack the new key under the cached keys (np.vstack) and the same for values; the new query attends "
     "over all t rows. No mask is needed: everything in the cache is in the past.",
     "K = np.vstack([K_cache, k]); V = np.vstack([V_cache, v]); s = K @ q / np.sqrt(len(q)); "
     "w = softmax(s); return w @ V"],
    "def cached_step(q, k, v, K_cache, V_cache):\n    K = np.vstack([K_cache, k])  # (t, d_k)\n"
    "    V = np.vstack([V_cache, v])  # (t, d_k)\n    s = K @ q / np.sqrt(q.shape[0])  # (t,)\n"
    "    w = np.exp(s - s.max())\n    w /= w.sum()\n    return w @ V  # (d_k,)",
)
