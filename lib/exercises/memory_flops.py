"""Exercises for the chapter `memory-flops`: parameters, bytes, FLOPs and arithmetic intensity.

The checkers recognise the classic slips of back-of-the-envelope accounting: forgetting the
bias, counting bits instead of bytes, dropping the factor 2 of a multiply-add, counting the
forward pass only, and letting the batch size leak into parameter memory.
"""

from __future__ import annotations

from lib import ledger
from lib.exercises import Exercise, Wrong, call, compare

# Exercises 1 and 2: a GPT-2-small-sized MLP up-projection, with a batch flowing through it.
EX_B, EX_D_IN, EX_D_OUT = 64, 768, 3072

# Shapes the function exercises are tried on: (B, D_in, D_out), none of them symmetric.
_SHAPES = [(32, 128, 64), (8, 4096, 11008), (3, 5, 7), (1, 768, 3072)]


def _check_params(answer) -> str:
    B, D_in, D_out = EX_B, EX_D_IN, EX_D_OUT
    compare(answer, ledger.linear_params(D_in, D_out), name="your parameter count", rtol=0, atol=0.5, bugs={
        "you forgot the bias: the layer also has one bias per output, D_out more parameters.": D_in * D_out,
        "the bias has one entry per output (D_out of them), not one per input.": D_in * D_out + D_in,
        "the batch size does not change the parameter count: every example shares the same W and b.":
            B * (D_in * D_out + D_out),
        "that counts the output activations (B*D_out), not the parameters.": B * D_out,
        "the weight matrix has D_in*D_out entries (every input connects to every output), not D_in + D_out.":
            D_in + D_out + D_out,
    })
    return f"{D_in:,} x {D_out:,} weights plus {D_out:,} biases = {ledger.linear_params(D_in, D_out):,}."


ex1 = Exercise(
    "memory-flops-ex1",
    _check_params,
    ["W has one entry for every (input, output) pair; b has one entry per output.",
     "D_in * D_out + D_out, with D_in = 768 and D_out = 3072. B plays no part."],
    "answer = 768 * 3072 + 3072  # 2,362,368",
)


def _check_bf16_bytes(answer) -> str:
    B, D_in, D_out = EX_B, EX_D_IN, EX_D_OUT
    params = ledger.linear_params(D_in, D_out)
    want = ledger.param_bytes(D_in, D_out, "bf16")
    compare(answer, want, name="your byte count", rtol=0, atol=0.5, bugs={
        "that is the number of bits: bf16 is 16 bits, which is 2 bytes per parameter.": 16 * params,
        "that is the parameter count; each bf16 parameter takes 2 bytes.": params,
        "that is the fp32 size (4 bytes per parameter); bf16 takes 2.": 4 * params,
        "you forgot the bias: add D_out biases of 2 bytes each.": 2 * D_in * D_out,
        "the batch size does not belong in parameter memory: the weights are stored once, whatever B is.":
            2 * params * B,
        "you included the activations; the question asks for the parameters only.":
            2 * (params + B * D_out),
    })
    return f"{params:,} parameters x 2 bytes = {want:,} bytes ({ledger.human_bytes(want)})."


ex2 = Exercise(
    "memory-flops-ex2",
    _check_bf16_bytes,
    ["Bytes = parameters x bytes per element. bf16 is a 16-bit format; a byte is 8 bits.",
     "(768 * 3072 + 3072) * 2"],
    "answer = (768 * 3072 + 3072) * 2  # 4,724,736 bytes, about 4.7 MB",
)


def _matches(got: object, want: float) -> bool:
    """True when `got` is the number `want` (used to accept an alternative convention)."""
    try:
        compare(got, want, rtol=0, atol=0.5)
    except Wrong:
        return False
    return True


