"""Sizing a decoder-only transformer: parameters, bytes, FLOPs, KV cache and training memory.

Every whole-model formula of the course lives here once, on plain integers (`kv_bytes`,
`token_flops`, `lora_layer_params`, `training_flops`, ...), with config-level helpers that call
them (`kv_cache_bytes(cfg, ...)`, `lora_params(cfg, ...)`, `train_memory(cfg, ...)`).

Letters: V vocabulary, d model width, L layers, h query heads, h_kv key/value heads, d_h = d / h
head width, d_ff MLP width, T context length (tokens), B batch, r LoRA rank, N parameters.

One block, pre-norm (GPT-2, Llama):

    x = x + Wo(Attn(Wq n1(x), Wk n1(x), Wv n1(x)))     Wq (d, h d_h), Wk Wv (d, h_kv d_h), Wo (h d_h, d)
    x = x + MLP(n2(x))                                  "gelu", "relu": W1 (d, d_ff), W2 (d_ff, d)
                                                        "swiglu": W_gate, W_up (d, d_ff), W_down (d_ff, d)

Everything here is an exact integer count of what a GPU model stores and does; nothing is
allocated. Conventions, stated once:

- FLOPs of `(m, k) @ (k, n)` are `2*m*k*n`; norms, softmax, activations and residual adds are
  left out (they are O(T d) per token, small next to the matmuls).
- `forward_flops(cfg, T)` is the cost of ONE token that attends over T keys (the newest token of
  a sequence of length T). Over a causal training sequence of length T the token at position t
  attends over t keys, (T + 1) / 2 on average; `train_flops` uses that average.
- Training memory assumes mixed-precision Adam: weights and gradients in `dtype`, and, unless
  dtype is fp32, an fp32 master copy of the weights; Adam's two moments in fp32. For bf16 that is
  2 + 2 + 4 + 8 = 16 bytes per trained parameter (`TRAINED_BYTES`), in fp32 4 + 4 + 8 = 16 too.
- Units: GB = 10**9 bytes (`GB`), GiB = 2**30 bytes (`GiB`), 7.4% more.
- Activations: the tensors the backward pass needs, stored in `dtype`, no recomputation, and the
  attention probabilities materialised (no fused attention kernel); per token and layer:
  the two norm inputs and outputs (4d), Q, K, V (d + 2 h_kv d_h), the attention output (d), the
  attention probabilities (h T) and the MLP hidden tensors (2 d_ff for "gelu" and "relu": pre- and
  post-activation; 3 d_ff for "swiglu": gate, up and their product); plus the logits (V).
  `fused_attention=True` drops the h T probabilities (a FlashAttention-style kernel recomputes
  them in the backward pass instead of storing them).
  Dropout masks and the optimizer's temporary buffers are not counted.

See the chapter `model-ledger`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from lib.ledger import Ledger, bytes_per_element, human_bytes
from lib.shapes import as_number, as_positive_int, positive_ints

#: MLP kinds: "gelu" and "relu" have two matrices (up, down), "swiglu" three (gate, up, down).
MLP_KINDS = ("gelu", "relu", "swiglu")
#: Norm kinds -> learned vectors of size d per norm (LayerNorm: gain and bias; RMSNorm: gain).
NORMS = {"layernorm": 2, "rmsnorm": 1, "rmsnorm-no-gain": 0}
#: Position kinds: a learned (max_len, d) table, or rotary (RoPE, no parameters).
POSITIONS = ("learned", "rotary")
#: Names of a block's weight matrices, as `projection_shapes` and `lora_params` use them.
PROJECTIONS = ("q", "k", "v", "o", "gate", "up", "down")
#: One gigabyte, 10**9 bytes (decimal, what the course prints as "GB").
GB = 10**9
#: One gibibyte, 2**30 bytes (binary, printed as "GiB"): 7.4% more than a GB.
GiB = 2**30
#: fp32 numbers an optimizer keeps per trained parameter (Adam: its two moments m and v).
OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "adam": 2}


@dataclass(frozen=True)
class ModelConfig:
    """The sizes and choices that fix a decoder-only transformer's ledger."""

    name: str
    vocab: int  # V
    d: int  # model width
    n_layers: int  # L
    n_heads: int  # h, query heads
    d_ff: int  # MLP hidden width
    n_kv_heads: int | None = None  # h_kv; None means h (multi-head attention)
    mlp: str = "gelu"  # "gelu" or "relu": two matrices; "swiglu": three
    tied: bool = False  # LM head shares the token embedding
    norm: str = "layernorm"  # "layernorm" (gain and bias), "rmsnorm" (gain), "rmsnorm-no-gain"
    bias: bool = False  # biases on every linear layer
    positions: str = "learned"  # "learned" (a (max_len, d) table) or "rotary" (no parameters)
    max_len: int = 1024  # context length the model was trained for

    def __post_init__(self) -> None:
        where = "ModelConfig"
        for f in ("vocab", "d", "n_layers", "n_heads", "d_ff", "max_len"):
            as_positive_int(getattr(self, f), f, where)
        if self.n_kv_heads is not None:
            as_positive_int(self.n_kv_heads, "n_kv_heads", where)
            if self.n_heads % self.n_kv_heads:
                raise ValueError(f"{where}: n_heads = {self.n_heads} must be a multiple of n_kv_heads = {self.n_kv_heads}.")
        if self.d % self.n_heads:
            raise ValueError(f"{where}: d = {self.d} must be divisible by n_heads = {self.n_heads}.")
        for f, allowed in (("mlp", MLP_KINDS), ("norm", tuple(NORMS)), ("positions", POSITIONS)):
            if getattr(self, f) not in allowed:
                raise ValueError(f"{where}: {f} must be one of {allowed}, got {getattr(self, f)!r}.")
        for f in ("tied", "bias"):
            if not isinstance(getattr(self, f), bool):
                raise TypeError(f"{where}: {f} must be True or False, got {getattr(self, f)!r}.")

    @property
    def head_dim(self) -> int:
        """d_h = d / h."""
        return self.d // self.n_heads

    @property
    def kv_heads(self) -> int:
        """h_kv: the key/value heads (h when n_kv_heads is None)."""
        return self.n_kv_heads or self.n_heads


