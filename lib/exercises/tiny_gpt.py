"""Exercises for the chapter `tiny-gpt`.

`rmsnorm_backward` (a new case: RMSNorm's backward pass, which the page does not derive); ex2 (a
prediction, before the attention maps: which key each answer query attends to); `embedding_bug` (find the
bug: the buffered scatter dwte[tokens] += dx); ex3 an adapter's size; `loss_grad` the gradient of the
next-token loss, stable when the largest logit is not the target's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lib import nn
from lib.exercises import (
    Case,
    Exercise,
    Wrong,
    call,
    cases,
    check_function,
    compare,
    compare_count,
    refuse_lib,
)
from lib.exercises.attention import short
from lib.gradcheck import numerical_gradient

EPS = 1e-5


# ---------------------------------------------------------------- rmsnorm_backward (a new case: not derived on the page)
def _rms_forward(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + EPS) * g  # (..., d) * (d,)


def _rms_numeric(dy: np.ndarray, x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference: central differences (lib.gradcheck) of L = sum(dy * RMSNorm(x))."""
    x, g = x.copy(), g.copy()

    def loss() -> float:
        return float((dy * _rms_forward(x, g)).sum())

    return tuple(numerical_gradient(loss, p, eps=1e-6) for p in (x, g))


def _rms_bug(kind: str) -> Callable[..., tuple]:
    """A named wrong RMSNorm backward pass, as a function of (dy, x, g)."""
    def fn(dy, x, g):
        d = x.shape[-1]
        rrms = 1.0 / np.sqrt((x * x).mean(axis=-1, keepdims=True) + EPS)
        xhat, u = x * rrms, dy * g
        proj = (u * xhat).mean(axis=-1, keepdims=True)
        dx, dg = rrms * (u - xhat * proj), (dy * xhat).reshape(-1, d).sum(0)
        if kind == "layernorm":
            dx = rrms * (u - u.mean(axis=-1, keepdims=True) - xhat * proj)
        elif kind == "constant":
            dx = u * rrms
        elif kind == "no gain":
            dx = rrms * (dy - xhat * (dy * xhat).mean(axis=-1, keepdims=True))
        elif kind == "dg with x":
            dg = (dy * x).reshape(-1, d).sum(0)
        elif kind == "dg mean":
            dg = (dy * xhat).reshape(-1, d).mean(0)
        elif kind == "sum":
            dx = rrms * (u - xhat * (u * xhat).sum(axis=-1, keepdims=True))
        elif kind == "plus":
            dx = rrms * (u + xhat * proj)
        elif kind == "batch axis":
            dx = rrms * (u - xhat * (u * xhat).mean(axis=0, keepdims=True))
        return dx, dg
    return fn


_RMS_BUGS = {
    "that is LayerNorm's backward pass: RMSNorm does not subtract the mean, so there is no - mean(u) term; "
    "only the path through the root mean square remains.": _rms_bug("layernorm"),
    "dx treats the root mean square as a constant (dx = dy * g / rms), but it depends on every entry of the row: "
    "subtract xhat * mean(u * xhat) too.": _rms_bug("constant"),
    "dx forgot the gain: the gradient reaching xhat is u = dy * g, not dy.": _rms_bug("no gain"),
    "dg uses x instead of the normalised xhat = x / rms: y = g * xhat, so dg = sum(dy * xhat).": _rms_bug("dg with x"),
    "dg is a mean over the rows; g scales every row, so its gradient is the sum.": _rms_bug("dg mean"),
    "dx uses a sum where it needs a mean: mean(x^2) divides by d, so the correction is xhat * mean(u * xhat).":
        _rms_bug("sum"),
    "the correction has the wrong sign: dx = (u - xhat * mean(u * xhat)) / rms.": _rms_bug("plus"),
    "dx takes its mean over the rows (axis 0); RMSNorm normalises each row, so take it over the last axis.":
        _rms_bug("batch axis"),
}


def _rms_case(A: int, N: int, d: int, rng: np.random.Generator) -> tuple:
    shape = (A, N, d) if A > 1 else (N, d)  # a 2-D batch of rows, or a 3-D one (B, T, d)
    x = 1.5 * rng.standard_normal(shape) + 0.3  # not centred: a mean term would show
    return rng.standard_normal(shape), x, rng.standard_normal(d)


