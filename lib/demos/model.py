"""The model-ledger chapter's demo: parameters, FLOPs and memory of a real model at a chosen context.

Pick a model and a context length, see where its parameters live, where a token's FLOPs go, and
what fits on one "80 GB" accelerator (80 GiB). Every number comes from `lib.sizing`; this module
only draws.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from lib import sizing
from lib.ledger import human_bytes
from lib.widgets import Choice, Demo

#: The demo's colours (matplotlib's default cycle; grey for the embeddings and the LM head).
BLUE, ORANGE, GREEN, GREY, RED = "#1f77b4", "#ff7f0e", "#2ca02c", "#9a9a9a", "#d62728"
#: The context lengths T the player offers.
CONTEXTS = (1024, 4096, 16384, 65536, 131072)
#: The models the player offers, keys of `lib.sizing.PRESETS` (the tiny GPT, a second microgpt, left out).
PRESET_KEYS = ("microgpt", "gpt2-small", "llama2-7b", "mistral-7b", "llama2-70b")
#: Memory of one "80 GB" accelerator (an A100 or H100 80GB): 80 GiB = 85.9e9 bytes.
ACCELERATOR = 80 * sizing.GiB

#: The parts of the parameter bars (the two embedding tables together; a router counts with the MLP).
PARAM_PARTS = ("embeddings", "attention", "mlp", "norms", "lm head")
#: The parts of the FLOP bars, keys of `lib.sizing.forward_flops`.
FLOP_PARTS = ("attention projections", "attention scores", "mlp", "lm head")
#: The rows of the memory bars.
MEMORY_ROWS = ("inference: weights + KV cache", "train, LoRA r = 8 on q, v", "train, full (Adam)")


def param_shares(cfg: sizing.ModelConfig) -> dict[str, float]:
    """Fraction of the parameters in each part (the two embedding tables together)."""
    c = sizing.param_counts(cfg)
    parts = {"embeddings": c["token embedding"] + c["position embedding"], "attention": c["attention"],
             "mlp": c["mlp"] + c["router"], "norms": c["norms"], "lm head": c["lm head"]}
    total = sum(parts.values())
    return {k: v / total for k, v in parts.items()}


def flop_shares(cfg: sizing.ModelConfig, T: int) -> dict[str, float]:
    """Fraction of one token's forward FLOPs in each part at context T."""
    f = sizing.forward_flops(cfg, T)
    total = sum(f.values())
    return {k: f[k] / total for k in FLOP_PARTS}


def memory_rows(cfg: sizing.ModelConfig, T: int) -> dict[str, int]:
    """Bytes (bf16, batch 1, context T) for generating, LoRA training and full training.

    Training assumes a fused attention kernel (no (h, T, T) probabilities stored).
    """
    inf = sizing.inference_bytes(cfg, T)
    return {
        MEMORY_ROWS[0]: inf["weights"] + inf["kv cache"],
        MEMORY_ROWS[1]: sum(sizing.train_memory(cfg, 1, T, lora_rank=8, fused_attention=True).values()),
        MEMORY_ROWS[2]: sum(sizing.train_memory(cfg, 1, T, fused_attention=True).values()),
    }


