"""Checkers of the chapter model-ledger: right answers in several forms, every named bug."""

import math

import numpy as np
import pytest

from lib import sizing
from lib.exercises.model_ledger import ex1, ex2, ex3, ex4, ex5, ex6


def _raises(*_args):
    raise RuntimeError("boom")


GARBAGE = [None, "abc", 42, _raises, lambda *a: None, lambda *a: "abc", lambda *a: np.nan]


def test_labels_name_the_exercises():
    labels = [ex.label for ex in (ex1, ex2, ex3, ex4, ex5, ex6)]
    assert labels == ["model-ledger-gpt2-block", "model-ledger-kv-cache", "model-ledger-largest-batch",
                      "model-ledger-lora-70b", "model-ledger-calculator-kv", "model-ledger-hybrid-cache"]
    for ex, old in ((ex1, "ex1"), (ex2, "ex2"), (ex3, "ex3"), (ex4, "ex4")):  # kept exercises keep their old label
        if hasattr(ex, "formerly"):
            assert ex.formerly == f"model-ledger-{old}"


@pytest.mark.parametrize("ex", [ex1, ex2, ex3, ex4, ex5, ex6])
def test_placeholder_and_garbage(ex):
    assert ex.check(...).status == "not attempted"
    for bad in GARBAGE:
        result = ex.check(bad)
        assert not result.ok and result.status in ("incorrect", "error") and result.message
    assert ex.hint().text and ex.hint(99).text and ex.solution().code


# ---------------------------------------------------------------- ex1: a GPT-2 block
def _block_loop(d, d_ff):
    total = 0
    for D_in, D_out in ((d, d), (d, d), (d, d), (d, d), (d, d_ff), (d_ff, d)):  # six linears with biases
        total += D_in * D_out + D_out
    return total + 2 * 2 * d


@pytest.mark.parametrize("fn", [
    lambda d, d_ff: 4 * (d * d + d) + (2 * d * d_ff + d_ff + d) + 4 * d,
    _block_loop,
    lambda d, d_ff: 4 * d * d + 2 * d * d_ff + 9 * d + d_ff,          # expanded
    lambda d, d_ff: np.float32(4 * d * d + 2 * d * d_ff + 9 * d + d_ff),  # a float32 number
    lambda d, d_ff: float(4 * d * d + 2 * d * d_ff + 9 * d + d_ff),
])
def test_ex1_correct(fn):
    assert ex1.check(fn).ok, ex1.check(fn)


@pytest.mark.parametrize("fn, keyword", [
    (lambda d, F: 4 * d * d + 2 * d * F + 4 * d, "biases"),
    (lambda d, F: 4 * (d * d + d) + (2 * d * F + F + d), "left out the two LayerNorms"),
    (lambda d, F: 4 * (d * d + d) + (2 * d * F + F + d) + 2 * d, "4d"),
    (lambda d, F: 4 * (d * d + d) + (2 * d * d + F + d) + 4 * d, "d * d_ff"),
    (lambda d, F: (d * d + d) + (2 * d * F + F + d) + 4 * d, "one attention matrix"),
    (lambda d, F: 3 * (d * d + d) + (2 * d * F + F + d) + 4 * d, "output projection"),
    (lambda d, F: 4 * (d * d + d) + (d * F + F) + 4 * d, "one of the MLP"),
    (lambda d, F: 4 * (d * d + d) + (2 * d * 4 * d + 4 * d + d) + 4 * d, "4 * d"),
    (lambda d, F: 7_087_872, "whatever the sizes"),  # hard-coded GPT-2 small: wrong on the other sizes, and named
    (lambda d, F: 4 * (d * d + d) + (2 * d * F + F + d) + 4 * d + 0.5, "whole number"),
    (lambda d, F: 4 * (d * d + d) + (2 * d * F + F + d) + 4 * d + 1, "not right"),
    (lambda d, F: 4 * (d * d + d) + 2 * d * F + 4 * d, "MLP's two biases"),
    (lambda d, F: 4 * d * d + (2 * d * F + F + d) + 4 * d, "attention biases"),
    (lambda d, F: 4 * (d * d + d) + (2 * d * F + F + d) + d, "you counted d"),  # one gain for both norms
    (lambda d, F: 4 * d * d + 3 * d * F + 2 * d, "Llama-style"),  # the chapter's Llama block, re-typed
    (lambda d, F: 4 * (d * d + d) + (2 * d * F + d + d) + 4 * d, "d_ff entries"),  # first MLP bias of d
    (lambda d, F: 4 * (d * d + d) + (2 * d * F + F + d) + 6 * d, "final LayerNorm"),
])
def test_ex1_bugs(fn, keyword):
    result = ex1.check(fn)
    assert result.status == "incorrect" and keyword in result.message, result


# ---------------------------------------------------------------- ex2: a KV cache
def _kv_loop(L, h, h_kv, d_h, T, B, nb):
    total = 0
    for _ in range(L):
        for _ in ("K", "V"):
            total += B * T * h_kv * d_h * nb
    return total


