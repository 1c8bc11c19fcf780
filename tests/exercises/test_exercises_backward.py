"""lib.exercises.backward: several right answers pass, every named bug gets its own sentence."""

from __future__ import annotations

import numpy as np
import pytest

from lib.exercises.backward import ex1, ex2, ex3, ex4, ex5, ex6, mystery_backward
from lib.gradcheck import LinearBench


def _said(result, fragment: str) -> bool:
    return result.status == "incorrect" and fragment.lower() in result.message.lower()


# ---------------------------------------------------------------- ex1: central difference
def _central(loss, param, index, eps):
    old = param[index]
    param[index] = old + eps
    plus = loss()
    param[index] = old - eps
    minus = loss()
    param[index] = old
    return (plus - minus) / (2 * eps)


def _central_try(loss, param, index, eps):
    old = param[index]
    try:
        values = []
        for sign in (1, -1):
            param[index] = old + sign * eps
            values.append(loss())
    finally:
        param[index] = old
    return np.array([(values[0] - values[1]) / (2 * eps)])  # a 1-element array is fine


def _central_flat(loss, param, index, eps):
    flat = param.reshape(-1)  # a view: nudging it nudges param
    k = np.ravel_multi_index(index, param.shape)
    old = float(flat[k])
    flat[k] = old + eps
    plus = loss()
    flat[k] = old - eps
    minus = loss()
    flat[k] = old
    return np.float32((plus - minus) / (2 * eps))


def _central_drift(loss, param, index, eps):
    param[index] += eps
    plus = loss()
    param[index] -= 2 * eps
    minus = loss()
    param[index] += eps
    return (plus - minus) / (2 * eps)


@pytest.mark.parametrize("fn", [_central, _central_try, _central_flat, _central_drift])
def test_ex1_accepts_right_answers(fn):
    result = ex1.check(fn)
    assert result.ok, result


def _central_bug(kind):
    def fn(loss, param, index, eps):
        old = param[index]
        if kind == "copy":
            param = param.copy()
        if kind == "whole":
            param += eps
            plus = loss()
            param -= 2 * eps
            minus = loss()
            param += eps
            return (plus - minus) / (2 * eps)
        base = loss()
        param[index] = eps if kind == "set" else old + eps
        plus = loss()
        param[index] = -eps if kind == "set" else old - eps
        minus = loss()
        if kind != "keep":
            param[index] = old
        return {"forward": (plus - base) / eps, "eps": (plus - minus) / eps, "sign": (minus - plus) / (2 * eps),
                "precedence": (plus - minus) / 2 * eps}.get(kind, (plus - minus) / (2 * eps))
    return fn


@pytest.mark.parametrize(("kind", "fragment"), [
    ("forward", "forward difference"),
    ("eps", "divide by 2 * eps, not eps"),
    ("sign", "sign is flipped"),
    ("precedence", "precedence"),
    ("set", "instead of nudging"),
    ("whole", "every entry of param"),
    ("copy", "nudged a copy"),
    ("keep", "left changed"),
])
def test_ex1_names_each_bug(kind, fragment):
    result = ex1.check(_central_bug(kind))
    assert _said(result, fragment), result


def test_ex1_restore_drift_is_accepted_with_a_note():
    assert "does not give a float back exactly" in ex1.check(_central_drift).message or ex1.check(_central_drift).ok


# ---------------------------------------------------------------- ex2: grad_check of your own
def _numeric(loss, param, eps):
    grad = np.zeros(param.shape)
    for idx in np.ndindex(param.shape):
        grad[idx] = _central(loss, param, idx, eps)
    return grad


def _grad_check(loss, params, grads, eps):
    report = {}
    for name, param in params.items():
        n, a = _numeric(loss, param, eps), grads[name]
        report[name] = np.abs(a - n).max() / max(np.abs(a).max(), np.abs(n).max())
    return report


def _grad_check_loop(loss, params, grads, eps):
    out = {}
    for name in params:
        a = np.asarray(grads[name], dtype=float).ravel()
        n = _numeric(loss, params[name], eps).ravel()
        worst = max(abs(x - y) for x, y in zip(a, n, strict=True))
        out[name] = float(worst / max(max(abs(a)), max(abs(n))))
    return out


def _grad_check_lib(loss, params, grads, eps):
    from lib.gradcheck import numerical_gradient, relative_error
    return {k: np.float32(relative_error(grads[k], numerical_gradient(loss, p, eps=eps))) for k, p in params.items()}