#: The course's models by key: two it builds (microgpt, the tiny GPT) and four published ones.
PRESETS: dict[str, ModelConfig] = {
    # Karpathy's microgpt: 27 characters, one block, ReLU MLP, parameter-free RMSNorm, no biases
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
    # Mistral-7B-v0.1: Llama's block with 8 KV heads and a wider MLP
    "mistral-7b": ModelConfig("Mistral-7B", vocab=32000, d=4096, n_layers=32, n_heads=32, d_ff=14336,
                              n_kv_heads=8, mlp="swiglu", tied=False, norm="rmsnorm", bias=False,
                              positions="rotary", max_len=32768),
}


def preset(name: str) -> ModelConfig:
    """One of PRESETS by key: 'microgpt', 'tiny-gpt', 'gpt2-small', 'llama2-7b', 'llama2-70b', 'mistral-7b'."""
    if not isinstance(name, str) or name not in PRESETS:
        raise ValueError(f"preset: name must be one of {list(PRESETS)}, got {name!r}.")
    return PRESETS[name]


def _cfg(cfg: object, where: str) -> ModelConfig:
    if not isinstance(cfg, ModelConfig):
        raise TypeError(f"{where}: cfg must be a sizing.ModelConfig (e.g. sizing.preset('gpt2-small')), got {type(cfg).__name__}.")
    return cfg


def _dtype(dtype: object, where: str) -> int:
    if not isinstance(dtype, str):
        raise TypeError(f"{where}: dtype must be a name like 'bf16' or 'fp32', got {dtype!r}.")
    return bytes_per_element(dtype, where)


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
    """(D_in, D_out) of every weight matrix of one block, by name: q k v o, then the MLP's."""
    c = _cfg(cfg, "projection_shapes")
    d, q_out, kv_out = c.d, c.n_heads * c.head_dim, c.kv_heads * c.head_dim
    shapes = {"q": (d, q_out), "k": (d, kv_out), "v": (d, kv_out), "o": (q_out, d)}
    if c.mlp == "swiglu":
        shapes |= {"gate": (d, c.d_ff), "up": (d, c.d_ff), "down": (c.d_ff, d)}
    else:
        shapes |= {"up": (d, c.d_ff), "down": (c.d_ff, d)}
    return shapes


def block_params(cfg: ModelConfig) -> dict[str, int]:
    """Parameters of one block: {'attention', 'mlp', 'norms'} (biases counted with their matrix)."""
    c = _cfg(cfg, "block_params")
    shapes = projection_shapes(c)
    count = {"attention": 0, "mlp": 0}
    for name, (D_in, D_out) in shapes.items():
        part = "attention" if name in ("q", "k", "v", "o") else "mlp"
        count[part] += D_in * D_out + (D_out if c.bias else 0)
    count["norms"] = 2 * NORMS[c.norm] * c.d  # two norms per block
    return count


