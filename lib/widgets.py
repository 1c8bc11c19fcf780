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

Both faces show the figure at its natural size, scaled so that its smallest text is at least
`min_label_px` CSS pixels, and rendered at `density` device pixels per CSS pixel (crisp on 2x
screens). Sliders step through values the lesson uses and read out in its units; on the site
they announce their value ("60 degrees", `aria-valuetext`) and each frame's alt text says what
it shows at that setting (`describe`).

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
import re
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

MAX_FRAMES = 160  #: most frames one player may hold (keeps a chapter page well under its 3 MB budget).


#: How a screen reader should say a control's unit.
SPOKEN_UNITS = {"deg": "degrees", "°": "degrees", "%": "percent", "s": "seconds", "ms": "milliseconds"}


def _unit_of(label: str) -> str:
    """The unit written in parentheses at the end of a label: 'angle (deg)' -> 'deg'."""
    found = re.search(r"\(([^()]*)\)\s*$", label)
    return found.group(1).strip() if found else ""


@dataclass(frozen=True)
class Slider:
    """A numeric control: `steps` evenly spaced values on the site, the lesson's values when live.

    `fmt` formats a value for the readout; `readout(value) -> str`, if given, replaces it (e.g. to
    show B = 32 for log2 B = 5). `unit` is spoken after the value ("60 degrees"); by default it is
    the unit in parentheses at the end of the label. `live_step` is the live slider's step: by
    default the site's grid spacing when that is a whole number and the start value is on the grid,
    1 for other whole-number sliders, a tenth of the grid spacing otherwise.
    """

    name: str
    min: float
    max: float
    value: float
    steps: int = 9
    label: str = ""
    fmt: str = "{:.2f}"
    unit: str = ""
    readout: Callable[[float], str] | None = None
    live_step: float | None = None

    def grid(self) -> list[float]:
        return [float(v) for v in np.linspace(self.min, self.max, self.steps)]

    def start_index(self) -> int:
        return int(np.argmin(np.abs(np.array(self.grid()) - self.value)))

    def text(self, value: float) -> str:
        """The readout for one value, in the lesson's units."""
        return self.readout(value) if self.readout else self.fmt.format(value)

    def labels(self) -> list[str]:
        return [self.text(v) for v in self.grid()]

    def spoken(self) -> list[str]:
        """What a screen reader says for each grid value: '60 degrees', not the position '4'."""
        unit = self.unit or _unit_of(self.label)
        unit = SPOKEN_UNITS.get(unit, unit)
        return [f"{text} {unit}".strip() for text in self.labels()]

    def whole(self) -> bool:
        """True when the readout shows whole numbers (a count, a rank, an angle in degrees)."""
        spec = re.search(r"\{[^:}]*:([^}]*)\}", self.fmt)
        return bool(spec and re.search(r"(\.0f|d)$", spec.group(1))) and float(self.min).is_integer()

    def step(self) -> float:
        """The live slider's step (see the class docstring)."""
        if self.live_step:
            return float(self.live_step)
        spacing = (self.max - self.min) / max(self.steps - 1, 1)
        on_grid = np.isclose((self.value - self.min) / spacing, round((self.value - self.min) / spacing)) if spacing else True
        if self.whole():
            return float(round(spacing)) if spacing >= 1 and float(spacing).is_integer() and on_grid else 1.0
        return spacing / 10 if on_grid and spacing else (self.max - self.min) / 100

    def widget(self):
        """The live control: an IntSlider for whole numbers, else a FloatSlider on the lesson's values."""
        import ipywidgets as w

        common = {"description": "", "continuous_update": True, "readout": False,
                  "layout": w.Layout(width="100%", max_width="26em")}
        if self.whole():
            return w.IntSlider(value=int(round(self.value)), min=int(self.min), max=int(round(self.max)),
                               step=int(self.step()), **common)
        return w.FloatSlider(value=self.value, min=self.min, max=self.max, step=self.step(), **common)


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

    def spoken(self) -> list[str]:
        return self.labels()

    def text(self, value: object) -> str:
        return self.labels()[self.grid().index(value)]

    def widget(self):
        import ipywidgets as w

        return w.Dropdown(
            options=list(zip(self.labels(), self.grid(), strict=True)),
            value=self.grid()[self.start_index()], description="",
            layout=w.Layout(width="auto", max_width="26em"),
        )


