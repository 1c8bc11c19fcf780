"""Demos and plots for the chapters `svd` and `low-rank`; the math lives in `lib.svd`.

Every `draw(fig)` builds its artists once and returns an `update(**params)` that mutates only the
artists created with `animated=True` (see `lib.widgets`). The static plots return a `PngFigure`:
a matplotlib Figure built without pyplot (so nothing is left open) that Jupyter and myst-nb show
as a PNG image through its `_repr_png_`, whether or not pyplot's inline backend was ever loaded.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure

from lib import svd
from lib.widgets import Choice, Demo, Slider

#: The demo's palette (matplotlib's first colours, a neutral grey, red for a bug).
BLUE, ORANGE, GREEN, RED, GREY = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9a9a9a"

# ---------------------------------------------------------------- svd: rotate, scale, rotate
STAGES = ("input", "after Vt", "after S", "after U")  #: the four pictures of rotate, scale, rotate.
# preset -> (sigma_1, sigma_2, angle of u_1 in degrees, or None for "U = V")
#: The matrices the SVD demo offers, by name.
SVD_PRESETS = {
    "general": (2.0, 0.6, 70.0),
    "symmetric PSD (U = V)": (1.8, 0.7, None),
    "nearly rank 1": (2.0, 0.12, 20.0),
}


def svd_factors(preset: str, angle_v: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The factors a preset of the SVD demo builds for an angle of v_1 in degrees.

    -> U (2, 2), S (2,), Vt (2, 2), with A = U @ diag(S) @ Vt
    """
    if preset not in SVD_PRESETS:
        raise ValueError(f"svd_factors: preset must be one of {list(SVD_PRESETS)}, got {preset!r}.")
    s1, s2, angle_u = SVD_PRESETS[preset]
    angle_u = angle_v if angle_u is None else angle_u
    return svd.rotation(np.radians(angle_u)), np.array([s1, s2]), svd.rotation(np.radians(angle_v)).T


def svd_demo() -> Demo:
    """The unit circle through Vt, diag(S) and U, with the singular vectors at every stage."""
    circle = svd.unit_circle(120)  # (2, N)
    marker = np.array([[1.0], [0.0]])  # the point (1, 0), to show rotations

    def draw(fig: Figure):
        ax = fig.add_subplot()
        ax.set(xlim=(-2.4, 2.4), ylim=(-2.4, 2.4), aspect="equal")
        ax.axhline(0, color=GREY, lw=0.5)
        ax.axvline(0, color=GREY, lw=0.5)
        ax.plot(*circle, color=GREY, lw=1, ls=":", label="unit circle")
        (final,) = ax.plot([], [], color=GREY, lw=1, ls="--", label="final ellipse A(circle)", animated=True)
        (shape,) = ax.fill([0], [0], color=BLUE, alpha=0.25, ec=BLUE, lw=1.5, label="current stage", animated=True)
        (dot,) = ax.plot([], [], "o", color="black", ms=5, label="where (1, 0) goes", animated=True)
        arrows = ax.quiver([0, 0], [0, 0], [1, 0], [0, 1], angles="xy", scale_units="xy", scale=1,
                           color=[ORANGE, GREEN], width=0.012, animated=True)
        names = [ax.text(0, 0, "", color=c, fontsize=10, ha="center", animated=True) for c in (ORANGE, GREEN)]
        readout = ax.text(-2.3, 2.3, "", fontsize=8.5, va="top", family="monospace", animated=True)
        ax.legend(loc="lower right", fontsize=7)

        def update(stage: str, angle_v: float, preset: str) -> None:
            U, S, Vt = svd_factors(preset, angle_v)
            A = (U * S) @ Vt  # (2, 2) @ (2, 2) -> (2, 2)
            M = {"input": np.eye(2), "after Vt": Vt, "after S": np.diag(S) @ Vt, "after U": A}[stage]
            shape.set_xy((M @ circle).T)  # (2, 2) @ (2, N) -> (2, N)
            final.set_data(*(A @ circle))
            dot.set_data(*(M @ marker))
            vecs = M @ Vt.T  # (2, 2) @ (2, 2): column i is where v_i is at this stage
            arrows.set_UVC(vecs[0], vecs[1])
            for i, text in enumerate(names):
                name = {"input": f"v{i + 1}", "after Vt": f"e{i + 1}", "after S": f"{S[i]:.2g} e{i + 1}",
                        "after U": f"{S[i]:.2g} u{i + 1}"}[stage]
                text.set_position(np.clip(vecs[:, i] * 1.08, -2.1, 2.1) + [0.0, 0.1])
                text.set_text(name)
            readout.set_text(
                f"A = [[{A[0, 0]:+.2f} {A[0, 1]:+.2f}]\n     [{A[1, 0]:+.2f} {A[1, 1]:+.2f}]]\n"
                f"sigma = {S[0]:.2f}, {S[1]:.2f}\nstage: {stage}"
            )

        return update

    return Demo(
        "SVD: rotate (Vt), scale (S), rotate (U)",
        [Choice("stage", STAGES, "after U", label="stage"),
         Slider("angle_v", 0, 180, 30, steps=5, label="angle of v1 (deg)", fmt="{:.0f}"),
         Choice("preset", tuple(SVD_PRESETS), "general", label="matrix")],
        draw,
        figsize=(4.6, 4.6),
        caption="Orange and green arrows follow the right singular vectors v1, v2: Vt turns them onto "
        "the axes, S stretches the axes by sigma1 and sigma2, U turns them onto the ellipse's axes "
        "sigma_i u_i. With U = V the stretch directions are also eigenvectors.",
    )


