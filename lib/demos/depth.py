"""Demos for the chapter `depth`: a small ReLU network learning two spirals, step by step.

The math comes from `lib.nn`; this module only draws. The training run is seeded and computed
once when the demo is built, keeping a snapshot of the weights every `every` steps, so the live
slider and the static player show the same pictures.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from lib import data, nn
from lib.widgets import Choice, Demo, Slider

EXTENT = (-2.6, 2.6, -2.6, 2.6)  # x0, x1, y0, y1 of the plane shown
SIZES = [2, 16, 16, 2]  # D_in, H, H, V
STEPS, EVERY, LR = 1500, 100, 0.2


def spiral_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The chapter's task: two spirals of 100 points each, 1.5 turns. -> X (200, 2), labels (200,)"""
    return data.make_spirals(100, np.random.default_rng(seed), turns=1.5, noise=0.1)


def region_colours(ids: np.ndarray) -> np.ndarray:
    """Spread region ids over [0, 1) so neighbouring regions get unlike colours (golden-ratio hash)."""
    return (np.asarray(ids) * 0.6180339887) % 1.0


def training_demo(resolution: int = 120) -> Demo:
    """Slide through a seeded training run: decision regions or linear regions, loss and accuracy."""
    X, labels = spiral_data()
    run = nn.train_mlp(X, labels, SIZES, steps=STEPS, lr=LR, seed=0, snapshot_steps=tuple(range(0, STEPS + 1, EVERY)))
    grid = nn.plane_grid(EXTENT, resolution)  # (n * n, 2)
    frames = {}
    for step, layers in run.snapshots.items():
        prob = nn.predict_proba(grid, layers)[:, 1].reshape(resolution, resolution)  # (n, n): P(class 1)
        ids, count = nn.region_ids(grid, layers)
        acc = float((nn.predict_proba(X, layers).argmax(axis=1) == labels).mean())
        frames[step] = (prob, region_colours(ids).reshape(resolution, resolution), count, run.losses[step], acc)

    def draw(fig: Figure):
        plane, curve = fig.subplots(2, 1, height_ratios=[3, 1])
        image = plane.imshow(frames[0][0], extent=EXTENT, origin="lower", cmap="RdBu", vmin=0, vmax=1,
                             interpolation="nearest", animated=True)
        for c, colour in ((0, "#d62728"), (1, "#1f3fb4")):
            plane.scatter(*X[labels == c].T, s=10, color=colour, edgecolors="black", linewidths=0.4,
                          animated=True)  # never changes, but must be drawn over the animated image
        plane.set(xlim=EXTENT[:2], ylim=EXTENT[2:], aspect="equal", xticks=[], yticks=[])
        readout = plane.text(0.02, 0.98, "", transform=plane.transAxes, va="top", fontsize=8,
                             family="monospace", bbox={"facecolor": "white", "alpha": 0.8, "lw": 0}, animated=True)
        curve.semilogy(run.losses, color="#555555", lw=1)
        curve.set(xlabel="gradient-descent step", ylabel="loss", xlim=(0, STEPS))
        curve.tick_params(labelsize=7)
        (marker,) = curve.plot([], [], "o", color="#ff7f0e", ms=6, animated=True)

        def update(step: float, view: str) -> None:
            step = int(EVERY * round(float(step) / EVERY))
            prob, colours, count, loss, acc = frames[step]
            if view == "regions":
                image.set_data(colours)
                image.set_cmap("tab20")
            else:
                image.set_data(prob)
                image.set_cmap("RdBu")
            marker.set_data([step], [loss])
            readout.set_text(f"step {step:4d}  loss {loss:.3f}\naccuracy {acc:.0%}  regions {count}")

        return update

    return Demo(
        "A 2-16-16-2 ReLU network learning two spirals",
        [Slider("step", 0, STEPS, 0, steps=STEPS // EVERY + 1, label="training step", fmt="{:.0f}"),
         Choice("view", ("probability", "regions"), "probability", label="colour by",
                option_labels=("P(blue class)", "linear region"))],
        draw,
        figsize=(4.6, 5.0),
        caption="Plain gradient descent, lr 0.2, seed 0. 'linear region' colours each activation "
        "pattern of the 32 ReLUs: inside one colour the network is a single affine map. "
        "The boundary between red and blue is made of straight pieces, one per region it crosses.",
    )


def plot_regions(ax, layers: list, extent: tuple[float, float, float, float], n: int = 300) -> int:
    """Colour each linear region of a 2-D-input network on `ax` (a static figure); return the count."""
    ids, count = nn.region_ids(nn.plane_grid(extent, n), layers)
    ax.imshow(region_colours(ids).reshape(n, n), extent=extent, origin="lower", cmap="tab20", vmin=0, vmax=1,
              interpolation="nearest")
    ax.set(xticks=[], yticks=[], aspect="equal")
    return count


def plot_decision(ax, layers: list, X: np.ndarray, labels: np.ndarray, extent: tuple[float, float, float, float] = EXTENT, n: int = 200) -> None:
    """P(class 1) of a trained classifier over the plane, with the data on top (a static figure)."""
    prob = nn.predict_proba(nn.plane_grid(extent, n), layers)[:, 1].reshape(n, n)  # (n, n)
    ax.imshow(prob, extent=extent, origin="lower", cmap="RdBu", vmin=0, vmax=1, interpolation="nearest")
    ax.contour(*np.meshgrid(np.linspace(*extent[:2], n), np.linspace(*extent[2:], n)), prob, levels=[0.5], colors="k", linewidths=0.8)
    for c, colour in ((0, "#d62728"), (1, "#1f3fb4")):
        ax.scatter(*X[labels == c].T, s=10, color=colour, edgecolors="black", linewidths=0.4)
    ax.set(xlim=extent[:2], ylim=extent[2:], aspect="equal", xticks=[], yticks=[])
