import numpy as np
import pytest

from lib.demos.layer import affine_map_demo, eps_sweep_demo


def _pixels(demo, params):
    canvas = demo.canvas()
    canvas.render(demo.initial())  # the first frame caches the background
    return np.asarray(canvas.render(params)).copy()


@pytest.mark.parametrize("make", [affine_map_demo, eps_sweep_demo])
def test_frame_budget_and_initial_frame(make):
    demo = make()
    n = int(np.prod([len(c.grid()) for c in demo.controls]))
    assert n <= 60
    image = demo.canvas().render(demo.initial())
    assert image.size[0] > 100 and image.size[1] > 100


def test_affine_demo_frames_differ_with_input_and_bias():
    demo = affine_map_demo()
    base = _pixels(demo, {"angle": 60.0, "bias": "0, 0"})
    moved_x = _pixels(demo, {"angle": 180.0, "bias": "0, 0"})
    moved_b = _pixels(demo, {"angle": 60.0, "bias": "1.5, 1"})
    assert not np.array_equal(base, moved_x)
    assert not np.array_equal(base, moved_b)
    assert not np.array_equal(moved_x, moved_b)


def test_affine_demo_update_is_in_place_and_repeatable():
    demo = affine_map_demo()
    canvas = demo.canvas()
    first = np.asarray(canvas.render(demo.initial())).copy()
    canvas.render({"angle": 270.0, "bias": "-1, -1"})
    again = np.asarray(canvas.render(demo.initial())).copy()
    assert np.array_equal(first, again)  # nothing leaks from one frame into the next


def test_eps_demo_frames_differ_with_eps_dtype_and_bug():
    demo = eps_sweep_demo()
    base = _pixels(demo, {"log_eps": -5.0, "dtype": "float64", "bug": "correct"})
    others = [
        _pixels(demo, {"log_eps": -9.0, "dtype": "float64", "bug": "correct"}),
        _pixels(demo, {"log_eps": -5.0, "dtype": "float32", "bug": "correct"}),
        _pixels(demo, {"log_eps": -5.0, "dtype": "float64", "bug": "transposed weight"}),
    ]
    for other in others:
        assert not np.array_equal(base, other)


def test_static_player_has_distinct_frames():
    frames, order = eps_sweep_demo().frames()
    assert len(order) == 48
    assert len(frames) > 24  # most combinations look different
