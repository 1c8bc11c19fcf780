import numpy as np
import pytest

from lib.demos import attention as demos_attention
from lib.widgets import Demo


@pytest.mark.parametrize("factory", [demos_attention.attention_demo, demos_attention.kv_cache_demo])
def test_demo_renders_every_frame_without_moving_the_axes(factory):
    demo = factory()
    assert isinstance(demo, Demo)
    n_frames = int(np.prod([len(c.grid()) for c in demo.controls]))
    assert n_frames <= 60
    canvas = demo.canvas()
    first = canvas.render(demo.initial())
    limits = [(ax.get_xlim(), ax.get_ylim()) for ax in canvas.fig.axes]
    images = set()
    import itertools

    for combo in itertools.product(*(c.grid() for c in demo.controls)):
        img = canvas.render({c.name: v for c, v in zip(demo.controls, combo, strict=True)})
        assert img.size == first.size
        images.add(img.tobytes())
    assert [(ax.get_xlim(), ax.get_ylim()) for ax in canvas.fig.axes] == limits
    assert len(images) > n_frames // 2  # the controls really change the picture


def test_sentence_attention_rows_and_mask():
    for causal in (False, True):
        A = demos_attention.sentence_attention(causal, True)
        np.testing.assert_allclose(A.sum(axis=1), 1.0)
        if causal:
            assert np.allclose(np.triu(A, 1), 0.0)


def test_unscaled_sentence_attention_is_peakier():
    scaled = demos_attention.sentence_attention(False, True).max(axis=1).mean()
    unscaled = demos_attention.sentence_attention(False, False).max(axis=1).mean()
    assert unscaled > scaled + 0.3
