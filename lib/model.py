"""The whole-model ledger of a decoder-only transformer, from its configuration alone.

Letters: V vocabulary, d model width, L layers, h query heads, h_kv key/value heads, d_h = d / h
head width, d_ff MLP width, T context length (tokens), B batch, r LoRA rank, N parameters.

One block, pre-norm (GPT-2, Llama):

    x = x + Wo(Attn(Wq n1(x), Wk n1(x), Wv n1(x)))     Wq (d, h d_h), Wk Wv (d, h_kv d_h), Wo (h d_h, d)
    x = x + MLP(n2(x))                                  "gelu": W1 (d, d_ff), W2 (d_ff, d)
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
  2 + 2 + 4 + 8 = 16 bytes per trained parameter.
- Activations: the tensors the backward pass needs, stored in `dtype`, no recomputation, and the
  attention probabilities materialised (no fused attention kernel); per token and layer:
  the two norm inputs and outputs (4d), Q, K, V (d + 2 h_kv d_h), the attention output (d), the
  attention probabilities (h T) and the MLP hidden tensors (2 d_ff for "gelu": pre- and
  post-activation; 3 d_ff for "swiglu": gate, up and their product); plus the logits (V).
  `fused_attention=True` drops the h T probabilities (a FlashAttention-style kernel recomputes
  them in the backward pass instead of storing them).
  Dropout masks and the optimizer's temporary buffers are not counted.

See the chapter `model-ledger`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lib.ledger import Ledger, bytes_per_element
from lib.shapes import as_number, as_positive_int, positive_ints

MLP_KINDS = ("gelu", "swiglu")
NORMS = {"layernorm": 2, "rmsnorm": 1, "rmsnorm-no-gain": 0}  # learned vectors of size d per norm
POSITIONS = ("learned", "rotary")
PROJECTIONS = ("q", "k", "v", "o", "gate", "up", "down")
GB = 10**9


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
    mlp: str = "gelu"  # "gelu": two matrices; "swiglu": three
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


PRESETS: dict[str, ModelConfig] = {
    # Karpathy's microgpt: 27 characters, one block, ReLU MLP, parameter-free RMSNorm, no biases
    "microgpt": ModelConfig("microgpt", vocab=27, d=16, n_layers=1, n_heads=4, d_ff=64, mlp="gelu",
                            tied=False, norm="rmsnorm-no-gain", bias=False, positions="learned", max_len=16),
    "gpt2-small": ModelConfig("GPT-2 small", vocab=50257, d=768, n_layers=12, n_heads=12, d_ff=3072,
                              mlp="gelu", tied=True, norm="layernorm", bias=True, positions="learned", max_len=1024),
    "llama2-7b": ModelConfig("Llama-2-7B", vocab=32000, d=4096, n_layers=32, n_heads=32, d_ff=11008,
                             mlp="swiglu", tied=False, norm="rmsnorm", bias=False, positions="rotary", max_len=4096),
    "llama2-70b": ModelConfig("Llama-2-70B", vocab=32000, d=8192, n_layers=80, n_heads=64, d_ff=28672,
                              n_kv_heads=8, mlp="swiglu", tied=False, norm="rmsnorm", bias=False,
                              positions="rotary", max_len=4096),
}


def preset(name: str) -> ModelConfig:
    """One of PRESETS by key: 'microgpt', 'gpt2-small', 'llama2-7b', 'llama2-70b'."""
    if not isinstance(name, str) or name not in PRESETS:
        raise ValueError(f"preset: name must be one of {list(PRESETS)}, got {name!r}.")
    return PRESETS[name]


def _cfg(cfg: object, where: str) -> ModelConfig:
    if not isinstance(cfg, ModelConfig):
        raise TypeError(f"{where}: cfg must be a model.ModelConfig (e.g. model.preset('gpt2-small')), got {type(cfg).__name__}.")
    return cfg


def _dtype(dtype: object, where: str) -> int:
    if not isinstance(dtype, str):
        raise TypeError(f"{where}: dtype must be a name like 'bf16' or 'fp32', got {dtype!r}.")
    return bytes_per_element(dtype, where)


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


def attention_crossover(cfg: ModelConfig) -> int:
    """The smallest context T at which the attention-score FLOPs of a token reach the MLP's."""
    c = _cfg(cfg, "attention_crossover")
    per_key = forward_flops(c, 1)["attention scores"]
    mlp = forward_flops(c, 1)["mlp"]
    return -(-mlp // per_key)  # ceil(mlp / per_key)


def six_n_flops(cfg: ModelConfig, tokens: int) -> int:
    """The rule of thumb for training compute: 6 * N * tokens (2 forward + 4 backward per weight)."""
    c = _cfg(cfg, "six_n_flops")
    return 6 * n_params(c) * as_positive_int(tokens, "tokens", "six_n_flops")


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
    heads = c.kv_heads if grouped else c.n_heads
    return 2 * c.n_layers * B * heads * c.head_dim * T * _dtype(dtype, "kv_cache_bytes")


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
    hidden = (3 if c.mlp == "swiglu" else 2) * c.d_ff
    probs = 0 if fused_attention else c.n_heads * T  # the (h, T, T) attention probabilities, per token
    per_layer = 6 * c.d + 2 * c.kv_heads * c.head_dim + probs + hidden  # elements per token
    return B * T * (c.n_layers * per_layer + c.vocab) * _dtype(dtype, "activation_bytes")


def lora_params(cfg: ModelConfig, r: int, targets: tuple[str, ...] = ("q", "v")) -> int:
    """Trainable parameters of rank-r LoRA adapters on the chosen projections of every block.

    An adapter on a (D_in, D_out) matrix adds B (D_in, r) and A (r, D_out): r * (D_in + D_out).
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
    return c.n_layers * sum(r * (shapes[t][0] + shapes[t][1]) for t in dict.fromkeys(targets))


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
    optimizer_per = 8 if per >= 4 else 12  # m and v in fp32, plus an fp32 master copy below fp32
    return {
        "weights": stored * per,
        "gradients": trained * per,
        "optimizer": trained * optimizer_per,
        "activations": activation_bytes(c, B, T, dtype, fused_attention=fused_attention),
    }


def max_batch(cfg: ModelConfig, T: int, memory_bytes: float = 80 * GB, dtype: str = "bf16", *,
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
