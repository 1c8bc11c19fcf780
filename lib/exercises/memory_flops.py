"""Exercises for the chapter `memory-flops`: activation memory at B and T, a roofline time on a named
accelerator, memory- or compute-bound, the memory of fine-tuning with Adam, and 6ND.

Function exercises run on several sizes and name a bug only when it explains every one of them.
The accelerator is an NVIDIA A100 80GB SXM, from its datasheet: 312 TFLOP/s dense bf16 and
2,039 GB/s of memory bandwidth.
"""

from __future__ import annotations

import numpy as np

from lib import ledger
from lib.exercises import (
    TIME_UNITS,
    Exercise,
    NotAttempted,
    Wrong,
    as_values,
    close,
    compare_units,
    judge,
    need_function,
)
from lib.exercises import run_cases as run

A100_FLOPS = 312e12  # FLOP/s, dense bf16 (NVIDIA A100 80GB SXM datasheet)
A100_BYTES = 2039e9  # bytes/s


def _judge_function(fn, name: str, cases: list[tuple], reference, bugs: dict, label) -> None:
    """Try fn on every case; name a bug only when it explains every case that ran."""
    need_function(fn)
    got, error = run(fn, cases, lambda out: as_values(out, name), f"your {name}")
    ran = cases[:len(got)]
    judge(got, [reference(*c) for c in ran], {s: [b(*c) for c in ran] for s, b in bugs.items()},
          [f"{name}{label(*c)}" for c in ran])
    if error:
        raise error


def _units_bugs(reference, unit: str = "bytes") -> dict:
    return {
        f"that looks like the right amount in MB (10**6 bytes); give it in {unit}.": lambda *c: reference(*c) / 1e6,
        f"that looks like the right amount in MiB (2**20 bytes); give it in {unit}.": lambda *c: reference(*c) / 2**20,
        f"that looks like the right amount in GB (10**9 bytes); give it in {unit}.": lambda *c: reference(*c) / 1e9,
        f"that looks like the right amount in GiB (2**30 bytes); give it in {unit}.": lambda *c: reference(*c) / 2**30,
        f"that looks like the right amount in kB (1,000 bytes); give it in {unit}.": lambda *c: reference(*c) / 1e3,
        f"that looks like the right amount in KiB (1,024 bytes); give it in {unit}.": lambda *c: reference(*c) / 2**10,
        f"that is the number of bits; give it in {unit} (8 bits each).": lambda *c: reference(*c) * 8,
    }


# ---------------------------------------------------------------- ex1: activation memory at B and T
def _mlp_cached(B, T, d, per):
    return B * T * (d + 4 * d) * per  # X (B*T, d) and H (B*T, 4d) are kept for dW of each layer


_MLP_CASES = [(8, 2048, 4096, 2), (2, 16, 64, 4), (4, 128, 768, 4)]


def _check_mlp_cached(fn) -> str:
    _judge_function(fn, "mlp_cached_bytes", _MLP_CASES, _mlp_cached, {
        "you left out T: every token of every sequence is a row, so each layer sees B*T rows.":
            lambda B, T, d, per: B * 5 * d * per,
        "you counted only X, the first layer's input; the second layer caches its own input H, 4d wide.":
            lambda B, T, d, per: B * T * d * per,
        "you counted only H; the first layer's input X (d wide) is cached too.":
            lambda B, T, d, per: B * T * 4 * d * per,
        "H is 4d wide, not d: the up-projection maps d to 4d.": lambda B, T, d, per: B * T * 2 * d * per,
        "you also counted the outputs; the question asks only for the inputs the two layers keep for dW.":
            lambda B, T, d, per: B * T * 10 * d * per,
        "you also counted the activation function's input (4d wide); the question asks only for the inputs "
        "of the two linear layers, X and H.": lambda B, T, d, per: B * T * 9 * d * per,
        "you also counted the block's output (d wide); only the inputs of the two linear layers, X and H, are "
        "kept for dW.": lambda B, T, d, per: B * T * 6 * d * per,
        "you counted the weights (d*4d + 4d*d); the question asks for the inputs X and H the layers keep, "
        "which grow with B and T.": lambda B, T, d, per: 8 * d * d * per,
        "you added the weights (d*4d + 4d*d); the question asks only for the inputs X and H the layers keep.":
            lambda B, T, d, per: (8 * d * d + B * T * 5 * d) * per,
        "you counted the activation function's input and its output H (4d each) but not X; the two linear "
        "layers keep X (d wide) and H (4d wide).": lambda B, T, d, per: B * T * 8 * d * per,
        "you returned elements, not bytes: multiply by bytes_per_element.": lambda B, T, d, per: B * T * 5 * d,
        "you hard-coded 4 bytes per element; use bytes_per_element (the checker tries 2 and 4).":
            lambda B, T, d, per: B * T * 5 * d * 4,
        "you hard-coded 2 bytes per element; use bytes_per_element (the checker tries 2 and 4).":
            lambda B, T, d, per: B * T * 5 * d * 2,
        **_units_bugs(_mlp_cached),
    }, lambda B, T, d, per: f"(B={B}, T={T}, d={d}, bytes_per_element={per})")
    return ("5 * B * T * d * bytes_per_element: X (B*T, d) for the up-projection and H (B*T, 4d) for the "
            "down-projection; it grows with B and T, the weights do not.")


