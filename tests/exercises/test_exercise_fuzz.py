"""Every exercise checker fed garbage answers a readable Result and keeps its reference data intact.

The exercises are discovered, not listed: a new `ex5` in any chapter module is fuzzed too.
"""

import copy
import importlib
import pkgutil

import numpy as np
import pytest

import lib
import lib.exercises as exercises
from lib.exercises import EXERCISES as REGISTRY
from lib.exercises import Exercise, Result
from lib.exercises.core import sandbox

MODULES = [importlib.import_module(f"lib.exercises.{m.name}") for m in pkgutil.iter_modules(exercises.__path__)
           if not m.ispkg]  # the chapter modules, not the engine (core)
EXERCISES = {f"{mod.__name__.rsplit('.', 1)[1]}.{name}": (mod, ex)
             for mod in MODULES for name, ex in vars(mod).items() if isinstance(ex, Exercise)}


def _raises(*args):
    raise RuntimeError("learner bug")


def _never_returns(*args):
    while True:
        pass


def _returns_nan(*args):
    first = args[0] if args else None
    return np.full(np.shape(first), np.nan) if isinstance(first, np.ndarray) else float("nan")


MUTATED = []


def _mutates(*args):
    arrays = [a for a in args if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    for a in arrays:
        a *= 2.0
        MUTATED.append(a.shape)
    return arrays[0] if arrays else 0.0


LIB_MODULES = {m.name: importlib.import_module(f"lib.{m.name}") for m in pkgutil.iter_modules(lib.__path__)
               if not m.name.startswith("demos")}

GARBAGE_VALUES = {
    "None": None,
    "string": "W.T",
    "bytes": b"\x00",
    "dict": {"W": 1},
    "set": {1, 2},
    "bool": True,
    "negative float": -1.5,
    "NaN": float("nan"),
    "inf": float("inf"),
    "huge int": 10**400,
    "empty list": [],
    "ragged list": [[1, 2], [3]],
    "list of strings": ["a", "b"],
    "3-D array": np.ones((7, 3, 2)),
    "empty array": np.zeros((0,)),
    "complex array": np.array([1 + 2j, 3j]),
    "string array": np.array(["a", "b"]),
    "object array": np.array([object(), None], dtype=object),
    "NaN array": np.full((3, 2), np.nan),
    "float32 scalar": np.float32(0.25),
    "object": object(),
    "class": Exercise,
}
GARBAGE_FUNCTIONS = {
    "raises": _raises,
    "wrong arity": lambda: 0,
    "returns None": lambda *a: None,
    "returns a string": lambda *a: "done",
    "returns a dict": lambda *a: {"dW": 0},
    "returns NaN": _returns_nan,
    "returns a tuple of strings": lambda *a: ("a", "b", "c"),
    "mutates its inputs": _mutates,
    "never returns": _never_returns,
}
GARBAGE = {**GARBAGE_VALUES, **GARBAGE_FUNCTIONS}


def _solution_answer(mod, ex: Exercise) -> object:
    """Run the exercise's solution as a learner would, with the chapter's imports, and return the answer."""
    namespace = {"np": np, **LIB_MODULES}
    namespace.update({k: v for k, v in vars(mod).items() if not k.startswith("_")})
    before = set(namespace)
    exec(ex.solution().code, namespace)
    if "answer" in namespace and "answer" not in before:
        return namespace["answer"]
    return [namespace[k] for k in namespace if k not in before and callable(namespace[k])][-1]


def _reference_data(mod) -> dict:
    return {k: copy.deepcopy(v) for k, v in vars(mod).items()
            if isinstance(v, (np.ndarray, list, tuple, dict)) and not k.startswith("__")}


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def test_every_chapter_has_exercises():
    chapters = {key.split(".")[0] for key in EXERCISES}
    assert len(chapters) == len(MODULES) >= 11 and len(EXERCISES) >= 35


def test_every_registered_exercise_is_fuzzed():
    fuzzed = {ex.label for _, ex in EXERCISES.values()}
    missed = [label for label in REGISTRY if label not in fuzzed and not label.startswith("engine-test")]
    assert not missed and len(fuzzed) == len(EXERCISES), missed


@pytest.mark.parametrize("key", sorted(EXERCISES))
def test_solution_is_folded_and_results_are_labelled(key):
    _, ex = EXERCISES[key]
    assert ex.solution()._repr_html_().startswith(f'<details class="exercise-solution" data-exercise="{ex.label}">')
    assert f'data-exercise="{ex.label}"' in ex.check(...)._repr_html_()


@pytest.mark.parametrize("key", sorted(EXERCISES))
def test_solution_is_accepted(key):
    mod, ex = EXERCISES[key]
    result = ex.check(_solution_answer(mod, ex))
    assert result.ok, result


@pytest.mark.parametrize("key", sorted(EXERCISES))
def test_checker_survives_garbage(key, monkeypatch):
    monkeypatch.setattr(sandbox, "TIME_LIMIT_S", 0.3)
    mod, ex = EXERCISES[key]
    wants_function = callable(_solution_answer(mod, ex))
    reference = _reference_data(mod)
    for label, garbage in GARBAGE.items():
        MUTATED.clear()
        result = ex.check(garbage)
        assert isinstance(result, Result), (label, result)
        # "error" means the checker itself crashed and the framework caught it: every kind of garbage
        # here must be anticipated and answered with a diagnosis instead.
        assert result.status == "incorrect", (label, result)
        assert 10 < len(result.message) < 600 and "Traceback" not in result.message, (label, result.message)
        if MUTATED:
            assert "in place" in result.message or "changed" in result.message, result.message
        if wants_function and label == "never returns":
            assert "did not finish" in result.message, result.message
        if not wants_function and label in GARBAGE_FUNCTIONS:
            assert "function" in result.message, (label, result.message)
    changed = [k for k, v in reference.items() if not _same(v, getattr(mod, k))]
    assert not changed, f"garbage answers changed the checker's data: {changed}"
    assert ex.check(_solution_answer(mod, ex)).ok, "the solution is no longer accepted after the fuzzing"


def test_placeholder_is_not_attempted_everywhere():
    for key, (_, ex) in EXERCISES.items():
        assert ex.check(...).status == "not attempted", key
        assert ex.check(lambda *a: ...).status in {"not attempted", "incorrect"}, key



class _OtherLibraryScalar:
    """A 0-d array of another library (as JAX's ArrayImpl or a torch tensor): __array__, shape (), item()."""

    def __init__(self, value):
        self._value = np.asarray(value)
        self.shape, self.dtype = (), self._value.dtype

    def __array__(self, dtype=None, copy=None):
        return self._value if dtype is None else self._value.astype(dtype)

    def item(self):
        return self._value.item()


@pytest.mark.parametrize("key", sorted(EXERCISES))
def test_a_number_answer_from_another_array_library_is_accepted(key):
    mod, ex = EXERCISES[key]
    answer = _solution_answer(mod, ex)
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.integer, np.floating)):
        pytest.skip("the answer is not a single number")
    result = ex.check(_OtherLibraryScalar(answer))
    assert result.ok, result


@pytest.mark.parametrize("key", sorted(EXERCISES))
def test_a_never_returning_function_is_stopped_by_the_trace_watchdog(key, monkeypatch):
    mod, ex = EXERCISES[key]
    if not callable(_solution_answer(mod, ex)):
        pytest.skip("the answer is not a function")
    monkeypatch.setattr(sandbox, "WATCHDOG", "trace")  # as in Pyodide, where SIGALRM is missing
    monkeypatch.setattr(sandbox, "TIME_LIMIT_S", 0.1)
    with exercises.time_limit(30, method="signal"):  # a checker that bypassed `call` would hang: fail instead
        result = ex.check(_never_returns)
    assert result.status == "incorrect" and "did not finish" in result.message, result
