"""One decoder-only transformer in NumPy: forward (with a KV cache and LoRA adapters), backward, decoding.

Letters: B batch, T tokens (T_q new ones, T_k keys when a cache holds earlier ones), d width,
h query heads, h_kv key/value heads, d_h = d / h head width, d_ff MLP width, V vocabulary,
L layers, r LoRA rank.

    x = wte[tokens] (+ wpe[:T] for learned positions)                (B, T, d)
    for each of the L blocks (pre-norm, as GPT-2 and Llama):
        x = x + Attn(Norm1(x)) Wo      causal; Wq (d, d), Wk Wv (d, h_kv d_h), Wo (d, d), no biases
        x = x + MLP(Norm2(x))          relu/gelu: act(x W1) W2;  swiglu: (silu(x W1) * (x W3)) W2
    logits = Norm_f(x) W_lm                                          (B, T, V); W_lm = wte.T when tied

One `Config` chooses the variant the course teaches: norm "layer" (LayerNorm, gain and bias) or
"rms" (RMSNorm, gain); MLP "relu", "gelu" or "swiglu"; positions "learned" or "rope" (rotary,
from `lib.attention`); n_kv_heads < n_heads for grouped-query attention; a tied or untied head.
`MICROGPT` is the untrained model of the chapter `decoder-kv-cache`, `Config()` the tiny GPT
that the chapter `tiny-gpt` trains. The parameters are one flat dict name -> array ("wte",
"h0.Wq", ...), so a gradient check, Adam and LoRA adapters all loop over names. Every matmul of
the forward pass goes through `_mm`, which `count_flops` counts.
"""

from __future__ import annotations

import contextlib
import inspect
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from lib import attention as _attention
from lib import lora as _lora
from lib.attention import _attend, _attend_back, _merge_heads, _repeat_kv, _split_heads
from lib.lora import _adapter_scale
from lib.nn import _gelu, _gelu_back, _ln, _norm_back, _rms, _seq_ce, _silu, _silu_back, _softmax
from lib.shapes import as_array, as_positive_int, as_rng, as_seed, positive_ints

_NORMS = ("layer", "rms")  # LayerNorm (gain and bias), RMSNorm (gain only)
_MLPS = ("relu", "gelu", "swiglu")  # two matrices W1, W2; SwiGLU three: W1 gate, W3 up, W2 down
_POSITIONS = ("learned", "rope")  # a table wpe (block_size, d); rotary, no parameters


