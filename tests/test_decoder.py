import numpy as np
import pytest

from lib import decoder

CFG = decoder.Config()
PARAMS = decoder.init_params(CFG, seed=0)


def test_config_defaults_are_microgpt():
    assert (CFG.vocab_size, CFG.d, CFG.n_heads, CFG.d_k, CFG.d_ff) == (27, 16, 4, 4, 64)
    assert PARAMS["wte"].shape == (27, 16) and PARAMS["W_lm"].shape == (16, 27)
    assert PARAMS["layers"][0]["W1"].shape == (16, 64) and PARAMS["layers"][0]["W2"].shape == (64, 16)


def test_init_is_seeded():
    again = decoder.init_params(CFG, seed=0)
    np.testing.assert_array_equal(again["layers"][0]["Wq"], PARAMS["layers"][0]["Wq"])
    other = decoder.init_params(CFG, seed=1)
    assert not np.allclose(other["wte"], PARAMS["wte"])


def test_rms_norm_and_layer_norm_hand_cases():
    x = np.array([[3.0, -4.0]])  # rms = sqrt((9 + 16) / 2) = sqrt(12.5)
    np.testing.assert_allclose(decoder.rms_norm(x, np.ones(2), eps=0.0), x / np.sqrt(12.5))
    y = decoder.layer_norm(np.array([[1.0, 3.0]]), np.array([2.0, 2.0]), np.array([0.5, 0.5]), eps=0.0)
    np.testing.assert_allclose(y, [[-1.5, 2.5]])  # (x - 2) / 1 * 2 + 0.5
    with pytest.raises(ValueError, match=r"g should have shape \(d,\) = \(2,\)"):
        decoder.rms_norm(x, np.ones(3))


def test_forward_shapes_and_causality():
    tok = decoder.encode(".emma")
    logits = decoder.forward(PARAMS, tok, CFG)
    assert logits.shape == (1, 5, 27)
    changed = tok.copy()
    changed[-1] = 7
    logits2 = decoder.forward(PARAMS, changed, CFG)
    np.testing.assert_allclose(logits2[:, :-1], logits[:, :-1])  # the past never sees the future


@pytest.mark.parametrize("n_layers", [1, 2])
def test_cached_and_uncached_generation_agree(n_layers):
    cfg = decoder.Config(n_layers=n_layers)
    params = decoder.init_params(cfg, seed=3)
    prompt = np.array([[0, 5, 13], [0, 1, 2]])  # batch of 2
    tok_c, log_c = decoder.generate(params, prompt, 8, cfg, use_cache=True)
    tok_u, log_u = decoder.generate(params, prompt, 8, cfg, use_cache=False)
    np.testing.assert_array_equal(tok_c, tok_u)
    assert log_c.shape == (8, 2, 27)
    np.testing.assert_allclose(log_c, log_u, atol=1e-12)


def test_sampling_is_seeded():
    a, _ = decoder.generate(PARAMS, decoder.encode("."), 6, CFG, rng=np.random.default_rng(4))
    b, _ = decoder.generate(PARAMS, decoder.encode("."), 6, CFG, rng=np.random.default_rng(4), use_cache=False)
    np.testing.assert_array_equal(a, b)


def test_kv_cache_bytes_llama2_7b():
    per_token = decoder.kv_cache_bytes(32, 32, 128, 1, 1, 2)
    assert per_token == 524_288 == 2**19  # 0.5 MiB
    assert decoder.kv_cache_bytes(32, 32, 128, 4096, 1, 2) == 2 * 2**30  # 2 GiB
    assert decoder.kv_cache_bytes(1, 4, 4, 16, 1, 4) == 2 * 1 * 4 * 4 * 16 * 4  # tiny model, fp32: 2,048 B


def test_kv_cache_bytes_matches_cache_arrays():
    caches = [{}]
    decoder.forward(PARAMS, decoder.encode(".abcde"), CFG, caches=caches)
    stored = sum(c["K"].nbytes + c["V"].nbytes for c in caches)  # float64
    assert stored == decoder.kv_cache_bytes(1, 4, 4, 6, 1, 8)


def test_step_flops_hand_case():
    # t = 1: cached and uncached do the same work
    assert decoder.step_flops(CFG, 1, cached=True) == decoder.step_flops(CFG, 1, cached=False)
    # t = 4, cached, by hand: projections 4*2*16*16 = 2048, attention 2*2*4*16 = 256,
    # MLP 2*2*16*64 = 4096, LM head 2*16*27 = 864
    assert decoder.step_flops(CFG, 4, cached=True) == 2048 + 256 + 4096 + 864
    # uncached: everything for 4 rows, attention 2*2*4*4*16
    assert decoder.step_flops(CFG, 4, cached=False) == 4 * 2048 + 2 * 2 * 4 * 4 * 16 + 4 * 4096 + 4 * 864


@pytest.mark.parametrize("t", [1, 3, 9])
def test_step_flops_match_counted_matmuls(t):
    tok = np.arange(t) % 27
    with decoder.count_flops() as full:
        decoder.forward(PARAMS, tok, CFG)
    assert full[0] == decoder.step_flops(CFG, t, cached=False)
    caches = [{}]
    if t > 1:
        decoder.forward(PARAMS, tok[:-1], CFG, caches=caches)
    with decoder.count_flops() as step:
        decoder.forward(PARAMS, tok[-1:], CFG, start=t - 1, caches=caches)
    assert step[0] == decoder.step_flops(CFG, t, cached=True)


def test_encode_decode_roundtrip():
    assert decoder.decode(decoder.encode(".anna.")) == ".anna."
    with pytest.raises(ValueError, match="not in the vocabulary"):
        decoder.encode("Anna")


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"tokens must be integers in \[0, 27\)"):
        decoder.forward(PARAMS, [0, 27], CFG)
    with pytest.raises(ValueError, match="block_size"):
        decoder.forward(PARAMS, np.zeros(17, int), CFG)
    with pytest.raises(TypeError, match="tokens is None"):
        decoder.forward(PARAMS, None, CFG)
    with pytest.raises(ValueError, match="exceeds block_size"):
        decoder.generate(PARAMS, np.zeros(10, int), 10, CFG)
    with pytest.raises(TypeError, match="n_layers must be a positive integer"):
        decoder.kv_cache_bytes("32", 32, 128, 1)
    with pytest.raises(ValueError, match="seq_len must be a positive integer"):
        decoder.kv_cache_bytes(32, 32, 128, 0)
    with pytest.raises(ValueError, match="divisible by n_heads"):
        decoder.init_params(decoder.Config(d=10, n_heads=4))
    with pytest.raises(TypeError, match="config must be a decoder.Config"):
        decoder.step_flops({"d": 16}, 3, cached=True)
