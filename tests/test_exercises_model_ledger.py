"""Checkers of the chapter model-ledger: right answers in several forms, every named bug."""

import math

import numpy as np
import pytest

from lib import sizing
from lib.exercises.model_ledger import ex1, ex2, ex3, ex4


def _raises(*_args):
    raise RuntimeError("boom")


GARBAGE = [None, "abc", 42, _raises, lambda *a: None, lambda *a: "abc", lambda *a: np.nan]


@pytest.mark.parametrize("ex", [ex1, ex2, ex3, ex4])
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


@pytest.mark.parametrize("fn", [
    lambda cfg, T, mem: max(0, int((mem - _parts(cfg, T)[0]) // _parts(cfg, T)[1])),
    _batch_loop,
    _batch_float32,
    lambda cfg, T, mem: sizing.max_batch(cfg, T, mem),
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
