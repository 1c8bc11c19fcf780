"""Exercises for the chapter `model-ledger`, six of them.

A GPT-2 block, a KV cache, the largest batch, a LoRA saving, a memory calculator's bugs and a
hybrid-attention cache.
"""

from __future__ import annotations

import numpy as np

from lib import sizing
from lib.exercises import (
    BYTE_UNITS,
    Exercise,
    Wrong,
    call,
    compare_count,
    compare_units,
    refuse_lib,
)

# ---------------------------------------------------------------- ex1: a GPT-2 block by hand
# (64, 100) first: there d_ff is not 4d, so "no norms" (-4d), "no first MLP bias" (-d_ff) and "norms as one
# gain each" (-2d) give different numbers, as they do not when d_ff = 4d
_BLOCK_CASES = ((64, 100), (768, 3072), (1024, 4096), (48, 192))


def _block(d: int, F: int) -> int:
    return 4 * (d * d + d) + (2 * d * F + F + d) + 4 * d


def _known(bugs: dict[str, object]) -> dict[str, object]:
    """The bugs that apply to this case (a value of None does not)."""
    return {k: v for k, v in bugs.items() if v is not None}


def _blocks(got: object, block: int) -> int | None:
    """k * block when `got` is a whole number k >= 2 of blocks, else None."""
    try:
        k = float(got) / block  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    if not np.isfinite(k):
        return None
    return round(k) * block if round(k) >= 2 and abs(k - round(k)) < 1e-9 else None


def _in_bytes(got: object, want: int, name: str) -> None:
    """Raise Wrong when `got` is `want` bytes expressed in a larger unit (kB, MiB, GB ...); bits are a named bug."""
    try:
        value = float(got)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return
    if value == want:
        return
    for unit, size in BYTE_UNITS.items():
        if unit not in ("bytes", "bits") and abs(value - want / size) <= 5e-3 * want / size:
            raise Wrong(f"{name} looks like the right amount in {unit}; return it in bytes.")


def _check_block(fn) -> str:
    refuse_lib(fn, {"lib.sizing.block_params": sizing.block_params, "lib.sizing.n_params": sizing.n_params,
                    "lib.sizing.param_counts": sizing.param_counts}, how="from d and d_ff")
    for d, F in _BLOCK_CASES:
        got = call(fn, d, F, name="your gpt2_block_params")
        try:
            compare_count(got, _block(d, F), name="your count", bugs=_known({
                "the six linear layers have biases too: add d for each of Wq, Wk, Wv, Wo and the second MLP "
                "layer, d_ff for the first.": 4 * d * d + 2 * d * F + 4 * d,
                "you left out the two LayerNorms (a gain and a bias of d each: 4d).": _block(d, F) - 4 * d,
                "two LayerNorms, each with a gain AND a bias, are 4d parameters; you counted 2d (one norm, or "
                "gains only).": _block(d, F) - 2 * d,
                "two LayerNorms, each with a gain AND a bias, are 4d parameters; you counted d.": _block(d, F) - 3 * d,
                "that is a Llama-style block (no biases, RMSNorm gains only); GPT-2 has biases and LayerNorms, "
                "and two MLP matrices, not three.": 4 * d * d + 3 * d * F + 2 * d,
                "each MLP matrix has d * d_ff weights; you counted d * d.": 4 * (d * d + d) + (2 * d * d + F + d) + 4 * d,
                "you counted one attention matrix instead of four (Wq, Wk, Wv, Wo).": (d * d + d) + (2 * d * F + F + d) + 4 * d,
                "you counted three attention matrices (Wq, Wk, Wv) but not the output projection Wo.":
                    3 * (d * d + d) + (2 * d * F + F + d) + 4 * d,
                "you counted only one of the MLP's two matrices.": 4 * (d * d + d) + (d * F + F) + 4 * d,
                "the MLP width is d_ff: you used 4 * d instead of the d_ff you were given.": _block(d, 4 * d),
                "the MLP's two biases are missing: d_ff for the first layer, d for the second.": _block(d, F) - F - d,
                "the four attention biases are missing: each of Wq, Wk, Wv, Wo has a bias of d.": _block(d, F) - 4 * d,
                "a block has two LayerNorms; the final LayerNorm belongs to the model, not to each block.":
                    _block(d, F) + 2 * d,
                "each linear layer has ONE bias of D_out: four of d for attention, d_ff and d for the MLP; you "
                "counted some twice.": _block(d, F) + 4 * d,
                "the second MLP layer maps d_ff back to d, so its bias has d entries, not d_ff.": _block(d, F) + F - d,
                "the first MLP layer maps d to d_ff, so its bias has d_ff entries, not d.": _block(d, F) - F + d,
                "one bias of d is missing: Wq, Wk, Wv, Wo and the second MLP layer each have a bias of d.":
                    _block(d, F) - d,
                "the first MLP layer's bias (d_ff entries) is missing.": _block(d, F) - F,
                "that is several blocks (a whole model's worth); the function counts ONE block.":
                    _blocks(got, _block(d, F)),
                "that is GPT-2 small's block whatever the sizes: compute from the d and d_ff you are given.":
                    7_087_872 if (d, F) != (768, 3072) else None,
            }))
        except Wrong as wrong:
            raise Wrong(f"with d={d}, d_ff={F}: {wrong}") from None
    return "GPT-2 small's block has 7,087,872 parameters; the MLP's 2 d d_ff is two thirds of it when d_ff = 4d."


