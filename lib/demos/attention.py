"""Demos for the chapters `attention` and `decoder-kv-cache`, each a `lib.widgets.Demo`.

The math comes from `lib.attention` and `lib.transformer`; this module only draws.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from lib import attention, data, transformer
from lib.widgets import Choice, Demo, Slider

BLUE, ORANGE, GREEN, GREY, RED = "#1f77b4", "#ff7f0e", "#2ca02c", "#9a9a9a", "#d62728"

SENTENCE = ("the", "cat", "sat", "on", "the", "mat")


def sentence_attention(causal: bool, scale: bool, seed: int = 3, d: int = 32) -> np.ndarray:
    """Attention weights (T, T) of the demo sentence, from fixed seeded embeddings and weights.

    Each word has one embedding (both "the" share it) plus a small position vector; Wq, Wk are
    (d, d) with entries N(0, 1/d) so the raw scores have a spread that shows the effect of sqrt(d_k).
    """
    rng = np.random.default_rng(seed)
    words = sorted(set(SENTENCE))
    emb = {w: rng.standard_normal(d) for w in words}
    pos = 0.3 * rng.standard_normal((len(SENTENCE), d))  # (T, d)
    X = (np.stack([emb[w] for w in SENTENCE]) + pos)[None]  # (1, T, d)
    Wq, Wk, Wv = (rng.standard_normal((d, d)) / np.sqrt(d) for _ in range(3))  # (d, d) each
    _, cache = attention.self_attention_forward(X, Wq, Wk, Wv, causal=causal, scale=scale)
    return cache["A"][0]  # (T, T)


def attention_demo() -> Demo:
    """Pick a query word: its weights over the keys (bars) and the whole (T, T) weight matrix."""
    T = len(SENTENCE)
    tables = {(c, s): sentence_attention(c == "on", s == "on") for c in ("off", "on") for s in ("on", "off")}
    labels = [f"{i}:{w}" for i, w in enumerate(SENTENCE)]

    def draw(fig: Figure):
        ax_bar, ax_map = fig.subplots(1, 2, width_ratios=[1, 1.1])
        bars = ax_bar.bar(range(T), np.zeros(T), color=BLUE, animated=True)
        ax_bar.set(ylim=(0, 1.05), xticks=range(T), ylabel="attention weight", title="weights of the query row")
        ax_bar.set_xticklabels(labels, rotation=60, fontsize=8)
        ax_bar.axhline(1 / T, color=GREY, ls=":", lw=1)
        readout = ax_bar.text(0.02, 0.98, "", transform=ax_bar.transAxes, va="top", fontsize=8,
                              family="monospace", animated=True)
        image = ax_map.imshow(np.zeros((T, T)), vmin=0, vmax=1, cmap="viridis", animated=True)
        ax_map.set(xticks=range(T), yticks=range(T), xlabel="key", ylabel="query", title="A = softmax(S), (T, T)")
        ax_map.set_xticklabels(labels, rotation=60, fontsize=8)
        ax_map.set_yticklabels(labels, fontsize=8)
        box = Rectangle((-0.5, -0.5), T, 1, fill=False, ec=RED, lw=2.5, animated=True)
        ax_map.add_patch(box)

        def update(query: int, causal: str, scale: str) -> None:
            A = tables[(causal, scale)]
            row = A[query]  # (T,)
            for j, bar in enumerate(bars):
                bar.set_height(row[j])
                bar.set_color(GREY if causal == "on" and j > query else (ORANGE if j == query else BLUE))
            image.set_data(A)
            box.set_y(query - 0.5)
            readout.set_text(f"row sum = {row.sum():.3f}\nmax     = {row.max():.3f}")

        return update

    return Demo(
        "Attention weights of one query",
        [Choice("query", tuple(range(T)), 2, label="query token", option_labels=labels),
         Choice("causal", ("off", "on"), "off", label="causal mask"),
         Choice("scale", ("on", "off"), "on", label="divide by sqrt(d_k)")],
        draw,
        figsize=(7.0, 3.6),
        caption="Each row of A is one query's weights over the keys; it sums to 1. With the causal mask, "
        "keys to the right of the query get weight exactly 0. Without the 1/sqrt(d_k) scaling (d_k = 32 here) "
        "the scores are sqrt(32) ~ 5.7 times larger and the weights pile up on one key. "
        "Both copies of 'the' share an embedding, so their rows differ only by position.",
    )


def kv_cache_demo(n_steps: int = 8) -> Demo:
    """Step through generation: which K/V rows are cached or (re)computed, and the (t, t) pattern."""
    config = transformer.MICROGPT
    params = transformer.init_params(config, seed=0)
    prompt = data.encode(".")
    tokens, _ = transformer.generate(params, prompt, n_steps - 1, config)  # (1, n_steps)
    A = transformer.attention_maps(params, tokens, config)[0][0, 0]  # layer 0, batch 0, head 0: (n, n)
    chars = data.decode(tokens)
    n = n_steps

    def draw(fig: Figure):
        ax_kv, ax_map = fig.subplots(1, 2, width_ratios=[0.55, 1])
        kv = ax_kv.imshow(np.zeros((n, 2, 3)), aspect="auto", animated=True)
        ax_kv.set(xticks=[0, 1], xticklabels=["K", "V"], yticks=range(n), title="K/V rows this step")
        ax_kv.set_yticklabels([f"{i}:{c}" for i, c in enumerate(chars)], fontsize=8)
        image = ax_map.imshow(np.full((n, n), np.nan), vmin=0, vmax=1, cmap="viridis", animated=True)
        ax_map.set(xticks=range(n), yticks=range(n), xlabel="key position", ylabel="query position",
                   title="causal attention (head 0)")
        box = Rectangle((-0.5, -0.5), n, 1, fill=False, ec=RED, lw=2.5, animated=True)
        ax_map.add_patch(box)
        readout = ax_map.text(0.98, 0.98, "", transform=ax_map.transAxes, ha="right", va="top", fontsize=8,
                              family="monospace", animated=True, bbox={"fc": "white", "ec": GREY})
        colors = {"empty": (0.95, 0.95, 0.95), "cached": (0.55, 0.75, 0.95),
                  "new": (1.0, 0.55, 0.1), "recomputed": (0.85, 0.2, 0.2)}
        for name in ("cached", "new", "recomputed"):
            ax_kv.plot([], [], "s", color=colors[name], label=name)
        ax_kv.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), fontsize=7, ncol=3, frameon=False)

        def update(t: float, cache: str) -> None:
            t = int(round(t))  # tokens so far, the newest at position t - 1
            rgb = np.array([[colors["empty"]] * 2] * n)  # (n, 2, 3)
            for i in range(t):
                state = "new" if i == t - 1 else ("cached" if cache == "on" else "recomputed")
                rgb[i, :] = colors[state]
            kv.set_data(rgb)
            shown = np.full((n, n), np.nan)
            shown[:t, :t] = A[:t, :t]  # the (t, t) pattern so far
            image.set_data(shown)
            box.set_y(t - 1.5)  # the newest query row
            cached = transformer.step_flops(config, t, cached=True)
            full = transformer.step_flops(config, t, cached=False)
            readout.set_text(f"t = {t}   matmul FLOPs\ncached  {cached:>7,}\nwithout {full:>7,}")

        return update

    return Demo(
        "Generating with and without a KV cache",
        [Slider("t", 1, n, 4, steps=n, label="tokens so far t", fmt="{:.0f}"),
         Choice("cache", ("on", "off"), "on", label="KV cache")],
        draw,
        figsize=(6.0, 4.2),
        caption="At step t the newest token (orange) needs its own query, key and value. With the cache, the "
        "t - 1 earlier keys and values are read from memory (blue); without it they are recomputed every step "
        "(red). Only the last row of the (t, t) pattern (red box) is new at each step.",
    )
