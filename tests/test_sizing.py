"""lib.sizing, the whole-model ledger, against published numbers and hand-computed cases."""

import numpy as np
import pytest

from dataclasses import replace

from lib import ledger, transformer
from lib import sizing as model
from lib.ledger import roofline
from lib.sizing import preset


def test_gpt2_small_published_count():
    # GPT-2 small (124M): tied embeddings, LayerNorm with bias, biases everywhere
    assert model.n_params(preset("gpt2-small")) == 124_439_808


def test_llama2_7b_published_count():
    assert model.n_params(preset("llama2-7b")) == 6_738_415_616


def test_llama2_70b_published_count():
    assert model.n_params(preset("llama2-70b")) == 68_976_648_192


def test_mistral_7b_published_count():
    # Mistral-7B-v0.1's safetensors total; 8 KV heads of 128, MLP 14,336 wide
    assert model.n_params(preset("mistral-7b")) == 7_241_732_096


def test_tiny_gpt_preset_matches_its_arrays():
    params = transformer.init_params(transformer.Config(block_size=10), seed=0)  # the chapter's n = 5: T = 2n = 10
    assert model.n_params(preset("tiny-gpt")) == transformer.n_params(params)


def test_microgpt_count_by_hand():
    # the seed's table: Wq Wk Wv Wo 16x16, fc1 16x64, fc2 64x16, lm_head 16x27; plus wte (27, 16), wpe (16, 16)
    by_hand = 4 * 16 * 16 + 16 * 64 + 64 * 16 + 16 * 27 + 27 * 16 + 16 * 16
    assert by_hand == 4192
    assert model.n_params(preset("microgpt")) == by_hand
    assert preset("microgpt").mlp == "relu"  # microgpt.py's MLP is fc1, ReLU, fc2


def test_microgpt_count_matches_real_arrays():
    # lib.transformer.MICROGPT has microgpt's sizes plus three RMSNorm gains (two per block, one final)
    params = transformer.init_params(transformer.MICROGPT, seed=0)
    cfg = model.with_changes(preset("microgpt"), norm="rmsnorm")
    assert model.n_params(cfg) == transformer.n_params(params) == model.n_params(preset("microgpt")) + 3 * 16


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


def test_kv_bytes_by_hand_and_from_the_config():
    assert model.kv_bytes(32, 32, 128, 1) == 2 * 32 * 32 * 128 * 2 == 524_288  # Llama-2-7B, 0.5 MiB a token
    per_token = model.kv_bytes(80, 8, 128, 1)  # Llama-2-70B: 8 KV heads
    assert per_token == 327_680 and per_token / 2**20 == 0.3125
    assert model.kv_bytes(80, 64, 128, 1) == 8 * per_token
    assert model.kv_bytes(2, 3, 4, 5, 6, 1) == 2 * 2 * 3 * 4 * 5 * 6
    cfg = preset("llama2-7b")
    assert model.kv_cache_bytes(cfg, 100, 3, "fp16") == model.kv_bytes(32, 32, 128, 100, 3, 2)
    assert model.kv_cache_bytes(preset("mistral-7b"), 1) == model.kv_bytes(32, 8, 128, 1) == 131_072
    with pytest.raises(ValueError, match="kv_bytes: n_kv_heads"):
        model.kv_bytes(2, 0, 4, 5)
    with pytest.raises(TypeError, match="kv_cache_bytes: grouped"):
        model.kv_cache_bytes(cfg, 1, grouped="yes")


def test_token_flops_hand_case_and_agreement_with_layer_flops():
    parts = model.token_flops(16, 64, 10)
    assert parts == {"projections": 8 * 16 * 16, "attention": 4 * 10 * 16, "mlp": 4 * 16 * 64}
    cfg = replace(transformer.MICROGPT, d=32, n_heads=4, d_ff=96, block_size=20)
    for t in (1, 7, 20):
        assert sum(model.token_flops(32, 96, t).values()) == transformer.layer_flops(cfg, 1, t)
    gqa = model.token_flops(8, 20, 3, d_kv=2, mlp_matrices=3)
    assert gqa == {"projections": 2 * (2 * 64 + 2 * 16), "attention": 4 * 3 * 8, "mlp": 2 * 3 * 8 * 20}


@pytest.mark.parametrize("d, d_ff, d_kv, m, want", [
    (16, 64, None, 2, 96), (768, 3072, None, 2, 4608), (4096, 11008, None, 3, 24704), (8192, 28672, 1024, 3, 52224),
])
def test_crossover_vs_weights(d, d_ff, d_kv, m, want):
    t_star = model.crossover_vs_weights(d, d_ff, d_kv=d_kv, mlp_matrices=m)
    assert t_star == want
    parts = model.token_flops(d, d_ff, int(t_star), d_kv=d_kv, mlp_matrices=m)
    assert parts["attention"] == parts["projections"] + parts["mlp"]
    if d_kv is None and d_ff == 4 * d:
        assert t_star == 6 * d


def test_the_two_crossovers_of_gpt2_small_differ_and_say_why():
    cfg = preset("gpt2-small")
    assert model.crossover_vs_mlp(cfg) == 3072  # scores = MLP only
    assert model.crossover_vs_weights(768, 3072) == 4608  # scores = projections + MLP
    f = model.forward_flops(cfg, 4608)
    assert f["attention scores"] == f["attention projections"] + f["mlp"]


