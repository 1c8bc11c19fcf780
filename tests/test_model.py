"""The whole-model ledger against published numbers and hand-computed cases."""

import numpy as np
import pytest

from lib import decoder, model
from lib.model import preset


def test_gpt2_small_published_count():
    # GPT-2 small (124M): tied embeddings, LayerNorm with bias, biases everywhere
    assert model.n_params(preset("gpt2-small")) == 124_439_808


def test_llama2_7b_published_count():
    assert model.n_params(preset("llama2-7b")) == 6_738_415_616


def test_llama2_70b_published_count():
    assert model.n_params(preset("llama2-70b")) == 68_976_648_192


def test_microgpt_count_by_hand():
    # the seed's table: Wq Wk Wv Wo 16x16, fc1 16x64, fc2 64x16, lm_head 16x27; plus wte (27, 16), wpe (16, 16)
    by_hand = 4 * 16 * 16 + 16 * 64 + 64 * 16 + 16 * 27 + 27 * 16 + 16 * 16
    assert by_hand == 4192
    assert model.n_params(preset("microgpt")) == by_hand


def test_microgpt_count_matches_real_arrays():
    # lib.decoder's model has microgpt's sizes plus three RMSNorm gains (two per block, one final)
    params = decoder.init_params(decoder.Config(), seed=0)
    flat = [params["wte"], params["wpe"], params["g_f"], params["W_lm"]] + list(params["layers"][0].values())
    cfg = model.with_changes(preset("microgpt"), norm="rmsnorm")
    assert model.n_params(cfg) == sum(a.size for a in flat)


def test_gpt2_block_by_hand():
    d, F = 768, 3072
    block = model.block_params(preset("gpt2-small"))
    assert block["attention"] == d * 3 * d + 3 * d + d * d + d
    assert block["mlp"] == d * F + F + F * d + d
    assert block["norms"] == 4 * d
    assert sum(block.values()) == 7_087_872


def test_ledger_total_equals_count():
    for cfg in model.PRESETS.values():
        assert model.model_ledger(cfg).total("parameter") == model.n_params(cfg)
    cfg = model.with_changes(preset("llama2-7b"), bias=True, n_kv_heads=8)
    assert model.model_ledger(cfg).total("parameter") == model.n_params(cfg)


def test_llama2_70b_kv_cache_grouped_vs_multihead():
    cfg = preset("llama2-70b")
    per_token_gqa = 2 * 80 * 8 * 128 * 2  # K and V, 80 layers, 8 KV heads, head dim 128, bf16
    per_token_mha = 2 * 80 * 64 * 128 * 2
    assert model.kv_cache_bytes(cfg, 1) == per_token_gqa == 327_680
    assert model.kv_cache_bytes(cfg, 1, grouped=False) == per_token_mha == 2_621_440
    assert model.kv_cache_bytes(cfg, 4096) == 1_342_177_280  # 1.34 GB at 4k context
    assert model.kv_cache_bytes(cfg, 4096, grouped=False) == 8 * 1_342_177_280
    # the KV cache row of the ledger agrees
    led = model.model_ledger(cfg, T=4096, B=1, dtype="bf16")
    assert led.nbytes("KV cache") == 1_342_177_280


def test_llama2_7b_kv_cache_matches_decoder_formula():
    cfg = preset("llama2-7b")
    assert model.kv_cache_bytes(cfg, 100, 3, "fp16") == decoder.kv_cache_bytes(32, 32, 128, 100, 3, 2)


def test_forward_flops_by_hand():
    cfg = preset("gpt2-small")
    f = model.forward_flops(cfg, 1024)
    assert f["attention projections"] == 2 * 12 * 4 * 768 * 768
    assert f["mlp"] == 2 * 12 * 2 * 768 * 3072
    assert f["attention scores"] == 4 * 12 * 768 * 1024
    assert f["lm head"] == 2 * 768 * 50257
    # attention overtakes the MLP at T = d_ff for a GELU MLP, 1.5 d_ff for SwiGLU with MHA
    assert model.attention_crossover(cfg) == 3072
    assert model.attention_crossover(preset("llama2-7b")) == 16512
    assert model.forward_flops(cfg, 3071)["attention scores"] < f["mlp"] <= model.forward_flops(cfg, 3072)["attention scores"]


