"""A tiny pre-norm decoder (GPT-style) in NumPy, autoregressive generation and the KV cache.

Letters: B batch, T tokens, t tokens so far during generation, d model width, h heads,
d_k = d / h head width, d_ff MLP width, V vocabulary, L layers.

One block (pre-norm, as in GPT-2 and Llama):

    x = x + Attn(RMSNorm(x))      causal multi-head self-attention, Wq Wk Wv Wo (d, d)
    x = x + MLP(RMSNorm(x))       (d -> d_ff) ReLU (d_ff -> d)

The sizes default to the microgpt ones: V = 27 characters, d = 16, h = 4, d_ff = 64, L = 1.
Generating with a KV cache keeps each layer's keys and values (B, h, t, d_k) and feeds only the
new token through the model; it must give the same logits as recomputing everything.
See the chapter `decoder-kv-cache`.
"""

from __future__ import annotations

import contextlib
import inspect
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from lib.attention import attention_forward, merge_heads, split_heads
from lib.nn import relu
from lib.shapes import as_array, as_positive_int, as_rng, as_seed, check_shapes, positive_ints

VOCAB = "." + "abcdefghijklmnopqrstuvwxyz"  # 27 tokens; "." (id 0) marks the start and end of a name


# ---------------------------------------------------------------- counting matmul FLOPs
_counter: list[int] | None = None


@contextlib.contextmanager
def count_flops() -> Iterator[list[int]]:
    """Count the matmul FLOPs (2*m*k*n per (m, k) @ (k, n)) done inside the `with` block.

    >>> with count_flops() as n: ...
    >>> n[0]   # the total
    """
    global _counter
    previous, _counter = _counter, [0]
    try:
        yield _counter
    finally:
        _counter = previous


def _mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b, adding its FLOPs to the active counter.  (..., m, k) @ (..., k, n) -> (..., m, n)"""
    out = a @ b
    if _counter is not None:
        _counter[0] += 2 * int(np.prod(out.shape)) * a.shape[-1]
    return out


# ---------------------------------------------------------------- the pieces
def _last_axis(x: np.ndarray, name: str, d: int, where: str) -> None:
    if x.ndim == 0 or x.shape[-1] != d:
        raise ValueError(f"{where}: {name} should have shape (..., d) = (..., {d}), got {x.shape}.")


def rms_norm(x: np.ndarray, g: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Scale each row to root-mean-square 1, then multiply by the gain g.

    x (..., d), g (d,) -> (..., d)
    """
    x, g = as_array(x, "x", "rms_norm"), as_array(g, "g", "rms_norm")
    if g.ndim != 1 or x.shape[-1] != g.shape[0]:
        raise ValueError(f"rms_norm: g should have shape (d,) = ({x.shape[-1]},) to match the last axis of x {x.shape}, got {g.shape}.")
    return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps) * g


def layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Subtract each row's mean, divide by its standard deviation, then scale by g and shift by b.

    x (..., d), g (d,), b (d,) -> (..., d)
    """
    x, g, b = as_array(x, "x", "layer_norm"), as_array(g, "g", "layer_norm"), as_array(b, "b", "layer_norm")
    for name, p in (("g", g), ("b", b)):
        if p.ndim != 1 or x.shape[-1] != p.shape[0]:
            raise ValueError(f"layer_norm: {name} should have shape (d,) = ({x.shape[-1]},) to match the last axis of x {x.shape}, got {p.shape}.")
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def mlp(x: np.ndarray, W1: np.ndarray, W2: np.ndarray) -> np.ndarray:
    """Expand, ReLU, compress (no biases, as in microgpt).

    x (B, T, d), W1 (d, d_ff), W2 (d_ff, d) -> (B, T, d)
    """
    x, W1, W2 = as_array(x, "x", "mlp"), as_array(W1, "W1", "mlp"), as_array(W2, "W2", "mlp")
    d = check_shapes("mlp", W1=(W1, "d d_ff"), W2=(W2, "d_ff d"))["d"]
    _last_axis(x, "x", d, "mlp")
    return _mm(relu(_mm(x, W1)), W2)  # (B, T, d) @ (d, d_ff) -> (B, T, d_ff) @ (d_ff, d) -> (B, T, d)


# ---------------------------------------------------------------- the model
@dataclass(frozen=True)
class Config:
    """Sizes of a decoder; the defaults are microgpt's."""

    vocab_size: int = 27
    d: int = 16
    n_heads: int = 4
    d_ff: int = 64
    n_layers: int = 1
    block_size: int = 16

    def __post_init__(self) -> None:
        for name in ("vocab_size", "d", "n_heads", "d_ff", "n_layers", "block_size"):
            as_positive_int(getattr(self, name), name, "Config")
        if self.d % self.n_heads:
            raise ValueError(f"Config: d = {self.d} must be divisible by n_heads = {self.n_heads}.")

    @property
    def d_k(self) -> int:
        return self.d // self.n_heads


