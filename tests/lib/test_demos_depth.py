"""lib.demos.depth: the training demo builds, updates in place and stays within the frame budget."""

from __future__ import annotations

import numpy as np
import pytest

from lib.demos.depth import region_colours, training_demo


@pytest.fixture(scope="module")
def demo():
    return training_demo(resolution=40)


def test_frames_within_budget(demo):
    n = np.prod([len(c.grid()) for c in demo.controls])
    assert n <= 60


def test_every_control_value_renders(demo):
    canvas = demo.canvas()
    first = np.asarray(canvas.render(demo.initial())).copy()
    later = np.asarray(canvas.render({"step": 1500, "view": "regions"}))
    assert first.shape == later.shape and not np.array_equal(first, later)
    canvas.render({"step": 730.0, "view": "probability"})  # a live slider value between snapshots


def test_update_changes_only_animated_artists(demo):
    canvas = demo.canvas()
    canvas.render(demo.initial())
    axes = canvas.fig.axes
    limits = [(ax.get_xlim(), ax.get_ylim()) for ax in axes]
    canvas.render({"step": 800, "view": "regions"})
    assert [(ax.get_xlim(), ax.get_ylim()) for ax in axes] == limits
    assert len(canvas.animated) >= 3


def test_region_colours_in_unit_interval():
    c = region_colours(np.arange(50))
    assert np.all((c >= 0) & (c < 1)) and len(np.unique(c)) == 50
