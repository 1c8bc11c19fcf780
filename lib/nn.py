"""Depth and nonlinearity: ReLU, softmax, losses, a tiny MLP, its training loop and linear regions.

Letters: B batch, D_in input width, D_out output width, H hidden width, V number of classes,
N total number of hidden ReLU units. Rows are examples and `W` is `(D_in, D_out)`, as in
`lib.linear`. An MLP is a list of `(W, b)` layers with a ReLU between consecutive layers and
none after the last, so its output is a row of logits. See the chapter `depth`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import comb

import numpy as np

from lib.linear import _backward, _forward, init_linear
from lib.shapes import as_array, as_number, as_positive_int, as_rng, as_seed, check_shapes

Layer = tuple[np.ndarray, np.ndarray]


# ---------------------------------------------------------------- activations
def relu(Z: np.ndarray) -> np.ndarray:
    """max(Z, 0) element-wise.

    Z (any shape) -> A (same shape)
    """
    Z = as_array(Z, "Z", "relu")
    return np.maximum(Z, 0.0)


def relu_backward(Z: np.ndarray, dA: np.ndarray) -> np.ndarray:
    """Gradient through a ReLU: pass dA where Z > 0, block it elsewhere.

    Z (any shape), dA (same shape) -> dZ (same shape)
    """
    Z, dA = as_array(Z, "Z", "relu_backward"), as_array(dA, "dA", "relu_backward")
    if Z.shape != dA.shape:
        raise ValueError(f"relu_backward: dA should have the shape of Z {Z.shape}, got {dA.shape}.")
    return dA * (Z > 0)


def softmax(Z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax along `axis`; entries equal to -inf (masked) get weight exactly 0.

    Z (..., V) -> P (..., V), every slice along `axis` non-negative and summing to 1. Subtracting
    the maximum first changes nothing mathematically (the factor exp(-max) cancels) but keeps every
    exp() <= 1, so logits of 1000 do not overflow.
    """
    Z = as_array(Z, "Z", "softmax", finite=False)
    if Z.ndim == 0:
        raise ValueError("softmax: Z should have at least 1 axis (..., V), got a scalar.")
    if not -Z.ndim <= axis < Z.ndim:
        raise ValueError(f"softmax: axis {axis} is out of range for Z with {Z.ndim} axes.")
    if np.isnan(Z).any():
        raise ValueError("softmax: Z contains NaN.")
    if not np.isfinite(Z.max(axis=axis)).all():
        raise ValueError("softmax: a row of Z is entirely -inf (or contains +inf); every row needs one finite score.")
    return _softmax(Z, axis)


def _softmax(Z: np.ndarray, axis: int = -1) -> np.ndarray:
    E = np.exp(Z - Z.max(axis=axis, keepdims=True))  # (..., V) - (..., 1): entries in [0, 1], exp(-inf) = 0
    return E / E.sum(axis=axis, keepdims=True)  # (..., V) / (..., 1) -> (..., V)


def log_softmax(Z: np.ndarray) -> np.ndarray:
    """log(softmax(Z)) over the last axis, computed stably (no log of 0 for very negative logits).

    Z (..., V) -> log P (..., V)
    """
    Z = as_array(Z, "Z", "log_softmax")
    if Z.ndim == 0:
        raise ValueError("log_softmax: Z should have at least 1 axis (..., V), got a scalar.")
    shifted = Z - Z.max(axis=-1, keepdims=True)  # (..., V)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))  # (..., V) - (..., 1)


# ---------------------------------------------------------------- losses
def mse(Y_hat: np.ndarray, Y: np.ndarray) -> float:
    """Mean squared error over every entry: mean((Y_hat - Y)**2).

    Y_hat (B, D_out), Y (B, D_out) -> scalar
    """
    Y_hat, Y = as_array(Y_hat, "Y_hat", "mse"), as_array(Y, "Y", "mse")
    check_shapes("mse", Y_hat=(Y_hat, "B D_out"), Y=(Y, "B D_out"))
    return float(np.mean((Y_hat - Y) ** 2))


