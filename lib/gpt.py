"""A tiny GPT in NumPy that trains: forward, the full backward pass, Adam, KV-cache decoding, LoRA.

Letters: B batch, T tokens, d width, h heads, d_k = d / h head width, d_ff MLP width, V vocabulary,
L layers, r LoRA rank, n digits of the task.

    x = wte[tokens] + wpe[:T]                                   (B, T, d)
    for each of the L blocks (pre-norm, GPT-2 style):
        x = x + Attn(LN1(x)) Wo        causal, h heads; Wq Wk Wv Wo (d, d), no biases
        x = x + GELU(LN2(x) W1) W2      W1 (d, d_ff), W2 (d_ff, d), no biases
    logits = LN_f(x) W_lm                                       (B, T, V), W_lm (d, V) untied
    loss = mean cross-entropy over the positions whose target is >= 0 (-1 means "no loss here")

The parameters are one flat dict name -> array ("wte", "h0.Wq", ...), so a gradient check, Adam
and a LoRA adapter all just loop over names. Everything is float64. The task: a row of n digits,
a separator, then the digits transformed (reversed, or rotated); the model is scored only on the
digits after the separator. See the chapter `tiny-gpt`.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import numbers
import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from lib.attention import attention_backward, attention_forward, merge_heads, split_heads
from lib.shapes import as_array, as_number, as_positive_int, as_seed, positive_ints

SEP = 10  # the separator token; 0-9 are the digits
VOCAB = 11
TASKS = ("reverse", "rotate")


@dataclass(frozen=True)
class GPTConfig:
    """Sizes of the tiny GPT; the defaults fit the digit tasks with n = 6 (T = 2n = 12)."""

    vocab: int = VOCAB
    d: int = 32
    n_heads: int = 2
    n_layers: int = 1
    d_ff: int = 64
    block_size: int = 12

    def __post_init__(self) -> None:
        for name in ("vocab", "d", "n_heads", "n_layers", "d_ff", "block_size"):
            as_positive_int(getattr(self, name), name, "GPTConfig")
        if self.d % self.n_heads:
            raise ValueError(f"GPTConfig: d = {self.d} must be divisible by n_heads = {self.n_heads}.")


def _cfg(cfg: object, where: str) -> GPTConfig:
    if not isinstance(cfg, GPTConfig):
        raise TypeError(f"{where}: cfg must be a gpt.GPTConfig, got {type(cfg).__name__}.")
    return cfg


def param_shapes(cfg: GPTConfig) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every parameter, in the order the data flows."""
    c = _cfg(cfg, "param_shapes")
    d, F, V = c.d, c.d_ff, c.vocab
    shapes: dict[str, tuple[int, ...]] = {"wte": (V, d), "wpe": (c.block_size, d)}
    for i in range(c.n_layers):
        p = f"h{i}."
        shapes |= {p + "ln1_g": (d,), p + "ln1_b": (d,), p + "Wq": (d, d), p + "Wk": (d, d), p + "Wv": (d, d),
                   p + "Wo": (d, d), p + "ln2_g": (d,), p + "ln2_b": (d,), p + "W1": (d, F), p + "W2": (F, d)}
    return shapes | {"lnf_g": (d,), "lnf_b": (d,), "W_lm": (d, V)}


