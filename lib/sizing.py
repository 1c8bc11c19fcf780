"""Sizing a decoder-only transformer: parameters, bytes, FLOPs, KV cache, training memory and time.

Every whole-model formula of the course lives here once, on plain integers (`kv_bytes`,
`token_flops`, `lora_layer_params`, `training_flops`, ...), with config-level helpers that call
them (`n_params(cfg)`, `kv_cache_bytes(cfg, ...)`, `train_memory(cfg, ...)`, `decode_time(cfg, ...)`).
`from_hf_config` reads a Hugging Face `config.json`; `shipped_config(name)` returns one of the
published configs shipped in `lib/configs/`.

Letters: V vocabulary, d model width, L layers, h query heads, h_kv key/value heads, d_h head
width (d / h unless the config gives its own head_dim), d_ff MLP width, E experts, k experts per
token, T context length (tokens), W a sliding window, B batch, r LoRA rank, N parameters.

One block, pre-norm (GPT-2, Llama and the families `from_hf_config` reads):

    x = x + Wo(Attn(Wq n1(x), Wk n1(x), Wv n1(x)))     Wq (d, h d_h), Wk Wv (d, h_kv d_h), Wo (h d_h, d)
    x = x + MLP(n2(x))                                  "gelu", "relu": W_up (d, d_ff), W_down (d_ff, d)
                                                        "swiglu", "geglu": W_gate, W_up (d, d_ff), W_down (d_ff, d)

A mixture of experts (Mixtral) has E copies of the MLP and a router (d, E) per block; each token
uses k of them. Gemma 2 and 3 add a norm after attention and after the MLP (four per block);
Qwen3 and Gemma 3 normalise q and k per head (two gains of d_h per block).

Everything here is an exact integer count of what a GPU model stores and does; nothing is
allocated. Conventions, stated once:

- FLOPs of `(m, k) @ (k, n)` are `2*m*k*n`; norms, softmax, activations and residual adds are
  left out (they are O(T d) per token, small next to the matmuls).
- `forward_flops(cfg, T)` is the cost of ONE token that attends over T keys (the newest token of
  a sequence of length T; a layer with a sliding window attends over at most W). Over a causal
  sequence of length T the token at position t attends over t keys; `prefill_flops` and
  `train_flops` add those up.
- Training memory assumes mixed-precision Adam: weights and gradients in `dtype`, and, unless
  dtype is fp32, an fp32 master copy of the weights; Adam's two moments in fp32. For bf16 that is
  2 + 2 + 4 + 8 = 16 bytes per trained parameter (`TRAINED_BYTES`), in fp32 4 + 4 + 8 = 16 too.
- Units: GB = 10**9 bytes (`GB`), GiB = 2**30 bytes (`GiB`), 7.4% more. An "80 GB" accelerator
  holds 80 GiB (`ACCELERATORS`).
- Activations: the tensors the backward pass needs, stored in `dtype`, no recomputation, and the
  attention probabilities materialised (no fused attention kernel); per token and layer:
  the two norm inputs and outputs (4d), Q, K, V (h d_h + 2 h_kv d_h), the attention output
  (h d_h), the attention probabilities (h T) and the MLP hidden tensors of the k experts a token
  uses (2 d_ff for "gelu" and "relu": pre- and post-activation; 3 d_ff for "swiglu" and "geglu":
  gate, up and their product); plus the logits (V). `fused_attention=True` drops the h T
  probabilities (a FlashAttention-style kernel recomputes them in the backward pass instead of
  storing them). Dropout masks and the optimizer's temporary buffers are not counted.

See the chapter `model-ledger`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np

from lib.ledger import Ledger, bytes_per_element, human_bytes
from lib.shapes import as_number, as_positive_int, positive_ints

#: MLP kinds: "gelu" and "relu" have two matrices (up, down); the gated "swiglu" and "geglu" three (gate, up, down).
MLP_KINDS = ("gelu", "relu", "swiglu", "geglu")
#: Norm kinds -> learned vectors of size d per norm (LayerNorm: gain and bias; RMSNorm: gain).
NORMS = {"layernorm": 2, "rmsnorm": 1, "rmsnorm-no-gain": 0}
#: Position kinds: a learned (max_len, d) table, or rotary (RoPE, no parameters).
POSITIONS = ("learned", "rotary")
#: Names of a block's weight matrices when unfused, as `projection_shapes` and `lora_params` use them
#: (a fused config, Phi-3's, has 'qkv' and 'gate_up' instead of q, k, v and gate, up).
PROJECTIONS = ("q", "k", "v", "o", "gate", "up", "down")
#: Attention kinds of a layer, as in `ModelConfig.layer_types`: all keys, or a sliding window of the last W.
LAYER_TYPES = ("full", "sliding")
#: One gigabyte, 10**9 bytes (decimal, what the course prints as "GB").
GB = 10**9
#: One gibibyte, 2**30 bytes (binary, printed as "GiB"): 7.4% more than a GB.
GiB = 2**30
#: fp32 numbers an optimizer keeps per trained parameter (Adam: its two moments m and v).
OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "adam": 2}
_ATTENTION = ("q", "k", "v", "o", "qkv")
_ALL_BIASES = PROJECTIONS


def _cfg(cfg: object, where: str) -> ModelConfig:
    if not isinstance(cfg, ModelConfig):
        raise TypeError(f"{where}: cfg must be a sizing.ModelConfig (e.g. sizing.preset('gpt2-small')), got {type(cfg).__name__}.")
    return cfg


def _dtype(dtype: object, where: str) -> int:
    if not isinstance(dtype, str):
        raise TypeError(f"{where}: dtype must be a name like 'bf16' or 'fp32', got {dtype!r}.")
    return bytes_per_element(dtype, where)


@dataclass(frozen=True)
class ModelConfig:
    """The sizes and choices that fix a decoder-only transformer's ledger.

    head_dim None means d / h; bias True means every linear layer, False none, or a tuple of the
    projections that have one ('q', 'k', 'v', 'o', 'gate', 'up', 'down'); layer_types None means
    every layer attends over all keys ("full"), else one "full" or "sliding" per layer, with
    sliding_window W; n_experts 1 is a dense MLP.
    """

    name: str
    vocab: int  # V
    d: int  # model width
    n_layers: int  # L
    n_heads: int  # h, query heads
    d_ff: int  # MLP hidden width (of one expert)
    n_kv_heads: int | None = None  # h_kv; None means h (multi-head attention)
    mlp: str = "gelu"  # "gelu" or "relu": two matrices; "swiglu" or "geglu": three
    tied: bool = False  # LM head shares the token embedding
    norm: str = "layernorm"  # "layernorm" (gain and bias), "rmsnorm" (gain), "rmsnorm-no-gain"
    bias: bool | tuple[str, ...] = False  # biases: on every linear layer, none, or on the named ones
    positions: str = "learned"  # "learned" (a (max_len, d) table) or "rotary" (no parameters)
    max_len: int = 1024  # context length the model was trained for
    head_dim: int | None = None  # d_h; None means d / h
    qk_norm: bool = False  # a norm gain of d_h on q and on k in every block (Qwen3, Gemma 3)
    norms_per_block: int = 2  # 2 (pre-norm), 4 (Gemma 2 and 3 also norm after attention and MLP)
    fused: bool = False  # q, k, v stored as one matrix qkv, gate and up as one gate_up (Phi-3)
    n_experts: int = 1  # E: MLP experts per block (1: a dense MLP)
    top_k: int = 1  # k: experts each token uses
    layer_types: tuple[str, ...] | None = None  # per layer "full" or "sliding"; None: all full
    sliding_window: int | None = None  # W, the keys a "sliding" layer keeps
    kv_dtype: str | None = None  # dtype of the KV cache; None: the dtype asked for

    def __post_init__(self) -> None:
        where = "ModelConfig"
        for f in ("vocab", "d", "n_layers", "n_heads", "d_ff", "max_len", "norms_per_block", "n_experts", "top_k"):
            as_positive_int(getattr(self, f), f, where)
        if self.n_kv_heads is not None:
            as_positive_int(self.n_kv_heads, "n_kv_heads", where)
            if self.n_heads % self.n_kv_heads:
                raise ValueError(f"{where}: n_heads = {self.n_heads} must be a multiple of n_kv_heads = {self.n_kv_heads}.")
        if self.head_dim is None:
            if self.d % self.n_heads:
                raise ValueError(f"{where}: d = {self.d} must be divisible by n_heads = {self.n_heads}, "
                                 "or head_dim must be given.")
            object.__setattr__(self, "head_dim", self.d // self.n_heads)
        as_positive_int(self.head_dim, "head_dim", where)
        for f, allowed in (("mlp", MLP_KINDS), ("norm", tuple(NORMS)), ("positions", POSITIONS)):
            if getattr(self, f) not in allowed:
                raise ValueError(f"{where}: {f} must be one of {allowed}, got {getattr(self, f)!r}.")
        for f in ("tied", "qk_norm", "fused"):
            if not isinstance(getattr(self, f), bool):
                raise TypeError(f"{where}: {f} must be True or False, got {getattr(self, f)!r}.")
        object.__setattr__(self, "bias", self._biases())
        if self.top_k > self.n_experts:
            raise ValueError(f"{where}: top_k = {self.top_k} is more than n_experts = {self.n_experts}.")
        self._check_layers()
        if self.kv_dtype is not None:
            _dtype(self.kv_dtype, where)

    def _biases(self) -> tuple[str, ...]:
        if self.bias is True:
            return _ALL_BIASES
        if self.bias is False:
            return ()
        if isinstance(self.bias, str) or not isinstance(self.bias, (tuple, list)) or any(b not in _ALL_BIASES for b in self.bias):
            raise TypeError(f"ModelConfig: bias must be True, False or a tuple of names from {_ALL_BIASES}, got {self.bias!r}.")
        return tuple(b for b in _ALL_BIASES if b in self.bias)

    def _check_layers(self) -> None:
        where = "ModelConfig"
        if self.layer_types is None:
            if self.sliding_window is not None:
                object.__setattr__(self, "layer_types", ("sliding",) * self.n_layers)
            else:
                return
        types = tuple(self.layer_types)
        if len(types) != self.n_layers or any(t not in LAYER_TYPES for t in types):
            raise ValueError(f"{where}: layer_types must be {self.n_layers} names from {LAYER_TYPES} (one per layer), "
                             f"got {self.layer_types!r}.")
        object.__setattr__(self, "layer_types", types)
        if "sliding" in types:
            as_positive_int(self.sliding_window, "sliding_window", where)

    @property
    def kv_heads(self) -> int:
        """h_kv: the key/value heads (h when n_kv_heads is None)."""
        return self.n_kv_heads or self.n_heads

    @property
    def n_sliding(self) -> int:
        """Layers that attend over a sliding window (0 when every layer sees all keys)."""
        return 0 if self.layer_types is None else self.layer_types.count("sliding")


#: The course's models by key: two it builds (microgpt, the tiny GPT) and four published ones.
PRESETS: dict[str, ModelConfig] = {
    # Karpathy's microgpt: a 27-token vocabulary, one block, ReLU MLP, parameter-free RMSNorm, no biases
    "microgpt": ModelConfig("microgpt", vocab=27, d=16, n_layers=1, n_heads=4, d_ff=64, mlp="relu",
                            tied=False, norm="rmsnorm-no-gain", bias=False, positions="learned", max_len=16),
    # the course's tiny GPT as the chapter tiny-gpt trains it (lib.transformer.Config's defaults, block_size = 2n
    # = 10 for 5-digit tasks): LayerNorm with gain and bias, GELU, no biases on the matrices, untied
    "tiny-gpt": ModelConfig("tiny GPT", vocab=11, d=32, n_layers=1, n_heads=2, d_ff=64, mlp="gelu",
                            tied=False, norm="layernorm", bias=False, positions="learned", max_len=10),
    "gpt2-small": ModelConfig("GPT-2 small", vocab=50257, d=768, n_layers=12, n_heads=12, d_ff=3072,
                              mlp="gelu", tied=True, norm="layernorm", bias=True, positions="learned", max_len=1024),
    "llama2-7b": ModelConfig("Llama-2-7B", vocab=32000, d=4096, n_layers=32, n_heads=32, d_ff=11008,
                             mlp="swiglu", tied=False, norm="rmsnorm", bias=False, positions="rotary", max_len=4096),
    "llama2-70b": ModelConfig("Llama-2-70B", vocab=32000, d=8192, n_layers=80, n_heads=64, d_ff=28672,
                              n_kv_heads=8, mlp="swiglu", tied=False, norm="rmsnorm", bias=False,
                              positions="rotary", max_len=4096),
    # Mistral-7B-v0.1: Llama's block with 8 KV heads, a wider MLP and (as its config says) a 4,096-token window
    "mistral-7b": ModelConfig("Mistral-7B", vocab=32000, d=4096, n_layers=32, n_heads=32, d_ff=14336,
                              n_kv_heads=8, mlp="swiglu", tied=False, norm="rmsnorm", bias=False,
                              positions="rotary", max_len=32768, sliding_window=4096),
}


def preset(name: str) -> ModelConfig:
    """One of PRESETS by key: 'microgpt', 'tiny-gpt', 'gpt2-small', 'llama2-7b', 'llama2-70b', 'mistral-7b'."""
    if not isinstance(name, str) or name not in PRESETS:
        raise ValueError(f"preset: name must be one of {list(PRESETS)}, got {name!r}.")
    return PRESETS[name]


# ---------------------------------------------------------------- formulas on plain integers
def kv_bytes(n_layers: int, n_kv_heads: int, head_dim: int, T: int, B: int = 1, bytes_per_element: int = 2) -> int:
    """Bytes of a KV cache: 2 (K and V) x layers x KV heads x head_dim x T tokens x B sequences x bytes.

    n_kv_heads is the number of key/value heads stored (h_kv with grouped-query attention, h
    without). Llama-2-7B (32 layers, 32 heads, head_dim 128, 2 bytes): 524,288 B per token;
    Llama-2-70B (80 layers, 8 KV heads, head_dim 128): 327,680 B per token.
    """
    L, h_kv, d_h, T, B, nb = positive_ints("kv_bytes", n_layers=n_layers, n_kv_heads=n_kv_heads, head_dim=head_dim,
                                           T=T, B=B, bytes_per_element=bytes_per_element)
    return _kv_bytes(L, h_kv, d_h, T, B, nb)


def _kv_bytes(L: int, h_kv: int, d_h: int, T: int, B: int, nb: int) -> int:
    return 2 * L * h_kv * d_h * T * B * nb


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


def crossover_vs_weights(d: int, d_ff: int, *, d_kv: int | None = None, mlp_matrices: int = 2) -> float:
    """The context t* at which a token's attention FLOPs equal its projection + MLP FLOPs (one layer).

    4 t d = 4 d^2 + 4 d d_kv + 2 m d d_ff  ->  t* = d + d_kv + m d_ff / 2; 6d for d_kv = d, d_ff = 4d,
    m = 2 (4,608 for GPT-2 small). Compare `crossover_vs_mlp`, which leaves the projections out.
    """
    d, d_ff = positive_ints("crossover_vs_weights", d=d, d_ff=d_ff)
    d_kv = d if d_kv is None else as_positive_int(d_kv, "d_kv", "crossover_vs_weights")
    m = as_positive_int(mlp_matrices, "mlp_matrices", "crossover_vs_weights")
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
    weight_bytes, kv = N * nb, B * 2 * L * d_kv * t * nb
    total = weight_bytes + kv
    return {"flops": flops, "weight_bytes": weight_bytes, "kv_bytes": kv, "bytes": total,
            "intensity": flops / total}


def lora_layer_params(D_in: int, D_out: int, r: int) -> int:
    """Trainable parameters of a rank-r adapter on a (D_in, D_out) matrix: A (D_in, r) + B (r, D_out).

    = r * (D_in + D_out); 2*d*r when square.
    """
    D_in, D_out, r = positive_ints("lora_layer_params", D_in=D_in, D_out=D_out, r=r)
    return r * (D_in + D_out)


def training_flops(params: float, tokens: float) -> float:
    """Training FLOPs of a dense model, the 6ND rule: 6 * params * tokens.

    Each weight does one multiply-add (2 FLOPs) per token forward and two more matmuls' worth
    (4 FLOPs) backward; attention's own T^2 terms, the embedding look-ups' savings and elementwise
    work are left out (`train_flops` counts the first two).
    """
    params = as_number(params, "params", "training_flops", positive=True)
    return 6.0 * params * as_number(tokens, "tokens", "training_flops", positive=True)


def _optimizer_bytes(per: int, optimizer: str = "adam") -> int:
    """Bytes per trained parameter the optimizer keeps: its fp32 states, plus an fp32 master copy below fp32."""
    return 4 * OPTIMIZER_STATES[optimizer] + (4 if per < 4 else 0)


#: Bytes per frozen parameter in 16-bit training: the weight, stored once (2 B).
FROZEN_BYTES = 2
#: Bytes per trained parameter in mixed-precision Adam: weight 2 + gradient 2 + fp32 master 4 + moments 4 + 4 = 16.
TRAINED_BYTES = 2 + 2 + _optimizer_bytes(2, "adam")


def training_state_bytes(n_total: int, n_trained: int) -> int:
    """Bytes of weights, gradients and Adam state when n_trained of n_total parameters train.

    Activations come on top (they depend on the batch and the sequence length, not on LoRA).
    -> (n_total - n_trained) * FROZEN_BYTES + n_trained * TRAINED_BYTES = ... * 2 + ... * 16
    """
    n_total, n_trained = positive_ints("training_state_bytes", n_total=n_total, n_trained=n_trained)
    if n_trained > n_total:
        raise ValueError(f"training_state_bytes: n_trained = {n_trained} is more than n_total = {n_total}.")
    return (n_total - n_trained) * FROZEN_BYTES + n_trained * TRAINED_BYTES


@dataclass(frozen=True)
class TrainingMemory:
    """Bytes of one training step: weights + gradients + optimizer state + activations."""

    params: int
    dtype: str
    optimizer: str
    weights: int
    gradients: int
    optimizer_state: int  # the optimizer's fp32 numbers, plus an fp32 master copy in mixed precision
    activations: int

    @property
    def total(self) -> int:
        """The sum of the four parts (not the largest of them)."""
        return self.weights + self.gradients + self.optimizer_state + self.activations

    @property
    def bytes_per_param(self) -> float:
        """Bytes per parameter, activations left out (16 for Adam in fp32 or in bf16 mixed precision)."""
        return (self.weights + self.gradients + self.optimizer_state) / self.params

    def records(self) -> list[tuple[str, int]]:
        """(part, bytes) rows, the total last."""
        return [("weights", self.weights), ("gradients", self.gradients),
                (f"optimizer state ({self.optimizer})", self.optimizer_state),
                ("activations", self.activations), ("total", self.total)]

    def __str__(self) -> str:
        head = f"training memory: {self.params:,} parameters, {self.dtype}, {self.optimizer}"
        return "\n".join([head] + [f"  {q:<24} {v:>18,} B  {human_bytes(v) if v else '0 B':>9}" for q, v in self.records()])

    __repr__ = __str__


def training_memory(params: int, activation_bytes: int = 0, *, dtype: str = "fp32",
                    optimizer: str = "adam") -> TrainingMemory:
    """Bytes a training step keeps: weights, gradients, optimizer state and activations.

    Weights and gradients take `dtype`'s bytes per parameter. The optimizer keeps fp32 numbers
    (Adam: m and v, 8 bytes per parameter; momentum: 4; SGD: 0); with a 2-byte dtype (mixed
    precision) it also keeps an fp32 master copy of the weights (4 more). So Adam costs
    16 bytes per parameter in fp32 (4 + 4 + 8) and in bf16 mixed precision (2 + 2 + 4 + 8).
    """
    params = as_positive_int(params, "params", "training_memory")
    if isinstance(activation_bytes, bool) or not isinstance(activation_bytes, (int, np.integer)) or activation_bytes < 0:
        raise ValueError(f"training_memory: activation_bytes must be a whole number >= 0, got {activation_bytes!r}.")
    if optimizer not in OPTIMIZER_STATES:
        raise ValueError(f"training_memory: optimizer must be one of {sorted(OPTIMIZER_STATES)}, got {optimizer!r}.")
    per = bytes_per_element(dtype, "training_memory")
    return TrainingMemory(
        params=params, dtype=str(dtype), optimizer=optimizer,
        weights=params * per, gradients=params * per,
        optimizer_state=params * _optimizer_bytes(per, optimizer),
        activations=int(activation_bytes),
    )


# ---------------------------------------------------------------- parameters
def projection_shapes(cfg: ModelConfig) -> dict[str, tuple[int, int]]:
    """(D_in, D_out) of every weight matrix of one block (one expert's for the MLP), by name.

    q k v o, then gate (gated MLPs), up, down; a fused config has qkv instead of q k v and
    gate_up instead of gate and up (Phi-3 stores them so; the counts are the same).
    """
    c = _cfg(cfg, "projection_shapes")
    d, q_out, kv_out = c.d, c.n_heads * c.head_dim, c.kv_heads * c.head_dim
    gated = c.mlp in ("swiglu", "geglu")
    if c.fused:
        shapes = {"qkv": (d, q_out + 2 * kv_out), "o": (q_out, d)}
        shapes |= {"gate_up": (d, 2 * c.d_ff)} if gated else {"up": (d, c.d_ff)}
        return shapes | {"down": (c.d_ff, d)}
    shapes = {"q": (d, q_out), "k": (d, kv_out), "v": (d, kv_out), "o": (q_out, d)}
    if gated:
        shapes["gate"] = (d, c.d_ff)
    return shapes | {"up": (d, c.d_ff), "down": (c.d_ff, d)}


def _bias_of(c: ModelConfig, name: str, D_out: int) -> int:
    """Bias entries of one projection (a fused matrix has the biases of its parts)."""
    if name == "qkv":
        return sum(D for part, D in (("q", c.n_heads * c.head_dim), ("k", c.kv_heads * c.head_dim),
                                     ("v", c.kv_heads * c.head_dim)) if part in c.bias)
    if name == "gate_up":
        return sum(c.d_ff for part in ("gate", "up") if part in c.bias)
    return D_out if name in c.bias else 0


def block_params(cfg: ModelConfig) -> dict[str, int]:
    """Parameters of one block: {'attention', 'mlp', 'router', 'norms'} (biases counted with their matrix).

    'mlp' is all E experts; 'router' the (d, E) gate of a mixture of experts (0 when dense);
    'norms' the block's norms plus the q/k norm gains.
    """
    c = _cfg(cfg, "block_params")
    count = {"attention": 0, "mlp": 0}
    for name, (D_in, D_out) in projection_shapes(c).items():
        part = "attention" if name in _ATTENTION else "mlp"
        count[part] += D_in * D_out + _bias_of(c, name, D_out)
    count["mlp"] *= c.n_experts
    count["router"] = c.d * c.n_experts if c.n_experts > 1 else 0
    count["norms"] = c.norms_per_block * NORMS[c.norm] * c.d + (2 * c.head_dim if c.qk_norm else 0)
    return count


def param_counts(cfg: ModelConfig) -> dict[str, int]:
    """Parameters by component over the whole model, in the order the data flows.

    -> {'token embedding', 'position embedding', 'attention', 'mlp', 'router', 'norms', 'lm head'};
    the lm head is 0 when tied (it reuses the token embedding) and the position table 0 for rotary.
    """
    c = _cfg(cfg, "param_counts")
    block = block_params(c)
    return {
        "token embedding": c.vocab * c.d,  # (V, d)
        "position embedding": c.max_len * c.d if c.positions == "learned" else 0,  # (max_len, d)
        "attention": c.n_layers * block["attention"],
        "mlp": c.n_layers * block["mlp"],
        "router": c.n_layers * block["router"],
        "norms": c.n_layers * block["norms"] + NORMS[c.norm] * c.d,  # plus the final norm
        "lm head": 0 if c.tied else c.d * c.vocab,  # (d, V), no bias
    }


def n_params(cfg: ModelConfig) -> int:
    """Total parameters N (every expert of a mixture counted)."""
    return sum(param_counts(_cfg(cfg, "n_params")).values())


def active_params(cfg: ModelConfig) -> int:
    """Parameters one token uses: N minus the experts it does not route to (N for a dense model)."""
    c = _cfg(cfg, "active_params")
    one_expert = block_params(c)["mlp"] // c.n_experts
    return n_params(c) - c.n_layers * (c.n_experts - c.top_k) * one_expert


def weight_bytes(cfg: ModelConfig, dtype: str = "bf16") -> int:
    """Bytes of the weights in one dtype: N * bytes per element."""
    return n_params(_cfg(cfg, "weight_bytes")) * _dtype(dtype, "weight_bytes")


def model_ledger(cfg: ModelConfig, T: int = 1, B: int = 1, dtype: str = "bf16") -> Ledger:
    """The parameter tensors (stacked over the L layers and E experts) and the KV cache at batch B, context T."""
    c = _cfg(cfg, "model_ledger")
    T, B = positive_ints("model_ledger", T=T, B=B)
    _dtype(dtype, "model_ledger")
    sizes = dict(V=c.vocab, d=c.d, L=c.n_layers, h=c.n_heads, h_kv=c.kv_heads, d_h=c.head_dim,
                 d_ff=c.d_ff, T=T, B=B, T_max=c.max_len)
    experts = ""
    if c.n_experts > 1:
        sizes["E"], experts = c.n_experts, "E "
    led = Ledger(c.name, dtype, **sizes).add("wte", "V d", "token embedding" + (", also the LM head" if c.tied else ""), "parameter")
    if c.positions == "learned":
        led.add("wpe", "T_max d", "learned position embedding", "parameter")
    n_vec = NORMS[c.norm]
    if n_vec:
        led.add("norms", f"L {c.norms_per_block} {n_vec} d", f"{c.norms_per_block} norms per block"
                + (": gain and bias" if n_vec == 2 else ": gain"), "parameter")
    if c.qk_norm:
        led.add("qk_norms", "L 2 d_h", "a gain on every head's q and k", "parameter")
    specs = {"q": ("L d h d_h", "query projection"), "k": ("L d h_kv d_h", "key projection"),
             "v": ("L d h_kv d_h", "value projection"), "o": ("L h d_h d", "output projection"),
             "gate": (f"L {experts}d d_ff", "MLP gate"), "up": (f"L {experts}d d_ff", "MLP up"),
             "down": (f"L {experts}d_ff d", "MLP down")}
    bias_specs = {"q": "L h d_h", "k": "L h_kv d_h", "v": "L h_kv d_h", "o": "L d",
                  "gate": f"L {experts}d_ff", "up": f"L {experts}d_ff", "down": f"L {experts}d"}
    gated = c.mlp in ("swiglu", "geglu")
    for name in _ALL_BIASES:
        if name == "gate" and not gated:
            continue
        spec, meaning = specs[name]
        stored = {"q": " (stored as one qkv matrix with k and v)", "gate": " (stored as one gate_up matrix with up)"}
        led.add("W_" + name, spec, meaning + (stored.get(name, "") if c.fused else ""), "parameter")
        if name in c.bias:
            led.add("b_" + name, bias_specs[name], "bias of the " + meaning, "parameter")
    if c.n_experts > 1:
        led.add("router", "L d E", "router: a score per expert", "parameter")
    if n_vec:
        led.add("norm_f", f"{n_vec} d", "final norm", "parameter")
    if not c.tied:
        led.add("W_lm", "d V", "LM head", "parameter")
    full = c.n_layers - c.n_sliding
    if c.n_sliding:
        led.sizes["L_full"], led.sizes["L_win"], led.sizes["W"] = full, c.n_sliding, min(T, c.sliding_window)
        if full:
            led.add("KV cache (full layers)", "2 L_full B h_kv T d_h", "keys and values of every token", "activation")
        led.add("KV cache (sliding layers)", "2 L_win B h_kv W d_h", f"keys and values of the last {c.sliding_window:,} tokens",
                "activation")
    else:
        led.add("KV cache", "2 L B h_kv T d_h", "keys and values of every layer, kept while generating", "activation")
    return led


# ---------------------------------------------------------------- FLOPs
def _keys(c: ModelConfig, T: int) -> int:
    """Keys summed over the layers for one token at context T: T in full layers, min(T, W) in sliding ones."""
    return (c.n_layers - c.n_sliding) * T + c.n_sliding * min(T, c.sliding_window or T)


def forward_flops(cfg: ModelConfig, T: int) -> dict[str, int]:
    """Forward matmul FLOPs of ONE token attending over T keys, by part.

    -> {'attention projections': 2 * (Wq, Wk, Wv, Wo params) * L,
        'attention scores': 4 * h * d_h * (keys summed over layers)   (q k^T, then the weighted sum of values),
        'mlp': 2 * (MLP params of the k experts used, plus the router) * L, 'lm head': 2 * d * V}
    A sliding layer attends over min(T, W) keys; only the scores term grows with the context.
    """
    c = _cfg(cfg, "forward_flops")
    T = as_positive_int(T, "T", "forward_flops")
    shapes = projection_shapes(c)
    attn_w = sum(a * b for n, (a, b) in shapes.items() if n in _ATTENTION)
    mlp_w = sum(a * b for n, (a, b) in shapes.items() if n not in _ATTENTION) * c.top_k
    router = c.d * c.n_experts if c.n_experts > 1 else 0
    return {
        "attention projections": 2 * c.n_layers * attn_w,
        "attention scores": 4 * c.n_heads * c.head_dim * _keys(c, T),  # (1, d_h) @ (d_h, T) and (1, T) @ (T, d_h), per head
        "mlp": 2 * c.n_layers * (mlp_w + router),
        "lm head": 2 * c.d * c.vocab,
    }


def crossover_vs_mlp(cfg: ModelConfig) -> int | None:
    """The smallest context T at which a token's attention-score FLOPs reach its MLP's (3,072 for GPT-2 small).

    The projections are left out; `crossover_vs_weights` counts them too (4,608 for GPT-2 small).
    None when sliding windows keep the scores below the MLP at every T.
    """
    c = _cfg(cfg, "crossover_vs_mlp")
    per_key = 4 * c.n_heads * c.head_dim
    mlp = forward_flops(c, 1)["mlp"]
    full = c.n_layers - c.n_sliding
    if not c.n_sliding:
        return -(-mlp // (per_key * c.n_layers))  # ceil(mlp / per-key cost of all layers)
    if full == 0 and per_key * c.n_sliding * c.sliding_window < mlp:
        return None
    lo, hi = 1, -(-mlp // per_key) + 1  # the scores reach the MLP by T = mlp / per_key at the latest
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if per_key * _keys(c, mid) < mlp else (lo, mid)
    return lo


def prefill_flops(cfg: ModelConfig, T: int) -> int:
    """Forward FLOPs of a causal prompt of T tokens: the token at position t attends over t keys (min(t, W) when sliding)."""
    c = _cfg(cfg, "prefill_flops")
    T = as_positive_int(T, "T", "prefill_flops")
    f = forward_flops(c, 1)
    weights = f["attention projections"] + f["mlp"] + f["lm head"]
    per_key = 4 * c.n_heads * c.head_dim
    full, slid = c.n_layers - c.n_sliding, c.n_sliding
    keys = full * T * (T + 1) // 2  # sum over t = 1..T of t
    if slid:
        W = min(T, c.sliding_window)
        keys += slid * (W * (W + 1) // 2 + (T - W) * W)  # t keys up to W, then W
    return weights * T + per_key * keys


def train_flops(cfg: ModelConfig, tokens: int, T: int) -> int:
    """Training FLOPs on `tokens` tokens in causal sequences of length T: 3 x the forward pass.

    Under these conventions: matmuls only, 2 FLOPs per weight that a matmul uses (not the
    embedding tables, which are looked up), the attention scores over the causal half of the
    score matrix (`prefill_flops`), and a backward pass of twice the forward (dX and dW).
    PaLM's MFU formula, 6N + 12 L h d_h T per token, counts every weight and all T keys instead.
    """
    c = _cfg(cfg, "train_flops")
    tokens, T = positive_ints("train_flops", tokens=tokens, T=T)
    return 3 * prefill_flops(c, T) * tokens // T


# ---------------------------------------------------------------- memory
def kv_cache_bytes(cfg: ModelConfig, T: int, B: int = 1, dtype: str | None = None, *, grouped: bool = True,
                   windows: bool = True) -> int:
    """Bytes of the KV cache: 2 (K, V) * B * heads * d_h * bytes * (tokens kept, summed over the layers).

    heads = h_kv with grouped=True (what the model does), h with grouped=False (as if every query
    head had its own keys and values: multi-head attention). A sliding layer keeps min(T, W)
    tokens; windows=False counts every layer as full (the calculators' mistake). dtype: the
    cache's dtype; None takes cfg.kv_dtype, else bf16.
    """
    c = _cfg(cfg, "kv_cache_bytes")
    T, B = positive_ints("kv_cache_bytes", T=T, B=B)
    for name, flag in (("grouped", grouped), ("windows", windows)):
        if not isinstance(flag, bool):
            raise TypeError(f"kv_cache_bytes: {name} must be True or False, got {flag!r}.")
    nb = _dtype(dtype if dtype is not None else c.kv_dtype or "bf16", "kv_cache_bytes")
    heads = c.kv_heads if grouped else c.n_heads
    if not windows or not c.n_sliding:
        return _kv_bytes(c.n_layers, heads, c.head_dim, T, B, nb)
    full = c.n_layers - c.n_sliding
    return _kv_bytes(full, heads, c.head_dim, T, B, nb) + _kv_bytes(c.n_sliding, heads, c.head_dim, min(T, c.sliding_window), B, nb)


def activation_bytes(cfg: ModelConfig, B: int, T: int, dtype: str = "bf16", *, fused_attention: bool = False) -> int:
    """Bytes of the activations kept for the backward pass (assumptions in the module docstring).

    Per layer and token: 4 d + 2 h d_h + 2 h_kv d_h + h T + k (2 or 3) d_ff elements; plus V logits
    per token. With fused_attention=True (a FlashAttention-style kernel that recomputes the
    probabilities in the backward pass) the h T term is dropped.
    """
    c = _cfg(cfg, "activation_bytes")
    B, T = positive_ints("activation_bytes", B=B, T=T)
    if not isinstance(fused_attention, bool):
        raise TypeError(f"activation_bytes: fused_attention must be True or False, got {fused_attention!r}.")
    hidden = c.top_k * (3 if c.mlp in ("swiglu", "geglu") else 2) * c.d_ff  # gated: gate, up, product; else pre, post
    probs = 0 if fused_attention else c.n_heads * T  # the (h, T, T) attention probabilities, per token
    per_layer = 4 * c.d + 2 * c.n_heads * c.head_dim + 2 * c.kv_heads * c.head_dim + probs + hidden  # elements per token
    return B * T * (c.n_layers * per_layer + c.vocab) * _dtype(dtype, "activation_bytes")


def lora_params(cfg: ModelConfig, r: int, targets: tuple[str, ...] = ("q", "v")) -> int:
    """Trainable parameters of rank-r LoRA adapters on the chosen projections of every block.

    An adapter on a (D_in, D_out) matrix adds A (D_in, r) and B (r, D_out): `lora_layer_params`.
    targets: names from `projection_shapes(cfg)` ('gate' exists only for gated MLPs, 'qkv' and
    'gate_up' only for fused configs); an MLP target gets one adapter per expert.
    """
    c = _cfg(cfg, "lora_params")
    r = as_positive_int(r, "r", "lora_params")
    shapes = projection_shapes(c)
    if isinstance(targets, str) or not isinstance(targets, (tuple, list)) or not targets:
        raise TypeError(f"lora_params: targets must be a non-empty tuple of names from {list(shapes)}, got {targets!r}.")
    bad = [t for t in targets if t not in shapes]
    if bad:
        raise ValueError(f"lora_params: targets {bad} are not projections of this model; choose from {list(shapes)}.")
    per_block = sum(lora_layer_params(*shapes[t], r) * (1 if t in _ATTENTION else c.n_experts) for t in dict.fromkeys(targets))
    return c.n_layers * per_block


def train_memory(cfg: ModelConfig, B: int, T: int, dtype: str = "bf16", *, lora_rank: int | None = None,
                 lora_targets: tuple[str, ...] = ("q", "v"), fused_attention: bool = False,
                 base_bits: int | None = None) -> dict[str, int]:
    """Bytes to train with Adam, by part: {'weights', 'gradients', 'optimizer', 'activations'}; the total is their sum.

    Full training: gradients (dtype) for all N parameters; 'optimizer' = Adam's m and v in fp32
    plus an fp32 master copy unless dtype is fp32. With `lora_rank`, the base is frozen: only the
    adapter's parameters get gradients and optimizer state. The activations are counted as for
    full training, an upper bound: with a frozen base, the input of a matrix without an adapter
    need not be kept (its dX = dY W^T needs W, not X). `base_bits` (with lora_rank) stores the
    frozen base in that many bits per weight, as QLoRA's 4-bit NF4 (its quantization constants,
    about 0.13 bits per weight with double quantization, are left out).
    """
    c = _cfg(cfg, "train_memory")
    B, T = positive_ints("train_memory", B=B, T=T)
    per = _dtype(dtype, "train_memory")
    N = n_params(c)
    trained = N if lora_rank is None else lora_params(c, lora_rank, lora_targets)
    base = N * per
    if base_bits is not None:
        if lora_rank is None:
            raise ValueError("train_memory: base_bits quantizes a frozen base, so it needs lora_rank.")
        base = -(-N * as_positive_int(base_bits, "base_bits", "train_memory") // 8)
    return {
        "weights": base + (0 if lora_rank is None else trained * per),
        "gradients": trained * per,
        "optimizer": trained * _optimizer_bytes(per, "adam"),  # m and v in fp32, plus an fp32 master copy below fp32
        "activations": activation_bytes(c, B, T, dtype, fused_attention=fused_attention),
    }


def max_batch(cfg: ModelConfig, T: int, memory_bytes: float = 80 * GiB, dtype: str = "bf16", *,
              lora_rank: int | None = None, lora_targets: tuple[str, ...] = ("q", "v"),
              fused_attention: bool = False, base_bits: int | None = None) -> int:
    """The largest batch B whose training memory (`train_memory`, all four parts) fits in memory_bytes; 0 if none.

    The default budget is one "80 GB" card, which holds 80 GiB.
    """
    c = _cfg(cfg, "max_batch")
    T = as_positive_int(T, "T", "max_batch")
    _dtype(dtype, "max_batch")
    budget = as_number(memory_bytes, "memory_bytes", "max_batch", positive=True)
    one = train_memory(c, 1, T, dtype, lora_rank=lora_rank, lora_targets=lora_targets, fused_attention=fused_attention,
                       base_bits=base_bits)
    fixed = one["weights"] + one["gradients"] + one["optimizer"]
    per_example = one["activations"]  # activations grow linearly in B
    return max(0, int((budget - fixed) // per_example))


def inference_bytes(cfg: ModelConfig, T: int, B: int = 1, dtype: str = "bf16") -> dict[str, int]:
    """Bytes to generate at context T and batch B: {'weights', 'kv cache'} (the cache in cfg.kv_dtype when set)."""
    c = _cfg(cfg, "inference_bytes")
    T, B = positive_ints("inference_bytes", T=T, B=B)
    _dtype(dtype, "inference_bytes")
    return {"weights": weight_bytes(c, dtype), "kv cache": kv_cache_bytes(c, T, B, c.kv_dtype or dtype)}


def with_changes(cfg: ModelConfig, **changes: object) -> ModelConfig:
    """A copy of cfg with some fields changed (validated again): with_changes(c, n_kv_heads=None).

    A head_dim that was d / h stays d / h when d or n_heads changes.
    """
    c = _cfg(cfg, "with_changes")
    unknown = sorted(set(changes) - set(c.__dataclass_fields__))
    if unknown:
        raise ValueError(f"with_changes: {unknown} are not fields of ModelConfig; fields are {list(c.__dataclass_fields__)}.")
    if ({"d", "n_heads"} & set(changes)) and "head_dim" not in changes and c.head_dim * c.n_heads == c.d:
        changes["head_dim"] = None
    if "n_layers" in changes and "layer_types" not in changes and c.layer_types is not None:
        if len(set(c.layer_types)) > 1:
            raise ValueError("with_changes: n_layers changed on a model with mixed layer_types; give layer_types too.")
        changes["layer_types"] = None if c.sliding_window is not None else c.layer_types[:1] * changes["n_layers"]
    return replace(c, **changes)


# ---------------------------------------------------------------- reading a Hugging Face config.json
#: The `model_type`s `from_hf_config` reads, by family.
HF_FAMILIES = ("gpt2", "llama", "mistral", "mixtral", "qwen2", "qwen3", "gemma2", "gemma3_text", "phi3")
_GATED_FAMILIES = ("llama", "mistral", "mixtral", "qwen2", "qwen3", "gemma2", "gemma3_text", "phi3")
# keys that change no count and no cache size: ids, dtypes, initialisation, dropout, RoPE and
# norm constants, logit soft-capping, training-only options
_HF_IGNORED = frozenset("""
_name_or_path architectures auto_map bos_token_id eos_token_id pad_token_id sep_token_id torch_dtype dtype
transformers_version use_cache initializer_range initializer_factor rms_norm_eps layer_norm_epsilon
layer_norm_eps rope_theta rope_scaling rope_local_base_freq original_max_position_embeddings use_mrope
attention_dropout attn_pdrop embd_pdrop resid_pdrop summary_activation summary_first_dropout
summary_proj_to_labels summary_type summary_use_proj task_specific_params n_ctx pretraining_tp
output_router_logits router_aux_loss_coef router_jitter_noise attn_logit_softcapping
final_logit_softcapping query_pre_attn_scalar cache_implementation scale_attn_weights
reorder_and_upcast_attn scale_attn_by_inverse_layer_idx gradient_checkpointing quantization_config
norm_topk_prob tokenizer_class model_type partial_rotary_factor rope_parameters
""".split())


def _hf_dict(config: object) -> dict:
    if isinstance(config, dict):
        return config
    if isinstance(config, str) and config.lstrip().startswith("{"):
        return _json(config, "the JSON text")
    if isinstance(config, (str, Path)):
        path = Path(config)
        if not path.is_file():
            raise ValueError(f"from_hf_config: config {str(config)[:80]!r} is neither JSON text nor the path of a file.")
        return _json(path.read_text(encoding="utf-8"), str(path))
    raise TypeError(f"from_hf_config: config must be a dict, a JSON string or the path of a config.json, got {type(config).__name__}.")


def _json(text: str, where: str) -> dict:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"from_hf_config: {where} is not valid JSON ({e.msg}, line {e.lineno}).") from None
    if not isinstance(raw, dict):
        raise TypeError(f"from_hf_config: a config.json holds an object {{...}}, got {type(raw).__name__}.")
    return raw


class _Reader:
    """Reads keys of one config dict and remembers which it read."""

    def __init__(self, raw: dict) -> None:
        self.raw, self.read = raw, set()

    def get(self, key: str, default: object = None) -> object:
        self.read.add(key)
        value = self.raw.get(key)
        return default if value is None else value

    def need(self, key: str) -> object:
        if self.raw.get(key) is None:
            raise ValueError(f"from_hf_config: a {self.raw.get('model_type')} config needs {key!r}, which is missing.")
        return self.get(key)

    def unread(self) -> list[str]:
        return sorted(k for k in self.raw if k not in self.read and k not in _HF_IGNORED)


def _hf_mlp(family: str, act: object) -> str:
    act = str(act)
    if family in _GATED_FAMILIES:
        return "geglu" if act.startswith("gelu") else "swiglu"
    return "relu" if act == "relu" else "gelu"


def _hf_layer_types(r: _Reader, family: str, L: int) -> tuple[tuple[str, ...] | None, int | None]:
    """Per-layer attention types and the window, from layer_types, the family's pattern or sliding_window."""
    window = r.get("sliding_window")
    names = r.get("layer_types")
    if names is not None:
        types = tuple("sliding" if "sliding" in str(t) else "full" for t in names)
        return types, (window if "sliding" in types else None)
    if family in ("qwen2", "qwen3"):
        use = r.get("use_sliding_window", False)
        start = r.get("max_window_layers", L)
        if not use or window is None:
            return None, None
        return tuple("sliding" if i >= start else "full" for i in range(L)), window
    if family == "gemma2":
        return tuple("sliding" if i % 2 == 0 else "full" for i in range(L)), window
    if family == "gemma3_text":
        pattern = r.get("sliding_window_pattern", 6)
        return tuple("full" if (i + 1) % pattern == 0 else "sliding" for i in range(L)), window
    if window is None:
        return None, None
    return ("sliding",) * L, window


def _gpt2_fields(r: _Reader) -> dict:
    """GPT-2's keys: n_embd, n_layer, n_head, n_inner (None: 4d), n_positions; biases and LayerNorm everywhere."""
    d = r.need("n_embd")
    return dict(vocab=r.need("vocab_size"), d=d, n_layers=r.need("n_layer"), n_heads=r.need("n_head"),
                d_ff=r.get("n_inner", 4 * d), mlp=_hf_mlp("gpt2", r.get("activation_function", "gelu_new")),
                tied=bool(r.get("tie_word_embeddings", True)), norm="layernorm", bias=True,
                positions="learned", max_len=r.need("n_positions"))


def _decoder_fields(r: _Reader, family: str) -> dict:
    """The Llama-style families: RMSNorm, rotary positions, a gated MLP, and each family's extras."""
    L = r.need("num_hidden_layers")
    gemma = family in ("gemma2", "gemma3_text")
    act = r.get("hidden_activation") if gemma and r.raw.get("hidden_activation") else r.get("hidden_act", "silu")
    r.read |= {"hidden_act", "hidden_activation"}
    bias: tuple[str, ...] = ()
    if family == "qwen2":
        bias = ("q", "k", "v")  # Qwen2's attention has biases on q, k, v and none on o
    elif r.get("attention_bias", False):
        bias = ("q", "k", "v", "o")
    if r.get("mlp_bias", False):
        bias += ("gate", "up", "down")
    layer_types, window = _hf_layer_types(r, family, L)
    fields = dict(vocab=r.need("vocab_size"), d=r.need("hidden_size"), n_layers=L,
                  n_heads=r.need("num_attention_heads"), d_ff=r.need("intermediate_size"),
                  n_kv_heads=r.get("num_key_value_heads"), mlp=_hf_mlp(family, act),
                  tied=bool(r.get("tie_word_embeddings", gemma)), norm="rmsnorm", bias=bias,
                  positions="rotary", max_len=r.need("max_position_embeddings"), head_dim=r.get("head_dim"),
                  qk_norm=family in ("qwen3", "gemma3_text"), norms_per_block=4 if gemma else 2,
                  fused=family == "phi3", layer_types=layer_types, sliding_window=window)
    if family == "mixtral":
        fields |= dict(n_experts=r.need("num_local_experts"), top_k=r.need("num_experts_per_tok"))
    return fields


def from_hf_config(config: dict | str | Path, name: str | None = None) -> ModelConfig:
    """A ModelConfig from a Hugging Face `config.json` (a dict, its JSON text, or its path).

    Reads the families in HF_FAMILIES (GPT-2, Llama 2/3/3.x, Mistral, Mixtral, Qwen2/2.5, Qwen3,
    Gemma 2, Gemma 3's text model, Phi-3); refuses any other model_type, and any key it cannot
    read, naming them. head_dim is read when the config gives it (Qwen3, Gemma: not d / h);
    biases, q/k norms, extra norms, fused projections, experts and sliding windows as each
    family's code in transformers defines them.
    """
    raw = _hf_dict(config)
    r = _Reader(raw)
    family = raw.get("model_type")
    if family not in HF_FAMILIES:
        keys = sorted(k for k in raw if k not in _HF_IGNORED)
        raise ValueError(f"from_hf_config: config has model_type {family!r}, not one of the families it reads "
                         f"{list(HF_FAMILIES)}; it could not read the keys {keys}.")
    title = name if name is not None else str(raw.get("_name_or_path") or family)
    fields = _gpt2_fields(r) if family == "gpt2" else _decoder_fields(r, family)
    unread = r.unread()
    if unread:
        raise ValueError(f"from_hf_config: this {family} config has keys it cannot read: {unread}; "
                         "they may change the counts, so it refuses rather than guess.")
    return ModelConfig(title, **fields)


def shipped_configs() -> list[str]:
    """Names of the published config.json files shipped in lib/configs (sources in lib/configs/SOURCES.md)."""
    folder = resources.files("lib") / "configs"
    return sorted(p.name[: -len(".json")] for p in folder.iterdir() if p.name.endswith(".json"))


def shipped_config(name: str) -> dict:
    """One shipped config.json as a dict, e.g. shipped_config('qwen3-4b'); from_hf_config reads it."""
    names = shipped_configs()
    if not isinstance(name, str) or name not in names:
        raise ValueError(f"shipped_config: name must be one of {names}, got {name!r}.")
    return json.loads((resources.files("lib") / "configs" / f"{name}.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- time
#: Accelerators by name -> dense bf16 peak (FLOP/s), memory bandwidth (bytes/s) and memory (bytes), from
#: NVIDIA's datasheets (A100 80GB SXM: 312 TFLOP/s, 2,039 GB/s; H100 SXM5: 989 TFLOP/s, 3.35 TB/s);
#: an "80 GB" card holds 80 GiB (nvidia-smi: 81,920 MiB on an A100 80GB).
ACCELERATORS: dict[str, dict[str, float]] = {
    "A100-80GB": {"peak_flops": 312e12, "bandwidth": 2.039e12, "memory": 80 * GiB},
    "H100-SXM": {"peak_flops": 989e12, "bandwidth": 3.35e12, "memory": 80 * GiB},
}


def _accelerator(name: object, where: str) -> dict[str, float]:
    if not isinstance(name, str) or name not in ACCELERATORS:
        raise ValueError(f"{where}: accelerator must be one of {list(ACCELERATORS)}, got {name!r}.")
    return ACCELERATORS[name]


def decode_time(cfg: ModelConfig, T: int, B: int = 1, accelerator: str = "H100-SXM", dtype: str = "bf16") -> dict[str, float]:
    """A lower bound on the time of one decode step (B sequences add a token each, at context T), by the roofline.

    bytes = the weights read once (for a mixture, the experts B * k tokens can reach, at most E)
    + the whole KV cache; FLOPs = B * (forward FLOPs of a token). -> {'bytes', 'flops',
    'memory_s' (bytes / bandwidth), 'compute_s' (FLOPs / peak), 'seconds' (the larger)}.
    """
    c = _cfg(cfg, "decode_time")
    T, B = positive_ints("decode_time", T=T, B=B)
    acc, nb = _accelerator(accelerator, "decode_time"), _dtype(dtype, "decode_time")
    one_expert = block_params(c)["mlp"] // c.n_experts
    experts_read = min(c.n_experts, B * c.top_k)
    weights = (n_params(c) - c.n_layers * (c.n_experts - experts_read) * one_expert) * nb
    nbytes = weights + kv_cache_bytes(c, T, B, c.kv_dtype or dtype)
    flops = B * sum(forward_flops(c, T).values())
    memory_s, compute_s = nbytes / acc["bandwidth"], flops / acc["peak_flops"]
    return {"bytes": nbytes, "flops": flops, "memory_s": memory_s, "compute_s": compute_s, "seconds": max(memory_s, compute_s)}


def _flops(x: object) -> object:
    """A Python int beyond float64's exact range is still a count: as a float, as_number can check it."""
    return float(x) if isinstance(x, int) and not isinstance(x, bool) else x


def compute_time(flops: float, accelerator: str = "H100-SXM", mfu: float = 0.4, n_devices: int = 1) -> float:
    """Seconds to do `flops` on n_devices accelerators that reach a fraction mfu of their dense bf16 peak."""
    flops = as_number(_flops(flops), "flops", "compute_time", positive=True)
    acc = _accelerator(accelerator, "compute_time")
    mfu = as_number(mfu, "mfu", "compute_time", positive=True)
    if mfu > 1:
        raise ValueError(f"compute_time: mfu is a fraction of the peak, at most 1, got {mfu}.")
    return flops / (acc["peak_flops"] * mfu * as_positive_int(n_devices, "n_devices", "compute_time"))


def implied_mfu(flops: float, device_hours: float, accelerator: str = "A100-80GB") -> float:
    """The model FLOPs utilisation a training run implies: flops / (device-hours * 3600 * peak).

    Llama-2-7B: 184,320 A100-80GB hours for 2T tokens of 4,096 (Touvron et al. 2023, Table 2).
    """
    flops = as_number(_flops(flops), "flops", "implied_mfu", positive=True)
    hours = as_number(device_hours, "device_hours", "implied_mfu", positive=True)
    return flops / (hours * 3600 * _accelerator(accelerator, "implied_mfu")["peak_flops"])