# ---------------------------------------------------------------- low rank: image compression
def sample_image(step: int = 4) -> np.ndarray:
    """Grace Hopper from matplotlib's bundled sample data, grayscale, every `step`-th pixel.  -> (h, w)"""
    from matplotlib import cbook
    from PIL import Image

    step = int(step)
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        rgb = np.asarray(Image.open(f).convert("RGB"))  # (600, 512, 3) uint8
    return svd.to_grayscale(rgb[::step, ::step])  # (h, w)


def low_rank_demo(image: np.ndarray | None = None) -> Demo:
    """A rank-k approximation of an image: the picture, the kept singular values, error and size."""
    img = sample_image() if image is None else svd.to_grayscale(image) if np.ndim(image) == 3 else np.asarray(image, float)
    U, S, Vt = np.linalg.svd(img, full_matrices=False)
    m, n = img.shape
    ranks = np.arange(1, S.size + 1)

    def draw(fig: Figure):
        ax_img, ax_s = fig.subplots(1, 2, width_ratios=[1.1, 1])
        ax_img.set_axis_off()
        shown = ax_img.imshow(img, cmap="gray", vmin=0, vmax=1, animated=True)
        title = ax_img.set_title("", fontsize=9, animated=True)
        ax_s.semilogy(ranks, S, color=GREY, lw=1)
        ax_s.set(xlabel="index i", title="singular values", xlim=(0, S.size + 1))
        ax_s.title.set_fontsize(9)
        ax_s.tick_params(labelsize=7)
        (kept,) = ax_s.semilogy([], [], ".", color=BLUE, ms=4, label="kept", animated=True)
        (first_dropped,) = ax_s.semilogy([], [], "o", color=RED, ms=5, label="first dropped", animated=True)
        readout = ax_s.text(0.97, 0.97, "", transform=ax_s.transAxes, ha="right", va="top", fontsize=7.5,
                            family="monospace", animated=True)
        ax_s.legend(loc="lower left", fontsize=7)

        def update(k: float) -> None:
            k = int(round(k))
            approx = (U[:, :k] * S[:k]) @ Vt[:k]  # (m, k) @ (k, n) -> (m, n)
            shown.set_data(np.clip(approx, 0, 1))
            title.set_text(f"rank {k} of {S.size}")
            kept.set_data(ranks[:k], S[:k])
            first_dropped.set_data(ranks[k:k + 1], S[k:k + 1])
            err = np.sqrt(np.sum(S[k:] ** 2)) / np.sqrt(np.sum(S**2))
            readout.set_text(f"rel. error {err:6.1%}\nparams {k * (m + n):,}\nfull   {m * n:,}\n"
                             f"ratio  {k * (m + n) / (m * n):.2f}")

        return update

    return Demo(
        "Best rank-k approximation of an image",
        [Slider("k", 1, 61, 9, steps=16, label="rank k", fmt="{:.0f}")],
        draw,
        figsize=(6.0, 3.4),
        caption="Keeping the k largest singular values gives the closest rank-k picture; the relative "
        "Frobenius error is sqrt(sum of the dropped sigma^2 / sum of all sigma^2). Storing the "
        "factors costs k(m + n) numbers instead of m n.",
    )