def mse_backward(Y_hat: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Gradient of `mse` with respect to Y_hat: 2 (Y_hat - Y) / (B * D_out).

    Y_hat (B, D_out), Y (B, D_out) -> dY_hat (B, D_out)
    """
    Y_hat, Y = as_array(Y_hat, "Y_hat", "mse_backward"), as_array(Y, "Y", "mse_backward")
    check_shapes("mse_backward", Y_hat=(Y_hat, "B D_out"), Y=(Y, "B D_out"))
    return _mse(Y_hat, Y)[1]


def mse_and_grad(Y_hat: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
    """The mean squared error and its gradient in one pass (what a training step needs).

    Y_hat (B, D_out), Y (B, D_out) -> loss (float), dY_hat (B, D_out)
    """
    Y_hat, Y = as_array(Y_hat, "Y_hat", "mse_and_grad"), as_array(Y, "Y", "mse_and_grad")
    check_shapes("mse_and_grad", Y_hat=(Y_hat, "B D_out"), Y=(Y, "B D_out"))
    return _mse(Y_hat, Y)


def _mse(Y_hat: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
    diff = Y_hat - Y
    return float(np.mean(diff**2)), 2 * diff / diff.size


def _as_labels(labels: object, B: int, V: int, where: str) -> np.ndarray:
    """Return integer class labels of shape (B,) with values in 0..V-1, or raise naming `labels`."""
    if labels is None or isinstance(labels, (str, bytes)):
        raise TypeError(f"{where}: labels must be integer class indices, got {type(labels).__name__}.")
    try:
        arr = np.asarray(labels)
    except ValueError:
        raise TypeError(f"{where}: labels could not be read as an array (ragged lists?).") from None
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{where}: labels must be integer class indices 0..V-1, got dtype {arr.dtype}.")
    check_shapes(where, sizes={"B": B}, labels=(arr, "B"))
    if arr.min() < 0 or arr.max() >= V:
        raise ValueError(f"{where}: labels must lie in 0..{V - 1} (V = {V} classes), got values "
                         f"from {arr.min()} to {arr.max()}.")
    return arr


def one_hot(labels: np.ndarray, V: int) -> np.ndarray:
    """Rows of the identity picked by the labels.

    labels (B,), V -> onehot (B, V)
    """
    V = as_positive_int(V, "V", "one_hot")
    if np.ndim(labels) != 1:
        raise ValueError(f"one_hot: labels should be 1-D with shape (B,), got shape {np.shape(labels)}.")
    labels = _as_labels(labels, len(labels), V, "one_hot")
    return np.eye(V)[labels]  # (V, V)[(B,)] -> (B, V)


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-probability of the correct class, from raw logits.

    logits (B, V), labels (B,) integers in 0..V-1 -> scalar
    """
    logits = as_array(logits, "logits", "cross_entropy")
    sizes = check_shapes("cross_entropy", logits=(logits, "B V"))
    return _ce(logits, _as_labels(labels, sizes["B"], sizes["V"], "cross_entropy"))


def _ce(logits: np.ndarray, labels: np.ndarray) -> float:
    shifted = logits - logits.max(axis=-1, keepdims=True)  # log_softmax, row by row: (B, V)
    logp = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return float(-logp[np.arange(len(labels)), labels].mean())


def cross_entropy_backward(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Gradient of `cross_entropy` with respect to the logits: (softmax(logits) - onehot) / B.

    logits (B, V), labels (B,) -> dlogits (B, V)
    """
    logits = as_array(logits, "logits", "cross_entropy_backward")
    sizes = check_shapes("cross_entropy_backward", logits=(logits, "B V"))
    return _ce_back(logits, _as_labels(labels, sizes["B"], sizes["V"], "cross_entropy_backward"))


def _ce_back(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    dlogits = _softmax(logits)  # (B, V)
    dlogits[np.arange(len(labels)), labels] -= 1.0  # P - onehot
    return dlogits / len(labels)  # the loss is a mean over B rows


# ---------------------------------------------------------------- stacking linear layers
def collapse_linear(layers: list[Layer]) -> Layer:
    """The single (W, b) equal to a stack of linear layers with no nonlinearity between them.

    [(W1 (D0, D1), b1 (D1,)), (W2 (D1, D2), b2 (D2,)), ...] -> W (D0, D_last), b (D_last,)
    (X W1 + b1) W2 + b2 = X (W1 W2) + (b1 W2 + b2), and so on layer by layer.
    """
    layers = _check_layers(layers, "collapse_linear")
    W, b = layers[0]
    for W_next, b_next in layers[1:]:
        W = W @ W_next  # (D0, D_k) @ (D_k, D_k+1) -> (D0, D_k+1)
        b = b @ W_next + b_next  # (D_k,) @ (D_k, D_k+1) + (D_k+1,) -> (D_k+1,)
    return W, b


def _check_layers(layers: object, where: str) -> list[Layer]:
    """Validate a list of (W, b) layers whose widths chain; return them as float arrays."""
    if not isinstance(layers, (list, tuple)) or len(layers) == 0:
        raise TypeError(f"{where}: layers must be a non-empty list of (W, b) pairs, got {type(layers).__name__}.")
    out: list[Layer] = []
    width = None
    for i, layer in enumerate(layers):
        if not isinstance(layer, (list, tuple)) or len(layer) != 2:
            raise TypeError(f"{where}: layers[{i}] must be a pair (W, b), got {type(layer).__name__}.")
        W, b = as_array(layer[0], f"layers[{i}] W", where), as_array(layer[1], f"layers[{i}] b", where)
        sizes = {} if width is None else {"D_in": width}
        bound = check_shapes(where, sizes=sizes, **{f"layers[{i}] W": (W, "D_in D_out"), f"layers[{i}] b": (b, "D_out")})
        width = bound["D_out"]
        out.append((W, b))
    return out


# ---------------------------------------------------------------- the MLP
def init_mlp(sizes: list[int], rng: np.random.Generator) -> list[Layer]:
    """Random layers for widths `sizes = [D_in, H1, ..., D_out]` (He scaling sqrt(2/D_in) for ReLU).

    -> [(W (sizes[k], sizes[k+1]), b (sizes[k+1],)) for each k]
    """
    return _init_mlp(sizes, rng, "init_mlp")


def _check_sizes(sizes: object, where: str) -> list[int]:
    if not isinstance(sizes, (list, tuple)):
        raise TypeError(f"{where}: sizes must be a list of widths [D_in, ..., D_out], got {sizes!r}.")
    if len(sizes) < 2:
        raise ValueError(f"{where}: sizes must list at least [D_in, D_out], got {sizes!r}.")
    return [as_positive_int(s, f"sizes[{i}]", where) for i, s in enumerate(sizes)]


def _init_mlp(sizes: object, rng: object, where: str) -> list[Layer]:
    sizes, rng = _check_sizes(sizes, where), as_rng(rng, where)
    layers = []
    for D_in, D_out in zip(sizes[:-1], sizes[1:], strict=True):
        W, b = init_linear(D_in, D_out, rng)
        layers.append((W * np.sqrt(2.0), b))  # init_linear gives 1/sqrt(D_in); ReLU halves the variance
    return layers


@dataclass
class Cache:
    """What the backward pass needs: each layer's input and pre-activation."""

    inputs: list[np.ndarray] = field(default_factory=list)  # X, A1, A2, ...: (B, D_in of layer k)
    preacts: list[np.ndarray] = field(default_factory=list)  # Z1, Z2, ...: (B, D_out of layer k)


def mlp_forward(X: np.ndarray, layers: list[Layer]) -> tuple[np.ndarray, Cache]:
    """Run linear -> ReLU -> ... -> linear and keep what backward needs.

    X (B, D_in), layers [(W, b), ...] -> logits (B, D_out), cache
    """
    return _mlp_forward(X, layers, "mlp_forward")


def _mlp_forward(X: object, layers: object, where: str) -> tuple[np.ndarray, Cache]:
    layers = _check_layers(layers, where)
    X = as_array(X, "X", where)
    check_shapes(where, **{"layers[0] W": (layers[0][0], "D_in H")}, X=(X, "B D_in"))
    return _mlp_fwd(X, layers)


def _mlp_fwd(X: np.ndarray, layers: list[Layer]) -> tuple[np.ndarray, Cache]:
    cache, A = Cache(), X
    for k, (W, b) in enumerate(layers):
        Z = _forward(A, W, b)  # (B, D_k) @ (D_k, D_k+1) + (D_k+1,) -> (B, D_k+1)
        cache.inputs.append(A)
        cache.preacts.append(Z)
        A = np.maximum(Z, 0.0) if k < len(layers) - 1 else Z  # ReLU between layers
    return A, cache


def mlp_backward(dlogits: np.ndarray, layers: list[Layer], cache: Cache) -> list[Layer]:
    """Backpropagate dloss/dlogits through the MLP; return (dW, db) for every layer.

    dlogits (B, D_out), layers, cache from mlp_forward -> [(dW (D_k, D_k+1), db (D_k+1,)), ...]
    """
    layers = _check_layers(layers, "mlp_backward")
    if not isinstance(cache, Cache) or len(cache.inputs) != len(layers):
        raise TypeError("mlp_backward: cache must be the Cache returned by mlp_forward for these layers.")
    dA = as_array(dlogits, "dlogits", "mlp_backward")
    check_shapes("mlp_backward", dlogits=(dA, "B D_out"), logits=(cache.preacts[-1], "B D_out"))
    return _mlp_back(dA, layers, cache)


def _mlp_back(dA: np.ndarray, layers: list[Layer], cache: Cache) -> list[Layer]:
    grads: list[Layer] = [None] * len(layers)  # type: ignore[list-item]
    for k in reversed(range(len(layers))):
        dZ = dA if k == len(layers) - 1 else dA * (cache.preacts[k] > 0)  # through the ReLU: (B, D_k+1)
        dA, dW, db = _backward(cache.inputs[k], layers[k][0], dZ)  # dA (B, D_k)
        grads[k] = (dW, db)
    return grads


def mlp_loss_and_grads(X: np.ndarray, labels: np.ndarray, layers: list[Layer]) -> tuple[float, list[Layer]]:
    """Cross-entropy of the MLP's logits and its gradient for every layer.

    X (B, D_in), labels (B,) -> loss, [(dW, db), ...]
    """
    logits, cache = _mlp_forward(X, layers, "mlp_loss_and_grads")  # (B, V)
    labels = _as_labels(labels, logits.shape[0], logits.shape[1], "mlp_loss_and_grads")
    return _mlp_loss_grads(X, labels, layers, (logits, cache))


def _mlp_loss_grads(X: np.ndarray, labels: np.ndarray, layers: list[Layer],
                    done: tuple | None = None) -> tuple[float, list[Layer]]:
    logits, cache = _mlp_fwd(X, layers) if done is None else done
    return _ce(logits, labels), _mlp_back(_ce_back(logits, labels), layers, cache)


@dataclass
class TrainRun:
    """The result of `train_mlp`: final layers, the loss before every step, and saved snapshots."""

    layers: list[Layer]
    losses: np.ndarray  # (steps + 1,): losses[0] before training, losses[t] after t steps
    snapshots: dict[int, list[Layer]]  # step -> copy of the layers after that many steps


def train_mlp(
    X: np.ndarray,
    labels: np.ndarray,
    sizes: list[int],
    *,
    steps: int,
    lr: float,
    seed: int = 0,
    snapshot_steps: tuple[int, ...] = (),
) -> TrainRun:
    """Full-batch plain gradient descent on cross-entropy, from a seeded initialisation.

    X (B, D_in), labels (B,), sizes [D_in, H, ..., V] -> TrainRun with losses (steps + 1,)
    """
    X = as_array(X, "X", "train_mlp")
    steps = as_positive_int(steps, "steps", "train_mlp")
    lr = as_number(lr, "lr", "train_mlp", positive=True)
    layers = _init_mlp(sizes, np.random.default_rng(as_seed(seed, "train_mlp")), "train_mlp")
    check_shapes("train_mlp", sizes={"D_in": sizes[0]}, X=(X, "B D_in"))
    labels = _as_labels(labels, X.shape[0], sizes[-1], "train_mlp")
    wanted = set(snapshot_steps)
    snapshots = {0: [(W.copy(), b.copy()) for W, b in layers]} if 0 in wanted else {}
    losses = np.empty(steps + 1)
    for t in range(steps):
        losses[t], grads = _mlp_loss_grads(X, labels, layers)  # kernels: the inputs were checked above
        layers = [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(layers, grads, strict=True)]
        if t + 1 in wanted:
            snapshots[t + 1] = [(W.copy(), b.copy()) for W, b in layers]
    losses[steps] = _ce(_mlp_fwd(X, layers)[0], labels)
    return TrainRun(layers, losses, snapshots)


def predict_proba(X: np.ndarray, layers: list[Layer]) -> np.ndarray:
    """Class probabilities of the MLP. X (B, D_in) -> P (B, V)"""
    return softmax(_mlp_forward(X, layers, "predict_proba")[0])


# ---------------------------------------------------------------- data
# ---------------------------------------------------------------- linear regions
def plane_grid(extent: tuple[float, float, float, float], n: int) -> np.ndarray:
    """n x n points covering [x0, x1] x [y0, y1], row by row from the bottom (imshow origin='lower').

    extent (x0, x1, y0, y1), n -> points (n * n, 2)
    """
    return _plane_grid(extent, n, "plane_grid")


def _plane_grid(extent: object, n: object, where: str) -> np.ndarray:
    n, extent = as_positive_int(n, "n", where), as_array(extent, "extent", where)
    check_shapes(where, extent=(extent, "4"))
    x0, x1, y0, y1 = extent
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    gx, gy = np.meshgrid(xs, ys)  # (n, n) each, gy constant along a row
    return np.stack([gx.ravel(), gy.ravel()], axis=1)  # (n * n, 2)


def activation_patterns(X: np.ndarray, layers: list[Layer]) -> np.ndarray:
    """Which hidden ReLUs are on (pre-activation > 0) at each input point.

    X (B, D_in), layers -> patterns (B, N) bool, N = total hidden units
    """
    return _activation_patterns(X, layers, "activation_patterns")


def _activation_patterns(X: object, layers: object, where: str) -> np.ndarray:
    _, cache = _mlp_forward(X, layers, where)
    return np.concatenate([Z > 0 for Z in cache.preacts[:-1]], axis=1) if len(cache.preacts) > 1 else np.zeros((len(cache.inputs[0]), 0), bool)


def region_ids(X: np.ndarray, layers: list[Layer]) -> tuple[np.ndarray, int]:
    """Label each point by its activation pattern; points sharing a pattern share a linear piece.

    X (B, D_in), layers -> ids (B,) ints in 0..count-1, count of distinct patterns seen
    Within one pattern every ReLU is fixed on or off, so the network is one affine map there; the
    points with one pattern form a convex polytope. Regions too small to contain a point are missed.
    """
    return _region_ids(X, layers, "region_ids")


def _region_ids(X: object, layers: object, where: str) -> tuple[np.ndarray, int]:
    patterns = _activation_patterns(X, layers, where)  # (B, N)
    if patterns.shape[1] == 0:
        return np.zeros(len(patterns), int), 1
    if patterns.shape[1] <= 62:  # one integer key per pattern: much faster than unique rows
        keys = patterns.astype(np.int64) @ (np.int64(1) << np.arange(patterns.shape[1], dtype=np.int64))  # (B, N) @ (N,) -> (B,)
    else:
        keys = np.packbits(patterns, axis=1)  # (B, ceil(N / 8)) bytes
    _, ids = np.unique(keys, axis=0, return_inverse=True)
    ids = ids.ravel()
    return ids, int(ids.max()) + 1


def count_linear_regions(layers: list[Layer], extent: tuple[float, float, float, float], n: int = 400) -> int:
    """Number of linear regions of a 2-D-input MLP that an n x n grid over `extent` hits."""
    where = "count_linear_regions"
    return _region_ids(_plane_grid(extent, n, where), layers, where)[1]


def max_regions_one_layer(n_units: int, d_in: int = 2) -> int:
    """Most regions n hyperplanes can cut R^d_in into: C(n, 0) + C(n, 1) + ... + C(n, d_in).

    In the plane (d_in = 2): 1 + n + n (n - 1) / 2. This bounds a one-hidden-layer ReLU network.
    """
    n, d = as_positive_int(n_units, "n_units", "max_regions_one_layer"), as_positive_int(d_in, "d_in", "max_regions_one_layer")
    return sum(comb(n, i) for i in range(d + 1))


def sawtooth_network(depth: int) -> list[Layer]:
    """A hand-built ReLU net whose output is a sawtooth in x1 with 2**depth linear pieces on [0, 1].

    Each hidden layer has 2 units computing the tent map t -> 2 relu(t) - 4 relu(t - 1/2), which
    folds [0, 1] onto itself; `depth` folds give 2**depth pieces. Input (B, 2), output (B, 1).
    """
    depth = as_positive_int(depth, "depth", "sawtooth_network")
    first = (np.array([[1.0, 1.0], [0.0, 0.0]]), np.array([0.0, -0.5]))  # x1 -> (x1, x1 - 1/2)
    fold = (np.array([[2.0, 2.0], [-4.0, -4.0]]), np.array([0.0, -0.5]))  # t = 2 a - 4 b -> (t, t - 1/2)
    last = (np.array([[2.0], [-4.0]]), np.array([0.0]))  # t = 2 a - 4 b
    return [first] + [(fold[0].copy(), fold[1].copy()) for _ in range(depth - 1)] + [last]


def count_params(layers: list[Layer]) -> int:
    """Total number of weights and biases."""
    return sum(W.size + b.size for W, b in _check_layers(layers, "count_params"))


# ---------------------------------------------------------------- the transformer's pieces
def _last_axis_params(where: str, x: np.ndarray, **params: np.ndarray) -> None:
    for name, p in params.items():
        if p.ndim != 1 or p.shape[0] != x.shape[-1]:
            raise ValueError(f"{where}: {name} should have shape (d,) = ({x.shape[-1]},) to match the last axis "
                             f"of x {x.shape}, got {p.shape}.")


def layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float = 1e-5) -> tuple[np.ndarray, tuple]:
    """LayerNorm of each row, and the cache its backward pass needs.

    x (..., d), g (d,), b (d,) -> y (..., d) = (x - mean) / sqrt(var + eps) * g + b, cache
    """
    x, g, b = (as_array(a, n, "layer_norm") for a, n in ((x, "x"), (g, "g"), (b, "b")))
    if x.ndim == 0:
        raise ValueError("layer_norm: x should have at least 1 axis (..., d), got a scalar.")
    _last_axis_params("layer_norm", x, g=g, b=b)
    return _ln(x, g, b, as_number(eps, "eps", "layer_norm", positive=True))


def _ln(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float = 1e-5) -> tuple[np.ndarray, tuple]:
    xc = x - x.mean(axis=-1, keepdims=True)
    rstd = 1.0 / np.sqrt((xc * xc).mean(axis=-1, keepdims=True) + eps)  # (..., 1)
    xhat = xc * rstd  # (..., d): mean 0, variance 1 per row
    return xhat * g + b, (xhat, rstd, g, True)


def rms_norm(x: np.ndarray, g: np.ndarray, eps: float = 1e-5) -> tuple[np.ndarray, tuple]:
    """RMSNorm of each row (no mean subtracted, no shift), and the cache its backward pass needs.

    x (..., d), g (d,) -> y (..., d) = x / sqrt(mean(x^2) + eps) * g, cache
    """
    x, g = as_array(x, "x", "rms_norm"), as_array(g, "g", "rms_norm")
    if x.ndim == 0:
        raise ValueError("rms_norm: x should have at least 1 axis (..., d), got a scalar.")
    _last_axis_params("rms_norm", x, g=g)
    return _rms(x, g, as_number(eps, "eps", "rms_norm", positive=True))


def _rms(x: np.ndarray, g: np.ndarray, eps: float = 1e-5) -> tuple[np.ndarray, tuple]:
    rstd = 1.0 / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps)  # (..., 1)
    xhat = x * rstd  # (..., d): root-mean-square 1 per row
    return xhat * g, (xhat, rstd, g, False)