def _check_forward_flops(fn) -> str:
    with_bias = True  # did every answer also count the B*D_out bias additions?
    for B, D_in, D_out in _SHAPES:
        got = call(fn, B, D_in, D_out, name="your forward_flops")
        want = ledger.linear_flops(B, D_in, D_out)
        if _matches(got, want + B * D_out):
            continue
        with_bias = False
        compare(got, want, name=f"forward_flops{(B, D_in, D_out)}", rtol=0, atol=0.5, bugs={
            "you forgot the factor 2: each of the B*D_in*D_out terms is one multiply AND one add.":
                B * D_in * D_out,
            "that is forward + backward (3 matmuls); the question asks for the forward pass alone.":
                3 * want,
            "the batch size is missing: every one of the B rows does its own D_in*D_out multiply-adds.":
                2 * D_in * D_out,
            "that multiplies the dimensions' sum, not their product: FLOPs are 2*B*D_in*D_out.":
                2 * B * (D_in + D_out),
        })
    if with_bias:
        return ("your count also includes the B*D_out bias additions. That is fine; the usual "
                "convention leaves them out because they are tiny next to 2*B*D_in*D_out.")
    return "2*B*D_in*D_out: one multiply and one add for each (row, input, output) triple."


ex3 = Exercise(
    "memory-flops-ex3",
    _check_forward_flops,
    ["Y[i, j] is a dot product of length D_in: D_in multiplies and about D_in adds.",
     "There are B*D_out entries of Y, each costing 2*D_in FLOPs."],
    "def forward_flops(B, D_in, D_out):\n    return 2 * B * D_in * D_out",
)


def _check_train_flops(fn) -> str:
    for B, D_in, D_out in _SHAPES:
        got = call(fn, B, D_in, D_out, name="your train_flops")
        one = 2 * B * D_in * D_out  # one matmul of this size
        compare(got, 3 * one, name=f"train_flops{(B, D_in, D_out)}", rtol=0, atol=0.5, bugs={
            "that is the forward pass only; backward adds dW = X.T @ dY and dX = dY @ W.T, two more matmuls.":
                one,
            "you forgot the factor 2 of a multiply-add: each matmul costs 2*B*D_in*D_out, not B*D_in*D_out.":
                3 * B * D_in * D_out,
            "you counted one backward matmul; there are two (dW and dX), so the total is 3x the forward.":
                2 * one,
            "the factor is 3, not 6: forward is 1 matmul and backward is 2 matmuls of the same size.":
                6 * one,
        })
    return "3 x 2*B*D_in*D_out: forward X @ W, then X.T @ dY and dY @ W.T."


ex4 = Exercise(
    "memory-flops-ex4",
    _check_train_flops,
    ["Count matmuls: the forward pass has one; the backward pass needs dW and dX.",
     "dW = X.T @ dY is (D_in, B) @ (B, D_out) and dX = dY @ W.T is (B, D_out) @ (D_out, D_in): "
     "each costs 2*B*D_in*D_out, the same as the forward."],
    "def train_flops(B, D_in, D_out):\n    return 3 * 2 * B * D_in * D_out",
)


_INTENSITY_CASES = [(32, 128, 64, 4), (1, 4096, 4096, 2), (512, 1024, 256, 4), (3, 5, 7, 1)]


def _check_intensity(fn) -> str:
    for B, D_in, D_out, per in _INTENSITY_CASES:
        got = call(fn, B, D_in, D_out, per, name="your intensity")
        flops = 2 * B * D_in * D_out
        elements = B * D_in + D_in * D_out + D_out + B * D_out
        compare(got, flops / (elements * per), name=f"intensity{(B, D_in, D_out, per)}", rtol=1e-6, bugs={
            "you divided by elements, not bytes: multiply the traffic by bytes_per_element.": flops / elements,
            "you forgot the factor 2 in the FLOPs (a multiply and an add).": flops / 2 / (elements * per),
            "you divided by bits: bytes_per_element is already in bytes.": flops / (elements * per * 8),
            "that counts only the weights as traffic; X must be read and Y written too.":
                flops / ((D_in * D_out + D_out) * per),
            "that is bytes per FLOP; intensity is FLOPs per byte.": (elements * per) / flops,
            "you forgot the bias in the traffic (D_out more elements read).":
                flops / ((elements - D_out) * per),
        })
    return "FLOPs per byte: it grows with B, because W is read once however many rows use it."


ex5 = Exercise(
    "memory-flops-ex5",
    _check_intensity,
    ["Intensity = forward FLOPs / bytes moved. Bytes moved = elements read or written x bytes each.",
     "Elements: B*D_in (X) + D_in*D_out (W) + D_out (b) + B*D_out (Y)."],
    "def intensity(B, D_in, D_out, bytes_per_element):\n"
    "    flops = 2 * B * D_in * D_out\n"
    "    elements = B * D_in + D_in * D_out + D_out + B * D_out\n"
    "    return flops / (elements * bytes_per_element)",
)
