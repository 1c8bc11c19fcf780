"""Exercises for the chapter `linear-layer`.

ex1 the output shape and parameter count of one layer; ex2 a layer written in the math
orientation, brought to the course's; ex3 two linear layers collapsed into one; ex4 the parameters
of a GPT-2 block; ex5 a prediction of a layer applied to sequences; ex6 a layer ported from PyTorch
with one bug to find. Letters: B batch, D_in features in, D_out features out, d model width. The
course orientation is `Y = X @ W + b` with X (B, D_in), W (D_in, D_out), b (D_out,).
"""

from __future__ import annotations

import numpy as np

from lib.exercises import (
    Exercise,
    Wrong,
    as_shape,
    call,
    cases,
    check_function,
    compare_count,
    explain_crashes,
    need_function,
    not_applicable,
    refuse_lib,
)


def _pair(answer: object, form: str) -> tuple[object, object]:
    if isinstance(answer, np.ndarray) and answer.ndim == 1 and answer.dtype.kind in "iuf":  # np.array([a, b])
        answer = list(answer)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        length = f" of length {len(answer)}" if isinstance(answer, (tuple, list)) else ""
        raise Wrong(f"answer with a pair {form}; got {type(answer).__name__}{length}.")
    return answer[0], answer[1]


# ---------------------------------------------------------------- ex1: output shape and parameters
B, D_IN, D_OUT = 32, 128, 64


def _check_count(answer) -> str:
    shape, n_params = _pair(answer, "(output_shape, n_params), e.g. ((3, 4), 12)")
    if isinstance(n_params, (tuple, list, np.ndarray)) and not isinstance(shape, (tuple, list, np.ndarray)):
        raise Wrong("the two parts are in the wrong order: the output shape first, then the parameter count.")
    shape = as_shape(shape, "the output shape")
    if shape != (B, D_OUT):
        diagnosis = {
            (D_OUT, B): "that is (D_out, B): rows are examples, so Y is (B, D_out).",
            (B, D_IN): "that is the input's shape; the layer changes the width from D_in to D_out.",
            (D_IN, D_OUT): "that is the shape of W; the output has one row per example.",
            (D_OUT,): "that is the shape of one output row (or of b); the batch axis B stays.",
        }
        raise Wrong(diagnosis.get(shape, f"the output shape {shape} is not right: "
                                          "(B, D_in) @ (D_in, D_out) cancels D_in."))
    weights = D_IN * D_OUT
    compare_count(n_params, weights + D_OUT, name="your parameter count", what="a parameter count", bugs={
        "you counted the weights only; the bias adds D_out more parameters.": weights,
        "the bias got one entry per input (D_in); it has one per output (D_out).": weights + D_IN,
        "the bias was counted twice: W has D_in * D_out entries and b has D_out.": weights + 2 * D_OUT,
        "the bias is shared by every example: D_out entries, not B * D_out.": weights + B * D_OUT,
        "the bias has one entry per output (D_out), not one per example (B).": weights + B,
        "X is data, not a parameter: count only W and b.": B * D_IN + weights + D_OUT,
        "Y is an activation, computed from the data; count only W and b.": weights + D_OUT + B * D_OUT,
        "W has D_in * D_out entries (one per input-output pair), not D_in + D_out.": D_IN + D_OUT,
        "the weights are shared by the whole batch; B does not multiply them.": weights * B,
        "the parameters are shared by the whole batch: count W and b once, B does not multiply them.":
            (weights + D_OUT) * B,
        "that is the size in bytes in fp32 (4 bytes per parameter); the question asks for the number of "
        "parameters.": 4 * (weights + D_OUT),
        "that is the size in bytes in fp64 (8 bytes per parameter); the question asks for the number of "
        "parameters.": 8 * (weights + D_OUT),
        "that is the FLOP count of the product, 2 B D_in D_out; the question asks for the number of parameters, "
        "the entries of W and b.": 2 * B * weights,
    })
    return (f"Y is ({B}, {D_OUT}) and the layer has {D_IN} * {D_OUT} + {D_OUT} = {weights + D_OUT:,} "
            "parameters, whatever the batch size.")


