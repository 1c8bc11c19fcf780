"""The one transformer: every config choice against finite differences, the KV cache, decoding,
FLOP counting, LoRA adapters on the params dict, training; and the numbers the chapters
`decoder-kv-cache` and `tiny-gpt` state in their prose."""

import cProfile
import pstats
from dataclasses import replace

import numpy as np
import pytest

from lib import attention, data, lora, nn, sizing, train
from lib import transformer as tf
from lib.gradcheck import check_gradients

MICRO = tf.MICROGPT
MPARAMS = tf.init_params(MICRO, seed=0)
SMALL = tf.Config(d=8, n_heads=2, n_layers=2, d_ff=12, block_size=6)
HAS_ROPE = hasattr(attention, "apply_rope")

# every choice of the config, each on top of the small two-block model
VARIANTS = {
    "layernorm-gelu": {},
    "rmsnorm": dict(norm="rms"),
    "relu": dict(mlp="relu"),
    "swiglu": dict(mlp="swiglu"),
    "grouped-query": dict(n_heads=4, n_kv_heads=2),
    "multi-query": dict(n_heads=4, n_kv_heads=1),
    "tied": dict(tied=True),
    "rope": dict(positions="rope"),
    "llama-like": dict(norm="rms", mlp="swiglu", positions="rope", n_heads=4, n_kv_heads=2),
}


def _cfg(name: str) -> tf.Config:
    if VARIANTS[name].get("positions") == "rope" and not HAS_ROPE:
        pytest.skip("lib.attention.apply_rope is not there yet (branch attention)")
    return replace(SMALL, **VARIANTS[name])


def _jittered(cfg, seed=1):
    """Parameters with non-trivial gains and biases (ones and zeros hide bugs)."""
    rng = np.random.default_rng(seed + 100)
    return {k: a + 0.2 * rng.standard_normal(a.shape) for k, a in tf.init_params(cfg, seed).items()}


def _batch(seed=0):
    return data.to_sequences(*data.digit_task("reverse", 4, 3, seed))  # (4, 6) each


# ---------------------------------------------------------------- config and parameters
def test_microgpt_sizes_and_count():
    assert (MICRO.vocab_size, MICRO.d, MICRO.n_heads, MICRO.head_dim, MICRO.d_ff) == (27, 16, 4, 4, 64)
    assert MPARAMS["wte"].shape == (27, 16) and MPARAMS["W_lm"].shape == (16, 27)
    assert MPARAMS["h0.W1"].shape == (16, 64) and MPARAMS["h0.W2"].shape == (64, 16)
    assert "h0.ln1_b" not in MPARAMS  # RMSNorm has no shift
    # 432 (wte) + 256 (wpe) + 4 x 256 + 2 x 1,024 + 2 x 16 (block) + 16 (final gain) + 432 (head)
    assert tf.total_params(MPARAMS) == 432 + 256 + 1024 + 2048 + 32 + 16 + 432 == 4240
    # lib.sizing's microgpt preset is Karpathy's microgpt, whose RMSNorm has no gain: 48 fewer
    assert sizing.n_params(sizing.preset("microgpt")) == 4240 - 3 * 16
    assert sizing.n_params(sizing.with_changes(sizing.preset("microgpt"), norm="rmsnorm")) == 4240


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_param_shapes_and_counts_agree_with_sizing(name):
    cfg = _cfg(name)
    params = tf.init_params(cfg, 0)
    assert {k: a.shape for k, a in params.items()} == tf.param_shapes(cfg)
    model = sizing.ModelConfig("m", vocab=cfg.vocab_size, d=cfg.d, n_layers=cfg.n_layers, n_heads=cfg.n_heads,
                               d_ff=cfg.d_ff, n_kv_heads=cfg.n_kv_heads, mlp=cfg.mlp, tied=cfg.tied,
                               norm="layernorm" if cfg.norm == "layer" else "rmsnorm", bias=False,
                               positions="learned" if cfg.positions == "learned" else "rotary",
                               max_len=cfg.block_size)
    assert tf.total_params(params) == sizing.n_params(model)


def test_tiny_gpt_preset_is_the_default_config():
    params = tf.init_params(tf.Config(block_size=10), seed=0)  # the chapter's n = 5
    assert tf.total_params(params) == sizing.n_params(sizing.preset("tiny-gpt")) == 9408