def model_demo() -> Demo:
    """Choose a preset and a context length: parameter shares, FLOP shares, memory against an 80 GiB card."""
    labels = [sizing.preset(k).name for k in PRESET_KEYS]

    def draw(fig: Figure):
        grid = fig.add_gridspec(3, 1, height_ratios=[1, 1, 0.9])
        ax_p, ax_f, ax_m = (fig.add_subplot(grid[i]) for i in range(3))
        yp = np.arange(len(PARAM_PARTS))
        bars_p = ax_p.barh(yp, np.zeros(len(yp)), color=[GREY, BLUE, ORANGE, GREEN, GREY], animated=True)
        ax_p.set(yticks=yp, yticklabels=PARAM_PARTS, xlim=(0, 100), xlabel="% of the parameters")
        ax_p.invert_yaxis()
        title_p = ax_p.text(0.99, 0.05, "", transform=ax_p.transAxes, ha="right", va="bottom", fontsize=8,
                            family="monospace", animated=True)
        yf = np.arange(len(FLOP_PARTS))
        bars_f = ax_f.barh(yf, np.zeros(len(yf)), color=[BLUE, RED, ORANGE, GREY], animated=True)
        ax_f.set(yticks=yf, yticklabels=FLOP_PARTS, xlim=(0, 100), xlabel="% of one token's forward FLOPs")
        ax_f.invert_yaxis()
        title_f = ax_f.text(0.99, 0.05, "", transform=ax_f.transAxes, ha="right", va="bottom", fontsize=8,
                            family="monospace", animated=True)
        ym = np.arange(len(MEMORY_ROWS))
        bars_m = ax_m.barh(ym, np.ones(len(ym)), left=1, animated=True)
        ax_m.set(xscale="log", xlim=(1e3, 1e13), yticks=ym, yticklabels=MEMORY_ROWS,
                 xlabel="bytes (bf16, batch 1; log scale)")
        ax_m.axvline(ACCELERATOR, color="black", linestyle="--", linewidth=1)
        ax_m.set_title("dashed: one \"80 GB\" card, 80 GiB = 85.9 GB; green fits, red does not", fontsize=8)
        ax_m.invert_yaxis()
        texts_m = [ax_m.text(1.5e3, y, "", va="center", fontsize=8, animated=True) for y in ym]

        def update(preset: str, T: int) -> None:
            cfg = sizing.preset(preset)
            capped = cfg.positions == "learned" and T > cfg.max_len
            T = min(T, cfg.max_len) if cfg.positions == "learned" else T  # a learned table ends at max_len
            for bar, share in zip(bars_p, param_shares(cfg).values(), strict=True):
                bar.set_width(100 * share)
            title_p.set_text(f"{sizing.n_params(cfg):,} parameters")
            for bar, share in zip(bars_f, flop_shares(cfg, T).values(), strict=True):
                bar.set_width(100 * share)
            cross = sizing.crossover_vs_mlp(cfg)
            where = f"scores = MLP at {cross:,}" if cross else f"scores < MLP at any T ({cfg.sliding_window:,}-token window)"
            title_f.set_text(f"T = {T:,}{' (max)' if capped else ''}; {where}")
            for bar, text, nbytes in zip(bars_m, texts_m, memory_rows(cfg, T).values(), strict=True):
                bar.set_width(nbytes - 1)
                bar.set_color(GREEN if nbytes <= ACCELERATOR else RED)
                text.set_text(human_bytes(nbytes))

        return update

    return Demo(
        "Sizing up a real model",
        [Choice("preset", PRESET_KEYS, "llama2-7b", label="model", option_labels=labels),
         Choice("T", CONTEXTS, 4096, label="context T", option_labels=[f"{t:,}" for t in CONTEXTS])],
        draw,
        figsize=(6.4, 6.4),
        caption="Top: the share of the parameters in each part. Middle: the share of one token's "
        "forward FLOPs at context T (capped at the model's own maximum for learned positions); only "
        "the attention scores grow with T, and they overtake the MLP at the T printed. Bottom: bytes to generate (weights and KV cache), to train a LoRA "
        "adapter and to train every weight with Adam (mixed precision, a fused attention kernel), "
        "against one \"80 GB\" accelerator (dashed), which holds 80 GiB = 85.9 GB.",
    )


# ---------------------------------------------------------------- the tiny GPT's attention
def draw_attention(ax, A: np.ndarray, n: int, title: str = "", animated: bool = False):
    """One head's attention map (T, T) with the digits / SEP / answer layout marked; returns the image."""
    T = A.shape[-1]
    image = ax.imshow(A, cmap="Blues", vmin=0, vmax=1, animated=animated)
    ticks = [f"x{i + 1}" for i in range(n)] + ["SEP"] + [f"y{i + 1}" for i in range(T - n - 1)]
    ax.set_xticks(range(T), ticks, fontsize=6, rotation=90)
    ax.set_yticks(range(T), ticks, fontsize=6)
    ax.set_xlabel("key position (attended to)", fontsize=7)
    ax.set_ylabel("query position", fontsize=7)
    ax.axhline(n - 0.5, color=ORANGE, linewidth=0.8)
    ax.axvline(n - 0.5, color=ORANGE, linewidth=0.8)
    if title:
        ax.set_title(title, fontsize=8)
    return image


