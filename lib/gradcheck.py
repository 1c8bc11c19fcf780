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

from lib.shapes import as_array, as_positive_int, as_rng, check_shapes


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
    _check_loss(loss, "numerical_gradient")
    _check_param(param, "param", "numerical_gradient")
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


def _check_loss(loss: object, where: str) -> None:
    if not callable(loss):
        raise TypeError(f"{where}: loss must be a function of no arguments returning a number, got {type(loss).__name__}.")


def _check_param(param: object, name: str, where: str) -> None:
    if not isinstance(param, np.ndarray) or not np.issubdtype(param.dtype, np.floating):
        raise TypeError(f"{where}: {name} must be a float ndarray that loss() reads (it is nudged in place).")
    as_array(param, name, where)  # not empty, no NaN or inf


def _check_pairs(loss: object, params: object, grads: object, where: str) -> None:
    """loss callable; params and grads dicts naming the same float tensors."""
    _check_loss(loss, where)
    for name, value in (("params", params), ("grads", grads)):
        if not isinstance(value, dict) or not value:
            raise TypeError(f"{where}: {name} must be a non-empty dict of name -> array, got {value!r:.60}.")
    missing = set(params) ^ set(grads)
    if missing:
        raise ValueError(f"{where}: params and grads must name the same tensors; unmatched: {sorted(missing)}.")
    for name, param in params.items():
        _check_param(param, f"params[{name!r}]", where)


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """max|a - n| / max(max|a|, max|n|), ignoring NaN entries of `numeric`; 0 when both are 0."""
    a, n = as_array(analytic, "analytic", "relative_error"), as_array(numeric, "numeric", "relative_error", finite=False)
    if a.shape != n.shape:
        raise ValueError(f"relative_error: analytic has shape {a.shape} but numeric has shape {n.shape}.")
    if np.isinf(n).any():
        raise ValueError("relative_error: numeric contains inf; the loss overflowed.")
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
    _check_pairs(loss, params, grads, "check_gradients")
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


