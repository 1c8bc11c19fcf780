"""Tests for lib.exercises.linear_layer: several correct answers pass, every named bug gets its own sentence."""

import numpy as np
import pytest

from lib.exercises.linear_layer import block, block_bugs, ex1, ex2, ex3, ex4
from lib.exercises.linear_layer import ex5 as ex5_tokens
from lib.exercises.linear_layer import ex6 as ex6_ported
from lib.ledger import linear_params


def assert_correct(result):
    assert result.status == "correct", result


def assert_named(result, fragment):
    assert result.status == "incorrect", result
    assert fragment.lower() in result.message.lower(), result


# ---------------------------------------------------------------- ex1: shape and parameters
@pytest.mark.parametrize("answer", [
    ((32, 64), 8256), ([32, 64], 8256), ((32, 64), np.int64(8256)), ((32, 64), 8256.0),
    ((32, 64), np.array(8256)), (np.zeros((32, 64)).shape, 128 * 64 + 64), [(32, 64), linear_params(128, 64)],
])
def test_ex1_correct(answer):
    assert_correct(ex1.check(answer))


@pytest.mark.parametrize("answer, fragment", [
    (((64, 32), 8256), "(D_out, B)"),
    (((32, 128), 8256), "input's shape"),
    (((128, 64), 8256), "shape of W"),
    (((64,), 8256), "one output row"),
    (((32, 64), 8192), "weights only"),
    (((32, 64), 8320), "either: the bias got one entry per input"),
    (((32, 64), 128 * 64 + 2 * 64), "or: the bias was counted twice"),
    (((32, 64), 10240), "shared by every example"),
    (((32, 64), 12352), "X is data"),
    (((32, 64), 8192 + 64 + 2048), "Y is an activation"),
    (((32, 64), 192), "not D_in + D_out"),
    (((32, 64), 8192 * 32), "B does not multiply"),
    (((32, 64), 9000), "which is not right"),
    (((32, 64), 8256.5), "whole number"),
    (((32, 64), "8256"), "answer with a parameter count"),
    ({"shape": (32, 64), "n": 8256}, "answer with a pair"),
])
def test_ex1_wrong(answer, fragment):
    assert_named(ex1.check(answer), fragment)


# ---------------------------------------------------------------- ex2: from the math orientation
def column_loop(X_cols, weight, bias):
    d_in, n = X_cols.shape
    return [[sum(weight[o, i] * X_cols[i, k] for i in range(d_in)) + bias[o] for o in range(len(bias))]
            for k in range(n)]


@pytest.mark.parametrize("answer", [
    lambda X_cols, weight, bias: X_cols.T @ weight.T + bias,
    lambda X_cols, weight, bias: (weight @ X_cols).T + bias,
    lambda X_cols, weight, bias: (weight @ X_cols + bias[:, None]).T,
    lambda X_cols, weight, bias: np.einsum("in,oi->no", X_cols, weight) + bias,
    lambda X_cols, weight, bias: (X_cols.T @ weight.T + bias).astype(np.float32),
    column_loop,
])
def test_ex2_correct(answer):
    assert_correct(ex2.check(answer))


@pytest.mark.parametrize("buggy, fragment", [
    (lambda X_cols, weight, bias: weight @ X_cols + bias[:, None], "math-orientation output"),
    (lambda X_cols, weight, bias: X_cols.T @ weight + bias, "used as stored"),
    (lambda X_cols, weight, bias: X_cols.T @ weight.T, "bias is missing"),
    (lambda X_cols, weight, bias: X_cols.T @ weight.T + bias[:, None], "added per example"),
    (lambda X_cols, weight, bias: (weight @ X_cols + bias).T, "added per example"),
    (lambda X_cols, weight, bias: X_cols.reshape(X_cols.shape[1], -1) @ weight.T + bias, "a reshape keeps"),
    (lambda X_cols, weight, bias: X_cols @ weight.T + bias, "the examples are the columns"),
    (lambda X_cols, weight, bias: X_cols @ weight + bias, "both operands are used as stored"),
    (lambda X_cols, weight, bias: weight @ X_cols + bias, "is the math-orientation product"),
    (lambda X_cols, weight, bias: X_cols.T @ weight.T + bias if X_cols.shape == (3, 3) else X_cols @ weight,
     "write the shape of each operand"),
    (lambda X_cols, weight, bias: X_cols.T @ weight.T + bias if X_cols.shape == (3, 3) else weight @ X_cols + bias,
     "lines up with the last axis"),
])
def test_ex2_bugs(buggy, fragment):
    assert_named(ex2.check(buggy), fragment)


