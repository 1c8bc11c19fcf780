"""The model-ledger demo and the tiny GPT's attention demo."""

import numpy as np
import pytest

from lib import data, sizing, transformer
from lib.demos.model import (
    CONTEXTS,
    PRESET_KEYS,
    flop_shares,
    memory_rows,
    model_demo,
    param_shares,
    tiny_gpt_demo,
)
from lib.lora import init_model_lora


@pytest.fixture(scope="module")
def demo():
    return model_demo()


def test_shares_add_up_and_come_from_lib():
    for key in PRESET_KEYS:
        cfg = sizing.preset(key)
        assert np.isclose(sum(param_shares(cfg).values()), 1.0)
        assert np.isclose(sum(flop_shares(cfg, 4096).values()), 1.0)
    gpt2 = sizing.preset("gpt2-small")
    assert np.isclose(param_shares(gpt2)["lm head"], 0.0)  # tied
    assert np.isclose(param_shares(gpt2)["embeddings"], (50257 + 1024) * 768 / 124_439_808)


def test_attention_overtakes_the_mlp_at_long_context():
    cfg = sizing.preset("llama2-7b")
    short, long = flop_shares(cfg, 4096), flop_shares(cfg, 65536)
    assert short["attention scores"] < short["mlp"] and long["attention scores"] > long["mlp"]


def test_memory_rows_against_80_gib():
    small, seven, seventy = (memory_rows(sizing.preset(k), 4096) for k in ("gpt2-small", "llama2-7b", "llama2-70b"))
    assert all(v < 80 * 2**30 for v in small.values())
    gen, lora, full = seven.values()
    assert gen < 80 * 2**30 and lora < 80 * 2**30 < full  # 7B: generation and LoRA fit, full Adam training does not
    assert min(seventy.values()) > 80 * 2**30  # 70B in bf16 does not even generate on one device


def test_demo_controls_and_update(demo):
    assert [c.name for c in demo.controls] == ["preset", "T"]
    assert demo.initial() == {"preset": "llama2-7b", "T": 4096}  # a default the caption can state: T is not capped
    assert len(demo.controls[0].grid()) * len(demo.controls[1].grid()) == len(PRESET_KEYS) * len(CONTEXTS)
    canvas = demo.canvas()
    first = np.asarray(canvas.render({"preset": "microgpt", "T": 1024})).copy()
    limits = [ax.get_xlim() + ax.get_ylim() for ax in canvas.fig.axes]
    other = np.asarray(canvas.render({"preset": "llama2-70b", "T": 131072})).copy()
    again = np.asarray(canvas.render({"preset": "microgpt", "T": 1024}))
    assert not np.array_equal(first, other)
    np.testing.assert_array_equal(first, again)
    assert limits == [ax.get_xlim() + ax.get_ylim() for ax in canvas.fig.axes]
    texts = [t.get_text() for ax in canvas.fig.axes for t in ax.texts]
    assert any("4,192 parameters" in t for t in texts)  # microgpt
    assert any("T = 16 (max)" in t for t in texts)  # learned positions end at max_len


def test_tiny_gpt_demo_frames():
    cfg = transformer.Config(d=16, n_heads=2, n_layers=1, d_ff=32, block_size=6)
    params = transformer.init_params(cfg, 0)
    lora = init_model_lora(params, 2, ("Wq",), seed=0)
    lora = {k: a + 0.5 for k, a in lora.items()}  # a non-zero adapter: the two models differ
    examples = data.digit_task("rotate", 3, 3, 0)[0]
    demo = tiny_gpt_demo(params, lora, 2.0, cfg, examples)
    canvas = demo.canvas()
    a = np.asarray(canvas.render({"example": 0, "model_": "reverse"})).copy()
    b = np.asarray(canvas.render({"example": 0, "model_": "rotate"})).copy()
    assert not np.array_equal(a, b)
    html = demo.static_html()
    assert "base + LoRA (rotates)" in html and len(html) < 600_000


def test_every_frame_draws(demo):
    # the static page renders every (preset, T) frame, Mistral's window (no crossover) included
    canvas = demo.canvas()
    for preset in PRESET_KEYS:
        for T in CONTEXTS:
            assert canvas.render({"preset": preset, "T": T}).size[0] > 0