def eps_sweep(
    loss: Callable[[], float],
    params: dict[str, np.ndarray],
    grads: dict[str, np.ndarray],
    eps_values: np.ndarray | list[float],
    *,
    samples: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Worst relative error over the tensors of `check_gradients`, once per step size.

    eps_values (E,) -> errors (E,). The same entries are sampled at every eps (from `seed`), so
    the curve shows the step size alone: truncation error (~eps^2) falls as eps shrinks until
    round-off (~machine epsilon * |L| / eps) takes over and the error climbs again.
    """
    _check_pairs(loss, params, grads, "eps_sweep")
    eps_values = as_array(eps_values, "eps_values", "eps_sweep")
    if eps_values.ndim != 1:
        raise ValueError(f"eps_sweep: eps_values should be 1-D with shape (E,), got shape {eps_values.shape}.")
    if not np.all(eps_values > 0):
        raise ValueError(f"eps_sweep: every eps must be positive, got {eps_values.min():g}.")
    errors = []
    for eps in eps_values:
        report = check_gradients(loss, params, grads, eps=float(eps), samples=samples,
                                 rng=np.random.default_rng(seed))
        errors.append(max(r.rel_error for r in report.rows))
    return np.array(errors)


# ---------------------------------------------------------------- a test bench: the linear layer
# Letters: B batch, D_in input width, D_out output width. Each function below is
# X (B, D_in), W (D_in, D_out), dY (B, D_out) -> dX (B, D_in), dW (D_in, D_out), db (D_out,)
# except for the shapes its bug breaks. The buggy ones exist so learners can watch them get caught.


def _transposed_weight(X: np.ndarray, W: np.ndarray, dY: np.ndarray):
    dX = dY @ W  # (B, D_out) @ (D_in, D_out): only runs when D_in == D_out, and is wrong then
    return dX, X.T @ dY, dY.sum(axis=0)


def _bias_axis1(X: np.ndarray, W: np.ndarray, dY: np.ndarray):
    db = dY.sum(axis=1)  # (B, D_out) -> (B,): sums over features, not over the batch
    return dY @ W.T, X.T @ dY, db


def _missing_batch_sum(X: np.ndarray, W: np.ndarray, dY: np.ndarray):
    db = dY[0]  # (D_out,): the first example's share only; the bias is used by all B rows
    return dY @ W.T, X.T @ dY, db


def _mean_not_sum(X: np.ndarray, W: np.ndarray, dY: np.ndarray):
    db = dY.mean(axis=0)  # (D_out,): 1/B of the right answer
    return dY @ W.T, X.T @ dY, db


def _correct(X: np.ndarray, W: np.ndarray, dY: np.ndarray):
    from lib.linear import linear_backward

    return linear_backward(X, W, dY)


#: Backward passes of a linear layer by name: the correct one and classic wrong ones, for demos and checks.
LINEAR_BUGS: dict[str, Callable] = {
    "correct": _correct,
    "transposed weight": _transposed_weight,
    "bias summed over axis 1": _bias_axis1,
    "missing batch sum": _missing_batch_sum,
    "mean instead of sum": _mean_not_sum,
}


class LinearBench:
    """A linear layer under a curved loss L = sum(G * tanh(X @ W + b)), for checking backward passes.

    X (B, D_in), W (D_in, D_out), b (D_out,), G (B, D_out) -> L scalar; dY = G * (1 - tanh(Y)^2).
    The tanh makes L curved in every parameter, so finite differences have a truncation error
    (a purely linear loss would make them exact and hide half of the eps story).
    """

    def __init__(self, X: np.ndarray, W: np.ndarray, b: np.ndarray, G: np.ndarray):
        X, W = as_array(X, "X", "LinearBench"), as_array(W, "W", "LinearBench")
        b, G = as_array(b, "b", "LinearBench"), as_array(G, "G", "LinearBench")
        check_shapes("LinearBench", X=(X, "B D_in"), W=(W, "D_in D_out"), b=(b, "D_out"), G=(G, "B D_out"))
        self.X, self.W, self.b, self.G = X, W, b, G

    @classmethod
    def random(
        cls, B: int, D_in: int, D_out: int, rng: np.random.Generator, dtype: str = "float64"
    ) -> LinearBench:
        """Non-zero, non-symmetric random values of the given sizes and dtype ('float64' or 'float32')."""
        B, D_in, D_out = (as_positive_int(v, n, "LinearBench.random") for v, n in ((B, "B"), (D_in, "D_in"), (D_out, "D_out")))
        rng = as_rng(rng, "LinearBench.random")
        if dtype not in ("float64", "float32"):
            raise ValueError(f"LinearBench.random: dtype must be 'float64' or 'float32', got {dtype!r}.")
        X = rng.normal(size=(B, D_in))
        W = rng.normal(size=(D_in, D_out)) / np.sqrt(D_in)
        b = rng.normal(size=D_out) * 0.5
        G = rng.normal(size=(B, D_out))
        return cls(*(a.astype(dtype) for a in (X, W, b, G)))

    def params(self) -> dict[str, np.ndarray]:
        """The three arrays the loss reads, by name (nudged in place by a gradient check)."""
        return {"X": self.X, "W": self.W, "b": self.b}

    def loss(self) -> float:
        Y = self.X @ self.W + self.b  # (B, D_in) @ (D_in, D_out) + (D_out,) -> (B, D_out)
        return float(np.sum(self.G * np.tanh(Y)))

    def upstream(self) -> np.ndarray:
        """dY = dL/dY = G * (1 - tanh(Y)^2), shape (B, D_out)."""
        Y = self.X @ self.W + self.b  # (B, D_out)
        return self.G * (1 - np.tanh(Y) ** 2)

    def grads(self, backward: Callable | str = "correct") -> dict[str, np.ndarray]:
        """{'X': dX, 'W': dW, 'b': db} from `backward(X, W, dY)` or from a name in LINEAR_BUGS."""
        backward = self._backward(backward)
        dX, dW, db = backward(self.X, self.W, self.upstream())
        return {"X": dX, "W": dW, "b": db}

    def check(self, backward: Callable | str = "correct", **kwargs) -> GradReport:
        """`check_gradients` of `backward` on this bench; kwargs go to check_gradients (eps, tol, ...)."""
        return check_gradients(self.loss, self.params(), self.grads(backward), **kwargs)

    def sweep(self, eps_values: np.ndarray | list[float], backward: Callable | str = "correct", **kwargs) -> np.ndarray:
        """`eps_sweep` of `backward` on this bench: the worst relative error at each eps."""
        return eps_sweep(self.loss, self.params(), self.grads(backward), eps_values, **kwargs)

    @staticmethod
    def _backward(backward: Callable | str) -> Callable:
        if isinstance(backward, str):
            if backward not in LINEAR_BUGS:
                raise ValueError(f"LinearBench: unknown backward {backward!r}; expected a function or one of {list(LINEAR_BUGS)}.")
            return LINEAR_BUGS[backward]
        if not callable(backward):
            raise TypeError(f"LinearBench: backward must be a function (X, W, dY) -> (dX, dW, db), got {type(backward).__name__}.")
        return backward
