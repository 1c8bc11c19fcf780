import numpy as np
import pytest

from lib.exercises import decoder as ex


def test_ex1_kv_cache_bytes():
    assert ex.ex1.check(lambda L, h, d, T, B, nb: 2 * L * h * d * T * B * nb).ok
    cases = {
        "factor 2": lambda L, h, d, T, B, nb: L * h * d * T * B * nb,
        "bits": lambda L, h, d, T, B, nb: 2 * L * h * d * T * B * nb * 8,
        "layers": lambda L, h, d, T, B, nb: 2 * h * d * T * B * nb,
        "batch": lambda L, h, d, T, B, nb: 2 * L * h * d * T * nb,
        "bytes per element": lambda L, h, d, T, B, nb: 2 * L * h * d * T * B,
    }
    for keyword, fn in cases.items():
        result = ex.ex1.check(fn)
        assert result.status == "incorrect" and keyword in result.message, (keyword, result)


def test_ex2_13b_per_token():
    assert ex.ex2.check(0.78125).ok and ex.ex2.check(2 * 40 * 40 * 128 * 2 / 2**20).ok
    for value, keyword in ((0.390625, "factor 2"), (6.25, "bits"), (0.78125 / 40, "layers"),
                           (0.8192, "MiB"), (1.5625, "fp32")):
        result = ex.ex2.check(value)
        assert result.status == "incorrect" and keyword in result.message, (value, result)


def _softmax(s):
    e = np.exp(s - s.max())
    return e / e.sum()


def test_ex3_cached_step():
    def good(q, k, v, K_cache, V_cache):
        K, V = np.vstack([K_cache, k]), np.vstack([V_cache, v])
        return _softmax(K @ q / np.sqrt(len(q))) @ V

    assert ex.ex3.check(good).ok
    assert ex.ex3.check(lambda *a: (good(*a), None, None)).ok  # (out, K, V) is accepted
    cases = {
        "cache only": lambda q, k, v, Kc, Vc: _softmax(Kc @ q / np.sqrt(len(q))) @ Vc,
        "sqrt(d_k)": lambda q, k, v, Kc, Vc: _softmax(np.vstack([Kc, k]) @ q) @ np.vstack([Vc, v]),
        "weights": lambda q, k, v, Kc, Vc: _softmax(np.vstack([Kc, k]) @ q / np.sqrt(len(q))),
        "new value v itself": lambda q, k, v, Kc, Vc: v,
    }
    for keyword, fn in cases.items():
        result = ex.ex3.check(fn)
        assert result.status == "incorrect" and keyword in result.message, (keyword, result)


def test_ex3_rejects_in_place_append():
    def sneaky(q, k, v, K_cache, V_cache):
        K_cache[0] = 0.0
        return v

    result = ex.ex3.check(sneaky)
    assert result.status == "incorrect" and "in place" in result.message


@pytest.mark.parametrize("exercise", [ex.ex1, ex.ex2, ex.ex3])
def test_placeholder_and_garbage(exercise):
    assert exercise.check(...).status == "not attempted"

    def boom(*args):
        raise RuntimeError("oops")

    for garbage in (None, "abc", boom, float("nan"), lambda *a: None, lambda *a: "x", True):
        result = exercise.check(garbage)
        assert not result.ok and result.message
    assert exercise.hint(2).text and exercise.solution().code
