"""Shape ledgers and first-order costs: parameters, bytes, FLOPs, arithmetic intensity.

A ledger is data: an ordered list of tensors with a shape spec in letters ("B D_in"), a meaning
and a kind (input, parameter, activation, gradient). Bind the letters to sizes and it knows
every shape, element count and byte count, and can check real arrays against itself.
FLOPs of `(m, k) @ (k, n)` are `2*m*k*n`: one multiply and one add per term.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from lib.shapes import as_positive_int

BYTES_PER_ELEMENT = {"fp64": 8, "fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}
_ALIASES = {"float64": "fp64", "float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}


def bytes_per_element(dtype: str | np.dtype | type) -> int:
    """Bytes one element takes: 'fp32' -> 4, 'bf16' -> 2, np.float64 -> 8."""
    if isinstance(dtype, str):
        key = _ALIASES.get(dtype.lower(), dtype.lower())
        if key not in BYTES_PER_ELEMENT:
            raise ValueError(f"unknown dtype {dtype!r}; expected one of {sorted(BYTES_PER_ELEMENT)}.")
        return BYTES_PER_ELEMENT[key]
    try:
        return np.dtype(dtype).itemsize
    except TypeError:
        raise TypeError(f"dtype must be a name like 'fp32' or a NumPy dtype, got {dtype!r}.") from None


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
        self.bytes_per = bytes_per_element(dtype)
        self.sizes = {k: as_positive_int(v, k, "Ledger") for k, v in sizes.items()}
        self.rows: list[Row] = []

    def add(self, name: str, spec: str, meaning: str, kind: str = "activation") -> Ledger:
        """Add a row; returns the ledger so calls chain."""
        if kind not in self.KINDS:
            raise ValueError(f"Ledger.add: kind must be one of {self.KINDS}, got {kind!r}.")
        letters = tuple(spec.split())
        unknown = [s for s in letters if not s.isdigit() and s not in self.sizes]
        if unknown:
            raise ValueError(f"Ledger.add: {name} uses {unknown} but the ledger only knows {sorted(self.sizes)}.")
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
        n = sum(self.elements(r.name) for r in self.rows if r.kind == kind)
        return n * self.bytes_per if unit == "bytes" else n

    def check(self, **arrays: np.ndarray) -> Ledger:
        """Raise ValueError unless every given array has the shape its row predicts."""
        for name, arr in arrays.items():
            want, got = self.shape(name), np.shape(arr)
            if want != got:
                spec = ", ".join(self._row(name).spec)
                raise ValueError(f"ledger check: {name} should be ({spec}) = {want}, got {got}.")
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