def init_params(config: Config, seed: int = 0) -> dict:
    """Seeded random weights, each scaled by 1/sqrt(fan_in); norm gains start at 1.

    -> {"wte": (V, d), "wpe": (block_size, d), "layers": [{"Wq", "Wk", "Wv", "Wo": (d, d),
        "W1": (d, d_ff), "W2": (d_ff, d), "g1", "g2": (d,)}], "g_f": (d,), "W_lm": (d, V)}
    """
    _check_config(config, "init_params")
    rng = np.random.default_rng(as_seed(seed, "init_params"))
    d, V, F = config.d, config.vocab_size, config.d_ff

    def w(n_in: int, n_out: int) -> np.ndarray:
        return rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)

    layers = [
        {"Wq": w(d, d), "Wk": w(d, d), "Wv": w(d, d), "Wo": w(d, d), "W1": w(d, F), "W2": w(F, d),
         "g1": np.ones(d), "g2": np.ones(d)}
        for _ in range(config.n_layers)
    ]
    return {"wte": rng.standard_normal((V, d)), "wpe": 0.5 * rng.standard_normal((config.block_size, d)),
            "layers": layers, "g_f": np.ones(d), "W_lm": w(d, V)}


def _check_config(config: object, where: str) -> Config:
    if not isinstance(config, Config):
        raise TypeError(f"{where}: config must be a decoder.Config, got {type(config).__name__}.")
    return config


_LAYER_SPECS = {"Wq": "d d", "Wk": "d d", "Wv": "d d", "Wo": "d d", "W1": "d d_ff", "W2": "d_ff d", "g1": "d", "g2": "d"}


def _check_layer(p: object, name: str, where: str, sizes: dict[str, int] | None = None) -> dict[str, int]:
    """A block's weights: a dict with the keys of _LAYER_SPECS and shapes that agree."""
    if not isinstance(p, dict):
        raise TypeError(f"{where}: {name} must be a dict of a block's weights, got {type(p).__name__}.")
    missing = sorted(set(_LAYER_SPECS) - set(p))
    if missing:
        raise ValueError(f"{where}: {name} is missing {missing}; a block needs {sorted(_LAYER_SPECS)}.")
    arrays = {f"{name}[{k!r}]": (as_array(p[k], f"{name}[{k!r}]", where), spec) for k, spec in _LAYER_SPECS.items()}
    return check_shapes(where, sizes=sizes, **arrays)


def _check_params(params: object, config: Config, where: str) -> None:
    """The weights made by init_params for this config."""
    if not isinstance(params, dict):
        raise TypeError(f"{where}: params must be the dict made by init_params, got {type(params).__name__}.")
    missing = sorted({"wte", "wpe", "layers", "g_f", "W_lm"} - set(params))
    if missing:
        raise ValueError(f"{where}: params is missing {missing}; make it with init_params(config).")
    sizes = {"V": config.vocab_size, "d": config.d, "d_ff": config.d_ff, "T_max": config.block_size}
    check_shapes(where, sizes=sizes, **{f"params[{k!r}]": (as_array(params[k], f"params[{k!r}]", where), spec)
                                       for k, spec in (("wte", "V d"), ("wpe", "T_max d"), ("g_f", "d"), ("W_lm", "d V"))})
    layers = params["layers"]
    if not isinstance(layers, list) or len(layers) != config.n_layers:
        raise ValueError(f"{where}: params['layers'] must be a list of {config.n_layers} blocks (config.n_layers).")
    for i, p in enumerate(layers):
        _check_layer(p, f"params['layers'][{i}]", where, sizes)