# ---------------------------------------------------------------- static plots
class PngFigure(Figure):
    """A Figure that displays as a PNG image in Jupyter and on the built site (`_repr_png_`)."""

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png")
        return buf.getvalue()


def plot_deep_stack(results: dict[float, dict[str, np.ndarray]], D: int) -> PngFigure:
    """Forward and backward norms layer by layer for several initialisation scales."""
    fig = PngFigure(figsize=(8.0, 3.2), dpi=72, layout="constrained")
    ax_f, ax_b = fig.subplots(1, 2, sharey=True)
    for scale, res in results.items():
        label = f"scale = {scale * np.sqrt(D):.2f} / sqrt(D)"
        ax_f.semilogy(res["forward"], label=label)
        ax_b.semilogy(res["backward"], label=label)
    ax_f.set(xlabel="layer l", ylabel="mean row norm", title="activations  H_l (forward)")
    ax_b.set(xlabel="layer l", title="gradients  G_l (backward)")
    ax_f.legend(fontsize=7)
    return fig


def plot_spectrum(S: np.ndarray, title: str, k_mark: int | None = None) -> PngFigure:
    """Singular values on a log scale, optionally with the first dropped one marked."""
    fig = PngFigure(figsize=(5.0, 2.8), dpi=72, layout="constrained")
    ax = fig.add_subplot()
    ax.semilogy(np.arange(1, len(S) + 1), S, "o-", ms=3, color=BLUE)
    if k_mark is not None and k_mark < len(S):
        ax.semilogy([k_mark + 1], [S[k_mark]], "o", color=RED, ms=7, label=f"sigma_{k_mark + 1}: first dropped at k = {k_mark}")
        ax.legend(fontsize=8)
    ax.set(xlabel="index i", ylabel="sigma_i", title=title)
    return fig


def plot_rank_strip(image: np.ndarray, ks: tuple[int, ...] = (5, 20, 50)) -> PngFigure:
    """The image at each rank in ks, then the original, side by side (the static view of the rank slider).

    image (h, w), values in [0, 1] -> one panel per rank, each titled with k and its relative error
    """
    image = np.asarray(image, dtype=float)
    if image.ndim != 2:
        raise ValueError(f"plot_rank_strip: image must be 2-D (h, w), got shape {image.shape}.")
    if not ks or any(not isinstance(k, (int, np.integer)) or not 1 <= k <= min(image.shape) for k in ks):
        raise ValueError(f"plot_rank_strip: ks must be ranks from 1 to {min(image.shape)}, got {ks!r}.")
    fig = PngFigure(figsize=(2.2 * (len(ks) + 1), 2.8), dpi=100, layout="constrained")
    axes = fig.subplots(1, len(ks) + 1)
    norm = np.linalg.norm(image)
    for ax, k in zip(axes, ks, strict=False):
        approx = svd.rank_k_approx(image, int(k))
        ax.imshow(np.clip(approx, 0, 1), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"k = {k}: error {np.linalg.norm(image - approx) / norm:.3f}", fontsize=9)
    axes[-1].imshow(image, cmap="gray", vmin=0, vmax=1)
    axes[-1].set_title(f"original, rank {min(image.shape)}", fontsize=9)
    for ax in axes:
        ax.set_axis_off()
    return fig
