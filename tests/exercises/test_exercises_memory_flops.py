"""lib.exercises.memory_flops: several right answers pass, every named bug gets its own sentence."""

from __future__ import annotations

import numpy as np
import pytest

from lib import ledger, sizing
from lib.exercises.memory_flops import WORKLOADS, ex1, ex2, ex3, ex4, ex5


def _said(result, fragment: str) -> bool:
    return result.status == "incorrect" and fragment.lower() in result.message.lower()


def _distinct(ex, answers) -> None:
    messages = [ex.check(a).message for a in answers]
    assert len(set(messages)) == len(messages), messages


# ---------------------------------------------------------------- ex1: activation memory
def _mlp_loop(B, T, d, per):
    total = 0
    for width in (d, 4 * d):  # the input of each layer
        total += B * T * width * per
    return total


RIGHT_1 = [lambda B, T, d, p: B * T * 5 * d * p, _mlp_loop, lambda B, T, d, p: np.float32(5 * B * T * d * p),
           lambda B, T, d, p: [B * T * d * p + B * T * 4 * d * p],
           lambda B, T, d, p: ledger.linear_costs(B, d, 4 * d, "fp32", T=T).cached_input_bytes * p // 4
           + ledger.linear_costs(B, 4 * d, d, "fp32", T=T).cached_input_bytes * p // 4]
BUGS_1 = [
    (lambda B, T, d, p: B * 5 * d * p, "left out T"),
    (lambda B, T, d, p: B * T * d * p, "counted only X"),
    (lambda B, T, d, p: B * T * 4 * d * p, "counted only H"),
    (lambda B, T, d, p: B * T * 2 * d * p, "4d wide, not d"),
    (lambda B, T, d, p: B * T * 10 * d * p, "counted the two layers' outputs"),
    (lambda B, T, d, p: B * T * 6 * d * p, "counted X twice"),
    (lambda B, T, d, p: B * T * 9 * d * p, "activation function's input"),
    (lambda B, T, d, p: B * T * 5 * d, "elements, not bytes"),
    (lambda B, T, d, p: B * T * 5 * d * 4, "hard-coded 4 bytes"),
    (lambda B, T, d, p: B * T * 5 * d * 2, "hard-coded 2 bytes"),
    (lambda B, T, d, p: B * T * 5 * d * p / 1e6, "in MB"),
    (lambda B, T, d, p: B * T * 5 * d * p / 2**20, "in MiB"),
    (lambda B, T, d, p: B * T * 5 * d * p * 8, "bits"),
]


@pytest.mark.parametrize("fn", RIGHT_1)
def test_ex1_right(fn):
    assert ex1.check(fn).ok, ex1.check(fn)


@pytest.mark.parametrize(("fn", "fragment"), BUGS_1)
def test_ex1_bugs(fn, fragment):
    assert _said(ex1.check(fn), fragment), ex1.check(fn)


def test_ex1_distinct_and_not_fooled_by_a_hard_coded_case():
    _distinct(ex1, [fn for fn, _ in BUGS_1])
    result = ex1.check(lambda B, T, d, p: 8 * 2048 * 5 * 4096 * 2)  # right for the first case only
    assert result.status == "incorrect" and "hard-coded" not in result.message


# ---------------------------------------------------------------- ex2: roofline time on the A100
def _a100(B, i, o):
    return max(2 * B * i * o / 312e12, (B * i + i * o + B * o) * 2 / 2039e9)


def _a100_ledger(B, i, o):
    c = ledger.linear_costs(B, i, o, "bf16", bias=False)
    return ledger.roofline_time(c.forward_flops, c.traffic_bytes, 312_000, 2_039)


def _a100_if(B, i, o):
    compute = 2.0 * B * i * o / 312e12
    memory = 2.0 * (B * i + i * o + B * o) / 2039e9
    return np.float32(compute if compute > memory else memory)


def _a100_loop(B, i, o):
    moved = sum(2 * rows * cols for rows, cols in ((B, i), (i, o), (B, o)))  # X, W, Y in bf16
    return max(float(np.float32(2 * B * i * o)) / 312e12, moved / 2039e9)


@pytest.mark.parametrize("fn", [_a100, _a100_ledger, _a100_if, _a100_loop])
def test_ex2_right(fn):
    assert ex2.check(fn).ok, ex2.check(fn)


def _parts(B, i, o, per=2, bias=0, factor=2):
    return factor * B * i * o / 312e12, (B * i + i * o + bias * o + B * o) * per / 2039e9


BUGS_2 = [
    (lambda *c: sum(_parts(*c)), "added the two times"),
    (lambda *c: min(_parts(*c)), "smaller time"),
    (lambda *c: _parts(*c)[1], "memory time alone"),
    (lambda *c: _parts(*c)[0], "compute time alone"),
    (lambda *c: max(_parts(*c, per=4)), "4 bytes per element"),
    (lambda *c: max(_parts(*c, bias=1)), "no bias"),
    (lambda *c: max(_parts(*c, factor=1)), "factor 2"),
    (lambda B, i, o: max(2 * B * i * o / 312e12, 2 * i * o / 2039e9), "only the weights"),
    (lambda *c: max(_parts(*c)[0], _parts(*c)[1] * 1e9 / 2**30), "GiB"),
    (lambda *c: _a100(*c) * 1e3, "milliseconds"),
    (lambda *c: _a100(*c) * 1e6, "microseconds"),
    # the slips a square layer hides: each gives its own number on the non-square memory-bound cases
    (lambda B, i, o: max(2 * B * i * o / 312e12, (B * i + i * i + B * o) * 2 / 2039e9), "colleague's bug"),
    (lambda B, i, o: max(2 * B * i * o / 312e12, (B * i + o * o + B * o) * 2 / 2039e9), "not D_out*D_out"),
    (lambda B, i, o: max(2 * B * i * o / 312e12, (B * i + i * o + B * i) * 2 / 2039e9), "not B*D_in"),
    (lambda B, i, o: max(2 * B * i * o / 312e12, (B * o + i * o + B * o) * 2 / 2039e9), "not B*D_out"),
    (lambda B, i, o: max(2 * B * i * o / 312e12, (i * o + B * o) * 2 / 2039e9), "leaves out X"),
    (lambda B, i, o: max(2 * B * i * o / 312e12, (B * i + i * o) * 2 / 2039e9), "leaves out Y"),
    (lambda B, i, o: max(2 * B * i * o / 19.5e12, (B * i + i * o + B * o) * 2 / 2039e9), "fp32 peak"),
    (lambda B, i, o: max(2 * B * i * o / 156e12, (B * i + i * o + B * o) * 2 / 2039e9), "TF32 peak"),
]


@pytest.mark.parametrize(("fn", "fragment"), BUGS_2)
def test_ex2_bugs(fn, fragment):
    assert _said(ex2.check(fn), fragment), ex2.check(fn)


def test_ex2_distinct():
    _distinct(ex2, [fn for fn, _ in BUGS_2])


# ---------------------------------------------------------------- ex3: memory- or compute-bound
RIGHT_3 = [["memory", "memory", "compute", "compute", "memory"],
           ("Memory-bound", " memory bound", "compute-bound", "COMPUTE", "mem"),
           ["'memory'", "memory", "compute", "compute bound", "memory"],
           ["m", "M", "c", "C", "m"]]


@pytest.mark.parametrize("answer", RIGHT_3)
def test_ex3_right(answer):
    assert ex3.check(answer).ok, ex3.check(answer)


def test_ex3_the_answer_follows_the_ledger():
    ridge = 312e12 / 2039e9
    shapes = [(1, 4096, 11008), (64, 4096, 11008), (2048, 4096, 11008), (256, 4096, 4096), (4096, 128, 64)]
    assert len(shapes) == len(WORKLOADS)
    truth = ["compute" if ledger.linear_costs(*s, "bf16", bias=False).intensity >= ridge else "memory" for s in shapes]
    assert truth == RIGHT_3[0]


@pytest.mark.parametrize(("answer", "fragment"), [
    (["compute", "compute", "memory", "memory", "compute"], "every answer is swapped"),
    (["memory", "compute", "compute", "compute", "memory"], "workload 2: 64 rows"),
    (["memory", "memory", "memory", "compute", "memory"], "workload 3: 2,048 rows"),
    (["memory", "memory", "compute", "memory", "memory"], "workload 4: 256 rows"),
    (["memory", "memory", "compute", "compute", "compute"], "never reaches the ridge"),
    (["memory"] * 4, "list of 5"),
    (["memory", "memory", "compute", "compute", "fast"], "item 5"),
])
def test_ex3_wrong(answer, fragment):
    assert _said(ex3.check(answer), fragment), ex3.check(answer)


# ---------------------------------------------------------------- ex4: fine-tuning memory
RIGHT_4 = [lambda n, t, a: 4 * n + 12 * t + a, lambda n, t, a: 4 * (n - t) + 16 * t + a,
           lambda n, t, a: np.float32(sizing.training_memory(t, a).total + 4 * (n - t)),
           lambda n, t, a: sum([4 * n, 4 * t, 8 * t, a])]
BUGS_4 = [
    (lambda n, t, a: 16 * n + a, "frozen parameters need no gradient"),
    (lambda n, t, a: 16 * t + a, "frozen weights are still in memory"),
    (lambda n, t, a: 4 * n + 4 * t + a, "left out adam's state"),
    (lambda n, t, a: 4 * n + 8 * t + a, "either you left out the gradients"),
    (lambda n, t, a: 4 * n + 12 * t, "left out the activations"),
    (lambda n, t, a: 4 * n + a, "weights only"),
    (lambda n, t, a: 4 * n + 16 * t + a, "master copy"),
    (lambda n, t, a: 2 * n + 6 * t + a, "not 2"),
    (lambda n, t, a: (4 * n + 12 * t + a) / 1e9, "in GB"),
    (lambda n, t, a: (4 * n + 12 * t + a) / 2**30, "in GiB"),
]


@pytest.mark.parametrize("fn", RIGHT_4)
def test_ex4_right(fn):
    assert ex4.check(fn).ok, ex4.check(fn)


@pytest.mark.parametrize(("fn", "fragment"), BUGS_4)
def test_ex4_bugs(fn, fragment):
    assert _said(ex4.check(fn), fragment), ex4.check(fn)


def test_ex4_distinct():
    _distinct(ex4, [fn for fn, _ in BUGS_4])


# ---------------------------------------------------------------- ex5: 6ND in hours
HOURS = 6 * 350e6 * 7e9 / (8 * 0.4 * 312e12) / 3600


@pytest.mark.parametrize("answer", [HOURS, 4.09, np.float32(HOURS), np.array(4.09), round(HOURS, 2)])
def test_ex5_right(answer):
    assert ex5.check(answer).ok, ex5.check(answer)


BUGS_5 = [
    (HOURS / 3, "forward pass alone"),
    (HOURS * 8, "one gpu; the 8 gpus"),
    (HOURS * 0.4, "assumes 100%"),
    (HOURS * 8 * 0.4, "one gpu at 100%"),
    (HOURS * 3600, "in s"),
    (HOURS * 60, "in min"),
    (HOURS / 2, "either"),  # 3ND and the sparse peak give the same number
]


@pytest.mark.parametrize(("answer", "fragment"), BUGS_5)
def test_ex5_bugs(answer, fragment):
    assert _said(ex5.check(answer), fragment), ex5.check(answer)


def test_ex5_distinct_and_the_either():
    _distinct(ex5, [a for a, _ in BUGS_5])
    message = ex5.check(HOURS / 2).message
    assert "3 N D" in message and "sparsity" in message