def param_counts(cfg: ModelConfig) -> dict[str, int]:
    """Parameters by component over the whole model, in the order the data flows.

    -> {'token embedding', 'position embedding', 'attention', 'mlp', 'norms', 'lm head'}; the lm
    head is 0 when tied (it reuses the token embedding) and the position table 0 for rotary.
    """
    c = _cfg(cfg, "param_counts")
    block = block_params(c)
    return {
        "token embedding": c.vocab * c.d,  # (V, d)
        "position embedding": c.max_len * c.d if c.positions == "learned" else 0,  # (max_len, d)
        "attention": c.n_layers * block["attention"],
        "mlp": c.n_layers * block["mlp"],
        "norms": c.n_layers * block["norms"] + NORMS[c.norm] * c.d,  # plus the final norm
        "lm head": 0 if c.tied else c.d * c.vocab,  # (d, V), no bias
    }


def n_params(cfg: ModelConfig) -> int:
    """Total parameters N."""
    return sum(param_counts(_cfg(cfg, "n_params")).values())


def param_bytes(cfg: ModelConfig, dtype: str = "bf16") -> int:
    """Bytes of the weights in one dtype: N * bytes per element."""
    return n_params(_cfg(cfg, "param_bytes")) * _dtype(dtype, "param_bytes")


def model_ledger(cfg: ModelConfig, T: int = 1, B: int = 1, dtype: str = "bf16") -> Ledger:
    """The parameter tensors (stacked over the L layers) and the KV cache at batch B, context T."""
    c = _cfg(cfg, "model_ledger")
    T, B = positive_ints("model_ledger", T=T, B=B)
    _dtype(dtype, "model_ledger")
    sizes = dict(V=c.vocab, d=c.d, L=c.n_layers, h=c.n_heads, h_kv=c.kv_heads, d_h=c.head_dim,
                 d_ff=c.d_ff, T=T, B=B, T_max=c.max_len)
    led = Ledger(c.name, dtype, **sizes).add("wte", "V d", "token embedding" + (", also the LM head" if c.tied else ""), "parameter")
    if c.positions == "learned":
        led.add("wpe", "T_max d", "learned position embedding", "parameter")
    n_vec = NORMS[c.norm]
    if n_vec:
        led.add("norms", f"L 2 {n_vec} d", "two norms per block" + (": gain and bias" if n_vec == 2 else ": gain"), "parameter")
    led.add("Wq", "L d h d_h", "query projection", "parameter")
    led.add("Wk", "L d h_kv d_h", "key projection", "parameter")
    led.add("Wv", "L d h_kv d_h", "value projection", "parameter")
    led.add("Wo", "L h d_h d", "output projection", "parameter")
    if c.bias:
        led.add("b_q", "L h d_h", "bias of the query projection", "parameter")
        led.add("b_kv", "L 2 h_kv d_h", "biases of the key and value projections", "parameter")
        led.add("b_o", "L d", "bias of the output projection", "parameter")
    if c.mlp == "swiglu":
        led.add("W_gate", "L d d_ff", "MLP gate", "parameter")
    led.add("W_up", "L d d_ff", "MLP up", "parameter").add("W_down", "L d_ff d", "MLP down", "parameter")
    if c.bias:
        if c.mlp == "swiglu":
            led.add("b_gate", "L d_ff", "bias of the gate", "parameter")
        led.add("b_up", "L d_ff", "bias of the up projection", "parameter")
        led.add("b_down", "L d", "bias of the down projection", "parameter")
    if n_vec:
        led.add("norm_f", f"{n_vec} d", "final norm", "parameter")
    if not c.tied:
        led.add("W_lm", "d V", "LM head", "parameter")
    led.add("KV cache", "2 L B h_kv T d_h", "keys and values of every layer, kept while generating", "activation")
    return led


