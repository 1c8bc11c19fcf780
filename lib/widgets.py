"""Demos defined once and shown two ways: live widgets, or a player that needs no kernel.

A demo is a list of controls and a `draw(fig)` function. `draw` builds the axes and artists once
and returns `update(**params)`, which only mutates those artists (`set_data`, `set_offsets`,
...). Artists that `update` changes are created with `animated=True`: the rest of the figure is
drawn once and cached as a bitmap, and each step redraws only the animated artists on top of it
(matplotlib's blitting). `update` must not change anything that is not animated (axis limits,
static lines). From that single definition:

- `Demo.live()`   ipywidgets controls drive `update`, and the same canvas is re-rendered into an
  `ipywidgets.Image` (Jupyter, Binder, Colab: no ipympl needed);
- `Demo.static_html()`  every combination of the controls' values is rendered ahead of time and
  embedded in a small HTML player with the same controls, so the built site stays explorable with
  no kernel and no network.

`Demo.show()` picks the face: the site build sets COURSE_DEMO_MODE=static; anywhere else a
running kernel gets the live face.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

MAX_FRAMES = 160  # keeps a chapter page well under its 3 MB budget


@dataclass(frozen=True)
class Slider:
    """A numeric control: continuous when live, `steps` evenly spaced values on the site."""

    name: str
    min: float
    max: float
    value: float
    steps: int = 9
    label: str = ""
    fmt: str = "{:.2f}"

    def grid(self) -> list[float]:
        return [float(v) for v in np.linspace(self.min, self.max, self.steps)]

    def start_index(self) -> int:
        return int(np.argmin(np.abs(np.array(self.grid()) - self.value)))

    def labels(self) -> list[str]:
        return [self.fmt.format(v) for v in self.grid()]

    def widget(self):
        import ipywidgets as w

        return w.FloatSlider(
            value=self.value, min=self.min, max=self.max, step=(self.max - self.min) / 100,
            description=self.label or self.name, continuous_update=True,
            readout_format=".2f", style={"description_width": "initial"},
        )


@dataclass(frozen=True)
class Choice:
    """A control with a few named options (a token, a mask on or off, a rank)."""

    name: str
    options: Sequence = field(default_factory=tuple)
    value: object = None
    label: str = ""
    option_labels: Sequence[str] | None = None

    def grid(self) -> list:
        return list(self.options)

    def start_index(self) -> int:
        return self.grid().index(self.value) if self.value in self.grid() else 0

    def labels(self) -> list[str]:
        return list(self.option_labels) if self.option_labels else [str(o) for o in self.options]

    def widget(self):
        import ipywidgets as w

        return w.Dropdown(
            options=list(zip(self.labels(), self.grid(), strict=True)),
            value=self.grid()[self.start_index()], description=self.label or self.name,
            style={"description_width": "initial"},
        )


Control = Slider | Choice


class Canvas:
    """One figure of a demo, redrawn by blitting its animated artists over a cached background."""

    def __init__(self, draw: Callable[[Figure], Callable[..., None]], figsize: tuple[float, float], dpi: int):
        self.fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
        self.agg = FigureCanvasAgg(self.fig)
        self.update = draw(self.fig)
        self.background = None
        self.animated: list = []

    def render(self, params: dict) -> Image.Image:
        """Apply `params` and return the picture."""
        self.update(**params)
        if self.background is None:  # first frame: lay out and draw everything that never moves
            self.agg.draw()
            self.background = self.agg.copy_from_bbox(self.fig.bbox)
            self.animated = self.fig.findobj(lambda a: a.get_animated())
        else:
            self.agg.restore_region(self.background)
        for artist in self.animated:
            self.fig.draw_artist(artist)
        return Image.frombuffer("RGBA", self.agg.get_width_height(), self.agg.buffer_rgba(), "raw", "RGBA", 0, 1)


def to_png(image: Image.Image, *, small: bool = False) -> bytes:
    """PNG bytes; `small` trades a little colour depth for a third of the size (site frames)."""
    buf = io.BytesIO()
    if small:
        image.convert("RGB").quantize(colors=64).save(buf, format="png", optimize=True)
    else:
        image.convert("RGB").save(buf, format="png", compress_level=1)
    return buf.getvalue()


class Demo:
    """An interactive figure: controls plus `draw(fig) -> update(**params)`."""

    def __init__(
        self,
        title: str,
        controls: Sequence[Control],
        draw: Callable[[Figure], Callable[..., None]],
        *,
        figsize: tuple[float, float] = (5.0, 4.0),
        dpi: int = 72,
        caption: str = "",
    ):
        self.title, self.controls, self.draw = title, list(controls), draw
        self.figsize, self.dpi, self.caption = figsize, dpi, caption
        n = int(np.prod([len(c.grid()) for c in self.controls]))
        if n > MAX_FRAMES:
            raise ValueError(f"Demo {title!r}: {n} static frames is more than {MAX_FRAMES}; use fewer steps.")

    def initial(self) -> dict:
        """The controls' starting values."""
        return {c.name: c.grid()[c.start_index()] if isinstance(c, Choice) else c.value for c in self.controls}

    def canvas(self) -> Canvas:
        return Canvas(self.draw, self.figsize, self.dpi)

    # -- the static face ---------------------------------------------------------------------
    def frames(self) -> tuple[list[str], list[int]]:
        """Base64 PNGs of every combination of control values (deduplicated) and their order."""
        canvas = self.canvas()
        unique: dict[str, int] = {}
        order: list[int] = []
        for combo in itertools.product(*(c.grid() for c in self.controls)):
            image = canvas.render({c.name: v for c, v in zip(self.controls, combo, strict=True)})
            png = base64.b64encode(to_png(image, small=True)).decode("ascii")
            order.append(unique.setdefault(png, len(unique)))
        return list(unique), order

    def static_html(self) -> str:
        """A self-contained HTML player: an image and one control per parameter, no kernel."""
        frames, order = self.frames()
        uid = f"demo-{uuid.uuid5(uuid.NAMESPACE_URL, self.title).hex[:10]}"
        starts = [c.start_index() for c in self.controls]
        first = order[int(np.ravel_multi_index(starts, [len(c.grid()) for c in self.controls]))] if self.controls else 0
        rows = []
        for i, c in enumerate(self.controls):
            name = html.escape(c.label or c.name)
            if isinstance(c, Slider):  # a slider shows its value beside it; a select shows its own
                ctl = (f'<input type="range" min="0" max="{len(c.grid()) - 1}" step="1" value="{starts[i]}" '
                       f'data-control="{i}" aria-label="{name}"> <output>{html.escape(c.labels()[starts[i]])}</output>')
            else:
                opts = "".join(
                    f'<option value="{j}"{" selected" if j == starts[i] else ""}>{html.escape(lab)}</option>'
                    for j, lab in enumerate(c.labels())
                )
                ctl = f'<select data-control="{i}" aria-label="{name}">{opts}</select>'
            rows.append(f'<label style="white-space:nowrap">{name} {ctl}</label>')
        data = json.dumps({
            "frames": frames, "order": order,
            "dims": [len(c.grid()) for c in self.controls], "labels": [c.labels() for c in self.controls],
        })
        caption = f'<p class="course-demo-caption">{html.escape(self.caption)}</p>' if self.caption else ""
        return f"""<div class="course-demo" id="{uid}">
<p class="course-demo-title"><strong>{html.escape(self.title)}</strong> <em>(interactive: move the controls)</em></p>
<div class="course-demo-controls" style="display:flex;flex-wrap:wrap;gap:0.3em 1.5em;align-items:center">{"".join(rows)}</div>
<img class="course-demo-frame" alt="{html.escape(self.title)}" src="data:image/png;base64,{frames[first]}">
{caption}<script type="application/json" class="course-demo-data">{data}</script>
<script>{_PLAYER_JS.replace("__UID__", uid)}</script>
</div>"""

    # -- the live face -----------------------------------------------------------------------
    def live(self):
        """ipywidgets controls driving one figure that is updated in place."""
        import ipywidgets as w

        canvas = self.canvas()
        image = w.Image(format="png")
        controls = {c.name: c.widget() for c in self.controls}

        def refresh(_change=None) -> None:
            image.value = to_png(canvas.render({name: ctl.value for name, ctl in controls.items()}))

        for ctl in controls.values():
            ctl.observe(refresh, names="value")
        refresh()
        title = w.HTML(f"<strong>{html.escape(self.title)}</strong>")
        return w.VBox([title, w.VBox(list(controls.values())), image, w.HTML(html.escape(self.caption))])

    def show(self, mode: str | None = None) -> None:
        """Display the live face in a kernel, the static player on the built site."""
        from IPython.display import HTML, display

        mode = mode or os.environ.get("COURSE_DEMO_MODE") or ("live" if _in_kernel() else "static")
        if mode not in ("live", "static"):
            raise ValueError(f"Demo.show: mode must be 'live' or 'static', got {mode!r}.")
        display(self.live() if mode == "live" else HTML(self.static_html()))

    # -- measurement (used by the benchmark) -------------------------------------------------
    def time_update(self, steps: int = 30) -> dict[str, float]:
        """Median milliseconds of one update step: in place vs a new figure each step."""
        combos = list(itertools.product(*(c.grid() for c in self.controls)))
        params = [dict(zip([c.name for c in self.controls], combos[i % len(combos)], strict=True)) for i in range(steps)]
        canvas = self.canvas()
        to_png(canvas.render(self.initial()))  # the first frame lays out and caches the background
        in_place, naive = [], []
        for p in params:
            t0 = time.perf_counter()
            to_png(canvas.render(p))
            in_place.append(time.perf_counter() - t0)
        for p in params:  # the naive way: a new figure, fully drawn, for every step
            t0 = time.perf_counter()
            fig = Figure(figsize=self.figsize, dpi=self.dpi, layout="constrained")
            self.draw(fig)(**p)
            buf = io.BytesIO()
            fig.savefig(buf, format="png")
            naive.append(time.perf_counter() - t0)
        return {"in_place_ms": 1e3 * statistics.median(in_place), "naive_ms": 1e3 * statistics.median(naive)}


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


_PLAYER_JS = """(function () {
  var root = document.getElementById("__UID__");
  var data = JSON.parse(root.querySelector(".course-demo-data").textContent);
  var img = root.querySelector(".course-demo-frame");
  var controls = root.querySelectorAll("[data-control]");
  function show() {
    var k = 0;
    controls.forEach(function (el, i) {
      var v = Number(el.value);
      k = k * data.dims[i] + v;
      var out = el.parentElement.querySelector("output");
      if (out) out.textContent = data.labels[i][v];
    });
    img.src = "data:image/png;base64," + data.frames[data.order[k]];
  }
  controls.forEach(function (el) { el.addEventListener("input", show); el.addEventListener("change", show); });
})();"""
