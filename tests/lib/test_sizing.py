"""lib.sizing, the whole-model ledger, against published numbers and hand-computed cases."""

from dataclasses import replace

import numpy as np
import pytest

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
    assert model.n_params(preset("tiny-gpt")) == transformer.total_params(params)


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
    assert model.n_params(cfg) == transformer.total_params(params) == model.n_params(preset("microgpt")) + 3 * 16


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


def test_weight_bytes():
    cfg = preset("llama2-70b")
    assert model.weight_bytes(cfg, "bf16") == 2 * 68_976_648_192
    assert model.weight_bytes(cfg, "int8") == 68_976_648_192
    assert np.isclose(model.weight_bytes(cfg, "bf16") / model.GB, 137.95, atol=0.01)
    assert np.isclose(model.weight_bytes(cfg, "bf16") / model.GiB, 128.48, atol=0.01)


def test_max_batch_default_card_is_80_gib():
    cfg = preset("gpt2-small")
    assert model.max_batch(cfg, 1024) == model.max_batch(cfg, 1024, 80 * 2**30)


# ---------------------------------------------------------------- from_hf_config on the shipped configs
# Published totals: the sum of the tensors of the released safetensors checkpoint (the index's
# metadata.total_size divided by the bytes per element, or the single file's tensor count), which is
# also what transformers' num_parameters() prints; the Hub's model pages show them rounded.
PUBLISHED = {
    "gpt2": 124_439_808,  # openai-community/gpt2, num_parameters() (the paper's Table 2 says 117M for the same model)
    "llama-2-7b": 6_738_415_616,  # meta-llama/Llama-2-7b-hf, total_size 13,476,831,232 B in fp16
    "llama-2-70b": 68_976_648_192,  # meta-llama/Llama-2-70b-hf, total_size 137,953,296,384 B in fp16
    "llama-3.1-8b": 8_030_261_248,  # meta-llama/Llama-3.1-8B, total_size 16,060,522,496 B in bf16
    "llama-3.2-1b": 1_235_814_400,  # meta-llama/Llama-3.2-1B, model card "1.23B", safetensors 1,235,814,400
    "llama-3.2-3b": 3_212_749_824,  # meta-llama/Llama-3.2-3B, total_size 6,425,499,648 B in bf16
    "mistral-7b-v0.1": 7_241_732_096,  # mistralai/Mistral-7B-v0.1, total_size 14,483,464,192 B in bf16
    "mixtral-8x7b-v0.1": 46_702_792_704,  # mistralai/Mixtral-8x7B-v0.1, total_size 93,405,585,408 B in bf16
    "qwen2.5-0.5b": 494_032_768,  # Qwen/Qwen2.5-0.5B, model card "0.49B", safetensors 494,032,768
    "qwen2.5-7b": 7_615_616_512,  # Qwen/Qwen2.5-7B, total_size 15,231,233,024 B in bf16
    "qwen3-0.6b": 596_049_920,  # Qwen/Qwen3-0.6B, safetensors 596,049,920 (model card "0.6B")
    "qwen3-4b": 4_022_468_096,  # Qwen/Qwen3-4B, total_size 8,044,936,192 B in bf16
    "gemma-2-2b": 2_614_341_888,  # google/gemma-2-2b, total_size 10,457,367,552 B in fp32
    "gemma-3-1b": 999_885_952,  # google/gemma-3-1b-pt, safetensors 999,885,952
    "phi-3-mini-4k": 3_821_079_552,  # microsoft/Phi-3-mini-4k-instruct, total_size 7,642,159,104 B in bf16
}


def hf(name):
    return model.from_hf_config(model.shipped_config(name))


def test_at_least_ten_configs_are_shipped_and_each_has_a_published_count():
    assert len(model.shipped_configs()) >= 10
    assert set(model.shipped_configs()) == set(PUBLISHED)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_from_hf_config_reproduces_the_published_count(name):
    assert model.n_params(hf(name)) == PUBLISHED[name]
    assert model.model_ledger(hf(name)).total("parameter") == PUBLISHED[name]


def test_shipped_configs_agree_with_the_presets():
    for shipped, key in (("gpt2", "gpt2-small"), ("llama-2-7b", "llama2-7b"), ("llama-2-70b", "llama2-70b"),
                         ("mistral-7b-v0.1", "mistral-7b")):
        a, b = hf(shipped), preset(key)
        assert model.n_params(a) == model.n_params(b)
        assert model.kv_cache_bytes(a, 8192) == model.kv_cache_bytes(b, 8192)