def test_decode_step_llama2_7b_and_roofline():
    w = model.n_params(preset("llama2-7b"))
    one = model.decode_step(w, 32, 4096, 4096, 4096)
    assert one["flops"] == one["bytes"] == 2 * w + 4 * 32 * 4096 * 4096 and one["intensity"] == 1.0
    assert one["kv_bytes"] == model.kv_bytes(32, 32, 128, 4096)
    assert round(one["bytes"] / 1e9, 1) == 15.6
    seconds = one["flops"] / (roofline(one["intensity"], 312_000, 2_000) * 1e9)
    assert round(seconds * 1e3, 2) == 7.81 and round(1 / seconds) == 128
    sixteen = model.decode_step(w, 32, 4096, 4096, 4096, batch=16)
    assert sixteen["weight_bytes"] == one["weight_bytes"] and round(sixteen["intensity"]) == 5
    sixty_four = model.decode_step(w, 32, 4096, 4096, 4096, batch=64)
    assert round(sixty_four["kv_bytes"] / sixty_four["weight_bytes"]) == 10


def test_lora_layer_params_by_hand():
    assert model.lora_layer_params(4096, 4096, 16) == 131_072 == 2 * 4096 * 16
    assert model.lora_layer_params(768, 3072, 8) == 768 * 8 + 8 * 3072 == 30_720
    with pytest.raises(ValueError, match="lora_layer_params: r"):
        model.lora_layer_params(10, 10, 0)


def test_training_state_bytes_by_hand():
    n = 6_738_415_616
    assert (model.FROZEN_BYTES, model.TRAINED_BYTES) == (2, 16)
    assert model.training_state_bytes(n, n) == 16 * n == 107_814_649_856
    assert model.training_state_bytes(n, 4_194_304) == 2 * (n - 4_194_304) + 16 * 4_194_304 == 13_535_551_488
    with pytest.raises(ValueError, match="n_trained"):
        model.training_state_bytes(10, 11)
    # the same 16 bytes as train_memory's weights + gradients + optimizer in bf16
    mem = model.train_memory(preset("llama2-7b"), 1, 1)
    assert mem["weights"] + mem["gradients"] + mem["optimizer"] == model.training_state_bytes(n, n)


def test_training_flops_six_n_d():
    assert model.training_flops(124e6, 10e9) == pytest.approx(7.44e18)
    # per layer: 6 * params * rows equals linear_flops(backward=True) without the bias
    assert model.training_flops(128 * 64, 32) == ledger.linear_flops(32, 128, 64, backward=True)


def test_training_memory_by_hand():
    m = model.training_memory(1000, 500)  # fp32 Adam: 4 + 4 + 8 bytes per parameter
    assert (m.weights, m.gradients, m.optimizer_state, m.activations, m.total) == (4000, 4000, 8000, 500, 16500)
    assert m.bytes_per_param == 16
    mixed = model.training_memory(1000, dtype="bf16")  # 2 + 2 + (4 master + 8 moments)
    assert (mixed.weights, mixed.gradients, mixed.optimizer_state) == (2000, 2000, 12000)
    assert model.training_memory(1000, optimizer="sgd").total == 8000
    assert model.training_memory(1000, optimizer="momentum").optimizer_state == 4000
    assert "optimizer state (adam)" in str(m)
    with pytest.raises(ValueError, match="training_memory: optimizer"):
        model.training_memory(10, optimizer="lion")
    with pytest.raises(ValueError, match="training_memory: activation_bytes"):
        model.training_memory(10, -1)


def test_forward_flops_by_hand():
    cfg = preset("gpt2-small")
    f = model.forward_flops(cfg, 1024)
    assert f["attention projections"] == 2 * 12 * 4 * 768 * 768
    assert f["mlp"] == 2 * 12 * 2 * 768 * 3072
    assert f["attention scores"] == 4 * 12 * 768 * 1024
    assert f["lm head"] == 2 * 768 * 50257
    # attention overtakes the MLP at T = d_ff for a GELU MLP, 1.5 d_ff for SwiGLU with MHA
    assert model.crossover_vs_mlp(cfg) == 3072
    assert model.crossover_vs_mlp(preset("llama2-7b")) == 16512
    assert model.forward_flops(cfg, 3071)["attention scores"] < f["mlp"] <= model.forward_flops(cfg, 3072)["attention scores"]


def test_forward_flops_equal_counted_matmuls():
    # lib.transformer counts the FLOPs of every matmul it does; one cached step at context t matches
    dcfg = transformer.MICROGPT
    cfg = preset("microgpt")
    for t in (1, 5, 16):
        assert sum(model.forward_flops(cfg, t).values()) == transformer.step_flops(dcfg, t, cached=True)


def test_six_n_rule_and_where_it_is_off():
    cfg = preset("llama2-7b")
    tokens = 2_000_000_000_000
    six = model.training_flops(model.n_params(cfg), tokens)
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
    assert model.max_batch(cfg, 4096) == 0  # 16 bytes x 6.7 B = 108 GB > 80 GiB = 85.9 GB
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
    assert model.ModelConfig("x", 10, 64, 1, 8, 128, mlp="relu").mlp == "relu"
    with pytest.raises(ValueError, match="preset"):
        model.preset("gpt5")


def test_param_bytes():
    cfg = preset("llama2-70b")
    assert model.param_bytes(cfg, "bf16") == 2 * 68_976_648_192
    assert model.param_bytes(cfg, "int8") == 68_976_648_192
    assert np.isclose(model.param_bytes(cfg, "bf16") / model.GB, 137.95, atol=0.01)
    assert np.isclose(model.param_bytes(cfg, "bf16") / model.GiB, 128.48, atol=0.01)


def test_max_batch_default_card_is_80_gib():
    cfg = preset("gpt2-small")
    assert model.max_batch(cfg, 1024) == model.max_batch(cfg, 1024, 80 * 2**30)
