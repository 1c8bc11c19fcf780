"""The tiny GPT: every backward piece and the whole model against finite differences, training,
cached decoding, LoRA."""

import numpy as np
import pytest

from lib import gpt, sizing
from lib.gradcheck import check_gradients

SMALL = gpt.GPTConfig(d=8, n_heads=2, n_layers=2, d_ff=12, block_size=6)


def _jittered(cfg, seed=1):
    """Parameters with non-trivial gains and biases (ones and zeros hide bugs)."""
    rng = np.random.default_rng(seed + 100)
    return {k: a + 0.2 * rng.standard_normal(a.shape) for k, a in gpt.init_params(cfg, seed).items()}


def test_layer_norm_backward_finite_differences():
    rng = np.random.default_rng(0)
    x, g, b = rng.standard_normal((3, 4, 5)), rng.standard_normal(5), rng.standard_normal(5)
    C = rng.standard_normal((3, 4, 5))
    y, cache = gpt.layer_norm(x, g, b)
    dx, dg, db = gpt.layer_norm_backward(C, cache)
    report = check_gradients(lambda: float((C * gpt.layer_norm(x, g, b)[0]).sum()), {"x": x, "g": g, "b": b},
                             {"x": dx, "g": dg, "b": db})
    assert report.ok, report


def test_layer_norm_hand_case():
    y, _ = gpt.layer_norm(np.array([[1.0, 3.0]]), np.array([2.0, 1.0]), np.array([0.5, 0.0]), eps=0.0)
    np.testing.assert_allclose(y, [[-1.5, 1.0]])  # (-1, 1) scaled by (2, 1), shifted by (0.5, 0)


def test_gelu_backward_finite_differences_and_values():
    rng = np.random.default_rng(1)
    x, C = rng.standard_normal((4, 6)) * 2, rng.standard_normal((4, 6))
    report = check_gradients(lambda: float((C * gpt.gelu(x)).sum()), {"x": x}, {"x": gpt.gelu_backward(x, C)})
    assert report.ok, report
    assert gpt.gelu(np.array([0.0]))[0] == 0.0
    np.testing.assert_allclose(gpt.gelu(np.array([10.0, -10.0])), [10.0, 0.0], atol=1e-12)


def test_sequence_loss_backward_and_masking():
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((2, 3, 5))
    targets = np.array([[-1, 2, 4], [0, -1, 1]])
    loss, dlogits = gpt.sequence_loss(logits, targets)
    report = check_gradients(lambda: gpt.sequence_loss(logits, targets)[0], {"logits": logits}, {"logits": dlogits})
    assert report.ok, report
    assert np.all(dlogits[0, 0] == 0) and np.all(dlogits[1, 1] == 0)  # ignored positions get no gradient
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    by_hand = -(logp[0, 1, 2] + logp[0, 2, 4] + logp[1, 0, 0] + logp[1, 2, 1]) / 4
    assert np.isclose(loss, by_hand)


def test_whole_model_backward_finite_differences():
    params = _jittered(SMALL)
    X, Y = gpt.make_task("reverse", 4, 3, 0)
    tok, tgt = gpt.to_sequences(X, Y)
    _, grads, _ = gpt.loss_and_grads(params, tok, tgt, SMALL)
    report = check_gradients(lambda: gpt.loss(params, tok, tgt, SMALL), params, grads)
    assert report.ok, report
    assert len(report.rows) == len(gpt.param_shapes(SMALL)) == 2 + 10 * 2 + 3


def test_lora_backward_finite_differences():
    params = _jittered(SMALL)
    lora = gpt.init_lora(params, SMALL, 2, ("Wq", "Wv", "Wo", "W1", "W2"), seed=3)
    rng = np.random.default_rng(4)
    lora = {k: a + 0.3 * rng.standard_normal(a.shape) for k, a in lora.items()}  # A = 0 would hide dB bugs
    X, Y = gpt.make_task("rotate", 3, 3, 1)
    tok, tgt = gpt.to_sequences(X, Y)
    _, _, lgrads = gpt.loss_and_grads(params, tok, tgt, SMALL, lora=lora, alpha=3.0)
    report = check_gradients(lambda: gpt.loss(params, tok, tgt, SMALL, lora=lora, alpha=3.0), lora, lgrads)
    assert report.ok, report


def test_to_sequences_layout():
    tok, tgt = gpt.to_sequences(np.array([[1, 2, 3]]), np.array([[3, 2, 1]]))
    np.testing.assert_array_equal(tok, [[1, 2, 3, gpt.SEP, 3, 2]])
    np.testing.assert_array_equal(tgt, [[-1, -1, -1, 3, 2, 1]])


def test_tasks():
    X, Y = gpt.make_task("reverse", 50, 4, 0)
    np.testing.assert_array_equal(Y, X[:, ::-1])
    Xr, Yr = gpt.make_task("rotate", 50, 4, 0)
    np.testing.assert_array_equal(Yr[:, :3], Xr[:, 1:])
    np.testing.assert_array_equal(Yr[:, 3], Xr[:, 0])
    held = gpt.make_task("reverse", 50, 4, 1, exclude=X)[0]
    assert not {tuple(r) for r in held} & {tuple(r) for r in X}
    assert len({tuple(r) for r in X}) == 50