@dataclass(frozen=True)
class Config:
    """Sizes and variant of a transformer; the defaults are the tiny GPT of the chapter tiny-gpt.

    norm "layer" | "rms"; mlp "relu" | "gelu" | "swiglu"; positions "learned" | "rope";
    n_kv_heads None (one K/V head per query head) or a divisor of n_heads; tied: the LM head is wte.T.
    """

    vocab_size: int = 11
    d: int = 32
    n_heads: int = 2
    n_layers: int = 1
    d_ff: int = 64
    block_size: int = 12
    n_kv_heads: int | None = None
    norm: str = "layer"
    mlp: str = "gelu"
    positions: str = "learned"
    tied: bool = False

    def __post_init__(self) -> None:
        for name in ("vocab_size", "d", "n_heads", "n_layers", "d_ff", "block_size"):
            as_positive_int(getattr(self, name), name, "Config")
        if self.d % self.n_heads:
            raise ValueError(f"Config: d = {self.d} must be divisible by n_heads = {self.n_heads}.")
        if self.n_kv_heads is not None and self.n_heads % as_positive_int(self.n_kv_heads, "n_kv_heads", "Config"):
            raise ValueError(f"Config: n_heads = {self.n_heads} must be a multiple of n_kv_heads = {self.n_kv_heads}.")
        for name, allowed in (("norm", _NORMS), ("mlp", _MLPS), ("positions", _POSITIONS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"Config: {name} must be one of {allowed}, got {getattr(self, name)!r}.")
        if self.positions == "rope" and self.head_dim % 2:
            raise ValueError(f"Config: rotary positions need an even head width, got d / n_heads = {self.head_dim}.")
        if not isinstance(self.tied, bool):
            raise TypeError(f"Config: tied must be True or False, got {self.tied!r}.")

    @property
    def head_dim(self) -> int:
        """d_h = d / h."""
        return self.d // self.n_heads

    @property
    def kv_heads(self) -> int:
        """h_kv: the key/value heads (n_heads unless grouped-query)."""
        return self.n_kv_heads or self.n_heads


#: The untrained model of the chapter decoder-kv-cache: microgpt's sizes (27 characters, d 16, 4 heads,
#: d_ff 64, one block, 16 positions) with RMSNorm (with gains) and a ReLU MLP.
MICROGPT = Config(vocab_size=27, d=16, n_heads=4, n_layers=1, d_ff=64, block_size=16, norm="rms", mlp="relu")


def _config(cfg: object, where: str) -> Config:
    if not isinstance(cfg, Config):
        raise TypeError(f"{where}: cfg must be a transformer.Config, got {type(cfg).__name__}.")
    return cfg


# ---------------------------------------------------------------- counting matmul FLOPs
_counter: list[int] | None = None


@contextlib.contextmanager
def count_flops() -> Iterator[list[int]]:
    """Count the matmul FLOPs (2*m*k*n per (m, k) @ (k, n)) of the forward passes inside the `with` block.

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


# ---------------------------------------------------------------- parameters
def param_shapes(cfg: Config) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every parameter, in the order the data flows."""
    c = _config(cfg, "param_shapes")
    return _shapes(c)


def _shapes(c: Config) -> dict[str, tuple[int, ...]]:
    d, F, V, d_kv = c.d, c.d_ff, c.vocab_size, c.kv_heads * c.head_dim
    norm = ("_g", "_b") if c.norm == "layer" else ("_g",)
    shapes: dict[str, tuple[int, ...]] = {"wte": (V, d)}
    if c.positions == "learned":
        shapes["wpe"] = (c.block_size, d)
    for i in range(c.n_layers):
        p = f"h{i}."
        shapes |= {p + "ln1" + e: (d,) for e in norm}
        shapes |= {p + "Wq": (d, d), p + "Wk": (d, d_kv), p + "Wv": (d, d_kv), p + "Wo": (d, d)}
        shapes |= {p + "ln2" + e: (d,) for e in norm}
        shapes |= {p + "W1": (d, F)} | ({p + "W3": (d, F)} if c.mlp == "swiglu" else {}) | {p + "W2": (F, d)}
    shapes |= {"lnf" + e: (d,) for e in norm}
    return shapes if c.tied else shapes | {"W_lm": (d, V)}


def init_params(cfg: Config, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded weights: matrices N(0, 1/fan_in), embeddings N(0, 1) / 2, norm gains 1, norm biases 0.

    -> {name: array} with the shapes of `param_shapes(cfg)`
    """
    c = _config(cfg, "init_params")
    rng = np.random.default_rng(as_seed(seed, "init_params"))
    params = {}
    for name, shape in _shapes(c).items():
        if name.endswith("_g"):
            params[name] = np.ones(shape)
        elif len(shape) == 1:
            params[name] = np.zeros(shape)
        elif name in ("wte", "wpe"):
            params[name] = 0.5 * rng.standard_normal(shape)
        else:
            params[name] = rng.standard_normal(shape) / np.sqrt(shape[0])
    return params


def total_params(params: dict[str, np.ndarray]) -> int:
    """Total number of numbers in a dict of arrays (a model's params or its adapters)."""
    if not isinstance(params, dict) or not params:
        raise TypeError(f"total_params: params must be a non-empty dict of name -> array, got {type(params).__name__}.")
    return sum(int(np.size(as_array(a, f"params[{k!r}]", "total_params"))) for k, a in params.items())


def _check_params(params: object, c: Config, where: str) -> dict:
    if not isinstance(params, dict):
        raise TypeError(f"{where}: params must be the dict made by init_params(cfg), got {type(params).__name__}.")
    shapes = _shapes(c)
    missing = [k for k in shapes if k not in params]
    if missing:
        raise ValueError(f"{where}: params is missing {missing[:4]}; make it with init_params(cfg).")
    for k, shape in shapes.items():
        arr = as_array(params[k], f"params[{k!r}]", where)
        if arr.shape != shape:
            raise ValueError(f"{where}: params[{k!r}] should have shape {shape}, got {arr.shape}.")
    return params


def _tokens(tokens: object, c: Config, where: str, name: str = "tokens", *, allow_ignore: bool = False,
            start: int = 0) -> np.ndarray:
    """Token ids as an int array (B, T); a 1-D sequence becomes one row; -1 allowed for ignored targets."""
    arr = as_array(tokens, name, where)
    if arr.ndim == 1:
        arr = arr[None, :]  # (T,) -> (1, T)
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError(f"{where}: {name} should be 2-D with shape (B, T), got shape {arr.shape}.")
    low = -1 if allow_ignore else 0
    if not np.array_equal(arr, np.round(arr)) or arr.min() < low or arr.max() >= c.vocab_size:
        raise ValueError(f"{where}: {name} must be integers in [{low}, {c.vocab_size}), got values from "
                         f"{arr.min()} to {arr.max()}.")
    if start + arr.shape[1] > c.block_size:
        raise ValueError(f"{where}: {name} reach position {start + arr.shape[1]}, more than block_size = {c.block_size}.")
    return arr.astype(np.int64)


def _scale(lora: object, alpha: object, params: dict, where: str) -> float:
    return 1.0 if lora is None else _adapter_scale(lora, alpha, params, where)


# ---------------------------------------------------------------- the pieces
def _lin(x: np.ndarray, W: np.ndarray, ad: tuple | None, s: float) -> np.ndarray:
    """x @ W, plus s * (x @ A) @ B through a LoRA adapter ad = (A, B) (never forms A @ B)."""
    y = _mm(x, W)  # (..., D_in) @ (D_in, D_out)
    if ad is not None:
        y = y + s * _mm(_mm(x, ad[0]), ad[1])  # (..., D_in) @ (D_in, r) @ (r, D_out)
    return y


def _lin_back(dy: np.ndarray, x: np.ndarray, W: np.ndarray, ad: tuple | None, s: float, g: dict, name: str,
              lg: dict) -> np.ndarray:
    """Backward of `_lin`: fills g[name] (and lg[name + ".A"], lg[name + ".B"]), returns dx."""
    D_in, D_out = W.shape
    x2, dy2 = x.reshape(-1, D_in), dy.reshape(-1, D_out)  # every token is a row: (B*T, D_in), (B*T, D_out)
    g[name] = x2.T @ dy2  # (D_in, B*T) @ (B*T, D_out)
    dx = dy @ W.T
    if ad is not None:
        A, B = ad
        dh = s * (dy2 @ B.T)  # (B*T, r)
        lg[name + ".B"] = s * (x2 @ A).T @ dy2  # (r, B*T) @ (B*T, D_out)
        lg[name + ".A"] = x2.T @ dh  # (D_in, B*T) @ (B*T, r)
        dx = dx + (dh @ A.T).reshape(dx.shape)
    return dx


def _norm(x: np.ndarray, params: dict, name: str, c: Config) -> tuple[np.ndarray, tuple]:
    """LayerNorm or RMSNorm of each token with the gain (and bias) params[name + "_g"] ("_b")."""
    if c.norm == "layer":
        return _ln(x, params[name + "_g"], params[name + "_b"])
    return _rms(x, params[name + "_g"])


def _norm_grads(dy: np.ndarray, cache: tuple, name: str, g: dict) -> np.ndarray:
    dx, g[name + "_g"], db = _norm_back(dy, cache)
    if db is not None:
        g[name + "_b"] = db
    return dx


def _rope(x: np.ndarray, start: int, *, inverse: bool = False) -> np.ndarray:
    """Rotary positions start, start + 1, ... applied to x (B, h, T, d_h) (the inverse rotation for backward)."""
    if not inverse:
        return _attention.apply_rope(x, start)
    flip = np.where(np.arange(x.shape[-1]) % 2, -1.0, 1.0)  # R^T = F R F with F = diag(1, -1) on each pair
    return flip * _attention.apply_rope(flip * x, start)


def _act(u: np.ndarray, c: Config) -> np.ndarray:
    return np.maximum(u, 0.0) if c.mlp == "relu" else _gelu(u) if c.mlp == "gelu" else _silu(u)


def _act_back(u: np.ndarray, dy: np.ndarray, c: Config) -> np.ndarray:
    return dy * (u > 0) if c.mlp == "relu" else _gelu_back(u, dy) if c.mlp == "gelu" else _silu_back(u, dy)


# ---------------------------------------------------------------- one block, forward and backward
def _block(x: np.ndarray, params: dict, p: str, c: Config, ad: dict, s: float, cache: dict | None,
           start: int) -> tuple[np.ndarray, dict]:
    """One pre-norm block: x (B, T, d) -> (B, T, d), and the activations the backward pass needs."""
    a, n1 = _norm(x, params, p + "ln1", c)                               # (B, T, d)  normalise each token
    q = _split_heads(_lin(a, params[p + "Wq"], ad.get("Wq"), s), c.n_heads)    # (B, h, T, d_h)
    k = _split_heads(_lin(a, params[p + "Wk"], ad.get("Wk"), s), c.kv_heads)   # (B, h_kv, T, d_h)
    v = _split_heads(_lin(a, params[p + "Wv"], ad.get("Wv"), s), c.kv_heads)   # (B, h_kv, T, d_h)
    if c.positions == "rope":
        q, k = _rope(q, start), _rope(k, start)                          # rotate by position start, start+1, ...
    if cache is not None:                                                # KV cache: keys and values of the past
        if "K" in cache:
            k = np.concatenate([cache["K"], k], axis=2)                  # (B, h_kv, t - T, d_h) + (B, h_kv, T, d_h)
            v = np.concatenate([cache["V"], v], axis=2)
        cache["K"], cache["V"] = k, v
    rep = c.n_heads // c.kv_heads                                        # query heads per key/value head
    y, att = _attend(q, _repeat_kv(k, rep), _repeat_kv(v, rep), True, mm=_mm)  # (B, h, T, d_h), A (B, h, T, T_k)
    m = _merge_heads(y)                                                  # (B, T, d)
    x1 = x + _lin(m, params[p + "Wo"], ad.get("Wo"), s)                  # residual 1
    b, n2 = _norm(x1, params, p + "ln2", c)                              # (B, T, d)
    u = _lin(b, params[p + "W1"], ad.get("W1"), s)                       # (B, T, d) @ (d, d_ff) -> (B, T, d_ff)
    up = _lin(b, params[p + "W3"], ad.get("W3"), s) if c.mlp == "swiglu" else None   # SwiGLU's second branch
    hidden = _act(u, c) if up is None else _act(u, c) * up               # (B, T, d_ff)
    x2 = x1 + _lin(hidden, params[p + "W2"], ad.get("W2"), s)            # residual 2: (B, T, d_ff) @ (d_ff, d)
    return x2, {"a": a, "n1": n1, "att": att, "m": m, "x1": x1, "b": b, "n2": n2, "u": u, "up": up, "hidden": hidden}


def _block_back(dx: np.ndarray, params: dict, p: str, c: Config, ad: dict, s: float, acts: dict, start: int,
                g: dict, lg: dict) -> np.ndarray:
    """Backward of `_block`: dx (B, T, d) of its output -> dx of its input; fills g (and lg) for its weights."""
    # MLP branch, x2 = x1 + hidden W2: the residual passes dx straight through, so dx1 starts as dx
    dhidden = _lin_back(dx, acts["hidden"], params[p + "W2"], ad.get("W2"), s, g, p + "W2", lg)
    if c.mlp == "swiglu":                                                # hidden = silu(u) * up: product rule
        du = _act_back(acts["u"], dhidden * acts["up"], c)
        db = _lin_back(dhidden * _act(acts["u"], c), acts["b"], params[p + "W3"], ad.get("W3"), s, g, p + "W3", lg)
    else:
        du, db = _act_back(acts["u"], dhidden, c), 0.0
    db = db + _lin_back(du, acts["b"], params[p + "W1"], ad.get("W1"), s, g, p + "W1", lg)
    dx1 = dx + _norm_grads(db, acts["n2"], p + "ln2", g)                 # x1 feeds the residual and the norm
    # attention branch, x1 = x + merge(Attn(q, k, v)) Wo
    dm = _lin_back(dx1, acts["m"], params[p + "Wo"], ad.get("Wo"), s, g, p + "Wo", lg)
    dq, dk, dv = _attend_back(_split_heads(dm, c.n_heads), acts["att"])  # (B, h, T, d_h) each
    rep = c.n_heads // c.kv_heads
    if rep > 1:  # a shared key/value head collects the gradients of every query head it served
        dk = dk.reshape(dk.shape[0], c.kv_heads, rep, *dk.shape[2:]).sum(axis=2)
        dv = dv.reshape(dv.shape[0], c.kv_heads, rep, *dv.shape[2:]).sum(axis=2)
    if c.positions == "rope":
        dq, dk = _rope(dq, start, inverse=True), _rope(dk, start, inverse=True)
    da = (_lin_back(_merge_heads(dq), acts["a"], params[p + "Wq"], ad.get("Wq"), s, g, p + "Wq", lg)
          + _lin_back(_merge_heads(dk), acts["a"], params[p + "Wk"], ad.get("Wk"), s, g, p + "Wk", lg)
          + _lin_back(_merge_heads(dv), acts["a"], params[p + "Wv"], ad.get("Wv"), s, g, p + "Wv", lg))
    return dx1 + _norm_grads(da, acts["n1"], p + "ln1", g)


def block_forward(x: np.ndarray, params: dict[str, np.ndarray], cfg: Config, layer: int = 0) -> tuple[np.ndarray, dict]:
    """Block `layer` alone on its input (no cache, no adapters), with its intermediate arrays.

    x (B, T, d) -> x_out (B, T, d), {"a1": (B, T, d) normalised input, "q": (B, h, T, d_h), "k", "v":
    (B, h, T, d_h) (shared heads repeated), "A": (B, h, T, T) weights, "x_mid": (B, T, d) after
    residual 1, "a2": (B, T, d), "hidden": (B, T, d_ff), "x_out": (B, T, d)}
    """
    c = _config(cfg, "block_forward")
    _check_params(params, c, "block_forward")
    x = as_array(x, "x", "block_forward")
    if x.ndim != 3 or x.shape[-1] != c.d or x.shape[1] > c.block_size:
        raise ValueError(f"block_forward: x should have shape (B, T, d) with d = {c.d} and T <= {c.block_size}, got {x.shape}.")
    if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < c.n_layers:
        raise ValueError(f"block_forward: layer must be an integer in [0, {c.n_layers}), got {layer!r}.")
    out, acts = _block(x, params, f"h{layer}.", c, {}, 1.0, None, 0)
    att = acts["att"]
    return out, {"a1": acts["a"], "q": att["Q"], "k": att["K"], "v": att["V"], "A": att["A"], "x_mid": acts["x1"],
                 "a2": acts["b"], "hidden": acts["hidden"], "x_out": out}


def _source_of(fn: Callable, first: str, stop: str) -> str:
    lines = inspect.getsource(fn).splitlines()
    i = next(n for n, line in enumerate(lines) if line.lstrip().startswith(first))
    j = next(n for n, line in enumerate(lines) if line.lstrip().startswith(stop))
    return textwrap.dedent("\n".join(lines[i:j]))


def block_source() -> str:
    """The lines of the transformer's block (its forward pass), for printing in a chapter."""
    return _source_of(_block, "a, n1 = ", "return x2")


def backward_source() -> str:
    """The lines of the block's backward pass, for printing in a chapter."""
    return _source_of(_block_back, "# MLP branch", "return dx1")


# ---------------------------------------------------------------- the model
def _adapters(lora: dict | None, i: int) -> dict[str, tuple]:
    if not lora:
        return {}
    p = f"h{i}."
    return {k: (lora[p + k + ".A"], lora[p + k + ".B"]) for k in _lora.MODEL_TARGETS if p + k + ".A" in lora}


def _head(params: dict, c: Config) -> np.ndarray:
    return params["wte"].T if c.tied else params["W_lm"]  # (d, V)


def _forward(params: dict, tok: np.ndarray, c: Config, lora: dict | None = None, s: float = 1.0,
             caches: list[dict] | None = None, start: int = 0) -> tuple[np.ndarray, tuple]:
    """`forward` on checked arguments: tok (B, T) -> logits (B, T, V), and what the backward pass needs."""
    T = tok.shape[1]
    x = params["wte"][tok]  # (B, T, d): a lookup, not a matmul
    if c.positions == "learned":
        x = x + params["wpe"][start:start + T]  # (B, T, d) + (T, d)
    saved = []
    for i in range(c.n_layers):
        x, acts = _block(x, params, f"h{i}.", c, _adapters(lora, i), s, None if caches is None else caches[i], start)
        saved.append(acts)
    f, nf = _norm(x, params, "lnf", c)
    return _mm(f, _head(params, c)), (saved, f, nf)  # (B, T, d) @ (d, V) -> (B, T, V)


def _backward(dlogits: np.ndarray, params: dict, tok: np.ndarray, c: Config, saved: tuple,
              lora: dict | None = None, s: float = 1.0) -> tuple[dict, dict]:
    """Every parameter's gradient (and every adapter factor's), from dlogits (B, T, V)."""
    blocks, f, nf = saved
    g: dict[str, np.ndarray] = {}
    lg: dict[str, np.ndarray] = {}
    W = _head(params, c)
    dW = f.reshape(-1, c.d).T @ dlogits.reshape(-1, c.vocab_size)  # (d, B*T) @ (B*T, V)
    dx = _norm_grads(dlogits @ W.T, nf, "lnf", g)
    for i in reversed(range(c.n_layers)):
        dx = _block_back(dx, params, f"h{i}.", c, _adapters(lora, i), s, blocks[i], 0, g, lg)
    if c.positions == "learned":
        g["wpe"] = np.zeros_like(params["wpe"])
        g["wpe"][: tok.shape[1]] = dx.sum(axis=0)  # every sequence of the batch used positions 0..T-1
    g["wte"] = np.zeros_like(params["wte"])
    np.add.at(g["wte"], tok, dx)  # a row is used once per occurrence of its token: scatter-add
    if c.tied:
        g["wte"] += dW.T  # the head is wte.T: its gradient adds to the embedding's
    else:
        g["W_lm"] = dW
    return {k: g[k] for k in params if k in g}, lg


def forward(params: dict[str, np.ndarray], tokens: np.ndarray, cfg: Config, *, start: int = 0,
            caches: list[dict] | None = None, lora: dict[str, np.ndarray] | None = None,
            alpha: float = 1.0) -> np.ndarray:
    """Logits for every position: tokens (B, T) or (T,) ints in [0, V) -> logits (B, T, V).

    With `caches` (one dict per layer, empty at first) and `start` = tokens already cached, only
    the new tokens are processed: their keys and values are appended and they attend over all of
    them. With `lora` (from `lora.init_model_lora`), the adapters add (alpha / r) (x @ A) @ B.
    """
    c = _config(cfg, "forward")
    _check_params(params, c, "forward")
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or start < 0:
        raise ValueError(f"forward: start must be a non-negative integer (tokens already cached), got {start!r}.")
    tok = _tokens(tokens, c, "forward", start=int(start))
    if caches is not None and (not isinstance(caches, list) or len(caches) != c.n_layers
                               or not all(isinstance(k, dict) for k in caches)):
        raise TypeError(f"forward: caches must be a list of {c.n_layers} dicts (one per layer) or None.")
    return _forward(params, tok, c, lora, _scale(lora, alpha, params, "forward"), caches, int(start))[0]


def _targets(tokens: object, targets: object, c: Config, where: str) -> tuple[np.ndarray, np.ndarray]:
    tok = _tokens(tokens, c, where)
    tgt = _tokens(targets, c, where, "targets", allow_ignore=True)
    if tgt.shape != tok.shape:
        raise ValueError(f"{where}: targets should have the shape of tokens {tok.shape}, got {tgt.shape}.")
    if not (tgt >= 0).any():
        raise ValueError(f"{where}: targets has no position >= 0; nothing to score.")
    return tok, tgt


def loss(params: dict[str, np.ndarray], tokens: np.ndarray, targets: np.ndarray, cfg: Config, *,
         lora: dict[str, np.ndarray] | None = None, alpha: float = 1.0) -> float:
    """The loss alone (the forward pass only; what a finite-difference check evaluates).

    tokens (B, T), targets (B, T) ints in [-1, V) -> mean cross-entropy over the positions with a target >= 0
    """
    c = _config(cfg, "loss")
    _check_params(params, c, "loss")
    tok, tgt = _targets(tokens, targets, c, "loss")
    return _seq_ce(_forward(params, tok, c, lora, _scale(lora, alpha, params, "loss"))[0], tgt)[0]


def loss_and_grads(params: dict[str, np.ndarray], tokens: np.ndarray, targets: np.ndarray, cfg: Config, *,
                   lora: dict[str, np.ndarray] | None = None, alpha: float = 1.0) -> tuple[float, dict, dict]:
    """The loss and the gradient of every parameter (and adapter factor): the full backward pass.

    tokens (B, T), targets (B, T) ints in [-1, V) -> loss, grads {name: like params}, lora_grads
    """
    c = _config(cfg, "loss_and_grads")
    _check_params(params, c, "loss_and_grads")
    tok, tgt = _targets(tokens, targets, c, "loss_and_grads")
    return _loss_and_grads(params, tok, tgt, c, lora, _scale(lora, alpha, params, "loss_and_grads"))


def _loss_and_grads(params: dict, tok: np.ndarray, tgt: np.ndarray, c: Config, lora: dict | None = None,
                    s: float = 1.0) -> tuple[float, dict, dict]:
    logits, saved = _forward(params, tok, c, lora, s)
    value, dlogits = _seq_ce(logits, tgt)
    grads, lgrads = _backward(dlogits, params, tok, c, saved, lora, s)
    return value, grads, lgrads


def attention_maps(params: dict[str, np.ndarray], tokens: np.ndarray, cfg: Config, *,
                   lora: dict[str, np.ndarray] | None = None, alpha: float = 1.0) -> list[np.ndarray]:
    """The causal attention weights of every layer: tokens (B, T) or (T,) -> list of L arrays (B, h, T, T)."""
    c = _config(cfg, "attention_maps")
    _check_params(params, c, "attention_maps")
    tok = _tokens(tokens, c, "attention_maps")
    s = _scale(lora, alpha, params, "attention_maps")
    return [acts["att"]["A"] for acts in _forward(params, tok, c, lora, s)[1][0]]


# ---------------------------------------------------------------- decoding, with and without the KV cache
def generate(params: dict[str, np.ndarray], prompt: np.ndarray, n_new: int, cfg: Config, *,
             use_cache: bool = True, rng: np.random.Generator | None = None,
             lora: dict[str, np.ndarray] | None = None, alpha: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Extend `prompt` by n_new tokens, greedily (rng None) or by seeded sampling.

    prompt (B, T0) or (T0,) -> tokens (B, T0 + n_new), step_logits (n_new, B, V): the logits each
    new token was chosen from. With the cache each step feeds only the newest token and reuses every
    layer's keys and values (B, h_kv, t, d_h); without it each step reruns the whole sequence.
    """
    c = _config(cfg, "generate")
    _check_params(params, c, "generate")
    tok = _tokens(prompt, c, "generate", "prompt")
    n_new = as_positive_int(n_new, "n_new", "generate")
    if rng is not None:
        as_rng(rng, "generate")
    if tok.shape[1] + n_new - 1 > c.block_size:
        raise ValueError(f"generate: prompt of {tok.shape[1]} plus n_new = {n_new} tokens exceeds block_size = {c.block_size}.")
    return _generate(params, tok, n_new, c, bool(use_cache), rng, lora, _scale(lora, alpha, params, "generate"))


def _generate(params: dict, tok: np.ndarray, n_new: int, c: Config, use_cache: bool, rng: np.random.Generator | None,
              lora: dict | None, s: float) -> tuple[np.ndarray, np.ndarray]:
    caches = [{} for _ in range(c.n_layers)] if use_cache else None
    logits = _forward(params, tok, c, lora, s, caches)[0][:, -1]  # prefill: (B, T0, V) -> (B, V)
    step_logits = []
    for step in range(n_new):
        step_logits.append(logits)
        if rng is None:
            nxt = logits.argmax(axis=-1)  # greedy: (B,)
        else:
            probs = _softmax(logits)
            nxt = np.array([rng.choice(c.vocab_size, p=row) for row in probs])
        tok = np.concatenate([tok, nxt[:, None]], axis=1)  # (B, t) -> (B, t + 1)
        if step == n_new - 1:
            break
        if use_cache:  # only the new token goes through the model
            logits = _forward(params, nxt[:, None], c, lora, s, caches, tok.shape[1] - 1)[0][:, -1]
        else:  # no cache: the keys and values of every earlier token are computed again
            logits = _forward(params, tok, c, lora, s)[0][:, -1]
    return tok, np.stack(step_logits)


def step_function(params: dict, cfg: Config, t: int, *, cached: bool) -> Callable[[], np.ndarray]:
    """A function of no arguments that computes the logits choosing token t + 1 (batch 1), for timing.

    cached=False: a full forward pass over t tokens. cached=True: only token t, attending over a
    cache pre-filled with the first t - 1 tokens (copied at each call, so calls do not grow it).
    -> fn() returning logits (1, V)
    """
    c = _config(cfg, "step_function")
    _check_params(params, c, "step_function")
    t = as_positive_int(t, "t", "step_function")
    if t > c.block_size:
        raise ValueError(f"step_function: t = {t} is past block_size = {c.block_size}.")
    tok = (np.arange(t, dtype=np.int64) % c.vocab_size)[None]  # (1, t): any fixed tokens will do
    if not cached:
        return lambda: _forward(params, tok, c)[0][:, -1]
    caches = [{} for _ in range(c.n_layers)]
    if t > 1:
        _forward(params, tok[:, :-1], c, caches=caches)  # prefill t - 1 tokens

    def step() -> np.ndarray:
        fresh = [dict(k) for k in caches]  # the step appends to its own copy
        return _forward(params, tok[:, -1:], c, caches=fresh, start=t - 1)[0][:, -1]
    return step


# ---------------------------------------------------------------- the toy model's own FLOPs
def layer_flops(cfg: Config, T_q: int, T_k: int) -> int:
    """Matmul FLOPs of one block processing T_q new tokens that attend over T_k keys (batch 1, no adapters)."""
    c = _config(cfg, "layer_flops")
    T_q, T_k = positive_ints("layer_flops", T_q=T_q, T_k=T_k)
    d, d_kv, F = c.d, c.kv_heads * c.head_dim, c.d_ff
    projections = 2 * T_q * d * (2 * d + 2 * d_kv)  # Wq, Wo (d, d); Wk, Wv (d, d_kv)
    attention = 2 * 2 * T_q * T_k * d  # Q K^T and A V, summed over the h heads (h * d_h = d)
    mlp = 2 * T_q * d * F * (3 if c.mlp == "swiglu" else 2)  # W1, W2 (and W3)
    return projections + attention + mlp


def step_flops(cfg: Config, t: int, *, cached: bool) -> int:
    """Matmul FLOPs to get the logits that choose the token after a sequence of length t (batch 1).

    Without a cache: a full forward pass over t tokens (logits for all t positions, as `forward`
    computes them). With a cache: only the newest token, attending over t keys.
    """
    c = _config(cfg, "step_flops")
    t = as_positive_int(t, "t", "step_flops")
    T_q = 1 if cached else t
    return c.n_layers * layer_flops(c, T_q, t) + 2 * T_q * c.d * c.vocab_size  # blocks + LM head (T_q, d) @ (d, V)
