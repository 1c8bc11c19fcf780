"""Tests for lib.demos.svd: the demos build, render every control value and stay within budget."""

import itertools

import numpy as np
import pytest
from matplotlib.figure import Figure

from lib.demos import svd as demos_svd
from lib.widgets import Choice


@pytest.fixture(scope="module")
def small_image():
    rng = np.random.default_rng(0)
    return np.clip(rng.normal(0.5, 0.1, size=(24, 20)), 0, 1)


def _frames(demo):
    return int(np.prod([len(c.grid()) for c in demo.controls]))


def test_svd_demo_renders_every_stage_and_preset():
    demo = demos_svd.svd_demo()
    assert _frames(demo) <= 60
    canvas = demo.canvas()
    for stage, preset in itertools.product(demos_svd.STAGES, demos_svd.SVD_PRESETS):
        image = canvas.render({**demo.initial(), "stage": stage, "preset": preset})
        assert image.size[0] > 100


def test_svd_demo_update_keeps_axis_limits():
    demo = demos_svd.svd_demo()
    canvas = demo.canvas()
    canvas.render(demo.initial())
    ax = canvas.fig.axes[0]
    before = (ax.get_xlim(), ax.get_ylim())
    canvas.render({"stage": "after S", "angle_v": 135.0, "preset": "nearly rank 1"})
    assert (ax.get_xlim(), ax.get_ylim()) == before


def test_svd_factors_agree_with_numpy():
    for preset in demos_svd.SVD_PRESETS:
        U, S, Vt = demos_svd.svd_factors(preset, 40.0)
        A = U @ np.diag(S) @ Vt
        np.testing.assert_allclose(np.linalg.svd(A, compute_uv=False), S)
    U, S, Vt = demos_svd.svd_factors("symmetric PSD (U = V)", 40.0)
    A = U @ np.diag(S) @ Vt
    np.testing.assert_allclose(A, A.T, atol=1e-12)
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(A))[::-1], S)


def test_svd_factors_rejects_unknown_preset():
    with pytest.raises(ValueError, match="preset must be one of"):
        demos_svd.svd_factors("diagonal", 0.0)


def test_low_rank_demo_renders_with_a_given_image(small_image):
    demo = demos_svd.low_rank_demo(small_image)
    assert _frames(demo) <= 60
    canvas = demo.canvas()
    for k in (1.0, 5.0, 20.0):
        assert canvas.render({"k": k}).size[0] > 100


def test_low_rank_demo_static_html_is_small(small_image):
    html = demos_svd.low_rank_demo(small_image).static_html()
    assert "course-demo" in html and len(html) < 1_500_000


def test_sample_image_is_grayscale_in_unit_range():
    img = demos_svd.sample_image(8)
    assert img.ndim == 2 and img.shape == (75, 64)
    assert 0.0 <= img.min() and img.max() <= 1.0


def test_static_plots_return_figures():
    res = {0.1: {"forward": np.ones(4), "backward": np.ones(4)}}
    assert isinstance(demos_svd.plot_deep_stack(res, 64), Figure)
    assert isinstance(demos_svd.plot_spectrum(np.array([3.0, 2.0, 1.0]), "S", k_mark=1), Figure)


def test_rank_strip_has_one_panel_per_rank_and_the_original(small_image):
    fig = demos_svd.plot_rank_strip(small_image, (1, 2))
    assert len(fig.axes) == 3 and fig.axes[0].get_title().startswith("k = 1: error")
    assert fig._repr_png_().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="plot_rank_strip"):
        demos_svd.plot_rank_strip(small_image, (0,))


def test_controls_are_choices_and_sliders():
    demo = demos_svd.svd_demo()
    assert isinstance(demo.controls[0], Choice) and demo.controls[0].grid() == list(demos_svd.STAGES)


def test_static_plots_display_as_png_without_pyplot():
    # IPython formats the figure as image/png through _repr_png_, with no inline backend loaded
    from IPython.core.formatters import DisplayFormatter

    from lib import svd
    from lib.demos.svd import plot_deep_stack, plot_spectrum

    res = {0.125: svd.deep_stack_norms(0.125, np.random.default_rng(0), depth=3, width=8)}
    for fig in (plot_spectrum(np.array([3.0, 2.0, 0.5]), "spectrum", k_mark=1), plot_deep_stack(res, 8)):
        data, _ = DisplayFormatter().format(fig)
        assert data["image/png"][:8] == b"\x89PNG\r\n\x1a\n"
