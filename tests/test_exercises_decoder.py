"""The decoder exercises: several correct answers accepted, every named bug named by its own sentence."""

import numpy as np
import pytest

from lib import nn, sizing, transformer
from lib.exercises import decoder as ex

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # learner bugs overflow on purpose


def _accepted(exercise, answer):
    result = exercise.check(answer)
    assert result.ok, result


def _named(exercise, answer, phrase):
    result = exercise.check(answer)
    assert result.status == "incorrect", result
    assert phrase in result.message, (phrase, result.message)
    return result.message


# ---------------------------------------------------------------- ex1 GQA cache
def test_ex1_value_by_hand():
    assert ex._GQA_GIB == 2 * 80 * 8 * 128 * 4096 * 8 * 2 / 2**30 == 10.0


@pytest.mark.parametrize("answer", [10, 10.0, np.float32(10), np.array(10.0), 2 * 80 * 8 * 128 * 4096 * 8 * 2 / 2**30])
def test_ex1_accepts(answer):
    _accepted(ex.ex1, answer)


@pytest.mark.parametrize("answer, phrase", [
    (80, "all 64 heads"),
    (80, "counts bits"),
    (5, "factor 2"),
    (0.125, "80 layers"),
    (20, "fp32"),
    (1.25, "forgot the batch"),
    (10 * 2**30, "right amount in bytes"),
    (10 * 2**30 / 1e9, "right amount in GB"),
    (10 * 1024, "right amount in MiB"),
    (9.5, "not right"),
])
def test_ex1_names(answer, phrase):
    _named(ex.ex1, answer, phrase)


def test_ex1_heads_and_bits_coincide_as_either_or():
    assert "Either" in _named(ex.ex1, 80, "Or:")


# ---------------------------------------------------------------- ex2 crossover
@pytest.mark.parametrize("answer", [9600, 9600.0, np.int64(9600), np.array(9600), 6 * 1600, (8 * 1600**2 + 4 * 1600 * 6400) / (4 * 1600)])
def test_ex2_accepts(answer):
    _accepted(ex.ex2, answer)


@pytest.mark.parametrize("answer, phrase", [
    (6400, "four projections"),
    (6400, "each MLP matrix once"),
    (3200, "left out the MLP"),
    (19200, "only the scores"),
    (8800, "three projections"),
    (9000, "not right"),
    (9600.5, "whole number"),
])
def test_ex2_names(answer, phrase):
    _named(ex.ex2, answer, phrase)


def test_ex2_reference_is_the_lib_crossover_6d():
    assert ex._CROSSOVER == 6 * 1600 == sizing.crossover_vs_weights(1600, 6400)


# ---------------------------------------------------------------- ex3 cached step
def _step(q, k, v, K_cache, V_cache):
    K, V = np.vstack([K_cache, k]), np.vstack([V_cache, v])
    s = K @ q / np.sqrt(q.shape[0])
    w = np.exp(s - s.max())
    return w / w.sum() @ V


def _step_split(q, k, v, K_cache, V_cache):  # no concatenation: the cache and the new token apart
    d_k = len(q)
    s_old, s_new = K_cache @ q / d_k**0.5, k @ q / d_k**0.5
    m = max(s_old.max(), s_new)
    e_old, e_new = np.exp(s_old - m), np.exp(s_new - m)
    return (e_old @ V_cache + e_new * v) / (e_old.sum() + e_new)


def _step_online(q, k, v, K_cache, V_cache):  # a Flash-style running softmax, one key at a time
    K, V = np.concatenate([K_cache, k[None]]), np.concatenate([V_cache, v[None]])
    m, total, acc = -np.inf, 0.0, np.zeros_like(v)
    for kj, vj in zip(K, V, strict=True):
        s = kj @ q / np.sqrt(len(q))
        m_new = max(m, s)
        total = total * np.exp(m - m_new) + np.exp(s - m_new)
        acc = acc * np.exp(m - m_new) + np.exp(s - m_new) * vj
        m = m_new
    return acc / total


@pytest.mark.parametrize("answer", [
    _step, _step_split, _step_online,
    lambda q, k, v, Kc, Vc: _step(*(a.astype(np.float32) for a in (q, k, v, Kc, Vc))),
    lambda q, k, v, Kc, Vc: (_step(q, k, v, Kc, Vc), np.vstack([Kc, k]), np.vstack([Vc, v])),
    lambda q, k, v, Kc, Vc: list(_step(q, k, v, Kc, Vc)),
])
def test_ex3_accepts(answer):
    _accepted(ex.ex3, answer)


