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

import numpy as np

from lib.linear import _backward, _forward
from lib.nn import _mse
from lib.shapes import as_array, as_number, as_positive_int, as_rng, as_seed, check_shapes
from lib.svd import _rank_k


# ---------------------------------------------------------------- counting
def lora_scale(alpha: float, r: int) -> float:
    """The factor s = alpha / r that multiplies A @ B."""
    alpha, r = as_number(alpha, "alpha", "lora_scale", positive=True), as_positive_int(r, "r", "lora_scale")
    return alpha / r


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
    return _lora_fwd(X, W0, A, B, alpha / A.shape[1])


def _lora_fwd(X: np.ndarray, W0: np.ndarray, A: np.ndarray, B: np.ndarray, s: float) -> np.ndarray:
    H = X @ A  # (N, D_in) @ (D_in, r) -> (N, r): the input squeezed through the rank-r bottleneck
    return _forward(X, W0) + s * (H @ B)  # (N, D_out) + (N, r) @ (r, D_out) -> (N, D_out)


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
    return _lora_back(X, W0, A, B, alpha / A.shape[1], dY)


def _lora_back(X: np.ndarray, W0: np.ndarray, A: np.ndarray, B: np.ndarray, s: float,
               dY: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dA, dB, dH = _factor_grads(X, A, B, s, dY)
    dX_frozen, _, _ = _backward(X, W0, dY)  # dY @ W0.T: (N, D_out) @ (D_out, D_in) -> (N, D_in)
    dX = dX_frozen + dH @ A.T  # (N, D_in) + (N, r) @ (r, D_in) -> (N, D_in)
    return dX, dA, dB


def _factor_grads(X: np.ndarray, A: np.ndarray, B: np.ndarray, s: float, dY: np.ndarray,
                  H: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dA (D_in, r), dB (r, D_out) and dH = dL/d(X @ A) (N, r): all a training step needs (W0 is frozen)."""
    H = X @ A if H is None else H  # (N, D_in) @ (D_in, r) -> (N, r)
    dB = s * (H.T @ dY)  # (r, N) @ (N, D_out) -> (r, D_out)
    dH = s * (dY @ B.T)  # (N, D_out) @ (D_out, r) -> (N, r)
    dA = X.T @ dH  # (D_in, N) @ (N, r) -> (D_in, r)
    return dA, dB, dH


def merge_lora(W0: np.ndarray, A: np.ndarray, B: np.ndarray, alpha: float) -> np.ndarray:
    """Fold the adapter into one weight matrix, so inference costs nothing extra.

    W0 (D_in, D_out), A (D_in, r), B (r, D_out) -> W_merged (D_in, D_out)
    """
    W0, A, B = as_array(W0, "W0", "merge_lora"), as_array(A, "A", "merge_lora"), as_array(B, "B", "merge_lora")
    check_shapes("merge_lora", W0=(W0, "D_in D_out"), A=(A, "D_in r"), B=(B, "r D_out"))
    alpha = as_number(alpha, "alpha", "merge_lora", positive=True)
    s = lora_scale(alpha, A.shape[1])
    return W0 + s * (A @ B)  # (D_in, D_out) + (D_in, r) @ (r, D_out) -> (D_in, D_out)


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
    return np.linalg.solve(R, _rank_k(R @ delta, min(r, min(delta.shape))))  # (D_in, D_out)


# ---------------------------------------------------------------- training one adapted layer
def train_full(X: np.ndarray, Y: np.ndarray, W0: np.ndarray, *, lr: float = 8.0, steps: int = 300) -> tuple[np.ndarray, list[float]]:
    """Full fine-tuning: plain gradient descent on every entry of W, starting from W0.

    X (N, D_in), Y (N, D_out), W0 (D_in, D_out) -> W (D_in, D_out), losses (steps + 1 values)
    """
    X, Y, W0 = as_array(X, "X", "train_full"), as_array(Y, "Y", "train_full"), as_array(W0, "W0", "train_full")
    check_shapes("train_full", X=(X, "N D_in"), Y=(Y, "N D_out"), W0=(W0, "D_in D_out"))
    lr, steps = as_number(lr, "lr", "train_full", positive=True), as_positive_int(steps, "steps", "train_full")
    W, losses = W0.copy(), []  # W0 itself is never modified
    for step in range(steps):
        Y_hat = _forward(X, W)
        if not np.all(np.isfinite(Y_hat)):
            raise ValueError(f"train_full: the output blew up (inf/NaN) at step {step}; lower lr (got {lr}).")
        loss, dY = _mse(Y_hat, Y)
        losses.append(loss)
        _, dW, _ = _backward(X, W, dY)
        W -= lr * dW
    losses.append(_mse(_forward(X, W), Y)[0])
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
    A, B = _init(W0.shape[0], W0.shape[1], r, rng, 1 / np.sqrt(W0.shape[0]))
    s, losses = alpha / r, []
    base = _forward(X, W0)  # (N, D_out): W0 is frozen, so X @ W0 is the same at every step
    for step in range(steps):  # kernels only: the inputs were checked above, once
        H = X @ A  # (N, r)
        loss, dY = _mse(base + s * (H @ B), Y)
        if not np.isfinite(loss):
            raise ValueError(f"train_lora: the output blew up (inf/NaN) at step {step}; lower lr (got {lr}) or alpha.")
        losses.append(loss)
        dA, dB, _ = _factor_grads(X, A, B, s, dY, H)
        A -= lr * dA
        B -= lr * dB
    losses.append(_mse(_lora_fwd(X, W0, A, B, s), Y)[0])
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
