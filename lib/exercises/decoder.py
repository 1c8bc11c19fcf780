"""Exercises for the chapter `decoder-kv-cache`.

ex1 predict the KV cache of Llama-2-70B with grouped-query attention; ex2 derive the context length
where attention's FLOPs catch up with the rest of a block; ex3 one cached attention step; ex4 greedy
generation with a KV cache, which must give the logits of generation without one; ex5 the gradient
of the cross-entropy loss with respect to the logits.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lib import attention, decoder, nn
from lib.exercises import (
    Case,
    Exercise,
    Wrong,
    call,
    cases,
    compare,
    compare_count,
    compare_units,
    refuse_lib,
    short,
)

# ---------------------------------------------------------------- ex1: Llama-2-70B KV cache with GQA
_GiB = 2.0**30
_GQA_GIB = decoder.gqa_kv_cache_bytes(80, 64, 8, 128, seq_len=4096, batch=8, bytes_per_element=2) / _GiB  # 10.0


def _check_gqa(answer: object) -> str:
    compare_units(answer, _GQA_GIB, "GiB", bugs={
        "you stored keys and values for all 64 heads (d = 8192 numbers per token and layer); with grouped-query "
        "attention only the 8 KV heads are cached, 8 x 128 = 1024 numbers.": _GQA_GIB * 8,
        "you multiplied by 8: that counts bits, not bytes.": _GQA_GIB * 8,
        "you forgot the factor 2: the cache stores keys AND values.": _GQA_GIB / 2,
        "you forgot the 80 layers: every layer keeps its own keys and values.": _GQA_GIB / 80,
        "you used 4 bytes per number (fp32); the model runs in fp16, 2 bytes.": _GQA_GIB * 2,
        "you forgot the batch: each of the 8 sequences has its own cache.": _GQA_GIB / 8,
        "you counted numbers, not bytes: fp16 takes 2 bytes per number.": _GQA_GIB / 2,
        "you forgot both the factor 2 for keys AND values and the 2 bytes per fp16 number.": _GQA_GIB / 4,
        "you forgot the 4,096 tokens: the cache holds a key and a value for every token of every sequence.":
            _GQA_GIB / 4096,
        "you forgot the head width: each KV head stores a vector of 128 numbers per token.": _GQA_GIB / 128,
    })
    return (f"2 x 80 layers x 8 KV heads x 128 x 4096 tokens x 8 sequences x 2 B = {_GQA_GIB:g} GiB; with all 64 "
            "heads cached it would be 80 GiB.")


ex1 = Exercise(
    "decoder-kv-cache-ex1",
    _check_gqa,
    ["Start from the KV-cache formula of the chapter. Which of its factors does grouped-query attention change?",
     "The h in the formula is the number of heads whose keys and values are stored: the 8 KV heads, not the 64 "
     "query heads. 1 GiB is 2**30 bytes."],
    "answer = 2 * 80 * 8 * 128 * 4096 * 8 * 2 / 2**30  # K and V, layers, KV heads, head dim, tokens, batch, fp16",
    why="Only the key/value heads are cached; the query heads share them, so the cache is 64 / 8 = 8 times "
        "smaller than with full multi-head attention.",
)


# ---------------------------------------------------------------- ex2: the attention/MLP crossover
_XL_D, _XL_FF = 1600, 6400  # GPT-2 XL
_CROSSOVER = int(decoder.attention_crossover(_XL_D, _XL_FF))  # 2d + d_ff = 9600


def _check_crossover(answer: object) -> str:
    d, f = _XL_D, _XL_FF
    compare_count(answer, _CROSSOVER, what="a number of tokens", bugs={
        "you left out the four projections W_Q, W_K, W_V, W_O (8 d^2 FLOPs per token).": f,
        "you counted each MLP matrix once as d * d_ff: a (1, d) @ (d, d_ff) product costs 2 d d_ff FLOPs, and "
        "there are two matrices, 4 d d_ff in all.": 2 * d + f // 2,
        "you left out the MLP (4 d d_ff FLOPs per token), the largest part.": 2 * d,
        "you counted only the scores q K^T (2 t d); the weighted sum A V costs as much again, 4 t d in all.":
            2 * (2 * d + f),
        "you counted three projections; there are four: W_Q, W_K, W_V and W_O (8 d^2 in all).": 3 * d // 2 + f,
        "you counted each projection as d^2 FLOPs: a (1, d) @ (d, d) product costs 2 d^2, 8 d^2 for the four.":
            d + f,
        "you counted three MLP matrices (SwiGLU); GPT-2 XL's MLP has two, 4 d d_ff FLOPs per token.": 2 * d + 3 * f // 2,
        "either you counted 2 m n FLOPs for attention but m n for the projections and the MLP, or you counted "
        "attention twice: use 2 m n for every product, and attention is 4 t d.": d + f // 2,
    })
    return (f"4 t d = 8 d^2 + 4 d d_ff gives t* = 2d + d_ff = {_CROSSOVER:,} tokens = 6d for d_ff = 4d: GPT-2 XL's "
            "context of 1,024 tokens is far below it, so its MLP and projections dominate the FLOPs.")


ex2 = Exercise(
    "decoder-kv-cache-ex2",
    _check_crossover,
    ["Write the FLOPs of ONE new token in one layer as three terms: the four (d, d) projections, the MLP "
     "(d -> d_ff -> d), and attention over t cached keys. Only one of them depends on t.",
     "A (1, m) @ (m, n) product costs 2 m n FLOPs. Attention over t keys is q K^T plus A V, each 2 t d summed "
     "over the heads. Set attention equal to the other two and solve for t."],
    "# 4 t d = 4 * 2 d^2 + 2 * 2 d d_ff   ->   t = 2 d + d_ff\nanswer = 2 * 1600 + 6400  # 9600 tokens = 6 d",
    why="Projections and MLP cost the same for every token; attention grows by 4d FLOPs per token of context, "
        "so it takes 2d + d_ff tokens to catch up.",
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
    "decoder-kv-cache-ex3",
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
)


# ---------------------------------------------------------------- ex4: cached greedy generation
def _setup(config: decoder.Config, text: str, n_new: int, seed: int) -> Callable[[], tuple]:
    return lambda: (decoder.init_params(config, seed=seed), decoder.encode(text), n_new, config)


_GEN_CASES = [
    Case("the tiny decoder (1 layer), prompt '.em', 5 new tokens", _setup(decoder.Config(), ".em", 5, 0)),
    Case("2 layers of width 8 with 2 heads, prompt '.', 6 new tokens",
         _setup(decoder.Config(d=8, n_heads=2, d_ff=12, n_layers=2, block_size=12), ".", 6, 1)),
    Case("3 layers of width 12 with 3 heads, prompt '.abc', 4 new tokens",
         _setup(decoder.Config(d=12, n_heads=3, d_ff=20, n_layers=3, block_size=12), ".abc", 4, 2)),
]


def _greedy(params, prompt, n_new, config, *, position=lambda t: t, fresh_each_step=False, fill_prefill=True,
            same_token=False, late=False, probs=False, pick=np.argmax, again=False, whole=False) -> np.ndarray:
    """Greedy decoding with a cache, with optional learner mistakes; -> (n_new, V) step logits."""
    caches = [{} for _ in range(config.n_layers)]
    logits = decoder.forward(params, prompt, config, caches=caches if fill_prefill else None)[0, -1]
    t, out, seq = len(prompt), [], [int(i) for i in prompt]
    if again:  # the last prompt token fed a second time after the prefill
        logits = decoder.forward(params, [int(prompt[-1])], config, start=position(t), caches=caches)[0, -1]
        t += 1
    for _ in range(n_new + late):
        out.append(_probs(logits) if probs else logits)
        nxt = int(prompt[-1]) if same_token else int(pick(logits))
        seq.append(nxt)
        if whole:  # the whole sequence fed again, on top of the caches
            logits = decoder.forward(params, seq, config, caches=caches)[0, -1]
            continue
        if fresh_each_step:
            caches = [{} for _ in range(config.n_layers)]
        logits = decoder.forward(params, [nxt], config, start=position(t), caches=caches)[0, -1]
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
    refuse_lib(fn, {"lib.decoder.generate": decoder.generate, "lib.decoder.step_function": decoder.step_function},
               how="with decoder.forward and its caches")
    for case in _GEN_CASES:
        params, prompt, n_new, config = case.make()
        want = decoder.generate(params, prompt, n_new, config, use_cache=False)[1][:, 0]  # uncached (n_new, V)
        try:
            with decoder.count_flops() as used:
                answer = call(fn, *case.make(), name="your generate_cached")
            got = _as_steps(answer, want, prompt)
            compare(got, want, name="your logits", bugs=_gen_bugs(*case.make()))
        except Wrong as wrong:
            raise Wrong(short(f"with {case.label}: {wrong}")) from None
        with decoder.count_flops() as prefill:
            decoder.forward(params, prompt, config)
        cached = prefill[0] + sum(decoder.step_flops(config, t, cached=True)
                                  for t in range(len(prompt) + 1, len(prompt) + n_new + 1))
        if used[0] > cached:
            raise Wrong(f"with {case.label}: your logits are right, but your function did {used[0]:,} matmul FLOPs, "
                        f"more than the prefill plus one cached step per new token ({cached:,}): some step processed "
                        "more than its one new token (for example the whole sequence again). Keep the caches and "
                        "feed only the new token at each step.")
    return ("cached and uncached generation give the same logits at every step, up to rounding, for 1 to 3 "
            "layers: each step now feeds one token instead of the whole sequence.")


ex4 = Exercise(
    "decoder-kv-cache-ex4",
    _check_generate,
    ["Two phases: one forward pass over the whole prompt that fills the caches (one dict per layer), then one "
     "forward pass per new token. What must `start` be for each of them?",
     "caches = [{} for _ in range(config.n_layers)], then the prefill decoder.forward(params, prompt, config, "
     "caches=caches): the logits of its last position choose the first new token. A token at position t "
     "(0-based) is fed alone, with start=t and the same caches."],
    "def generate_cached(params, prompt, n_new, config):\n"
    "    caches = [{} for _ in range(config.n_layers)]\n"
    "    logits = decoder.forward(params, prompt, config, caches=caches)[0, -1]  # prefill: (V,)\n"
    "    steps = []\n"
    "    for t in range(len(prompt), len(prompt) + n_new):\n"
    "        steps.append(logits)\n"
    "        if len(steps) < n_new:  # the last chosen token needs no logits of its own\n"
    "            token = int(logits.argmax())\n"
    "            logits = decoder.forward(params, [token], config, start=t, caches=caches)[0, -1]\n"
    "    return np.array(steps)  # (n_new, V)",
    why="Causality means the keys and values of earlier tokens never change, so keeping them and feeding only "
        "the new token (at its own position) reproduces the full forward pass's last row.",
)


# ---------------------------------------------------------------- ex5: the gradient of the cross-entropy
def _make_ce(N: int, V: int, rng: np.random.Generator) -> tuple:
    return 2.0 * rng.normal(size=(N, V)), rng.integers(0, V, size=N)  # logits (N, V), targets (N,)


def _extreme_ce() -> tuple:
    logits = np.array([[1000.0, -1000.0, 0.0, 5.0], [0.5, 999.0, -3.0, 1000.0], [0.1, 0.2, 0.3, 0.4]])
    return logits, np.array([0, 3, 1])


_CE_EXTREME_LABEL = "N=3, V=4 and logits as large as 1000"
_CE_CASES = [*cases(_make_ce, dict(N=4, V=5), dict(N=6, V=27), dict(N=1, V=3), seed=61),
             Case(_CE_EXTREME_LABEL, _extreme_ce)]


def _probs(z: np.ndarray, axis: int = -1) -> np.ndarray:
    with np.errstate(all="ignore"):
        e = np.exp(z - z.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)


def _column_bug(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    P = _probs(z)
    P[:, y] -= 1  # the classic: whole columns y, every row
    return P


def _row_bug(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    P = _probs(z)
    P[y] -= 1  # whole ROWS y (fails when a target >= N)
    return P


def _shifted_target(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    P = _probs(z)
    P[np.arange(len(y)), y - 1] -= 1  # y - 1 wraps to the last column for y = 0
    return P


def _ce_bugs(z: np.ndarray, y: np.ndarray) -> dict[str, Callable[[], np.ndarray]]:
    N = z.shape[0]
    onehot = np.eye(z.shape[1])[y]  # (N, V)
    at_target = _probs(z)
    at_target[np.arange(N), y] = -1.0
    return {
        "P[y] -= 1 subtracts 1 in the whole ROWS y; the targets index the vocabulary, so subtract once per row at "
        "its target: P[np.arange(N), y] -= 1.": lambda: _row_bug(z, y) / N,
        "you SET the target entries to -1; the gradient there is p_y - 1, so subtract: P[np.arange(N), y] -= 1.":
            lambda: at_target / N,
        "P[:, y] -= 1 subtracts 1 in the whole COLUMNS y, in every row; subtract it once per row, at that row's "
        "target: P[np.arange(N), y] -= 1.": lambda: _column_bug(z, y) / N,
        "P[:, y] -= 1 subtracts 1 in the whole COLUMNS y, in every row (use P[np.arange(N), y] -= 1), and the "
        "loss is a mean over the N rows, so divide by N as well.": lambda: _column_bug(z, y),
        "you returned the gradient of the SUM of the N losses; the loss is their mean, so divide by N.":
            lambda: _probs(z) - onehot,
        "you took the softmax over axis 0 (the N positions); each row's probabilities over the vocabulary must "
        "sum to 1: axis=-1.": lambda: (_probs(z, axis=0) - onehot) / N,
        "you left out the target: the gradient is (P - onehot(y)) / N, with -1 at each row's target.":
            lambda: _probs(z) / N,
        "the sign is flipped: the gradient of -log p_y is P - onehot(y), not onehot(y) - P.":
            lambda: (onehot - _probs(z)) / N,
        "you used the log-probabilities; the gradient uses the probabilities P = softmax(logits).":
            lambda: (np.log(_probs(z)) - onehot) / N,
        "your -1 sits one column to the left of the target: targets are 0-based column indices, so use "
        "P[np.arange(N), y] -= 1 with y itself.": lambda: _shifted_target(z, y) / N,
        "you divided by V, the vocabulary size; the loss is a mean over the N rows, so divide by N.":
            lambda: (_probs(z) - onehot) / z.shape[1],
        "you divided by N twice: (P - onehot(y)) / N already carries the mean's 1/N.":
            lambda: (_probs(z) - onehot) / N**2,
    }


def _check_ce(fn: object) -> str:
    refuse_lib(fn, {"lib.nn.cross_entropy_backward": nn.cross_entropy_backward})
    for case in _CE_CASES:
        z, y = case.make()
        want = nn.cross_entropy_backward(z, y)  # (softmax(z) - onehot) / N
        try:
            try:
                got = call(fn, z, y, name="your lm_loss_grad")
            except Wrong as wrong:
                text = str(wrong)
                if "IndexError" in text and "axis 0" in text:
                    raise Wrong(text.rstrip(". ") + ". The targets index the vocabulary, axis 1, not the rows: pick "
                                "one entry per row with P[np.arange(N), targets].") from None
                raise
            try:
                compare(got, want, name="your dlogits", bugs=_ce_bugs(z, y))
            except Wrong:
                arr = np.asarray(got, dtype=float) if np.shape(got) == z.shape else None
                if case.label == _CE_EXTREME_LABEL and arr is not None and not np.isfinite(arr).all():
                    raise Wrong("your softmax gives NaN or inf once the logits are large, although it is right on "
                                "small ones: exp(1000) overflows to inf (inf / inf is NaN), and shifting by one "
                                "maximum for the whole array makes other rows underflow to 0 / 0. Subtract EACH "
                                "ROW's own maximum before np.exp.") from None
                raise
        except Wrong as wrong:
            raise Wrong(short(f"with {case.label}: {wrong}")) from None
    return ("dL/dlogits = (softmax(logits) - onehot(targets)) / N: each row pushes its target's logit up and the "
            "others down, in proportion to their probabilities.")


ex5 = Exercise(
    "decoder-kv-cache-ex5",
    _check_ce,
    ["Do one row first: L = -log p_y with p = softmax(z). Write log p_y in terms of z (log of a quotient), then "
     "differentiate with respect to z_j, for j = y and j != y.",
     "-log p_y = -z_y + log sum_k exp(z_k). Differentiate each term in z_j: the first is -1 only when j = y; the "
     "second is a function you already compute. For N rows the loss is a mean; P[np.arange(N), targets] picks "
     "one entry per row."],
    "def lm_loss_grad(logits, targets):\n    N = logits.shape[0]\n"
    "    P = np.exp(logits - logits.max(axis=-1, keepdims=True))\n    P /= P.sum(axis=-1, keepdims=True)  # softmax per row\n"
    "    P[np.arange(N), targets] -= 1.0  # minus one-hot, one entry per row\n    return P / N  # the loss is a mean",
    why="-log softmax(z)_y = -z_y + log sum exp(z); its gradient is softmax(z) - onehot(y), and the mean over N "
        "rows divides it by N.",
)