_RMS_CASES = cases(_rms_case, dict(A=1, N=3, d=5), dict(A=2, N=4, d=6), dict(A=1, N=7, d=3), dict(A=3, N=1, d=8))


def _check_rms(fn) -> str:
    refuse_lib(fn, {"lib.nn.rms_norm": nn.rms_norm, "lib.nn.norm_backward": nn.norm_backward})
    for case in _RMS_CASES:
        dy, x, _ = case.make()
        out = call(fn, *case.make(), name="your rms_backward")
        if isinstance(out, (tuple, list)) and len(out) == 2 and np.ndim(out[1]) >= 2:
            raise Wrong(f"with {case.label}: dg should have shape (d,) = ({x.shape[-1]},), the shape of g: g is "
                        f"shared by every row, so sum its gradient over all the leading axes (got {np.shape(out[1])}).")
    check_function(fn, _rms_numeric, _RMS_CASES, name="your rms_backward", parts=("dx", "dg"), bugs=_RMS_BUGS,
                   rtol=1e-5, atol=1e-7)
    return ("dx and dg agree with finite differences (lib.gradcheck) on every shape tried: with u = dy * g and "
            "xhat = x / rms, dx = (u - xhat * mean(u * xhat)) / rms, LayerNorm's formula without the mean term.")


rmsnorm_backward = Exercise(
    "tiny-gpt-rmsnorm-backward",
    _check_rms,
    ["RMSNorm is LayerNorm without the centring and without b. Which of the two directions that LayerNorm's dx "
     "removes is still removed, and which is not?",
     "Write rms = sqrt(mean(x^2) + eps) and differentiate x_i / rms with respect to x_j: the quotient rule gives "
     "one term for i = j and one, through rms, for every j. Then multiply by u = dy * g and sum over i."],
    "def rms_backward(dy, x, g):\n"
    "    d = x.shape[-1]\n"
    "    rrms = 1 / np.sqrt((x * x).mean(axis=-1, keepdims=True) + 1e-5)\n"
    "    xhat = x * rrms                                   # (..., d)\n"
    "    u = dy * g                                        # the gradient reaching xhat\n"
    "    dx = rrms * (u - xhat * (u * xhat).mean(axis=-1, keepdims=True))\n"
    "    dg = (dy * xhat).reshape(-1, d).sum(axis=0)       # (d,)\n"
    "    return dx, dg",
    why="d(x_i / rms)/dx_j = delta_ij / rms - x_i x_j / (d rms^3): the gradient loses its component along xhat "
        "(a rescaling of the row changes nothing) but not along the constant direction, since nothing is centred.",
)


# ---------------------------------------------------------------- embedding_bug: find the bug in a scatter
def _emb_reference(tokens: np.ndarray, dx: np.ndarray, V: int) -> np.ndarray:
    dwte = np.zeros((V, dx.shape[-1]))
    np.add.at(dwte, tokens.reshape(-1), dx.reshape(-1, dx.shape[-1]))  # every use of a token adds its gradient
    return dwte  # (V, d)


def _emb_buffered(tokens, dx, V):
    dwte = np.zeros((V, dx.shape[-1]))
    dwte[tokens.reshape(-1)] += dx.reshape(-1, dx.shape[-1])  # buffered: one contribution per repeated token
    return dwte


def _emb_case(B: int, T: int, d: int, V: int, rng: np.random.Generator) -> tuple:
    return rng.integers(0, V, size=(B, T)), rng.standard_normal((B, T, d)), V  # tokens repeat: B T > V


_EMB_CASES = cases(_emb_case, dict(B=2, T=6, d=3, V=4), dict(B=3, T=5, d=4, V=5), dict(B=1, T=9, d=2, V=3),
                   seed=17, fixed=("V",))

