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
    first = re.search(r'class="course-demo-frame"[^>]*src="(data:image/png;base64,[^"]+)"', page).group(1)
    # initial: x = 0.5 (index 1 of 3), row = top (index 1 of 2) -> flat index 1 * 2 + 1 = 3
    assert data["order"][3] == data["first"]
    assert data["frames"][data["first"]] is None, "the first frame is stored once, as the img's src"
    assert first == demo.frames()[0][data["first"]]


def test_static_player_speaks_values_and_describes_each_frame():
    demo = Demo("turn", [Slider("angle", 0, 180, 60, steps=13, label="angle (deg)", fmt="{:.0f}")],
                lambda fig: (fig.add_subplot(), (lambda angle: None))[1],
                figsize=(2, 2))
    page = demo.static_html()
    data = player_data(page)
    assert 'aria-valuetext="60 degrees"' in page, "a slider announces its value, not its position"
    assert data["spoken"][0][4] == "60 degrees" and data["labels"][0][4] == "60"
    assert data["alt"][4] == "turn, at angle 60 degrees." and data["alt"][0] == "turn, at angle 0 degrees."
    assert 'alt="turn, at angle 60 degrees."' in page
    described = Demo("d", demo.controls, demo.draw, figsize=(2, 2), describe=lambda angle: f"cos = {angle:.0f}")
    assert player_data(described.static_html())["alt"][1] == "cos = 15"


def test_frames_are_rendered_for_2x_screens_at_a_legible_natural_size():
    demo = dot_demo()
    width, height = demo.css_size()
    image = demo.canvas().render(demo.initial())
    assert image.size == (2 * width, 2 * height), "device pixels = 2 x CSS pixels"
    # the smallest text (tick labels, 10 pt by default) is at least 11 CSS px at the natural size
    assert demo.scale() == pytest.approx(11 / 10)
    page = demo.static_html()
    assert f'width="{width}" height="{height}"' in page


def test_whole_number_sliders_are_integer_and_start_on_the_lessons_value():
    angle = Slider("angle", 0, 180, 60, steps=13, label="angle between u and v (deg)", fmt="{:.0f}")
    live = angle.widget()
    assert isinstance(live, ipywidgets.IntSlider) and live.value == 60 and live.step == 15
    rank = Slider("k", 1, 61, 9, steps=16, fmt="{:.0f}")
    assert rank.widget().value == 9 and rank.widget().step == 4
    off_grid = Slider("a", 0, 180, 30, steps=5, fmt="{:.0f}")  # 30 is not on the site's 45-degree grid
    assert off_grid.widget().value == 30 and off_grid.widget().step == 1
    length = Slider("length", 0.5, 2.0, 1.5, steps=4, fmt="{:.2f}").widget()
    assert isinstance(length, ipywidgets.FloatSlider) and length.value == 1.5
    assert Slider("B", 0, 12, 5, steps=13, fmt="{:.0f}", readout=lambda v: f"B = {2 ** v:.0f}").text(5) == "B = 32"


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
def all_widgets(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from all_widgets(child)


def test_live_returns_vbox_whose_image_follows_the_slider():
    demo = dot_demo()
    box = demo.live()
    assert isinstance(box, ipywidgets.VBox)
    found = list(all_widgets(box))
    image = next(w for w in found if isinstance(w, ipywidgets.Image))
    slider = next(w for w in found if isinstance(w, ipywidgets.FloatSlider))
    dropdown = next(w for w in found if isinstance(w, ipywidgets.Dropdown))
    before = image.value
    assert before[:4] == b"\x89PNG"
    slider.value = 1.0
    after_slider = image.value
    assert after_slider != before
    assert any(isinstance(w, ipywidgets.Label) and w.value == "1.00" for w in found), "readout follows"
    dropdown.value = "bottom"
    assert image.value != after_slider


def test_live_figure_keeps_its_natural_size_and_labels_do_not_squash_sliders():
    demo = dot_demo()
    box = demo.live()
    found = list(all_widgets(box))
    image = next(w for w in found if isinstance(w, ipywidgets.Image))
    assert image.layout.width == f"{demo.css_size()[0]}px" and image.layout.max_width == "100%"
    assert box.layout.align_items == "flex-start", "a VBox stretches its children unless told not to"
    slider = next(w for w in found if isinstance(w, ipywidgets.FloatSlider))
    assert slider.description == "" and slider.layout.width == "100%", "the label sits above the track"
    assert any(isinstance(w, ipywidgets.Label) and w.value == "x position" for w in found)


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
