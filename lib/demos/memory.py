"""Pictures for the chapter `memory-flops`: the roofline, drawn from numbers passed in.

- `roofline_demo()`   a `lib.widgets.Demo`: pick a layer and a batch size and see where the layer
                      sits on the roofline of a named accelerator, from its datasheet (fixed
                      numbers, so the built site is the same on every machine);
- `plot_roofline(ax, ...)` and `plot_speed(ax, ...)` draw measured sweeps (from `lib.measure`)
                      against the roofs measured on this machine.

The math (FLOPs, bytes, intensity, the roofline itself) comes from `lib.ledger`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lib.ledger import human_bytes, linear_costs, ridge_intensity, roofline
from lib.widgets import Choice, Demo, Slider

#: The demo's palette (matplotlib's first colours, a neutral grey, red for a bug).
BLUE, ORANGE, GREEN, RED, GREY = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9a9a9a"

# A named accelerator from its datasheet, NOT a measurement: NVIDIA A100 80GB SXM, dense bf16
# tensor-core peak and HBM2e bandwidth. Fixed, so the static site is deterministic.
DEMO_ACCELERATOR = "NVIDIA A100 80GB SXM"  #: the accelerator whose roofline the demo draws.
DEMO_PEAK_GFLOPS = 312_000.0  #: its peak, 312 TFLOP/s dense bf16 (624 with structured sparsity).
DEMO_BANDWIDTH_GBS = 2_039.0  #: its memory bandwidth, 2,039 GB/s.
DEMO_DTYPE = "bf16"  #: weights and activations in bf16, linears without bias (as in Llama).
#: The layers the demo places on the roofline, by name.
DEMO_LAYERS = {
    "128 -> 64": (128, 64),
    "1024 -> 1024": (1024, 1024),
    "4096 -> 4096": (4096, 4096),
    "4096 -> 11008": (4096, 11008),
}


def draw_roofs(ax: Axes, peak_gflops: float, bandwidth_gbs: float, xlim: tuple[float, float],
               *, label: str = "", ridge_label_y: float | None = None) -> None:
    """Draw the two roofs on log-log axes: the slanted bandwidth roof and the flat compute roof.

    The ridge's label goes at height `ridge_label_y` (data units; default just under the peak).
    """
    x = np.logspace(np.log10(xlim[0]), np.log10(xlim[1]), 200)
    ridge = ridge_intensity(peak_gflops, bandwidth_gbs)
    ax.plot(x, roofline(x, peak_gflops, bandwidth_gbs), color="black", lw=2, label=label or "roofline")
    ax.axvline(ridge, color=GREY, ls=":", lw=1)
    y = peak_gflops * 0.55 if ridge_label_y is None else ridge_label_y
    ax.text(ridge * 1.1, y, f"ridge\n{ridge:.3g} FLOP/B", fontsize=8, color="#555555", va="top")
    ax.set(xscale="log", yscale="log", xlim=xlim, xlabel="arithmetic intensity (FLOP per byte moved)",
           ylabel="GFLOP/s")
    ax.fill_between(x, 1e-9, roofline(x, peak_gflops, bandwidth_gbs), color=GREY, alpha=0.08)


def roofline_demo() -> Demo:
    """Batch size and layer size move one bf16 linear layer along the roofline of an A100's datasheet figures."""
    peak, bw = DEMO_PEAK_GFLOPS, DEMO_BANDWIDTH_GBS
    batches = 2 ** np.arange(13)  # B = 1 ... 4096, the slider's grid

    def draw(fig: Figure):
        ax = fig.add_subplot()
        draw_roofs(ax, peak, bw, (0.1, 1e4), label=f"{DEMO_ACCELERATOR}, bf16")
        ax.set_ylim(100, 1.5e6)
        ax.text(0.13, 8e5, "memory-bound", fontsize=8, color=BLUE)
        ax.text(1500, 7e4, "compute-bound", fontsize=8, color=RED, ha="center")
        (path,) = ax.plot([], [], "-", color=ORANGE, lw=1, alpha=0.6, marker=".", ms=4, animated=True)
        (point,) = ax.plot([], [], "o", ms=10, color=ORANGE, mec="black", animated=True)
        readout = ax.text(0.98, 0.03, "", fontsize=7.5, family="monospace", ha="right", va="bottom",
                          multialignment="left", transform=ax.transAxes, animated=True)

        def update(log2_B: float, layer: str) -> None:
            D_in, D_out = DEMO_LAYERS[layer]
            B = int(round(2**log2_B))
            path_x = [linear_costs(int(b), D_in, D_out, DEMO_DTYPE, bias=False).intensity for b in batches]
            path.set_data(path_x, roofline(np.array(path_x), peak, bw))
            c = linear_costs(B, D_in, D_out, DEMO_DTYPE, bias=False)
            attainable = roofline(c.intensity, peak, bw)
            point.set_data([c.intensity], [attainable])
            bound = "memory" if c.intensity < ridge_intensity(peak, bw) else "compute"
            t_us = max(c.forward_flops / (peak * 1e9), c.traffic_bytes / (bw * 1e9)) * 1e6
            readout.set_text(
                f"B={B:,}  {D_in:,} -> {D_out:,}  {DEMO_DTYPE}\n"
                f"params    {c.params:>15,}\n"
                f"param mem {human_bytes(c.param_bytes):>15}\n"
                f"fwd FLOPs {c.forward_flops:>15.3g}\n"
                f"traffic   {human_bytes(c.traffic_bytes):>15}\n"
                f"intensity {c.intensity:>11,.1f} F/B\n"
                f"{bound}-bound, {100 * attainable / peak:.0f}% of peak\n"
                f"time   >= {t_us:>9.3g} us"
            )

        return update

    return Demo(
        "Where does a linear layer sit on the roofline?",
        [Slider("log2_B", 0, 12, 6, steps=7, label="log2 of batch rows B", fmt="{:.0f}"),
         Choice("layer", tuple(DEMO_LAYERS), "128 -> 64", label="layer D_in -> D_out")],
        draw,
        figsize=(5.0, 4.0),
        caption="Datasheet figures of an NVIDIA A100 80GB SXM (not this machine): 312 TFLOP/s dense "
        "bf16, 2,039 GB/s, a ridge at 153 FLOP/byte; bf16 layers without bias. The orange path marks "
        "the batch sizes 1, 2, 4, ..., 4096; the dot is the one selected. Small batches read the whole "
        "weight matrix to do little work each: memory-bound.",
    )