def test_from_hf_config_takes_a_path_and_json_text(tmp_path):
    raw = model.shipped_config("qwen3-4b")
    path = tmp_path / "config.json"
    import json
    path.write_text(json.dumps(raw))
    assert model.n_params(model.from_hf_config(path)) == model.n_params(model.from_hf_config(str(path)))
    assert model.n_params(model.from_hf_config(json.dumps(raw))) == PUBLISHED["qwen3-4b"]
    assert model.from_hf_config(raw, name="mine").name == "mine"


def test_mixtral_total_and_active_by_hand():
    c = hf("mixtral-8x7b-v0.1")
    attn = 2 * 4096 * 4096 + 2 * 4096 * 1024
    expert = 3 * 4096 * 14336
    per_layer = attn + 8 * expert + 4096 * 8 + 2 * 4096  # 8 experts, a router (d, E), two norms
    assert model.n_params(c) == 32 * per_layer + 2 * 32000 * 4096 + 4096
    assert model.active_params(c) == model.n_params(c) - 32 * 6 * expert == 12_879_925_248  # 2 of 8 experts
    assert model.active_params(hf("llama-3.1-8b")) == PUBLISHED["llama-3.1-8b"]
    f = model.forward_flops(c, 1)
    assert f["mlp"] == 2 * 32 * (2 * expert + 4096 * 8)


# KV-cache bytes per token, by hand, one family at a time: 2 (K, V) x layers x KV heads x head_dim x 2 bytes
@pytest.mark.parametrize("name, per_token", [
    ("gpt2", 2 * 12 * 12 * 64 * 2),  # 36,864
    ("llama-2-7b", 2 * 32 * 32 * 128 * 2),  # 524,288: no GQA
    ("llama-3.1-8b", 2 * 32 * 8 * 128 * 2),  # 131,072: 8 KV heads
    ("llama-3.2-1b", 2 * 16 * 8 * 64 * 2),  # head_dim 64 = 2048 / 32
    ("mixtral-8x7b-v0.1", 2 * 32 * 8 * 128 * 2),  # the experts do not touch the cache
    ("qwen2.5-7b", 2 * 28 * 4 * 128 * 2),  # 57,344
    ("qwen3-4b", 2 * 36 * 8 * 128 * 2),  # head_dim 128, not d / h = 80
    ("gemma-2-2b", 2 * 26 * 4 * 256 * 2),  # head_dim 256
    ("gemma-3-1b", 2 * 26 * 1 * 256 * 2),  # one KV head
    ("phi-3-mini-4k", 2 * 32 * 32 * 96 * 2),  # no GQA, head_dim 3072 / 32
])
def test_kv_bytes_per_token_by_hand(name, per_token):
    assert model.kv_cache_bytes(hf(name), 1) == per_token


def test_sliding_windows_and_hybrid_layers_in_the_cache():
    g2 = hf("gemma-2-2b")  # 13 local layers (window 4,096) alternating with 13 global ones
    assert g2.layer_types[:4] == ("sliding", "full", "sliding", "full") and g2.n_sliding == 13
    per_layer_token = 2 * 4 * 256 * 2
    assert model.kv_cache_bytes(g2, 8192) == 13 * 8192 * per_layer_token + 13 * 4096 * per_layer_token
    assert model.kv_cache_bytes(g2, 8192, windows=False) == 26 * 8192 * per_layer_token
    g3 = hf("gemma-3-1b")  # 5 local (window 512) to 1 global: layers 6, 12, 18, 24 are global
    assert [i for i, t in enumerate(g3.layer_types) if t == "full"] == [5, 11, 17, 23]
    per = 2 * 1 * 256 * 2
    assert model.kv_cache_bytes(g3, 32768) == 4 * 32768 * per + 22 * 512 * per
    full = model.kv_cache_bytes(g3, 32768, windows=False)
    assert round(full / model.kv_cache_bytes(g3, 32768), 1) == 6.0  # hybrid counted as full: 6x too much at 32k
    m = hf("mistral-7b-v0.1")  # every layer slides over 4,096 keys
    assert model.kv_cache_bytes(m, 32768) == model.kv_cache_bytes(m, 4096) == 4096 * 131_072
    assert model.kv_cache_bytes(m, 100) == 100 * 131_072
    # the ledger's cache rows agree
    led = model.model_ledger(g2, T=8192)
    assert led.nbytes("KV cache (full layers)") + led.nbytes("KV cache (sliding layers)") == model.kv_cache_bytes(g2, 8192)
    # Qwen2.5 ships sliding_window = 32,768 but use_sliding_window = false: every layer is full
    assert hf("qwen2.5-0.5b").layer_types is None


