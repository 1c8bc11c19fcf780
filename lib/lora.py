"""LoRA: fine-tune a frozen linear layer through a low-rank update `B @ A`.

Orientation (the course's row convention, see the chapter `lora`):

    Y = X @ (W0 + s * (B @ A)),   s = alpha / r

    X  (N, D_in)     rows are examples
    W0 (D_in, D_out) the frozen "pretrained" weights
    B  (D_in, r)     trainable, initialised to ZERO, so training starts exactly at W0
    A  (r, D_out)    trainable, initialised small and random
    r                the rank, much smaller than D_in and D_out

Letters: N examples, D_in / D_out layer widths, r rank. The update `B @ A` has D_in*D_out entries
but only r*(D_in + D_out) parameters: for D_in = D_out = 4096 and r = 16, 131,072 instead of
16,777,216 (128x fewer). PyTorch and the LoRA paper store weights as (out, in); their `B A` is the
transpose of ours, which is why there the zero factor B sits on the output side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lib.linear import linear_backward, linear_forward
from lib.shapes import as_array, as_number, as_positive_int, as_rng, check_shapes


# ---------------------------------------------------------------- counting
def lora_scale(alpha: float, r: int) -> float:
    """The factor s = alpha / r that multiplies B @ A."""
    alpha, r = as_number(alpha, "alpha", "lora_scale", positive=True), as_positive_int(r, "r", "lora_scale")
    return alpha / r


def lora_params(D_in: int, D_out: int, r: int) -> int:
    """Trainable parameters of a rank-r adapter: D_in*r (B) + r*D_out (A); 2*d*r when square."""
    D_in, D_out = as_positive_int(D_in, "D_in", "lora_params"), as_positive_int(D_out, "D_out", "lora_params")
    r = as_positive_int(r, "r", "lora_params")
    return D_in * r + r * D_out


def full_params(D_in: int, D_out: int) -> int:
    """Trainable parameters of a full fine-tune of the weight matrix: D_in*D_out (d*d when square)."""
    D_in, D_out = as_positive_int(D_in, "D_in", "full_params"), as_positive_int(D_out, "D_out", "full_params")
    return D_in * D_out


# ---------------------------------------------------------------- the adapter
def init_lora(
    D_in: int, D_out: int, r: int, rng: np.random.Generator, *, std: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """B of zeros and A small random (std 1/sqrt(D_out) unless given), so B @ A = 0 at step 0.

    -> B (D_in, r), A (r, D_out)
    """
    D_in, D_out = as_positive_int(D_in, "D_in", "init_lora"), as_positive_int(D_out, "D_out", "init_lora")
    r, rng = as_positive_int(r, "r", "init_lora"), as_rng(rng, "init_lora")
    std = 1 / np.sqrt(D_out) if std is None else as_number(std, "std", "init_lora", positive=True)
    B = np.zeros((D_in, r))
    A = std * rng.standard_normal((r, D_out))
    return B, A


def _check_adapter(where: str, X: object, W0: object, B: object, A: object) -> tuple[np.ndarray, ...]:
    X, W0 = as_array(X, "X", where), as_array(W0, "W0", where)
    B, A = as_array(B, "B", where), as_array(A, "A", where)
    check_shapes(where, X=(X, "N D_in"), W0=(W0, "D_in D_out"), B=(B, "D_in r"), A=(A, "r D_out"))
    return X, W0, B, A


def lora_forward(X: np.ndarray, W0: np.ndarray, B: np.ndarray, A: np.ndarray, alpha: float) -> np.ndarray:
    """The adapted layer without forming the (D_in, D_out) update: X @ W0 + s * (X @ B) @ A.

    X (N, D_in), W0 (D_in, D_out), B (D_in, r), A (r, D_out) -> Y (N, D_out)
    """
    X, W0, B, A = _check_adapter("lora_forward", X, W0, B, A)
    alpha = as_number(alpha, "alpha", "lora_forward", positive=True)
    s = lora_scale(alpha, B.shape[1])
    H = X @ B  # (N, D_in) @ (D_in, r) -> (N, r): the input squeezed through the rank-r bottleneck
    return linear_forward(X, W0) + s * (H @ A)  # (N, D_out) + (N, r) @ (r, D_out) -> (N, D_out)


def lora_backward(
    X: np.ndarray, W0: np.ndarray, B: np.ndarray, A: np.ndarray, alpha: float, dY: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the adapted layer; W0 is frozen, so it gets none.

    X (N, D_in), W0 (D_in, D_out), B (D_in, r), A (r, D_out), dY (N, D_out)
    -> dX (N, D_in), dB (D_in, r), dA (r, D_out)
    """
    X, W0, B, A = _check_adapter("lora_backward", X, W0, B, A)
    dY = as_array(dY, "dY", "lora_backward")
    check_shapes("lora_backward", X=(X, "N D_in"), W0=(W0, "D_in D_out"), A=(A, "r D_out"), dY=(dY, "N D_out"))
    alpha = as_number(alpha, "alpha", "lora_backward", positive=True)
    s = lora_scale(alpha, B.shape[1])
    H = X @ B  # (N, D_in) @ (D_in, r) -> (N, r)
    dA = s * (H.T @ dY)  # (r, N) @ (N, D_out) -> (r, D_out)
    dH = s * (dY @ A.T)  # (N, D_out) @ (D_out, r) -> (N, r)
    dB = X.T @ dH  # (D_in, N) @ (N, r) -> (D_in, r)
    dX_frozen, _, _ = linear_backward(X, W0, dY)  # dY @ W0.T: (N, D_out) @ (D_out, D_in) -> (N, D_in)
    dX = dX_frozen + dH @ B.T  # (N, D_in) + (N, r) @ (r, D_in) -> (N, D_in)
    return dX, dB, dA