def test_ex2_lib_linear_forward_does_not_pass():
    from lib.linear import linear_forward

    assert ex2.check(linear_forward).status == "incorrect"


# ---------------------------------------------------------------- ex3: collapse
@pytest.mark.parametrize("answer", [
    (4_718_592, 589_824), [2 * 768 * 3072, 768**2], (np.int64(4_718_592), np.int64(589_824)),
    (4718592.0, 589824.0), ((np.ones((768, 3072)).size + np.ones((3072, 768)).size), (np.ones((768, 3072)) @ np.ones((3072, 768))).size),
])
def test_ex3_correct(answer):
    assert_correct(ex3.check(answer))


@pytest.mark.parametrize("answer, fragment", [
    ((589_824, 4_718_592), "wrong order"),
    ((2_359_296, 589_824), "counts one matrix"),
    ((4_718_592 + 3072 + 768, 589_824), "no biases"),
    ((4_718_592, 3072**2), "inner 3072"),
    ((4_718_592, 768 * 3072), "is not (768, 3072)"),
    ((4_718_592, 4_718_592), "one matrix: multiply its two outer sizes"),
    ((4_718_592, 1000), "which is not right: it is too small"),
    ((4_000_000, 589_824), "which is not right"),
    (4_718_592, "answer with a pair"),
])
def test_ex3_wrong(answer, fragment):
    assert_named(ex3.check(answer), fragment)


# ---------------------------------------------------------------- ex4: GPT-2 block
def block_by_layers(d):
    layers = [(d, 3 * d), (d, d), (d, 4 * d), (4 * d, d)]  # fused c_attn, c_proj, c_fc, mlp c_proj
    return sum(i * o + o for i, o in layers) + 2 * 2 * d


@pytest.mark.parametrize("answer", [
    lambda d: 12 * d * d + 13 * d,
    block_by_layers,
    lambda d: np.int64(12 * d**2 + 13 * d),
    lambda d: float(12 * d * d + 13 * d),
    lambda d: 4 * (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d) + 4 * d,
])
def test_ex4_correct(answer):
    assert_correct(ex4.check(answer))


def test_ex4_gpt2_small_numbers():
    assert block(768) == 7_087_872 and 12 * 768 * 768 == 7_077_888
    total = 12 * block(768) + 50257 * 768 + 1024 * 768 + 2 * 768  # blocks, token and position embeddings, final norm
    assert total == 124_439_808  # "124 million"


def test_ex4_bug_sentences_are_distinct_at_every_width():
    for d in (768, 16, 5):
        values = list(block_bugs(d).values())  # 11 d is three mistakes at once, 12 d two: named "Either ... Or"
        assert len(set(values)) == len(values) - 3 and block(d) not in values


@pytest.mark.parametrize("buggy, fragment", [
    (lambda d: 12 * d * d, "only the weight matrices"),
    (lambda d: 12 * d * d + 9 * d, "LayerNorms are missing"),
    (lambda d: 12 * d * d + 4 * d, "biases of the linear layers are missing"),
    (lambda d: 12 * d * d + 9 * d + 2 * d, "either: each layernorm got one vector"),
    (lambda d: 12 * d * d + 10 * d, "4d biases"),
    (lambda d: 12 * d * d + 16 * d, "d biases, not 4d"),
    (lambda d: 6 * d * d + 10 * d, "widens to 4d"),
    (lambda d: 10 * d * d + 11 * d, "three d-to-d layers"),
    (lambda d: 11 * d * d + 12 * d, "output layer"),
    (lambda d: 12 * d * d + 12 * d, "or: the biases of the mlp's second layer"),
    (lambda d: 8 * d * d + 12 * d, "the mlp has two layers"),
    (lambda d: 12 * d * d + 15 * d, "third layernorm"),
    (lambda d: 7_087_872, "for d = 16"),
    (lambda d: 12 * d * d + 13 * d + 1, "which is not right"),
])
def test_ex4_bugs(buggy, fragment):
    assert_named(ex4.check(buggy), fragment)


@pytest.mark.parametrize("ex", [ex1, ex2, ex3, ex4, ex5_tokens, ex6_ported])
def test_placeholders_and_hints(ex):
    assert ex.check(...).status == "not attempted"
    assert len(ex.hints) == 2 and ex.hints[1] not in ex.solution().code


# ---------------------------------------------------------------- ex5: a layer applied to sequences
_F = 2 * 4 * 10 * 768 * 3072