def norm_backward(dy: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gradients of LayerNorm or RMSNorm from the cache of `layer_norm` / `rms_norm`.

    dy (..., d) -> dx (..., d), dg (d,), db (d,) (None for RMSNorm, which has no shift)
    """
    if not isinstance(cache, tuple) or len(cache) != 4:
        raise TypeError("norm_backward: cache must be the second value returned by layer_norm or rms_norm.")
    dy = as_array(dy, "dy", "norm_backward")
    if dy.shape != cache[0].shape:
        raise ValueError(f"norm_backward: dy should have the shape of x, {cache[0].shape}, got {dy.shape}.")
    return _norm_back(dy, cache)


def _norm_back(dy: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    xhat, rstd, g, centred = cache
    d = xhat.shape[-1]
    dg = (dy * xhat).reshape(-1, d).sum(axis=0)  # summed over every row that used g
    db = dy.reshape(-1, d).sum(axis=0) if centred else None
    dxhat = dy * g
    # x feeds every entry of its row through the scale (and, for LayerNorm, the mean): remove those directions
    proj = xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)
    if centred:
        return rstd * (dxhat - dxhat.mean(axis=-1, keepdims=True) - proj), dg, db
    return rstd * (dxhat - proj), dg, db


_C = np.sqrt(2.0 / np.pi)  # the constant of GELU's tanh form: tanh(sqrt(2/pi) (x + 0.044715 x^3))


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU, tanh form (GPT-2's): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). x (...) -> (...)"""
    return _gelu(as_array(x, "x", "gelu"))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(_C * (x + 0.044715 * x * x * x)))