def plot_roofline(ax: Axes, sweeps: Mapping[str, Sequence[Mapping]], peak_gflops: float,
                  bandwidth_gbs: float) -> None:
    """Measured points (dicts from `lib.measure.sweep_linear`) on the roofline of measured roofs.

    sweeps maps a legend label to a list of results with keys 'intensity' and 'gflops'.
    """
    xs = [r["intensity"] for rs in sweeps.values() for r in rs]
    ys = [r["gflops"] for rs in sweeps.values() for r in rs]
    lo, hi = min(min(xs), 1.0) / 2, max(max(xs), ridge_intensity(peak_gflops, bandwidth_gbs)) * 3
    bottom = min(min(ys), 1.0) / 2
    draw_roofs(ax, peak_gflops, bandwidth_gbs, (lo, hi), label="roofline (measured peak and read bandwidth)",
               ridge_label_y=bottom * 3)
    for (label, results), color, marker in zip(sweeps.items(), (BLUE, ORANGE, GREEN, RED), "os^D", strict=False):
        ax.plot([r["intensity"] for r in results], [r["gflops"] for r in results], marker, ls="-",
                color=color, ms=6, lw=0.8, label=label)
    ax.set_ylim(bottom, max(max(ys), peak_gflops) * 2)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("Roofline: measured matmuls on this machine", fontsize=10)


def plot_speed(ax: Axes, sweeps: Mapping[str, Sequence[Mapping]], peak_gflops: float,
               bandwidth_gbs: float) -> None:
    """Achieved GFLOP/s against forward FLOPs, with the roofline's prediction for each shape."""
    for (label, results), color in zip(sweeps.items(), (BLUE, ORANGE, GREEN, RED), strict=False):
        flops = [r["flops"] for r in results]
        predicted = roofline(np.array([r["intensity"] for r in results]), peak_gflops, bandwidth_gbs)
        ax.plot(flops, [r["gflops"] for r in results], "o-", color=color, lw=0.8, label=f"{label}: measured")
        ax.plot(flops, predicted, "--", color=color, lw=1.2, label=f"{label}: roofline prediction")
    ax.axhline(peak_gflops, color="black", lw=1.5, label="measured peak")
    ax.set(xscale="log", yscale="log", xlabel="forward FLOPs of X @ W", ylabel="GFLOP/s")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("Achieved speed against prediction", fontsize=10)