@pytest.mark.parametrize("answer", [
    ((4, 10, 3072), _F), ([4, 10, 3072], float(_F)), (np.array([4, 10, 3072]), np.int64(_F)),
    ((4, 10, 3072), np.float32(_F)), [(4, 10, 3072), 188_743_680],
])
def test_ex5_accepts(answer):
    assert ex5_tokens.check(answer).status == "correct"


@pytest.mark.parametrize("answer, fragment", [
    (((4, 3072), _F), "keeps every leading axis"),
    (((40, 3072), _F), "after flattening"),
    (((4, 10, 768), _F), "input's shape"),
    (((3072, 10, 4), _F), "reversed"),
    (((10, 3072), _F), "batch axis B = 4 is missing"),
    (((4, 10, 3072), _F // 10), "one product per sequence"),
    (((4, 10, 3072), _F // 4), "one sequence only"),
    (((4, 10, 3072), _F // 2), "multiplications only"),
    (((4, 10, 3072), 768 * 3072 + 3072), "number of weights"),
])
def test_ex5_names_each_bug(answer, fragment):
    result = ex5_tokens.check(answer)
    assert result.status == "incorrect" and fragment in result.message, result


# ---------------------------------------------------------------- ex6: the bug in a ported layer
def forward_loop(X, W, b):
    return [[sum(X[n][i] * W[i][o] for i in range(len(W))) + b[o] for o in range(len(b))] for n in range(len(X))]


@pytest.mark.parametrize("answer", [
    lambda X, W, b: X @ W + b,                                    # the solution
    forward_loop,
    lambda X, W, b: (W.T @ X.T).T + b,
    lambda X, W, b: np.einsum("bi,io->bo", X, W) + b,
    lambda X, W, b: X.astype(np.float32) @ W.astype(np.float32) + b.astype(np.float32),
    lambda X, W, b: np.dot(X, W) + b[None, :],
    lambda X, W, b: (X @ W + np.tile(b, (len(X), 1))).tolist(),
])
def test_ex6_accepts(answer):
    assert_correct(ex6_ported.check(answer))


PORTED_WRONG = [
    (lambda X, W, b: X @ W.T + b, "the function as given"),
    (lambda X, W, b: X @ W, "bias is missing"),
    (lambda X, W, b: X @ W + b[:, None], "added per example"),
    (lambda X, W, b: W.T @ X.T + b[:, None], "Y transposed"),
    (lambda X, W, b: X @ W.reshape(W.shape[1], W.shape[0]).T + b, "a reshape keeps the memory order"),
    (lambda X, W, b: X @ (W + b), "went into the weight"),
    (lambda X, W, b: X @ W - b, "subtracted"),
    (lambda X, W, b: X * W + b, "entry by entry"),
]


@pytest.mark.parametrize("buggy, fragment", PORTED_WRONG)
def test_ex6_names_each_bug(buggy, fragment):
    result = ex6_ported.check(buggy)
    assert_named(result, fragment)
    assert result.bug and fragment.lower() in result.bug.lower(), result


def test_ex6_every_bug_has_its_own_case():
    from lib.exercises import bug_collisions
    from lib.exercises.linear_layer import FORWARD_BUGS, FORWARD_CASES, _forward

    assert bug_collisions(_forward, FORWARD_CASES, FORWARD_BUGS) == []
    shapes = [c.make()[1].shape for c in FORWARD_CASES]
    assert any(i == o for i, o in shapes) and any(i != o for i, o in shapes)


def test_ex6_the_given_function_passes_a_square_test_and_fails_elsewhere():
    rng = np.random.default_rng(16)
    X, W, b = rng.normal(size=(8, 16)), rng.normal(size=(16, 16)), rng.normal(size=16)
    assert (X @ W.T + b).shape == (8, 16) and not np.allclose(X @ W.T + b, X @ W + b)
    with pytest.raises(ValueError):
        np.ones((8, 16)) @ np.ones((16, 4)).T


def test_ex6_the_course_function_is_not_a_fix():
    from lib.linear import linear_forward

    assert "lib.linear.linear_forward" in ex6_ported.check(linear_forward).message
    assert ex6_ported.check(lambda X, W, b: linear_forward(X, W, b)).status == "incorrect"


def test_ex6_generic_wrong_is_not_misnamed():
    result = ex6_ported.check(lambda X, W, b: X @ W + b + 0.01)
    assert result.status == "incorrect" and result.bug is None, result