def test_cached_and_uncached_decoding_agree():
    params = _jittered(SMALL, seed=5)
    prompt = np.array([[1, 2, 3], [4, 4, 0]])
    a = gpt.generate(params, prompt, 3, SMALL, use_cache=True)
    b = gpt.generate(params, prompt, 3, SMALL, use_cache=False)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (2, 6)
    # the cached logits equal the full forward pass's, position by position
    kv = [{} for _ in range(SMALL.n_layers)]
    full = gpt.forward(params, a, SMALL)
    for t in range(a.shape[1]):
        step = gpt._forward(params, a[:, t:t + 1], SMALL, kv=kv, start=t)[0][:, 0]
        np.testing.assert_allclose(step, full[:, t], atol=1e-12)
    assert kv[0]["K"].size + kv[0]["V"].size == gpt.kv_cache_elements(SMALL, 6, 2) // SMALL.n_layers


def test_training_learns_reversal_and_is_deterministic():
    cfg = gpt.GPTConfig(d=32, n_heads=2, n_layers=1, d_ff=64, block_size=8)
    X, Y = gpt.make_task("reverse", 1000, 4, 0)
    Xt, Yt = gpt.make_task("reverse", 200, 4, 1, exclude=X)
    params = gpt.init_params(cfg, 0)
    losses = gpt.train(params, X, Y, cfg, steps=150, batch=32, lr=0.01, seed=0)
    assert np.mean(losses[-10:]) < 0.1 * losses[0]
    digit_acc, seq_acc = gpt.accuracy(params, Xt, Yt, cfg)
    assert digit_acc > 0.8 and seq_acc > 0.5  # chance: 0.1 and 0.0001
    again = gpt.init_params(cfg, 0)
    assert gpt.train(again, X, Y, cfg, steps=150, batch=32, lr=0.01, seed=0) == losses


def test_lora_starts_at_base_trains_only_adapters_and_merges():
    cfg = gpt.GPTConfig(d=16, n_heads=2, n_layers=1, d_ff=32, block_size=6)
    params = gpt.init_params(cfg, 0)
    X, Y = gpt.make_task("rotate", 200, 3, 0)
    tok, _ = gpt.to_sequences(X, Y)
    lora = gpt.init_lora(params, cfg, 2, ("Wq", "Wk"), seed=1)
    assert all(np.all(lora[k] == 0) for k in lora if k.endswith(".A"))  # output-side factor zero
    assert all(np.any(lora[k] != 0) for k in lora if k.endswith(".B"))  # input-side factor random
    np.testing.assert_array_equal(gpt.forward(params, tok, cfg, lora=lora, alpha=2.0), gpt.forward(params, tok, cfg))
    before = {k: a.copy() for k, a in params.items()}
    gpt.train(params, X, Y, cfg, steps=20, batch=16, seed=0, lora=lora, alpha=2.0)
    assert all(np.array_equal(before[k], params[k]) for k in params)  # the base is frozen
    assert any(np.any(lora[k] != 0) for k in lora if k.endswith(".A"))
    merged = gpt.merge_lora(params, lora, alpha=2.0)
    np.testing.assert_allclose(gpt.forward(merged, tok, cfg), gpt.forward(params, tok, cfg, lora=lora, alpha=2.0),
                               atol=1e-12)
    np.testing.assert_array_equal(gpt.solve(merged, X, cfg), gpt.solve(params, X, cfg, lora=lora, alpha=2.0))
    assert gpt.n_params(lora) == 2 * (2 * (16 + 16))


def test_count_matches_the_model_ledger():
    cfg = gpt.GPTConfig()
    params = gpt.init_params(cfg)
    led = sizing.ModelConfig("tiny", vocab=cfg.vocab, d=cfg.d, n_layers=cfg.n_layers, n_heads=cfg.n_heads,
                            d_ff=cfg.d_ff, norm="layernorm", bias=False, max_len=cfg.block_size)
    assert gpt.n_params(params) == sizing.n_params(led)
    kv = [{} for _ in range(cfg.n_layers)]
    gpt._forward(params, np.zeros((3, 7), dtype=np.int64), cfg, kv=kv)
    assert sum(c["K"].nbytes + c["V"].nbytes for c in kv) == sizing.kv_cache_bytes(led, 7, 3, "fp64")


def test_adam_update_by_hand():
    p, g = np.array([1.0, -2.0]), np.array([0.5, -0.1])
    p1, m, v = gpt.adam_update(p, g, np.zeros(2), np.zeros(2), 1, lr=0.1)
    np.testing.assert_allclose(p1, [0.9, -1.9], atol=1e-6)  # first step: lr * sign(g)
    np.testing.assert_allclose(m, 0.1 * g)
    np.testing.assert_allclose(v, 0.01 * g * g)
    p2, _, _ = gpt.adam_update(p1, g, m, v, 2, lr=0.1)
    np.testing.assert_allclose(p2, [0.8, -1.8], atol=1e-6)  # a constant gradient: lr * sign(g) again


@pytest.mark.parametrize("bad", [dict(d=10, n_heads=3), dict(vocab=0)])
def test_config_validation(bad):
    with pytest.raises((ValueError, TypeError), match="GPTConfig"):
        gpt.GPTConfig(**bad)


def test_bad_lora_keys():
    params = gpt.init_params(SMALL)
    with pytest.raises(ValueError, match="lora"):
        gpt.forward(params, [[1, 2]], SMALL, lora={"h0.Wq.B": np.ones((8, 2))})