_EMB_BUGS = {
    "that is still the buffered scatter dwte[tokens] += dx: with a repeated token NumPy writes its row once, "
    "keeping one contribution. Use np.add.at(dwte, tokens, dx), which adds every one.": _emb_buffered,
    "you averaged the contributions of a repeated token; the lookup copies the row to every use, so its "
    "gradient is their SUM.": lambda t, dx, V: _emb_reference(t, dx, V)
    / np.maximum(np.bincount(t.reshape(-1), minlength=V), 1)[:, None],
    "you returned one gradient row per position (B T, d); the table's gradient has one row per token of the "
    "vocabulary, (V, d).": lambda t, dx, V: dx.reshape(-1, dx.shape[-1]),
    "you summed the rows of the first sequence only: the tokens of every sequence in the batch use the table.":
        lambda t, dx, V: _emb_reference(t[:1], dx[:1], V),
}


def _check_embedding(fn) -> str:
    check_function(fn, _emb_reference, _EMB_CASES, name="your embedding_backward", bugs=_EMB_BUGS)
    return ("np.add.at adds every position's gradient into its token's row: a token used three times collects "
            "three contributions, where the buffered dwte[tokens] += dx keeps only one.")


embedding_bug = Exercise(
    "tiny-gpt-embedding-bug",
    _check_embedding,
    ["The function is right when every token appears once. What does NumPy do with dwte[tokens] += dx when "
     "tokens holds the same id twice?",
     "Try it: dwte = np.zeros((3, 1)); dwte[[0, 0]] += np.ones((2, 1)). Is dwte[0] 1 or 2? Then look for a "
     "NumPy function that adds 'at' indices without buffering."],
    "def embedding_backward(tokens, dx, V):\n"
    "    dwte = np.zeros((V, dx.shape[-1]))\n"
    "    np.add.at(dwte, tokens.reshape(-1), dx.reshape(-1, dx.shape[-1]))  # unbuffered: repeats add up\n"
    "    return dwte",
    why="x = wte[tokens] copies a row to every position that holds the token, so the table's gradient sums those "
        "positions' gradients; the fancy-index += evaluates dwte[tokens] + dx once and assigns, so repeats "
        "overwrite each other.",
)


# ---------------------------------------------------------------- ex2: the attention pattern
def _positions(n: int, task: str) -> np.ndarray:
    j = np.arange(n)
    return n - 1 - j if task == "reverse" else (j + 1) % n


def _check_positions(fn) -> str:
    for n in (5, 3, 8):
        for task in ("reverse", "rotate"):
            got = call(fn, n, task, name="your attended_position")
            want = _positions(n, task)
            j = np.arange(n)
            bugs = {
                "off by one (one position too far right): the query writing y_(j+1) copies x_(n-j), at position "
                "n - 1 - j (positions count from 0).": n - j if task == "reverse" else None,
                "off by one (one position too far left): the query writing y_(j+1) copies x_(n-j), at position "
                "n - 1 - j (positions count from 0).": n - 2 - j if task == "reverse" else None,
                "off by one (one position too far right): the query writing y_(j+1) copies x_(j+2), at position "
                "(j + 1) mod n (positions count from 0).": (j + 2) % n if task == "rotate" else None,
                "off by one (one position too far left): the query writing y_(j+1) copies x_(j+2), at position "
                "(j + 1) mod n, one step right of the diagonal.": j if task == "rotate" else None,
                "that is the previous token (n + j - 1); the query must look back into the input, at the digit it "
                "copies.": n + j - 1,
                "those positions mirror the query into the answer part; the digit to copy is in the input, at "
                "n - 1 - j.": 2 * n - 1 - j if task == "reverse" else None,
                "that is the diagonal j; reversal reads the input backwards, at n - 1 - j.":
                    j if task == "reverse" else None,
                "those positions count from 1; the first input digit is position 0.": want + 1,
                "those are the query positions themselves (n + j); the query must look back into the input.": n + j,
                "those are the positions of the digits being written; the query reads the input digit that the "
                "answer copies.": n + 1 + j,
                "the rotation must wrap round: the last answer digit is x_1, at position 0, not the separator at n.":
                    j + 1 if task == "rotate" else None,
                "that is a rotation to the right; y = (x_2, ..., x_n, x_1) is a rotation to the left.":
                    (j - 1) % n if task == "rotate" else None,
                "that is the other task's pattern.": _positions(n, "rotate" if task == "reverse" else "reverse"),
            }
            try:
                compare(got, want, name="your positions", bugs={k: v for k, v in bugs.items() if v is not None})
            except Wrong as wrong:
                raise Wrong(f"with n={n}, task={task!r}: {wrong}") from None
    return "reversal reads the input on an anti-diagonal, rotation on a diagonal shifted one step right that wraps round."