ex1 = Exercise(
    "memory-flops-ex1",
    _check_mlp_cached,
    ["Each linear layer keeps its own input for dW = X.T @ dY. What are the two inputs here, and how wide "
     "is each?",
     "A (B, T, width) tensor is B*T rows of `width` numbers; the first input is d wide, the second 4d wide."],
    "def mlp_cached_bytes(B, T, d, bytes_per_element):\n"
    "    rows = B * T                       # every token is a row\n"
    "    return rows * (d + 4 * d) * bytes_per_element",
    why="dW of each layer is (its input).T @ dY, so each layer keeps its input: d numbers per token for "
    "the first, 4d for the second.",
)


# ---------------------------------------------------------------- ex2: a roofline time on the A100
def _a100(B, D_in, D_out):
    flops = 2 * B * D_in * D_out
    moved = (B * D_in + D_in * D_out + B * D_out) * 2  # bf16, no bias
    return max(flops / A100_FLOPS, moved / A100_BYTES)


_A100_CASES = [(1, 4096, 4096), (4096, 4096, 11008), (64, 1024, 1024), (512, 768, 3072)]


def _a100_exact(B, D_in, D_out):
    """The same bound with the exact FLOP count (2 D_in - 1) B D_out, which the chapter mentions."""
    moved = (B * D_in + D_in * D_out + B * D_out) * 2
    return max((2 * D_in - 1) * B * D_out / A100_FLOPS, moved / A100_BYTES)


def _check_a100(fn) -> str:
    def parts(B, D_in, D_out, per=2, bias=0, flops_factor=2, peak=A100_FLOPS, x=1):
        return (flops_factor * B * D_in * D_out / peak,
                (x * B * D_in + D_in * D_out + bias * D_out + B * D_out) * per / A100_BYTES)

    need_function(fn)
    got, error = run(fn, _A100_CASES, lambda out: as_values(out, "a100_seconds"), "your a100_seconds")
    if error is None and all(close(g, _a100_exact(*c)) for g, c in zip(got, _A100_CASES, strict=True)):
        return ("max((2*D_in - 1)*B*D_out / 312e12, (B*D_in + D_in*D_out + B*D_out) * 2 / 2039e9), with the exact "
                "FLOP count; the convention 2*B*D_in*D_out differs by 1/(2 D_in). The bandwidth term wins at small "
                "B, the peak at large B.")

    _judge_function(fn, "a100_seconds", _A100_CASES, _a100, {
        "you added the two times; the bound is the larger one (max), since data moves while the "
        "arithmetic runs.": lambda *c: sum(parts(*c)),
        "you took the smaller time (min); the bound is the larger one, max(FLOPs / peak, bytes / bandwidth).":
            lambda *c: min(parts(*c)),
        "that is the memory time alone; at large B the compute time FLOPs / peak is larger: take the max "
        "of the two.": lambda *c: parts(*c)[1],
        "that is the compute time alone; at small B the memory time bytes / bandwidth is larger: take the "
        "max of the two.": lambda *c: parts(*c)[0],
        "you counted 4 bytes per element; the layer is bf16, 2 bytes.": lambda *c: max(parts(*c, per=4)),
        "the layer has no bias: leave the D_out bias entries out of the traffic.": lambda *c: max(parts(*c, bias=1)),
        "you forgot the factor 2 in the FLOPs (one multiply and one add per term).":
            lambda *c: max(parts(*c, flops_factor=1)),
        "312 TFLOP/s is the dense bf16 peak; 624 is with structured sparsity, which this matmul does not use.":
            lambda *c: max(parts(*c, peak=2 * A100_FLOPS)),
        "6 FLOPs per weight and row is training (forward and backward); the forward matmul alone is 2 B D_in D_out.":
            lambda *c: max(parts(*c, flops_factor=6)),
        "bf16 is 16 bits but 2 bytes: multiply the element count by 2, not 16.": lambda *c: max(parts(*c, per=16)),
        "1 byte per element is int8; bf16 takes 2 bytes.": lambda *c: max(parts(*c, per=1)),
        "the traffic leaves out X: the matmul reads X (B*D_in numbers) as well as W, and writes Y.":
            lambda *c: max(parts(*c, x=0)),
        "that counts only the weights' bytes; X is read and Y written too.":
            lambda B, D_in, D_out: max(2 * B * D_in * D_out / A100_FLOPS, 2 * D_in * D_out / A100_BYTES),
        "2,039 GB/s is 2,039e9 bytes per second, not 2,039 GiB/s (2**30 bytes each).":
            lambda *c: max(parts(*c)[0], parts(*c)[1] * 1e9 / 2**30),
        "that looks like the right time in milliseconds; give it in seconds.": lambda *c: _a100(*c) * 1e3,
        "that looks like the right time in microseconds; give it in seconds.": lambda *c: _a100(*c) * 1e6,
        "that is 10**9 times too small: ledger.roofline_time takes the peak in GFLOP/s and the bandwidth in "
        "GB/s, so pass 312e3 and 2039, not 312e12 and 2039e9.": lambda *c: _a100(*c) / 1e9,
    }, lambda B, D_in, D_out: f"(B={B}, D_in={D_in}, D_out={D_out})")
    return ("max(2*B*D_in*D_out / 312e12, (B*D_in + D_in*D_out + B*D_out) * 2 / 2039e9): the bandwidth term wins "
            "at small B, the peak at large B.")