def _token_ids(tokens: object, vocab_size: int, where: str, name: str = "tokens") -> np.ndarray:
    """Token ids as an int array (B, T); a 1-D sequence becomes one row."""
    arr = as_array(tokens, name, where)
    if arr.ndim == 1:
        arr = arr[None, :]  # (T,) -> (1, T)
    check_shapes(where, **{name: (arr, "B T")})
    if not np.array_equal(arr, np.round(arr)) or arr.min() < 0 or arr.max() >= vocab_size:
        raise ValueError(f"{where}: {name} must be integers in [0, {vocab_size}), got values from {arr.min()} to {arr.max()}.")
    return arr.astype(np.int64)


def _check_tokens(tokens: object, config: Config, where: str, name: str = "tokens") -> np.ndarray:
    arr = _token_ids(tokens, config.vocab_size, where, name)
    if arr.shape[1] > config.block_size:
        raise ValueError(f"{where}: {arr.shape[1]} {name} is more than block_size = {config.block_size}.")
    return arr


def block_forward(x: np.ndarray, p: dict, n_heads: int, cache: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One pre-norm decoder block. With `cache` (a dict with "K", "V" or empty), x holds only the
    new tokens, their keys and values are appended to the cache, and they attend over all of it.

    x (B, T, d) -> (B, T, d), attention weights (B, h, T, T_k)
    """
    x = as_array(x, "x", "block_forward")
    d = _check_layer(p, "p", "block_forward")["d"]
    check_shapes("block_forward", sizes={"d": d}, x=(x, "B T d"))
    if d % as_positive_int(n_heads, "n_heads", "block_forward"):
        raise ValueError(f"block_forward: d = {d} must be divisible by n_heads = {n_heads}.")
    if cache is not None and not isinstance(cache, dict):
        raise TypeError(f"block_forward: cache must be a dict (empty at first) or None, got {type(cache).__name__}.")
    return _block(x, p, n_heads, cache)


def _block(x: np.ndarray, p: dict, n_heads: int, cache: dict | None) -> tuple[np.ndarray, np.ndarray]:
    a = rms_norm(x, p["g1"])
    q = split_heads(_mm(a, p["Wq"]), n_heads)  # (B, T, d) @ (d, d) -> (B, T, d) -> (B, h, T, d_k)
    k = split_heads(_mm(a, p["Wk"]), n_heads)  # (B, h, T, d_k)
    v = split_heads(_mm(a, p["Wv"]), n_heads)  # (B, h, T, d_k)
    if cache is not None:
        if "K" in cache:
            k = np.concatenate([cache["K"], k], axis=2)  # (B, h, t-1, d_k) + (B, h, 1, d_k) -> (B, h, t, d_k)
            v = np.concatenate([cache["V"], v], axis=2)
        cache["K"], cache["V"] = k, v
    T_q, T_k, d_k = q.shape[2], k.shape[2], q.shape[3]
    if _counter is not None:  # the two attention matmuls inside attention_forward
        _counter[0] += 2 * (2 * q.shape[0] * n_heads * T_q * T_k * d_k)
    y, att = attention_forward(q, k, v, causal=True)  # (B, h, T_q, d_k), weights (B, h, T_q, T_k)
    x = x + _mm(merge_heads(y), p["Wo"])  # (B, T, d) @ (d, d) -> (B, T, d), residual add
    x = x + mlp(rms_norm(x, p["g2"]), p["W1"], p["W2"])  # residual add
    return x, att["A"]


def block_with_activations(x: np.ndarray, p: dict, n_heads: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One pre-norm block written out line by line (no cache), returning its intermediate arrays too.

    x (B, T, d) -> (B, T, d), {"a1", "q", "k", "v", "A", "x_mid", "a2", "hidden", "x_out"}.
    The same numbers as `block_forward` without a cache; the chapter prints this function.
    """
    d = _check_layer(p, "p", "block_with_activations")["d"]
    x = as_array(x, "x", "block_with_activations")
    check_shapes("block_with_activations", sizes={"d": d}, x=(x, "B T d"))
    if d % as_positive_int(n_heads, "n_heads", "block_with_activations"):
        raise ValueError(f"block_with_activations: d = {d} must be divisible by n_heads = {n_heads}.")
    a1 = rms_norm(x, p["g1"])                            # (B, T, d)       normalise each token
    q = split_heads(a1 @ p["Wq"], n_heads)               # (B, T, d) @ (d, d) -> (B, h, T, d_k)
    k = split_heads(a1 @ p["Wk"], n_heads)               # (B, h, T, d_k)
    v = split_heads(a1 @ p["Wv"], n_heads)               # (B, h, T, d_k)
    y, att = attention_forward(q, k, v, causal=True)     # (B, h, T, d_k), weights A (B, h, T, T)
    x_mid = x + merge_heads(y) @ p["Wo"]                 # residual 1: (B, T, d) + (B, T, d) @ (d, d)
    a2 = rms_norm(x_mid, p["g2"])                        # (B, T, d)
    hidden = relu(a2 @ p["W1"])                          # (B, T, d) @ (d, d_ff) -> (B, T, d_ff)
    x_out = x_mid + hidden @ p["W2"]                     # residual 2: (B, T, d_ff) @ (d_ff, d) -> (B, T, d)
    acts = {"a1": a1, "q": q, "k": k, "v": v, "A": att["A"], "x_mid": x_mid, "a2": a2, "hidden": hidden, "x_out": x_out}
    return x_out, acts


def block_source() -> str:
    """The lines of `block_with_activations` that compute the block (its checks left out), for printing."""
    lines = inspect.getsource(block_with_activations).splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("a1 = "))
    end = next(i for i, line in enumerate(lines) if line.lstrip().startswith("acts = "))
    return textwrap.dedent("\n".join(lines[start:end]))