def _grad_check_drift(loss, params, grads, eps):
    report = {}
    for name, param in params.items():
        n = np.zeros(param.shape)
        for idx in np.ndindex(param.shape):
            n[idx] = _central_drift(loss, param, idx, eps)
        a = grads[name]
        report[name] = np.abs(a - n).max() / max(np.abs(a).max(), np.abs(n).max())
    return report


@pytest.mark.parametrize("fn", [_grad_check, _grad_check_loop, _grad_check_drift])
def test_ex2_accepts_right_answers(fn):
    result = ex2.check(fn)
    assert result.ok, result


def _check_bug(kind):
    def fn(loss, params, grads, eps):
        out = {}
        for name, param in params.items():
            a = grads[name]
            if kind == "copy":
                n = np.zeros(param.shape)
            elif kind == "forward":
                base, n = loss(), np.zeros(param.shape)
                for idx in np.ndindex(param.shape):
                    old = param[idx]
                    param[idx] = old + eps
                    n[idx] = (loss() - base) / eps
                    param[idx] = old
            elif kind == "fixed eps":
                n = _numeric(loss, param, 1e-5)
            elif kind == "one":
                first = (0,) * param.ndim
                n, a = np.array([_central(loss, param, first, eps)]), np.ravel(a)[:1]
            else:
                n = _numeric(loss, param, eps)
            d = np.abs(a - n)
            out[name] = {
                "elementwise": np.max(d / np.maximum(np.abs(a), np.abs(n))),
                "analytic only": d.max() / np.abs(a).max(),
                "absolute": d.max(),
                "mean": d.mean() / max(np.abs(a).max(), np.abs(n).max()),
                "norm sum": np.linalg.norm(a - n) / (np.linalg.norm(a) + np.linalg.norm(n)),
                "norm max": np.linalg.norm(a - n) / max(np.linalg.norm(a), np.linalg.norm(n)),
            }.get(kind, d.max() / max(np.abs(a).max(), np.abs(n).max()))
        return out
    return fn


@pytest.mark.parametrize(("kind", "fragment"), [
    ("copy", "numerical gradient is 0 everywhere"),
    ("forward", "forward difference"),
    ("one", "only one entry"),
    ("elementwise", "element-wise"),
    ("analytic only", "max|a| alone"),
    ("absolute", "not yet divided"),
    ("mean", "max, not mean"),
    ("norm sum", "(|a| + |n|)"),
    ("norm max", "max(|a|, |n|) with whole-tensor norms"),
    ("fixed eps", "ignores the eps"),
])
def test_ex2_names_each_bug(kind, fragment):
    result = ex2.check(_check_bug(kind))
    assert _said(result, fragment), result


def test_ex2_lib_numerical_gradient_is_not_an_answer():
    result = ex2.check(_grad_check_lib)
    assert result.status == "incorrect" and _said(result, "lib.gradcheck"), result


def test_ex2_the_library_check_is_not_an_answer():
    from lib.gradcheck import check_gradients, numerical_gradient, relative_error

    def via_check(loss, params, grads, eps):
        return {r.name: r.rel_error for r in check_gradients(loss, params, grads, eps=eps).rows}

    def via_parts(loss, params, grads, eps):
        return {k: relative_error(grads[k], numerical_gradient(loss, p, eps=eps)) for k, p in params.items()}
    assert _said(ex2.check(via_check), "lib.gradcheck.check_gradients")
    assert ex2.check(via_parts).status == "incorrect"


def test_ex2_format_and_restore():
    assert _said(ex2.check(lambda loss, params, grads, eps: [1.0, 2.0, 3.0]), "dict")
    assert _said(ex2.check(lambda loss, params, grads, eps: {"W": 0.0}), "one relative error for each name")

    def keeps_nudge(loss, params, grads, eps):
        params["W"][0, 0] += eps
        return _grad_check(loss, params, grads, eps)
    assert _said(ex2.check(keeps_nudge), "left changed")


# ---------------------------------------------------------------- ex3: the bug hunt
def test_ex3_the_mystery_really_has_one_bug_in_dW():
    bench = LinearBench.random(6, 4, 3, np.random.default_rng(7))
    dX, dW, db = mystery_backward(bench.X, bench.W, bench.upstream())
    report = _grad_check(bench.loss, bench.params(), {"X": dX, "W": dW, "b": db}, 1e-5)
    assert report["X"] < 1e-8 and report["b"] < 1e-8 and report["W"] > 0.1