ex2 = Exercise(
    "memory-flops-ex2",
    _check_a100,
    ["A kernel needs at least the time to do its FLOPs at the peak and at least the time to move its bytes "
     "at the bandwidth; both are true at once.",
     "FLOPs 2*B*D_in*D_out; bytes: X, W and Y once each, 2 bytes per bf16 number; peak 312e12 FLOP/s, "
     "bandwidth 2039e9 bytes/s."],
    "def a100_seconds(B, D_in, D_out):\n    flops = 2 * B * D_in * D_out\n"
    "    moved = (B * D_in + D_in * D_out + B * D_out) * 2     # bf16, no bias\n"
    "    return max(flops / 312e12, moved / 2039e9)",
    why="The arithmetic units and the memory work at the same time, so the slower of the two sets the "
    "pace: the roofline's max.",
)


# ---------------------------------------------------------------- ex3: memory- or compute-bound?
WORKLOADS = (
    "4096 -> 11008, B = 1 (one token for one user)",
    "4096 -> 11008, B = 64 (one token each for 64 users)",
    "4096 -> 11008, B*T = 2048 (a 2,048-token prompt)",
    "4096 -> 4096, B = 256",
    "128 -> 64, B = 4096",
)
_SHAPES = ((1, 4096, 11008), (64, 4096, 11008), (2048, 4096, 11008), (256, 4096, 4096), (4096, 128, 64))


def _intensity(B, D_in, D_out) -> float:
    return ledger.linear_costs(B, D_in, D_out, "bf16", bias=False).intensity


def _bound(B, D_in, D_out) -> str:
    return "compute" if _intensity(B, D_in, D_out) >= A100_FLOPS / A100_BYTES else "memory"


def _read_word(word: object, i: int) -> str:
    if word is Ellipsis:
        raise NotAttempted
    if not isinstance(word, str):
        raise Wrong(f"answer each workload with the string 'memory' or 'compute'; item {i + 1} is a "
                    f"{type(word).__name__}.")
    w = word.strip().strip("'\"`").lower()
    for option in ("memory", "compute"):
        if w.startswith(option[:3]) or w == option[0]:
            return option
    raise Wrong(f"item {i + 1} is {word!r}; answer each workload with 'memory' or 'compute'.")


