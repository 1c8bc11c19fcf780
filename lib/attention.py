"""Scaled dot-product attention in NumPy: softmax, causal mask, forward, backward, heads.

Letters: B batch, T tokens (T_q queries, T_k keys when they differ, as in a KV-cache step),
d model width, d_k key width (per head), d_v value width, h heads, with d = h * d_k.

    S = Q K^T / sqrt(d_k)     (B, T_q, d_k) @ (B, d_k, T_k) -> (B, T_q, T_k)
    A = softmax(S)            each row sums to 1 (row-stochastic)
    Y = A V                   (B, T_q, T_k) @ (B, T_k, d_v) -> (B, T_q, d_v)

Every function also accepts a head axis, (B, h, T, d_k), because `@` broadcasts over all
leading axes. Positions enter as rotations (RoPE): `rope_angles` and `apply_rope` rotate q and k
so that the score of a query at m and a key at n depends only on n - m. See the chapter `attention`.
"""

from __future__ import annotations

import numpy as np

from lib.nn import _softmax, softmax  # noqa: F401  (softmax: re-exported, the attention chapter uses it)
from lib.shapes import as_array, as_number, as_positive_int, as_rng, check_shapes, positive_ints


def causal_average(T: int) -> np.ndarray:
    """The simplest causal "attention": row i averages tokens 0..i with equal weights 1 / (i + 1).

    -> M (T, T), lower-triangular and row-stochastic; `M @ X` replaces every token of X (T, d)
    by the mean of itself and the tokens before it. It equals softmax of all-zero scores under
    the causal mask, `softmax(where(causal_mask(T), 0, -inf))`.
    """
    T = as_positive_int(T, "T", "causal_average")
    tril = np.tril(np.ones((T, T)))  # (T, T): 1 where key j <= query i
    return tril / tril.sum(axis=1, keepdims=True)  # row i divided by its i + 1 ones


def softmax_backward(A: np.ndarray, dA: np.ndarray, axis: int = -1) -> np.ndarray:
    """Vector-Jacobian product of a softmax: the gradient dS from the softmax output A and dA.

    A (..., n) = softmax(S), dA (..., n) -> dS (..., n) = A * (dA - sum(dA * A)) along `axis`.
    Row by row this is J^T dA with the (symmetric) Jacobian J = diag(a) - a a^T.
    """
    A, dA = as_array(A, "A", "softmax_backward"), as_array(dA, "dA", "softmax_backward")
    if A.shape != dA.shape:
        raise ValueError(f"softmax_backward: dA should have the shape of A {A.shape}, got {dA.shape}.")
    if not -A.ndim <= axis < A.ndim:
        raise ValueError(f"softmax_backward: axis {axis} is out of range for A with {A.ndim} axes.")
    return _softmax_back(A, dA, axis)


def _softmax_back(A: np.ndarray, dA: np.ndarray, axis: int) -> np.ndarray:
    return A * (dA - (dA * A).sum(axis=axis, keepdims=True))  # a_i (g_i - a . g)


def causal_mask(T_q: int, T_k: int | None = None) -> np.ndarray:
    """Boolean mask, True where query i may look at key j (j <= i, keys aligned to the end).

    -> mask (T_q, T_k). With T_k > T_q (a KV-cache step) the queries are the last T_q positions.
    """
    T_q = as_positive_int(T_q, "T_q", "causal_mask")
    T_k = T_q if T_k is None else as_positive_int(T_k, "T_k", "causal_mask")
    if T_k < T_q:
        raise ValueError(f"causal_mask: T_k ({T_k}) must be at least T_q ({T_q}); the queries are the last T_q positions.")
    return _causal_mask(T_q, T_k)


def _causal_mask(T_q: int, T_k: int) -> np.ndarray:
    offset = T_k - T_q
    return np.arange(T_k)[None, :] <= np.arange(T_q)[:, None] + offset  # (T_q, 1) vs (1, T_k) -> (T_q, T_k)