@pytest.mark.parametrize("fn", [
    lambda L, h, h_kv, d_h, T, B, nb: 2 * L * h_kv * d_h * T * B * nb,
    _kv_loop,
    lambda L, h, h_kv, d_h, T, B, nb: 2 * L * (h // (h // h_kv)) * d_h * T * B * nb,  # via the group size
    lambda L, h, h_kv, d_h, T, B, nb: np.float32(2 * L * h_kv * d_h * T * B * nb),
    lambda L, h, h_kv, d_h, T, B, nb: int(np.prod([2, L, h_kv, d_h, T, B, nb])),
])
def test_ex2_correct(fn):
    assert ex2.check(fn).ok, ex2.check(fn)


@pytest.mark.parametrize("fn, keyword", [
    (lambda L, h, h_kv, d_h, T, B, nb: 2 * L * h * d_h * T * B * nb, "query heads"),
    (lambda L, h, h_kv, d_h, T, B, nb: L * h_kv * d_h * T * B * nb, "factor 2"),
    (lambda L, h, h_kv, d_h, T, B, nb: 2 * L * h_kv * d_h * T * B, "number of elements"),
    (lambda L, h, h_kv, d_h, T, B, nb: 2 * h_kv * d_h * T * B * nb, "layers"),
    (lambda L, h, h_kv, d_h, T, B, nb: 2 * L * h_kv * d_h * T * nb, "batch"),
    (lambda L, h, h_kv, d_h, T, B, nb: 2 * L * h_kv * d_h * B * nb, "left out T"),
    (lambda L, h, h_kv, d_h, T, B, nb: 2 * L * (h // h_kv) * d_h * T * B * nb, "group size"),
])
def test_ex2_bugs(fn, keyword):
    result = ex2.check(fn)
    assert result.status == "incorrect" and keyword in result.message, result


# ---------------------------------------------------------------- ex3: the largest batch
def _parts(cfg, T):
    one = sizing.train_memory(cfg, 1, T)
    return one["weights"] + one["gradients"] + one["optimizer"], one["activations"]


def _batch_loop(cfg, T, mem):
    b = 0
    while sum(sizing.train_memory(cfg, b + 1, T).values()) <= mem and b < 10**6:
        b += 1
    return b


def _batch_float32(cfg, T, mem):
    fixed, per = _parts(cfg, T)
    return np.float32(max(0, math.floor((mem - fixed) / per)))


def _fused_batch(cfg, T, mem):  # the batch with a fused attention kernel, computed by hand
    one = sizing.train_memory(cfg, 1, T, fused_attention=True)
    return max(0, int((mem - one["weights"] - one["gradients"] - one["optimizer"]) // one["activations"]))


@pytest.mark.parametrize("fn", [
    lambda cfg, T, mem: max(0, int((mem - _parts(cfg, T)[0]) // _parts(cfg, T)[1])),
    _batch_loop,
    _batch_float32,
])
def test_ex3_correct(fn):
    assert ex3.check(fn).ok, ex3.check(fn)


@pytest.mark.parametrize("fn, keyword", [
    (lambda cfg, T, mem: max(0, math.ceil((mem - _parts(cfg, T)[0]) / _parts(cfg, T)[1])), "round DOWN"),
    (lambda cfg, T, mem: int(mem // _parts(cfg, T)[1]), "whole memory"),
    (lambda cfg, T, mem: max(0, int((mem - sizing.train_memory(cfg, 1, T)["weights"]
                                     - sizing.train_memory(cfg, 1, T)["gradients"]) // _parts(cfg, T)[1])), "optimizer"),
    (lambda cfg, T, mem: max(0, int((mem - sizing.train_memory(cfg, 1, T)["weights"]
                                     - sizing.train_memory(cfg, 1, T)["optimizer"]) // _parts(cfg, T)[1])), "gradients"),
    (lambda cfg, T, mem: int((mem - _parts(cfg, T)[0]) // _parts(cfg, T)[1]), "negative"),
    (lambda cfg, T, mem: max(0, int((mem - sum(sizing.train_memory(cfg, 1, T).values())) // _parts(cfg, T)[1])), "one less"),
    (lambda cfg, T, mem: sizing.max_batch(cfg, T, mem), "course's own lib.sizing.max_batch"),
    (sizing.max_batch, "course's own lib.sizing.max_batch"),
    (lambda cfg, T, mem: _fused_batch(cfg, T, mem), "fused attention"),
    (lambda cfg, T, mem: max(0, int((mem - sizing.train_memory(cfg, 1, T)["optimizer"]) // _parts(cfg, T)[1])),
     "largest part"),  # the calculators' mistake: the largest component, not the sum
    (lambda cfg, T, mem: max(0, int((80e9 - _parts(cfg, T)[0]) // _parts(cfg, T)[1])),
     "80e9"),  # a GB budget for a GiB card, ignoring memory_bytes
])
def test_ex3_bugs(fn, keyword):
    result = ex3.check(fn)
    assert result.status == "incorrect" and keyword in result.message, result


# ---------------------------------------------------------------- ex4: LoRA on Llama-2-70B
def test_ex4_correct():
    r, d, kv = 16, 8192, 8 * 128
    assert ex4.check(80 * (r * (d + d) + 2 * r * (d + kv) + r * (d + d))).ok
    assert ex4.check(sizing.lora_params(sizing.preset("llama2-70b"), 16, ("q", "k", "v", "o"))).ok
    assert ex4.check(np.float32(65_536_000)).ok
    assert ex4.check(6.5536e7).ok


@pytest.mark.parametrize("answer, keyword", [
    (80 * 4 * 2 * 8192 * 16, "grouped-query"),
    (65_536_000 // 80, "one layer"),
    (80 * 16 * (8192 + 8192 + 8192 + 1024), "only q and v"),
    (80 * 16 * (8192 * 2 + 1024 * 2), "(r * D_out)"),
    (80 * 16 * 8192 * 4, "one factor"),
    (80 * (2 * 8192 * 8192 + 2 * 8192 * 1024), "full q, k, v, o"),
    ("65536000", "number"),
])
def test_ex4_bugs(answer, keyword):
    result = ex4.check(answer)
    assert result.status == "incorrect" and keyword in result.message, result


# ---------------------------------------------------------------- ex5: the calculator's two bugs (Qwen3-4B)
QWEN3_GB = 2 * 36 * 8 * 128 * 32768 * 2 / 1e9  # 4.8318 GB


@pytest.mark.parametrize("answer", [QWEN3_GB, 4.83, np.float32(QWEN3_GB), 4_831_838_208 / 10**9,
                                    sizing.kv_cache_bytes(sizing.from_hf_config(sizing.shipped_config("qwen3-4b")), 32768) / 1e9])
def test_ex5_correct(answer):
    assert ex5.check(answer).ok, ex5.check(answer)


@pytest.mark.parametrize("answer, keyword", [
    (2 * 36 * 8 * 80 * 32768 * 2 / 2**30, "calculator's own answer"),  # 2.8125: nothing fixed
    (2 * 36 * 8 * 80 * 32768 * 2 / 1e9, "head_dim = 128"),  # only the unit fixed
    (2 * 36 * 8 * 128 * 32768 * 2 / 2**30, "GiB"),  # only head_dim fixed
    (2 * 36 * 32 * 128 * 32768 * 2 / 1e9, "query heads"),  # GQA ignored as well
    (2 * 36 * 32 * 128 * 32768 * 2 / 2**30, "query heads"),  # GQA ignored, GiB kept
    (36 * 8 * 128 * 32768 * 2 / 1e9, "factor 2"),
    (2 * 36 * 8 * 128 * 32000 * 2 / 1e9, "32,768"),
    (2 * 36 * 8 * 128 * 32768 * 4 / 1e9, "2 bytes"),
    (4_831_838_208, "bytes"),  # right, in bytes
    (4.8, "not right"),  # rounded too far
])
def test_ex5_bugs(answer, keyword):
    result = ex5.check(answer)
    assert result.status == "incorrect" and keyword in result.message, result


# ---------------------------------------------------------------- ex6: predict the hybrid cache (Gemma-3-1B)
GEMMA3_MB = (4 * 32768 + 22 * 512) * 2 * 256 * 2 / 1e6  # 145.75 MB


@pytest.mark.parametrize("answer", [GEMMA3_MB, 145.75, 145.8, np.float64(GEMMA3_MB), 145_752_064 / 1e6])
def test_ex6_correct(answer):
    assert ex6.check(answer).ok, ex6.check(answer)


@pytest.mark.parametrize("answer, keyword", [
    (26 * 32768 * 1024 / 1e6, "every layer as global"),
    (26 * 512 * 1024 / 1e6, "every layer the 512-token window"),
    ((5 * 32768 + 21 * 512) * 1024 / 1e6, "one in six"),
    ((4 * 32768 + 22 * 512) * 512 / 1e6, "factor 2"),
    (4 * 32768 * 1024 / 1e6, "global layers only"),
    ((4 * 32768 + 22 * 512) * 1024 / 2**20, "MiB"),
    (145_752_064, "bytes"),
    (150.0, "not right"),
])
def test_ex6_bugs(answer, keyword):
    result = ex6.check(answer)
    assert result.status == "incorrect" and keyword in result.message, result


def test_ex6_does_not_reveal_the_number():
    assert "145" not in ex6.check(150.0).message


def test_handing_in_the_course_functions_is_refused():
    block = ex1.check(lambda d, F: sum(sizing.block_params(sizing.ModelConfig("g", 10, d, 1, 1, F, bias=True)).values()))
    assert block.status == "incorrect" and "lib.sizing.block_params" in block.message
    kv = ex2.check(lambda L, h, h_kv, d_h, T, B, nb: sizing.kv_bytes(L, h_kv, d_h, T, B, nb))
    assert kv.status == "incorrect" and "lib.sizing.kv_bytes" in kv.message