def _check_bound(answer) -> str:
    if isinstance(answer, np.ndarray) and answer.ndim == 1 and answer.dtype.kind in "US":
        answer = answer.tolist()
    if not isinstance(answer, (list, tuple)) or len(answer) != len(WORKLOADS):
        raise Wrong(f"answer with a list of {len(WORKLOADS)} strings, 'memory' or 'compute', one per workload, "
                    f"got {type(answer).__name__}" + (f" of length {len(answer)}." if isinstance(answer, (list, tuple)) else "."))
    words = [_read_word(w, i) for i, w in enumerate(answer)]
    right = [_bound(*s) for s in _SHAPES]
    wrong = [i for i in range(len(right)) if words[i] != right[i]]
    if not wrong:
        return ("below the ridge (153 FLOP/byte) a layer is memory-bound: in bf16 its intensity is about B, so "
                "a few tokens at a time are memory-bound, a long prompt or a big batch compute-bound; the 128 -> 64 "
                "layer never gets there.")
    if len(wrong) == len(right):
        raise Wrong("every answer is swapped: an intensity below the ridge (153 FLOP/byte) means the arithmetic "
                    "waits for memory, so that layer is memory-bound.")
    reasons = []
    for i in wrong[:2]:
        B, D_in, D_out = _SHAPES[i]
        intensity = _intensity(B, D_in, D_out)
        if (D_in, D_out) == (128, 64):
            reasons.append(f"workload {i + 1}: a 128 -> 64 layer never reaches the ridge: its intensity tends to "
                           f"128*64/(128+64) = {128 * 64 / 192:.0f} FLOP/byte in bf16 however large the batch")
        else:
            side = "above" if right[i] == "compute" else "below"
            rows = f"{B:,} row gives" if B == 1 else f"{B:,} rows give"
            reasons.append(f"workload {i + 1}: {rows} about {intensity:,.0f} FLOP/byte in bf16 (about "
                           f"2B/2 = B), {side} the ridge of 153, so it is {right[i]}-bound")
    more = f" ({len(wrong) - 2} more wrong.)" if len(wrong) > 2 else ""
    raise Wrong("; ".join(reasons) + "." + more)


ex3 = Exercise(
    "memory-flops-ex3",
    _check_bound,
    ["Predict each layer's intensity with the small-batch rule, then compare it with the A100's ridge, "
     "peak / bandwidth.",
     "In bf16 the intensity is about B FLOP per byte while B is much smaller than the layer's widths; the "
     "ridge is 312e12 / 2039e9, about 153. Does the rule still hold for the 128 -> 64 layer?"],
    "answer = ['memory', 'memory', 'compute', 'compute', 'memory']\n"
    "# check: [ledger.linear_costs(B, i, o, 'bf16', bias=False).intensity for B, i, o in shapes]",
    why="Each weight read from memory is used once per row; with fewer than about 153 rows per read the "
    "arithmetic waits for memory. A small layer's intensity stays low because its weights are few.",
    solution_text="The answer, and how to check it:",
)


# ---------------------------------------------------------------- ex4: fine-tuning memory with Adam
def _finetune(n, t, a):
    return 4 * n + (4 + 8) * t + a  # weights of all; gradients, m and v of the trainable ones; activations


_FINETUNE_CASES = [(124_000_000, 124_000_000, 500_000_000), (7_000_000_000, 4_194_304, 2_000_000_000),
                   (1_000, 10, 64)]


def _check_finetune(fn) -> str:
    _judge_function(fn, "finetune_bytes", _FINETUNE_CASES, _finetune, {
        "frozen parameters need no gradient and no optimizer state: only the n_trainable ones get the "
        "extra 4 + 8 bytes.": lambda n, t, a: 16 * n + a,
        "the frozen weights are still in memory (the forward pass uses them): all n_params weights take 4 "
        "bytes each.": lambda n, t, a: 16 * t + a,
        "you left out Adam's state: it keeps m and v, two fp32 numbers (8 bytes) for every trainable "
        "parameter.": lambda n, t, a: 4 * n + 4 * t + a,
        "either you left out the gradients (4 bytes per trainable parameter), or only one of Adam's two "
        "moments m and v, or the trainable weights themselves (all n_params weights are stored, 4 bytes each).":
            lambda n, t, a: 4 * n + 8 * t + a,
        "you left out the activations: add activation_bytes.": lambda n, t, a: 4 * n + 12 * t,
        "that counts the weights only; the trainable parameters also need gradients and Adam's m and v.":
            lambda n, t, a: 4 * n + a,
        "either you counted the trainable weights twice (they are already among the n_params), or you added "
        "an fp32 master copy, which only mixed precision needs: here the weights are fp32 already.":
            lambda n, t, a: 4 * n + 16 * t + a,
        "everything here is fp32: 4 bytes per number, not 2.": lambda n, t, a: 2 * n + 6 * t + a,
        "activation_bytes is already in bytes: add it as it is, without multiplying by 4.":
            lambda n, t, a: 4 * n + 12 * t + 4 * a,
        "frozen parameters need no gradient: only the n_trainable ones get one (4 bytes), and Adam's m and v.":
            lambda n, t, a: 8 * n + 8 * t + a,
        **_units_bugs(_finetune),
    }, lambda n, t, a: f"(n_params={n:,}, n_trainable={t:,}, activation_bytes={a:,})")
    return ("4 * n_params + (4 + 8) * n_trainable + activation_bytes: every weight is stored, but only the "
            "trainable ones need a gradient and Adam's m and v.")