def forward(params: dict, tokens: object, config: Config, *, start: int = 0,
            caches: list[dict] | None = None) -> np.ndarray:
    """Logits for every position of a token sequence (the full, uncached forward pass).

    tokens (B, T) or (T,) of ints in [0, V) -> logits (B, T, V).
    With `caches` (one dict per layer) and `start` = tokens already cached, only the new tokens
    are processed; this is how `generate(..., use_cache=True)` works.
    """
    _check_config(config, "forward")
    _check_params(params, config, "forward")
    tok = _check_tokens(tokens, config, "forward")
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise ValueError(f"forward: start must be a non-negative integer (tokens already cached), got {start!r}.")
    if caches is not None and (not isinstance(caches, list) or len(caches) != config.n_layers):
        raise TypeError(f"forward: caches must be a list of {config.n_layers} dicts (one per layer) or None.")
    if start + tok.shape[1] > config.block_size:
        raise ValueError(f"forward: position {start + tok.shape[1]} is past block_size = {config.block_size}.")
    return _forward(params, tok, config, start, caches)


def _forward(params: dict, tok: np.ndarray, config: Config, start: int, caches: list[dict] | None) -> np.ndarray:
    """`forward` on arguments already checked: tok (B, T) ints -> logits (B, T, V)."""
    T = tok.shape[1]
    x = params["wte"][tok] + params["wpe"][start:start + T]  # (B, T, d) + (T, d) -> (B, T, d)
    for i, p in enumerate(params["layers"]):
        x, _ = _block(x, p, config.n_heads, None if caches is None else caches[i])
    return _mm(rms_norm(x, params["g_f"]), params["W_lm"])  # (B, T, d) @ (d, V) -> (B, T, V)


def attention_maps(params: dict, tokens: object, config: Config) -> list[np.ndarray]:
    """The causal attention weights of every layer for a sequence: list of (B, h, T, T)."""
    _check_config(config, "attention_maps")
    _check_params(params, config, "attention_maps")
    tok = _check_tokens(tokens, config, "attention_maps")
    x = params["wte"][tok] + params["wpe"][: tok.shape[1]]  # (B, T, d)
    maps = []
    for p in params["layers"]:
        x, A = _block(x, p, config.n_heads, None)
        maps.append(A)
    return maps


