"""The singular value decomposition: geometry in 2-D, best rank-k approximations, conditioning.

Letters: m, n the rows and columns of a matrix A (m, n); r = min(m, n) singular values; k the
rank kept; P (2, N) a set of N points in the plane stored as columns (the textbook `y = A x`);
D the width of a deep stack, L its depth, B a batch of inputs (rows, the course's orientation).
A = U @ diag(S) @ Vt with U (m, r), S (r,), Vt (r, n), as `np.linalg.svd(A, full_matrices=False)`
returns them. See the chapters `svd` and `low-rank`.
"""

from __future__ import annotations

import numpy as np

from lib.shapes import as_array, as_positive_int, as_rng, check_shapes, positive_ints


def _matrix(A: object, where: str, name: str = "A") -> np.ndarray:
    A = as_array(A, name, where)
    check_shapes(where, **{name: (A, "m n")})
    return A


def _scalar(x: object, name: str, where: str) -> float:
    arr = as_array(x, name, where)
    if arr.ndim != 0:
        raise ValueError(f"{where}: {name} should be a single number, got shape {arr.shape}.")
    return float(arr)


# ---------------------------------------------------------------- 2-D geometry
def rotation(angle: float) -> np.ndarray:
    """The 2x2 rotation by `angle` radians (counter-clockwise).  -> R (2, 2)"""
    t = _scalar(angle, "angle", "rotation")
    return np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


def matrix_from_svd(angle_v: float, s1: float, s2: float, angle_u: float) -> np.ndarray:
    """Build A = U diag(s1, s2) Vt from the angle of v_1, two scales and the angle of u_1.

    V = rotation(angle_v), U = rotation(angle_u), angles in radians, s1 >= s2 >= 0.  -> A (2, 2)
    """
    s1, s2 = _scalar(s1, "s1", "matrix_from_svd"), _scalar(s2, "s2", "matrix_from_svd")
    angle_v, angle_u = _scalar(angle_v, "angle_v", "matrix_from_svd"), _scalar(angle_u, "angle_u", "matrix_from_svd")
    if not s1 >= s2 >= 0:
        raise ValueError(f"matrix_from_svd: need s1 >= s2 >= 0 (singular values are sorted), got s1={s1}, s2={s2}.")
    U, V = rotation(angle_u), rotation(angle_v)
    return U @ np.diag([s1, s2]) @ V.T  # (2, 2) @ (2, 2) @ (2, 2) -> (2, 2)


def unit_circle(n_points: int = 200) -> np.ndarray:
    """Points on the unit circle as columns, starting at (1, 0).  -> P (2, N)"""
    n_points = as_positive_int(n_points, "n_points", "unit_circle")
    t = np.linspace(0.0, 2 * np.pi, n_points)
    return np.stack([np.cos(t), np.sin(t)])  # (2, N)


def ellipse_points(A: np.ndarray, n_points: int = 200) -> np.ndarray:
    """The image of the unit circle under A: an ellipse with semi-axes sigma_i u_i.  A (2, 2) -> (2, N)"""
    A = as_array(A, "A", "ellipse_points")
    check_shapes("ellipse_points", A=(A, "2 2"))
    as_positive_int(n_points, "n_points", "ellipse_points")
    return A @ unit_circle(n_points)  # (2, 2) @ (2, N) -> (2, N)


def svd_stages(A: np.ndarray, P: np.ndarray) -> dict[str, np.ndarray]:
    """Apply Vt, then diag(S), then U to the points P and return each stage.

    A (m, n), P (n, N) -> {"input": (n, N), "after Vt": (r, N), "after S": (r, N), "after U": (m, N)}
    """
    A, P = _matrix(A, "svd_stages"), as_array(P, "P", "svd_stages")
    check_shapes("svd_stages", A=(A, "m n"), P=(P, "n N"))
    U, S, Vt = np.linalg.svd(A, full_matrices=False)
    rotated = Vt @ P  # (r, n) @ (n, N) -> (r, N): coordinates along the right singular vectors
    scaled = S[:, None] * rotated  # (r, 1) * (r, N): stretch axis i by sigma_i
    return {"input": P, "after Vt": rotated, "after S": scaled, "after U": U @ scaled}  # (m, r) @ (r, N)


# ---------------------------------------------------------------- reconstruction and rank k
def reconstruct(U: np.ndarray, S: np.ndarray, Vt: np.ndarray) -> np.ndarray:
    """Multiply the factors back: U @ diag(S) @ Vt.  U (m, r), S (r,), Vt (r, n) -> A (m, n)"""
    U, S, Vt = (as_array(a, name, "reconstruct") for a, name in ((U, "U"), (S, "S"), (Vt, "Vt")))
    check_shapes("reconstruct", U=(U, "m r"), S=(S, "r"), Vt=(Vt, "r n"))
    return (U * S) @ Vt  # (m, r) * (r,) scales column i by sigma_i; (m, r) @ (r, n) -> (m, n)