# ---------------------------------------------------------------- FLOPs
def forward_flops(cfg: ModelConfig, T: int) -> dict[str, int]:
    """Forward matmul FLOPs of ONE token attending over T keys, by part.

    -> {'attention projections': 2 * (Wq, Wk, Wv, Wo params) * L,
        'attention scores': 4 * L * h * d_h * T   (q k^T over T keys, then the weighted sum of T values),
        'mlp': 2 * (MLP params) * L, 'lm head': 2 * d * V}
    Only the scores term grows with the context; the others are 2 FLOPs per weight.
    """
    c = _cfg(cfg, "forward_flops")
    T = as_positive_int(T, "T", "forward_flops")
    shapes = projection_shapes(c)
    attn_w = sum(a * b for n, (a, b) in shapes.items() if n in ("q", "k", "v", "o"))
    mlp_w = sum(a * b for n, (a, b) in shapes.items() if n not in ("q", "k", "v", "o"))
    return {
        "attention projections": 2 * c.n_layers * attn_w,
        "attention scores": 4 * c.n_layers * c.n_heads * c.head_dim * T,  # (1, d_h) @ (d_h, T) and (1, T) @ (T, d_h), per head
        "mlp": 2 * c.n_layers * mlp_w,
        "lm head": 2 * c.d * c.vocab,
    }