ex2 = Exercise(
    "tiny-gpt-attended-position",
    _check_positions,
    ["The query at position n + j writes answer digit y_(j+1). Which input digit is it, and at which position?",
     "Write the case n = 3 by hand: which digit does each of the queries at positions 3, 4 and 5 write, for each "
     "task, and where in the input does that digit sit (the first input digit is position 0)?"],
    "def attended_position(n, task):\n"
    "    j = np.arange(n)\n"
    "    return n - 1 - j if task == 'reverse' else (j + 1) % n",
    why="The query at position n + j writes y_(j+1), which is a copy of one input digit; attention must "
        "put its weight on that digit's position: x_(n-j) at n - 1 - j, or x_(j+2) at (j + 1) mod n.",
    formerly="tiny-gpt-ex2",
)


# ---------------------------------------------------------------- ex3: the adapter's size
_SHAPES = {"Wq": ("d", "d"), "Wk": ("d", "d"), "Wv": ("d", "d"), "Wo": ("d", "d"), "W1": ("d", "F"), "W2": ("F", "d")}
_ADAPTER_CASES = ((16, 48, 2, 3, ("Wq", "W1", "W2")), (8, 20, 4, 2, ("Wv", "Wo", "W2")), (32, 64, 8, 1, ("Wq", "Wk")),
                  (24, 24, 3, 2, ("W1",)), (12, 40, 5, 4, ("W2",)))  # non-square, multi-layer cases first


def _adapter(d: int, F: int, r: int, L: int, targets: tuple[str, ...]) -> int:
    size = {"d": d, "F": F}
    return L * sum(r * (size[_SHAPES[t][0]] + size[_SHAPES[t][1]]) for t in targets)


def _check_adapter(fn) -> str:
    from lib import sizing
    refuse_lib(fn, {"lib.sizing.lora_layer_params": sizing.lora_layer_params, "lib.sizing.lora_params": sizing.lora_params},
               how="from the shapes")
    for d, F, r, L, targets in _ADAPTER_CASES:
        got = call(fn, d, F, r, L, targets, name="your adapter_params")
        want = _adapter(d, F, r, L, targets)
        size = {"d": d, "F": F}
        try:
            compare_count(got, want, name="your count", bugs={k: v for k, v in {
                "2*d*r holds only for the square d x d projections; W1 and W2 are d x d_ff, so their adapters "
                "have r * (d + d_ff).": L * len(targets) * 2 * d * r,
                "you left out the layers: every block has its own adapters.": want // L,
                "you counted only one factor of each adapter (D_in * r); the other (r * D_out) trains too.":
                    L * sum(r * size[_SHAPES[t][0]] for t in targets),
                "that is the size of the full matrices, not of their adapters.":
                    L * sum(size[_SHAPES[t][0]] * size[_SHAPES[t][1]] for t in targets),
                "you counted only one factor of each adapter (r * D_out); the other (D_in * r) trains too.":
                    L * sum(r * size[_SHAPES[t][1]] for t in targets),
                "W1 and W2 are d x d_ff, so their adapters have r * (d + d_ff), not 2 * d_ff * r.":
                    L * sum(r * 2 * (F if t in ("W1", "W2") else d) for t in targets),
                "W2 is d_ff x d, not d x d: its adapter has r * (d_ff + d).":
                    L * sum(r * (d + d) if t == "W2" else r * (size[_SHAPES[t][0]] + size[_SHAPES[t][1]]) for t in targets),
                "an adapter has r * (D_in + D_out) parameters, not r * D_in * D_out.":
                    L * sum(r * size[_SHAPES[t][0]] * size[_SHAPES[t][1]] for t in targets),
                "you counted only the first target; add the adapters of every name in targets.":
                    _adapter(d, F, r, L, targets[:1]) if len(targets) > 1 else None,
                "that is n_layers + 1 blocks; there are n_layers.": want // L * (L + 1),
                "that is this chapter's adapter (1,024) whatever the arguments: compute it from d, d_ff, r, "
                "n_layers and targets.": 1024 if want != 1024 else None,
            }.items() if v is not None})
        except Wrong as wrong:
            raise Wrong(f"with d={d}, d_ff={F}, r={r}, n_layers={L}, targets={targets}: {wrong}") from None
    return "1,024 for this chapter's adapter: two adapters of 8 x (32 + 32) each."


