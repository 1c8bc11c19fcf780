"""LoRA: fine-tune a frozen linear layer through a low-rank update `A @ B`.

Orientation (the course's row convention, see the chapter `lora`):

    Y = X @ (W0 + s * (A @ B)) = X @ W0 + s * (X @ A) @ B,   s = alpha / r

    X  (N, D_in)     rows are examples
    W0 (D_in, D_out) the frozen "pretrained" weights
    A  (D_in, r)     trainable, the factor that touches X: initialised small and RANDOM
    B  (r, D_out)    trainable, the factor that produces the output: initialised to ZERO,
                     so training starts exactly at W0
    r                the rank, much smaller than D_in and D_out

This is the initialisation of the LoRA paper (Hu et al. 2021, `h = W0 x + B A x` with A Gaussian
and B = 0), of PEFT and of most implementations, written in the row layout: the paper's A (r, in)
is our A.T, its B (out, r) our B.T, and `x @ A @ B` is its `B A x` transposed.

Letters: N examples, D_in / D_out layer widths, r rank, L layers of a transformer. The update
`A @ B` has D_in*D_out entries but only r*(D_in + D_out) parameters: for D_in = D_out = 4096 and
r = 16, 131,072 instead of 16,777,216 (128x fewer).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lib.linear import linear_backward, linear_forward
from lib.shapes import as_array, as_number, as_positive_int, as_rng, as_seed, check_shapes


# ---------------------------------------------------------------- counting
def lora_scale(alpha: float, r: int) -> float:
    """The factor s = alpha / r that multiplies A @ B."""
    alpha, r = as_number(alpha, "alpha", "lora_scale", positive=True), as_positive_int(r, "r", "lora_scale")
    return alpha / r


def lora_params(D_in: int, D_out: int, r: int) -> int:
    """Trainable parameters of a rank-r adapter: D_in*r (A) + r*D_out (B); 2*d*r when square."""
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
    """The paper's initialisation: A small random (std 1/sqrt(D_in) unless given), B zeros.

    A @ B = 0 at step 0, so the adapted layer starts exactly at W0; A random lets B learn.
    -> A (D_in, r), B (r, D_out)
    """
    D_in, D_out = as_positive_int(D_in, "D_in", "init_lora"), as_positive_int(D_out, "D_out", "init_lora")
    r, rng = as_positive_int(r, "r", "init_lora"), as_rng(rng, "init_lora")
    std = 1 / np.sqrt(D_in) if std is None else as_number(std, "std", "init_lora", positive=True)
    return _init(D_in, D_out, r, rng, std)


def _init(D_in: int, D_out: int, r: int, rng: np.random.Generator, std: float) -> tuple[np.ndarray, np.ndarray]:
    A = rng.standard_normal((D_in, r)) * std  # (D_in, r): touches X, random
    B = np.zeros((r, D_out))  # (r, D_out): produces the output, zero
    return A, B


def _check_adapter(where: str, X: object, W0: object, A: object, B: object) -> tuple[np.ndarray, ...]:
    X, W0 = as_array(X, "X", where), as_array(W0, "W0", where)
    A, B = as_array(A, "A", where), as_array(B, "B", where)
    check_shapes(where, X=(X, "N D_in"), W0=(W0, "D_in D_out"), A=(A, "D_in r"), B=(B, "r D_out"))
    return X, W0, A, B


def lora_forward(X: np.ndarray, W0: np.ndarray, A: np.ndarray, B: np.ndarray, alpha: float) -> np.ndarray:
    """The adapted layer without forming the (D_in, D_out) update: X @ W0 + s * (X @ A) @ B.

    X (N, D_in), W0 (D_in, D_out), A (D_in, r), B (r, D_out) -> Y (N, D_out)
    """
    X, W0, A, B = _check_adapter("lora_forward", X, W0, A, B)
    alpha = as_number(alpha, "alpha", "lora_forward", positive=True)
    s = lora_scale(alpha, A.shape[1])
    H = X @ A  # (N, D_in) @ (D_in, r) -> (N, r): the input squeezed through the rank-r bottleneck
    return linear_forward(X, W0) + s * (H @ B)  # (N, D_out) + (N, r) @ (r, D_out) -> (N, D_out)


def lora_backward(
    X: np.ndarray, W0: np.ndarray, A: np.ndarray, B: np.ndarray, alpha: float, dY: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the adapted layer; W0 is frozen, so it gets none.

    X (N, D_in), W0 (D_in, D_out), A (D_in, r), B (r, D_out), dY (N, D_out)
    -> dX (N, D_in), dA (D_in, r), dB (r, D_out)
    """
    X, W0, A, B = _check_adapter("lora_backward", X, W0, A, B)
    dY = as_array(dY, "dY", "lora_backward")
    check_shapes("lora_backward", X=(X, "N D_in"), W0=(W0, "D_in D_out"), B=(B, "r D_out"), dY=(dY, "N D_out"))
    alpha = as_number(alpha, "alpha", "lora_backward", positive=True)
    s = lora_scale(alpha, A.shape[1])
    H = X @ A  # (N, D_in) @ (D_in, r) -> (N, r)
    dB = s * (H.T @ dY)  # (r, N) @ (N, D_out) -> (r, D_out)
    dH = s * (dY @ B.T)  # (N, D_out) @ (D_out, r) -> (N, r)
    dA = X.T @ dH  # (D_in, N) @ (N, r) -> (D_in, r)
    dX_frozen, _, _ = linear_backward(X, W0, dY)  # dY @ W0.T: (N, D_out) @ (D_out, D_in) -> (N, D_in)
    dX = dX_frozen + dH @ A.T  # (N, D_in) + (N, r) @ (r, D_in) -> (N, D_in)
    return dX, dA, dB


