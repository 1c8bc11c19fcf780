"""Timing helpers: how fast this machine really multiplies matrices and copies memory.

Pure measurement, no plotting (the chapter `memory-flops` draws the pictures). Every timing is
the median of several repeats, each repeat long enough (an inner loop, like `timeit`'s
autorange) that the clock's resolution does not matter. Results depend on the machine and on
whatever else it is doing: use them for shapes of curves, not as constants.

Letters: B batch rows, D_in / D_out features in and out, n the side of a square matrix.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from lib.ledger import arithmetic_intensity, bytes_per_element, linear_flops, linear_traffic_bytes
from lib.shapes import as_positive_int, as_rng, positive_ints

_NO_THREADS = sys.platform == "emscripten"  # the browser's Python (Pyodide) cannot start threads
_NUMPY_DTYPES = {"fp64": np.float64, "fp32": np.float32, "fp16": np.float16}


def _float_dtype(dtype: str, where: str) -> type:
    if dtype not in _NUMPY_DTYPES:
        raise ValueError(f"{where}: dtype must be one of {sorted(_NUMPY_DTYPES)}, got {dtype!r}.")
    return _NUMPY_DTYPES[dtype]


def _timing(repeats: object, min_time: object, where: str) -> tuple[int, float]:
    """Validate the two knobs every timing function takes."""
    repeats = as_positive_int(repeats, "repeats", where)
    if not (isinstance(min_time, (int, float)) and not isinstance(min_time, bool) and 0 <= min_time <= 10):
        raise ValueError(f"{where}: min_time must be a number of seconds in [0, 10], got {min_time!r}.")
    return repeats, float(min_time)


def _generator(rng: object, where: str) -> np.random.Generator:
    return np.random.default_rng(0) if rng is None else as_rng(rng, where)


def time_call(fn: Callable[[], object], *, repeats: int = 5, min_time: float = 1e-3,
              stat: str = "median") -> float:
    """Seconds of one call of `fn()`: the median (or the min) of `repeats` samples of >= `min_time`.

    One untimed warm-up call first (caches, thread pools, lazy allocation). The median is the
    typical speed; the min, the best the machine managed, is the right statistic for a peak.
    """
    if not callable(fn):
        raise TypeError(f"time_call: fn must be callable (a function of no arguments), got {type(fn).__name__}.")
    repeats, min_time = _timing(repeats, min_time, "time_call")
    if stat not in ("median", "min"):
        raise ValueError(f"time_call: stat must be 'median' or 'min', got {stat!r}.")
    t0 = time.perf_counter()
    fn()  # warm-up, and a first guess at the cost of one call
    once = max(time.perf_counter() - t0, 1e-7)
    number = max(1, int(np.ceil(min_time / once)))
    samples = []
    for _ in range(repeats):
        while True:
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            elapsed = time.perf_counter() - t0
            if elapsed > 0:  # a browser's clock (Pyodide) ticks every 0.1 ms: run more calls until it moves
                break
            number *= 2
        samples.append(elapsed / number)
    return statistics.median(samples) if stat == "median" else min(samples)


def gflops(flops: float, seconds: float) -> float:
    """Achieved speed in GFLOP/s: flops / seconds / 1e9."""
    if not (isinstance(flops, (int, float, np.number)) and flops >= 0):
        raise ValueError(f"gflops: flops must be a non-negative number, got {flops!r}.")
    if not (isinstance(seconds, (int, float, np.number)) and seconds > 0):
        raise ValueError(f"gflops: seconds must be a positive number, got {seconds!r}.")
    return float(flops) / float(seconds) / 1e9


def time_linear(
    B: int, D_in: int, D_out: int, *, dtype: str = "fp32", repeats: int = 5,
    min_time: float = 1e-3, rng: np.random.Generator | None = None,
) -> dict:
    """Time `X @ W` for one layer shape and return the ledger's prediction next to the measurement.

    X (B, D_in), W (D_in, D_out) -> keys B, D_in, D_out, flops, bytes, intensity, seconds, gflops
    """
    B, D_in, D_out = positive_ints("time_linear", B=B, D_in=D_in, D_out=D_out)
    repeats, min_time = _timing(repeats, min_time, "time_linear")
    np_dtype = _float_dtype(dtype, "time_linear")
    rng = _generator(rng, "time_linear")
    X = rng.standard_normal((B, D_in)).astype(np_dtype)  # (B, D_in)
    W = rng.standard_normal((D_in, D_out)).astype(np_dtype)  # (D_in, D_out)
    seconds = time_call(lambda: X @ W, repeats=repeats, min_time=min_time)  # (B, D_in) @ (D_in, D_out) -> (B, D_out)
    flops = linear_flops(B, D_in, D_out)
    moved = linear_traffic_bytes(B, D_in, D_out, dtype, bias=False)  # X @ W alone: no bias
    return {
        "B": B, "D_in": D_in, "D_out": D_out, "dtype": dtype,
        "flops": flops, "bytes": moved, "intensity": arithmetic_intensity(flops, moved),
        "seconds": seconds, "gflops": gflops(flops, seconds),
    }


def sweep_linear(
    shapes: Sequence[tuple[int, int, int]], *, dtype: str = "fp32", repeats: int = 5,
    min_time: float = 1e-3, rng: np.random.Generator | None = None,
) -> list[dict]:
    """`time_linear` for every (B, D_in, D_out) in `shapes`, in order."""
    if isinstance(shapes, (str, bytes)) or not isinstance(shapes, Sequence) or len(shapes) == 0:
        raise TypeError(f"sweep_linear: shapes must be a non-empty list of (B, D_in, D_out) tuples, got {shapes!r}.")
    for i, s in enumerate(shapes):
        if not (isinstance(s, (tuple, list)) and len(s) == 3):
            raise ValueError(f"sweep_linear: shapes[{i}] should be a (B, D_in, D_out) triple, got {s!r}.")
        positive_ints(f"sweep_linear: shapes[{i}]", B=s[0], D_in=s[1], D_out=s[2])
    repeats, min_time = _timing(repeats, min_time, "sweep_linear")
    _float_dtype(dtype, "sweep_linear")
    rng = _generator(rng, "sweep_linear")
    return [time_linear(*s, dtype=dtype, repeats=repeats, min_time=min_time, rng=rng) for s in shapes]


def peak_gflops(n: int = 1024, *, dtype: str = "fp32", repeats: int = 7) -> float:
    """Estimate the machine's peak matmul speed (GFLOP/s) from the best of several large `A @ A`.

    A (n, n) @ A (n, n) -> (n, n): 2*n**3 FLOPs, high enough intensity to be compute-bound.
    """
    n = as_positive_int(n, "n", "peak_gflops")
    repeats, _ = _timing(repeats, 0.0, "peak_gflops")
    A = np.random.default_rng(0).standard_normal((n, n)).astype(_float_dtype(dtype, "peak_gflops"))
    seconds = time_call(lambda: A @ A, repeats=repeats, min_time=0.0, stat="min")  # (n, n) @ (n, n) -> (n, n)
    return gflops(2 * n**3, seconds)


def bandwidth_gbs(n_bytes: int = 64_000_000, *, repeats: int = 7) -> float:
    """Estimate memory bandwidth (GB/s) from the best of several copies of one large array, on one core.

    A copy reads n_bytes and writes n_bytes, so it moves 2 * n_bytes. `np.copyto` runs on one
    thread, so on a multicore machine this is less than a multithreaded matmul can stream; for a
    roof that matches BLAS use `read_bandwidth_gbs`. Make the array larger than the caches, or
    this measures a cache instead.
    """
    n_bytes = as_positive_int(n_bytes, "n_bytes", "bandwidth_gbs")
    repeats, _ = _timing(repeats, 0.0, "bandwidth_gbs")
    n = max(1, n_bytes // bytes_per_element("fp32"))
    src = np.ones(n, dtype=np.float32)
    dst = np.empty_like(src)
    seconds = time_call(lambda: np.copyto(dst, src), repeats=repeats, min_time=0.0, stat="min")
    return 2 * src.nbytes / seconds / 1e9


def usable_cores() -> int:
    """Cores this process may run on (the affinity mask where the OS has one, else os.cpu_count())."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def last_level_cache_bytes() -> int | None:
    """Bytes of last-level cache the usable cores can reach together (each cache counted once), or None.

    Read from /sys/devices/system/cpu/cpu*/cache on Linux: the highest cache level, one entry per
    distinct instance shared by the cores this process may run on. (`lscpu` adds up every
    instance on the chip, including those of cores this process never runs on.)
    """
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = list(range(os.cpu_count() or 1))
    seen: dict[tuple[int, str], int] = {}
    for cpu in cpus:
        for index in Path(f"/sys/devices/system/cpu/cpu{cpu}/cache").glob("index*"):
            try:
                level = int((index / "level").read_text())
                text = (index / "size").read_text().strip()
                shared = (index / "shared_cpu_list").read_text().strip()
                size = int(text.rstrip("KMG")) * {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:], 1)
            except (OSError, ValueError):
                continue
            seen[(level, shared)] = size
    if not seen:
        return None
    top = max(level for level, _ in seen)
    return sum(size for (level, _), size in seen.items() if level == top)