def init_params(cfg: GPTConfig, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded weights: matrices N(0, 1/fan_in), embeddings N(0, 1) / 2, norm gains 1, norm biases 0."""
    c = _cfg(cfg, "init_params")
    rng = np.random.default_rng(as_seed(seed, "init_params"))
    params = {}
    for name, shape in param_shapes(c).items():
        short = name.split(".")[-1]
        if short.endswith("_g"):
            params[name] = np.ones(shape)
        elif len(shape) == 1:
            params[name] = np.zeros(shape)
        elif name in ("wte", "wpe"):
            params[name] = 0.5 * rng.standard_normal(shape)
        else:
            params[name] = rng.standard_normal(shape) / np.sqrt(shape[0])
    return params


def n_params(params: dict[str, np.ndarray]) -> int:
    """Total number of parameters in a dict of arrays (a model or an adapter)."""
    _check_dict(params, "params", "n_params")
    return sum(int(np.size(a)) for a in params.values())


def _check_dict(params: object, name: str, where: str) -> dict:
    if not isinstance(params, dict) or not params:
        raise TypeError(f"{where}: {name} must be a non-empty dict of name -> array, got {type(params).__name__}.")
    for k, v in params.items():
        as_array(v, f"{name}[{k!r}]", where)
    return params


def _check_params(params: object, cfg: GPTConfig, where: str) -> dict:
    if not isinstance(params, dict):
        raise TypeError(f"{where}: params must be the dict made by init_params(cfg), got {type(params).__name__}.")
    shapes = param_shapes(cfg)
    missing = [k for k in shapes if k not in params]
    if missing:
        raise ValueError(f"{where}: params is missing {missing[:4]}; make it with init_params(cfg).")
    for k, shape in shapes.items():
        arr = as_array(params[k], f"params[{k!r}]", where)
        if arr.shape != shape:
            raise ValueError(f"{where}: params[{k!r}] should have shape {shape}, got {arr.shape}.")
    return params


def _tokens(tokens: object, cfg: GPTConfig, where: str, name: str = "tokens", *, allow_ignore: bool = False) -> np.ndarray:
    arr = as_array(tokens, name, where)
    if arr.ndim == 1:
        arr = arr[None, :]  # (T,) -> (1, T)
    if arr.ndim != 2:
        raise ValueError(f"{where}: {name} should be 2-D with shape (B, T), got shape {arr.shape}.")
    low = -1 if allow_ignore else 0
    if not np.array_equal(arr, np.round(arr)) or arr.min() < low or arr.max() >= cfg.vocab:
        raise ValueError(f"{where}: {name} must be integers in [{low}, {cfg.vocab}), got values from {arr.min()} to {arr.max()}.")
    if arr.shape[1] > cfg.block_size:
        raise ValueError(f"{where}: {name} has {arr.shape[1]} positions, more than block_size = {cfg.block_size}.")
    return arr.astype(np.int64)


# ---------------------------------------------------------------- the new pieces, forward and backward
def layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float = 1e-5) -> tuple[np.ndarray, tuple]:
    """LayerNorm of each row, and the cache its backward pass needs.

    x (..., d), g (d,), b (d,) -> y (..., d) = (x - mean) / sqrt(var + eps) * g + b, cache
    """
    x, g, b = (as_array(a, n, "layer_norm") for a, n in ((x, "x"), (g, "g"), (b, "b")))
    for name, p in (("g", g), ("b", b)):
        if p.ndim != 1 or p.shape[0] != x.shape[-1]:
            raise ValueError(f"layer_norm: {name} should have shape (d,) = ({x.shape[-1]},) to match x {x.shape}, got {p.shape}.")
    return _ln(x, g, b, eps)


def _ln(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float = 1e-5) -> tuple[np.ndarray, tuple]:
    xc = x - x.mean(axis=-1, keepdims=True)
    rstd = 1.0 / np.sqrt((xc * xc).mean(axis=-1, keepdims=True) + eps)  # (..., 1)
    xhat = xc * rstd  # (..., d): mean 0, variance 1 per row
    return xhat * g + b, (xhat, rstd, g)


def layer_norm_backward(dy: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of LayerNorm: dy (..., d) -> dx (..., d), dg (d,), db (d,)."""
    if not isinstance(cache, tuple) or len(cache) != 3:
        raise TypeError("layer_norm_backward: cache must be the second value returned by layer_norm.")
    dy = as_array(dy, "dy", "layer_norm_backward")
    if dy.shape != cache[0].shape:
        raise ValueError(f"layer_norm_backward: dy should have the shape of x, {cache[0].shape}, got {dy.shape}.")
    return _ln_back(dy, cache)


def _ln_back(dy: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xhat, rstd, g = cache
    d = xhat.shape[-1]
    dg = (dy * xhat).reshape(-1, d).sum(axis=0)  # summed over every row that used g
    db = dy.reshape(-1, d).sum(axis=0)
    dxhat = dy * g
    # x feeds every entry of its row through the mean and the variance: remove those two directions
    dx = rstd * (dxhat - dxhat.mean(axis=-1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True))
    return dx, dg, db


_C = np.sqrt(2.0 / np.pi)


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU, tanh form (GPT-2's): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). x (...) -> (...)"""
    return _gelu(as_array(x, "x", "gelu"))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(_C * (x + 0.044715 * x * x * x)))


def gelu_backward(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dL/dx of GELU given its input x and the upstream dy (same shape)."""
    x, dy = as_array(x, "x", "gelu_backward"), as_array(dy, "dy", "gelu_backward")
    if x.shape != dy.shape:
        raise ValueError(f"gelu_backward: dy should have the shape of x, {x.shape}, got {dy.shape}.")
    return _gelu_back(x, dy)


def _gelu_back(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    t = np.tanh(_C * (x + 0.044715 * x * x * x))
    return dy * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _C * (1.0 + 3 * 0.044715 * x * x))


def sequence_loss(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy over the positions whose target is >= 0, and its gradient.

    logits (B, T, V), targets (B, T) ints in [-1, V) -> loss, dlogits (B, T, V)
    """
    logits = as_array(logits, "logits", "sequence_loss")
    if logits.ndim != 3:
        raise ValueError(f"sequence_loss: logits should be 3-D with shape (B, T, V), got shape {logits.shape}.")
    targets = as_array(targets, "targets", "sequence_loss")
    if targets.shape != logits.shape[:2]:
        raise ValueError(f"sequence_loss: targets should have shape (B, T) = {logits.shape[:2]}, got {targets.shape}.")
    V = logits.shape[2]
    if not np.array_equal(targets, np.round(targets)) or targets.min() < -1 or targets.max() >= V:
        raise ValueError(f"sequence_loss: targets must be integers in [-1, {V}), got values from {targets.min()} to {targets.max()}.")
    if not (targets >= 0).any():
        raise ValueError("sequence_loss: targets has no position >= 0; nothing to score.")
    return _ce(logits, targets.astype(np.int64))


def _ce(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    scored = targets >= 0  # (B, T)
    n = int(scored.sum())
    z = logits - logits.max(axis=-1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=-1, keepdims=True)  # softmax, (B, T, V)
    t = np.where(scored, targets, 0)[..., None]  # (B, T, 1)
    logp = np.take_along_axis(z, t, axis=-1)[..., 0] - np.log(np.exp(z).sum(axis=-1))  # (B, T)
    loss = -float(logp[scored].sum()) / n
    dlogits = p.copy()
    np.put_along_axis(dlogits, t, np.take_along_axis(p, t, axis=-1) - 1.0, axis=-1)  # softmax - one_hot
    return loss, dlogits * (scored[..., None] / n)


# ---------------------------------------------------------------- the model, forward and backward
def _lin(x: np.ndarray, W: np.ndarray, ad: tuple | None, s: float) -> np.ndarray:
    """x @ W, plus s * (x @ B) @ A through a LoRA adapter ad = (B, A)."""
    y = x @ W  # (..., D_in) @ (D_in, D_out)
    if ad is not None:
        y = y + s * ((x @ ad[0]) @ ad[1])  # (..., D_in) @ (D_in, r) @ (r, D_out): never forms B @ A
    return y


def _lin_back(dy: np.ndarray, x: np.ndarray, W: np.ndarray, ad: tuple | None, s: float, grads: dict, name: str,
              lgrads: dict | None) -> np.ndarray:
    D_in, D_out = W.shape
    x2, dy2 = x.reshape(-1, D_in), dy.reshape(-1, D_out)  # every token is a row: (B*T, D_in), (B*T, D_out)
    grads[name] = x2.T @ dy2  # (D_in, B*T) @ (B*T, D_out)
    dx = dy @ W.T
    if ad is not None:
        Bm, Am = ad
        dh = s * (dy2 @ Am.T)  # (B*T, r)
        lgrads[name + ".A"] = s * (x2 @ Bm).T @ dy2  # (r, B*T) @ (B*T, D_out)
        lgrads[name + ".B"] = x2.T @ dh  # (D_in, B*T) @ (B*T, r)
        dx = dx + (dh @ Bm.T).reshape(dx.shape)
    return dx


def _adapters(lora: dict | None, i: int) -> dict[str, tuple | None]:
    if not lora:
        return {}
    p = f"h{i}."
    return {k: (lora[p + k + ".B"], lora[p + k + ".A"]) for k in ("Wq", "Wk", "Wv", "Wo", "W1", "W2")
            if p + k + ".B" in lora}


def _forward(params: dict, tok: np.ndarray, cfg: GPTConfig, lora: dict | None = None, s: float = 1.0,
             kv: list[dict] | None = None, start: int = 0) -> tuple[np.ndarray, list]:
    """logits (B, T, V) and what the backward pass needs; with kv, tokens start at position `start`."""
    T = tok.shape[1]
    x = params["wte"][tok] + params["wpe"][start:start + T]  # (B, T, d): a lookup, not a matmul
    saved = []
    for i in range(cfg.n_layers):
        p, ad = f"h{i}.", _adapters(lora, i)
        a, ln1 = _ln(x, params[p + "ln1_g"], params[p + "ln1_b"])
        q = split_heads(_lin(a, params[p + "Wq"], ad.get("Wq"), s), cfg.n_heads)  # (B, h, T, d_k)
        k = split_heads(_lin(a, params[p + "Wk"], ad.get("Wk"), s), cfg.n_heads)
        v = split_heads(_lin(a, params[p + "Wv"], ad.get("Wv"), s), cfg.n_heads)
        if kv is not None:
            if "K" in kv[i]:
                k = np.concatenate([kv[i]["K"], k], axis=2)  # (B, h, t-1, d_k) + (B, h, T, d_k)
                v = np.concatenate([kv[i]["V"], v], axis=2)
            kv[i]["K"], kv[i]["V"] = k, v
        y, att = attention_forward(q, k, v, causal=True)  # (B, h, T, d_k), att["A"] (B, h, T, T_k)
        m = merge_heads(y)  # (B, T, d)
        x1 = x + _lin(m, params[p + "Wo"], ad.get("Wo"), s)  # residual
        c, ln2 = _ln(x1, params[p + "ln2_g"], params[p + "ln2_b"])
        u = _lin(c, params[p + "W1"], ad.get("W1"), s)  # (B, T, d) @ (d, d_ff) -> (B, T, d_ff)
        gu = _gelu(u)
        x = x1 + _lin(gu, params[p + "W2"], ad.get("W2"), s)  # (B, T, d_ff) @ (d_ff, d), residual
        saved.append((a, ln1, att, m, c, ln2, u, gu))
    f, lnf = _ln(x, params["lnf_g"], params["lnf_b"])
    logits = f @ params["W_lm"]  # (B, T, d) @ (d, V) -> (B, T, V)
    return logits, [saved, f, lnf]


def _backward(dlogits: np.ndarray, params: dict, tok: np.ndarray, cfg: GPTConfig, saved: list,
              lora: dict | None = None, s: float = 1.0) -> tuple[dict, dict]:
    """Every parameter's gradient (and every adapter factor's), from dlogits (B, T, V)."""
    blocks, f, lnf = saved
    g: dict[str, np.ndarray] = {}
    lg: dict[str, np.ndarray] = {}
    V = cfg.vocab
    g["W_lm"] = f.reshape(-1, cfg.d).T @ dlogits.reshape(-1, V)  # (d, B*T) @ (B*T, V)
    dx, g["lnf_g"], g["lnf_b"] = _ln_back(dlogits @ params["W_lm"].T, lnf)
    for i in reversed(range(cfg.n_layers)):
        p, ad = f"h{i}.", _adapters(lora, i)
        a, ln1, att, m, c, ln2, u, gu = blocks[i]
        # MLP branch: x = x1 + GELU(c W1) W2; the residual passes dx straight through
        dgu = _lin_back(dx, gu, params[p + "W2"], ad.get("W2"), s, g, p + "W2", lg)
        du = _gelu_back(u, dgu)
        dc = _lin_back(du, c, params[p + "W1"], ad.get("W1"), s, g, p + "W1", lg)
        dln, g[p + "ln2_g"], g[p + "ln2_b"] = _ln_back(dc, ln2)
        dx1 = dx + dln  # x1 feeds the residual and the norm: gradients add
        # attention branch: x1 = x + merge(Attn(q, k, v)) Wo
        dm = _lin_back(dx1, m, params[p + "Wo"], ad.get("Wo"), s, g, p + "Wo", lg)
        dq, dk, dv = attention_backward(split_heads(dm, cfg.n_heads), att)  # (B, h, T, d_k) each
        da = (_lin_back(merge_heads(dq), a, params[p + "Wq"], ad.get("Wq"), s, g, p + "Wq", lg)
              + _lin_back(merge_heads(dk), a, params[p + "Wk"], ad.get("Wk"), s, g, p + "Wk", lg)
              + _lin_back(merge_heads(dv), a, params[p + "Wv"], ad.get("Wv"), s, g, p + "Wv", lg))
        dln, g[p + "ln1_g"], g[p + "ln1_b"] = _ln_back(da, ln1)
        dx = dx1 + dln
    T = tok.shape[1]
    g["wpe"] = np.zeros_like(params["wpe"])
    g["wpe"][:T] = dx.sum(axis=0)  # every sequence in the batch used positions 0..T-1
    g["wte"] = np.zeros_like(params["wte"])
    np.add.at(g["wte"], tok, dx)  # a row is used once per occurrence of its token: scatter-add
    return {k: g[k] for k in params}, lg


def forward(params: dict[str, np.ndarray], tokens: np.ndarray, cfg: GPTConfig, *,
            lora: dict[str, np.ndarray] | None = None, alpha: float = 1.0) -> np.ndarray:
    """Logits for every position: tokens (B, T) or (T,) ints in [0, V) -> logits (B, T, V).

    With `lora` (from init_lora), the adapters add (alpha / r) * (x @ B) @ A to their projections.
    """
    c = _cfg(cfg, "forward")
    _check_params(params, c, "forward")
    tok = _tokens(tokens, c, "forward")
    s = _lora_scale(lora, alpha, params, "forward")
    return _forward(params, tok, c, lora, s)[0]


def loss(params: dict[str, np.ndarray], tokens: np.ndarray, targets: np.ndarray, cfg: GPTConfig, *,
         lora: dict[str, np.ndarray] | None = None, alpha: float = 1.0) -> float:
    """The loss alone (the forward pass only; what a finite-difference check evaluates).

    tokens (B, T), targets (B, T) ints in [-1, V) -> mean cross-entropy over the scored positions
    """
    c = _cfg(cfg, "loss")
    _check_params(params, c, "loss")
    tok = _tokens(tokens, c, "loss")
    tgt = _tokens(targets, c, "loss", "targets", allow_ignore=True)
    if tgt.shape != tok.shape:
        raise ValueError(f"loss: targets should have the shape of tokens {tok.shape}, got {tgt.shape}.")
    if not (tgt >= 0).any():
        raise ValueError("loss: targets has no position >= 0; nothing to score.")
    s = _lora_scale(lora, alpha, params, "loss")
    return _ce(_forward(params, tok, c, lora, s)[0], tgt)[0]


def loss_and_grads(params: dict[str, np.ndarray], tokens: np.ndarray, targets: np.ndarray, cfg: GPTConfig, *,
                   lora: dict[str, np.ndarray] | None = None, alpha: float = 1.0) -> tuple[float, dict, dict]:
    """The loss and the gradient of every parameter (and adapter factor): the full backward pass.

    tokens (B, T), targets (B, T) ints in [-1, V) -> loss, grads {name: like params}, lora_grads
    """
    c = _cfg(cfg, "loss_and_grads")
    _check_params(params, c, "loss_and_grads")
    tok = _tokens(tokens, c, "loss_and_grads")
    tgt = _tokens(targets, c, "loss_and_grads", "targets", allow_ignore=True)
    if tgt.shape != tok.shape:
        raise ValueError(f"loss_and_grads: targets should have the shape of tokens {tok.shape}, got {tgt.shape}.")
    if not (tgt >= 0).any():
        raise ValueError("loss_and_grads: targets has no position >= 0; nothing to score.")
    s = _lora_scale(lora, alpha, params, "loss_and_grads")
    return _loss_and_grads(params, tok, tgt, c, lora, s)


def _loss_and_grads(params, tok, tgt, cfg, lora=None, s=1.0):
    logits, saved = _forward(params, tok, cfg, lora, s)
    loss, dlogits = _ce(logits, tgt)
    grads, lgrads = _backward(dlogits, params, tok, cfg, saved, lora, s)
    return loss, grads, lgrads


def attention_maps(params: dict[str, np.ndarray], tokens: np.ndarray, cfg: GPTConfig, *,
                   lora: dict[str, np.ndarray] | None = None, alpha: float = 1.0) -> list[np.ndarray]:
    """The causal attention weights of every layer: tokens (B, T) -> list of L arrays (B, h, T, T)."""
    c = _cfg(cfg, "attention_maps")
    _check_params(params, c, "attention_maps")
    tok = _tokens(tokens, c, "attention_maps")
    s = _lora_scale(lora, alpha, params, "attention_maps")
    return [blk[2]["A"] for blk in _forward(params, tok, c, lora, s)[1][0]]


# ---------------------------------------------------------------- decoding with and without the KV cache
def generate(params: dict[str, np.ndarray], prompt: np.ndarray, n_new: int, cfg: GPTConfig, *,
             use_cache: bool = True, lora: dict[str, np.ndarray] | None = None, alpha: float = 1.0) -> np.ndarray:
    """Greedy decoding: prompt (B, T0) or (T0,) -> tokens (B, T0 + n_new).

    With the cache, each step feeds only the newest token and reuses every layer's keys and
    values (B, h, t, d_k); without it, each step reruns the whole sequence.
    """
    c = _cfg(cfg, "generate")
    _check_params(params, c, "generate")
    tok = _tokens(prompt, c, "generate", "prompt")
    n_new = as_positive_int(n_new, "n_new", "generate")
    if tok.shape[1] + n_new - 1 > c.block_size:
        raise ValueError(f"generate: prompt of {tok.shape[1]} plus n_new = {n_new} tokens exceeds block_size = {c.block_size}.")
    s = _lora_scale(lora, alpha, params, "generate")
    kv = [{} for _ in range(c.n_layers)] if use_cache else None
    logits = _forward(params, tok, c, lora, s, kv)[0][:, -1]  # prefill: (B, V)
    for step in range(n_new):
        nxt = logits.argmax(axis=-1)  # (B,)
        tok = np.concatenate([tok, nxt[:, None]], axis=1)  # (B, t) -> (B, t + 1)
        if step == n_new - 1:
            break
        if use_cache:  # only the new token goes through the model
            logits = _forward(params, nxt[:, None], c, lora, s, kv, start=tok.shape[1] - 1)[0][:, -1]
        else:
            logits = _forward(params, tok, c, lora, s)[0][:, -1]
    return tok


def kv_cache_elements(cfg: GPTConfig, T: int, B: int = 1) -> int:
    """Numbers in the KV cache after T tokens: 2 (K, V) * L * B * h * T * d_k = 2 L B T d."""
    c = _cfg(cfg, "kv_cache_elements")
    T, B = positive_ints("kv_cache_elements", T=T, B=B)
    return 2 * c.n_layers * B * T * c.d


# ---------------------------------------------------------------- the digit tasks
def make_task(kind: str, n_examples: int, n_digits: int, seed: int, *, exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Random digit rows and their transformation, seeded; rows in `exclude` are never drawn.

    -> X (n_examples, n_digits), Y (n_examples, n_digits) ints 0-9.
    'reverse': Y[:, j] = X[:, n-1-j].  'rotate': Y[:, j] = X[:, (j+1) mod n] (shift left by one).
    """
    if kind not in TASKS:
        raise ValueError(f"make_task: kind must be one of {TASKS}, got {kind!r}.")
    n_examples, n_digits = positive_ints("make_task", n_examples=n_examples, n_digits=n_digits)
    rng = np.random.default_rng(as_seed(seed, "make_task"))
    seen = set() if exclude is None else {tuple(r) for r in np.asarray(as_array(exclude, "exclude", "make_task"), dtype=np.int64)}
    if n_examples > 10**n_digits - len(seen):
        raise ValueError(f"make_task: cannot draw {n_examples} distinct rows of {n_digits} digits.")
    rows: list[tuple[int, ...]] = []
    chosen: set[tuple[int, ...]] = set()
    while len(rows) < n_examples:
        for r in map(tuple, rng.integers(0, 10, size=(n_examples, n_digits)).tolist()):
            if r not in seen and r not in chosen and len(rows) < n_examples:
                chosen.add(r)
                rows.append(r)
    X = np.array(rows, dtype=np.int64)
    Y = X[:, ::-1] if kind == "reverse" else np.roll(X, -1, axis=1)
    return X, Y.copy()


def to_sequences(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training sequences for next-token prediction, scored only on the answer.

    X (N, n), Y (N, n) -> tokens (N, 2n) = [x_1..x_n, SEP, y_1..y_{n-1}],
    targets (N, 2n) = [-1 (n times), y_1..y_n]: the input SEP at position n predicts y_1, and so on.
    """
    X, Y = _digits(X, "X", "to_sequences"), _digits(Y, "Y", "to_sequences")
    if X.shape != Y.shape:
        raise ValueError(f"to_sequences: Y should have the shape of X {X.shape}, got {Y.shape}.")
    N, n = X.shape
    full = np.concatenate([X, np.full((N, 1), SEP), Y], axis=1)  # (N, 2n + 1)
    targets = full[:, 1:].copy()
    targets[:, : n - 1] = -1  # no loss on predicting the input digits (they are random)
    targets[:, n - 1] = -1  # nor on predicting the separator
    return full[:, :-1], targets


def _digits(X: object, name: str, where: str) -> np.ndarray:
    arr = as_array(X, name, where)
    if arr.ndim != 2:
        raise ValueError(f"{where}: {name} should be 2-D with shape (N, n), got shape {arr.shape}.")
    if not np.array_equal(arr, np.round(arr)) or arr.min() < 0 or arr.max() > 9:
        raise ValueError(f"{where}: {name} must hold digits 0-9, got values from {arr.min()} to {arr.max()}.")
    return arr.astype(np.int64)


def solve(params: dict[str, np.ndarray], X: np.ndarray, cfg: GPTConfig, *, use_cache: bool = True,
          lora: dict[str, np.ndarray] | None = None, alpha: float = 1.0) -> np.ndarray:
    """The model's answers by greedy decoding after [x, SEP]: X (N, n) -> predictions (N, n)."""
    c = _cfg(cfg, "solve")
    _check_params(params, c, "solve")
    X = _digits(X, "X", "solve")
    if 2 * X.shape[1] > c.block_size:
        raise ValueError(f"solve: rows of {X.shape[1]} digits need a context of {2 * X.shape[1]}, more than "
                         f"block_size = {c.block_size}; X should have at most {c.block_size // 2} columns.")
    prompt = np.concatenate([X, np.full((X.shape[0], 1), SEP)], axis=1)  # (N, n + 1)
    return generate(params, prompt, X.shape[1], cfg, use_cache=use_cache, lora=lora, alpha=alpha)[:, X.shape[1] + 1:]


def accuracy(params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray, cfg: GPTConfig, *,
             lora: dict[str, np.ndarray] | None = None, alpha: float = 1.0) -> tuple[float, float]:
    """(digit accuracy, whole-sequence accuracy) of greedy answers on X against Y."""
    c = _cfg(cfg, "accuracy")
    _check_params(params, c, "accuracy")
    X, Y = _digits(X, "X", "accuracy"), _digits(Y, "Y", "accuracy")
    if X.shape != Y.shape:
        raise ValueError(f"accuracy: Y should have the shape of X {X.shape}, got {Y.shape}.")
    pred = solve(params, X, cfg, lora=lora, alpha=alpha)
    return float((pred == Y).mean()), float((pred == Y).all(axis=1).mean())


# ---------------------------------------------------------------- training with Adam
@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Run NumPy's OpenBLAS on one thread inside the block (a no-op if it cannot be found).

    The matrices here are tiny ((640, 32) @ (32, 32)); splitting them over threads costs more
    than it saves, and on a busy machine it makes training several times slower.
    """
    found = glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "*openblas*"))
    try:
        blas = ctypes.CDLL(found[0])
        get, set_ = blas.scipy_openblas_get_num_threads64_, blas.scipy_openblas_set_num_threads64_
    except (IndexError, OSError, AttributeError):
        yield
        return
    before = get()
    set_(1)
    try:
        yield
    finally:
        set_(before)


def adam_update(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int, lr: float,
                beta1: float = 0.9, beta2: float = 0.99, eps: float = 1e-8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Adam step; t counts steps from 1. p, g, m, v (any shape, all the same) -> new p, m, v.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  p <- p - lr m_hat / (sqrt(v_hat) + eps),
    with m_hat = m / (1 - b1^t) and v_hat = v / (1 - b2^t) undoing the zero start of m and v.
    """
    arrays = [as_array(a, n, "adam_update") for a, n in ((p, "p"), (g, "g"), (m, "m"), (v, "v"))]
    for a, n in zip(arrays[1:], ("g", "m", "v"), strict=True):
        if a.shape != arrays[0].shape:
            raise ValueError(f"adam_update: {n} should have the shape of p, {arrays[0].shape}, got {a.shape}.")
    if np.any(arrays[3] < 0):
        raise ValueError("adam_update: v is a running mean of squares and cannot be negative.")
    t = as_positive_int(t, "t", "adam_update")
    lr = as_number(lr, "lr", "adam_update", positive=True)
    for name, beta in (("beta1", beta1), ("beta2", beta2)):
        if not 0 <= as_number(beta, name, "adam_update") < 1:
            raise ValueError(f"adam_update: {name} must be in [0, 1), got {beta}.")
    return _adam(*arrays, t, lr, beta1, beta2, as_number(eps, "eps", "adam_update", positive=True))


def _adam(p, g, m, v, t, lr, beta1=0.9, beta2=0.99, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g  # running mean of the gradient
    v = beta2 * v + (1 - beta2) * g * g  # running mean of its square
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)  # bias correction: m and v start at 0
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def train(params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray, cfg: GPTConfig, *, steps: int = 600,
          batch: int = 64, lr: float = 1e-2, seed: int = 0, lora: dict[str, np.ndarray] | None = None,
          alpha: float = 1.0) -> list[float]:
    """Adam on minibatches of (X, Y) for `steps` steps; returns the loss of every step.

    Without `lora`, every parameter in `params` is trained in place. With `lora`, params are
    frozen and only the adapter's factors are trained (in place). Seeded: same call, same numbers.
    The learning rate decays linearly to 10% over the run.
    """
    c = _cfg(cfg, "train")
    _check_params(params, c, "train")
    X, Y = _digits(X, "X", "train"), _digits(Y, "Y", "train")
    if X.shape != Y.shape:
        raise ValueError(f"train: Y should have the shape of X {X.shape}, got {Y.shape}.")
    steps, batch = positive_ints("train", steps=steps, batch=batch)
    lr = as_number(lr, "lr", "train", positive=True)
    s = _lora_scale(lora, alpha, params, "train")
    tokens, targets = to_sequences(X, Y)
    _tokens(tokens, c, "train", "X")  # the sequences must fit the context
    rng = np.random.default_rng(as_seed(seed, "train"))
    trained = params if lora is None else lora
    m = {k: np.zeros_like(a) for k, a in trained.items()}
    v = {k: np.zeros_like(a) for k, a in trained.items()}
    losses = []
    with _one_blas_thread():
        _adam_loop(params, tokens, targets, c, lora, s, trained, m, v, steps, batch, lr, rng, losses)
    return losses


def _adam_loop(params, tokens, targets, c, lora, s, trained, m, v, steps, batch, lr, rng, losses) -> None:
    for t in range(1, steps + 1):
        idx = rng.choice(len(tokens), size=min(batch, len(tokens)), replace=False)
        loss, grads, lgrads = _loss_and_grads(params, tokens[idx], targets[idx], c, lora, s)
        g = grads if lora is None else lgrads
        step_lr = lr * (1 - 0.9 * (t - 1) / steps)
        for k in trained:
            trained[k][...], m[k], v[k] = _adam(trained[k], g[k], m[k], v[k], t, step_lr)  # params in place
        losses.append(loss)


# ---------------------------------------------------------------- LoRA on the GPT
def init_lora(params: dict[str, np.ndarray], cfg: GPTConfig, r: int, targets: tuple[str, ...] = ("Wq", "Wk"),
              seed: int = 0) -> dict[str, np.ndarray]:
    """Rank-r adapters on the named projections of every block, initialised as in the LoRA paper.

    For W (D_in, D_out): B (D_in, r) random N(0, 1/D_in) (the factor that touches x),
    A (r, D_out) zero (the output side), so the adapted model starts equal to the base model.
    -> {"h0.Wq.B": (d, r), "h0.Wq.A": (r, d), ...}
    """
    c = _cfg(cfg, "init_lora")
    _check_params(params, c, "init_lora")
    r = as_positive_int(r, "r", "init_lora")
    allowed = ("Wq", "Wk", "Wv", "Wo", "W1", "W2")
    if isinstance(targets, str) or not isinstance(targets, (tuple, list)) or not targets:
        raise TypeError(f"init_lora: targets must be a non-empty tuple of names from {allowed}, got {targets!r}.")
    bad = [t for t in targets if t not in allowed]
    if bad:
        raise ValueError(f"init_lora: targets {bad} are not projections; choose from {allowed}.")
    rng = np.random.default_rng(as_seed(seed, "init_lora"))
    lora = {}
    for i in range(c.n_layers):
        for t in dict.fromkeys(targets):
            D_in, D_out = params[f"h{i}.{t}"].shape
            lora[f"h{i}.{t}.B"] = rng.standard_normal((D_in, r)) / np.sqrt(D_in)
            lora[f"h{i}.{t}.A"] = np.zeros((r, D_out))
    return lora


def _lora_scale(lora: object, alpha: object, params: dict, where: str) -> float:
    """alpha / r, after checking that every adapter pair fits its projection."""
    if lora is None:
        return 1.0
    _check_dict(lora, "lora", where)
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"{where}: alpha must be a number, got {alpha!r}.")
    alpha = as_number(alpha, "alpha", where)
    rank = None
    for k in lora:
        base, _, part = k.rpartition(".")
        if part not in ("A", "B") or base not in params or base + (".A" if part == "B" else ".B") not in lora:
            raise ValueError(f"{where}: lora key {k!r} should be '<projection>.B' or '.A' of a projection in params, in pairs.")
        D_in, D_out = params[base].shape
        r = lora[k].shape[1] if part == "B" else lora[k].shape[0]
        want = (D_in, r) if part == "B" else (r, D_out)
        if np.shape(lora[k]) != want or (rank is not None and r != rank):
            raise ValueError(f"{where}: lora[{k!r}] should have shape {want} (rank {rank or r}), got {np.shape(lora[k])}.")
        rank = r
    return alpha / rank


def merge_lora(params: dict[str, np.ndarray], lora: dict[str, np.ndarray], alpha: float = 1.0) -> dict[str, np.ndarray]:
    """A new params dict with every adapter folded in: W + (alpha / r) B @ A (params unchanged)."""
    if not isinstance(params, dict) or not params:
        raise TypeError(f"merge_lora: params must be a dict of name -> array, got {type(params).__name__}.")
    _check_dict(params, "params", "merge_lora")
    if lora is None:
        raise TypeError("merge_lora: lora must be the dict made by init_lora, got None.")
    s = _lora_scale(lora, alpha, params, "merge_lora")
    merged = {k: a.copy() for k, a in params.items()}
    for k in lora:
        if k.endswith(".B"):
            base = k[:-2]
            merged[base] = merged[base] + s * (lora[k] @ lora[base + ".A"])  # (D_in, r) @ (r, D_out)
    return merged