ex1 = Exercise(
    "linear-layer-shape-params",
    _check_count,
    ["Write the shapes, (B, D_in) @ (D_in, D_out) -> ?, and cancel the shared dimension. Parameters are what "
     "the layer learns, not what flows through it.",
     "Count entries: W is (D_in, D_out) and b is (D_out,); X and Y hold data."],
    "answer = ((32, 64), 128 * 64 + 64)   # 8,256 parameters",
    why="Y keeps the batch and takes the output width; the layer owns W and b only, so the count does not "
    "depend on B.",
    formerly="linear-layer-ex1",
)


# ---------------------------------------------------------------- ex2: from the math orientation
def _course_layer(X_cols: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """X_cols (D_in, B), weight (D_out, D_in), bias (D_out,) -> Y (B, D_out)."""
    return X_cols.T @ weight.T + bias  # (B, D_in) @ (D_in, D_out) + (D_out,)


COLUMN_CASES = cases(  # square first, so that the orientation bugs run and can be named
    lambda B, D_in, D_out, rng: (rng.normal(size=(D_in, B)), rng.normal(size=(D_out, D_in)),
                                 rng.normal(size=D_out) + 1.0),
    dict(B=3, D_in=3, D_out=3), dict(B=4, D_in=3, D_out=2), dict(B=1, D_in=5, D_out=2), dict(B=2, D_in=2, D_out=4),
    seed=11)

COLUMN_CRASHES = {
    "matmul": "Write the shape of each operand first: X_cols is (D_in, B) and weight is (D_out, D_in); transpose "
              "them into the course's X (B, D_in) and W (D_in, D_out).",
    "could not be broadcast": "The bias (D_out,) lines up with the last axis: add it to a (B, D_out) result, or "
                              "as bias[:, None] to a (D_out, B) one.",
}

COLUMN_BUGS = {
    "that is the math-orientation output, one column per example (D_out, B); transpose it so rows are examples.":
        lambda X_cols, weight, bias: weight @ X_cols + bias[:, None],
    "weight @ X_cols is the math-orientation product, (D_out, B): transpose it, then add the bias along the "
    "features, (weight @ X_cols).T + bias.": lambda X_cols, weight, bias: weight @ X_cols + bias,
    "the weight is used as stored, (out, in); the course multiplies by W = weight.T (a transpose: "
    "weight.reshape(D_in, D_out) keeps the memory order and is not the same).":
        lambda X_cols, weight, bias: X_cols.T @ weight + bias,
    "the bias is missing: add it after the product.": lambda X_cols, weight, bias: X_cols.T @ weight.T,
    "the bias was added per example (one value per row of Y); it has one value per output feature: add bias "
    "to the (B, D_out) result, or bias[:, None] to the (D_out, B) product.":
        lambda X_cols, weight, bias: X_cols.T @ weight.T + bias[:, None],
    "the examples are the columns of X_cols; the course's X, one row per example, is X_cols.T (a transpose: a "
    "reshape keeps the memory order and does not turn columns into rows).":
        lambda X_cols, weight, bias: X_cols @ weight.T + bias,
    "both operands are used as stored: the course's X is X_cols.T and its W is weight.T.":
        lambda X_cols, weight, bias: X_cols @ weight + bias,
    "the bias went into the weight before the product, X @ (W + bias); add it to the product, X @ W + bias.":
        lambda X_cols, weight, bias: X_cols.T @ (weight.T + bias),
    "the bias is subtracted; add it.": lambda X_cols, weight, bias: X_cols.T @ weight.T - bias,
    "the bias is added twice; add it once.": lambda X_cols, weight, bias: X_cols.T @ weight.T + 2 * bias,
}


def _check_column_layer(fn) -> str:
    check_function(explain_crashes(fn, COLUMN_CRASHES), _course_layer, COLUMN_CASES, name="your course_layer",
                   output="your Y", bugs=COLUMN_BUGS)
    return "Y = X_cols.T @ weight.T + bias, or (weight @ X_cols).T + bias: the same numbers, since (A B).T = B.T A.T."


ex2 = Exercise(
    "linear-layer-math-orientation",
    _check_column_layer,
    ["Write down every shape: X_cols (D_in, B), weight (D_out, D_in), bias (D_out,), and the answer (B, D_out). "
     "Which transposes bring X and W into the course's orientation?",
     "A transpose swaps the two axes: X_cols.T has shape (B, D_in), one row per example. Which of weight and "
     "weight.T has the shape (D_in, D_out) of the course's W?"],
    "def course_layer(X_cols, weight, bias):\n"
    "    X = X_cols.T       # (B, D_in): one row per example\n"
    "    W = weight.T       # (D_in, D_out)\n"
    "    return X @ W + bias   # (B, D_out) + (D_out,)",
    why="Two transposes bring both operands into the course orientation; the bias then broadcasts over the rows.",
    formerly="linear-layer-ex2",
)


# ---------------------------------------------------------------- ex3: two layers collapse into one
D_MODEL, D_HIDDEN = 768, 3072


def _check_collapse(answer) -> str:
    stack, single = _pair(answer, "(params_of_the_two_layers, params_of_the_one_layer)")
    want_stack, want_single = 2 * D_MODEL * D_HIDDEN, D_MODEL * D_MODEL
    try:
        swapped = round(float(stack)) == want_single and round(float(single)) == want_stack
    except (TypeError, ValueError):
        swapped = False
    if swapped:
        raise Wrong("the two numbers are in the wrong order: the two layers first, the single layer second.")
    compare_count(stack, want_stack, name="your count for the two layers", what="a parameter count", bugs={
        "that counts one matrix; the stack has two, W1 (768, 3072) and W2 (3072, 768).": D_MODEL * D_HIDDEN,
        "there are no biases in this stack: count the two weight matrices only.": want_stack + D_HIDDEN + D_MODEL,
        "that is the size in bytes in fp32 (4 bytes per weight); count the weights themselves.": 4 * want_stack,
    })
    compare_count(single, want_single, name="your count for the one layer", what="a parameter count", bugs={
        "(768, 3072) @ (3072, 768) cancels the inner 3072 and keeps the outer sizes: the single matrix is "
        "(768, 768).": D_HIDDEN * D_HIDDEN,
        "W1 @ W2 is not (768, 3072): the inner 3072 cancels and (768, 768) is left.": D_MODEL * D_HIDDEN,
        "the single layer W1 @ W2 is one matrix: multiply its two outer sizes.": want_stack,
        "a weight matrix holds the product of its two sizes, 768 * 768, not their sum.": 2 * D_MODEL,
        "768 is the width of the single layer's input (and output); the layer is a (768, 768) matrix: count "
        "its entries.": D_MODEL,
    })
    return ("the stack holds 4,718,592 weights, the single 768 x 768 layer 589,824, eight times fewer, and both "
            "compute the same function: without a nonlinearity the hidden width buys nothing.")


ex3 = Exercise(
    "linear-layer-collapse",
    _check_collapse,
    ["The stack computes (X W1) W2 = X (W1 W2). The single layer is the matrix W1 @ W2.",
     "W1 is (768, 3072) and W2 is (3072, 768). Write the shape of W1 @ W2 by cancelling the inner size."],
    "answer = (768 * 3072 + 3072 * 768,   # the stack: two matrices\n"
    "          768 * 768)                 # W1 @ W2 is (768, 768)",
    why="(X W1) W2 = X (W1 W2), and W1 @ W2 is (768, 3072) @ (3072, 768) -> (768, 768): a wide linear stack is "
    "no more expressive than one square layer.",
    formerly="linear-layer-ex3",
)


# ---------------------------------------------------------------- ex4: the parameters of a GPT-2 block
BLOCK_WIDTHS = (768, 16, 5)


def block(d: int) -> int:
    """Q, K, V, O (d -> d each) + MLP d -> 4d -> d, every linear with a bias, + 2 LayerNorms (gain, shift)."""
    return 12 * d * d + 13 * d


def block_bugs(d: int) -> dict[str, int]:
    return {
        "you counted only the weight matrices: add the biases of the linear layers (one per output) and the "
        "gain and shift of the two LayerNorms.": 12 * d * d,
        "the two LayerNorms are missing: each has a gain and a shift, d numbers each.": 12 * d * d + 9 * d,
        "the biases of the linear layers are missing: each layer has one bias per output.": 12 * d * d + 4 * d,
        "each LayerNorm got one vector of d instead of two (a gain and a shift).": 12 * d * d + 11 * d,
        "only one LayerNorm was counted; a block has two, one before the attention and one before the MLP.":
            12 * d * d + 11 * d,
        "the query, key and value layers got d biases in all; each has d (3d in all).": 12 * d * d + 11 * d,
        "the first MLP layer maps d to 4d, so it has 4d biases, not d.": 12 * d * d + 10 * d,
        "the second MLP layer maps 4d back to d: d biases, not 4d.": 12 * d * d + 16 * d,
        "the MLP widens to 4d: its two matrices are (d, 4d) and (4d, d), not (d, d).": 6 * d * d + 10 * d,
        "query, key and value are three d-to-d layers (or one fused d-to-3d layer): 3 d^2 weights and 3d "
        "biases, not d^2 and d.": 10 * d * d + 11 * d,
        "the attention's output layer (d -> d) is missing: query, key, value and output make four d-to-d "
        "layers.": 11 * d * d + 12 * d,
        "the biases of the attention's output layer (d of them) are missing.": 12 * d * d + 12 * d,
        "the biases of the MLP's second layer (d of them) are missing.": 12 * d * d + 12 * d,
        "the MLP has two layers, d -> 4d and then 4d -> d back to the model width.": 8 * d * d + 12 * d,
        "that includes a third LayerNorm: the final one belongs to the whole model, after the last block; a "
        "block has two.": 12 * d * d + 15 * d,
        "the MLP widens to 4d, not 2d: its layers are d -> 4d and 4d -> d.": 8 * d * d + 11 * d,
        "a LayerNorm has no matrix: its gain and shift are d numbers each, 2d per LayerNorm.": 14 * d * d + 11 * d,
        "that counts twelve blocks, GPT-2 small's depth; the question asks for one block.": 12 * block(d),
        **({} if d == 768 else {  # sizes of GPT-2 small written into the function: right only at d = 768
            f"that is {block(768):,}, the count for d = 768, whatever d is: compute it from d.": block(768),
            "the MLP's hidden width is 4d, which is 3072 only for d = 768: write it as 4 * d.":
                4 * d * d + 2 * 3072 * d + 3072 + 9 * d,
        }),
    }


def _check_block(fn) -> str:
    need_function(fn)
    for d in BLOCK_WIDTHS:
        got = call(fn, d, name="your block_params")
        try:
            compare_count(got, block(d), name=f"block_params({d})", what="a parameter count", bugs=block_bugs(d))
        except Wrong as wrong:
            raise Wrong(f"for d = {d}: {wrong}") from None
    return (f"12 d^2 + 13 d: {block(768):,} for GPT-2 small, of which {12 * 768 * 768:,} are weights. Twelve such "
            "blocks plus the embeddings make its 124 million parameters.")


ex4 = Exercise(
    "linear-layer-gpt2-block-params",
    _check_block,
    ["List the layers with their shapes, (D_in, D_out) each: four in attention, two in the MLP. Every linear "
     "layer has D_in * D_out weights and D_out biases; each LayerNorm has 2 d numbers.",
     "Attention: query, key, value and output are all d -> d. MLP: d -> 4d, then 4d -> d. Add the two "
     "LayerNorms last."],
    "def block_params(d):\n"
    "    linear = lambda d_in, d_out: d_in * d_out + d_out   # weights + biases\n"
    "    attention = 4 * linear(d, d)                        # query, key, value, output\n"
    "    mlp = linear(d, 4 * d) + linear(4 * d, d)\n"
    "    layer_norms = 2 * (2 * d)                           # two LayerNorms, gain and shift each\n"
    "    return attention + mlp + layer_norms                # = 12 d^2 + 13 d",
    why="Attention holds 4 d^2 weights, the MLP 8 d^2, two thirds of the block; biases and LayerNorms add only "
    "13 d.",
    formerly="linear-layer-ex4",
)


# ---------------------------------------------------------------- ex5: predict a layer applied to sequences
SEQ_B, SEQ_T, SEQ_D, SEQ_D_FF = 4, 10, 768, 3072  #: a batch of 4 sequences of 10 tokens through GPT-2's c_fc


def _check_tokens(answer) -> str:
    shape, flops = _pair(answer, "(output_shape, flops), e.g. ((3, 4), 100)")
    shape = as_shape(shape, "the output shape")
    want = (SEQ_B, SEQ_T, SEQ_D_FF)
    if shape != want:
        diagnosis = {
            (SEQ_B, SEQ_D_FF): "X @ W keeps every leading axis: the T = 10 positions stay, only the last axis changes.",
            (SEQ_B * SEQ_T, SEQ_D_FF): "that is the shape after flattening X to (B*T, d); X @ W on the 3-D array "
                                       "keeps the axes B and T apart.",
            (SEQ_B, SEQ_T, SEQ_D): "that is the input's shape; the layer changes the last axis from d to 4d.",
            (SEQ_D_FF, SEQ_T, SEQ_B): "the axes are reversed: X @ W keeps X's leading axes in order, (B, T, ...).",
            (SEQ_T, SEQ_D_FF): "the batch axis B = 4 is missing: every sequence keeps its own block of rows.",
        }.get(shape, f"X (B, T, d) @ W (d, 4d): the last axis of X meets the first of W; got {shape}.")
        raise Wrong(diagnosis)
    compare_count(flops, 2 * SEQ_B * SEQ_T * SEQ_D * SEQ_D_FF, name="your FLOP count", bugs={
        "that counts one product per sequence (2 B d 4d): the layer runs once per token, B * T = 40 times.":
            2 * SEQ_B * SEQ_D * SEQ_D_FF,
        "that counts one sequence only (2 T d 4d): all B = 4 sequences pass through the layer.":
            2 * SEQ_T * SEQ_D * SEQ_D_FF,
        "that counts multiplications only: each one comes with an addition, 2 FLOPs per (token, input, output).":
            SEQ_B * SEQ_T * SEQ_D * SEQ_D_FF,
        "that is the number of weights (plus biases), which does not depend on the batch; FLOPs grow with the "
        "tokens.": SEQ_D * SEQ_D_FF + SEQ_D_FF,
    })
    return (f"Y is {want}, and the product costs 2 * (B*T) * d * 4d = {2 * SEQ_B * SEQ_T * SEQ_D * SEQ_D_FF:,} FLOPs: "
            "a linear layer treats every token of every sequence as one more row of the batch.")


ex5 = Exercise(
    "linear-layer-tokens-shape",
    _check_tokens,
    ["Which axis of X does the product with W (d, 4d) contract, and what happens to the axes before it?",
     "Think of X as B*T = 40 rows of d numbers: what would the 2-D layer give for 40 rows? Then put the B and T "
     "axes back."],
    "answer = ((4, 10, 3072), 2 * 4 * 10 * 768 * 3072)   # (B, T, 4d); 2 FLOPs per (token, input, output)",
    why="Matmul contracts the last axis of X with the first of W and keeps the others, so the cost is that of a "
    "2-D layer with B*T rows.",
)


# ---------------------------------------------------------------- ex6: find the bug in a ported layer
def _forward(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """X (B, D_in), W (D_in, D_out), b (D_out,) -> Y (B, D_out)."""
    return X @ W + b


FORWARD_CASES = cases(  # a square layer first, where the ported X @ W.T (and X * W) still runs and can be named
    lambda B, D_in, D_out, rng: (rng.normal(size=(B, D_in)), rng.normal(size=(D_in, D_out)),
                                 rng.normal(size=D_out) + 1.0),
    dict(B=3, D_in=3, D_out=3), dict(B=4, D_in=3, D_out=3), dict(B=3, D_in=5, D_out=3), dict(B=2, D_in=3, D_out=6),
    dict(B=5, D_in=4, D_out=2), seed=23)


def _square(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> bool:
    return W.shape[0] == W.shape[1]


FORWARD_CRASHES = {
    "matmul": "Write the shapes of the two operands: X is (B, D_in) and W is (D_in, D_out), so the shared "
              "D_in already lines up in X @ W, with no transpose.",
    "could not be broadcast": "The bias (D_out,) lines up with the last axis of the (B, D_out) product: add it "
                              "as it is, X @ W + b.",
}

RESHAPED_W = ("W.reshape(D_out, D_in).T has the right shape but not the right entries: a reshape keeps the "
              "memory order and mixes the weights; W is already (D_in, D_out), so use it as it is.")

FORWARD_BUGS = {
    "that is the function as given: X @ W.T is PyTorch's F.linear, written for a weight stored (D_out, D_in); "
    "the course stores W as (D_in, D_out), so the product is X @ W. (On a square layer the transpose runs and "
    "gives wrong numbers; on any other it crashes.)": lambda X, W, b: X @ W.T + b,
    "the bias is missing: add b after the product.": lambda X, W, b: X @ W,
    "the bias was added per example, b[:, None], a column (D_out, 1) that only broadcasts when B = D_out; b "
    "has one value per output feature: add it as it is.": lambda X, W, b: X @ W + b[:, None],
    "W.T @ X.T is Y transposed, (D_out, B), one column per example; transpose it back, (W.T @ X.T).T + b.":
        lambda X, W, b: W.T @ X.T + b[:, None],
    RESHAPED_W: lambda X, W, b: not_applicable() if _square(X, W, b) else X @ W.reshape(W.shape[1], W.shape[0]).T + b,
    "the bias went into the weight before the product, X @ (W + b); add it to the product, X @ W + b.":
        lambda X, W, b: X @ (W + b),
    "the bias is subtracted; add it.": lambda X, W, b: X @ W - b,
    "you multiplied X and W entry by entry (`*`); a layer takes the matrix product, X @ W.":
        lambda X, W, b: X * W + b,
}


def _check_forward(fn) -> str:
    from lib.linear import linear_forward

    refuse_lib(fn, {"lib.linear.linear_forward": linear_forward})  # the course's own layer is not a fix
    explained = explain_crashes(fn, FORWARD_CRASHES)
    try:  # on a square W a reshape of W is W.T, the given bug: look for it on the non-square layers first
        check_function(explained, _forward, [c for c in FORWARD_CASES if not _square(*c.make())],
                       name="your linear_forward", output="your Y", bugs={RESHAPED_W: FORWARD_BUGS[RESHAPED_W]})
    except Wrong as wrong:
        if wrong.bug:
            raise
    check_function(explained, _forward, FORWARD_CASES, name="your linear_forward", output="your Y", bugs=FORWARD_BUGS)
    return ("Y = X @ W + b for every shape: test a layer on a non-square W (and a batch size unlike D_out), or a "
            "transposed weight or a misplaced bias hides behind matching sizes.")


ex6 = Exercise(
    "linear-layer-ported-transpose",
    _check_forward,
    ["The colleague's test used a 16 -> 16 layer. What shape does W.T have, and would the product still run "
     "on a 16 -> 4 layer?",
     "Call the function with X of shape (8, 16), W of shape (16, 4) and b of shape (4,), and write the shape "
     "of each operand of the product next to the error."],
    "def linear_forward(X, W, b):\n"
    "    return X @ W + b   # (B, D_in) @ (D_in, D_out) + (D_out,): W is already stored (D_in, D_out)",
    why="PyTorch stores nn.Linear's weight as (D_out, D_in) and computes x @ weight.T + bias; the course's W "
    "is that weight transposed, so the transpose must go. A square layer hides the mistake: the product runs "
    "and only the numbers are wrong.",
)