def merge_lora(W0: np.ndarray, A: np.ndarray, B: np.ndarray, alpha: float) -> np.ndarray:
    """Fold the adapter into one weight matrix, so inference costs nothing extra.

    W0 (D_in, D_out), A (D_in, r), B (r, D_out) -> W_merged (D_in, D_out)
    """
    W0, A, B = as_array(W0, "W0", "merge_lora"), as_array(A, "A", "merge_lora"), as_array(B, "B", "merge_lora")
    check_shapes("merge_lora", W0=(W0, "D_in D_out"), A=(A, "D_in r"), B=(B, "r D_out"))
    alpha = as_number(alpha, "alpha", "merge_lora", positive=True)
    s = lora_scale(alpha, A.shape[1])
    return W0 + s * (A @ B)  # (D_in, D_out) + (D_in, r) @ (r, D_out) -> (D_in, D_out)


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


def best_update(X: np.ndarray, delta: np.ndarray, r: int) -> np.ndarray:
    """The rank-r update D that minimises the training loss ||X @ (delta - D)||_F.

    The loss measures errors through X, so this is Eckart-Young after whitening: with X = Q R
    (QR, R (D_in, D_in) invertible), ||X E||_F = ||R E||_F and D = R^-1 (best rank r of R delta).
    It is the lowest loss any rank-r adapter can reach on the data X, whatever the optimiser.
    X (N, D_in) with N >= D_in and full column rank, delta (D_in, D_out) -> D (D_in, D_out)
    """
    X, delta = as_array(X, "X", "best_update"), as_array(delta, "delta", "best_update")
    check_shapes("best_update", X=(X, "N D_in"), delta=(delta, "D_in D_out"))
    r = as_positive_int(r, "r", "best_update")
    if X.shape[0] < X.shape[1] or np.linalg.matrix_rank(X) < X.shape[1]:
        raise ValueError(f"best_update: X {X.shape} needs full column rank (N >= D_in and independent columns).")
    _, R = np.linalg.qr(X)  # R (D_in, D_in), upper triangular
    return np.linalg.solve(R, low_rank_approx(R @ delta, min(r, min(delta.shape))))  # (D_in, D_out)


# ---------------------------------------------------------------- a whole transformer
# The linear layers of one Llama-2-7B block as (D_in, D_out), in the row convention: attention's
# query, key, value and output projections, and the SwiGLU MLP's gate, up and down projections.
LLAMA2_7B_LAYERS = {"q": (4096, 4096), "k": (4096, 4096), "v": (4096, 4096), "o": (4096, 4096),
                    "gate": (4096, 11008), "up": (4096, 11008), "down": (11008, 4096)}
LLAMA2_7B_BLOCKS = 32
# Everything else it holds: 32,000 x 4,096 token embeddings, an untied 4,096 x 32,000 output layer,
# two RMSNorm gains of 4,096 per block and a final one.
LLAMA2_7B_OTHER = 2 * 32_000 * 4096 + 2 * 4096 * LLAMA2_7B_BLOCKS + 4096


def _layers(layers: object, where: str) -> dict[str, tuple[int, int]]:
    if not isinstance(layers, dict) or not layers:
        raise TypeError(f"{where}: layers must be a non-empty dict {{name: (D_in, D_out)}}, got {type(layers).__name__}.")
    out = {}
    for name, shape in layers.items():
        if not isinstance(shape, (tuple, list)) or len(shape) != 2:
            raise ValueError(f"{where}: layers[{name!r}] must be a pair (D_in, D_out), got {shape!r}.")
        out[name] = (as_positive_int(shape[0], "layers D_in", where), as_positive_int(shape[1], "layers D_out", where))
    return out


