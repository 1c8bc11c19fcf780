"""The engine's sandbox (lib.exercises.core.sandbox): time limits by signal and by trace watchdog,
and refusals that see through wrappers and other routes to a forbidden routine."""

import functools
import time

import numpy as np
import pytest

from lib import nn
from lib.exercises import (
    EIG_ROUTINES,
    SVD_ROUTINES,
    Exercise,
    Wrong,
    call,
    cases,
    check_function,
    refuse_lib,
    time_limit,
)
from lib.exercises.core import sandbox
from lib.nn import (
    softmax as imported_softmax,  # a name imported before the check, as a learner would
)


def wrong(fn, *args, **kwargs) -> str:
    with pytest.raises(Wrong) as info:
        fn(*args, **kwargs)
    return str(info.value)


def _never_returns(x):
    while True:
        x = x + 1


# ---------------------------------------------------------------- time limits
@pytest.mark.parametrize("method", ["signal", "trace"])
def test_time_limit_stops_an_endless_loop_by_either_mechanism(method):
    start = time.monotonic()
    with pytest.raises(TimeoutError), time_limit(0.1, method=method):
        _never_returns(0)
    assert time.monotonic() - start < 2.0


def test_the_trace_watchdog_stops_a_learner_function_in_call(monkeypatch):
    monkeypatch.setattr(sandbox, "WATCHDOG", "trace")  # as in Pyodide, where SIGALRM is missing
    monkeypatch.setattr(sandbox, "TIME_LIMIT_S", 0.1)
    start = time.monotonic()
    assert "did not finish within 0.2 s" in wrong(call, _never_returns, 0)  # a first call: twice the limit
    assert time.monotonic() - start < 2.0
    sandbox.disarm()


def test_the_trace_watchdog_leaves_no_tracer_behind():
    import sys

    outer = sys.gettrace()
    with time_limit(1.0, method="trace"):
        pass
    assert sys.gettrace() is outer
    with pytest.raises(TimeoutError), time_limit(0.05, method="trace"):
        _never_returns(0)
    assert sys.gettrace() is outer


@pytest.mark.parametrize("method", ["signal", "trace"])
def test_the_first_call_may_compile_but_later_calls_get_the_plain_limit(monkeypatch, method):
    monkeypatch.setattr(sandbox, "WATCHDOG", method)
    monkeypatch.setattr(sandbox, "TIME_LIMIT_S", 0.3)
    calls = []

    def jitted(x):  # a one-off compile on the first call, then fast: as JAX's jit
        if not calls:
            time.sleep(0.45)  # more than the limit, less than FIRST_CALL_FACTOR times it
        calls.append(x)
        return x

    def always_slow(x):
        deadline = time.monotonic() + 0.45
        while time.monotonic() < deadline:
            pass
        return x

    sandbox.disarm()
    assert [call(jitted, i) for i in range(3)] == [0, 1, 2]
    assert call(always_slow, 1) == 1  # its first call
    assert "did not finish" in wrong(call, always_slow, 2)
    sandbox.disarm()


# ---------------------------------------------------------------- refusals through every route
SOFTMAX_CASES = cases(lambda B, V: (np.random.default_rng(B).normal(size=(B, V)),), dict(B=2, V=3), dict(B=4, V=5))


def _own_softmax(Z):
    e = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _check_softmax(fn):
    refuse_lib(fn, {"lib.nn.softmax": nn.softmax})
    check_function(fn, _own_softmax, SOFTMAX_CASES, name="your softmax")
    return "a softmax of your own."


SOFTMAX = Exercise("engine-test-refuse-softmax", _check_softmax, ["idea", "step"], "...")


def _hidden_route(Z):  # the name is built at run time: nothing in the code names softmax
    return getattr(nn, "soft" + "max")(Z)


def _swallows(Z):
    try:
        return nn.softmax(Z)
    except Exception:
        return _own_softmax(Z)


class _Helper:
    def __call__(self, Z):
        return imported_softmax(Z)


@pytest.mark.parametrize("answer", [
    nn.softmax,
    imported_softmax,
    lambda Z: nn.softmax(Z),
    lambda Z: imported_softmax(Z),
    functools.partial(nn.softmax),
    functools.partial(lambda Z, f: f(Z), f=nn.softmax),
    _hidden_route,
    lambda Z: _hidden_route(Z),
    _Helper(),
    lambda Z: np.array([imported_softmax(z[None])[0] for z in Z]),
], ids=["itself", "imported name", "lambda", "lambda on imported name", "partial", "partial keyword",
        "name built at run time", "wrapper of a wrapper", "callable object", "row by row"])