def machine_info() -> dict:
    """What produced a measurement: processor name, usable cores, their last-level cache, NumPy version."""
    model = "unknown processor"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"processor": model, "cores": usable_cores(), "cache_bytes": last_level_cache_bytes(),
            "numpy": np.__version__}


def read_bandwidth_gbs(n_bytes: int = 256 * 2**20, *, threads: int | None = None, repeats: int = 7) -> float:
    """Estimate how fast all cores together can read memory (GB/s): the best of several timed reads.

    One fp32 array of n_bytes is split into `threads` chunks (default: every usable core, as BLAS
    uses them) and each thread reads its chunk (a max, one comparison per element; NumPy releases
    the interpreter lock while it runs). Make n_bytes several times the last-level cache, or this
    measures the cache. This is the roof that matches a matmul: it reads on every core and writes little.
    In the browser (Pyodide) there are no threads: the chunks are read one after another, on one core.
    """
    n_bytes = as_positive_int(n_bytes, "n_bytes", "read_bandwidth_gbs")
    threads = usable_cores() if threads is None else as_positive_int(threads, "threads", "read_bandwidth_gbs")
    repeats, _ = _timing(repeats, 0.0, "read_bandwidth_gbs")
    data = np.ones(max(threads, n_bytes // 4), dtype=np.float32)
    chunks = np.array_split(data, threads)
    if _NO_THREADS:  # Pyodide: starting a thread raises RuntimeError
        seconds = time_call(lambda: [np.max(c) for c in chunks], repeats=repeats, min_time=0.0, stat="min")
        return data.nbytes / seconds / 1e9
    with ThreadPoolExecutor(threads) as pool:
        seconds = time_call(lambda: list(pool.map(np.max, chunks)), repeats=repeats, min_time=0.0, stat="min")
    return data.nbytes / seconds / 1e9
