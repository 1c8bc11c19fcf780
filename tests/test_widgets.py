"""Tests for lib.widgets (Demo, Slider, Choice, the static player, the live face) and lib.demos."""

import json
import re

import ipywidgets
import numpy as np
import pytest

from lib import widgets
from lib.demos import vectors as demos
from lib.widgets import MAX_FRAMES, Choice, Demo, Slider


def dot_demo(steps: int = 3) -> Demo:
    """A tiny demo whose every combination of controls draws a different picture."""

    def draw(fig):
        ax = fig.add_subplot()
        ax.set(xlim=(-1, 2), ylim=(-1, 2))
        (point,) = ax.plot([], [], "o", ms=12, animated=True)

        def update(x: float, row: str) -> None:
            point.set_data([x], [1.0 if row == "top" else 0.0])

        return update

    return Demo("dot", [Slider("x", 0.0, 1.0, 0.5, steps=steps, label="x position"),
                        Choice("row", ("bottom", "top"), "top", label="row")], draw, figsize=(2, 2), dpi=50)


def player_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" class="course-demo-data">(.*?)</script>', page, re.S)
    assert found, "no data block in the static player"
    return json.loads(found.group(1))


# ---------------------------------------------------------------- controls
def test_slider_grid_labels_and_start():
    s = Slider("a", 0.0, 1.0, 0.3, steps=5, fmt="{:.1f}")
    assert s.grid() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert s.labels() == ["0.0", "0.2", "0.5", "0.8", "1.0"]
    assert s.start_index() == 1


def test_choice_grid_labels_and_start():
    c = Choice("m", ("a", "b"), "b", option_labels=["first", "second"])
    assert c.grid() == ["a", "b"] and c.labels() == ["first", "second"] and c.start_index() == 1
    assert Choice("m", ("a", "b"), "zzz").start_index() == 0


def test_initial_values():
    assert dot_demo().initial() == {"x": 0.5, "row": "top"}


# ---------------------------------------------------------------- the static face
def test_static_html_has_one_frame_per_distinct_combination_and_one_control_per_parameter():
    page = dot_demo(steps=3).static_html()
    data = player_data(page)
    assert len(data["frames"]) == 3 * 2  # every combination draws a different picture
    assert len(data["order"]) == 3 * 2 and sorted(set(data["order"])) == list(range(6))
    assert data["dims"] == [3, 2]
    assert page.count("data-control=") == 2
    assert page.count('type="range"') == 1 and page.count("<select") == 1
    assert "x position" in page and "dot" in page


def test_identical_frames_are_deduplicated():
    def draw(fig):
        fig.add_subplot()
        return lambda x: None  # the picture never changes

    frames, order = Demo("still", [Slider("x", 0, 1, 0, steps=4)], draw, figsize=(1, 1), dpi=30).frames()
    assert len(frames) == 1 and order == [0, 0, 0, 0]


def test_frames_differ_when_controls_change():
    canvas = dot_demo().canvas()
    a = np.asarray(canvas.render({"x": 0.0, "row": "top"})).copy()
    b = np.asarray(canvas.render({"x": 1.0, "row": "top"})).copy()
    c = np.asarray(canvas.render({"x": 1.0, "row": "bottom"})).copy()
    again = np.asarray(canvas.render({"x": 0.0, "row": "top"})).copy()
    assert not np.array_equal(a, b) and not np.array_equal(b, c)
    np.testing.assert_array_equal(a, again)  # blitting restores the background cleanly


def test_static_player_starts_on_the_initial_frame():
    demo = dot_demo()
    page = demo.static_html()
    data = player_data(page)
    first = re.search(r'class="course-demo-frame"[^>]*src="data:image/png;base64,([^"]+)"', page).group(1)
    # initial: x = 0.5 (index 1 of 3), row = top (index 1 of 2) -> flat index 1 * 2 + 1 = 3
    assert first == data["frames"][data["order"][3]]


def test_too_many_frames_raises():
    with pytest.raises(ValueError, match=r"static frames is more than"):
        Demo("huge", [Slider("a", 0, 1, 0, steps=MAX_FRAMES + 1)], lambda fig: (lambda a: None))


def test_show_static_displays_html(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    dot_demo().show(mode="static")
    assert len(shown) == 1
    from IPython.display import HTML

    assert isinstance(shown[0], HTML) and "course-demo" in shown[0].data


def test_show_rejects_unknown_mode():
    with pytest.raises(ValueError, match="mode must be 'live' or 'static'"):
        dot_demo().show(mode="movie")


def test_show_uses_environment_variable(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    monkeypatch.setenv("COURSE_DEMO_MODE", "live")
    dot_demo().show()
    assert isinstance(shown[0], ipywidgets.VBox)


# ---------------------------------------------------------------- the live face
def test_live_returns_vbox_whose_image_follows_the_slider():
    box = dot_demo().live()
    assert isinstance(box, ipywidgets.VBox)
    image = next(w for w in box.children if isinstance(w, ipywidgets.Image))
    controls = next(w for w in box.children if isinstance(w, ipywidgets.VBox)).children
    slider = next(w for w in controls if isinstance(w, ipywidgets.FloatSlider))
    dropdown = next(w for w in controls if isinstance(w, ipywidgets.Dropdown))
    before = image.value
    assert before[:4] == b"\x89PNG"
    slider.value = 0.9
    after_slider = image.value
    assert after_slider != before
    dropdown.value = "bottom"
    assert image.value != after_slider


def test_time_update_returns_positive_numbers():
    timing = dot_demo().time_update(3)
    assert set(timing) == {"in_place_ms", "naive_ms"}
    assert all(v > 0 for v in timing.values())


# ---------------------------------------------------------------- the course's demos
@pytest.mark.parametrize("factory", [demos.projection_demo, demos.linear_map_demo])
def test_course_demos_are_small_and_render(factory):
    demo = factory()
    n = int(np.prod([len(c.grid()) for c in demo.controls]))
    assert n <= 60
    canvas = demo.canvas()
    canvas.render(demo.initial())
    limits = [(ax.get_xlim(), ax.get_ylim()) for ax in canvas.fig.axes]
    for combo in (demo.initial(), {c.name: c.grid()[-1] for c in demo.controls}):
        canvas.render(combo)
    assert [(ax.get_xlim(), ax.get_ylim()) for ax in canvas.fig.axes] == limits  # update keeps the axes


def test_linear_map_demo_static_html_is_small():
    page = demos.linear_map_demo().static_html()
    data = player_data(page)
    assert len(data["order"]) == 6 * 5 * 2
    assert len(data["frames"]) < len(data["order"])  # t = 0 is the identity for every matrix
    assert len(page) < 1_000_000


def test_widgets_module_exports():
    assert widgets.Control is not None and callable(widgets.to_png)
