"""Shape ledgers and first-order costs: parameters, bytes, FLOPs, arithmetic intensity.

A ledger is data: an ordered list of tensors with a shape spec in letters ("B D_in"), a meaning
and a kind (input, parameter, activation, gradient). Bind the letters to sizes and it knows
every shape, element count and byte count, and can check real arrays against itself.
FLOPs of `(m, k) @ (k, n)` are `2*m*k*n`: one multiply and one add per term.

For one linear layer `Y = X @ W + b` with X (B, D_in), W (D_in, D_out), b (D_out,) (chapter
`memory-flops`):

- parameters       D_in*D_out + D_out, times the bytes per element of the dtype;
- forward FLOPs    2*B*D_in*D_out; forward + backward about 3x that (dW and dX are two more
                   matmuls of the same size);
- memory traffic   at least B*D_in + D_in*D_out + D_out + B*D_out elements read or written;
- intensity        FLOPs per byte moved; the roofline `min(peak, intensity * bandwidth)` bounds
                   the speed any kernel can reach. At small B (B << D_in, D_out, no bias) it is
                   about 2*B / bytes per element, so the layer turns compute-bound near the
                   batch `ridge_batch` where that reaches the machine's ridge peak / bandwidth.

A whole model's training costs (6ND FLOPs, weights + gradients + optimizer state + activations)
are in `lib.sizing` (`training_flops`, `training_memory`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from lib.shapes import as_array, as_number, as_positive_int, positive_ints

BYTES_PER_ELEMENT = {"fp64": 8, "fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}
_ALIASES = {"float64": "fp64", "float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}


def bytes_per_element(dtype: str | np.dtype | type, where: str = "bytes_per_element") -> int:
    """Bytes one element takes: 'fp32' -> 4, 'bf16' -> 2, np.float64 -> 8."""
    if isinstance(dtype, str):
        key = _ALIASES.get(dtype.lower(), dtype.lower())
        if key not in BYTES_PER_ELEMENT:
            raise ValueError(f"{where}: unknown dtype {dtype!r}; expected one of {sorted(BYTES_PER_ELEMENT)}.")
        return BYTES_PER_ELEMENT[key]
    if isinstance(dtype, (np.dtype, type)) and np.issubdtype(dtype, np.number):
        return np.dtype(dtype).itemsize
    raise TypeError(f"{where}: dtype must be a name like 'fp32' or a NumPy dtype, got {dtype!r}.")


def matmul_flops(m: int, k: int, n: int) -> int:
    """FLOPs of `(m, k) @ (k, n)`: 2*m*k*n."""
    m, k, n = (as_positive_int(v, name, "matmul_flops") for v, name in ((m, "m"), (k, "k"), (n, "n")))
    return 2 * m * k * n


def linear_params(D_in: int, D_out: int, bias: bool = True) -> int:
    """Trainable parameters of a linear layer: D_in*D_out weights plus D_out biases."""
    D_in, D_out = as_positive_int(D_in, "D_in", "linear_params"), as_positive_int(D_out, "D_out", "linear_params")
    return D_in * D_out + (D_out if bias else 0)


@dataclass(frozen=True)
class Row:
    name: str
    spec: tuple[str, ...]
    meaning: str
    kind: str  # "input", "parameter", "activation" or "gradient"


class Ledger:
    """An ordered table of tensors with symbolic shapes; bind sizes to get numbers.

    >>> led = Ledger(B=32, D_in=128, D_out=64).add("W", "D_in D_out", "weights", "parameter")
    >>> led.shape("W")
    (128, 64)
    """

    KINDS = ("input", "parameter", "activation", "gradient")

    def __init__(self, title: str = "", dtype: str = "fp32", **sizes: int):
        self.title, self.dtype = title, dtype
        self.bytes_per = bytes_per_element(dtype, "Ledger")
        self.sizes = {k: as_positive_int(v, k, "Ledger") for k, v in sizes.items()}
        self.rows: list[Row] = []

    def add(self, name: str, spec: str, meaning: str, kind: str = "activation") -> Ledger:
        """Add a row; returns the ledger so calls chain."""
        if kind not in self.KINDS:
            raise ValueError(f"Ledger.add: kind must be one of {self.KINDS}, got {kind!r}.")
        if not isinstance(spec, str):
            raise TypeError(f"Ledger.add: spec must be a string of letters such as 'B D_in', got {spec!r}.")
        letters = tuple(spec.split())
        unknown = [s for s in letters if not s.isdigit() and s not in self.sizes]
        if unknown:
            raise ValueError(f"Ledger.add: the spec of {name} uses {unknown} but the ledger only knows {sorted(self.sizes)}.")
        self.rows.append(Row(name, letters, meaning, kind))
        return self

    def _row(self, name: str) -> Row:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no row {name!r} in the ledger; rows are {[r.name for r in self.rows]}.")

    def shape(self, name: str) -> tuple[int, ...]:
        """The concrete shape of row `name`."""
        return tuple(int(s) if s.isdigit() else self.sizes[s] for s in self._row(name).spec)

    def elements(self, name: str) -> int:
        return int(np.prod(self.shape(name), dtype=np.int64))

    def nbytes(self, name: str) -> int:
        return self.elements(name) * self.bytes_per

    def total(self, kind: str, unit: str = "elements") -> int:
        """Sum of elements (or bytes, with unit='bytes') over the rows of one kind."""
        if kind not in self.KINDS:
            raise ValueError(f"Ledger.total: kind must be one of {self.KINDS}, got {kind!r}.")
        if unit not in ("elements", "bytes"):
            raise ValueError(f"Ledger.total: unit must be 'elements' or 'bytes', got {unit!r}.")
        n = sum(self.elements(r.name) for r in self.rows if r.kind == kind)
        return n * self.bytes_per if unit == "bytes" else n

    def check(self, **arrays: np.ndarray) -> Ledger:
        """Raise ValueError unless every given array has the shape and the bytes its row predicts."""
        for name, arr in arrays.items():
            want, got = self.shape(name), np.shape(arr)
            if want != got:
                spec = ", ".join(self._row(name).spec)
                raise ValueError(f"ledger check: {name} should be ({spec}) = {want}, got {got}.")
            nbytes = np.asarray(arr).nbytes
            if nbytes != self.nbytes(name):
                raise ValueError(f"ledger check: {name} should take {self.nbytes(name):,} bytes ({self.dtype}), "
                                 f"but the array takes {nbytes:,} ({np.asarray(arr).dtype}); "
                                 "state the dtype the arrays really have.")
        return self

    def records(self) -> list[dict]:
        """The table as a list of dicts, one per row."""
        return [
            {
                "tensor": r.name,
                "shape": "(" + ", ".join(r.spec) + ")",
                "size": self.shape(r.name),
                "elements": self.elements(r.name),
                "bytes": self.nbytes(r.name),
                "kind": r.kind,
                "meaning": r.meaning,
            }
            for r in self.rows
        ]

    def __repr__(self) -> str:
        head = f"{self.title}  " if self.title else ""
        lines = [f"{head}[{', '.join(f'{k}={v}' for k, v in self.sizes.items())}; {self.dtype}]"]
        for rec in self.records():
            lines.append(
                f"  {rec['tensor']:<6} {rec['shape']:<14} {str(rec['size']):<14} "
                f"{rec['elements']:>12,} el {rec['bytes']:>14,} B  {rec['kind']:<10} {rec['meaning']}"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        cols = ("tensor", "shape", "size", "elements", "bytes", "kind", "meaning")
        head = "".join(f"<th>{c}</th>" for c in cols)
        body = "".join(
            "<tr>"
            + "".join(
                f"<td>{esc(f'{rec[c]:,}' if isinstance(rec[c], int) else str(rec[c]))}</td>" for c in cols
            )
            + "</tr>"
            for rec in self.records()
        )
        sizes = ", ".join(f"{k} = {v:,}" for k, v in self.sizes.items())
        caption = esc(f"{self.title} ({sizes}; {self.dtype}, {self.bytes_per} bytes per element)".strip())
        return f'<table class="shape-ledger"><caption>{caption}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def linear_ledger(B: int, D_in: int, D_out: int, dtype: str = "fp32") -> Ledger:
    """The full ledger of one linear layer, forward and backward."""
    B, D_in, D_out = positive_ints("linear_ledger", B=B, D_in=D_in, D_out=D_out)
    bytes_per_element(dtype, "linear_ledger")
    return (
        Ledger("linear layer", dtype, B=B, D_in=D_in, D_out=D_out)
        .add("X", "B D_in", "mini-batch input, cached for backward", "input")
        .add("W", "D_in D_out", "trainable weights", "parameter")
        .add("b", "D_out", "trainable bias, broadcast over B", "parameter")
        .add("Y", "B D_out", "layer output", "activation")
        .add("dY", "B D_out", "upstream gradient", "gradient")
        .add("dW", "D_in D_out", "weight gradient  X.T @ dY", "gradient")
        .add("db", "D_out", "bias gradient  dY.sum(axis=0)", "gradient")
        .add("dX", "B D_in", "input gradient  dY @ W.T", "gradient")
    )


# ---------------------------------------------------------------- first-order costs of a layer
def param_bytes(D_in: int, D_out: int, dtype: str = "fp32", bias: bool = True) -> int:
    """Bytes of a linear layer's parameters: (D_in*D_out + D_out) * bytes per element.

    The batch size does not appear: every example shares the same W and b.
    """
    D_in, D_out = positive_ints("param_bytes", D_in=D_in, D_out=D_out)
    return linear_params(D_in, D_out, bias) * bytes_per_element(dtype, "param_bytes")


def linear_flops(B: int, D_in: int, D_out: int, backward: bool = False) -> int:
    """FLOPs of `X @ W` (2*B*D_in*D_out), or of forward + backward (3x) with backward=True.

    X (B, D_in), W (D_in, D_out). The backward pass is two more matmuls of the same size,
    dW = X.T @ dY and dX = dY @ W.T; the bias (add, then a sum for db) is left out.
    """
    B, D_in, D_out = positive_ints("linear_flops", B=B, D_in=D_in, D_out=D_out)
    forward = matmul_flops(B, D_in, D_out)  # (B, D_in) @ (D_in, D_out)
    return 3 * forward if backward else forward


def linear_traffic_elements(B: int, D_in: int, D_out: int, bias: bool = True) -> int:
    """Elements a forward pass must read or write at least once: X, W, b in; Y out.

    B*D_in + D_in*D_out + D_out + B*D_out (the D_out term only with a bias).
    """
    B, D_in, D_out = positive_ints("linear_traffic_elements", B=B, D_in=D_in, D_out=D_out)
    return B * D_in + D_in * D_out + (D_out if bias else 0) + B * D_out


def linear_traffic_bytes(B: int, D_in: int, D_out: int, dtype: str = "fp32", bias: bool = True) -> int:
    """Rough lower bound on the bytes a forward pass moves: traffic elements * bytes each."""
    B, D_in, D_out = positive_ints("linear_traffic_bytes", B=B, D_in=D_in, D_out=D_out)
    return linear_traffic_elements(B, D_in, D_out, bias) * bytes_per_element(dtype, "linear_traffic_bytes")


def arithmetic_intensity(flops: float, bytes_moved: float) -> float:
    """FLOPs per byte moved: high means compute-bound, low means memory-bound."""
    flops = as_number(flops, "flops", "arithmetic_intensity", positive=True)
    return flops / as_number(bytes_moved, "bytes_moved", "arithmetic_intensity", positive=True)


def roofline(intensity: float | np.ndarray, peak_gflops: float, bandwidth_gbs: float) -> float | np.ndarray:
    """Attainable GFLOP/s at a given intensity: min(peak, intensity * bandwidth).

    intensity in FLOP/byte (a number or an array), peak in GFLOP/s, bandwidth in GB/s.
    """
    peak = as_number(peak_gflops, "peak_gflops", "roofline", positive=True)
    bandwidth = as_number(bandwidth_gbs, "bandwidth_gbs", "roofline", positive=True)
    arr = as_array(intensity, "intensity", "roofline")
    if np.any(arr <= 0):
        raise ValueError(f"roofline: intensity must be positive, got minimum {arr.min()!r}.")
    out = np.minimum(peak, arr * bandwidth)
    return float(out) if out.ndim == 0 else out


def ridge_intensity(peak_gflops: float, bandwidth_gbs: float) -> float:
    """The intensity where the two roofs meet (FLOP/byte): peak / bandwidth."""
    peak = as_number(peak_gflops, "peak_gflops", "ridge_intensity", positive=True)
    return peak / as_number(bandwidth_gbs, "bandwidth_gbs", "ridge_intensity", positive=True)


def human_bytes(n: float) -> str:
    """Bytes in decimal units (1 MB = 10**6 bytes; 1 MiB = 2**20 is 4.9% more): 33024 -> '33.0 kB', 67108864 -> '67.1 MB'."""
    n = as_number(n, "n", "human_bytes", positive=True) if n != 0 else 0.0
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"


@dataclass(frozen=True)
class LinearCosts:
    """The first-order cost sheet of one linear layer (every count an exact integer)."""

    B: int  # examples in the batch
    T: int  # tokens per example (1 for plain vectors); the layer sees B*T rows
    D_in: int
    D_out: int
    dtype: str
    bias: bool
    params: int
    param_bytes: int
    cached_input_bytes: int  # X, kept for dW = X.T @ dY
    output_bytes: int  # Y
    forward_flops: int
    train_flops: int  # forward + backward
    traffic_bytes: int
    intensity: float  # forward FLOPs per byte of traffic

    @property
    def rows(self) -> int:
        """Rows of X: B, or B*T when every token is a row."""
        return self.B * self.T

    def records(self) -> list[tuple[str, str, str]]:
        """(quantity, formula, value) rows, in the order the chapter derives them."""
        b, r = (" + D_out" if self.bias else ""), ("B*T" if self.T > 1 else "B")
        return [
            ("parameters", f"D_in*D_out{b}", f"{self.params:,}"),
            (f"parameter bytes ({self.dtype})", "parameters * bytes", f"{self.param_bytes:,} ({human_bytes(self.param_bytes)})"),
            ("cached input X", f"{r}*D_in * bytes", f"{self.cached_input_bytes:,} ({human_bytes(self.cached_input_bytes)})"),
            ("output Y", f"{r}*D_out * bytes", f"{self.output_bytes:,} ({human_bytes(self.output_bytes)})"),
            ("forward FLOPs", f"2*{r}*D_in*D_out", f"{self.forward_flops:,}"),
            ("forward + backward FLOPs", "3 * forward", f"{self.train_flops:,}"),
            ("forward traffic bytes", f"({r}*D_in + D_in*D_out{b} + {r}*D_out) * bytes", f"{self.traffic_bytes:,} ({human_bytes(self.traffic_bytes)})"),
            ("arithmetic intensity", "forward FLOPs / traffic bytes", f"{self.intensity:,.2f} FLOP/byte"),
        ]

    def _head(self) -> str:
        tokens = f", T={self.T:,} (B*T = {self.rows:,} rows)" if self.T > 1 else ""
        return f"linear layer B={self.B:,}{tokens}, D_in={self.D_in:,}, D_out={self.D_out:,}, {self.dtype}, bias={self.bias}"

    def __str__(self) -> str:
        return "\n".join([self._head()] + [f"  {q:<26} {f:<52} {v}" for q, f, v in self.records()])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        esc = html.escape
        body = "".join(f"<tr><td>{esc(q)}</td><td><code>{esc(f)}</code></td><td>{esc(v)}</td></tr>" for q, f, v in self.records())
        return (f'<table class="cost-sheet"><caption>{esc(self._head())}</caption><thead><tr><th>quantity</th>'
                f"<th>formula</th><th>value</th></tr></thead><tbody>{body}</tbody></table>")


def linear_costs(B: int, D_in: int, D_out: int, dtype: str = "fp32", *, bias: bool = True, T: int = 1) -> LinearCosts:
    """Every first-order cost of one linear layer; with T tokens per example the layer sees B*T rows.

    X (B*T, D_in), W (D_in, D_out), b (D_out,) -> Y (B*T, D_out)
    """
    B, T, D_in, D_out = positive_ints("linear_costs", B=B, T=T, D_in=D_in, D_out=D_out)
    rows = B * T  # (B, T, D_in) reshaped to (B*T, D_in): every token is a row
    per = bytes_per_element(dtype, "linear_costs")
    forward = linear_flops(rows, D_in, D_out)
    traffic = linear_traffic_bytes(rows, D_in, D_out, dtype, bias)
    return LinearCosts(
        B=B, T=T, D_in=D_in, D_out=D_out, dtype=str(dtype), bias=bias,
        params=linear_params(D_in, D_out, bias),
        param_bytes=param_bytes(D_in, D_out, dtype, bias),
        cached_input_bytes=rows * D_in * per,
        output_bytes=rows * D_out * per,
        forward_flops=forward,
        train_flops=linear_flops(rows, D_in, D_out, backward=True),
        traffic_bytes=traffic,
        intensity=forward / traffic,
    )


# ---------------------------------------------------------------- rules for whole models
def roofline_time(flops: float, bytes_moved: float, peak_gflops: float, bandwidth_gbs: float) -> float:
    """Lower bound on the seconds a kernel takes: max(flops / peak, bytes / bandwidth).

    peak in GFLOP/s and bandwidth in GB/s (10**9, not 2**30); the larger term is the bound that binds.
    """
    flops = as_number(flops, "flops", "roofline_time", positive=True)
    moved = as_number(bytes_moved, "bytes_moved", "roofline_time", positive=True)
    peak = as_number(peak_gflops, "peak_gflops", "roofline_time", positive=True)
    bandwidth = as_number(bandwidth_gbs, "bandwidth_gbs", "roofline_time", positive=True)
    return max(flops / (peak * 1e9), moved / (bandwidth * 1e9))


def ridge_batch(D_in: int, D_out: int, peak_gflops: float, bandwidth_gbs: float, dtype: str = "bf16",
                *, bias: bool = False) -> int | None:
    """Smallest batch of rows B whose forward pass is compute-bound: intensity(B) >= peak / bandwidth.

    Exact for this module's traffic model, solved for B:
    2*B*D_in*D_out >= ridge * bytes * (B*(D_in + D_out) + D_in*D_out + D_out*bias).
    At small B the intensity is about 2*B / bytes, so the answer is close to ridge * bytes / 2.
    None when no batch is enough (the large-B limit D_in*D_out / ((D_in + D_out) * bytes / 2) stays
    below the ridge).
    """
    D_in, D_out = positive_ints("ridge_batch", D_in=D_in, D_out=D_out)
    ridge = ridge_intensity(as_number(peak_gflops, "peak_gflops", "ridge_batch", positive=True),
                            as_number(bandwidth_gbs, "bandwidth_gbs", "ridge_batch", positive=True))
    per = bytes_per_element(dtype, "ridge_batch")
    slope = 2 * D_in * D_out - ridge * per * (D_in + D_out)  # FLOPs minus ridge * bytes, per row
    if slope <= 0:
        return None
    B = int(np.ceil(ridge * per * (D_in * D_out + (D_out if bias else 0)) / slope))
    while B > 1 and linear_flops(B - 1, D_in, D_out) >= ridge * linear_traffic_bytes(B - 1, D_in, D_out, dtype, bias):
        B -= 1  # guard against rounding in the ceiling
    while linear_flops(B, D_in, D_out) < ridge * linear_traffic_bytes(B, D_in, D_out, dtype, bias):
        B += 1
    return max(B, 1)
