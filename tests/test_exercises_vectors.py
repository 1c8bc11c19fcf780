"""Tests for lib.exercises.vectors: right answers pass, each diagnosed bug is named, garbage is safe."""

import numpy as np
import pytest

from lib.exercises.vectors import EMBEDDINGS, WORDS, ex1, ex2, ex3


def raises(*_args):
    raise RuntimeError("boom")


GARBAGE = [None, "abc", 42, raises]


def assert_incorrect(result, keyword):
    assert result.status == "incorrect", result
    assert keyword.lower() in result.message.lower(), result


# ---------------------------------------------------------------- ex1: cosine
def test_ex1_correct():
    assert ex1.check(lambda u, v: (u @ v) / (np.linalg.norm(u) * np.linalg.norm(v))).ok


@pytest.mark.parametrize("buggy, keyword", [
    (lambda u, v: u @ v, "plain dot product"),
    (lambda u, v: u @ v / np.linalg.norm(u), "|u| only"),
    (lambda u, v: u @ v / ((u @ u) * (v @ v)), "squared lengths"),
    (lambda u, v: np.arccos(u @ v / (np.linalg.norm(u) * np.linalg.norm(v))), "radians"),
])
def test_ex1_bugs(buggy, keyword):
    assert_incorrect(ex1.check(buggy), keyword)


def test_ex1_placeholders():
    assert ex1.check(...).status == "not attempted"
    assert ex1.check(lambda u, v: ...).status == "not attempted"


@pytest.mark.parametrize("garbage", GARBAGE + [lambda u, v: None, lambda u, v: "x", lambda u, v: np.nan])
def test_ex1_garbage(garbage):
    result = ex1.check(garbage)
    assert not result.ok and result.status in ("incorrect", "error") and result.message


def test_ex1_mutating_function_is_caught():
    def mutates(u, v):
        u[0] = 0.0
        return 0.0

    assert_incorrect(ex1.check(mutates), "in place")


# ---------------------------------------------------------------- ex2: nearest word
def test_ex2_correct():
    S = EMBEDDINGS / np.linalg.norm(EMBEDDINGS, axis=1, keepdims=True)
    best = WORDS[1 + int(np.argmax((S @ S[0])[1:]))]
    assert best == "queen"
    assert ex2.check("queen").ok
    assert ex2.check("  Queen ").ok


@pytest.mark.parametrize("answer, keyword", [
    ("king", "itself"), ("emperor", "long"), ("apple", "another word"), ("cherry", "not one of"),
])
def test_ex2_bugs(answer, keyword):
    assert_incorrect(ex2.check(answer), keyword)


@pytest.mark.parametrize("garbage", [None, 3, ["queen"], raises])
def test_ex2_garbage(garbage):
    assert_incorrect(ex2.check(garbage), "string")


def test_ex2_placeholder():
    assert ex2.check(...).status == "not attempted"


# ---------------------------------------------------------------- ex3: projection
def test_ex3_correct():
    assert ex3.check(lambda u, v: (u @ v) / (v @ v) * v).ok


@pytest.mark.parametrize("buggy, keyword", [
    (lambda u, v: (u @ v) / (u @ u) * u, "projected v onto u"),
    (lambda u, v: (u @ v) * v, "forgot to divide"),
    (lambda u, v: (u @ v) / np.linalg.norm(v) * v, "instead of |v|^2"),
    (lambda u, v: (u @ v) / (v @ v), "coefficient"),
])
def test_ex3_bugs(buggy, keyword):
    assert_incorrect(ex3.check(buggy), keyword)


@pytest.mark.parametrize("garbage", GARBAGE + [lambda u, v: None, lambda u, v: [np.nan, np.nan]])
def test_ex3_garbage(garbage):
    result = ex3.check(garbage)
    assert not result.ok and result.status in ("incorrect", "error") and result.message


def test_hints_and_solutions_render():
    for ex in (ex1, ex2, ex3):
        assert "Hint 1" in repr(ex.hint())
        assert "hints 1 to" in repr(ex.hint(99))
        assert ex.solution().code
        assert "Correct" in ex.check(...)._repr_html_() or "Not attempted" in ex.check(...)._repr_html_()
