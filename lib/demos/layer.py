"""Demos for the linear-layer chapters `shapes-bias` and `backward`, each a `lib.widgets.Demo`.

Math comes from `lib.linear` and `lib.gradcheck`; this module only draws. Orientation as in the
rest of the course: a point is a row vector x (D_in,) = (2,), W is (D_in, D_out) = (2, 2), and
the layer computes y = x @ W + b (the textbook W x + b with W transposed).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from lib.demos import BLUE, GREEN, GREY, ORANGE
from lib.gradcheck import LinearBench
from lib.linear import linear_forward
from lib.widgets import Choice, Demo, Slider

RED = "#d62728"

# ---------------------------------------------------------------- shapes-bias: the affine map
AFFINE_W = np.array([[1.1, 0.35], [-0.4, 0.8]])  # (D_in, D_out) = (2, 2): rows are where e1, e2 land
BIASES = {
    "0, 0": (0.0, 0.0),
    "1, 0": (1.0, 0.0),
    "0, 1": (0.0, 1.0),
    "1.5, 1": (1.5, 1.0),
    "-1, -1": (-1.0, -1.0),
}


def affine_map_demo() -> Demo:
    """Move the input point x and the bias b: y = x @ W + b moves, and so does the image of the origin."""
    ticks = np.linspace(-2, 2, 5)
    line = np.linspace(-2, 2, 2)  # images of straight lines are straight: two points suffice
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)  # (4, 2): corners as rows

    def draw(fig: Figure):
        ax = fig.add_subplot()
        ax.set(xlim=(-3.6, 4.0), ylim=(-3.4, 3.6), aspect="equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for t in ticks:  # the input grid, for reference
            ax.plot([t, t], [-2, 2], color=GREY, lw=0.5, alpha=0.5)
            ax.plot([-2, 2], [t, t], color=GREY, lw=0.5, alpha=0.5)
        ax.fill(square[:, 0], square[:, 1], color=GREY, alpha=0.25)
        ax.plot(0, 0, "+", color="black", ms=12, mew=1.5)
        grid = [ax.plot([], [], color=BLUE, lw=0.7, alpha=0.6, animated=True)[0] for _ in range(2 * len(ticks))]
        (image,) = ax.fill(square[:, 0], square[:, 1], color=ORANGE, alpha=0.5, label="image of the unit square",
                           animated=True)
        (origin_img,) = ax.plot([], [], "*", color=RED, ms=13, label="image of the origin (= b)", animated=True)
        (shift,) = ax.plot([], [], color=RED, lw=1, ls=":", animated=True)
        (point_in,) = ax.plot([], [], "o", color=GREY, ms=8, label="input x", animated=True)
        (point_out,) = ax.plot([], [], "o", color=GREEN, ms=9, label="output y = x @ W + b", animated=True)
        (link,) = ax.plot([], [], color=GREEN, lw=0.8, ls="--", animated=True)
        readout = ax.text(-3.5, 3.5, "", fontsize=9, va="top", family="monospace", animated=True)
        ax.legend(loc="lower right", fontsize=7, framealpha=0.9)

        def update(angle: float, bias: str) -> None:
            b = np.array(BIASES[bias])  # (D_out,) = (2,)
            for k, s in enumerate(ticks):
                vertical = np.stack([np.full_like(line, s), line], axis=1)  # (2, 2): two points as rows
                horizontal = vertical[:, ::-1]
                grid[2 * k].set_data(*linear_forward(vertical, AFFINE_W, b).T)  # (2, 2) @ (2, 2) + (2,)
                grid[2 * k + 1].set_data(*linear_forward(horizontal, AFFINE_W, b).T)
            image.set_xy(linear_forward(square, AFFINE_W, b))  # (4, 2) @ (2, 2) + (2,) -> (4, 2)
            x = 1.5 * np.array([np.cos(np.radians(angle)), np.sin(np.radians(angle))])  # (2,)
            y = x @ AFFINE_W + b  # (2,) @ (2, 2) + (2,) -> (2,)
            point_in.set_data([x[0]], [x[1]])
            point_out.set_data([y[0]], [y[1]])
            link.set_data([x[0], y[0]], [x[1], y[1]])
            origin_img.set_data([b[0]], [b[1]])
            shift.set_data([0, b[0]], [0, b[1]])
            fixed = "origin fixed (b = 0)" if not b.any() else "origin moved to b"
            readout.set_text(f"x = [{x[0]:+.2f} {x[1]:+.2f}]\nb = [{b[0]:+.2f} {b[1]:+.2f}]\n"
                             f"y = [{y[0]:+.2f} {y[1]:+.2f}]\n{fixed}")

        return update

    return Demo(
        "The bias moves the origin: y = x @ W + b",
        [Slider("angle", 0, 330, 60, steps=12, label="direction of x (deg)", fmt="{:.0f}"),
         Choice("bias", tuple(BIASES), "0, 0", label="bias b",
                option_labels=[f"b = [{k}]" for k in BIASES])],
        draw,
        figsize=(5.0, 4.6),
        caption="W is fixed; x moves on a circle of radius 1.5. With b = 0 the image of the grid passes "
        "through the origin (the red star sits on the cross); any other b slides the whole picture, "
        "unchanged in shape, so that the origin lands on b.",
    )


# ---------------------------------------------------------------- backward: the eps sweep
SWEEP_BUGS = {"correct": "correct backward", "transposed weight": "bug: dX = dY @ W"}
SWEEP_TOL = {"float64": 1e-6, "float32": 1e-3}


def eps_sweep_demo() -> Demo:
    """Step size vs relative error of a gradient check, in float64 and float32, right or buggy."""
    fine = 10.0 ** np.arange(-12, -0.99, 0.25)  # (E,) step sizes drawn as curves
    curves = {}
    for dtype in SWEEP_TOL:
        bench = LinearBench.random(4, 3, 3, np.random.default_rng(0), dtype)  # square W: dY @ W runs
        for bug in SWEEP_BUGS:
            curves[dtype, bug] = np.maximum(bench.sweep(fine, bug), 1e-13)  # log axis: keep it > 0

    def draw(fig: Figure):
        ax = fig.add_subplot()
        ax.set(xscale="log", yscale="log", xlim=(3e-13, 0.3), ylim=(1e-13, 1e2),  # a relative error never exceeds 2
               xlabel="finite-difference step eps", ylabel="relative error (worst tensor)")
        ax.plot(fine, curves["float64", "correct"], color=BLUE, lw=1, alpha=0.35, label="float64, correct")
        ax.plot(fine, curves["float32", "correct"], color=ORANGE, lw=1, alpha=0.35, label="float32, correct")
        (curve,) = ax.plot([], [], color="black", lw=2, animated=True)
        (tol,) = ax.plot([], [], color=RED, lw=1, ls="--", animated=True)
        (point,) = ax.plot([], [], "o", ms=10, animated=True)
        readout = ax.text(5e-13, 3e-13, "", fontsize=9, va="bottom", family="monospace", animated=True)
        ax.legend(loc="upper right", fontsize=8, ncols=2)

        def update(log_eps: float, dtype: str, bug: str) -> None:
            bench = LinearBench.random(4, 3, 3, np.random.default_rng(0), dtype)
            eps = 10.0**log_eps
            err = max(float(bench.sweep([eps], bug)[0]), 1e-13)
            ok = err <= SWEEP_TOL[dtype]
            curve.set_data(fine, curves[dtype, bug])
            tol.set_data([3e-13, 0.3], [SWEEP_TOL[dtype]] * 2)
            point.set_data([eps], [err])
            point.set_color(GREEN if ok else RED)
            verdict = "ok" if ok else "FAIL"
            readout.set_text(f"{dtype}, {SWEEP_BUGS[bug]}\neps = 1e{log_eps:+.0f}   rel error = {err:.1e}\n"
                             f"{verdict} (tolerance {SWEEP_TOL[dtype]:g}, dashed)")

        return update

    return Demo(
        "Choosing the step of a gradient check",
        [Slider("log_eps", -12, -1, -5, steps=12, label="log10(eps)", fmt="{:.0f}"),
         Choice("dtype", tuple(SWEEP_TOL), "float64", label="precision"),
         Choice("bug", tuple(SWEEP_BUGS), "correct", label="backward pass",
                option_labels=list(SWEEP_BUGS.values()))],
        draw,
        figsize=(5.0, 4.0),
        caption="A correct gradient: the error falls like eps^2 as eps shrinks, then rises again once the "
        "rounding of the loss itself dominates (L(p + eps) - L(p - eps) is a whole number of the loss's "
        "float spacings, divided by 2 eps); in float32 the valley is higher and earlier. "
        "The bug (dX = dY @ W) stays above 0.8 at every eps, far above the threshold: no step size makes it "
        "pass.",
    )