def generate(params: dict, prompt: object, n_new: int, config: Config, *, use_cache: bool = True,
             rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Extend `prompt` by n_new tokens, greedily (rng None) or by seeded sampling.

    prompt (B, T0) or (T0,) -> tokens (B, T0 + n_new), step_logits (n_new, B, V): the logits each
    new token was chosen from. Without the cache every step reruns `forward` on the whole sequence.
    """
    _check_config(config, "generate")
    _check_params(params, config, "generate")
    tok = _check_tokens(prompt, config, "generate", name="prompt")
    n_new = as_positive_int(n_new, "n_new", "generate")
    if rng is not None:
        as_rng(rng, "generate")
    if tok.shape[1] + n_new - 1 > config.block_size:
        raise ValueError(f"generate: prompt of {tok.shape[1]} plus {n_new} new tokens exceeds block_size = {config.block_size}.")
    caches = [{} for _ in params["layers"]] if use_cache else None
    step_logits = []
    logits = _forward(params, tok, config, 0, caches)[:, -1]  # prefill: (B, T0, V) -> (B, V)
    for step in range(n_new):
        step_logits.append(logits)
        if rng is None:
            nxt = logits.argmax(axis=-1)  # greedy: (B,)
        else:
            probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
            probs /= probs.sum(axis=-1, keepdims=True)
            nxt = np.array([rng.choice(config.vocab_size, p=row) for row in probs])
        tok = np.concatenate([tok, nxt[:, None]], axis=1)  # (B, t) -> (B, t + 1)
        if step == n_new - 1:
            break
        if use_cache:  # feed only the new token; keys and values of the past come from the cache
            logits = _forward(params, nxt[:, None], config, tok.shape[1] - 1, caches)[:, -1]
        else:  # recompute everything from scratch
            logits = _forward(params, tok, config, 0, None)[:, -1]
    return tok, np.stack(step_logits)


def step_function(params: dict, config: Config, t: int, *, cached: bool) -> Callable[[], np.ndarray]:
    """A function of no arguments that computes the logits choosing token t + 1 (batch 1), for timing.

    cached=False: a full forward pass over t tokens. cached=True: only token t, attending over a
    cache pre-filled with the first t - 1 tokens (copied at each call, so calls do not grow it).
    -> fn() returning logits (1, V)
    """
    _check_config(config, "step_function")
    _check_params(params, config, "step_function")
    t = as_positive_int(t, "t", "step_function")
    if t > config.block_size:
        raise ValueError(f"step_function: t = {t} is past block_size = {config.block_size}.")
    tok = (np.arange(t, dtype=np.int64) % config.vocab_size)[None]  # (1, t): any fixed tokens will do
    if not cached:
        return lambda: _forward(params, tok, config, 0, None)[:, -1]
    caches = [{} for _ in range(config.n_layers)]
    if t > 1:
        _forward(params, tok[:, :-1], config, 0, caches)  # prefill t - 1 tokens

    def step() -> np.ndarray:
        fresh = [dict(c) for c in caches]  # the step appends to its own copy
        return _forward(params, tok[:, -1:], config, t - 1, fresh)[:, -1]
    return step


def name_of(tokens: object) -> str:
    """The text of a generated sequence up to and including the first end token "." after the start.

    tokens (T,) or (1, T) -> str; ".emma.xq" -> ".emma.", and the whole text if no "." follows.
    """
    text = "".join(VOCAB[int(i)] for i in np.ravel(_token_ids(tokens, len(VOCAB), "name_of")))
    end = text.find(".", 1)
    return text if end < 0 else text[: end + 1]


def param_count(config: Config) -> int:
    """Number of weights of the decoder `init_params(config)` makes (embeddings, blocks, norms, LM head)."""
    c = _check_config(config, "param_count")
    per_layer = 4 * c.d * c.d + 2 * c.d * c.d_ff + 2 * c.d  # Wq Wk Wv Wo, W1 W2, gains g1 g2
    return c.vocab_size * c.d + c.block_size * c.d + c.n_layers * per_layer + c.d + c.d * c.vocab_size


def encode(text: str) -> np.ndarray:
    """Characters to token ids over VOCAB ('.' is 0, 'a' is 1, ...)."""
    if not isinstance(text, str):
        raise TypeError(f"encode: text must be a string, got {type(text).__name__}.")
    bad = sorted(set(text) - set(VOCAB))
    if bad:
        raise ValueError(f"encode: text has characters {bad} that are not in the vocabulary {VOCAB!r}.")
    return np.array([VOCAB.index(c) for c in text], dtype=np.int64)


def decode(tokens: object) -> str:
    """Token ids back to characters."""
    return "".join(VOCAB[int(i)] for i in np.ravel(_token_ids(tokens, len(VOCAB), "decode")))


# ---------------------------------------------------------------- memory and FLOPs
def kv_cache_bytes(n_layers: int, n_heads: int, head_dim: int, seq_len: int, batch: int = 1,
                   bytes_per_element: int = 2) -> int:
    """Bytes of a KV cache: 2 (K and V) x layers x heads x head_dim x sequence x batch x bytes.

    Llama-2-7B (32 layers, 32 heads, head_dim 128, fp16): 524,288 B = 0.5 MiB per token.
    """
    L, h, d_k, T, B, nbytes = positive_ints("kv_cache_bytes", n_layers=n_layers, n_heads=n_heads, head_dim=head_dim,
                                            seq_len=seq_len, batch=batch, bytes_per_element=bytes_per_element)
    return 2 * L * h * d_k * T * B * nbytes


def gqa_kv_cache_bytes(n_layers: int, n_heads: int, n_kv_heads: int, head_dim: int, seq_len: int,
                       batch: int = 1, bytes_per_element: int = 2) -> int:
    """KV-cache bytes with grouped-query attention: only the n_kv_heads key/value heads are stored.

    2 x layers x n_kv_heads x head_dim x sequence x batch x bytes; n_heads (the query heads) must be a
    multiple of n_kv_heads. Llama-2-70B (80 layers, 64 query heads, 8 KV heads, head_dim 128, fp16):
    327,680 B = 0.3125 MiB per token, 8x less than with 64 KV heads.
    """
    L, h, h_kv, d_k, T, B, nbytes = positive_ints(
        "gqa_kv_cache_bytes", n_layers=n_layers, n_heads=n_heads, n_kv_heads=n_kv_heads, head_dim=head_dim,
        seq_len=seq_len, batch=batch, bytes_per_element=bytes_per_element)
    if h % h_kv:
        raise ValueError(f"gqa_kv_cache_bytes: n_heads = {h} must be a multiple of n_kv_heads = {h_kv}.")
    return 2 * L * h_kv * d_k * T * B * nbytes


def llama_param_count(n_layers: int, d: int, d_ff: int, vocab_size: int, *, d_kv: int | None = None) -> int:
    """Weights of a Llama-style decoder: no biases, SwiGLU MLP (3 matrices), RMSNorm gains, untied LM head.

    L * (2 d^2 + 2 d d_kv + 3 d d_ff + 2 d) + 2 V d + d; d_kv = n_kv_heads * head_dim (d without GQA).
    Llama-2-7B (32, 4096, 11008, 32000): 6,738,415,616.
    """
    L, d, d_ff, V = positive_ints("llama_param_count", n_layers=n_layers, d=d, d_ff=d_ff, vocab_size=vocab_size)
    d_kv = d if d_kv is None else as_positive_int(d_kv, "d_kv", "llama_param_count")
    per_layer = 2 * d * d + 2 * d * d_kv + 3 * d * d_ff + 2 * d  # Wq Wo, Wk Wv, gate/up/down, two norm gains
    return L * per_layer + 2 * V * d + d  # token embedding, LM head, final norm


def token_flops(d: int, d_ff: int, t: int, *, d_kv: int | None = None, mlp_matrices: int = 2) -> dict[str, int]:
    """Matmul FLOPs of one layer for ONE token that attends over t keys, split into its three parts.

    -> {"projections": 2*(2*d*d + 2*d*d_kv), "attention": 4*t*d, "mlp": 2*mlp_matrices*d*d_ff}.
    d_kv = n_kv_heads * head_dim is the width of K and V (d without grouped-query attention);
    mlp_matrices is 2 for a ReLU/GELU MLP (GPT-2), 3 for SwiGLU (Llama).
    """
    d, d_ff, t = positive_ints("token_flops", d=d, d_ff=d_ff, t=t)
    d_kv = d if d_kv is None else as_positive_int(d_kv, "d_kv", "token_flops")
    m = as_positive_int(mlp_matrices, "mlp_matrices", "token_flops")
    return {"projections": 2 * (2 * d * d + 2 * d * d_kv),  # Wq, Wo (d, d); Wk, Wv (d, d_kv)
            "attention": 2 * t * d + 2 * t * d,  # q . k for t keys, then t weighted values, all heads
            "mlp": 2 * m * d * d_ff}  # m matrices of d x d_ff


def attention_crossover(d: int, d_ff: int, *, d_kv: int | None = None, mlp_matrices: int = 2) -> float:
    """The context length t* at which a token's attention FLOPs equal its projection + MLP FLOPs.

    4 t d = 4 d^2 + 4 d d_kv + 2 m d d_ff  ->  t* = d + d_kv + m d_ff / 2; 6d for d_kv = d, d_ff = 4d, m = 2.
    """
    d, d_ff = positive_ints("attention_crossover", d=d, d_ff=d_ff)
    d_kv = d if d_kv is None else as_positive_int(d_kv, "d_kv", "attention_crossover")
    m = as_positive_int(mlp_matrices, "mlp_matrices", "attention_crossover")
    return d + d_kv + m * d_ff / 2


def decode_step(n_params: int, n_layers: int, d: int, d_kv: int, t: int, *, batch: int = 1,
                bytes_per_element: int = 2) -> dict[str, float]:
    """First-order FLOPs and bytes read of one decode step: every sequence of the batch adds one token.

    FLOPs  ~ batch * (2 * n_params + 4 * n_layers * t * d)   2 per weight, plus attention over t keys
    bytes  ~ n_params * bytes   (every weight is read once, shared by the batch)
           + batch * 2 * n_layers * d_kv * t * bytes         (the whole KV cache is read)
    -> {"flops", "weight_bytes", "kv_bytes", "bytes", "intensity"} (intensity = FLOPs per byte).
    """
    N, L, d, d_kv, t, B, nb = positive_ints("decode_step", n_params=n_params, n_layers=n_layers, d=d, d_kv=d_kv,
                                            t=t, batch=batch, bytes_per_element=bytes_per_element)
    flops = B * (2 * N + 4 * L * t * d)
    weight_bytes, kv_bytes = N * nb, B * 2 * L * d_kv * t * nb
    total = weight_bytes + kv_bytes
    return {"flops": flops, "weight_bytes": weight_bytes, "kv_bytes": kv_bytes, "bytes": total,
            "intensity": flops / total}


def layer_flops(config: Config, T_q: int, T_k: int) -> int:
    """Matmul FLOPs of one block processing T_q new tokens that attend over T_k keys (batch 1)."""
    d, F = _check_config(config, "layer_flops").d, config.d_ff
    T_q, T_k = positive_ints("layer_flops", T_q=T_q, T_k=T_k)
    projections = 4 * 2 * T_q * d * d  # Wq, Wk, Wv, Wo: (T_q, d) @ (d, d) each
    attention = 2 * 2 * T_q * T_k * d  # Q K^T and A V, summed over heads (h * d_k = d)
    mlp_ = 2 * 2 * T_q * d * F  # (T_q, d) @ (d, d_ff) and (T_q, d_ff) @ (d_ff, d)
    return projections + attention + mlp_


def step_flops(config: Config, t: int, *, cached: bool) -> int:
    """Matmul FLOPs to get the logits that choose the token after a sequence of length t (batch 1).

    Without a cache: a full forward pass over t tokens (logits for all t positions, as `forward`
    computes them). With a cache: only the newest token, attending over t keys.
    """
    _check_config(config, "step_flops")
    t = as_positive_int(t, "t", "step_flops")
    T_q = 1 if cached else t
    lm_head = 2 * T_q * config.d * config.vocab_size  # (T_q, d) @ (d, V)
    return config.n_layers * layer_flops(config, T_q, t) + lm_head