ex1 = Exercise(
    "model-ledger-gpt2-block",
    _check_block,
    ["Start from the chapter's Llama count. Which of its three groups (attention, MLP, norms) change when "
     "every linear layer gets a bias, the MLP loses its gate, and each norm gets a bias next to its gain?",
     "A linear layer (D_in, D_out) with a bias has D_in * D_out + D_out parameters: write that for Wq, Wk, Wv, "
     "Wo (each d to d) and for the MLP's two layers (d to d_ff, then back); a LayerNorm has 2d."],
    "def gpt2_block_params(d, d_ff):\n"
    "    attention = 4 * (d * d + d)                 # Wq, Wk, Wv, Wo, each with a bias\n"
    "    mlp = (d * d_ff + d_ff) + (d_ff * d + d)     # expand and project back, with biases\n"
    "    norms = 2 * (2 * d)                          # two LayerNorms: gain and bias\n"
    "    return attention + mlp + norms",
    why="Each linear layer (D_in, D_out) with a bias has D_in * D_out + D_out parameters; a LayerNorm has "
        "a gain and a bias of d each, and a pre-norm block has two.",
    formerly="model-ledger-ex1",
)


# ---------------------------------------------------------------- ex2: a KV cache
# the first case keeps 2 (K and V), 8 (bits), bytes_per_element and h / h_kv apart (Llama-2-70B, where h / h_kv
# = 8 and bytes_per_element = 2, lets "query heads" pass for "bits" and "no factor 2" for "elements")
_KV_CASES = ((3, 12, 4, 16, 9, 5, 4), (80, 64, 8, 128, 4096, 1, 2), (32, 32, 8, 128, 1000, 3, 2), (3, 6, 2, 16, 9, 2, 1),
             (2, 4, 2, 8, 7, 5, 4))


