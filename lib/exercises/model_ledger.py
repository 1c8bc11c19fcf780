"""Exercises for the chapter `model-ledger`: a block by hand, a KV cache, the largest batch, a LoRA saving."""

from __future__ import annotations

import numpy as np

from lib import sizing
from lib.exercises import BYTE_UNITS, Exercise, Wrong, call, compare_count

# ---------------------------------------------------------------- ex1: a GPT-2 block by hand
_BLOCK_CASES = ((768, 3072), (1024, 4096), (64, 100), (48, 192))


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
    for d, F in _BLOCK_CASES:
        got = call(fn, d, F, name="your gpt2_block_params")
        try:
            compare_count(got, _block(d, F), name="your count", bugs=_known({
                "the six linear layers have biases too: add d for each of Wq, Wk, Wv, Wo and the second MLP "
                "layer, d_ff for the first.": 4 * d * d + 2 * d * F + 4 * d,
                "you left out the two LayerNorms (a gain and a bias of d each: 4d).": _block(d, F) - 4 * d,
                "two LayerNorms, each with a gain AND a bias, are 4d parameters; you counted 2d (one norm, or "
                "gains only).": _block(d, F) - 2 * d,
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
    "model-ledger-ex1",
    _check_block,
    ["Three groups: the four attention matrices, the two MLP matrices, the two norms. Each linear layer "
     "(D_in, D_out) with a bias has D_in * D_out + D_out parameters.",
     "Attention: 4 * (d*d + d). MLP: (d*d_ff + d_ff) + (d_ff*d + d). Norms: 2 * (d + d)."],
    "def gpt2_block_params(d, d_ff):\n"
    "    attention = 4 * (d * d + d)                 # Wq, Wk, Wv, Wo, each with a bias\n"
    "    mlp = (d * d_ff + d_ff) + (d_ff * d + d)     # expand and project back, with biases\n"
    "    norms = 2 * (2 * d)                          # two LayerNorms: gain and bias\n"
    "    return attention + mlp + norms",
    why="Each linear layer (D_in, D_out) with a bias has D_in * D_out + D_out parameters; a LayerNorm has "
        "a gain and a bias of d each, and a pre-norm block has two.",
)


# ---------------------------------------------------------------- ex2: a KV cache
_KV_CASES = ((80, 64, 8, 128, 4096, 1, 2), (32, 32, 8, 128, 1000, 3, 2), (3, 6, 2, 16, 9, 2, 1), (2, 4, 2, 8, 7, 5, 4))


def _check_kv(fn) -> str:
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
    "model-ledger-ex2",
    _check_kv,
    ["Per token, each layer stores one key and one value vector per KV head.",
     "2 (K and V) x layers x KV heads x head_dim numbers per token, for each of T tokens and B sequences, "
     "times the bytes per number. The query heads do not appear."],
    "def kv_cache(n_layers, n_heads, n_kv_heads, head_dim, T, B, bytes_per_element):\n"
    "    return 2 * n_layers * n_kv_heads * head_dim * T * B * bytes_per_element",
    why="Every layer keeps a key and a value vector of head_dim numbers per KV head for every token of "
        "every sequence; the query heads only read them.",
)


# ---------------------------------------------------------------- ex3: the largest batch that fits
_BATCH_CASES = (("gpt2-small", 1024, 80e9), ("gpt2-small", 256, 24e9), ("llama2-7b", 4096, 80e9),
                ("microgpt", 16, 1e8), ("llama2-7b", 512, 160e9))


def _fp32_batch(cfg: sizing.ModelConfig, T: int, mem: float) -> int:
    """The batch a learner gets from train_memory(cfg, 1, T, "fp32")."""
    one = sizing.train_memory(cfg, 1, T, "fp32")
    return max(0, int((mem - one["weights"] - one["gradients"] - one["optimizer"]) // one["activations"]))


def _check_batch(fn) -> str:
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
            "that is the batch for GPT-2 small at 1,024 tokens in 80 GB whatever the arguments: compute it from "
            "cfg, T and memory_bytes.": 110 if (key, T, mem) != ("gpt2-small", 1024, 80e9) else None,
            "you asked train_memory for fp32; the exercise's training memory is train_memory(cfg, B, T), with its "
            "default bf16.": _fp32_batch(cfg, T, mem),
        }
        try:
            compare_count(got, want, name="your batch size", what="a whole number (the batch size)",
                          bugs={k: int(v) for k, v in bugs.items() if v is not None})
        except Wrong as wrong:
            raise Wrong(f"with {cfg.name}, T={T:,}, memory_bytes={mem:g}: {wrong}") from None
    return "GPT-2 small at 1,024 tokens fits batch 110 in 80 GB; Llama-2-7B does not fit at all: its 16 bytes per parameter alone are 108 GB."


ex3 = Exercise(
    "model-ledger-ex3",
    _check_batch,
    ["Split train_memory(cfg, 1, T) into what does not depend on B (weights, gradients, optimizer) and what "
     "grows with B (activations).",
     "B = floor((memory - fixed) / activations_of_one), and 0 if that is negative."],
    "def largest_batch(cfg, T, memory_bytes):\n"
    "    one = sizing.train_memory(cfg, 1, T)\n"
    "    fixed = one['weights'] + one['gradients'] + one['optimizer']\n"
    "    return max(0, int((memory_bytes - fixed) // one['activations']))",
    why="Weights, gradients and optimizer state do not depend on B; the activations are B times those of "
        "one example, so the batch is the spare memory divided by one example's activations, rounded down.",
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
    "model-ledger-ex4",
    _check_lora,
    ["An adapter on a (D_in, D_out) matrix trains r * (D_in + D_out). Write down D_in and D_out for each of "
     "Wq, Wk, Wv, Wo.",
     "Wq and Wo are (8192, 8192); Wk and Wv are (8192, 1024). Add the four adapters and multiply by 80 layers."],
    "r, d, kv = 16, 8192, 8 * 128\n"
    "per_layer = r * (d + d) + 2 * r * (d + kv) + r * (d + d)   # q, k and v, o\n"
    "answer = 80 * per_layer                                     # 65,536,000",
    solution_text="Add the four adapters; k and v are narrow:",
    why="An adapter trains r * (D_in + D_out); Wk and Wv are (8192, 1024) because the 8 KV heads of "
        "width 128 are all they produce.",
)