def model_params(layers: dict[str, tuple[int, int]], n_blocks: int, other: int = 0) -> int:
    """Parameters of a transformer: n_blocks * (the weights of every linear layer) + `other`.

    layers {name: (D_in, D_out)} for one block, other (embeddings, norms, ...) -> int
    """
    layers, n_blocks = _layers(layers, "model_params"), as_positive_int(n_blocks, "n_blocks", "model_params")
    if isinstance(other, (bool, np.bool_)) or not isinstance(other, (int, np.integer)) or other < 0:
        raise TypeError(f"model_params: other must be a whole number >= 0, got {other!r}.")
    return n_blocks * sum(i * o for i, o in layers.values()) + int(other)


def adapter_params(layers: dict[str, tuple[int, int]], n_blocks: int, r: int, targets: tuple[str, ...]) -> int:
    """Trainable parameters of rank-r adapters on the `targets` projections of every block.

    layers {name: (D_in, D_out)}, targets e.g. ("q", "v") -> n_blocks * sum r * (D_in + D_out)
    """
    layers = _layers(layers, "adapter_params")
    n_blocks, r = as_positive_int(n_blocks, "n_blocks", "adapter_params"), as_positive_int(r, "r", "adapter_params")
    if isinstance(targets, str) or not isinstance(targets, (tuple, list)) or not targets:
        raise TypeError(f"adapter_params: targets must be a non-empty tuple of names, got {targets!r}.")
    if any(t not in layers for t in targets):
        raise ValueError(f"adapter_params: targets must be some of {list(layers)}, got {list(targets)}.")
    return n_blocks * sum(lora_params(*layers[t], r) for t in targets)


# Bytes per parameter in mixed-precision training with Adam: a frozen weight is stored once in
# 16-bit (2 B); a trained one also needs its 16-bit gradient (2 B), an fp32 master copy (4 B) and
# Adam's two fp32 moments (4 + 4 B): 16 B in all.
FROZEN_BYTES, TRAINED_BYTES = 2, 2 + 2 + 4 + 4 + 4


def training_state_bytes(n_total: int, n_trained: int) -> int:
    """Bytes of weights, gradients and Adam state when n_trained of n_total parameters train.

    Activations come on top (they depend on the batch and the sequence length, not on LoRA).
    -> (n_total - n_trained) * 2 + n_trained * 16
    """
    n_total, n_trained = as_positive_int(n_total, "n_total", "training_state_bytes"), as_positive_int(
        n_trained, "n_trained", "training_state_bytes")
    if n_trained > n_total:
        raise ValueError(f"training_state_bytes: n_trained = {n_trained} is more than n_total = {n_total}.")
    return (n_total - n_trained) * FROZEN_BYTES + n_trained * TRAINED_BYTES


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
    """LoRA fine-tuning: plain gradient descent on A and B only (the paper's init); W0 never changes.

    X (N, D_in), Y (N, D_out), W0 (D_in, D_out) -> A (D_in, r), B (r, D_out), losses (steps + 1 values)
    """
    X, Y, W0 = as_array(X, "X", "train_lora"), as_array(Y, "Y", "train_lora"), as_array(W0, "W0", "train_lora")
    check_shapes("train_lora", X=(X, "N D_in"), Y=(Y, "N D_out"), W0=(W0, "D_in D_out"))
    lr, steps = as_number(lr, "lr", "train_lora", positive=True), as_positive_int(steps, "steps", "train_lora")
    r, rng = as_positive_int(r, "r", "train_lora"), as_rng(rng, "train_lora")
    alpha = as_number(alpha, "alpha", "train_lora", positive=True)
    A, B = init_lora(W0.shape[0], W0.shape[1], r, rng)
    losses = []
    for step in range(steps):
        Y_hat = lora_forward(X, W0, A, B, alpha)
        if not np.all(np.isfinite(Y_hat)):
            raise ValueError(f"train_lora: the output blew up (inf/NaN) at step {step}; lower lr (got {lr}) or alpha.")
        loss, dY = mse_loss(Y_hat, Y)
        losses.append(loss)
        _, dA, dB = lora_backward(X, W0, A, B, alpha, dY)
        A -= lr * dA
        B -= lr * dB
    losses.append(mse_loss(lora_forward(X, W0, A, B, alpha), Y)[0])
    return A, B, losses