def _check_kv(fn) -> str:
    refuse_lib(fn, {"lib.sizing.kv_bytes": sizing.kv_bytes, "lib.sizing.kv_cache_bytes": sizing.kv_cache_bytes},
               how="from the sizes")
    for L, h, h_kv, d_h, T, B, nb in _KV_CASES:
        args = (L, h, h_kv, d_h, T, B, nb)
        got = call(fn, *args, name="your kv_cache")
        want = 2 * L * h_kv * d_h * T * B * nb
        try:
            _in_bytes(got, want, "your byte count")
            compare_count(got, want, name="your byte count", bugs=_known({
                "you used the query heads: under grouped-query attention only the n_kv_heads key/value heads are "
                "cached (the query heads share them).": 2 * L * h * d_h * T * B * nb,
                "you forgot the factor 2: the cache holds keys AND values.": want // 2,
                "that is a number of elements; multiply by bytes_per_element for bytes.": want // nb,
                "you left out the layers: every layer keeps its own keys and values.": want // L,
                "you left out the batch: each of the B sequences has its own cache.": want // B,
                "you left out T: the cache holds the keys and values of every one of the T tokens.": want // T,
                "you used the group size n_heads / n_kv_heads; the cache holds n_kv_heads heads, each of "
                "head_dim numbers.": 2 * L * (h // h_kv) * d_h * T * B * nb,
                "two mistakes: use n_kv_heads, not the query heads n_heads, and keep the factor 2 for keys AND "
                "values.": L * h * d_h * T * B * nb,
                "bytes_per_element is hard-coded to 2 (bf16): multiply by the bytes_per_element you are given.":
                    want // nb * 2 if nb != 2 else None,
                "bytes_per_element is hard-coded to 4 (fp32): multiply by the bytes_per_element you are given.":
                    want // nb * 4 if nb != 4 else None,
                "you left out head_dim: each KV head stores head_dim numbers per token.": want // d_h,
                "that is T + 1 tokens; the cache holds the keys and values of the T tokens seen.":
                    want // T * (T + 1),
                "that is T - 1 tokens; the cache holds the keys and values of all T tokens seen.":
                    want // T * (T - 1),
                "that is n_layers - 1 layers; every one of the n_layers layers keeps its own cache.":
                    want // L * (L - 1),
                "that looks like bits; return bytes (8 bits each).": want * 8,
            }))
        except Wrong as wrong:
            raise Wrong(f"with n_layers={L}, n_heads={h}, n_kv_heads={h_kv}, head_dim={d_h}, T={T}, B={B}, "
                        f"bytes_per_element={nb}: {wrong}") from None
    return "Llama-2-70B: 327,680 bytes per token in bf16, 1.34 GB at 4,096 tokens, 8x less than with 64 KV heads."


ex2 = Exercise(
    "model-ledger-kv-cache",
    _check_kv,
    ["What does one layer keep for one token of one sequence, and which heads does it keep it for: the "
     "query heads, or the key/value heads they share?",
     "Count the numbers for one token in one layer first (keys and values, for each KV head, head_dim each), "
     "then scale by the layers, the T tokens, the B sequences and the bytes per number."],
    "def kv_cache(n_layers, n_heads, n_kv_heads, head_dim, T, B, bytes_per_element):\n"
    "    return 2 * n_layers * n_kv_heads * head_dim * T * B * bytes_per_element",
    why="Every layer keeps a key and a value vector of head_dim numbers per KV head for every token of "
        "every sequence; the query heads only read them.",
    formerly="model-ledger-ex2",
)


# ---------------------------------------------------------------- ex3: the largest batch that fits
_CARD = sizing.ACCELERATORS["A100-80GB"]["memory"]  # 80 GiB
_BATCH_CASES = (("gpt2-small", 1024, _CARD), ("gpt2-small", 256, 24e9), ("llama2-7b", 4096, _CARD),
                ("microgpt", 16, 1e8), ("llama2-7b", 512, 160e9))


def _fp32_batch(cfg: sizing.ModelConfig, T: int, mem: float) -> int:
    """The batch a learner gets from train_memory(cfg, 1, T, "fp32")."""
    one = sizing.train_memory(cfg, 1, T, "fp32")
    return max(0, int((mem - one["weights"] - one["gradients"] - one["optimizer"]) // one["activations"]))


def _check_batch(fn) -> str:
    refuse_lib(fn, {"lib.sizing.max_batch": sizing.max_batch}, how="from sizing.train_memory")
    for key, T, mem in _BATCH_CASES:
        cfg = sizing.preset(key)
        got = call(fn, cfg, T, mem, name="your largest_batch")
        want = sizing.max_batch(cfg, T, mem)
        one = sizing.train_memory(cfg, 1, T)
        fixed = one["weights"] + one["gradients"] + one["optimizer"]
        per = one["activations"]
        bugs = {
            "one too many: round DOWN; a batch that only partly fits does not fit.": -(-(mem - fixed) // per) if mem > fixed else None,
            "you divided the whole memory by the per-example activations; the weights, gradients and "
            "optimizer state take their share first.": mem // per if mem > fixed else None,
            "you left out the optimizer state (Adam's m, v and the fp32 master weights).":
                max(0, (mem - one["weights"] - one["gradients"]) // per),
            "you left out the gradients.": max(0, (mem - one["weights"] - one["optimizer"]) // per),
            "you subtracted only the weights; the gradients and the optimizer state take their share too.":
                max(0, (mem - one["weights"]) // per),
            "when not even B = 1 fits, return 0, not a negative number.": (mem - fixed) // per if mem < fixed else None,
            "you subtracted the whole B = 1 memory (activations included) before dividing: that is one less "
            "than the largest batch.": (mem - fixed - per) // per if mem >= fixed + per else None,
            "that is the batch for GPT-2 small at 1,024 tokens on one 80 GiB card whatever the arguments: compute "
            "it from cfg, T and memory_bytes.": 118 if (key, T, mem) != ("gpt2-small", 1024, _CARD) else None,
            "that is the batch for 80 GB = 80e9 bytes: use the memory_bytes you are given (here 80 GiB, 85.9e9 "
            "bytes), whatever the arguments.": sizing.max_batch(cfg, T, 80e9) if mem != 80e9 else None,
            "you subtracted only the optimizer state, the largest part; the memory of a step is the sum of "
            "weights, gradients, optimizer state and activations.": max(0, (mem - one["optimizer"]) // per),
            "that is the batch with a fused attention kernel; the exercise's memory is train_memory(cfg, B, T) "
            "with its default, the attention probabilities stored.":
                sizing.max_batch(cfg, T, mem, fused_attention=True),
            "you asked train_memory for fp32; the exercise's training memory is train_memory(cfg, B, T), with its "
            "default bf16.": _fp32_batch(cfg, T, mem),
        }
        try:
            compare_count(got, want, name="your batch size", what="a whole number (the batch size)",
                          bugs={k: int(v) for k, v in bugs.items() if v is not None})
        except Wrong as wrong:
            raise Wrong(f"with {cfg.name}, T={T:,}, memory_bytes={mem:g}: {wrong}") from None
    return ("GPT-2 small at 1,024 tokens fits batch 118 on one 80 GiB card; Llama-2-7B does not fit at all: its "
            "16 bytes per parameter alone are 108 GB.")


ex3 = Exercise(
    "model-ledger-largest-batch",
    _check_batch,
    ["Which of the four parts of train_memory(cfg, B, T) change when B doubles, and how?",
     "Split train_memory(cfg, 1, T) into what does not depend on B (weights, gradients, optimizer) and what "
     "grows with B (activations, B times those of one example); what is left of memory_bytes after the "
     "first is shared out by the second, and a batch that only partly fits does not fit."],
    "def largest_batch(cfg, T, memory_bytes):\n"
    "    one = sizing.train_memory(cfg, 1, T)\n"
    "    fixed = one['weights'] + one['gradients'] + one['optimizer']\n"
    "    return max(0, int((memory_bytes - fixed) // one['activations']))",
    why="Weights, gradients and optimizer state do not depend on B; the activations are B times those of "
        "one example, so the batch is the spare memory divided by one example's activations, rounded down.",
    formerly="model-ledger-ex3",
)


# ---------------------------------------------------------------- ex4: LoRA on Llama-2-70B
_L70 = sizing.preset("llama2-70b")


def _check_lora(answer) -> str:
    want = sizing.lora_params(_L70, 16, ("q", "k", "v", "o"))
    try:
        value = float(answer)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        value = None
    for scale, word in ((1e3, "thousands"), (1e6, "millions"), (1e9, "billions")):
        if value is not None and abs(value - want / scale) <= 5e-3 * want / scale:
            raise Wrong(f"that looks like the count in {word}; give the number of parameters itself.")
    compare_count(answer, want, name="your count", what="a number of parameters", bugs={
        "k and v are not square under grouped-query attention: they map d = 8192 to 8 x 128 = 1024, so each "
        "adapter there is r * (8192 + 1024).": 80 * 4 * 16 * (8192 + 8192),
        "that is one layer; there are 80.": want // 80,
        "you counted only q and v; the question asks for all four attention projections.": sizing.lora_params(_L70, 16, ("q", "v")),
        "you counted only one factor of each adapter (D_in * r); the other (r * D_out) trains too.": 80 * 16 * (8192 * 4),
        "you counted only one factor of each adapter (r * D_out); the other (D_in * r) trains too.": 80 * 16 * (8192 * 2 + 1024 * 2),
        "that is the number of parameters of the full q, k, v, o matrices, not of their adapters.": sizing.block_params(_L70)["attention"] * 80,
        "you left out Wo: the question asks for all four attention projections, q, k, v and o.":
            sizing.lora_params(_L70, 16, ("q", "k", "v")),
        "the adapters have rank r = 16, not 8.": sizing.lora_params(_L70, 8, ("q", "k", "v", "o")),
        "Wk and Wv produce all 8 KV heads of 128 numbers, 1024 columns; you used one head's 128.":
            80 * 16 * (4 * 8192 + 2 * (8192 + 128)),
        "Wk and Wv produce 8 KV heads of 128 numbers each, 1024 columns, not 8.":
            80 * 16 * (4 * 8192 + 2 * (8192 + 8)),
        "that is 79 layers; Llama-2-70B has 80.": want // 80 * 79,
    })
    return (f"{want:,} parameters, {want / sizing.n_params(_L70):.4%} of the model; 2*d*r per projection would "
            "overcount k and v.")


ex4 = Exercise(
    "model-ledger-lora-70b",
    _check_lora,
    ["An adapter on a (D_in, D_out) matrix trains r * (D_in + D_out). Are all four attention matrices of "
     "Llama-2-70B square?",
     "Write down (D_in, D_out) for each of Wq, Wk, Wv, Wo: the output width of Wk and Wv is the number of KV "
     "heads times their dimension. Then one layer's four adapters, then the 80 layers."],
    "r, d, kv = 16, 8192, 8 * 128\n"
    "per_layer = r * (d + d) + 2 * r * (d + kv) + r * (d + d)   # q, k and v, o\n"
    "answer = 80 * per_layer                                     # 65,536,000",
    solution_text="Add the four adapters; k and v are narrow:",
    why="An adapter trains r * (D_in + D_out); Wk and Wv are (8192, 1024) because the 8 KV heads of "
        "width 128 are all they produce.",
    formerly="model-ledger-ex4",
)


# ---------------------------------------------------------------- ex5: a memory calculator's two bugs (Qwen3-4B)
_QWEN3 = sizing.from_hf_config(sizing.shipped_config("qwen3-4b"))
_Q_T = 32768


def _qwen3_gb(*, heads: int = 8, head_dim: int = 128, T: int = _Q_T, factor: int = 2, nb: int = 2,
              unit: float = 1e9) -> float:
    return factor * 36 * heads * head_dim * T * nb / unit


def _check_calculator(answer) -> str:
    want = sizing.kv_cache_bytes(_QWEN3, _Q_T) / sizing.GB
    compare_units(answer, want, "GB", name="your size", rtol=2e-3, bugs={
        "that is the calculator's own answer: it has two mistakes to find.": _qwen3_gb(head_dim=80, unit=2**30),
        "you fixed the unit but not head_dim: Qwen3-4B's config gives head_dim = 128; d / h = 2560 / 32 = 80 is "
        "not the width of its heads.": _qwen3_gb(head_dim=80),
        "the cache holds the 8 key/value heads, not the 32 query heads.": _qwen3_gb(heads=32),
        "two mistakes: the cache holds the 8 key/value heads, not the 32 query heads, and it is in GiB.":
            _qwen3_gb(heads=32, unit=2**30),
        "you dropped the factor 2: the cache holds keys AND values.": _qwen3_gb(factor=1),
        "T is 32,768 tokens, not 32,000.": _qwen3_gb(T=32000),
        "bf16 is 2 bytes per number, not 4.": _qwen3_gb(nb=4),
    })
    return (f"{want:.2f} GB: 147,456 bytes per token (36 layers x 8 KV heads x 128 x 2 x 2 bytes) x 32,768 tokens. "
            "The calculator printed 2.81: head_dim as d / h is 0.625x, GiB as GB 0.93x.")


ex5 = Exercise(
    "model-ledger-calculator-kv",
    _check_calculator,
    ["Run the calculator's formula in your head on Qwen3-4B's config: which of its inputs does it compute "
     "instead of reading, and what does it divide by?",
     "Compare head_dim = hidden_size // num_attention_heads with the head_dim the config gives, and 1024**3 "
     "with the 10**9 bytes of a GB; then redo the product with the right values."],
    "head_dim, kv_heads, layers, T = 128, 8, 36, 32768   # head_dim from the config, not 2560 // 32\n"
    "answer = 2 * layers * kv_heads * head_dim * T * 2 / 1e9   # K and V, bf16, in GB (10**9 bytes)",
    solution_text="Read head_dim from the config and divide by 10**9:",
    why="Qwen3's heads are 128 wide although d / h = 80 (its q projection is (2560, 4096)), and a GB is "
        "10**9 bytes; 1024**3 is a GiB, 7.4% more.",
)


# ---------------------------------------------------------------- ex6: predict a hybrid-attention cache (Gemma-3-1B)
_GEMMA3 = sizing.from_hf_config(sizing.shipped_config("gemma-3-1b"))
_G_T = 32768


def _gemma_mb(*, full: int = 4, local: int = 22, window: int = 512, factor: int = 2, unit: float = 1e6) -> float:
    per = factor * 1 * 256 * 2  # K and V, 1 KV head of 256, bf16
    return (full * _G_T + local * min(_G_T, window)) * per / unit


def _check_hybrid(answer) -> str:
    want = sizing.kv_cache_bytes(_GEMMA3, _G_T) / 1e6
    compare_units(answer, want, "MB", name="your prediction", rtol=2e-3, bugs={
        "you counted every layer as global: the 22 local layers keep only their last 512 tokens.":
            _gemma_mb(full=26, local=0),
        "you gave every layer the 512-token window: the 4 global layers keep all 32,768 tokens.":
            _gemma_mb(full=0, local=26),
        "one global layer in five would be 5 of 26 (layers 5, 10, ...); Gemma 3 has one in six: 4 global, "
        "22 local.": _gemma_mb(full=5, local=21),
        "you dropped the factor 2: the cache holds keys AND values.": _gemma_mb(factor=1),
        "you counted the global layers only; the local ones keep their windows too.": _gemma_mb(local=0),
    })
    return (f"{want:.1f} MB: the 4 global layers keep 32,768 tokens, the 22 local ones 512 each; counted as 26 "
            "full layers it would be 872.4 MB, 6x more.")


ex6 = Exercise(
    "model-ledger-hybrid-cache",
    _check_hybrid,
    ["How many tokens does a local layer keep once the sequence is longer than its window, and how many "
     "layers of each kind are there?",
     "Bytes per token and layer: 2 (K and V) x 1 KV head x 256 x 2 bytes. Multiply by 32,768 tokens for each "
     "global layer and by 512 for each local one, add, and divide by 10**6."],
    "per = 2 * 1 * 256 * 2                        # K and V, one KV head of 256, bf16: bytes per token and layer\n"
    "answer = (4 * 32768 + 22 * 512) * per / 1e6  # 4 global layers, 22 local ones of 512 tokens, in MB",
    solution_text="Add the global and the local layers separately:",
    why="A sliding-window layer keeps only the keys and values of its last W tokens, so in a hybrid model "
        "the global layers hold almost all of the cache at long context.",
)
