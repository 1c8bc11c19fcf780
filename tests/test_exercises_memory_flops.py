"""Checkers of lib.exercises.memory_flops: right answers pass, classic bugs are named, garbage is safe."""

import pytest

from lib.exercises.memory_flops import EX_B, EX_D_IN, EX_D_OUT, ex1, ex2, ex3, ex4, ex5

B, D_IN, D_OUT = EX_B, EX_D_IN, EX_D_OUT
PARAMS = D_IN * D_OUT + D_OUT


def _raises(*_args):
    raise RuntimeError("boom")


GARBAGE = [None, "abc", _raises, [1, 2], float("nan"), {"a": 1}]


def _incorrect(result, keyword):
    assert result.status == "incorrect", result
    assert keyword.lower() in result.message.lower(), result.message


# ---------------------------------------------------------------- ex1: parameter count
def test_ex1_correct():
    assert ex1.check(2_362_368).ok
    assert ex1.check(768 * 3072 + 3072).ok


@pytest.mark.parametrize(
    ("answer", "keyword"),
    [
        (D_IN * D_OUT, "forgot the bias"),
        (D_IN * D_OUT + D_IN, "not one per input"),
        (B * PARAMS, "batch size"),
        (B * D_OUT, "output activations"),
        (D_IN + 2 * D_OUT, "D_in*D_out entries"),
        (1234, "not right"),
    ],
)
def test_ex1_bugs(answer, keyword):
    _incorrect(ex1.check(answer), keyword)


# ---------------------------------------------------------------- ex2: bytes in bf16
def test_ex2_correct():
    assert ex2.check(4_724_736).ok


@pytest.mark.parametrize(
    ("answer", "keyword"),
    [
        (16 * PARAMS, "bits"),
        (PARAMS, "parameter count"),
        (4 * PARAMS, "fp32"),
        (2 * D_IN * D_OUT, "forgot the bias"),
        (2 * PARAMS * B, "batch size"),
        (2 * (PARAMS + B * D_OUT), "activations"),
    ],
)
def test_ex2_bugs(answer, keyword):
    _incorrect(ex2.check(answer), keyword)


# ---------------------------------------------------------------- ex3: forward FLOPs
def test_ex3_correct():
    assert ex3.check(lambda B, D_in, D_out: 2 * B * D_in * D_out).ok


def test_ex3_accepts_counting_the_bias_adds_and_says_so():
    result = ex3.check(lambda B, D_in, D_out: 2 * B * D_in * D_out + B * D_out)
    assert result.ok and "bias" in result.message


@pytest.mark.parametrize(
    ("fn", "keyword"),
    [
        (lambda B, i, o: B * i * o, "factor 2"),
        (lambda B, i, o: 6 * B * i * o, "forward + backward"),
        (lambda B, i, o: 2 * i * o, "batch size is missing"),
        (lambda B, i, o: 2 * B * (i + o), "sum"),
        # right for the first shape only: caught on a later one
        (lambda B, i, o: 524_288, "not right"),
    ],
)
def test_ex3_bugs(fn, keyword):
    _incorrect(ex3.check(fn), keyword)


# ---------------------------------------------------------------- ex4: forward + backward FLOPs
def test_ex4_correct():
    assert ex4.check(lambda B, D_in, D_out: 6 * B * D_in * D_out).ok


@pytest.mark.parametrize(
    ("fn", "keyword"),
    [
        (lambda B, i, o: 2 * B * i * o, "forward pass only"),
        (lambda B, i, o: 3 * B * i * o, "factor 2"),
        (lambda B, i, o: 4 * B * i * o, "one backward matmul"),
        (lambda B, i, o: 12 * B * i * o, "factor is 3"),
    ],
)
def test_ex4_bugs(fn, keyword):
    _incorrect(ex4.check(fn), keyword)


# ---------------------------------------------------------------- ex5: arithmetic intensity
def _elements(B, i, o):
    return B * i + i * o + o + B * o


def test_ex5_correct():
    assert ex5.check(lambda B, i, o, p: 2 * B * i * o / (_elements(B, i, o) * p)).ok


@pytest.mark.parametrize(
    ("fn", "keyword"),
    [
        (lambda B, i, o, p: 2 * B * i * o / _elements(B, i, o), "elements, not bytes"),
        (lambda B, i, o, p: B * i * o / (_elements(B, i, o) * p), "factor 2"),
        (lambda B, i, o, p: 2 * B * i * o / (_elements(B, i, o) * p * 8), "bits"),
        (lambda B, i, o, p: 2 * B * i * o / ((i * o + o) * p), "only the weights"),
        (lambda B, i, o, p: _elements(B, i, o) * p / (2 * B * i * o), "bytes per flop"),
        (lambda B, i, o, p: 2 * B * i * o / ((_elements(B, i, o) - o) * p), "bias"),
        (lambda B, i, o, p: float("nan"), "nan"),
    ],
)
def test_ex5_bugs(fn, keyword):
    _incorrect(ex5.check(fn), keyword)


# ---------------------------------------------------------------- every exercise: placeholders, garbage
@pytest.mark.parametrize("ex", [ex1, ex2, ex3, ex4, ex5])
def test_placeholder_is_not_attempted(ex):
    assert ex.check(...).status == "not attempted"


@pytest.mark.parametrize("ex", [ex3, ex4, ex5])
def test_function_returning_placeholder_is_not_attempted(ex):
    assert ex.check(lambda *args: ...).status == "not attempted"


@pytest.mark.parametrize("ex", [ex1, ex2, ex3, ex4, ex5])
@pytest.mark.parametrize("garbage", GARBAGE, ids=["None", "str", "raises", "list", "nan", "dict"])
def test_garbage_gives_a_readable_result(ex, garbage):
    result = ex.check(garbage)
    assert not result.ok
    assert result.status in ("incorrect", "error")
    assert isinstance(result.message, str) and result.message


def test_learner_exception_is_reported():
    result = ex4.check(_raises)
    assert result.status == "incorrect" and "RuntimeError" in result.message


@pytest.mark.parametrize("ex", [ex1, ex2, ex3, ex4, ex5])
def test_hints_and_solution(ex):
    assert "Hint 1" in repr(ex.hint()) and "Hint 2" in repr(ex.hint(2))
    assert "hints 1 to" in repr(ex.hint(9))
    assert ex.solution().code
    assert ex.label.startswith("memory-flops-ex")
