"""lib.measure: structure and sanity only (no timing thresholds: speed depends on the machine)."""

import math
import statistics
from unittest import mock

import numpy as np
import pytest

from lib import ledger, measure


def test_time_call_returns_a_positive_median_and_calls_the_function():
    calls = []
    seconds = measure.time_call(lambda: calls.append(1), repeats=3, min_time=0.0)
    assert seconds > 0 and math.isfinite(seconds)
    assert len(calls) == 1 + 3  # one warm-up, then one call per repeat when min_time is 0


def test_time_call_loops_short_functions_up_to_min_time():
    calls = []
    measure.time_call(lambda: calls.append(1), repeats=2, min_time=1e-2)
    assert len(calls) > 3  # a trivial call is far shorter than 10 ms, so it is repeated


def test_time_call_min_is_at_most_the_median():
    # not a timing threshold: a fake clock makes the samples 3 s, 1 s and 2 s
    fake = iter([0.0, 1.0] + [t for pair in ((0.0, 3.0), (0.0, 1.0), (0.0, 2.0)) for t in pair])
    with mock.patch.object(measure.time, "perf_counter", lambda: next(fake)):
        assert measure.time_call(lambda: None, repeats=3, min_time=0.0, stat="min") == 1.0
    fake = iter([0.0, 1.0] + [t for pair in ((0.0, 3.0), (0.0, 1.0), (0.0, 2.0)) for t in pair])
    with mock.patch.object(measure.time, "perf_counter", lambda: next(fake)):
        assert measure.time_call(lambda: None, repeats=3, min_time=0.0) == statistics.median([3.0, 1.0, 2.0])


def test_gflops():
    assert measure.gflops(2e9, 1.0) == 2.0
    assert measure.gflops(0, 0.5) == 0.0
    with pytest.raises(ValueError, match="seconds must be a positive number"):
        measure.gflops(1e9, 0)
    with pytest.raises(ValueError, match="flops must be a non-negative number"):
        measure.gflops("1", 1.0)


def test_time_linear_pairs_the_ledger_with_a_measurement():
    r = measure.time_linear(4, 6, 5, repeats=2, min_time=0.0, rng=np.random.default_rng(0))
    assert set(r) == {"B", "D_in", "D_out", "dtype", "flops", "bytes", "intensity", "seconds", "gflops"}
    assert (r["B"], r["D_in"], r["D_out"], r["dtype"]) == (4, 6, 5, "fp32")
    assert r["flops"] == ledger.linear_flops(4, 6, 5) == 240
    assert r["bytes"] == (4 * 6 + 6 * 5 + 4 * 5) * 4  # X @ W alone: no bias in the traffic
    assert r["intensity"] == pytest.approx(240 / r["bytes"])
    assert r["seconds"] > 0 and r["gflops"] == pytest.approx(240 / r["seconds"] / 1e9)


def test_time_linear_fp64_counts_eight_bytes():
    r = measure.time_linear(2, 3, 4, dtype="fp64", repeats=1, min_time=0.0)
    assert r["bytes"] == (2 * 3 + 3 * 4 + 2 * 4) * 8


def test_sweep_linear_keeps_the_order():
    results = measure.sweep_linear([(1, 8, 8), (4, 8, 8), (2, 3, 5)], repeats=1, min_time=0.0)
    assert [(r["B"], r["D_in"], r["D_out"]) for r in results] == [(1, 8, 8), (4, 8, 8), (2, 3, 5)]
    assert results[0]["intensity"] < results[1]["intensity"]  # more rows reuse the same W


def test_peak_and_bandwidth_are_positive_finite_numbers():
    peak = measure.peak_gflops(64, repeats=2)
    bw = measure.bandwidth_gbs(400_000, repeats=2)
    for value in (peak, bw):
        assert isinstance(value, float) and value > 0 and math.isfinite(value)


@pytest.mark.parametrize(
    ("fn", "kwargs", "exc", "match"),
    [
        (measure.time_call, {"fn": 3}, TypeError, "fn must be callable"),
        (measure.time_call, {"fn": lambda: 0, "repeats": 0}, ValueError, "repeats must be a positive integer"),
        (measure.time_call, {"fn": lambda: 0, "min_time": -1}, ValueError, "min_time must be a number"),
        (measure.time_call, {"fn": lambda: 0, "stat": "mean"}, ValueError, "stat must be 'median' or 'min'"),
        (measure.time_linear, {"B": 0, "D_in": 2, "D_out": 2}, ValueError, "time_linear: B must be a positive"),
        (measure.time_linear, {"B": 2, "D_in": "2", "D_out": 2}, TypeError, "D_in must be a positive"),
        (measure.time_linear, {"B": 2, "D_in": 2, "D_out": 2, "dtype": "int8"}, ValueError, "dtype must be one of"),
        (measure.sweep_linear, {"shapes": []}, TypeError, "non-empty list"),
        (measure.sweep_linear, {"shapes": "abc"}, TypeError, "non-empty list"),
        (measure.sweep_linear, {"shapes": [(1, 2)]}, ValueError, r"shapes\[0\] should be a \(B, D_in, D_out\)"),
        (measure.peak_gflops, {"n": 0}, ValueError, "peak_gflops: n must be a positive"),
        (measure.peak_gflops, {"n": 8, "dtype": "bf16"}, ValueError, "dtype must be one of"),
        (measure.bandwidth_gbs, {"n_bytes": None}, TypeError, "n_bytes must be a positive integer"),
    ],
)
def test_bad_inputs_name_the_argument(fn, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fn(**kwargs)


def test_read_bandwidth_and_machine_info():
    gbs = measure.read_bandwidth_gbs(1 << 20, threads=2, repeats=1)
    assert gbs > 0
    info = measure.machine_info()
    assert info["cores"] == measure.usable_cores() >= 1
    assert info["cache_bytes"] is None or info["cache_bytes"] >= 1024


def test_read_bandwidth_starts_no_thread_in_the_browser(monkeypatch):
    """Pyodide cannot start threads: there the chunks are read in turn, and no pool is created."""
    monkeypatch.setattr(measure, "_NO_THREADS", True)
    with mock.patch.object(measure, "ThreadPoolExecutor", side_effect=RuntimeError("can't start new thread")):
        gbs = measure.read_bandwidth_gbs(1 << 20, threads=2, repeats=1)
    assert math.isfinite(gbs) and gbs > 0