def test_a_wrapper_of_the_course_function_is_refused(answer):
    result = SOFTMAX.check(answer)
    assert result.status == "incorrect", result
    assert "lib.nn.softmax" in result.message and "yourself" in result.message, result.message


def test_swallowing_the_refusal_does_not_help():
    result = SOFTMAX.check(_swallows)
    assert result.status == "incorrect" and "lib.nn.softmax" in result.message, result


def test_an_own_function_passes_and_the_course_function_works_again_after_the_check():
    assert SOFTMAX.check(_own_softmax).ok
    assert SOFTMAX.check(_hidden_route).status == "incorrect"
    np.testing.assert_allclose(nn.softmax(np.zeros((1, 4))), np.full((1, 4), 0.25))  # restored
    assert call(_hidden_route, np.zeros((1, 2))).tolist() == [[0.5, 0.5]]  # nothing armed outside a check


def _top_singular_value_reference(A):
    return np.linalg.svd(A, compute_uv=False)[0]  # the checker's own reference may use the SVD


SV_CASES = cases(lambda m, n: (np.random.default_rng(m).normal(size=(m, n)),), dict(m=4, n=3), dict(m=5, n=2))


def _check_top(fn):
    refuse_lib(fn, {"an SVD routine": SVD_ROUTINES, "an eigendecomposition": EIG_ROUTINES}, how="with power iteration")
    check_function(fn, _top_singular_value_reference, SV_CASES, name="your top_singular_value")
    return "power iteration found it."


TOP = Exercise("engine-test-refuse-svd", _check_top, ["idea", "step"], "...")
svdvals = np.linalg.svdvals  # imported before the check


def _power_iteration(A):
    v = np.ones(A.shape[1])
    for _ in range(500):
        v = A.T @ (A @ v)
        v /= np.linalg.norm(v)
    return np.linalg.norm(A @ v)


@pytest.mark.parametrize("answer", [
    lambda A: np.linalg.svd(A)[1][0],
    lambda A: np.linalg.svdvals(A)[0],
    lambda A: svdvals(A)[0],
    lambda A: np.linalg.norm(A, 2),
    lambda A: 1 / np.linalg.norm(np.linalg.pinv(A), 2),
    lambda A: np.sqrt(np.linalg.eigvalsh(A.T @ A)[-1]),
    lambda A: np.sqrt(np.abs(np.linalg.eig(A.T @ A)[0]).max()),
], ids=["svd", "svdvals", "svdvals imported before", "norm ord 2", "pinv", "eigvalsh", "eig"])
def test_a_forbidden_family_is_refused_by_every_route(answer):
    result = TOP.check(answer)
    assert result.status == "incorrect", result
    assert ("an SVD routine" in result.message or "an eigendecomposition" in result.message), result.message
    assert "with power iteration" in result.message


def test_the_family_lets_the_allowed_solution_through_and_is_restored():
    assert TOP.check(_power_iteration).ok, TOP.check(_power_iteration)
    A = np.diag([3.0, 2.0])
    np.testing.assert_allclose(np.linalg.svd(A, compute_uv=False), [3.0, 2.0])
    np.testing.assert_allclose(np.linalg.eigvalsh(A), [2.0, 3.0])


def test_refuse_lib_alone_still_refuses_at_once():
    assert "course's own lib.nn.softmax" in wrong(refuse_lib, nn.softmax, {"lib.nn.softmax": nn.softmax})
    assert "calls the course's own" in wrong(refuse_lib, lambda Z: nn.softmax(Z), {"lib.nn.softmax": nn.softmax})
    refuse_lib(_own_softmax, {"lib.nn.softmax": nn.softmax})
    sandbox.disarm()


def test_pyodide_uses_the_trace_watchdog(monkeypatch):
    monkeypatch.setattr(sandbox.sys, "platform", "emscripten")
    assert sandbox._alarm(1.0) is None  # a timer there would never fire inside a busy loop
    with pytest.raises(TimeoutError), time_limit(0.05):
        _never_returns(0)