def trained_tiny_gpt(seed: int = 0) -> tuple[dict, dict, float, object, np.ndarray]:
    """The chapter `tiny-gpt`'s run, seeded: a GPT trained to reverse 5 digits, a rank-8 adapter on
    Wq and Wk trained to rotate them, and 6 held-out rows. -> params, lora, alpha, cfg, examples"""
    from lib import data, train, transformer
    from lib.lora import init_model_lora

    n, alpha = 5, 8.0
    cfg = transformer.Config(vocab_size=11, d=32, n_heads=2, n_layers=1, d_ff=64, block_size=2 * n)
    params = transformer.init_params(cfg, seed=seed)
    X, Y = data.digit_task("reverse", 2000, n, seed=seed)
    train.train(params, X, Y, cfg, steps=200, batch=32, lr=0.01, seed=seed)
    Xr, Yr = data.digit_task("rotate", 2000, n, seed=seed + 2)
    lora = init_model_lora(params, 8, targets=("Wq", "Wk"), seed=seed + 1)
    train.train(params, Xr, Yr, cfg, steps=400, batch=32, lr=0.01, seed=seed + 1, lora=lora, alpha=alpha)
    examples = data.digit_task("rotate", 6, n, seed=seed + 3, exclude=Xr)[0]
    return params, lora, alpha, cfg, examples


def tiny_gpt_demo(params: dict | None = None, lora: dict | None = None, alpha: float = 8.0, cfg=None,
                  examples: np.ndarray | None = None) -> Demo:
    """Choose an input and a model (the base model, or base + the rotation adapter): its two attention
    maps and its answer. Everything is computed once from the given trained weights; with no
    arguments, from `trained_tiny_gpt()` (a few seconds of training)."""
    from lib import data, train, transformer

    if params is None:
        params, lora, alpha, cfg, examples = trained_tiny_gpt()
    n = examples.shape[1]
    frames = {}
    for i, x in enumerate(examples):
        for which in ("reverse", "rotate"):
            ad = None if which == "reverse" else lora
            answer = train.solve(params, x[None], cfg, lora=ad, alpha=alpha)[0]
            tokens = np.concatenate([x, [data.SEP], answer[:-1]])[None]  # what the model read while answering
            maps = transformer.attention_maps(params, tokens, cfg, lora=ad, alpha=alpha)[0][0]  # (h, T, T)
            frames[i, which] = (maps, answer)

    def draw(fig: Figure):
        axes = fig.subplots(1, cfg.n_heads)
        images = [draw_attention(ax, np.zeros((2 * n, 2 * n)), n, f"head {h + 1}", animated=True)
                  for h, ax in enumerate(np.atleast_1d(axes))]
        text = fig.suptitle(" ", fontsize=9, family="monospace")  # laid out once, its text changes
        text.set_animated(True)

        def update(example: int, model_: str) -> None:
            maps, answer = frames[example, model_]
            for h, image in enumerate(images):
                image.set_data(maps[h])
            x = examples[example]
            text.set_text(f"input {''.join(map(str, x))}  ->  model says {''.join(map(str, answer))}")

        return update

    return Demo(
        "The tiny GPT's attention, before and after the adapter",
        [Choice("example", tuple(range(len(examples))), 0, label="held-out input",
                option_labels=["".join(map(str, x)) for x in examples]),
         Choice("model_", ("reverse", "rotate"), "reverse", label="model",
                option_labels=["base (reverses)", "base + LoRA (rotates)"])],
        draw,
        figsize=(6.4, 3.6),
        caption="Rows are query positions, columns the positions they attend to; the orange lines "
        "separate the input digits from the separator and the answer. In the answer rows (from "
        "SEP down), head 1 of the base model reads the input mirrored, an anti-diagonal; with the "
        "adapter it reads a diagonal shifted one step right that wraps round: the row that writes "
        "y_j reads x_(j+1), and the last one reads x_1.",
    )