def test_init_is_seeded():
    again = tf.init_params(MICRO, seed=0)
    np.testing.assert_array_equal(again["h0.Wq"], MPARAMS["h0.Wq"])
    assert not np.allclose(tf.init_params(MICRO, seed=1)["wte"], MPARAMS["wte"])


@pytest.mark.parametrize("bad, match", [
    (dict(d=10, n_heads=3), "divisible"), (dict(vocab_size=0), "vocab_size"), (dict(norm="batch"), "norm"),
    (dict(mlp="tanh"), "mlp"), (dict(positions="alibi"), "positions"), (dict(n_heads=4, n_kv_heads=3), "multiple"),
    (dict(tied=1), "tied"), (dict(d=6, n_heads=2, positions="rope"), "even head width"),
])
def test_config_validation(bad, match):
    with pytest.raises((ValueError, TypeError), match=f"Config: .*{match}|{match}"):
        tf.Config(**bad)


# ---------------------------------------------------------------- the pieces in nn
def test_norms_hand_cases():
    x = np.array([[3.0, -4.0]])  # rms = sqrt((9 + 16) / 2) = sqrt(12.5)
    np.testing.assert_allclose(nn.rms_norm(x, np.ones(2), eps=1e-300)[0], x / np.sqrt(12.5))
    y, _ = nn.layer_norm(np.array([[1.0, 3.0]]), np.array([2.0, 1.0]), np.array([0.5, 0.0]), eps=1e-300)
    np.testing.assert_allclose(y, [[-1.5, 1.0]])  # (-1, 1) scaled by (2, 1), shifted by (0.5, 0)
    with pytest.raises(ValueError, match=r"rms_norm: g should have shape \(d,\) = \(2,\)"):
        nn.rms_norm(x, np.ones(3))


@pytest.mark.parametrize("kind", ["layer", "rms"])
def test_norm_backward_finite_differences(kind):
    rng = np.random.default_rng(0)
    x, g, b = rng.standard_normal((3, 4, 5)), rng.standard_normal(5), rng.standard_normal(5)
    C = rng.standard_normal((3, 4, 5))

    def f():
        return nn.layer_norm(x, g, b)[0] if kind == "layer" else nn.rms_norm(x, g)[0]
    _, cache = nn.layer_norm(x, g, b) if kind == "layer" else nn.rms_norm(x, g)
    dx, dg, db = nn.norm_backward(C, cache)
    params, grads = {"x": x, "g": g}, {"x": dx, "g": dg}
    if kind == "layer":
        params["b"], grads["b"] = b, db
    else:
        assert db is None
    report = check_gradients(lambda: float((C * f()).sum()), params, grads)
    assert report.ok, report