# ---------------------------------------------------------------- adapters on a transformer's params dict
#: The projections of a transformer block (`lib.transformer`) that `init_model_lora` may adapt.
MODEL_TARGETS = ("Wq", "Wk", "Wv", "Wo", "W1", "W3", "W2")


def init_model_lora(params: dict[str, np.ndarray], r: int, targets: tuple[str, ...] = ("Wq", "Wk"),
                    seed: int = 0) -> dict[str, np.ndarray]:
    """Rank-r adapters on the named projections of every block of a transformer, with the paper's init.

    For each W = params["h{i}.{target}"] (D_in, D_out): A (D_in, r) random N(0, 1/D_in), the factor
    that touches x, and B (r, D_out) zero, so the adapted model starts equal to the base model.
    -> {"h0.Wq.A": (D_in, r), "h0.Wq.B": (r, D_out), ...}
    """
    if not isinstance(params, dict) or "wte" not in params:
        raise TypeError(f"init_model_lora: params must be a transformer's params dict (lib.transformer.init_params), "
                        f"got {type(params).__name__}.")
    r = as_positive_int(r, "r", "init_model_lora")
    if isinstance(targets, str) or not isinstance(targets, (tuple, list)) or not targets:
        raise TypeError(f"init_model_lora: targets must be a non-empty tuple of names from {MODEL_TARGETS}, got {targets!r}.")
    bad = [t for t in targets if t not in MODEL_TARGETS or "h0." + t not in params]
    if bad:
        raise ValueError(f"init_model_lora: targets {bad} are not projections of this model; choose from "
                         f"{[t for t in MODEL_TARGETS if 'h0.' + t in params]}.")
    rng = np.random.default_rng(as_seed(seed, "init_model_lora"))
    lora = {}
    n_layers = sum(1 for k in params if k.endswith(".Wq"))
    for i in range(n_layers):
        for t in dict.fromkeys(targets):
            W = as_array(params[f"h{i}.{t}"], f"params['h{i}.{t}']", "init_model_lora")
            lora[f"h{i}.{t}.A"] = rng.standard_normal((W.shape[0], r)) / np.sqrt(W.shape[0])  # (D_in, r) random
            lora[f"h{i}.{t}.B"] = np.zeros((r, W.shape[1]))  # (r, D_out) zero
    return lora


def _adapter_scale(lora: object, alpha: object, params: dict, where: str) -> float:
    """alpha / r, after checking that every adapter pair (A (D_in, r), B (r, D_out)) fits its projection."""
    if not isinstance(lora, dict) or not lora:
        raise TypeError(f"{where}: lora must be the dict made by init_model_lora, got {type(lora).__name__}.")
    alpha = as_number(alpha, "alpha", where, positive=True)
    rank = None
    for k, arr in lora.items():
        base, _, part = k.rpartition(".")
        other = base + (".B" if part == "A" else ".A")
        if part not in ("A", "B") or base not in params or other not in lora:
            raise ValueError(f"{where}: lora key {k!r} should be '<projection>.A' or '.B' of a projection in params, in pairs.")
        arr = as_array(arr, f"lora[{k!r}]", where)
        D_in, D_out = np.shape(params[base])
        r = arr.shape[1] if part == "A" and arr.ndim == 2 else arr.shape[0] if arr.ndim == 2 else -1
        want = (D_in, rank or r) if part == "A" else (rank or r, D_out)
        if arr.shape != want:
            raise ValueError(f"{where}: lora[{k!r}] should have shape {want} (A (D_in, r), B (r, D_out)), got {arr.shape}.")
        rank = r
    return alpha / rank


def merge_model_lora(params: dict[str, np.ndarray], lora: dict[str, np.ndarray], alpha: float = 1.0) -> dict[str, np.ndarray]:
    """A new params dict with every adapter folded in: W0 + (alpha / r) A @ B (params unchanged)."""
    if not isinstance(params, dict) or not params:
        raise TypeError(f"merge_model_lora: params must be a dict of name -> array, got {type(params).__name__}.")
    for k, a in params.items():
        as_array(a, f"params[{k!r}]", "merge_model_lora")
    s = _adapter_scale(lora, alpha, params, "merge_model_lora")
    merged = {k: np.array(a, dtype=float) for k, a in params.items()}
    for k in lora:
        if k.endswith(".A"):
            base = k[:-2]
            merged[base] = merged[base] + s * (lora[k] @ lora[base + ".B"])  # (D_in, r) @ (r, D_out)
    return merged