def merge_lora(W0: np.ndarray, B: np.ndarray, A: np.ndarray, alpha: float) -> np.ndarray:
    """Fold the adapter into one weight matrix, so inference costs nothing extra.

    W0 (D_in, D_out), B (D_in, r), A (r, D_out) -> W_merged (D_in, D_out)
    """
    W0, B, A = as_array(W0, "W0", "merge_lora"), as_array(B, "B", "merge_lora"), as_array(A, "A", "merge_lora")
    check_shapes("merge_lora", W0=(W0, "D_in D_out"), B=(B, "D_in r"), A=(A, "r D_out"))
    alpha = as_number(alpha, "alpha", "merge_lora", positive=True)
    s = lora_scale(alpha, B.shape[1])
    return W0 + s * (B @ A)  # (D_in, D_out) + (D_in, r) @ (r, D_out) -> (D_in, D_out)


def low_rank_approx(M: np.ndarray, r: int) -> np.ndarray:
    """The best rank-r approximation of M (truncated SVD, Eckart-Young).

    M (D_in, D_out) -> M_r (D_in, D_out)
    """
    M, r = as_array(M, "M", "low_rank_approx"), as_positive_int(r, "r", "low_rank_approx")
    check_shapes("low_rank_approx", M=(M, "D_in D_out"))
    if r > min(M.shape):
        raise ValueError(f"low_rank_approx: r = {r} is larger than min(D_in, D_out) = {min(M.shape)}.")
    U, S, Vt = np.linalg.svd(M, full_matrices=False)
    return (U[:, :r] * S[:r]) @ Vt[:r]  # (D_in, r) @ (r, D_out) -> (D_in, D_out)


