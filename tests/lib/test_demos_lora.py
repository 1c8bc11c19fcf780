import numpy as np
import pytest

from lib import sizing
from lib.demos.lora import lora_rank_demo, rank_runs


@pytest.fixture(scope="module")
def demo():
    return lora_rank_demo()


def test_runs_are_deterministic_and_sensible():
    a, b = rank_runs(), rank_runs()
    assert a.losses == b.losses
    np.testing.assert_array_equal(a.updates[3], b.updates[3])
    assert a.losses[1] > 10 * a.losses[2]  # the true change has rank 2
    assert np.linalg.matrix_rank(a.updates[2], tol=1e-8) == 2
    assert a.singular_values[2] < 0.1 * a.singular_values[1]


def test_demo_controls_and_frames(demo):
    assert [c.name for c in demo.controls] == ["r"]
    assert demo.initial() == {"r": 2}
    assert len(demo.controls[0].grid()) == 8  # one static frame per rank


def test_update_only_touches_animated_artists(demo):
    canvas = demo.canvas()
    first = np.asarray(canvas.render({"r": 1.0})).copy()
    limits = [ax.get_xlim() + ax.get_ylim() for ax in canvas.fig.axes]
    other = np.asarray(canvas.render({"r": 8.0})).copy()
    again = np.asarray(canvas.render({"r": 1.0}))
    assert not np.array_equal(first, other)
    np.testing.assert_array_equal(first, again)
    assert limits == [ax.get_xlim() + ax.get_ylim() for ax in canvas.fig.axes]


def test_static_html_is_small(demo):
    html = demo.static_html()
    assert "rank r" in html and len(html) < 400_000


def test_readout_uses_lib_counts(demo):
    canvas = demo.canvas()
    canvas.render({"r": 4.0})
    texts = [t.get_text() for ax in canvas.fig.axes for t in ax.texts]
    assert any(f"{sizing.lora_layer_params(32, 32, 4):,} parameters" in t for t in texts)


def test_optimum_bounds_every_run():
    runs = rank_runs()
    for r, loss in runs.losses.items():
        assert runs.optimum[r] <= loss + 1e-12
    assert runs.losses[2] == pytest.approx(runs.optimum[2], rel=1e-6)  # rank 2 converges in 300 steps
    assert runs.losses[8] > 1.3 * runs.optimum[8]  # rank 8 has not: its loss is not its capacity


def test_plot_losses_is_a_png():
    from IPython.core.formatters import DisplayFormatter

    from lib.demos.lora import plot_losses

    data, _ = DisplayFormatter().format(plot_losses({"full": [1.0, 0.1], "LoRA r = 1": [1.0, 0.5]}, ylim=(0.05, 2)))
    assert data["image/png"][:4] == b"\x89PNG"
