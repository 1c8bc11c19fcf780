"""Exercises for the chapter `decoder-kv-cache`.

`flops_ratio` (a prediction: uncached over cached FLOPs of one step); `largest_batch` (a new case: the
largest batch of Mistral-7B whose weights and caches fit on an 80 GiB card); `kv_bug` (find the bug: a
KV-cache calculator that takes the head width as d / h_kv); ex3 one cached attention step; ex4 greedy
generation with a KV cache, which must give the logits of generation without one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from lib import attention, data, sizing, transformer
from lib.exercises import (
    Case,
    Exercise,
    Wrong,
    call,
    cases,
    check_function,
    compare,
    compare_count,
    refuse_lib,
    short,
    to_number,
)

# ---------------------------------------------------------------- largest_batch: capacity before bandwidth (new case)
_GiB = 2.0**30
_CARD = 80 * 2**30  #: bytes on the "80 GB" card of the exercise: 80 GiB
_MISTRAL = sizing.preset("mistral-7b")  # 32 layers, 32 query heads and 8 KV heads of 128, 7,241,732,096 weights
_M_WEIGHTS = 2 * sizing.n_params(_MISTRAL)  # fp16 bytes
_M_KV_SEQ = sizing.kv_bytes(32, 8, 128, T=4096, B=1, bytes_per_element=2)  # one 4,096-token sequence: 0.5 GiB
_BATCH = (_CARD - _M_WEIGHTS) // _M_KV_SEQ  # 133


def _check_largest_batch(answer: object) -> str:
    free = _CARD - _M_WEIGHTS
    compare_count(answer, _BATCH, what="a number of sequences", bugs={
        "you cached all 32 heads: Mistral-7B has grouped-query attention, and only its 8 key/value heads are "
        "cached (a quarter of the cache of full multi-head attention).": free // (4 * _M_KV_SEQ),
        "you took 80 GB as 80e9 bytes: an \"80 GB\" card holds 80 GiB = 80 x 2**30 bytes.":
            int((80e9 - _M_WEIGHTS) // _M_KV_SEQ),
        "you forgot the weights: they sit on the same card, 2 bytes for each of the 7.24 billion.":
            _CARD // _M_KV_SEQ,
        "you counted the weights at 4 bytes (fp32); the model is served in fp16, 2 bytes per weight.":
            (_CARD - 2 * _M_WEIGHTS) // _M_KV_SEQ,
        "you forgot the factor 2 of the cache: it stores keys AND values.": free // (_M_KV_SEQ // 2),
        "you rounded up: a fraction of a sequence does not fit, so round down.": -(-free // _M_KV_SEQ),
        "you stored the cache in fp32; it is fp16 like the weights, 2 bytes per number.": free // (2 * _M_KV_SEQ),
    })
    return (f"(80 GiB - {_M_WEIGHTS / _GiB:.2f} GiB of weights) / {_M_KV_SEQ / _GiB:g} GiB per sequence = "
            f"{free / _M_KV_SEQ:.2f}, so {_BATCH} sequences, before any activations: capacity limits the batch "
            "before bandwidth does. Without grouped-query attention it would be 33.")


largest_batch = Exercise(
    "decoder-kv-cache-largest-batch",
    _check_largest_batch,
    ["What has to fit on the card besides the caches, and how much cache does ONE sequence bring?",
     "Mistral-7B's config: 32 layers, 32 query heads and 8 KV heads of width 128, 7,241,732,096 weights. "
     "Subtract the fp16 weights from 80 * 2**30 bytes, then divide by the fp16 cache of one 4,096-token "
     "sequence."],
    "weights = 2 * 7_241_732_096                  # fp16 bytes\n"
    "per_sequence = 2 * 32 * 8 * 128 * 4096 * 2   # K and V, layers, KV heads, head width, tokens, fp16\n"
    "answer = (80 * 2**30 - weights) // per_sequence  # 133",
    why="Every sequence in the batch keeps its own cache on the card, next to one copy of the weights; the batch "
        "stops growing when they no longer fit, whatever the bandwidth.",
)


# ---------------------------------------------------------------- flops_ratio: predict uncached / cached FLOPs
_RATIO_T = 16  #: the step whose FLOPs the prediction compares


def _check_flops_ratio(answer: object) -> str:
    want = transformer.step_flops(transformer.MICROGPT, _RATIO_T, cached=False) / transformer.step_flops(
        transformer.MICROGPT, _RATIO_T, cached=True)
    compare(to_number(answer, "your prediction"), want, name="your prediction", rtol=1e-3, bugs={
        "that is t^2: only attention grows like t^2 without the cache, and with the cache it grows like t, so "
        "its ratio is t too; the projections, the MLP and the LM head run on t rows instead of one.":
            float(_RATIO_T**2),
        "the cache saves FLOPs: without it the step reruns the whole model on all t tokens.": 1.0,
        "one less than t: the uncached step processes all t tokens, the new one included.": float(_RATIO_T - 1),
    })
    return (f"exactly t = {_RATIO_T}: every term of the uncached step is t times its cached counterpart (t rows "
            "through the projections, the MLP and the LM head; t^2 d against t d in attention).")


flops_ratio = Exercise(
    "decoder-kv-cache-flops-ratio",
    _check_flops_ratio,
    ["Go through the table row by row: what is the ratio of the two columns in each row?",
     "For the attention row the ratio is (2 . 2 t^2 d) / (2 . 2 t d); for the projection row (4 . 2 t d^2) / "
     "(4 . 2 d^2). Put t = 16."],
    "answer = 16  # every row of the table is t times bigger without the cache",
    why="Without the cache, the step is the cached step done for t rows instead of one, attention included (t "
        "queries against t keys instead of one against t).",
)


# ---------------------------------------------------------------- kv_bug: find the bug in a KV-cache calculator
def _kv_reference(n_layers, d, n_heads, n_kv_heads, T, B, bytes_per_element=2):
    return 2 * n_layers * n_kv_heads * (d // n_heads) * T * B * bytes_per_element  # head width d / h, h_kv heads


_KV_CASES = [
    Case("a multi-query model (12 heads, 1 KV head), 100 tokens, batch 3, fp32", lambda: (6, 768, 12, 1, 100, 3, 4)),
    Case("Llama-2-70B (64 query heads, 8 KV heads), 4,096 tokens, batch 1, fp16", lambda: (80, 8192, 64, 8, 4096, 1, 2)),
    Case("Llama-2-7B (32 heads, no GQA), 4,096 tokens, batch 2, fp16", lambda: (32, 4096, 32, 32, 4096, 2, 2)),
    Case("Mistral-7B (32 query heads, 8 KV heads), 1,000 tokens, batch 4, fp16", lambda: (32, 4096, 32, 8, 1000, 4, 2)),
    Case("4 layers, 6 query heads sharing 2 KV heads of width 10, 7 tokens, batch 5, 1 byte",
         lambda: (4, 60, 6, 2, 7, 5, 1)),
]

_KV_BUGS: dict[str, Callable[..., int]] = {
    "that still caches every head: head_dim = d // n_kv_heads times n_kv_heads heads is d, the cache of all "
    "n_heads heads. A head's width is d // n_heads, for the key/value heads too; GQA only has fewer of them.":
        lambda L, d, h, kv, T, B, nb=2: 2 * L * d * T * B * nb,
    "you dropped the factor 2: the cache holds keys AND values.":
        lambda L, d, h, kv, T, B, nb=2: L * kv * (d // h) * T * B * nb,
    "you count numbers, not bytes: multiply by bytes_per_element.":
        lambda L, d, h, kv, T, B, nb=2: 2 * L * kv * (d // h) * T * B,
    "you returned GiB; the function returns bytes.":
        lambda L, d, h, kv, T, B, nb=2: 2 * L * kv * (d // h) * T * B * nb / 2**30,
    "you divided by the group size n_heads // n_kv_heads as well as using n_kv_heads: GQA shrinks the cache "
    "once, by h / h_kv.": lambda L, d, h, kv, T, B, nb=2: 2 * L * kv * (d // h) * T * B * nb // (h // kv),
}


def _check_kv_bug(fn: object) -> str:
    refuse_lib(fn, {"lib.sizing.kv_bytes": sizing.kv_bytes, "lib.sizing.kv_cache_bytes": sizing.kv_cache_bytes},
               how="(the bug is the point here)")
    check_function(fn, _kv_reference, _KV_CASES, name="your kv_cache_bytes", bugs=_KV_BUGS)
    return ("head_dim = d // n_heads: the key/value heads are as wide as the query heads, there are only fewer of "
            "them. Llama-2-70B at 4,096 tokens: 1.25 GiB per sequence, not 10.")


kv_bug = Exercise(
    "decoder-kv-cache-kv-bug",
    _check_kv_bug,
    ["The function is right for Llama-2-7B and 8 times too big for Llama-2-70B. What differs between the two "
     "models, and which line uses it?",
     "Write the width of one head of Llama-2-70B (d = 8192, 64 query heads) and compare it with the function's "
     "head_dim."],
    "def kv_cache_bytes(n_layers, d, n_heads, n_kv_heads, T, B, bytes_per_element=2):\n"
    "    head_dim = d // n_heads  # the width of one head, query or key/value\n"
    "    return 2 * n_layers * n_kv_heads * head_dim * T * B * bytes_per_element",
    why="In grouped-query attention each key/value head keeps the width d_h = d / h of a query head; only their "
        "number drops from h to h_kv, so the cache shrinks by h / h_kv.",
)


# ---------------------------------------------------------------- ex3: one cached attention step
def _make_step(t_past: int, d_k: int, rng: np.random.Generator) -> tuple:
    q, k, v = rng.normal(size=d_k), rng.normal(size=d_k), rng.normal(size=d_k)  # (d_k,) each
    return q, k, v, rng.normal(size=(t_past, d_k)), rng.normal(size=(t_past, d_k))  # caches (t - 1, d_k)


_STEP_CASES = cases(_make_step, dict(t_past=4, d_k=8), dict(t_past=1, d_k=3), dict(t_past=7, d_k=5), seed=5)


def _step_reference(q, k, v, K_cache, V_cache) -> np.ndarray:
    """Independently: full causal attention over the whole sequence, last row."""
    K_all, V_all = np.vstack([K_cache, k]), np.vstack([V_cache, v])  # (t, d_k)
    Q_all = np.vstack([np.zeros_like(K_cache), q])  # only the last query matters
    Y, _ = attention.attention_forward(Q_all[None], K_all[None], V_all[None], causal=True)
    return Y[0, -1]  # (d_k,)


def _weights(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max())
    return e / e.sum()


def _step_bugs(q, k, v, K_cache, V_cache) -> dict[str, Callable[[], np.ndarray]]:
    K, V = np.vstack([K_cache, k]), np.vstack([V_cache, v])  # (t, d_k)
    d_k, t = q.shape[0], K.shape[0]
    s = K @ q / np.sqrt(d_k)  # (t,)
    return {
        "you attended over the cache only: append the new k and v first, so the token can see itself.":
            lambda: _weights(K_cache @ q / np.sqrt(d_k)) @ V_cache,
        "you forgot to divide the scores by sqrt(d_k).": lambda: _weights(K @ q) @ V,
        "you divided the scores by d_k; the scale is 1 / sqrt(d_k).": lambda: _weights(K @ q / d_k) @ V,
        "you divided by sqrt(t), the number of keys; the scale is sqrt(d_k), the length of q.":
            lambda: _weights(K @ q / np.sqrt(t)) @ V,
        "you divided by a fixed sqrt(8) whatever d_k is; take d_k from q: np.sqrt(len(q)).":
            lambda: _weights(K @ q / np.sqrt(8)) @ V,
        "you returned the attention weights, not the weighted sum of the values.": lambda: _weights(s),
        "you returned the new value v itself; the output mixes ALL values with the softmax weights.": lambda: v,
        "you mixed the KEYS with the weights; the output is weights @ V, the values.": lambda: _weights(s) @ K,
        "you skipped the softmax: the raw scores are not weights (they are not positive and do not sum to 1).":
            lambda: s @ V,
        "you normalised the scores by their sum without exponentiating: the weights are softmax(s) = "
        "exp(s) / sum(exp(s)).": lambda: (s / s.sum()) @ V,
        "you averaged the values uniformly: weigh each value by softmax(K @ q / sqrt(d_k)).": lambda: V.mean(axis=0),
        "the new key sits first but the new value last (or the other way round): append both at the end, so row "
        "j of K and row j of V belong to the same token.":
            lambda: _weights(np.vstack([k, K_cache]) @ q / np.sqrt(d_k)) @ V,
        "you swapped keys and values: the scores come from the keys, K @ q, and the output mixes the values, "
        "weights @ V.": lambda: _weights(V @ q / np.sqrt(d_k)) @ K,
        "you divided the weights by sqrt(d_k) after the softmax; divide the scores before it, so the weights "
        "still sum to 1.": lambda: _weights(K @ q) / np.sqrt(d_k) @ V,
    }


def _first_if_tuple(fn: object) -> Callable[..., object]:
    """Accept a cached_step that also returns the grown caches, (out, K, V)."""
    def wrapped(*args):
        out = fn(*args)
        return out[0] if isinstance(out, tuple) else out
    return wrapped


def _check_cached_step(fn: object) -> str:
    if not callable(fn):
        call(fn)
    for case in _STEP_CASES:
        args = case.make()
        try:
            mine = tuple(np.array(a, copy=True) for a in args)  # the text forbids editing the caches, not q, k, v
            got = call(_first_if_tuple(fn), *mine, name="your cached_step", copy_args=False)
            edited = [n for n, a, b in zip(("K_cache", "V_cache"), args[3:], mine[3:], strict=True)
                      if a.shape != b.shape or not np.array_equal(a, b)]
            if edited:
                raise Wrong(f"your cached_step changed {' and '.join(edited)} in place, which this exercise forbids: "
                            "build new arrays, e.g. K = np.vstack([K_cache, k]).")
            compare(got, _step_reference(*args), name="your output", bugs=_step_bugs(*args))
        except Wrong as wrong:
            raise Wrong(short(f"with {case.label}: {wrong}")) from None
    return "one query against t cached keys: 2 x t x d_k FLOPs for the scores instead of recomputing all t rows."


ex3 = Exercise(
    "decoder-kv-cache-cached-step",
    _check_cached_step,
    ["The new token must see every earlier token AND itself. What must happen to the caches before the new "
     "query looks at them? Why is no mask needed?",
     "Stack k under K_cache and v under V_cache (np.vstack builds new arrays); then the scores are one "
     "matrix-vector product of shape (t,)."],
    "def cached_step(q, k, v, K_cache, V_cache):\n    K = np.vstack([K_cache, k])  # (t, d_k)\n"
    "    V = np.vstack([V_cache, v])  # (t, d_k)\n    s = K @ q / np.sqrt(q.shape[0])  # (t,)\n"
    "    w = np.exp(s - s.max())\n    w /= w.sum()\n    return w @ V  # (d_k,)",
    why="The last row of full causal attention only involves the last query and all t keys and values, which "
        "is exactly what the cache holds once the new k and v are appended.",
    formerly="decoder-kv-cache-ex3",
)


# ---------------------------------------------------------------- ex4: cached greedy generation
def _setup(config: transformer.Config, text: str, n_new: int, seed: int) -> Callable[[], tuple]:
    return lambda: (transformer.init_params(config, seed=seed), data.encode(text), n_new, config)


_GEN_CASES = [
    Case("the tiny decoder (1 layer), prompt '.em', 5 new tokens", _setup(transformer.MICROGPT, ".em", 5, 0)),
    Case("2 layers of width 8 with 2 heads, prompt '.', 6 new tokens",
         _setup(replace(transformer.MICROGPT, d=8, n_heads=2, d_ff=12, n_layers=2, block_size=12), ".", 6, 1)),
    Case("3 layers of width 12 with 3 heads, prompt '.abc', 4 new tokens",
         _setup(replace(transformer.MICROGPT, d=12, n_heads=3, d_ff=20, n_layers=3, block_size=12), ".abc", 4, 2)),
]


def _probs(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _greedy(params, prompt, n_new, config, *, position=lambda t: t, fresh_each_step=False, fill_prefill=True,
            same_token=False, late=False, probs=False, pick=np.argmax, again=False, whole=False,
            shared=False) -> np.ndarray:
    """Greedy decoding with a cache, with optional learner mistakes; -> (n_new, V) step logits."""
    caches = [{}] * config.n_layers if shared else [{} for _ in range(config.n_layers)]
    logits = transformer.forward(params, prompt, config, caches=caches if fill_prefill else None)[0, -1]
    t, out, seq = len(prompt), [], [int(i) for i in prompt]
    if again:  # the last prompt token fed a second time after the prefill
        logits = transformer.forward(params, [int(prompt[-1])], config, start=position(t), caches=caches)[0, -1]
        t += 1
    for _ in range(n_new + late):
        out.append(_probs(logits) if probs else logits)
        nxt = int(prompt[-1]) if same_token else int(pick(logits))
        seq.append(nxt)
        if whole:  # the whole sequence fed again, on top of the caches
            logits = transformer.forward(params, seq, config, caches=caches)[0, -1]
            continue
        if fresh_each_step:
            caches = [{} for _ in range(config.n_layers)]
        logits = transformer.forward(params, [nxt], config, start=position(t), caches=caches)[0, -1]
        t += 1
    return np.array(out[late:])


def _gen_bugs(params, prompt, n_new, config) -> dict[str, Callable[[], np.ndarray]]:
    args = (params, prompt, n_new, config)
    return {
        "every new token gets position 0: pass start = the number of tokens already in the cache, so that it "
        "gets its own position embedding.": lambda: _greedy(*args, position=lambda t: 0),
        "your positions are one too far: the new token at index t (0-based) needs start=t, the number of "
        "tokens already cached.": lambda: _greedy(*args, position=lambda t: t + 1),
        "you start a new, empty cache at every step, so each new token sees only itself: create the caches "
        "once, before the prefill.": lambda: _greedy(*args, fresh_each_step=True),
        "the prefill did not fill the cache: pass caches= to the forward pass over the prompt as well, or the "
        "new tokens never see it.": lambda: _greedy(*args, fill_prefill=False),
        "you fed the same token at every step: feed the token you just chose (the argmax of the last logits).":
            lambda: _greedy(*args, same_token=True),
        "your logits are one step late: the first row is the prefill's last position, the logits that choose "
        "the first new token.": lambda: _greedy(*args, late=True),
        "you returned probabilities (a softmax of the logits); return the logits themselves.":
            lambda: _greedy(*args, probs=True),
        "every new token gets the same position len(prompt): start must grow by one at every step, to the "
        "number of tokens already cached.": lambda: _greedy(*args, position=lambda t: len(prompt)),
        "you fed the whole sequence again although the caches already hold it: with caches, pass only the new "
        "token, at start = the number of tokens cached.": lambda: _greedy(*args, whole=True),
        "you chose the smallest logit: greedy decoding feeds the argmax, the most likely token.":
            lambda: _greedy(*args, pick=np.argmin),
        "all your layers share ONE cache dict ([{}] * n_layers repeats the same dict): layer 2 then appends its keys "
        "to layer 1's. Make one dict per layer, [{} for _ in range(config.n_layers)].":
            lambda: _greedy(*args, shared=True),
        "you fed the last prompt token again after the prefill: the prefill's last logits already choose the "
        "first new token, so feed that new token next.": lambda: _greedy(*args, again=True),
    }


def _as_steps(got: object, want: np.ndarray, prompt: np.ndarray) -> object:
    """Accept (n_new, 1, V) or a list of (V,) / (1, V) rows; name an answer that holds tokens, not logits."""
    try:
        arr = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return got
    if arr.ndim == 1 and arr.size in (want.shape[0], want.shape[0] + len(prompt)) and np.all(arr == np.round(arr)):
        raise Wrong(f"you returned token ids, shape {arr.shape}; return the logits of each step, shape "
                    f"(n_new, V) = {want.shape}.")
    return arr.reshape(want.shape) if arr.size == want.size and arr.shape != want.shape else got


def _check_generate(fn: object) -> str:
    refuse_lib(fn, {"lib.transformer.generate": transformer.generate, "lib.transformer.step_function": transformer.step_function},
               how="with transformer.forward and its caches")
    for case in _GEN_CASES:
        params, prompt, n_new, config = case.make()
        want = transformer.generate(params, prompt, n_new, config, use_cache=False)[1][:, 0]  # uncached (n_new, V)
        try:
            with transformer.count_flops() as used:
                answer = call(fn, *case.make(), name="your generate_cached")
            got = _as_steps(answer, want, prompt)
            compare(got, want, name="your logits", bugs=_gen_bugs(*case.make()))
        except Wrong as wrong:
            raise Wrong(short(f"with {case.label}: {wrong}")) from None
        with transformer.count_flops() as prefill:
            transformer.forward(params, prompt, config)
        cached = prefill[0] + sum(transformer.step_flops(config, t, cached=True)
                                  for t in range(len(prompt) + 1, len(prompt) + n_new + 1))
        if used[0] > cached:
            raise Wrong(f"with {case.label}: your logits are right, but your function did {used[0]:,} matmul FLOPs, "
                        f"more than the prefill plus one cached step per new token ({cached:,}): some step processed "
                        "more than its one new token (for example the whole sequence again). Keep the caches and "
                        "feed only the new token at each step.")
    return ("cached and uncached generation give the same logits at every step, up to rounding, for 1 to 3 "
            "layers: each step now feeds one token instead of the whole sequence.")


ex4 = Exercise(
    "decoder-kv-cache-generate",
    _check_generate,
    ["Two phases: one forward pass over the whole prompt that fills the caches (one dict per layer), then one "
     "forward pass per new token. What must `start` be for each of them?",
     "Make one cache dict per layer (a separate dict each). After the prefill, which position's logits choose "
     "the first new token? A token at position t (0-based) is fed alone: which start, and which caches?"],
    "def generate_cached(params, prompt, n_new, config):\n"
    "    caches = [{} for _ in range(config.n_layers)]\n"
    "    logits = transformer.forward(params, prompt, config, caches=caches)[0, -1]  # prefill: (V,)\n"
    "    steps = []\n"
    "    for t in range(len(prompt), len(prompt) + n_new):\n"
    "        steps.append(logits)\n"
    "        if len(steps) < n_new:  # the last chosen token needs no logits of its own\n"
    "            token = int(logits.argmax())\n"
    "            logits = transformer.forward(params, [token], config, start=t, caches=caches)[0, -1]\n"
    "    return np.array(steps)  # (n_new, V)",
    why="Causality means the keys and values of earlier tokens never change, so keeping them and feeding only "
        "the new token (at its own position) reproduces the full forward pass's last row.",
    formerly="decoder-kv-cache-ex4",
)