# ---------------------------------------------------------------- the small fine-tuning task
def mse_loss(Y_hat: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error over every entry and its gradient.

    Y_hat (N, D_out), Y (N, D_out) -> loss (float), dY_hat (N, D_out)
    """
    Y_hat, Y = as_array(Y_hat, "Y_hat", "mse_loss"), as_array(Y, "Y", "mse_loss")
    check_shapes("mse_loss", Y_hat=(Y_hat, "N D_out"), Y=(Y, "N D_out"))
    diff = Y_hat - Y
    return float(np.mean(diff**2)), 2 * diff / diff.size


@dataclass(frozen=True)
class Task:
    """A frozen layer W0 and data from a target W0 + (rank-`true_rank` change) + small noise."""

    X: np.ndarray  # (N, d) inputs
    Y: np.ndarray  # (N, d) targets, X @ W_target
    W0: np.ndarray  # (d, d) the "pretrained" weights
    W_target: np.ndarray  # (d, d)
    true_rank: int

    @property
    def delta(self) -> np.ndarray:
        """The change the fine-tune should find: W_target - W0, (d, d)."""
        return self.W_target - self.W0


def make_task(
    rng: np.random.Generator, *, d: int = 32, N: int = 256, true_rank: int = 2, noise: float = 0.01
) -> Task:
    """Draw W0, a rank-`true_rank` change with singular values 2.0, 1.5, ... plus noise, and data.

    -> Task with X (N, d), Y (N, d), W0 (d, d), W_target (d, d)
    """
    rng, d, N = as_rng(rng, "make_task"), as_positive_int(d, "d", "make_task"), as_positive_int(N, "N", "make_task")
    true_rank = as_positive_int(true_rank, "true_rank", "make_task")
    if true_rank > d:
        raise ValueError(f"make_task: true_rank = {true_rank} cannot exceed d = {d}.")
    noise = float(noise) if noise == 0 else as_number(noise, "noise", "make_task", positive=True)
    W0 = rng.standard_normal((d, d)) / np.sqrt(d)
    U, _ = np.linalg.qr(rng.standard_normal((d, true_rank)))  # (d, k) orthonormal columns
    V, _ = np.linalg.qr(rng.standard_normal((d, true_rank)))  # (d, k)
    sigmas = 2.0 - 0.5 * np.arange(true_rank)  # 2.0, 1.5, 1.0, ...
    delta = (U * np.maximum(sigmas, 0.5)) @ V.T  # (d, k) @ (k, d) -> (d, d), rank k
    W_target = W0 + delta + noise * rng.standard_normal((d, d))
    X = rng.standard_normal((N, d))
    return Task(X, X @ W_target, W0, W_target, true_rank)  # (N, d) @ (d, d) -> (N, d)


def train_full(X: np.ndarray, Y: np.ndarray, W0: np.ndarray, *, lr: float = 8.0, steps: int = 300) -> tuple[np.ndarray, list[float]]:
    """Full fine-tuning: plain gradient descent on every entry of W, starting from W0.

    X (N, D_in), Y (N, D_out), W0 (D_in, D_out) -> W (D_in, D_out), losses (steps + 1 values)
    """
    X, Y, W0 = as_array(X, "X", "train_full"), as_array(Y, "Y", "train_full"), as_array(W0, "W0", "train_full")
    check_shapes("train_full", X=(X, "N D_in"), Y=(Y, "N D_out"), W0=(W0, "D_in D_out"))
    lr, steps = as_number(lr, "lr", "train_full", positive=True), as_positive_int(steps, "steps", "train_full")
    W, losses = W0.copy(), []  # W0 itself is never modified
    for step in range(steps):
        Y_hat = linear_forward(X, W)
        if not np.all(np.isfinite(Y_hat)):
            raise ValueError(f"train_full: the output blew up (inf/NaN) at step {step}; lower lr (got {lr}).")
        loss, dY = mse_loss(Y_hat, Y)
        losses.append(loss)
        _, dW, _ = linear_backward(X, W, dY)
        W -= lr * dW
    losses.append(mse_loss(linear_forward(X, W), Y)[0])
    return W, losses


def train_lora(
    X: np.ndarray, Y: np.ndarray, W0: np.ndarray, r: int, rng: np.random.Generator,
    *, alpha: float = 4.0, lr: float = 1.0, steps: int = 300,
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """LoRA fine-tuning: plain gradient descent on B and A only; W0 never changes.

    X (N, D_in), Y (N, D_out), W0 (D_in, D_out) -> B (D_in, r), A (r, D_out), losses (steps + 1 values)
    """
    X, Y, W0 = as_array(X, "X", "train_lora"), as_array(Y, "Y", "train_lora"), as_array(W0, "W0", "train_lora")
    check_shapes("train_lora", X=(X, "N D_in"), Y=(Y, "N D_out"), W0=(W0, "D_in D_out"))
    lr, steps = as_number(lr, "lr", "train_lora", positive=True), as_positive_int(steps, "steps", "train_lora")
    r, rng = as_positive_int(r, "r", "train_lora"), as_rng(rng, "train_lora")
    alpha = as_number(alpha, "alpha", "train_lora", positive=True)
    B, A = init_lora(W0.shape[0], W0.shape[1], r, rng)
    losses = []
    for step in range(steps):
        Y_hat = lora_forward(X, W0, B, A, alpha)
        if not np.all(np.isfinite(Y_hat)):
            raise ValueError(f"train_lora: the output blew up (inf/NaN) at step {step}; lower lr (got {lr}) or alpha.")
        loss, dY = mse_loss(Y_hat, Y)
        losses.append(loss)
        _, dB, dA = lora_backward(X, W0, B, A, alpha, dY)
        B -= lr * dB
        A -= lr * dA
    losses.append(mse_loss(lora_forward(X, W0, B, A, alpha), Y)[0])
    return B, A, losses
