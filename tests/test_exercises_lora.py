import numpy as np
import pytest

from lib.exercises.lora import ex1, ex2, ex3


def _raises(*_args):
    raise RuntimeError("boom")


GARBAGE = [None, "abc", 42, _raises, lambda *a: None, lambda *a: "abc", lambda *a: np.nan]


@pytest.mark.parametrize("ex", [ex1, ex2, ex3])
def test_placeholder_and_garbage(ex):
    assert ex.check(...).status == "not attempted"
    assert ex.check(lambda *a: ...).status == "not attempted"
    for bad in GARBAGE:
        result = ex.check(bad)
        assert not result.ok and result.status in ("incorrect", "error") and result.message
    assert ex.hint().text and ex.hint(99).text and ex.solution().code


# ---------------------------------------------------------------- ex1
def test_ex1_correct():
    assert ex1.check(lambda D_in, D_out, r: D_in * r + r * D_out).ok


@pytest.mark.parametrize("fn, keyword", [
    (lambda D_in, D_out, r: D_in * r, "only one factor"),
    (lambda D_in, D_out, r: (D_in * r) ** 2, "squared"),
    (lambda D_in, D_out, r: D_in * D_out, "full matrix"),
    (lambda D_in, D_out, r: 2 * D_in * r, "square"),
    (lambda D_in, D_out, r: True, "boolean"),
])
def test_ex1_bugs(fn, keyword):
    result = ex1.check(fn)
    assert result.status == "incorrect" and keyword in result.message


# ---------------------------------------------------------------- ex2
def _init(transform):
    def init(D_in, D_out, r, rng):
        return transform(np.zeros((D_in, r)), rng.standard_normal((r, D_out)) / np.sqrt(D_out), rng)
    return init


def test_ex2_correct():
    assert ex2.check(_init(lambda B, A, rng: (B, A))).ok


@pytest.mark.parametrize("fn, keyword", [
    (_init(lambda B, A, rng: (rng.standard_normal(B.shape), A)), "step 0"),
    (_init(lambda B, A, rng: (B.T, A.T)), "transposed"),
    (_init(lambda B, A, rng: (A, B)), "(A, B)"),
    (_init(lambda B, A, rng: (B, 0 * A)), "never moves"),
    (_init(lambda B, A, rng: (rng.standard_normal(B.shape), 0 * A)), "zeroed A"),
    (lambda D_in, D_out, r, rng: (np.zeros((D_in, r)), np.ones((r, D_out))), "rng"),
    (_init(lambda B, A, rng: B), "two arrays"),
])
def test_ex2_bugs(fn, keyword):
    result = ex2.check(fn)
    assert result.status == "incorrect" and keyword in result.message, result


# ---------------------------------------------------------------- ex3
def test_ex3_correct():
    assert ex3.check(lambda W0, B, A, alpha: W0 + (alpha / B.shape[1]) * (B @ A)).ok


@pytest.mark.parametrize("fn, keyword", [
    (lambda W0, B, A, alpha: W0 + B @ A, "forgot the scale"),
    (lambda W0, B, A, alpha: W0 + (B.shape[1] / alpha) * B @ A, "upside down"),
    (lambda W0, B, A, alpha: W0 + alpha * B @ A, "divide by r"),
    (lambda W0, B, A, alpha: W0 + (alpha / B.shape[1]) * A @ B, "A @ B"),
    (lambda W0, B, A, alpha: W0 + (alpha / B.shape[1]) * (B @ A).T, "transposed"),
    (lambda W0, B, A, alpha: (alpha / B.shape[1]) * B @ A, "frozen W0"),
])
def test_ex3_bugs(fn, keyword):
    result = ex3.check(fn)
    assert result.status == "incorrect" and keyword in result.message, result


def test_ex3_in_place_merge_is_accepted():
    # the exercise text does not forbid it, and real merge code (PEFT's merge()) does exactly this
    def merge(W0, B, A, alpha):
        W0 += (alpha / B.shape[1]) * (B @ A)
        return W0
    result = ex3.check(merge)
    assert result.ok, result