ex3 = Exercise(
    "tiny-gpt-adapter-size",
    _check_adapter,
    ["An adapter on a (D_in, D_out) matrix is A (D_in, r) and B (r, D_out). Find D_in and D_out of each target.",
     "Write D_in and D_out of each of the six matrices (W1 and W2 are not square). How many numbers do A and B "
     "hold together for one of them, and how many times does each block repeat it?"],
    "def adapter_params(d, d_ff, r, n_layers, targets):\n"
    "    sizes = {'Wq': (d, d), 'Wk': (d, d), 'Wv': (d, d), 'Wo': (d, d), 'W1': (d, d_ff), 'W2': (d_ff, d)}\n"
    "    return n_layers * sum(r * (sizes[t][0] + sizes[t][1]) for t in targets)",
    why="An adapter on a (D_in, D_out) matrix is A (D_in, r) plus B (r, D_out); every block has its own.",
    formerly="tiny-gpt-ex3",
)


# ---------------------------------------------------------------- loss_grad: the gradient of the next-token loss
def _make_ce(N: int, V: int, rng: np.random.Generator) -> tuple:
    return 2.0 * rng.normal(size=(N, V)), rng.integers(0, V, size=N)  # logits (N, V), targets (N,)


def _extreme_ce() -> tuple:
    logits = np.array([[1000.0, -1000.0, 0.0, 5.0], [0.5, 999.0, -3.0, 1000.0], [0.1, 0.2, 0.3, 0.4],
                       [1000.0, 2.0, -1000.0, 0.0]])  # row 3: the largest logit is NOT the target's
    return logits, np.array([0, 3, 1, 2])


_CE_EXTREME_LABEL = "N=4, V=4 and logits as large as 1000, the largest not always at the target"
_CE_CASES = [*cases(_make_ce, dict(N=4, V=5), dict(N=6, V=27), dict(N=1, V=3), seed=61),
             Case(_CE_EXTREME_LABEL, _extreme_ce)]


def _probs(z: np.ndarray, axis: int = -1) -> np.ndarray:
    with np.errstate(all="ignore"):
        e = np.exp(z - z.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)


