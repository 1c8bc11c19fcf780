"""The decoder exercises: several correct answers accepted, every named bug named by its own sentence."""

import numpy as np
import pytest

from lib import sizing, transformer
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


# ---------------------------------------------------------------- largest_batch (new case)
def test_largest_batch_by_hand():
    weights = 2 * 7_241_732_096  # Mistral-7B in fp16
    per_sequence = 2 * 32 * 8 * 128 * 4096 * 2
    assert ex._BATCH == (80 * 2**30 - weights) // per_sequence == 133
    assert sizing.n_params(sizing.preset("mistral-7b")) == 7_241_732_096


@pytest.mark.parametrize("answer", [133, 133.0, np.int64(133), np.array(133), np.float32(133)])
def test_largest_batch_accepts(answer):
    _accepted(ex.largest_batch, answer)


@pytest.mark.parametrize("answer, phrase", [
    (33, "you cached all 32 heads"),
    (122, "80e9 bytes"),
    (160, "forgot the weights"),
    (106, "at 4 bytes (fp32)"),
    (266, "factor 2"),
    (134, "rounded up"),
    (66, "cache in fp32"),
    (133.02, "whole"),
])
def test_largest_batch_names(answer, phrase):
    _named(ex.largest_batch, answer, phrase)


# ---------------------------------------------------------------- flops_ratio (prediction)
@pytest.mark.parametrize("answer", [16, 16.0, np.int64(16), np.float32(16)])
def test_flops_ratio_accepts(answer):
    _accepted(ex.flops_ratio, answer)


def test_flops_ratio_is_t_by_hand():
    cfg = transformer.MICROGPT
    for t in (3, 16):
        assert transformer.step_flops(cfg, t, cached=False) == t * transformer.step_flops(cfg, t, cached=True)


@pytest.mark.parametrize("answer, phrase", [(256, "that is t^2"), (1, "saves FLOPs"), (15, "one less than t"),
                                            (8, "not right")])
def test_flops_ratio_names(answer, phrase):
    _named(ex.flops_ratio, answer, phrase)


# ---------------------------------------------------------------- kv_bug (find the bug)
def _kv_buggy(n_layers, d, n_heads, n_kv_heads, T, B, bytes_per_element=2):  # the page's function
    head_dim = d // n_kv_heads
    return 2 * n_layers * n_kv_heads * head_dim * T * B * bytes_per_element


def _kv_loop(n_layers, d, n_heads, n_kv_heads, T, B, bytes_per_element=2):
    total = 0
    for _layer in range(n_layers):
        for _head in range(n_kv_heads):
            total += 2 * (d // n_heads) * T * B * bytes_per_element
    return total


@pytest.mark.parametrize("answer", [
    lambda L, d, h, kv, T, B, nb=2: 2 * L * kv * (d // h) * T * B * nb,
    lambda L, d, h, kv, T, B, nb=2: 2.0 * L * d * T * B * nb * kv / h,       # the full cache shrunk by h / h_kv
    lambda L, d, h, kv, T, B, nb=2: np.int64(2 * L * T * B * nb) * (kv * d // h),
    _kv_loop,
])
def test_kv_bug_accepts(answer):
    _accepted(ex.kv_bug, answer)


def test_kv_bug_hand_case():
    assert ex._kv_reference(80, 8192, 64, 8, 4096, 1, 2) == 1.25 * 2**30
    assert _kv_buggy(80, 8192, 64, 8, 4096, 1, 2) == 10 * 2**30
    assert ex._kv_reference(32, 4096, 32, 32, 4096, 1, 2) == _kv_buggy(32, 4096, 32, 32, 4096, 1, 2) == 2 * 2**30


@pytest.mark.parametrize("sentence", list(ex._KV_BUGS))
def test_kv_bug_names_every_bug(sentence):
    _named(ex.kv_bug, ex._KV_BUGS[sentence], sentence)


def test_kv_bug_names_the_function_as_given():
    _named(ex.kv_bug, _kv_buggy, "that still caches every head")


def test_kv_bug_refuses_lib():
    _named(ex.kv_bug, lambda L, d, h, kv, T, B, nb=2: sizing.kv_bytes(L, kv, d // h, T, B, nb), "course's own")


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


def test_solutions_are_folded_and_hints_do_not_give_the_code():
    for exercise in (ex.largest_batch, ex.flops_ratio, ex.kv_bug, ex.ex3, ex.ex4):
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


def test_ex4_names_one_cache_dict_shared_by_all_layers():
    def shared(params, prompt, n_new, config):
        caches = [{}] * config.n_layers
        logits = transformer.forward(params, prompt, config, caches=caches)[0, -1]
        steps = []
        for t in range(len(prompt), len(prompt) + n_new):
            steps.append(logits)
            if len(steps) < n_new:
                logits = transformer.forward(params, [int(logits.argmax())], config, start=t, caches=caches)[0, -1]
        return np.array(steps)
    _named(ex.ex4, shared, "share ONE cache dict")
