"""The LoRA chapter's demo: pick a rank r, see the parameters, the update it learns and the loss.

Math comes from `lib.lora`; this module only draws. The training runs (one full fine-tune and one
LoRA run per rank) are seeded and computed once per demo, so every frame is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from lib import data, lora, nn, sizing
from lib.demos.svd import PngFigure
from lib.widgets import Demo, Slider

BLUE, ORANGE, GREY = "#1f77b4", "#ff7f0e", "#c8c8c8"
RANKS = tuple(range(1, 9))


@dataclass(frozen=True)
class RankRuns:
    """Seeded results of the small task: the full fine-tune and a LoRA run for each rank."""

    delta_full: np.ndarray  # (d, d) W_full - W0
    singular_values: np.ndarray  # (d,) of delta_full, largest first
    full_loss: float
    updates: dict[int, np.ndarray]  # r -> (d, d) learned s * A @ B
    losses: dict[int, float]  # r -> training loss after the run
    optimum: dict[int, float]  # r -> the lowest loss any rank-r update can reach (lora.best_update)
    d: int


def rank_runs(seed: int = 0, ranks: tuple[int, ...] = RANKS) -> RankRuns:
    """Train the full fine-tune and one LoRA adapter per rank on `data.lowrank_finetune_task(seed)`."""
    task = data.lowrank_finetune_task(np.random.default_rng(seed))
    W_full, full_losses = lora.train_full(task.X, task.Y, task.W0)
    delta_full = W_full - task.W0
    updates, losses, optimum = {}, {}, {}
    for r in ranks:
        A, B, hist = lora.train_lora(task.X, task.Y, task.W0, r, np.random.default_rng(seed + 1))
        updates[r] = lora.merge_lora(task.W0, A, B, 4.0) - task.W0  # the learned s * A @ B, (d, d)
        losses[r] = hist[-1]
        best = lora.best_update(task.X, task.delta, r)  # (d, d)
        optimum[r] = nn.mse_and_grad(task.X @ (task.W0 + best), task.Y)[0]
    S = np.linalg.svd(delta_full, compute_uv=False)
    return RankRuns(delta_full, S, full_losses[-1], updates, losses, optimum, task.W0.shape[0])


def lora_rank_demo(seed: int = 0) -> Demo:
    """Slide the rank r: parameters, the learned update next to the full one, the loss reached."""
    runs = rank_runs(seed)
    d, n_bars = runs.d, 12
    lim = float(np.abs(runs.delta_full).max())

    def draw(fig: Figure):
        grid = fig.add_gridspec(2, 2, height_ratios=[1.15, 1])
        ax_full, ax_lora = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
        ax_sv = fig.add_subplot(grid[1, :])
        ax_full.imshow(runs.delta_full, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax_full.set_title(f"full fine-tune update\n{d}x{d} = {d * d:,} parameters", fontsize=9)
        image = ax_lora.imshow(np.zeros((d, d)), cmap="RdBu_r", vmin=-lim, vmax=lim, animated=True)
        title = ax_lora.text(0.5, 1.03, "", transform=ax_lora.transAxes, ha="center", va="bottom",
                             fontsize=9, animated=True)
        for ax in (ax_full, ax_lora):
            ax.set(xticks=[], yticks=[])
        k = np.arange(1, n_bars + 1)
        bars = ax_sv.bar(k, runs.singular_values[:n_bars], color=GREY, animated=True)
        ax_sv.set(xticks=k, ylim=(0, 1.25 * runs.singular_values[0]), xlabel="singular value index",
                  ylabel="size")
        ax_sv.set_title("singular values of the full update (kept by rank r in orange)", fontsize=9)
        readout = ax_sv.text(0.98, 0.95, "", transform=ax_sv.transAxes, ha="right", va="top",
                             fontsize=9, family="monospace", animated=True)

        def update(r: float) -> None:
            r = int(round(r))
            image.set_data(runs.updates[r])
            title.set_text(f"LoRA update s * A @ B, r = {r}\n2*d*r = {sizing.lora_layer_params(d, d, r):,} parameters")
            for i, bar in enumerate(bars):
                bar.set_color(ORANGE if i < r else GREY)
            readout.set_text(f"r = {r}, after 300 steps: {runs.losses[r]:.2e}\n"
                             f"best any rank-{r} update: {runs.optimum[r]:.2e}\n"
                             f"full fine-tune:        {runs.full_loss:.1e}")

        return update

    return Demo(
        "LoRA rank: parameters, learned update, loss",
        [Slider("r", 1, 8, 2, steps=8, label="rank r", fmt="{:.0f}")],
        draw,
        figsize=(5.6, 4.6),
        caption="The task's true change has rank 2 plus a small full-rank part. At r = 1 the adapter keeps "
        "the one direction the data weight most and the loss stays high; from r = 2 on it matches the full "
        "update's two big singular directions with a fraction of the parameters. Above rank 2, 300 "
        "plain gradient-descent steps stop short of the best loss a rank-r update could reach.",
    )


def plot_losses(curves: dict[str, list[float]], title: str = "", ylim: tuple[float, float] | None = None) -> PngFigure:
    """Training-loss curves on a log scale, one per label (a PNG image in Jupyter and on the site).

    `ylim` clips the loss axis, so a curve that falls to round-off does not squash the others.
    """
    fig = PngFigure(figsize=(6.6, 3.0), dpi=80, layout="constrained")
    ax = fig.add_subplot()
    for label, losses in curves.items():
        ax.semilogy(losses, label=label, color="black" if label.startswith("full") else None)
    ax.set(xlabel="gradient-descent step", ylabel="training loss (MSE)", title=title)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8, bbox_to_anchor=(1.02, 1), loc="upper left")  # outside the axes: no curve hidden
    return fig