def _qkv(Q, K, V, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    Q, K, V = (as_array(a, n, where) for a, n in ((Q, "Q"), (K, "K"), (V, "V")))
    if Q.ndim == 4:
        check_shapes(where, Q=(Q, "B h T_q d_k"), K=(K, "B h T_k d_k"), V=(V, "B h T_k d_v"))
    else:
        check_shapes(where, Q=(Q, "B T_q d_k"), K=(K, "B T_k d_k"), V=(V, "B T_k d_v"))
    return Q, K, V


def attention_forward(
    Q: np.ndarray, K: np.ndarray, V: np.ndarray, *, causal: bool = False, scale: bool = True
) -> tuple[np.ndarray, dict]:
    """Scaled dot-product attention; returns the output and a cache for the backward pass.

    Q (B, T_q, d_k), K (B, T_k, d_k), V (B, T_k, d_v) -> Y (B, T_q, d_v), cache
    (or with a head axis: (B, h, T, d_k) ...). cache["A"] holds the weights (B, T_q, T_k).
    """
    Q, K, V = _qkv(Q, K, V, "attention_forward")
    if causal and K.shape[-2] < Q.shape[-2]:
        causal_mask(Q.shape[-2], K.shape[-2])  # raises: the queries must be the last T_q positions
    return _attend(Q, K, V, causal, scale)


def _attend(Q: np.ndarray, K: np.ndarray, V: np.ndarray, causal: bool, scale: bool = True,
            mm=np.matmul) -> tuple[np.ndarray, dict]:
    """`attention_forward` on checked arrays; `mm` does the two matmuls (a FLOP counter may pass its own)."""
    d_k, T_q, T_k = Q.shape[-1], Q.shape[-2], K.shape[-2]
    s = 1.0 / np.sqrt(d_k) if scale else 1.0
    S = mm(Q, np.swapaxes(K, -1, -2)) * s  # (B, T_q, d_k) @ (B, d_k, T_k) -> (B, T_q, T_k)
    if causal:  # mask BEFORE softmax: future scores -> -inf (keys aligned to the end)
        S = np.where(_causal_mask(T_q, T_k), S, -np.inf)
    A = _softmax(S, axis=-1)  # over the keys: each query's row sums to 1; masked entries get 0
    Y = mm(A, V)  # (B, T_q, T_k) @ (B, T_k, d_v) -> (B, T_q, d_v)
    return Y, {"Q": Q, "K": K, "V": V, "A": A, "s": s}


def attention_backward(dY: np.ndarray, cache: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of attention given the upstream gradient dY and the forward cache.

    dY (B, T_q, d_v) -> dQ (B, T_q, d_k), dK (B, T_k, d_k), dV (B, T_k, d_v)
    """
    return _attention_backward(dY, cache, "attention_backward")


def _check_cache(cache: object, keys: tuple[str, ...], made_by: str, where: str) -> None:
    if not isinstance(cache, dict) or not set(keys) <= set(cache):
        raise TypeError(f"{where}: cache must be the dict returned by {made_by} (with keys {list(keys)}), "
                        f"got {type(cache).__name__}.")


def _attention_backward(dY: object, cache: object, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _check_cache(cache, ("Q", "K", "V", "A", "s"), "attention_forward", where)
    A, V = cache["A"], cache["V"]
    dY = as_array(dY, "dY", where)
    if dY.shape != A.shape[:-1] + V.shape[-1:]:
        raise ValueError(f"{where}: dY should have the output's shape {A.shape[:-1] + V.shape[-1:]}, got {dY.shape}.")
    return _attend_back(dY, cache)


def _attend_back(dY: np.ndarray, cache: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`attention_backward` on a checked dY and the cache of `_attend`."""
    Q, K, V, A, s = cache["Q"], cache["K"], cache["V"], cache["A"], cache["s"]
    dV = np.swapaxes(A, -1, -2) @ dY  # (B, T_k, T_q) @ (B, T_q, d_v) -> (B, T_k, d_v)
    dA = dY @ np.swapaxes(V, -1, -2)  # (B, T_q, d_v) @ (B, d_v, T_k) -> (B, T_q, T_k)
    dS = _softmax_back(A, dA, -1)  # row by row; masked A = 0 -> dS = 0
    dQ = dS @ K * s  # (B, T_q, T_k) @ (B, T_k, d_k) -> (B, T_q, d_k)
    dK = np.swapaxes(dS, -1, -2) @ Q * s  # (B, T_k, T_q) @ (B, T_q, d_k) -> (B, T_k, d_k)
    return dQ, dK, dV


def _projections(X, Wq, Wk, Wv, where: str) -> tuple[np.ndarray, ...]:
    X, Wq, Wk, Wv = (as_array(a, n, where) for a, n in ((X, "X"), (Wq, "Wq"), (Wk, "Wk"), (Wv, "Wv")))
    check_shapes(where, X=(X, "B T d"), Wq=(Wq, "d d_k"), Wk=(Wk, "d d_k"), Wv=(Wv, "d d_v"))
    return X, Wq, Wk, Wv


def self_attention_forward(
    X: np.ndarray, Wq: np.ndarray, Wk: np.ndarray, Wv: np.ndarray, *, causal: bool = False, scale: bool = True
) -> tuple[np.ndarray, dict]:
    """Single-head self-attention: Q, K, V are three linear layers on the same X.

    X (B, T, d), Wq (d, d_k), Wk (d, d_k), Wv (d, d_v) -> Y (B, T, d_v), cache
    """
    X, Wq, Wk, Wv = _projections(X, Wq, Wk, Wv, "self_attention_forward")
    Q = X @ Wq  # (B, T, d) @ (d, d_k) -> (B, T, d_k)
    K = X @ Wk  # (B, T, d) @ (d, d_k) -> (B, T, d_k)
    V = X @ Wv  # (B, T, d) @ (d, d_v) -> (B, T, d_v)
    Y, cache = attention_forward(Q, K, V, causal=causal, scale=scale)
    cache.update(X=X, Wq=Wq, Wk=Wk, Wv=Wv)
    return Y, cache


def self_attention_backward(dY: np.ndarray, cache: dict) -> dict[str, np.ndarray]:
    """Gradients of single-head self-attention with respect to X, Wq, Wk, Wv.

    dY (B, T, d_v) -> {"X": (B, T, d), "Wq": (d, d_k), "Wk": (d, d_k), "Wv": (d, d_v)}
    """
    where = "self_attention_backward"
    _check_cache(cache, ("X", "Wq", "Wk", "Wv"), "self_attention_forward", where)
    X, Wq, Wk, Wv = cache["X"], cache["Wq"], cache["Wk"], cache["Wv"]
    dQ, dK, dV = _attention_backward(dY, cache, where)
    d = X.shape[-1]
    X2 = X.reshape(-1, d)  # (B, T, d) -> (B*T, d): a linear layer sees every token as a row
    dWq = X2.T @ dQ.reshape(-1, dQ.shape[-1])  # (d, B*T) @ (B*T, d_k) -> (d, d_k)
    dWk = X2.T @ dK.reshape(-1, dK.shape[-1])  # (d, B*T) @ (B*T, d_k) -> (d, d_k)
    dWv = X2.T @ dV.reshape(-1, dV.shape[-1])  # (d, B*T) @ (B*T, d_v) -> (d, d_v)
    dX = dQ @ Wq.T + dK @ Wk.T + dV @ Wv.T  # X feeds three layers, so its gradients add: (B, T, d)
    return {"X": dX, "Wq": dWq, "Wk": dWk, "Wv": dWv}


def repeat_kv(K: np.ndarray, n_rep: int) -> np.ndarray:
    """Share each key (or value) head among n_rep query heads, as grouped-query attention does.

    K (B, h_kv, T, d_k) -> (B, h_kv * n_rep, T, d_k): KV head g serves query heads g*n_rep .. (g+1)*n_rep - 1
    """
    K = as_array(K, "K", "repeat_kv")
    n_rep = as_positive_int(n_rep, "n_rep", "repeat_kv")
    check_shapes("repeat_kv", K=(K, "B h_kv T d_k"))
    return _repeat_kv(K, n_rep)


def _repeat_kv(K: np.ndarray, n_rep: int) -> np.ndarray:
    return K if n_rep == 1 else np.repeat(K, n_rep, axis=1)  # (B, h_kv, T, d_k) -> (B, h_kv * n_rep, T, d_k)


def grouped_query_attention(
    Q: np.ndarray, K: np.ndarray, V: np.ndarray, *, causal: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Attention with fewer key/value heads than query heads (GQA; h_kv = 1 is multi-query attention).

    Q (B, h, T_q, d_k), K (B, h_kv, T_k, d_k), V (B, h_kv, T_k, d_v) with h a multiple of h_kv
    -> Y (B, h, T_q, d_v), A (B, h, T_q, T_k). With h_kv = h it is ordinary multi-head attention.
    """
    Q, K, V = (as_array(a, n, "grouped_query_attention") for a, n in ((Q, "Q"), (K, "K"), (V, "V")))
    sizes = check_shapes("grouped_query_attention", Q=(Q, "B h T_q d_k"), K=(K, "B h_kv T_k d_k"), V=(V, "B h_kv T_k d_v"))
    h, h_kv = sizes["h"], sizes["h_kv"]
    if h % h_kv:
        raise ValueError(f"grouped_query_attention: the {h} query heads (Q axis 1) must be a multiple of the "
                         f"{h_kv} key/value heads (K axis 1).")
    K, V = _repeat_kv(K, h // h_kv), _repeat_kv(V, h // h_kv)  # (B, h, T_k, d_k), (B, h, T_k, d_v)
    Y, cache = attention_forward(Q, K, V, causal=causal)
    return Y, cache["A"]


def split_heads(X: np.ndarray, n_heads: int) -> np.ndarray:
    """Cut the last axis into h heads and move the head axis forward.

    X (B, T, d) -> (B, h, T, d_k) with d_k = d / h
    """
    X = as_array(X, "X", "split_heads")
    h = as_positive_int(n_heads, "n_heads", "split_heads")
    B, T, d = check_shapes("split_heads", X=(X, "B T d")).values()
    if d % h:
        raise ValueError(f"split_heads: the width d = {d} must be divisible by n_heads = {h}.")
    return _split_heads(X, h)


def _split_heads(X: np.ndarray, h: int) -> np.ndarray:
    B, T, d = X.shape
    return X.reshape(B, T, h, d // h).transpose(0, 2, 1, 3)  # (B, T, d) -> (B, T, h, d_k) -> (B, h, T, d_k)


def merge_heads(X: np.ndarray) -> np.ndarray:
    """Undo `split_heads`: put the heads side by side again.

    X (B, h, T, d_k) -> (B, T, d) with d = h * d_k
    """
    X = as_array(X, "X", "merge_heads")
    check_shapes("merge_heads", X=(X, "B h T d_k"))
    return _merge_heads(X)


def _merge_heads(X: np.ndarray) -> np.ndarray:
    B, h, T, d_k = X.shape
    return X.transpose(0, 2, 1, 3).reshape(B, T, h * d_k)  # (B, h, T, d_k) -> (B, T, h, d_k) -> (B, T, d)


def multi_head_attention(
    X: np.ndarray, Wq: np.ndarray, Wk: np.ndarray, Wv: np.ndarray, Wo: np.ndarray, n_heads: int,
    *, causal: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-head self-attention by reshapes: one big projection, split, attend, merge, project.

    X (B, T, d), Wq/Wk/Wv/Wo (d, d), n_heads h -> Y (B, T, d), A (B, h, T, T)
    """
    X, Wq, Wk, Wv = _projections(X, Wq, Wk, Wv, "multi_head_attention")
    Wo = as_array(Wo, "Wo", "multi_head_attention")
    d = check_shapes("multi_head_attention", X=(X, "B T d"), Wq=(Wq, "d d"), Wk=(Wk, "d d"), Wv=(Wv, "d d"), Wo=(Wo, "d d"))["d"]
    if d % as_positive_int(n_heads, "n_heads", "multi_head_attention"):
        raise ValueError(f"multi_head_attention: the width d = {d} must be divisible by n_heads = {n_heads}.")
    Q = split_heads(X @ Wq, n_heads)  # (B, T, d) @ (d, d) -> (B, T, d) -> (B, h, T, d_k)
    K = split_heads(X @ Wk, n_heads)  # (B, h, T, d_k)
    V = split_heads(X @ Wv, n_heads)  # (B, h, T, d_k)
    Y, cache = attention_forward(Q, K, V, causal=causal)  # (B, h, T, d_k), weights (B, h, T, T)
    return merge_heads(Y) @ Wo, cache["A"]  # (B, T, d) @ (d, d) -> (B, T, d)


def score_variance(d_k: int, n_samples: int, rng: np.random.Generator) -> tuple[float, float]:
    """Sample variance of q . k for q, k with i.i.d. N(0, 1) entries, unscaled and scaled by 1/sqrt(d_k).

    -> (variance of q . k, variance of q . k / sqrt(d_k)); in theory d_k and 1.
    """
    d_k, n = positive_ints("score_variance", d_k=d_k, n_samples=n_samples)
    rng = as_rng(rng, "score_variance")
    q, k = rng.standard_normal((n, d_k)), rng.standard_normal((n, d_k))  # (n, d_k) each
    dots = (q * k).sum(axis=1)  # one dot product per row -> (n,)
    return float(dots.var()), float((dots / np.sqrt(d_k)).var())


def max_weight(d_k: int, T: int, rng: np.random.Generator, *, scale: bool, n_rows: int = 200) -> float:
    """Average over random queries of the largest softmax weight over T random keys.

    Near 1 means the softmax has saturated (one-hot); near 1/T means it is spread out.
    """
    d_k, T = as_positive_int(d_k, "d_k", "max_weight"), as_positive_int(T, "T", "max_weight")
    n, rng = as_positive_int(n_rows, "n_rows", "max_weight"), as_rng(rng, "max_weight")
    Q, K = rng.standard_normal((n, 1, d_k)), rng.standard_normal((n, T, d_k))
    S = Q @ np.swapaxes(K, -1, -2)  # (n, 1, d_k) @ (n, d_k, T) -> (n, 1, T)
    if scale:
        S = S / np.sqrt(d_k)
    return float(softmax(S).max(axis=-1).mean())


def attention_flops(T_q: int, T_k: int, d: int) -> int:
    """Matmul FLOPs of the attention itself (Q K^T and A V) for one sequence, summed over the heads.

    T_q queries, T_k keys, d = h * d_k -> 2*T_q*T_k*d (scores) + 2*T_q*T_k*d (weighted sum) = 4*T_q*T_k*d.
    The projections are not included.
    """
    T_q, T_k, d = positive_ints("attention_flops", T_q=T_q, T_k=T_k, d=d)
    return 2 * T_q * T_k * d + 2 * T_q * T_k * d  # (h, T_q, d_k) @ (h, d_k, T_k), then (h, T_q, T_k) @ (h, T_k, d_k)


def score_bytes(batch: int, n_heads: int, T_q: int, T_k: int | None = None, bytes_per_element: int = 2) -> int:
    """Bytes of one layer's attention scores (or weights) if they are stored: B*h*T_q*T_k elements.

    Quadratic in the sequence: 1 x 32 heads x 4096 x 4096 in fp16 is 1 GiB, for each layer.
    """
    B, h, T_q, nbytes = positive_ints("score_bytes", batch=batch, n_heads=n_heads, T_q=T_q,
                                      bytes_per_element=bytes_per_element)
    T_k = T_q if T_k is None else as_positive_int(T_k, "T_k", "score_bytes")
    return B * h * T_q * T_k * nbytes  # the (B, h, T_q, T_k) array


def rope_angles(T: int, d_h: int, base: float = 10000.0, start: int = 0) -> np.ndarray:
    """Rotary-embedding angles: position start + t turns pair i by (start + t) * base ** (-2 i / d_h).

    T positions, head width d_h (even) -> angles (T, d_h // 2), in radians
    """
    T, d_h = positive_ints("rope_angles", T=T, d_h=d_h)
    if d_h % 2:
        raise ValueError(f"rope_angles: d_h must be even (RoPE rotates pairs of coordinates), got {d_h}.")
    base = as_number(base, "base", "rope_angles", positive=True)
    start = _as_start(start, "rope_angles")
    freqs = base ** (-2.0 * np.arange(d_h // 2) / d_h)  # (d_h // 2,): pair 0 turns fastest, 1 rad per position
    return (start + np.arange(T))[:, None] * freqs[None, :]  # (T, 1) * (1, d_h // 2) -> (T, d_h // 2)


def _as_start(start: object, where: str) -> int:
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)):
        raise TypeError(f"{where}: start must be a non-negative integer (the first position), got {start!r}.")
    if start < 0:
        raise ValueError(f"{where}: start must be a non-negative integer (the first position), got {start}.")
    return int(start)


def apply_rope(x: np.ndarray, start: int = 0, base: float = 10000.0) -> np.ndarray:
    """Rotate each pair (x[..., 2i], x[..., 2i+1]) of every token by its RoPE angle.

    x (..., T, d_h), d_h even -> same shape; token t sits at position start + t.
    This is the interleaved-pair form of the RoFormer paper (Su et al., 2021). Llama's Hugging
    Face code rotates halves instead, pairing coordinate i with i + d_h/2: the same rotation up
    to a fixed permutation of the coordinates (applied to both q and k, it leaves q . k alone).
    Applied to q and k, the score q_m . k_n = q^T R_m^T R_n k = q^T R_(n-m) k depends on n - m only.
    """
    x = as_array(x, "x", "apply_rope")
    if x.ndim < 2:
        raise ValueError(f"apply_rope: x should have shape (..., T, d_h), got {x.shape}.")
    T, d_h = x.shape[-2:]
    if d_h % 2:
        raise ValueError(f"apply_rope: the last axis d_h of x must be even (RoPE rotates pairs), got shape {x.shape}.")
    base, start = as_number(base, "base", "apply_rope", positive=True), _as_start(start, "apply_rope")
    theta = rope_angles(T, d_h, base=base, start=start)  # (T, d_h // 2)
    cos, sin = np.cos(theta).astype(x.dtype), np.sin(theta).astype(x.dtype)
    even, odd = x[..., 0::2], x[..., 1::2]  # (..., T, d_h // 2) each: the two coordinates of every pair
    out = np.empty_like(x)
    out[..., 0::2] = even * cos - odd * sin  # the 2-D rotation [[cos, -sin], [sin, cos]] of each pair
    out[..., 1::2] = even * sin + odd * cos
    return out