def test_gelu_and_silu():
    rng = np.random.default_rng(1)
    x, C = rng.standard_normal((4, 6)) * 2, rng.standard_normal((4, 6))
    report = check_gradients(lambda: float((C * nn.gelu(x)).sum()), {"x": x}, {"x": nn.gelu_backward(x, C)})
    assert report.ok, report
    assert nn.gelu(np.array([0.0]))[0] == 0.0
    np.testing.assert_allclose(nn.gelu(np.array([10.0, -10.0])), [10.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(nn.silu(np.array([0.0, np.log(3.0)])), [0.0, np.log(3.0) * 0.75])  # sigmoid(ln 3) = 3/4
    report = check_gradients(lambda: float((C * nn.silu(x)).sum()), {"x": x}, {"x": nn._silu_back(x, C)})
    assert report.ok, report


def test_sequence_loss_backward_and_masking():
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((2, 3, 5))
    targets = np.array([[-1, 2, 4], [0, -1, 1]])
    value, dlogits = nn.sequence_loss(logits, targets)
    report = check_gradients(lambda: nn.sequence_loss(logits, targets)[0], {"logits": logits}, {"logits": dlogits})
    assert report.ok, report
    assert np.all(dlogits[0, 0] == 0) and np.all(dlogits[1, 1] == 0)  # ignored positions get no gradient
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    assert np.isclose(value, -(logp[0, 1, 2] + logp[0, 2, 4] + logp[1, 0, 0] + logp[1, 2, 1]) / 4)
    with pytest.raises(ValueError, match="nothing to score"):
        nn.sequence_loss(logits, -np.ones((2, 3)))


def test_softmax_takes_masks_and_axis():
    np.testing.assert_array_equal(nn.softmax(np.array([0.0, -np.inf])), [1.0, 0.0])
    Z = np.array([[0.0, np.log(3.0)], [0.0, 0.0]])
    np.testing.assert_allclose(nn.softmax(Z, axis=0)[:, 1], [0.75, 0.25])
    assert attention.softmax is nn.softmax  # one softmax, re-exported where the attention chapter looks
    with pytest.raises(ValueError, match="entirely -inf"):
        nn.softmax(np.array([-np.inf, -np.inf]))


# ---------------------------------------------------------------- the whole model against finite differences
@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_backward_finite_differences_every_variant(name):
    cfg = _cfg(name)
    params = _jittered(cfg)
    tok, tgt = _batch()
    _, grads, _ = tf.loss_and_grads(params, tok, tgt, cfg)
    assert set(grads) == set(params)
    report = check_gradients(lambda: tf.loss(params, tok, tgt, cfg), params, grads)
    assert report.ok, report


@pytest.mark.parametrize("name", ["layernorm-gelu", "swiglu", "grouped-query", "tied", "llama-like"])
def test_lora_backward_finite_differences(name):
    cfg = _cfg(name)
    params = _jittered(cfg)
    targets = ("Wq", "Wk", "Wv", "Wo", "W1", "W2") + (("W3",) if cfg.mlp == "swiglu" else ())
    ad = lora.init_model_lora(params, 2, targets, seed=3)
    rng = np.random.default_rng(4)
    ad = {k: a + 0.3 * rng.standard_normal(a.shape) for k, a in ad.items()}  # B = 0 would hide dA bugs
    tok, tgt = _batch(1)
    _, _, lgrads = tf.loss_and_grads(params, tok, tgt, cfg, lora=ad, alpha=3.0)
    assert set(lgrads) == set(ad)
    report = check_gradients(lambda: tf.loss(params, tok, tgt, cfg, lora=ad, alpha=3.0), ad, lgrads)
    assert report.ok, report


def test_grouped_query_equals_multi_head_with_repeated_kv_weights():
    gqa = replace(SMALL, n_heads=4, n_kv_heads=2)
    params = tf.init_params(gqa, 0)
    mha = replace(gqa, n_kv_heads=None)
    full = dict(params)
    for i in range(gqa.n_layers):
        for w in ("Wk", "Wv"):  # every K/V head (width 2) serves 2 query heads: repeat its columns
            W = params[f"h{i}.{w}"].reshape(gqa.d, gqa.kv_heads, gqa.head_dim)
            full[f"h{i}.{w}"] = np.repeat(W, 2, axis=1).reshape(gqa.d, gqa.d)
    tok, _ = _batch()
    np.testing.assert_allclose(tf.forward(params, tok, gqa), tf.forward(full, tok, mha), atol=1e-12)


def test_tied_head_is_the_embedding():
    cfg = replace(SMALL, tied=True)
    params = tf.init_params(cfg, 0)
    assert "W_lm" not in params
    untied = dict(params, W_lm=params["wte"].T.copy())
    tok, _ = _batch()
    np.testing.assert_allclose(tf.forward(params, tok, cfg), tf.forward(untied, tok, replace(cfg, tied=False)))


def test_swiglu_block_by_hand():
    cfg = replace(SMALL, n_layers=1, mlp="swiglu")
    params = tf.init_params(cfg, 2)
    x = np.random.default_rng(0).standard_normal((1, 3, 8))
    out, acts = tf.block_forward(x, params, cfg)
    b = acts["a2"]
    hidden = (b @ params["h0.W1"]) / (1 + np.exp(-(b @ params["h0.W1"]))) * (b @ params["h0.W3"])
    np.testing.assert_allclose(acts["hidden"], hidden)
    np.testing.assert_allclose(out, acts["x_mid"] + hidden @ params["h0.W2"])


@pytest.mark.skipif(not HAS_ROPE, reason="lib.attention.apply_rope is not there yet (branch attention)")
def test_rope_scores_depend_only_on_relative_position():
    cfg = replace(SMALL, positions="rope", n_layers=1)
    params = tf.init_params(cfg, 0)
    assert "wpe" not in params
    x = np.random.default_rng(0).standard_normal((1, 1, 8)) * np.ones((1, 5, 1))  # the same token 5 times
    _, acts = tf.block_forward(x, params, cfg)
    S = acts["q"] @ np.swapaxes(acts["k"], -1, -2)  # (1, h, 5, 5): rotated q_i . k_j = q R(j - i) k
    np.testing.assert_allclose(S[..., 1:, 1:], S[..., :-1, :-1], atol=1e-12)  # constant along diagonals
    assert not np.allclose(S[0, 0, 0, 0], S[0, 0, 0, 1])


# ---------------------------------------------------------------- forward, cache, decoding
def test_forward_shapes_and_causality():
    tok = data.encode(".emma")
    logits = tf.forward(MPARAMS, tok, MICRO)
    assert logits.shape == (1, 5, 27)
    changed = tok.copy()
    changed[-1] = 7
    np.testing.assert_allclose(tf.forward(MPARAMS, changed, MICRO)[:, :-1], logits[:, :-1])  # the past never sees the future


@pytest.mark.parametrize("T", [1, 5])
def test_block_forward_is_the_block_forward_runs(rng, T):
    tok = rng.integers(0, 27, size=(2, T))
    x = MPARAMS["wte"][tok] + MPARAMS["wpe"][:T]
    out, acts = tf.block_forward(x, MPARAMS, MICRO)
    logits = nn.rms_norm(out, MPARAMS["lnf_g"])[0] @ MPARAMS["W_lm"]
    np.testing.assert_allclose(logits, tf.forward(MPARAMS, tok, MICRO))
    np.testing.assert_allclose(acts["hidden"], np.maximum(nn.rms_norm(acts["x_mid"], MPARAMS["h0.ln2_g"])[0]
                                                          @ MPARAMS["h0.W1"], 0))
    np.testing.assert_allclose(acts["A"], tf.attention_maps(MPARAMS, tok, MICRO)[0])


def test_block_and_backward_sources_are_code_without_checks():
    for src, first in ((tf.block_source(), "a, n1 = _norm(x"), (tf.backward_source(), "# MLP branch")):
        assert src.splitlines()[0].startswith(first)
        assert "def " not in src and "raise" not in src
    assert tf.block_source().splitlines()[-1].startswith("x2 = x1 + _lin(hidden")


@pytest.mark.parametrize("name", ["layernorm-gelu", "rmsnorm", "grouped-query", "rope", "llama-like"])
def test_cached_and_uncached_generation_agree(name):
    cfg = _cfg(name)
    params = _jittered(cfg, seed=5)
    prompt = np.array([[1, 2, 3], [4, 4, 0]])
    tok_c, log_c = tf.generate(params, prompt, 3, cfg, use_cache=True)
    tok_u, log_u = tf.generate(params, prompt, 3, cfg, use_cache=False)
    np.testing.assert_array_equal(tok_c, tok_u)
    assert tok_c.shape == (2, 6) and log_c.shape == (3, 2, cfg.vocab_size)
    np.testing.assert_allclose(log_c, log_u, atol=1e-12)
    caches = [{} for _ in range(cfg.n_layers)]  # token by token through the cache = one full pass
    full = tf.forward(params, tok_c, cfg)
    for t in range(tok_c.shape[1]):
        np.testing.assert_allclose(tf.forward(params, tok_c[:, t:t + 1], cfg, start=t, caches=caches)[:, 0],
                                   full[:, t], atol=1e-12)
    assert caches[0]["K"].shape == (2, cfg.kv_heads, 6, cfg.head_dim)  # only the K/V heads are cached


def test_sampling_is_seeded_and_sums_to_the_logits():
    a, la = tf.generate(MPARAMS, data.encode("."), 6, MICRO, rng=np.random.default_rng(4))
    b, lb = tf.generate(MPARAMS, data.encode("."), 6, MICRO, rng=np.random.default_rng(4), use_cache=False)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(la, lb, atol=1e-12)


def test_kv_cache_matches_sizing():
    caches = [{}]
    tf.forward(MPARAMS, data.encode(".abcde"), MICRO, caches=caches)
    stored = sum(c["K"].nbytes + c["V"].nbytes for c in caches)  # float64
    assert stored == sizing.kv_bytes(1, 4, 4, 6, 1, 8)


@pytest.mark.parametrize("split", [1, 3, 6])
def test_chunked_prefill_equals_one_pass(split):
    prompt = data.encode(".emmanue")
    one = tf.forward(MPARAMS, prompt, MICRO)
    caches = [{}]
    a = tf.forward(MPARAMS, prompt[:split], MICRO, caches=caches)
    b = tf.forward(MPARAMS, prompt[split:], MICRO, start=split, caches=caches)  # T_q < T_k: rectangular mask
    np.testing.assert_allclose(np.concatenate([a, b], axis=1), one, rtol=1e-12, atol=1e-12)


def test_cached_logits_equal_to_rounding_not_bitwise():
    """The chapter: same tokens, logits equal to rounding (about 1e-15), not bit for bit."""
    prompts = np.stack([data.encode(".em"), data.encode(".ol")])
    tok_c, log_c = tf.generate(MPARAMS, prompts, 12, MICRO, use_cache=True)
    tok_f, log_f = tf.generate(MPARAMS, prompts, 12, MICRO, use_cache=False)
    np.testing.assert_array_equal(tok_c, tok_f)
    assert 0 < np.abs(log_c - log_f).max() < 1e-14


@pytest.mark.parametrize("t", [1, 4, 16])
def test_step_function_cached_equals_uncached_and_does_not_grow(t):
    cached = tf.step_function(MPARAMS, MICRO, t, cached=True)
    first = cached()
    np.testing.assert_allclose(first, tf.step_function(MPARAMS, MICRO, t, cached=False)(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(cached(), first)  # the cache was copied, not grown


def test_a_decode_step_is_about_a_hundred_calls():
    """The chapter says a cached step is about a hundred small Python and NumPy calls (checks done once, outside)."""
    cfg = replace(MICRO, block_size=64)
    step = tf.step_function(tf.init_params(cfg, 1), cfg, 32, cached=True)
    profile = cProfile.Profile()
    profile.runcall(step)
    assert 60 <= pstats.Stats(profile).total_calls <= 160


# ---------------------------------------------------------------- FLOPs
def test_step_flops_hand_case():
    assert tf.step_flops(MICRO, 1, cached=True) == tf.step_flops(MICRO, 1, cached=False)
    # t = 4, cached, by hand: projections 4*2*16*16 = 2048, attention 2*2*4*16 = 256,
    # MLP 2*2*16*64 = 4096, LM head 2*16*27 = 864
    assert tf.step_flops(MICRO, 4, cached=True) == 2048 + 256 + 4096 + 864
    assert tf.step_flops(MICRO, 4, cached=False) == 4 * 2048 + 2 * 2 * 4 * 4 * 16 + 4 * 4096 + 4 * 864
    assert (tf.step_flops(MICRO, 9, cached=False), tf.step_flops(MICRO, 9, cached=True)) == (68256, 7584)


@pytest.mark.parametrize("name", ["rmsnorm", "swiglu", "grouped-query"])
@pytest.mark.parametrize("t", [1, 3, 6])
def test_step_flops_match_counted_matmuls(name, t):
    cfg = _cfg(name)
    params = tf.init_params(cfg, 0)
    tok = np.arange(t) % cfg.vocab_size
    with tf.count_flops() as full:
        tf.forward(params, tok, cfg)
    assert full[0] == tf.step_flops(cfg, t, cached=False)
    caches = [{} for _ in range(cfg.n_layers)]
    if t > 1:
        tf.forward(params, tok[:-1], cfg, caches=caches)
    with tf.count_flops() as step:
        tf.forward(params, tok[-1:], cfg, start=t - 1, caches=caches)
    assert step[0] == tf.step_flops(cfg, t, cached=True)


def test_layer_flops_equal_sizing_token_flops():
    cfg = replace(MICRO, d=32, n_heads=4, d_ff=96, block_size=20)
    for t in (1, 7, 20):
        assert sum(sizing.token_flops(32, 96, t).values()) == tf.layer_flops(cfg, 1, t)
    gqa = replace(cfg, n_kv_heads=2, mlp="swiglu")
    assert sum(sizing.token_flops(32, 96, 5, d_kv=16, mlp_matrices=3).values()) == tf.layer_flops(gqa, 1, 5)


# ---------------------------------------------------------------- data, training, LoRA
def test_lora_paper_letters_start_at_base_train_only_adapters_and_merge():
    cfg = tf.Config(d=16, n_heads=2, n_layers=1, d_ff=32, block_size=6)
    params = tf.init_params(cfg, 0)
    X, Y = data.digit_task("rotate", 200, 3, 0)
    tok, _ = data.to_sequences(X, Y)
    ad = lora.init_model_lora(params, 2, ("Wq", "Wk"), seed=1)
    assert ad["h0.Wq.A"].shape == (16, 2) and ad["h0.Wq.B"].shape == (2, 16)  # A (D_in, r) touches x
    assert all(np.all(ad[k] == 0) for k in ad if k.endswith(".B"))  # output-side factor zero
    assert all(np.any(ad[k] != 0) for k in ad if k.endswith(".A"))  # input-side factor random
    np.testing.assert_array_equal(tf.forward(params, tok, cfg, lora=ad, alpha=2.0), tf.forward(params, tok, cfg))
    before = {k: a.copy() for k, a in params.items()}
    train.train(params, X, Y, cfg, steps=20, batch=16, seed=0, lora=ad, alpha=2.0)
    assert all(np.array_equal(before[k], params[k]) for k in params)  # the base is frozen
    assert any(np.any(ad[k] != 0) for k in ad if k.endswith(".B"))
    merged = lora.merge_model_lora(params, ad, alpha=2.0)
    np.testing.assert_allclose(merged["h0.Wq"], params["h0.Wq"] + (2.0 / 2) * ad["h0.Wq.A"] @ ad["h0.Wq.B"])
    np.testing.assert_allclose(tf.forward(merged, tok, cfg), tf.forward(params, tok, cfg, lora=ad, alpha=2.0),
                               atol=1e-12)
    np.testing.assert_array_equal(train.solve(merged, X, cfg), train.solve(params, X, cfg, lora=ad, alpha=2.0))
    assert tf.total_params(ad) == 2 * sizing.lora_layer_params(16, 16, 2)


def test_model_lora_agrees_with_the_one_layer_lora():
    """The adapted projection inside the model is lora.lora_forward on its input rows."""
    X, W0 = np.random.default_rng(0).standard_normal((5, 8)), np.random.default_rng(1).standard_normal((8, 6))
    A, B = np.random.default_rng(2).standard_normal((8, 2)), np.random.default_rng(3).standard_normal((2, 6))
    np.testing.assert_allclose(tf._lin(X, W0, (A, B), 4.0 / 2), lora.lora_forward(X, W0, A, B, 4.0))
    np.testing.assert_allclose(lora.merge_model_lora({"h0.Wq": W0}, {"h0.Wq.A": A, "h0.Wq.B": B}, 4.0)["h0.Wq"],
                               lora.merge_lora(W0, A, B, 4.0))


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"forward: tokens must be integers in \[0, 27\)"):
        tf.forward(MPARAMS, [0, 27], MICRO)
    with pytest.raises(ValueError, match="block_size"):
        tf.forward(MPARAMS, np.zeros(17, int), MICRO)
    with pytest.raises(ValueError, match="block_size"):
        tf.forward(MPARAMS, np.zeros(3, int), MICRO, start=14, caches=[{}])
    with pytest.raises(TypeError, match="tokens is None"):
        tf.forward(MPARAMS, None, MICRO)
    with pytest.raises(ValueError, match="exceeds block_size"):
        tf.generate(MPARAMS, np.zeros(10, int), 10, MICRO)
    with pytest.raises(TypeError, match="cfg must be a transformer.Config"):
        tf.step_flops({"d": 16}, 3, cached=True)
    with pytest.raises(ValueError, match=r"params\['h0.Wq'\] should have shape"):
        tf.forward(dict(MPARAMS, **{"h0.Wq": np.ones((16, 8))}), [0, 1], MICRO)
    params = tf.init_params(SMALL)
    with pytest.raises(ValueError, match="forward: lora key"):
        tf.forward(params, [[1, 2]], SMALL, lora={"h0.Wq.A": np.ones((8, 2))})
    with pytest.raises(ValueError, match=r"forward: lora\['h0.Wq.B'\] should have shape \(2, 8\)"):
        tf.forward(params, [[1, 2]], SMALL, lora={"h0.Wq.A": np.ones((8, 2)), "h0.Wq.B": np.ones((8, 2))})