ex4 = Exercise(
    "memory-flops-ex4",
    _check_finetune,
    ["Go through the four parts of the budget (weights, gradients, optimizer state, activations) and ask "
     "for each: all parameters, or only the trainable ones?",
     "fp32 is 4 bytes per number; Adam keeps two numbers per trainable parameter; a frozen parameter gets "
     "no gradient."],
    "def finetune_bytes(n_params, n_trainable, activation_bytes):\n"
    "    weights = 4 * n_params                  # every weight is used by the forward pass\n"
    "    grads_and_adam = (4 + 4 + 4) * n_trainable   # gradient, m, v\n"
    "    return weights + grads_and_adam + activation_bytes",
    why="Gradients and optimizer state exist only for what is trained; this is why adapters such as LoRA "
    "make fine-tuning fit: 12 bytes for a few million parameters instead of for billions.",
)


# ---------------------------------------------------------------- ex5: 6ND, in hours
EX5_PARAMS, EX5_TOKENS, EX5_GPUS, EX5_UTILISATION = 350e6, 7e9, 8, 0.4


def _hours(flops_per_param_token=6.0, gpus=EX5_GPUS, utilisation=EX5_UTILISATION, peak=A100_FLOPS) -> float:
    return flops_per_param_token * EX5_PARAMS * EX5_TOKENS / (gpus * utilisation * peak) / 3600


def _check_hours(answer) -> str:
    want = _hours()
    compare_units(answer, want, "h", units=TIME_UNITS, name="your time", rtol=5e-3, bugs={
        "that is the forward pass alone (2 N D); training adds the backward pass, about twice as much: 6 N D.":
            _hours(2.0),
        "that counts 3 N D; a multiply-add is 2 FLOPs, so training is 2 x 3 = 6 FLOPs per parameter and token.":
            _hours(3.0),
        "that is the time on one GPU; the 8 GPUs share the work.": _hours(gpus=1),
        "that assumes 100% of the peak; the GPUs keep only 40% of it busy.": _hours(utilisation=1.0),
        "that is one GPU at 100% of its peak; use 8 GPUs at 40%.": _hours(gpus=1, utilisation=1.0),
        "312 TFLOP/s is the dense bf16 peak; 624 is with structured sparsity, which training does not use.":
            _hours(peak=624e12),
        "that looks like the right time in days; give it in hours.": _hours() / 24,
        "you divided by the utilisation; the GPUs deliver 0.4 x peak, so multiply the peak by 0.4.":
            _hours(utilisation=1 / EX5_UTILISATION),
        "that counts 8 N D (recomputing the activations); the rule here is 6 N D.": _hours(8.0),
        "19.5 TFLOP/s is the A100's fp32 peak without tensor cores; the run uses the bf16 peak, 312 TFLOP/s.":
            _hours(peak=19.5e12),
    })
    return (f"6 x 350e6 x 7e9 = {6 * EX5_PARAMS * EX5_TOKENS:.3g} FLOPs at 8 x 0.4 x 312e12 FLOP/s: "
            f"about {want:.1f} hours.")


ex5 = Exercise(
    "memory-flops-ex5",
    _check_hours,
    ["Two steps: how many FLOPs does the whole training run need, and how many FLOPs per second do the "
     "GPUs really deliver together?",
     "The rule is about 6 FLOPs per parameter per token; the delivered speed is GPUs x utilisation x peak. "
     "Divide, then turn seconds into hours."],
    "flops = 6 * 350e6 * 7e9                 # 1.47e19\nspeed = 8 * 0.4 * 312e12               # FLOP/s delivered\n"
    "answer = flops / speed / 3600          # about 4.09 hours",
    why="2 FLOPs per parameter and token forward and 4 backward, for every token of the data; the run "
    "then takes that many FLOPs at the speed the GPUs really deliver.",
    solution_text="One way to compute it:",
)
