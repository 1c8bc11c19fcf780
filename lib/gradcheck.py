"""Finite-difference gradient checks with one readable reporter.

The central difference `(L(p + eps) - L(p - eps)) / (2 eps)` estimates dL/dp for one entry p with
error of order eps^2. Comparing it with an analytic gradient catches sign errors, transposes,
missing batch sums and wrong reductions. The verdict is a relative error,

    rel = max|analytic - numeric| / max(max|analytic|, max|numeric|),

about 1e-7 or smaller for a correct float64 gradient with eps = 1e-5, 1e-2 or worse for a bug.
Check on non-zero, non-symmetric values: zeros and symmetric inputs hide wrong backward passes.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lib.shapes import as_array


def numerical_gradient(
    loss: Callable[[], float],
    param: np.ndarray,
    *,
    eps: float = 1e-5,
    entries: list[tuple[int, ...]] | None = None,
) -> np.ndarray:
    """Central differences of `loss()` with respect to `param`, which is nudged in place and restored.

    param (any shape) -> grad (same shape); with `entries`, only those are computed (others are NaN).
    """
    if not isinstance(param, np.ndarray) or not np.issubdtype(param.dtype, np.floating):
        raise TypeError("numerical_gradient: param must be a float ndarray that loss() reads (it is nudged in place).")
    if not eps > 0:
        raise ValueError(f"numerical_gradient: eps must be positive, got {eps}.")
    grad = np.full(param.shape, np.nan) if entries is not None else np.zeros(param.shape)
    for idx in entries if entries is not None else np.ndindex(param.shape):
        old = param[idx]
        param[idx] = old + eps
        plus = float(loss())
        param[idx] = old - eps
        minus = float(loss())
        param[idx] = old
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """max|a - n| / max(max|a|, max|n|), ignoring NaN entries of `numeric`; 0 when both are 0."""
    a, n = as_array(analytic, "analytic", "relative_error"), as_array(numeric, "numeric", "relative_error", finite=False)
    if a.shape != n.shape:
        raise ValueError(f"relative_error: analytic has shape {a.shape} but numeric has shape {n.shape}.")
    mask = ~np.isnan(n)
    if not mask.any():
        raise ValueError("relative_error: numeric has no computed entries.")
    a, n = a[mask], n[mask]
    scale = max(np.abs(a).max(), np.abs(n).max())
    return 0.0 if scale == 0 else float(np.abs(a - n).max() / scale)


@dataclass(frozen=True)
class GradCheck:
    name: str
    shape: tuple[int, ...]
    checked: int
    max_abs_diff: float
    rel_error: float
    tol: float

    @property
    def ok(self) -> bool:
        return self.rel_error <= self.tol


class GradReport:
    """One line per tensor: entries checked, max abs diff, relative error, pass or FAIL."""

    def __init__(self, rows: list[GradCheck]):
        self.rows = rows

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def __getitem__(self, name: str) -> GradCheck:
        return next(r for r in self.rows if r.name == name)

    def __repr__(self) -> str:
        lines = [f"{'tensor':<8}{'shape':<14}{'checked':>8}{'max |diff|':>13}{'rel error':>12}  verdict"]
        for r in self.rows:
            verdict = "ok" if r.ok else f"FAIL (> {r.tol:g})"
            lines.append(f"{r.name:<8}{str(r.shape):<14}{r.checked:>8}{r.max_abs_diff:>13.2e}{r.rel_error:>12.2e}  {verdict}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(repr(self))}</pre>"


def check_gradients(
    loss: Callable[[], float],
    params: dict[str, np.ndarray],
    grads: dict[str, np.ndarray],
    *,
    eps: float = 1e-5,
    tol: float = 1e-6,
    samples: int | None = None,
    rng: np.random.Generator | None = None,
) -> GradReport:
    """Compare analytic `grads` with central differences of `loss()` for every tensor in `params`.

    `loss()` must read the arrays in `params` (they are nudged in place). With `samples`, only that
    many random entries per tensor are checked (pass `rng` for reproducibility).
    """
    missing = set(params) ^ set(grads)
    if missing:
        raise ValueError(f"check_gradients: params and grads must name the same tensors; unmatched: {sorted(missing)}.")
    rows = []
    for name, param in params.items():
        grad = as_array(grads[name], f"grads[{name!r}]", "check_gradients", finite=False)
        if grad.shape != np.shape(param):
            raise ValueError(f"check_gradients: grads[{name!r}] has shape {grad.shape} but {name} has shape {np.shape(param)}.")
        entries = None
        if samples is not None and samples < param.size:
            rng = rng if rng is not None else np.random.default_rng(0)
            flat = rng.choice(param.size, size=samples, replace=False)
            entries = [tuple(int(i) for i in np.unravel_index(k, param.shape)) for k in flat]
        numeric = numerical_gradient(loss, param, eps=eps, entries=entries)
        mask = ~np.isnan(numeric)
        diff = np.abs(grad[mask] - numeric[mask])
        rows.append(GradCheck(name, param.shape, int(mask.sum()), float(diff.max()), relative_error(grad, numeric), tol))
    return GradReport(rows)