def crossover_vs_mlp(cfg: ModelConfig) -> int:
    """The smallest context T at which a token's attention-score FLOPs reach its MLP's (3,072 for GPT-2 small).

    The projections are left out; `crossover_vs_weights` counts them too (4,608 for GPT-2 small).
    """
    c = _cfg(cfg, "crossover_vs_mlp")
    per_key = forward_flops(c, 1)["attention scores"]
    mlp = forward_flops(c, 1)["mlp"]
    return -(-mlp // per_key)  # ceil(mlp / per_key)


def train_flops(cfg: ModelConfig, tokens: int, T: int) -> int:
    """Training FLOPs on `tokens` tokens in causal sequences of length T: 3 x the forward pass.

    Per token: 2 FLOPs per weight that a matmul uses (not the embedding tables, which are looked
    up) plus the attention scores over (T + 1) / 2 keys on average; the backward pass costs twice
    the forward (dX and dW), hence 3x.
    """
    c = _cfg(cfg, "train_flops")
    tokens, T = positive_ints("train_flops", tokens=tokens, T=T)
    f = forward_flops(c, 1)
    weights = f["attention projections"] + f["mlp"] + f["lm head"]
    scores_sum = f["attention scores"] * T * (T + 1) // 2  # sum over positions t = 1..T of the t-key cost
    return 3 * (weights * tokens + scores_sum * tokens // T)


# ---------------------------------------------------------------- memory
def kv_cache_bytes(cfg: ModelConfig, T: int, B: int = 1, dtype: str = "bf16", *, grouped: bool = True) -> int:
    """Bytes of the KV cache: 2 (K, V) * L * B * heads * d_h * T * bytes.

    heads = h_kv with grouped=True (what the model does), h with grouped=False (as if every query
    head had its own keys and values: multi-head attention).
    """
    c = _cfg(cfg, "kv_cache_bytes")
    T, B = positive_ints("kv_cache_bytes", T=T, B=B)
    if not isinstance(grouped, bool):
        raise TypeError(f"kv_cache_bytes: grouped must be True or False, got {grouped!r}.")
    heads = c.kv_heads if grouped else c.n_heads
    return _kv_bytes(c.n_layers, heads, c.head_dim, T, B, _dtype(dtype, "kv_cache_bytes"))


def activation_bytes(cfg: ModelConfig, B: int, T: int, dtype: str = "bf16", *, fused_attention: bool = False) -> int:
    """Bytes of the activations kept for the backward pass (assumptions in the module docstring).

    Per layer and token: 6 d + 2 h_kv d_h + h T + (2 or 3) d_ff elements; plus V logits per token.
    With fused_attention=True (a FlashAttention-style kernel that recomputes the probabilities in
    the backward pass) the h T term is dropped.
    """
    c = _cfg(cfg, "activation_bytes")
    B, T = positive_ints("activation_bytes", B=B, T=T)
    if not isinstance(fused_attention, bool):
        raise TypeError(f"activation_bytes: fused_attention must be True or False, got {fused_attention!r}.")
    hidden = (3 if c.mlp == "swiglu" else 2) * c.d_ff  # swiglu: gate, up, product; gelu/relu: pre, post
    probs = 0 if fused_attention else c.n_heads * T  # the (h, T, T) attention probabilities, per token
    per_layer = 6 * c.d + 2 * c.kv_heads * c.head_dim + probs + hidden  # elements per token
    return B * T * (c.n_layers * per_layer + c.vocab) * _dtype(dtype, "activation_bytes")


def lora_params(cfg: ModelConfig, r: int, targets: tuple[str, ...] = ("q", "v")) -> int:
    """Trainable parameters of rank-r LoRA adapters on the chosen projections of every block.

    An adapter on a (D_in, D_out) matrix adds A (D_in, r) and B (r, D_out): `lora_layer_params`.
    targets: names from PROJECTIONS ('gate' exists only for SwiGLU).
    """
    c = _cfg(cfg, "lora_params")
    r = as_positive_int(r, "r", "lora_params")
    shapes = projection_shapes(c)
    if isinstance(targets, str) or not isinstance(targets, (tuple, list)) or not targets:
        raise TypeError(f"lora_params: targets must be a non-empty tuple of names from {list(shapes)}, got {targets!r}.")
    bad = [t for t in targets if t not in shapes]
    if bad:
        raise ValueError(f"lora_params: targets {bad} are not projections of this model; choose from {list(shapes)}.")
    return c.n_layers * sum(lora_layer_params(*shapes[t], r) for t in dict.fromkeys(targets))


def train_memory(cfg: ModelConfig, B: int, T: int, dtype: str = "bf16", *, lora_rank: int | None = None,
                 lora_targets: tuple[str, ...] = ("q", "v"), fused_attention: bool = False) -> dict[str, int]:
    """Bytes to train with Adam, by part: {'weights', 'gradients', 'optimizer', 'activations'}.

    Full training: gradients (dtype) for all N parameters; 'optimizer' = Adam's m and v in fp32
    plus an fp32 master copy unless dtype is fp32. With `lora_rank`, the base is frozen: only the
    adapter's parameters get gradients and optimizer state (the activations are counted as for
    full training, a slight underestimate: the adapters' own narrow activations are left out).
    """
    c = _cfg(cfg, "train_memory")
    B, T = positive_ints("train_memory", B=B, T=T)
    per = _dtype(dtype, "train_memory")
    N = n_params(c)
    trained = N if lora_rank is None else lora_params(c, lora_rank, lora_targets)
    stored = N if lora_rank is None else N + trained
    optimizer_per = _optimizer_bytes(per, "adam")  # m and v in fp32, plus an fp32 master copy below fp32
    return {
        "weights": stored * per,
        "gradients": trained * per,
        "optimizer": trained * optimizer_per,
        "activations": activation_bytes(c, B, T, dtype, fused_attention=fused_attention),
    }


def max_batch(cfg: ModelConfig, T: int, memory_bytes: float = 80 * GiB, dtype: str = "bf16", *,
              lora_rank: int | None = None, lora_targets: tuple[str, ...] = ("q", "v"),
              fused_attention: bool = False) -> int:
    """The largest batch B whose training memory (`train_memory`) fits in memory_bytes; 0 if none."""
    c = _cfg(cfg, "max_batch")
    T = as_positive_int(T, "T", "max_batch")
    _dtype(dtype, "max_batch")
    budget = as_number(memory_bytes, "memory_bytes", "max_batch", positive=True)
    one = train_memory(c, 1, T, dtype, lora_rank=lora_rank, lora_targets=lora_targets, fused_attention=fused_attention)
    fixed = one["weights"] + one["gradients"] + one["optimizer"]
    per_example = one["activations"]  # activations grow linearly in B
    return max(0, int((budget - fixed) // per_example))


def inference_bytes(cfg: ModelConfig, T: int, B: int = 1, dtype: str = "bf16") -> dict[str, int]:
    """Bytes to generate at context T and batch B: {'weights', 'kv cache'}."""
    c = _cfg(cfg, "inference_bytes")
    T, B = positive_ints("inference_bytes", T=T, B=B)
    _dtype(dtype, "inference_bytes")
    return {"weights": param_bytes(c, dtype), "kv cache": kv_cache_bytes(c, T, B, dtype)}


def with_changes(cfg: ModelConfig, **changes: object) -> ModelConfig:
    """A copy of cfg with some fields changed (validated again): with_changes(c, n_kv_heads=None)."""
    c = _cfg(cfg, "with_changes")
    unknown = sorted(set(changes) - set(c.__dataclass_fields__))
    if unknown:
        raise ValueError(f"with_changes: {unknown} are not fields of ModelConfig; fields are {list(c.__dataclass_fields__)}.")
    return replace(c, **changes)
