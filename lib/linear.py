"""The linear layer `Y = X @ W + b`, forward and backward.

Orientation used throughout the course: rows are examples, so `W` is `(D_in, D_out)`.
Math texts write `y = W x` with `W` as `(D_out, D_in)`, and PyTorch's `nn.Linear` stores that
`(out, in)` matrix too; `from_torch_layout` converts. See the chapter `linear-layer`.
"""

from __future__ import annotations

import numpy as np

from lib.shapes import as_array, as_positive_int, as_rng, check_shapes


def linear_forward(X: np.ndarray, W: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Apply a linear layer to a batch of row vectors.

    X (B, D_in), W (D_in, D_out), b (D_out,) or None -> Y (B, D_out)
    """
    X, W = as_array(X, "X", "linear_forward"), as_array(W, "W", "linear_forward")
    if b is None:
        check_shapes("linear_forward", X=(X, "B D_in"), W=(W, "D_in D_out"))
        return _forward(X, W)
    b = as_array(b, "b", "linear_forward")
    check_shapes("linear_forward", X=(X, "B D_in"), W=(W, "D_in D_out"), b=(b, "D_out"))
    return _forward(X, W, b)


def _forward(X: np.ndarray, W: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """`linear_forward` on checked arrays (the kernel lib's training loops call)."""
    Y = X @ W  # (B, D_in) @ (D_in, D_out) -> (B, D_out)
    return Y if b is None else Y + b  # (B, D_out) + (D_out,) broadcast over the batch


def linear_backward(
    X: np.ndarray, W: np.ndarray, dY: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a linear layer given the upstream gradient `dY`.

    X (B, D_in), W (D_in, D_out), dY (B, D_out) -> dX (B, D_in), dW (D_in, D_out), db (D_out,)
    """
    X, W = as_array(X, "X", "linear_backward"), as_array(W, "W", "linear_backward")
    dY = as_array(dY, "dY", "linear_backward")
    check_shapes("linear_backward", X=(X, "B D_in"), W=(W, "D_in D_out"), dY=(dY, "B D_out"))
    return _backward(X, W, dY)


def _backward(X: np.ndarray, W: np.ndarray, dY: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`linear_backward` on checked arrays."""
    dW = X.T @ dY  # (D_in, B) @ (B, D_out) -> (D_in, D_out)
    db = dY.sum(axis=0)  # the bias is shared by every row, so its gradient sums over B
    dX = dY @ W.T  # (B, D_out) @ (D_out, D_in) -> (B, D_in)
    return dX, dW, db


def matvec(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The textbook form `y = W x`, W stored (out, in): one dot product per row of W.

    W (D_out, D_in), x (D_in,) -> y (D_out,)
    """
    W, x = as_array(W, "W", "matvec"), as_array(x, "x", "matvec")
    check_shapes("matvec", W=(W, "D_out D_in"), x=(x, "D_in"))
    return np.array([row @ x for row in W])  # row (D_in,) . x (D_in,) -> scalar


def from_torch_layout(weight: np.ndarray) -> np.ndarray:
    """Turn a PyTorch-style `(out, in)` weight into the course's `(D_in, D_out)` orientation.

    weight (D_out, D_in) -> W (D_in, D_out)
    """
    weight = as_array(weight, "weight", "from_torch_layout")
    check_shapes("from_torch_layout", weight=(weight, "D_out D_in"))
    return weight.T.copy()


def init_linear(
    D_in: int, D_out: int, rng: np.random.Generator, *, bias: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """Random weights scaled by 1/sqrt(D_in) so outputs keep the scale of inputs.

    -> W (D_in, D_out), b (D_out,) of zeros, or None without bias
    """
    D_in, D_out = as_positive_int(D_in, "D_in", "init_linear"), as_positive_int(D_out, "D_out", "init_linear")
    rng = as_rng(rng, "init_linear")
    W = rng.standard_normal((D_in, D_out)) / np.sqrt(D_in)
    return W, (np.zeros(D_out) if bias else None)