def test_kv_dtype_of_the_config_is_used():
    c = model.with_changes(hf("llama-3.1-8b"), kv_dtype="int8")
    assert model.kv_cache_bytes(c, 10) == model.kv_cache_bytes(hf("llama-3.1-8b"), 10) // 2
    assert model.kv_cache_bytes(c, 10, dtype="bf16") == model.kv_cache_bytes(hf("llama-3.1-8b"), 10)
    assert model.inference_bytes(c, 10)["kv cache"] == model.kv_cache_bytes(c, 10)


def test_crossover_vs_mlp_with_windows():
    assert model.crossover_vs_mlp(hf("llama-2-7b")) == model.crossover_vs_mlp(preset("llama2-7b")) == 16512
    m = hf("mistral-7b-v0.1")  # scores capped at 4,096 keys: 4 h d_h W L < the MLP's FLOPs, never crosses
    assert model.crossover_vs_mlp(m) is None
    g2 = hf("gemma-2-2b")
    t = model.crossover_vs_mlp(g2)
    f = model.forward_flops
    assert f(g2, t - 1)["attention scores"] < f(g2, 1)["mlp"] <= f(g2, t)["attention scores"]


def test_prefill_flops_sum_the_causal_positions():
    for c in (preset("microgpt"), hf("gemma-3-1b")):
        T = 700 if c.n_sliding else 16
        f = model.forward_flops
        by_position = sum(sum(f(c, t).values()) for t in range(1, T + 1))
        assert model.prefill_flops(c, T) == by_position
        assert model.train_flops(c, 2 * T, T) == 3 * 2 * by_position


# planted mistakes in the mapping: each one must change the count away from the published one
@pytest.mark.parametrize("name, change, why", [
    ("qwen2.5-7b", dict(bias=()), "the q, k, v biases dropped"),
    ("qwen3-4b", dict(head_dim=None), "head_dim taken as d / h"),
    ("qwen3-4b", dict(qk_norm=False), "the q/k norms forgotten"),
    ("gemma-2-2b", dict(norms_per_block=2), "Gemma's extra norms forgotten"),
    ("gemma-2-2b", dict(tied=False), "a tied head counted twice"),
    ("llama-3.2-1b", dict(tied=False), "a tied head counted twice"),
    ("llama-3.1-8b", dict(n_kv_heads=None), "GQA ignored"),
    ("phi-3-mini-4k", dict(d_ff=2 * 8192), "a fused gate_up read as d_ff"),
])
def test_planted_mapping_mistakes_fail(name, change, why):
    assert model.n_params(model.with_changes(hf(name), **change)) != PUBLISHED[name], why


def test_planted_router_and_expert_mistakes_fail():
    c = hf("mixtral-8x7b-v0.1")
    no_router = model.n_params(c) - 32 * 4096 * 8
    assert no_router != PUBLISHED["mixtral-8x7b-v0.1"]
    assert model.n_params(model.with_changes(c, n_experts=1, top_k=1)) != PUBLISHED["mixtral-8x7b-v0.1"]
    raw = dict(model.shipped_config("mixtral-8x7b-v0.1"), model_type="mistral")
    with pytest.raises(ValueError, match="num_local_experts"):  # read as a dense Mistral, the experts are refused
        model.from_hf_config(raw)


def test_head_dim_as_d_over_h_is_the_qwen3_mistake():
    good, bad = hf("qwen3-4b"), model.with_changes(hf("qwen3-4b"), head_dim=None)
    assert good.head_dim == 128 and bad.head_dim == 80
    assert model.kv_cache_bytes(bad, 1) / model.kv_cache_bytes(good, 1) == 0.625


def test_keys_that_change_no_count_are_read_past():
    raw = dict(model.shipped_config("phi-3-mini-4k"), partial_rotary_factor=0.75, quantization_config={"bits": 4})
    assert model.n_params(model.from_hf_config(raw)) == PUBLISHED["phi-3-mini-4k"]


def test_unknown_families_and_unread_keys_are_refused():
    with pytest.raises(ValueError, match=r"model_type 'falcon'.*'hidden_size'"):
        model.from_hf_config({"model_type": "falcon", "hidden_size": 4544, "num_hidden_layers": 32})
    raw = dict(model.shipped_config("llama-3.1-8b"), moe_layers=[1, 3])
    with pytest.raises(ValueError, match=r"moe_layers"):
        model.from_hf_config(raw)
    with pytest.raises(ValueError, match="needs 'vocab_size'"):
        model.from_hf_config({"model_type": "llama", "num_hidden_layers": 2})
    with pytest.raises(TypeError, match="from_hf_config: config"):
        model.from_hf_config(42)
    with pytest.raises(ValueError, match="shipped_config: name"):
        model.shipped_config("gpt5")