@pytest.mark.parametrize("answer", ["W", "w", "dW", " dw ", "weights"])
def test_ex3_accepts_the_names_of_W(answer):
    assert ex3.check(answer).ok


@pytest.mark.parametrize(("answer", "fragment"), [("X", "gradient of X is right"), ("db", "gradient of b is right"),
                                                  ("batch", "not one of"), (["W"], "as a string")])
def test_ex3_wrong_answers(answer, fragment):
    assert _said(ex3.check(answer), fragment)


# ---------------------------------------------------------------- ex4: ReLU after a linear layer
def _relu_linear(X, W, b, dH):
    Z = X @ W + b
    dZ = dH * (Z > 0)
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)


def _relu_linear_loops(X, W, b, dH):
    B, D_out = dH.shape
    dZ = np.zeros_like(dH)
    for n in range(B):
        for j in range(D_out):
            z = X[n] @ W[:, j] + b[j]
            dZ[n, j] = dH[n, j] if z > 0 else 0.0
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)


def _relu_linear_h(X, W, b, dH):
    H = np.maximum(X @ W + b, 0)
    dZ = np.where(H > 0, dH, 0.0).astype(np.float32)
    return [dZ @ W.T.astype(np.float32), X.T.astype(np.float32) @ dZ, dZ.sum(axis=0)]


@pytest.mark.parametrize("fn", [_relu_linear, _relu_linear_loops, _relu_linear_h])
def test_ex4_accepts_right_answers(fn):
    result = ex4.check(fn)
    assert result.ok, result


def _lin(X, W, dZ):
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)


@pytest.mark.parametrize(("fn", "fragment"), [
    (lambda X, W, b, dH: _lin(X, W, dH), "without the relu"),
    (lambda X, W, b, dH: _lin(X, W, dH * (X @ W + b >= -np.inf)), "without the relu"),
    (lambda X, W, b, dH: _lin(X, W, dH * (dH > 0)), "sign of dh"),
    (lambda X, W, b, dH: _lin(X, W, dH * (X @ W + b)), "multiplied dh by z"),
    (lambda X, W, b, dH: _lin(X, W, dH * np.maximum(X @ W + b, 0)), "by h = relu(z)"),
    (lambda X, W, b, dH: _lin(X, W, dH * (X @ W + b < 0)), "where z < 0"),
    (lambda X, W, b, dH: _lin(X, W, dH * (X @ W > 0)), "leaves out the bias"),
    (lambda X, W, b, dH: (lambda dZ: (dZ @ W.T, X.T @ dH, dZ.sum(0)))(dH * (X @ W + b > 0)), "dw uses dh"),
    (lambda X, W, b, dH: (lambda dZ: (dH @ W.T, X.T @ dZ, dZ.sum(0)))(dH * (X @ W + b > 0)), "dx uses dh"),
    (lambda X, W, b, dH: (lambda dZ: (dZ @ W.T, X.T @ dZ, dH.sum(0)))(dH * (X @ W + b > 0)), "db uses dh"),
    (lambda X, W, b, dH: (lambda dZ: (dZ @ W.T, X.T @ dZ, dZ.mean(0)))(dH * (X @ W + b > 0)), "took the mean"),
    (lambda X, W, b, dH: (lambda dZ: (dZ @ W, X.T @ dZ, dZ.sum(0)))(dH * (X @ W + b > 0)), "not w.t"),
])
def test_ex4_names_each_bug(fn, fragment):
    result = ex4.check(fn)
    assert _said(result, fragment), result


def test_solutions_are_folded_and_explained():
    for ex in (ex1, ex2, ex3, ex4, ex5, ex6):
        note = ex.solution()
        assert note.why and "<details" in note._repr_html_()
        assert ex.hints[-1].strip() not in note.code


# ---------------------------------------------------------------- ex5: the backward pass over sequences
def _E(X, dY):
    return np.einsum("bti,bto->io", X, dY)


SEQ_RIGHT = [
    lambda X, W, dY: (dY @ W.T, _E(X, dY), dY.sum(axis=(0, 1))),
    lambda X, W, dY: (dY @ W.T, X.reshape(-1, X.shape[-1]).T @ dY.reshape(-1, dY.shape[-1]),
                      dY.reshape(-1, dY.shape[-1]).sum(0)),
    lambda X, W, dY: (dY @ W.T, np.tensordot(X, dY, axes=([0, 1], [0, 1])), dY.sum(0).sum(0)),
    lambda X, W, dY: tuple(a.astype(np.float32) for a in (dY @ W.T, _E(X, dY), dY.sum(axis=(0, 1)))),
    lambda X, W, dY: (dY @ W.T, sum(X[n].T @ dY[n] for n in range(len(X))), dY.sum(axis=(0, 1)).tolist()),
]