def _column_bug(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    P = _probs(z)
    P[:, y] -= 1  # the classic: whole columns y, every row
    return P


def _row_bug(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    P = _probs(z)
    P[y] -= 1  # whole ROWS y (fails when a target >= N)
    return P


def _shifted_target(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    P = _probs(z)
    P[np.arange(len(y)), y - 1] -= 1  # y - 1 wraps to the last column for y = 0
    return P


def _ce_bugs(z: np.ndarray, y: np.ndarray) -> dict[str, Callable[[], np.ndarray]]:
    N = z.shape[0]
    onehot = np.eye(z.shape[1])[y]  # (N, V)
    at_target = _probs(z)
    at_target[np.arange(N), y] = -1.0
    return {
        "P[y] -= 1 subtracts 1 in the whole ROWS y; the targets index the vocabulary, so subtract once per row at "
        "its target: P[np.arange(N), y] -= 1.": lambda: _row_bug(z, y) / N,
        "you SET the target entries to -1; the gradient there is p_y - 1, so subtract: P[np.arange(N), y] -= 1.":
            lambda: at_target / N,
        "P[:, y] -= 1 subtracts 1 in the whole COLUMNS y, in every row; subtract it once per row, at that row's "
        "target: P[np.arange(N), y] -= 1.": lambda: _column_bug(z, y) / N,
        "P[:, y] -= 1 subtracts 1 in the whole COLUMNS y, in every row (use P[np.arange(N), y] -= 1), and the "
        "loss is a mean over the N rows, so divide by N as well.": lambda: _column_bug(z, y),
        "you returned the gradient of the SUM of the N losses; the loss is their mean, so divide by N.":
            lambda: _probs(z) - onehot,
        "you took the softmax over axis 0 (the N positions); each row's probabilities over the vocabulary must "
        "sum to 1: axis=-1.": lambda: (_probs(z, axis=0) - onehot) / N,
        "you left out the target: the gradient is (P - onehot(y)) / N, with -1 at each row's target.":
            lambda: _probs(z) / N,
        "the sign is flipped: the gradient of -log p_y is P - onehot(y), not onehot(y) - P.":
            lambda: (onehot - _probs(z)) / N,
        "you used the log-probabilities; the gradient uses the probabilities P = softmax(logits).":
            lambda: (np.log(_probs(z)) - onehot) / N,
        "your -1 sits one column to the left of the target: targets are 0-based column indices, so use "
        "P[np.arange(N), y] -= 1 with y itself.": lambda: _shifted_target(z, y) / N,
        "you divided by V, the vocabulary size; the loss is a mean over the N rows, so divide by N.":
            lambda: (_probs(z) - onehot) / z.shape[1],
        "you divided by N twice: (P - onehot(y)) / N already carries the mean's 1/N.":
            lambda: (_probs(z) - onehot) / N**2,
    }


def _check_ce(fn: object) -> str:
    refuse_lib(fn, {"lib.nn.cross_entropy_backward": nn.cross_entropy_backward})
    for case in _CE_CASES:
        z, y = case.make()
        want = nn.cross_entropy_backward(z, y)  # (softmax(z) - onehot) / N
        try:
            try:
                got = call(fn, z, y, name="your lm_loss_grad")
            except Wrong as wrong:
                text = str(wrong)
                if "IndexError" in text and "axis 0" in text:
                    raise Wrong(text.rstrip(". ") + ". The targets index the vocabulary, axis 1, not the rows: pick "
                                "one entry per row with P[np.arange(N), targets].") from None
                raise
            try:
                compare(got, want, name="your dlogits", bugs=_ce_bugs(z, y))
            except Wrong:
                arr = np.asarray(got, dtype=float) if np.shape(got) == z.shape else None
                if case.label == _CE_EXTREME_LABEL and arr is not None and not np.isfinite(arr).all():
                    if np.isfinite(arr[:3]).all():  # only the row whose max is away from its target breaks
                        raise Wrong("your gradient is NaN or inf in the row whose largest logit is NOT at the "
                                    "target: you shifted by the target's logit (log-sum-exp around z_y), which "
                                    "leaves exp(z - z_y) = exp(2000) there. Shift each row by its own MAXIMUM, "
                                    "whatever the target.") from None
                    raise Wrong("your softmax gives NaN or inf once the logits are large, although it is right on "
                                "small ones: exp(1000) overflows to inf (inf / inf is NaN), and shifting by one "
                                "maximum for the whole array makes other rows underflow to 0 / 0. Subtract EACH "
                                "ROW's own maximum before np.exp.") from None
                raise
        except Wrong as wrong:
            raise Wrong(short(f"with {case.label}: {wrong}")) from None
    return ("dL/dlogits = (softmax(logits) - onehot(targets)) / N: each row pushes its target's logit up and the "
            "others down, in proportion to their probabilities.")


loss_grad = Exercise(
    "tiny-gpt-loss-grad",
    _check_ce,
    ["Do one row first: L = -log p_y with p = softmax(z). Write log p_y in terms of z (log of a quotient), then "
     "differentiate with respect to z_j, for j = y and j != y.",
     "-log p_y = -z_y + log sum_k exp(z_k). Differentiate each term in z_j: the first is -1 only when j = y; the "
     "second is a function you already compute. For N rows the loss is a mean; P[np.arange(N), targets] picks "
     "one entry per row."],
    "def lm_loss_grad(logits, targets):\n    N = logits.shape[0]\n"
    "    P = np.exp(logits - logits.max(axis=-1, keepdims=True))\n    P /= P.sum(axis=-1, keepdims=True)  # softmax per row\n"
    "    P[np.arange(N), targets] -= 1.0  # minus one-hot, one entry per row\n    return P / N  # the loss is a mean",
    why="-log softmax(z)_y = -z_y + log sum exp(z); its gradient is softmax(z) - onehot(y), and the mean over N "
        "rows divides it by N.",
    formerly="decoder-kv-cache-ex5",
)