def test_forward_flops_equal_counted_matmuls():
    # lib.decoder counts the FLOPs of every matmul it does; one cached step at context t matches
    dcfg = decoder.Config()
    cfg = preset("microgpt")
    for t in (1, 5, 16):
        assert sum(model.forward_flops(cfg, t).values()) == decoder.step_flops(dcfg, t, cached=True)


def test_six_n_rule_and_where_it_is_off():
    cfg = preset("llama2-7b")
    tokens = 2_000_000_000_000
    six = model.six_n_flops(cfg, tokens)
    assert six == 6 * 6_738_415_616 * tokens
    # at short context the exact count is below 6N (the input embedding table does no matmul)
    short = model.train_flops(cfg, tokens, 128)
    assert short < six
    emb = 32000 * 4096
    assert abs(short - 6 * (model.n_params(cfg) - emb) * tokens) / six < 0.01
    # at long context the attention term pushes it above
    assert model.train_flops(cfg, tokens, 32768) > 1.2 * six


def test_train_flops_causal_average_exact():
    cfg = preset("microgpt")
    T = 16
    f = model.forward_flops(cfg, 1)
    weights = f["attention projections"] + f["mlp"] + f["lm head"]
    exact = sum(3 * (weights + f["attention scores"] * t) for t in range(1, T + 1))  # one sequence
    assert model.train_flops(cfg, T, T) == exact


def test_train_memory_sixteen_bytes_per_parameter():
    cfg = preset("llama2-7b")
    mem = model.train_memory(cfg, 1, 1)
    N = model.n_params(cfg)
    assert mem["weights"] + mem["gradients"] + mem["optimizer"] == 16 * N
    fp32 = model.train_memory(cfg, 1, 1, "fp32")
    assert fp32["weights"] + fp32["gradients"] + fp32["optimizer"] == 16 * N  # 4 + 4 + 8, no master copy


def test_activation_bytes_by_hand():
    cfg = preset("gpt2-small")
    B, T = 2, 8
    per_layer = 6 * 768 + 2 * 768 + 12 * T + 2 * 3072
    assert model.activation_bytes(cfg, B, T, "bf16") == 2 * B * T * (12 * per_layer + 50257)
    sw = preset("llama2-70b")
    per_layer = 6 * 8192 + 2 * 1024 + 64 * T + 3 * 28672
    assert model.activation_bytes(sw, B, T, "fp32") == 4 * B * T * (80 * per_layer + 32000)


@pytest.mark.parametrize("name", ["microgpt", "gpt2-small", "llama2-7b"])
def test_max_batch_is_the_largest_that_fits(name):
    cfg, T, budget = preset(name), 512, 80e9
    b = model.max_batch(cfg, T, budget)
    if b > 0:
        assert sum(model.train_memory(cfg, b, T).values()) <= budget
    assert sum(model.train_memory(cfg, b + 1, T).values()) > budget


def test_seven_b_does_not_fit_full_but_fits_with_lora():
    cfg = preset("llama2-7b")
    assert model.max_batch(cfg, 4096) == 0  # 16 bytes x 6.7 B = 108 GB > 80 GB
    assert model.max_batch(cfg, 4096, lora_rank=8) >= 1


def test_lora_params_by_hand():
    cfg = preset("llama2-7b")
    assert model.lora_params(cfg, 8, ("q", "v")) == 32 * 2 * 8 * (4096 + 4096) == 4_194_304
    g = preset("llama2-70b")  # k and v are (8192, 1024) under grouped-query attention
    assert model.lora_params(g, 16, ("k",)) == 80 * 16 * (8192 + 1024)
    assert model.lora_params(cfg, 4, ("gate", "down")) == 32 * 4 * 2 * (4096 + 11008)
    with pytest.raises(ValueError, match="gate"):
        model.lora_params(preset("gpt2-small"), 4, ("gate",))


def test_config_validation():
    with pytest.raises(ValueError, match="n_kv_heads"):
        model.ModelConfig("x", 10, 64, 1, 8, 128, n_kv_heads=3)
    with pytest.raises(ValueError, match="mlp"):
        model.ModelConfig("x", 10, 64, 1, 8, 128, mlp="relu2")
    with pytest.raises(ValueError, match="preset"):
        model.preset("gpt5")


def test_param_bytes():
    cfg = preset("llama2-70b")
    assert model.param_bytes(cfg, "bf16") == 2 * 68_976_648_192
    assert model.param_bytes(cfg, "int8") == 68_976_648_192
    assert np.isclose(model.param_bytes(cfg, "bf16") / 1e9, 137.95, atol=0.01)