def gelu_backward(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dL/dx of GELU given its input x and the upstream dy. x (...), dy (same shape) -> dx (same shape)"""
    x, dy = as_array(x, "x", "gelu_backward"), as_array(dy, "dy", "gelu_backward")
    if x.shape != dy.shape:
        raise ValueError(f"gelu_backward: dy should have the shape of x, {x.shape}, got {dy.shape}.")
    return _gelu_back(x, dy)


def _gelu_back(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    t = np.tanh(_C * (x + 0.044715 * x * x * x))
    return dy * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _C * (1.0 + 3 * 0.044715 * x * x))


def silu(x: np.ndarray) -> np.ndarray:
    """SiLU (swish), the gate of SwiGLU: x * sigmoid(x). x (...) -> (...)"""
    return _silu(as_array(x, "x", "silu"))


def _silu(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.exp(-x))


def _silu_back(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    sig = 1.0 / (1.0 + np.exp(-x))
    return dy * sig * (1.0 + x * (1.0 - sig))  # d/dx [x sig(x)] = sig + x sig (1 - sig)


def sequence_loss(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy over the positions whose target is >= 0 (-1: no loss there), and its gradient.

    logits (B, T, V), targets (B, T) ints in [-1, V) -> loss, dlogits (B, T, V)
    """
    logits = as_array(logits, "logits", "sequence_loss")
    if logits.ndim != 3:
        raise ValueError(f"sequence_loss: logits should be 3-D with shape (B, T, V), got shape {logits.shape}.")
    targets = as_array(targets, "targets", "sequence_loss")
    if targets.shape != logits.shape[:2]:
        raise ValueError(f"sequence_loss: targets should have shape (B, T) = {logits.shape[:2]}, got {targets.shape}.")
    V = logits.shape[2]
    if not np.array_equal(targets, np.round(targets)) or targets.min() < -1 or targets.max() >= V:
        raise ValueError(f"sequence_loss: targets must be integers in [-1, {V}), got values from {targets.min()} to {targets.max()}.")
    if not (targets >= 0).any():
        raise ValueError("sequence_loss: targets has no position >= 0; nothing to score.")
    return _seq_ce(logits, targets.astype(np.int64))


def _seq_ce(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    scored = targets >= 0  # (B, T)
    n = int(scored.sum())
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    total = e.sum(axis=-1, keepdims=True)
    p = e / total  # softmax, (B, T, V)
    t = np.where(scored, targets, 0)[..., None]  # (B, T, 1)
    logp = np.take_along_axis(z, t, axis=-1)[..., 0] - np.log(total[..., 0])  # (B, T)
    loss = -float(logp[scored].sum()) / n
    np.put_along_axis(p, t, np.take_along_axis(p, t, axis=-1) - 1.0, axis=-1)  # softmax - one_hot
    return loss, p * (scored[..., None] / n)