def test_config_fields_validated():
    with pytest.raises(ValueError, match="divisible.*head_dim"):
        model.ModelConfig("x", 10, 2560, 1, 32 * 3, 128)
    assert model.ModelConfig("x", 10, 2560, 1, 96, 128, head_dim=8).head_dim == 8
    with pytest.raises(ValueError, match="top_k"):
        model.ModelConfig("x", 10, 64, 1, 8, 128, n_experts=2, top_k=3)
    with pytest.raises(ValueError, match="layer_types"):
        model.ModelConfig("x", 10, 64, 2, 8, 128, layer_types=("full",))
    with pytest.raises(TypeError, match="sliding_window"):
        model.ModelConfig("x", 10, 64, 2, 8, 128, layer_types=("full", "sliding"))
    with pytest.raises(TypeError, match="bias"):
        model.ModelConfig("x", 10, 64, 1, 8, 128, bias=("qq",))
    assert model.ModelConfig("x", 10, 64, 1, 8, 128, bias=("v", "q")).bias == ("q", "v")
    # a derived head_dim follows d and n_heads; an explicit one stays
    assert model.with_changes(preset("gpt2-small"), n_heads=6).head_dim == 128
    assert model.with_changes(hf("qwen3-4b"), n_heads=16).head_dim == 128


def test_fused_projections_count_as_separate_ones_but_adapt_as_one():
    phi = hf("phi-3-mini-4k")
    assert set(model.projection_shapes(phi)) == {"qkv", "o", "gate_up", "down"}
    unfused = model.with_changes(phi, fused=False)
    assert model.n_params(unfused) == model.n_params(phi)
    assert model.lora_params(phi, 8, ("qkv",)) == 32 * 8 * (3072 + 3 * 3072)
    assert model.lora_params(unfused, 8, ("q", "k", "v")) == 32 * 8 * 3 * (3072 + 3072)


# ---------------------------------------------------------------- time
def test_llama2_7b_training_implies_about_41_percent_mfu():
    c = preset("llama2-7b")
    flops = model.train_flops(c, 2 * 10**12, 4096)  # 2T tokens in sequences of 4,096
    assert round(flops / 1e22, 2) == 8.57
    assert round(model.implied_mfu(flops, 184_320, "A100-80GB"), 3) == 0.414
    six_n = model.training_flops(model.n_params(c), 2e12)
    assert round(model.implied_mfu(six_n, 184_320), 2) == 0.39
    hours = model.compute_time(flops, "A100-80GB", mfu=model.implied_mfu(flops, 184_320)) / 3600
    assert round(hours) == 184_320


def test_decode_time_is_bandwidth_bound_at_batch_1():
    c = preset("llama2-7b")
    t = model.decode_time(c, 1, 1, "H100-SXM")
    assert t["bytes"] == 2 * 6_738_415_616 + 524_288
    assert t["seconds"] == t["memory_s"] > 100 * t["compute_s"]
    assert round(t["seconds"] * 1e3, 2) == 4.02  # 13.5 GB at 3.35 TB/s: about 4 ms a token
    big = model.decode_time(c, 1, 512, "H100-SXM")
    assert big["compute_s"] > big["memory_s"]  # at batch 512 the step is compute-bound


def test_decode_time_of_a_mixture_reads_only_the_experts_it_reaches():
    c = hf("mixtral-8x7b-v0.1")
    one = model.decode_time(c, 1, 1)
    assert one["bytes"] == 2 * model.active_params(c) + model.kv_cache_bytes(c, 1)
    assert model.decode_time(c, 1, 4)["bytes"] == 2 * model.n_params(c) + model.kv_cache_bytes(c, 1, 4)


def test_time_inputs_are_checked():
    with pytest.raises(ValueError, match="accelerator"):
        model.decode_time(preset("gpt2-small"), 1, accelerator="TPU")
    with pytest.raises(ValueError, match="mfu"):
        model.compute_time(1e9, mfu=1.5)
    assert model.ACCELERATORS["A100-80GB"]["memory"] == 80 * 2**30 == 85_899_345_920


def test_qlora_four_bit_base():
    c = preset("llama2-7b")
    n, n_lora = model.n_params(c), model.lora_params(c, 8, ("q", "v"))
    q = model.train_memory(c, 1, 1, lora_rank=8, base_bits=4)
    assert q["weights"] == n // 2 + 2 * n_lora  # 4 bits a frozen weight, the adapter in bf16
    assert q["gradients"] == 2 * n_lora and q["optimizer"] == 12 * n_lora
    assert q["weights"] + q["gradients"] + q["optimizer"] == model.training_state_bytes(n + n_lora, n_lora) - 3 * n // 2
    with pytest.raises(ValueError, match="lora_rank"):
        model.train_memory(c, 1, 1, base_bits=4)