def _rank(A: np.ndarray, k: object, where: str) -> int:
    k = as_positive_int(k, "k", where)
    if k > min(A.shape):
        raise ValueError(f"{where}: k = {k} is more than min(m, n) = {min(A.shape)} for A of shape {A.shape}.")
    return k


def rank_k_approx(A: np.ndarray, k: int) -> np.ndarray:
    """The best rank-k approximation of A (Eckart-Young): keep the k largest singular values.

    A (m, n), k <= min(m, n) -> A_k (m, n)
    """
    A = _matrix(A, "rank_k_approx")
    return _rank_k(A, _rank(A, k, "rank_k_approx"))


def _rank_k(A: np.ndarray, k: int) -> np.ndarray:
    """`rank_k_approx` on a checked matrix (the truncated SVD lib's other modules call)."""
    U, S, Vt = np.linalg.svd(A, full_matrices=False)
    return (U[:, :k] * S[:k]) @ Vt[:k]  # (m, k) @ (k, n) -> (m, n)


def approx_errors(A: np.ndarray, k: int) -> dict[str, float]:
    """Measured errors of the rank-k approximation, in the Frobenius and spectral norms.

    A (m, n), k -> {"frobenius": ||A - A_k||_F, "spectral": ||A - A_k||_2}
    """
    A = _matrix(A, "approx_errors")
    _rank(A, k, "approx_errors")
    residual = A - rank_k_approx(A, k)  # (m, n)
    return {"frobenius": float(np.linalg.norm(residual, "fro")), "spectral": float(np.linalg.norm(residual, 2))}


def tail_errors(S: np.ndarray, k: int) -> dict[str, float]:
    """The errors Eckart-Young predicts from the singular values alone.

    Frobenius: sqrt(sigma_{k+1}^2 + ... + sigma_r^2); spectral: sigma_{k+1} (0-based S[k]).
    S (r,) sorted descending, k <= r -> {"frobenius": float, "spectral": float}
    """
    S = as_array(S, "S", "tail_errors")
    check_shapes("tail_errors", S=(S, "r"))
    if np.any(S < 0) or np.any(np.diff(S) > 0):
        raise ValueError("tail_errors: S should be non-negative and sorted from largest to smallest, as np.linalg.svd returns it.")
    k = as_positive_int(k, "k", "tail_errors")
    if k > S.size:
        raise ValueError(f"tail_errors: k = {k} is more than the {S.size} singular values in S.")
    tail = S[k:]  # sigma_{k+1}, ..., sigma_r
    return {"frobenius": float(np.sqrt(np.sum(tail**2))), "spectral": float(tail[0]) if tail.size else 0.0}


def energy_kept(S: np.ndarray, k: int) -> float:
    """Fraction of ||A||_F^2 that the rank-k approximation keeps: sum(S[:k]^2) / sum(S^2).  S (r,) -> float"""
    S = as_array(S, "S", "energy_kept")
    check_shapes("energy_kept", S=(S, "r"))
    k = as_positive_int(k, "k", "energy_kept")
    if k > S.size:
        raise ValueError(f"energy_kept: k = {k} is more than the {S.size} singular values in S.")
    return float(np.sum(S[:k] ** 2) / np.sum(S**2))


def energy_rank(S: np.ndarray, fraction: float) -> int:
    """The smallest k whose rank-k approximation keeps `fraction` of ||A||_F^2.  S (r,) sorted descending -> k"""
    S = as_array(S, "S", "energy_rank")
    check_shapes("energy_rank", S=(S, "r"))
    if np.any(S < 0) or np.any(np.diff(S) > 0) or not np.any(S > 0):
        raise ValueError("energy_rank: S should be non-negative, not all zero, and sorted from largest to smallest.")
    fraction = _scalar(fraction, "fraction", "energy_rank")
    if not 0 < fraction <= 1:
        raise ValueError(f"energy_rank: fraction must be in (0, 1], got {fraction}.")
    kept = np.cumsum(S**2) / np.sum(S**2)  # (r,): energy kept by rank 1, 2, ...
    return int(np.searchsorted(kept, fraction * (1 - 1e-12))) + 1


def full_params(m: int, n: int) -> int:
    """Numbers stored by a dense (m, n) matrix: m * n."""
    return as_positive_int(m, "m", "full_params") * as_positive_int(n, "n", "full_params")


def factored_params(m: int, n: int, k: int) -> int:
    """Numbers stored by a rank-k factorisation A ~ L @ R with L (m, k), R (k, n): k * (m + n)."""
    m, n = as_positive_int(m, "m", "factored_params"), as_positive_int(n, "n", "factored_params")
    return as_positive_int(k, "k", "factored_params") * (m + n)


def condition_number(A: np.ndarray) -> float:
    """sigma_max / sigma_min: how unevenly A stretches directions (inf when A is rank-deficient).

    A (m, n) -> float >= 1
    """
    A = _matrix(A, "condition_number")
    S = np.linalg.svd(A, compute_uv=False)  # (r,), largest first
    return float(S[0] / S[-1]) if S[-1] > 0 else float("inf")