def _w(s):
    e = np.exp(s - s.max())
    return e / e.sum()


@pytest.mark.parametrize("answer, phrase", [
    (lambda q, k, v, Kc, Vc: _w(Kc @ q / np.sqrt(len(q))) @ Vc, "the cache only"),
    (lambda q, k, v, Kc, Vc: _w(np.vstack([Kc, k]) @ q) @ np.vstack([Vc, v]), "forgot to divide the scores"),
    (lambda q, k, v, Kc, Vc: _w(np.vstack([Kc, k]) @ q / len(q)) @ np.vstack([Vc, v]), "divided the scores by d_k"),
    (lambda q, k, v, Kc, Vc: _w(np.vstack([Kc, k]) @ q / np.sqrt(len(Kc) + 1)) @ np.vstack([Vc, v]), "sqrt(t)"),
    (lambda q, k, v, Kc, Vc: _w(np.vstack([Kc, k]) @ q / np.sqrt(8)) @ np.vstack([Vc, v]), "fixed sqrt(8)"),
    (lambda q, k, v, Kc, Vc: _w(np.vstack([Kc, k]) @ q / np.sqrt(len(q))), "attention weights"),
    (lambda q, k, v, Kc, Vc: v, "new value v itself"),
    (lambda q, k, v, Kc, Vc: _w(np.vstack([Kc, k]) @ q / np.sqrt(len(q))) @ np.vstack([Kc, k]), "KEYS"),
    (lambda q, k, v, Kc, Vc: (np.vstack([Kc, k]) @ q / np.sqrt(len(q))) @ np.vstack([Vc, v]), "skipped the softmax"),
    (lambda q, k, v, Kc, Vc: (lambda s: s / s.sum())(np.vstack([Kc, k]) @ q / np.sqrt(len(q))) @ np.vstack([Vc, v]),
     "without exponentiating"),
    (lambda q, k, v, Kc, Vc: np.vstack([Vc, v]).mean(axis=0), "uniformly"),
    (lambda q, k, v, Kc, Vc: _w(np.vstack([k, Kc]) @ q / np.sqrt(len(q))) @ np.vstack([Vc, v]), "row j of K"),
])
def test_ex3_names(answer, phrase):
    _named(ex.ex3, answer, phrase)


def test_ex3_forbids_growing_the_cache_in_place():
    def in_place(q, k, v, K_cache, V_cache):
        K_cache += 0.0 * K_cache  # harmless arithmetic, but an in-place edit
        K_cache[0] = K_cache[0] * 2
        return _step(q, k, v, K_cache, V_cache)
    _named(ex.ex3, in_place, "which this exercise forbids")


# ---------------------------------------------------------------- ex4 cached generation
def _gen(params, prompt, n_new, config):
    caches = [{} for _ in range(config.n_layers)]
    logits = transformer.forward(params, prompt, config, caches=caches)[0, -1]
    steps = []
    for t in range(len(prompt), len(prompt) + n_new):
        steps.append(logits)
        if len(steps) < n_new:
            logits = transformer.forward(params, [int(logits.argmax())], config, start=t, caches=caches)[0, -1]
    return np.array(steps)


def _gen_token_by_token(params, prompt, n_new, config):  # no prefill: the prompt one token at a time
    caches = [{} for _ in range(config.n_layers)]
    for t, token in enumerate(prompt):
        logits = transformer.forward(params, [int(token)], config, start=t, caches=caches)[0, -1]
    steps, t = [], len(prompt)
    while len(steps) < n_new:
        steps.append(logits)
        logits = transformer.forward(params, np.array([[logits.argmax()]]), config, start=t, caches=caches)[0, -1]
        t += 1
    return steps  # a list of (V,) rows, one more forward than needed


def _gen_batch_shape(params, prompt, n_new, config):
    return _gen(params, prompt, n_new, config)[:, None, :].astype(np.float32)  # (n_new, 1, V), float32


@pytest.mark.parametrize("answer", [_gen, _gen_token_by_token, _gen_batch_shape])
def test_ex4_accepts(answer):
    _accepted(ex.ex4, answer)


def _gen_bug(**kwargs):
    return lambda params, prompt, n_new, config: ex._greedy(params, prompt, n_new, config, **kwargs)


