"""Demos of the vectors and linear-layer chapters: the dot product and a 2-D linear map."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from lib import vectors
from lib.demos import BLUE, GREEN, GREY, ORANGE
from lib.widgets import Choice, Demo, Slider


# ---------------------------------------------------------------- vectors: the dot product
def projection_demo() -> Demo:
    """Drag the angle between u and v: the projection, the cosine and the dot product follow."""
    v = np.array([2.0, 0.0])

    def draw(fig: Figure):
        ax = fig.add_subplot()
        ax.set(xlim=(-2.6, 2.6), ylim=(-1.2, 2.6), aspect="equal")
        ax.axhline(0, color=GREY, lw=0.6)
        ax.axvline(0, color=GREY, lw=0.6)
        arrows = ax.quiver([0, 0], [0, 0], [v[0], 1], [v[1], 0], angles="xy", scale_units="xy",
                           scale=1, color=[BLUE, ORANGE], width=0.012, animated=True)
        (proj,) = ax.plot([], [], color=GREEN, lw=5, alpha=0.7, label="projection of u on v", animated=True)
        (drop,) = ax.plot([], [], ls="--", color=GREY, animated=True)
        ax.text(*(v + [0.05, -0.25]), "v", color=BLUE, fontsize=12)
        label_u = ax.text(0, 0, "u", color=ORANGE, fontsize=12, animated=True)
        readout = ax.text(-2.5, 2.35, "", fontsize=10, va="top", family="monospace", animated=True)
        ax.legend(loc="lower left", fontsize=8)

        def update(angle: float, length: float) -> None:
            u = length * vectors.unit(np.radians(angle))
            p = vectors.project(u, v)
            arrows.set_UVC([v[0], u[0]], [v[1], u[1]])
            proj.set_data([0, p[0]], [0, p[1]])
            drop.set_data([u[0], p[0]], [u[1], p[1]])
            label_u.set_position(u * 1.08)
            shadow = vectors.norm(u) * vectors.cosine(u, v)  # signed length of the green bar
            readout.set_text(
                f"angle  = {angle:5.1f} deg\ncos    = {vectors.cosine(u, v):+.3f}\n"
                f"shadow = |u| cos  = {shadow:+.3f}\n"
                f"u . v  = shadow |v| = {vectors.dot(u, v):+.3f}"
            )

        return update

    return Demo(
        "The dot product as projection",
        [Slider("angle", 0, 180, 60, steps=13, label="angle between u and v (deg)", fmt="{:.0f}"),
         Slider("length", 0.5, 2.0, 1.5, steps=4, label="length of u", fmt="{:.2f}")],
        draw,
        caption="u . v = |u| |v| cos(angle): positive when u leans towards v, zero at 90 degrees, "
        "negative beyond. The green bar is the shadow of u on the line through v (the projection); "
        "its signed length is |u| cos(angle), and u . v is that length times |v| = 2.",
    )


# ---------------------------------------------------------------- linear layer on the plane
#: The 2 x 2 matrices the linear-layer demo applies to the plane, by name.
LINEAR_MAPS = {
    "scale": np.array([[1.6, 0.0], [0.0, 0.6]]),
    "rotate 40 deg": np.array([[np.cos(0.7), -np.sin(0.7)], [np.sin(0.7), np.cos(0.7)]]),
    "shear": np.array([[1.0, 0.9], [0.0, 1.0]]),
    "reflect": np.array([[0.0, 1.0], [1.0, 0.0]]),
    "project (rank 1)": np.array([[0.5, 0.5], [0.5, 0.5]]),
    "general": np.array([[0.5, -0.3], [0.2, 0.4]]) * 2.5,
}


def linear_map_demo() -> Demo:
    """y = W x + b on the plane: morph from the identity to W, shift by b, watch grid and square."""
    x = np.array([1.0, 0.5])
    ticks = np.linspace(-2, 2, 9)
    line = np.linspace(-2, 2, 21)

    def draw(fig: Figure):
        ax = fig.add_subplot()
        ax.set(xlim=(-3.2, 3.2), ylim=(-3.2, 3.2), aspect="equal")
        for t in ticks:  # the input grid, for reference
            ax.plot([t, t], [-2, 2], color=GREY, lw=0.4, alpha=0.5)
            ax.plot([-2, 2], [t, t], color=GREY, lw=0.4, alpha=0.5)
        grid = [ax.plot([], [], color=BLUE, lw=0.7, alpha=0.6, animated=True)[0] for _ in range(2 * len(ticks))]
        (square,) = ax.fill([0, 1, 1, 0], [0, 0, 1, 1], color=ORANGE, alpha=0.45, label="image of the unit square", animated=True)
        ax.plot(*x, "o", color=GREY, ms=7, label="input x")
        (point_out,) = ax.plot([], [], "o", color=GREEN, ms=9, label="output y = W x + b", animated=True)
        readout = ax.text(-3.1, 3.1, "", fontsize=9, va="top", family="monospace", animated=True)
        ax.legend(loc="lower right", fontsize=8)

        def update(matrix: str, t: float, bias: str) -> None:
            W = (1 - t) * np.eye(2) + t * LINEAR_MAPS[matrix]  # (2, 2), math orientation y = W x
            b = np.array([1.0, 0.5]) if bias == "on" else np.zeros(2)
            for k, s in enumerate(ticks):
                vertical = W @ np.stack([np.full_like(line, s), line]) + b[:, None]  # (2, 2) @ (2, 21)
                horizontal = W @ np.stack([line, np.full_like(line, s)]) + b[:, None]
                grid[2 * k].set_data(*vertical)
                grid[2 * k + 1].set_data(*horizontal)
            corners = W @ np.array([[0, 1, 1, 0], [0, 0, 1, 1]]) + b[:, None]  # (2, 4)
            square.set_xy(corners.T)
            point_out.set_data(*(W @ x + b)[:, None])
            readout.set_text(
                f"W = [[{W[0, 0]:+.2f} {W[0, 1]:+.2f}]\n     [{W[1, 0]:+.2f} {W[1, 1]:+.2f}]]\n"
                f"b = [{b[0]:+.2f} {b[1]:+.2f}]   det W = {np.linalg.det(W):+.2f}"
            )

        return update

    return Demo(
        "A linear layer y = W x + b on the plane",
        [Choice("matrix", tuple(LINEAR_MAPS), "general", label="W"),
         Slider("t", 0.0, 1.0, 1.0, steps=5, label="morph from I to W", fmt="{:.2f}"),
         Choice("bias", ("off", "on"), "off", label="bias b = [1, 0.5]")],
        draw,
        figsize=(5.0, 5.0),
        caption="Math orientation y = W x: the columns of W are where the basis vectors land (in the course's "
        "y = x W it would be the rows). Straight grid lines stay straight and parallel. The bias slides "
        "everything without bending it: an affine map.",
    )