# ---------------------------------------------------------------- a deep stack of linear layers
def deep_stack_norms(
    scale: float, rng: np.random.Generator, *, depth: int = 30, width: int = 64, batch: int = 32
) -> dict[str, np.ndarray]:
    """Push a batch through `depth` random linear layers and a gradient back; record the norms.

    Each W_l (D, D) has i.i.d. N(0, scale^2) entries; H_{l+1} = H_l @ W_l forward and
    G_l = G_{l+1} @ W_l.T backward. Norms are the mean row norm of H_l and G_l.
    -> {"forward": (L + 1,), "backward": (L + 1,), "singular_values": (L, D)}
    """
    scale = _scalar(scale, "scale", "deep_stack_norms")
    if scale <= 0:
        raise ValueError(f"deep_stack_norms: scale must be positive, got {scale}.")
    rng = as_rng(rng, "deep_stack_norms")
    L, D = as_positive_int(depth, "depth", "deep_stack_norms"), as_positive_int(width, "width", "deep_stack_norms")
    B = as_positive_int(batch, "batch", "deep_stack_norms")
    Ws = scale * rng.standard_normal((L, D, D))  # (L, D, D): one (D_in, D_out) matrix per layer
    H = rng.standard_normal((B, D))  # (B, D)
    forward = [np.linalg.norm(H, axis=1).mean()]
    for W in Ws:
        H = H @ W  # (B, D) @ (D, D) -> (B, D)
        forward.append(np.linalg.norm(H, axis=1).mean())
    G = rng.standard_normal((B, D))  # (B, D): the upstream gradient at the top
    backward = [np.linalg.norm(G, axis=1).mean()]
    for W in Ws[::-1]:
        G = G @ W.T  # (B, D) @ (D, D) -> (B, D)
        backward.append(np.linalg.norm(G, axis=1).mean())
    return {
        "forward": np.array(forward),
        "backward": np.array(backward[::-1]),  # index l = the gradient arriving at layer l's input
        "singular_values": np.linalg.svd(Ws, compute_uv=False),  # (L, D)
    }


def product_singular_values(
    scale: float, rng: np.random.Generator, *, depth: int = 30, width: int = 64, orthogonal: bool = False
) -> np.ndarray:
    """Singular values of the end-to-end map W_1 @ W_2 @ ... @ W_L of a deep linear stack.

    Each W_l (D, D) is scale * (i.i.d. N(0, 1) entries), or scale * (a random orthogonal matrix)
    when `orthogonal`. The product's sigma_max / sigma_min is the stack's condition number.
    -> S (D,), largest first
    """
    scale = _scalar(scale, "scale", "product_singular_values")
    if scale <= 0:
        raise ValueError(f"product_singular_values: scale must be positive, got {scale}.")
    rng = as_rng(rng, "product_singular_values")
    L = as_positive_int(depth, "depth", "product_singular_values")
    D = as_positive_int(width, "width", "product_singular_values")
    P = np.eye(D)
    for _ in range(L):
        G = rng.standard_normal((D, D))  # (D, D)
        W = np.linalg.qr(G)[0] if orthogonal else G  # Q of a Gaussian matrix: a random orthogonal matrix
        P = P @ (scale * W)  # (D, D) @ (D, D) -> (D, D)
    return np.linalg.svd(P, compute_uv=False)


# The three classic initialisation scales: the standard deviation of the entries of W (D_in, D_out).
INIT_RULES = ("lecun", "xavier", "he")


def init_std(rule: str, D_in: int, D_out: int) -> float:
    """Standard deviation of a weight's entries under a classic rule.

    lecun  1/sqrt(D_in)             keeps each output coordinate's variance (lib.linear.init_linear)
    xavier sqrt(2/(D_in + D_out))   Glorot and Bengio: a compromise between forward and backward
    he     sqrt(2/D_in)             for ReLU, which halves the mean square (lib.nn.init_mlp)
    """
    if rule not in INIT_RULES:
        raise ValueError(f"init_std: rule must be one of {INIT_RULES}, got {rule!r}.")
    D_in, D_out = positive_ints("init_std", D_in=D_in, D_out=D_out)
    return {"lecun": 1 / np.sqrt(D_in), "xavier": np.sqrt(2 / (D_in + D_out)), "he": np.sqrt(2 / D_in)}[rule]


# ---------------------------------------------------------------- data with structure
def to_grayscale(rgb: np.ndarray) -> np.ndarray:
    """Luminance 0.299 R + 0.587 G + 0.114 B, scaled to [0, 1].  rgb (h, w, 3) -> (h, w)"""
    rgb = as_array(rgb, "rgb", "to_grayscale")
    check_shapes("to_grayscale", rgb=(rgb, "h w 3"))
    gray = rgb @ np.array([0.299, 0.587, 0.114])  # (h, w, 3) @ (3,) -> (h, w)
    return gray / 255.0 if gray.max() > 1.0 else gray