@pytest.mark.parametrize("fn", SEQ_RIGHT)
def test_ex5_accepts_right_answers(fn):
    assert ex5.check(fn).status == "correct"


def test_ex5_solution_is_accepted():
    namespace = {"np": np}
    exec(ex5._solution, namespace)
    assert ex5.check(namespace["seq_backward"]).status == "correct"


SEQ_BUGS = [
    (lambda X, W, dY: (dY @ W.T, _E(X, dY), dY.sum(0)), "summed over the batch axis only"),
    (lambda X, W, dY: (dY @ W.T, _E(X, dY), dY.sum(1)), "summed over the positions only"),
    (lambda X, W, dY: (dY @ W.T, _E(X, dY), dY.sum((1, 2))), "summed over the features"),
    (lambda X, W, dY: (dY @ W.T, _E(X, dY), dY.mean((0, 1))), "mean over the tokens"),
    (lambda X, W, dY: (dY @ W.T, _E(X, dY), dY.sum()), "everything to one number"),
    (lambda X, W, dY: (dY @ W.T, _E(X, dY), dY[0].sum(0)), "db: that is only the first sequence"),
    (lambda X, W, dY: (dY @ W.T, np.swapaxes(X, 1, 2) @ dY, dY.sum((0, 1))), "one matrix per sequence"),
    (lambda X, W, dY: (dY @ W.T, X[0].T @ dY[0], dY.sum((0, 1))), "dW uses only the first sequence"),
    (lambda X, W, dY: (dY @ W.T, X[:, 0].T @ dY[:, 0], dY.sum((0, 1))), "only one position"),
    (lambda X, W, dY: (dY @ W.T, _E(X, dY) / len(X), dY.sum((0, 1))), "dW: you divided by B;"),
    (lambda X, W, dY: (dY @ W.T, _E(X, dY) / X.shape[0] / X.shape[1], dY.sum((0, 1))), "divided by B * T"),
    (lambda X, W, dY: (dY @ W.T, _E(X, dY).T, dY.sum((0, 1))), "dW is transposed"),
    (lambda X, W, dY: ((dY @ W.T).sum(0), _E(X, dY), dY.sum((0, 1))), "dX: you summed it"),
]


@pytest.mark.parametrize(("fn", "fragment"), SEQ_BUGS)
def test_ex5_names_each_bug(fn, fragment):
    result = ex5.check(fn)
    assert result.status == "incorrect" and _said(result, fragment), result


def test_ex5_every_bug_has_its_own_sentence():
    messages = [ex5.check(fn).message for fn, _ in SEQ_BUGS]
    assert len(set(messages)) == len(messages)


def test_ex5_the_library_function_is_not_an_answer():
    from lib.linear import linear_backward

    def wrapper(X, W, dY):
        return linear_backward(X.reshape(-1, X.shape[-1]), W, dY.reshape(-1, dY.shape[-1]))
    assert _said(ex5.check(wrapper), "lib.linear.linear_backward")


# ---------------------------------------------------------------- ex6: what a sampled check misses
@pytest.mark.parametrize("answer", [1 - 20 / 2048, 0.99, np.float32(0.9902), (1 - 1 / 2048) ** 20, np.array(0.990)])
def test_ex6_accepts(answer):
    assert ex6.check(answer).status == "correct"


@pytest.mark.parametrize(("answer", "fragment"), [
    (20 / 2048, "*catches*"), (0.0098, "*catches*"), (99.0, "percentage"), (1 - 60 / 3104, "all three tensors"),
    (1.0, "never finds it"), (0.0, "always finds it"), (0.5, "count the entries"),
])
def test_ex6_names_each_bug(answer, fragment):
    result = ex6.check(answer)
    assert result.status == "incorrect" and _said(result, fragment), result


def test_ex6_the_answer_is_what_the_bench_shows():
    from lib.linear import linear_backward

    big = LinearBench.random(16, 64, 32, np.random.default_rng(2))
    assert big.W.size == 2048

    def one_bad(X, W, dY):
        dX, dW, db = linear_backward(X, W, dY)
        dW = dW.copy()
        dW[3, 5] += 0.5
        return dX, dW, db
    full = {r.name: r for r in big.check(one_bad).rows}
    assert not full["W"].ok