@pytest.mark.parametrize("answer, phrase", [
    (_gen_bug(position=lambda t: 0), "position 0"),
    (_gen_bug(position=lambda t: t + 1), "one too far"),
    (_gen_bug(fresh_each_step=True), "new, empty cache at every step"),
    (_gen_bug(fill_prefill=False), "prefill did not fill the cache"),
    (_gen_bug(same_token=True), "same token at every step"),
    (_gen_bug(late=True), "one step late"),
    (lambda params, prompt, n_new, config: np.concatenate([prompt, _gen(params, prompt, n_new, config).argmax(-1)]),
     "token ids"),
    (lambda params, prompt, n_new, config: transformer.generate(params, prompt, n_new, config)[1][:, 0],
     "course's own lib.transformer.generate"),
])
def test_ex4_names(answer, phrase):
    _named(ex.ex4, answer, phrase)


# ---------------------------------------------------------------- ex5 cross-entropy gradient
def _ce(z, y):
    N = z.shape[0]
    P = np.exp(z - z.max(axis=-1, keepdims=True))
    P /= P.sum(axis=-1, keepdims=True)
    P[np.arange(N), y] -= 1.0
    return P / N


def _ce_onehot(z, y):
    P = np.exp(z - z.max(1, keepdims=True))
    return (P / P.sum(1, keepdims=True) - np.eye(z.shape[1])[y]) / len(y)


def _ce_loop(z, y):
    out = []
    for row, target in zip(z, y, strict=True):
        e = np.exp(row - max(row))
        p = e / e.sum()
        p[target] -= 1
        out.append(list(p / len(z)))
    return out


@pytest.mark.parametrize("answer", [_ce, _ce_onehot, _ce_loop, lambda z, y: _ce(z.astype(np.float32), y)])
def test_ex5_accepts(answer):
    _accepted(ex.ex5, answer)


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _columns(z, y, divide=True):
    P = _softmax(z)
    P[:, y] -= 1
    return P / len(y) if divide else P


@pytest.mark.parametrize("answer, phrase", [
    (_columns, "whole COLUMNS y, in every row; subtract it once per row"),
    (lambda z, y: _columns(z, y, divide=False), "divide by N as well"),
    (lambda z, y: _softmax(z) - np.eye(z.shape[1])[y], "SUM of the N losses"),
    (lambda z, y: (_softmax(z, axis=0) - np.eye(z.shape[1])[y]) / len(y), "axis 0"),
    (lambda z, y: _softmax(z) / len(y), "left out the target"),
    (lambda z, y: (np.eye(z.shape[1])[y] - _softmax(z)) / len(y), "sign is flipped"),
    (lambda z, y: (np.log(_softmax(z)) - np.eye(z.shape[1])[y]) / len(y), "log-probabilities"),
    (lambda z, y: (np.exp(z) / np.exp(z).sum(1, keepdims=True) - np.eye(z.shape[1])[y]) / len(y), "exp(1000) overflows"),
    (nn.cross_entropy_backward, "course's own lib.nn.cross_entropy_backward"),
    (lambda z, y: (np.exp(z - z.max()) / np.exp(z - z.max()).sum(1, keepdims=True) - np.eye(z.shape[1])[y]) / len(y),
     "EACH ROW's own maximum"),
])
def test_ex5_names(answer, phrase):
    _named(ex.ex5, answer, phrase)


def test_ex5_reference_by_hand():
    z, y = np.array([[0.0, np.log(3.0)]]), np.array([1])  # p = (1/4, 3/4)
    np.testing.assert_allclose(nn.cross_entropy_backward(z, y), [[0.25, -0.25]])


def test_solutions_are_folded_and_hints_do_not_give_the_code():
    for exercise in (ex.ex1, ex.ex2, ex.ex3, ex.ex4, ex.ex5):
        assert exercise.solution().folded and exercise.why
        assert len(exercise.hints) >= 2
        for hint in exercise.hints:
            assert exercise._solution.splitlines()[-1].strip() not in hint


def test_ex4_names_an_answer_that_does_not_use_the_cache():
    def recompute(params, prompt, n_new, config):
        tokens, steps = list(prompt), []
        for _ in range(n_new):
            logits = transformer.forward(params, tokens, config)[0, -1]
            steps.append(logits)
            tokens.append(int(logits.argmax()))
        return np.array(steps)
    _named(ex.ex4, recompute, "more than its one new token")
