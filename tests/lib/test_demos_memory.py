"""lib.demos.memory: the roofline demo stays in budget and updates in place; the plots draw."""

import matplotlib.pyplot as plt
import numpy as np

from lib.demos.memory import DEMO_LAYERS, plot_roofline, plot_speed, roofline_demo


def _pixels(canvas, params):
    return np.asarray(canvas.render(params)).copy()


def test_frame_budget_and_initial_frame():
    demo = roofline_demo()
    assert int(np.prod([len(c.grid()) for c in demo.controls])) <= 60
    image = demo.canvas().render(demo.initial())
    assert image.size[0] > 100 and image.size[1] > 100


def test_frames_differ_with_batch_and_layer_and_update_is_repeatable():
    demo = roofline_demo()
    canvas = demo.canvas()
    first = _pixels(canvas, demo.initial())
    bigger_batch = _pixels(canvas, {"log2_B": 10.0, "layer": "128 -> 64"})
    bigger_layer = _pixels(canvas, {"log2_B": 5.0, "layer": "4096 -> 11008"})
    again = _pixels(canvas, demo.initial())
    assert not np.array_equal(first, bigger_batch)
    assert not np.array_equal(first, bigger_layer)
    assert np.array_equal(first, again)  # nothing leaks from one frame into the next


def test_update_keeps_the_axis_limits():
    demo = roofline_demo()
    canvas = demo.canvas()
    canvas.render(demo.initial())
    ax = canvas.fig.axes[0]
    limits = (ax.get_xlim(), ax.get_ylim())
    for layer in DEMO_LAYERS:
        canvas.render({"log2_B": 12.0, "layer": layer})
    assert (ax.get_xlim(), ax.get_ylim()) == limits


def test_plots_draw_made_up_sweeps():
    sweeps = {
        "a": [{"flops": 1e3, "intensity": 0.5, "gflops": 1.0}, {"flops": 1e6, "intensity": 20.0, "gflops": 50.0}],
        "b": [{"flops": 1e8, "intensity": 100.0, "gflops": 80.0}],
    }
    fig, (ax1, ax2) = plt.subplots(1, 2)
    plot_speed(ax1, sweeps, 100.0, 10.0)
    plot_roofline(ax2, sweeps, 100.0, 10.0)
    assert ax1.get_xscale() == "log" and ax2.get_yscale() == "log"
    assert len(ax2.get_lines()) >= 3  # the roof, the ridge and one line per sweep
    plt.close(fig)