Control = Slider | Choice  #: a player's control: a slider or a choice.


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


def to_frame(image: Image.Image, colors: int = 64) -> str:
    """A site frame as a data URI: a palette PNG (transparency kept) of at most `colors` colours."""
    buf = io.BytesIO()
    if image.mode == "RGBA":
        image.quantize(colors=colors, method=Image.Quantize.FASTOCTREE).save(buf, format="png", optimize=True)
    else:
        image.convert("RGB").quantize(colors=colors).save(buf, format="png", optimize=True)
    return f"data:image/png;base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"


def _plain(label: str) -> str:
    """A label without its trailing unit: 'angle (deg)' -> 'angle'."""
    return re.sub(r"\s*\([^()]*\)\s*$", "", label)


class Demo:
    """An interactive figure: controls plus `draw(fig) -> update(**params)`.

    Optional: `min_label_px` (the smallest text of the figure, in CSS pixels, at its natural size),
    `density` (device pixels per CSS pixel of the rendered frames), `describe(**params) -> str`
    (a frame's alt text: what the figure shows at that setting; by default the title and the
    controls' values).
    """

    def __init__(
        self,
        title: str,
        controls: Sequence[Control],
        draw: Callable[[Figure], Callable[..., None]],
        *,
        figsize: tuple[float, float] = (5.0, 4.0),
        dpi: int = 72,
        caption: str = "",
        min_label_px: float = 11.0,
        density: int = 2,
        describe: Callable[..., str] | None = None,
    ):
        self.title, self.controls, self.draw = title, list(controls), draw
        self.figsize, self.dpi, self.caption = figsize, dpi, caption
        self.min_label_px, self.density, self.describe = min_label_px, density, describe
        self._scale: float | None = None
        n = int(np.prod([len(c.grid()) for c in self.controls]))
        if n > MAX_FRAMES:
            raise ValueError(f"Demo {title!r}: {n} static frames is more than {MAX_FRAMES}; use fewer steps.")

    def initial(self) -> dict:
        """The controls' starting values."""
        return {c.name: c.grid()[c.start_index()] if isinstance(c, Choice) else c.value for c in self.controls}

    def scale(self) -> float:
        """CSS pixels per point at the natural size: the smallest text is `min_label_px` (at least dpi/72)."""
        if self._scale is None:
            probe = Canvas(self.draw, self.figsize, 72)
            probe.render(self.initial())
            sizes = [t.get_fontsize() for t in probe.fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
            self._scale = max(self.dpi / 72, self.min_label_px / min(sizes, default=self.min_label_px))
        return self._scale

    def css_size(self) -> tuple[int, int]:
        """The figure's natural size in CSS pixels."""
        dpi = self.render_dpi()  # whole device pixels per CSS pixel: never shown wider than rendered
        return int(self.figsize[0] * dpi) // self.density, int(self.figsize[1] * dpi) // self.density

    def render_dpi(self) -> float:
        return 72 * self.scale() * self.density

    def canvas(self) -> Canvas:
        return Canvas(self.draw, self.figsize, self.render_dpi())

    def alt(self, params: dict) -> str:
        """A frame's alt text: what the figure shows at these control values."""
        if self.describe:
            return self.describe(**params)
        said = [f"{_plain(c.label or c.name)} {c.spoken()[c.grid().index(params[c.name])]}" for c in self.controls]
        return f"{self.title}, at {'; '.join(said)}." if said else self.title

    # -- the static face ---------------------------------------------------------------------
    def layers(self) -> tuple[str, list[str], list[int]]:
        """The site player's pictures: the part that never moves, drawn once, and over it one
        overlay per combination of control values (transparent wherever the frame equals the
        background; deduplicated), with their order. Only the moving parts are stored per frame,
        which keeps 2x frames light."""
        canvas = self.canvas()
        background: np.ndarray | None = None
        unique: dict[str, int] = {}
        order: list[int] = []
        for combo in itertools.product(*(c.grid() for c in self.controls)):
            frame = np.asarray(canvas.render({c.name: v for c, v in zip(self.controls, combo, strict=True)})).copy()
            if background is None:
                canvas.agg.restore_region(canvas.background)
                background = np.asarray(canvas.agg.buffer_rgba()).copy()
            frame[np.all(frame == background, axis=2)] = 0
            order.append(unique.setdefault(to_frame(Image.fromarray(frame, "RGBA")), len(unique)))
        if background is None:  # no controls: a still picture
            background = np.asarray(canvas.render({})).copy()
        return to_frame(Image.fromarray(background, "RGBA").convert("RGB")), list(unique), order

    def frames(self) -> tuple[list[str], list[int]]:
        """Data URIs of the overlays of every combination of control values (deduplicated) and their order."""
        _, frames, order = self.layers()
        return frames, order

    def static_html(self) -> str:
        """A self-contained HTML player: an image and one control per parameter, no kernel."""
        background, frames, order = self.layers()
        uid = f"demo-{uuid.uuid5(uuid.NAMESPACE_URL, self.title).hex[:10]}"
        starts = [c.start_index() for c in self.controls]
        first = order[int(np.ravel_multi_index(starts, [len(c.grid()) for c in self.controls]))] if self.controls else 0
        combos = list(itertools.product(*(c.grid() for c in self.controls)))
        alts = [self.alt(dict(zip([c.name for c in self.controls], combo, strict=True))) for combo in combos]
        rows = []
        for i, c in enumerate(self.controls):
            name = html.escape(c.label or c.name)
            if isinstance(c, Slider):  # a slider shows its value beside it; a select shows its own
                ctl = (f'<input type="range" min="0" max="{len(c.grid()) - 1}" step="1" value="{starts[i]}" '
                       f'data-control="{i}" aria-label="{name}" '
                       f'aria-valuetext="{html.escape(c.spoken()[starts[i]])}">'
                       f'<output aria-hidden="true">{html.escape(c.labels()[starts[i]])}</output>')
            else:
                opts = "".join(
                    f'<option value="{j}"{" selected" if j == starts[i] else ""}>{html.escape(lab)}</option>'
                    for j, lab in enumerate(c.labels())
                )
                ctl = f'<select data-control="{i}" aria-label="{name}">{opts}</select>'
            rows.append(f'<label class="course-demo-control"><span>{name}</span> {ctl}</label>')
        width, height = self.css_size()
        data = json.dumps({
            "frames": [None if k == first else f for k, f in enumerate(frames)],  # the first is the img's own src
            "first": first, "order": order, "alt": alts,
            "dims": [len(c.grid()) for c in self.controls], "labels": [c.labels() for c in self.controls],
            "spoken": [c.spoken() for c in self.controls],
        })
        start_alt = alts[int(np.ravel_multi_index(starts, [len(c.grid()) for c in self.controls]))] if self.controls else self.title
        caption = f'<p class="course-demo-caption">{html.escape(self.caption)}</p>' if self.caption else ""
        return f"""<div class="course-demo" id="{uid}">
<p class="course-demo-title"><strong>{html.escape(self.title)}</strong> <em>(interactive: move the controls)</em></p>
<div class="course-demo-controls">{"".join(rows)}</div>
<div class="course-demo-figure" style="position:relative;width:{width}px;max-width:100%">\
<img class="course-demo-background" width="{width}" height="{height}" alt="" src="{background}" style="display:block;width:100%;height:auto">\
<img class="course-demo-frame" width="{width}" height="{height}" alt="{html.escape(start_alt)}" src="{frames[first]}" style="position:absolute;left:0;top:0;width:100%;height:100%"></div>
{caption}<script type="application/json" class="course-demo-data">{data}</script>
<script>{_PLAYER_JS.replace("__UID__", uid)}</script>
</div>"""

    # -- the live face -----------------------------------------------------------------------
    def live(self):
        """ipywidgets controls beside one figure shown at its natural size and updated in place.

        The figure keeps its natural CSS size (never stretched to the notebook's width) and is
        rendered at `density` pixels per CSS pixel; the controls sit beside it when there is room
        and above it otherwise, so both fit on a 1366x768 screen. Each control is a label over a
        full-width slider (a long label cannot squash the track) and a readout in the lesson's units.
        """
        import ipywidgets as w

        canvas = self.canvas()
        width, height = self.css_size()
        image = w.Image(format="png", layout=w.Layout(width=f"{width}px", max_width="100%", height="auto",
                                                          flex="0 0 auto", object_fit="contain"))
        controls = {c.name: c.widget() for c in self.controls}
        readouts = {c.name: w.Label(layout=w.Layout(min_width="4.5em")) for c in self.controls if isinstance(c, Slider)}

        def refresh(_change=None) -> None:
            params = {name: ctl.value for name, ctl in controls.items()}
            for c in self.controls:
                if c.name in readouts:
                    readouts[c.name].value = c.text(params[c.name])
            image.value = to_png(canvas.render(params))

        for ctl in controls.values():
            ctl.observe(refresh, names="value")
        refresh()
        rows = []
        for c in self.controls:
            line = [controls[c.name]] + ([readouts[c.name]] if c.name in readouts else [])
            rows.append(w.VBox([w.Label(c.label or c.name), w.HBox(line, layout=w.Layout(align_items="center"))],
                               layout=w.Layout(margin="0 0 0.4em 0")))
        panel = w.VBox(rows, layout=w.Layout(flex="1 1 18em", min_width="16em", max_width="28em", margin="0 0 0.5em 1em"))
        # figure left, controls right; when both do not fit side by side, wrap-reverse puts the
        # controls above the figure (never below it, off a laptop's screen)
        body = w.Box([image, panel], layout=w.Layout(display="flex", flex_flow="row wrap-reverse", align_items="flex-end"))
        title = w.HTML(f"<strong>{html.escape(self.title)}</strong>")
        parts = [title, body] + ([w.HTML(html.escape(self.caption))] if self.caption else [])
        return w.VBox(parts, layout=w.Layout(align_items="flex-start"))

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
            fig = Figure(figsize=self.figsize, dpi=self.render_dpi(), layout="constrained")
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
  var holder = root.querySelector(".course-demo-data");
  var img = root.querySelector(".course-demo-frame");
  var controls = root.querySelectorAll("[data-control]");
  var data = null, waiting = null;
  function ready(json) {
    data = json;
    data.frames[data.first] = img.getAttribute("src");
  }
  function load(then) {  /* frames inline, or (on the built site) in a script fetched when first needed */
    if (data) return then();
    if (!holder.dataset.src) { ready(JSON.parse(holder.textContent)); return then(); }
    if (waiting) return waiting.push(then);
    waiting = [then];
    var script = document.createElement("script");
    script.src = holder.dataset.src;
    script.onload = function () {
      ready(window.courseDemoData[holder.dataset.key]);
      waiting.forEach(function (f) { f(); });
    };
    document.head.appendChild(script);
  }
  root.courseDemoLoad = function () { return new Promise(load); };
  function show() {
    var k = 0;
    controls.forEach(function (el, i) {
      var v = Number(el.value);
      k = k * data.dims[i] + v;
      if (el.type === "range") el.setAttribute("aria-valuetext", data.spoken[i][v]);
      var out = el.parentElement.querySelector("output");
      if (out) out.textContent = data.labels[i][v];
    });
    img.src = data.frames[data.order[k]];
    img.alt = data.alt[k];
  }
  controls.forEach(function (el) {
    ["input", "change"].forEach(function (type) { el.addEventListener(type, function () { load(show); }); });
    ["pointerdown", "focus"].forEach(function (type) { el.addEventListener(type, function () { load(function () {}); }); });
  });
  if (holder.dataset.src && "IntersectionObserver" in window) {  /* fetch the frames as the demo nears the screen */
    var seen = new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; })) { seen.disconnect(); load(function () {}); }
    }, {rootMargin: "50% 0px"});
    seen.observe(root);
  }
})();"""
