"""The readable block, parameter counts, grouped-query caches, attention-vs-MLP FLOPs, decode
costs, and the numbers the chapter `decoder-kv-cache` states in its prose."""

import cProfile
import pstats

import numpy as np
import pytest

from lib import decoder
from lib.ledger import roofline

CFG = decoder.Config()
PARAMS = decoder.init_params(CFG, seed=0)


@pytest.mark.parametrize("T", [1, 5])
def test_block_with_activations_equals_block_forward(rng, T):
    x = rng.normal(size=(2, T, 16))
    p = PARAMS["layers"][0]
    want, A = decoder.block_forward(x, p, 4)
    got, acts = decoder.block_with_activations(x, p, 4)
    np.testing.assert_allclose(got, want)
    np.testing.assert_allclose(acts["A"], A)
    # hidden is the MLP's real activation: it reads the norm of x_mid, not of x
    np.testing.assert_allclose(acts["x_out"] - acts["x_mid"],
                               decoder.mlp(decoder.rms_norm(acts["x_mid"], p["g2"]), p["W1"], p["W2"]))
    np.testing.assert_allclose(acts["hidden"], np.maximum(decoder.rms_norm(acts["x_mid"], p["g2"]) @ p["W1"], 0))


def test_block_source_is_the_nine_computing_lines():
    src = decoder.block_source()
    lines = src.splitlines()
    assert len(lines) == 9 and lines[0].startswith("a1 = rms_norm(x") and lines[-1].startswith("x_out = x_mid + hidden")
    assert "def " not in src and "raise" not in src


@pytest.mark.parametrize("cfg", [decoder.Config(), decoder.Config(d=8, n_heads=2, d_ff=12, n_layers=3, block_size=5)])
def test_param_count_counts_every_array(cfg):
    params = decoder.init_params(cfg)
    n = sum(params[k].size for k in ("wte", "wpe", "g_f", "W_lm")) + sum(a.size for layer in params["layers"] for a in layer.values())
    assert decoder.param_count(cfg) == n
    assert decoder.param_count(decoder.Config()) == 4240  # 432 + 256 + 16 + 432 + 3,104


def test_llama_param_counts_by_hand():
    # Llama-2-7B: 32 x (4 x 4096^2 + 3 x 4096 x 11008 + 2 x 4096) + 2 x 32000 x 4096 + 4096
    assert decoder.llama_param_count(32, 4096, 11008, 32000) == 6_738_415_616
    # Llama-2-70B with 8 KV heads of 128: Wk, Wv are (8192, 1024)
    assert decoder.llama_param_count(80, 8192, 28672, 32000, d_kv=1024) == 68_976_648_192
    assert round(6_738_415_616 * 2 / 2**30, 2) == 12.55  # GiB in fp16, as the chapter prints


def test_gqa_kv_cache_llama2_70b():
    per_token = decoder.gqa_kv_cache_bytes(80, 64, 8, 128, 1)
    assert per_token == 2 * 80 * 8 * 128 * 2 == 327_680 and per_token / 2**20 == 0.3125
    assert decoder.kv_cache_bytes(80, 64, 128, 1) == 8 * per_token  # 2.5 MiB with 64 KV heads
    assert decoder.gqa_kv_cache_bytes(80, 64, 64, 128, 7, 3, 4) == decoder.kv_cache_bytes(80, 64, 128, 7, 3, 4)
    with pytest.raises(ValueError, match="multiple"):
        decoder.gqa_kv_cache_bytes(2, 6, 4, 8, 1)


def test_token_flops_hand_case_and_agreement_with_layer_flops():
    parts = decoder.token_flops(16, 64, 10)
    assert parts == {"projections": 8 * 16 * 16, "attention": 4 * 10 * 16, "mlp": 4 * 16 * 64}
    cfg = decoder.Config(d=32, n_heads=4, d_ff=96, block_size=20)
    for t in (1, 7, 20):
        assert sum(decoder.token_flops(32, 96, t).values()) == decoder.layer_flops(cfg, 1, t)
    gqa = decoder.token_flops(8, 20, 3, d_kv=2, mlp_matrices=3)
    assert gqa == {"projections": 2 * (2 * 64 + 2 * 16), "attention": 4 * 3 * 8, "mlp": 2 * 3 * 8 * 20}


@pytest.mark.parametrize("d, d_ff, d_kv, m, want", [
    (16, 64, None, 2, 96), (768, 3072, None, 2, 4608), (4096, 11008, None, 3, 24704), (8192, 28672, 1024, 3, 52224),
])
def test_attention_crossover(d, d_ff, d_kv, m, want):
    t_star = decoder.attention_crossover(d, d_ff, d_kv=d_kv, mlp_matrices=m)
    assert t_star == want
    parts = decoder.token_flops(d, d_ff, int(t_star), d_kv=d_kv, mlp_matrices=m)
    assert parts["attention"] == parts["projections"] + parts["mlp"]
    if d_kv is None and d_ff == 4 * d:
        assert t_star == 6 * d


def test_attention_shares_the_chapter_quotes():
    llama = decoder.token_flops(4096, 11008, 4096, mlp_matrices=3)
    assert round(llama["attention"] / sum(llama.values()), 3) == 0.142  # "about a seventh"
    gpt2 = decoder.token_flops(768, 3072, 1024)
    assert round(gpt2["attention"] / sum(gpt2.values()), 3) == 0.182


def test_decode_step_llama2_7b_and_roofline():
    w = decoder.llama_param_count(32, 4096, 11008, 32000)
    one = decoder.decode_step(w, 32, 4096, 4096, 4096)
    assert one["flops"] == one["bytes"] == 2 * w + 4 * 32 * 4096 * 4096 and one["intensity"] == 1.0
    assert one["kv_bytes"] == decoder.kv_cache_bytes(32, 32, 128, 4096)
    assert round(one["bytes"] / 1e9, 1) == 15.6
    seconds = one["flops"] / (roofline(one["intensity"], 312_000, 2_000) * 1e9)
    assert round(seconds * 1e3, 2) == 7.81 and round(1 / seconds) == 128
    sixteen = decoder.decode_step(w, 32, 4096, 4096, 4096, batch=16)
    assert sixteen["weight_bytes"] == one["weight_bytes"] and round(sixteen["intensity"]) == 5
    sixty_four = decoder.decode_step(w, 32, 4096, 4096, 4096, batch=64)
    assert round(sixty_four["kv_bytes"] / sixty_four["weight_bytes"]) == 10


@pytest.mark.parametrize("t", [1, 4, 16])
def test_step_function_cached_equals_uncached_and_does_not_grow(t):
    cached = decoder.step_function(PARAMS, CFG, t, cached=True)
    full = decoder.step_function(PARAMS, CFG, t, cached=False)
    first = cached()
    np.testing.assert_allclose(first, full(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(cached(), first)  # the cache was copied, not grown


def test_name_of_cuts_at_the_end_token():
    assert decoder.name_of(decoder.encode(".emma.xq")) == ".emma."
    assert decoder.name_of(decoder.encode(".emma")) == ".emma"
    assert decoder.name_of(decoder.encode("..")) == ".."


@pytest.mark.parametrize("split", [1, 3, 6])
def test_chunked_prefill_equals_one_pass(split):
    prompt = decoder.encode(".emmanue")
    one = decoder.forward(PARAMS, prompt, CFG)
    caches = [{}]
    a = decoder.forward(PARAMS, prompt[:split], CFG, caches=caches)
    b = decoder.forward(PARAMS, prompt[split:], CFG, start=split, caches=caches)  # T_q < T_k: rectangular mask
    np.testing.assert_allclose(np.concatenate([a, b], axis=1), one, rtol=1e-12, atol=1e-12)


def test_cached_logits_equal_to_rounding_not_bitwise():
    prompts = np.stack([decoder.encode(".em"), decoder.encode(".ol")])
    tok_c, log_c = decoder.generate(PARAMS, prompts, 12, CFG, use_cache=True)
    tok_f, log_f = decoder.generate(PARAMS, prompts, 12, CFG, use_cache=False)
    np.testing.assert_array_equal(tok_c, tok_f)
    assert 0 < np.abs(log_c - log_f).max() < 1e-14


def test_a_decode_step_is_hundreds_of_calls():
    """The chapter says a cached step is hundreds of small Python and NumPy calls."""
    step = decoder.step_function(decoder.init_params(decoder.Config(block_size=64), 1), decoder.Config(block_size=64),
                                 32, cached=True)
    profile = cProfile.Profile()
    profile.runcall(step)
    assert 200 <= pstats.Stats(profile).total_calls
