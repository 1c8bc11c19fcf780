"""The exercise engine (lib.exercises.core: exercise, compare, cases): fair comparison, named bugs and
Result.bug, sized cases, rng checks, other array libraries, stability inputs, folding, labels.

The sandbox (time limits, refusals) is tested in test_exercise_sandbox.py."""

import importlib
import pkgutil
import re
from pathlib import Path

import numpy as np
import pytest

import lib.exercises as exercises
from lib.exercises import (
    EXERCISES,
    Exercise,
    Result,
    Wrong,
    call,
    cases,
    check_function,
    check_rng,
    compare,
    compare_choice,
    compare_count,
    compare_units,
    extreme_off_target,
    extreme_on_masked,
    renamed_labels,
    time_limit,
    to_number,
    with_extreme,
)
from lib.exercises.core import sandbox

ROOT = Path(__file__).resolve().parents[2]


def wrong(fn, *args, **kwargs) -> str:
    with pytest.raises(Wrong) as info:
        fn(*args, **kwargs)
    return str(info.value)


# ---------------------------------------------------------------- fair comparison
WANT = np.array([[0.2, 1.4], [-3.0, 0.0063411938]])


@pytest.mark.parametrize("answer", [
    WANT, WANT.astype(np.float32), WANT.tolist(), tuple(map(tuple, WANT.tolist())),
    [[np.float32(x) for x in row] for row in WANT], WANT.astype(np.float32).astype(np.float64),
])
def test_compare_accepts_every_form_and_float32(answer):
    compare(answer, WANT)


def test_compare_scalars_ints_and_0d():
    for answer in (16, 16.0, np.int64(16), np.float32(16), np.array(16), np.array(16.0), [16][0]):
        compare(answer, 16)
    compare(np.float32(np.pi), np.pi)
    with pytest.raises(Wrong):
        compare(16.5, 16)


def test_float32_scores_from_the_review_are_accepted():
    rng = np.random.default_rng(11)
    Q, K = rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 4))
    want = Q @ np.swapaxes(K, -1, -2) / 2.0
    Q32, K32 = Q.astype(np.float32), K.astype(np.float32)
    compare(Q32 @ np.swapaxes(K32, -1, -2) / np.float32(2.0), want)
    compare(np.einsum("bid,bjd->bij", Q32, K32) / 2, want)


def test_float16_only_where_allowed():
    half = WANT.astype(np.float16)
    assert "float16" in wrong(compare, half, WANT)
    compare(half, WANT, allow_float16=True)
    with pytest.raises(Wrong):  # float16's tolerance is a few of its ulps, tight enough to catch a 5% error
        compare((WANT * 1.05).astype(np.float16), WANT, allow_float16=True)


def test_float32_precision_does_not_excuse_a_float64_error():
    with pytest.raises(Wrong):
        compare(WANT + 1e-4, WANT)


def test_a_prediction_is_not_given_away():
    message = wrong(compare, [0.0, 0.5], [0.0, 0.1498], reveal=False)
    assert "0.1498" not in message and "0.5" in message and "too large" in message, message
    assert "0.1498" in wrong(compare, [0.0, 0.5], [0.0, 0.1498])


def test_a_float32_result_upcast_by_a_float64_scalar_is_accepted():
    rng = np.random.default_rng(5)
    Q, K = rng.normal(size=(4, 9)), rng.normal(size=(3, 9))
    upcast = (Q.astype(np.float32) @ K.T.astype(np.float32)) / np.sqrt(9)  # float32 / np.float64 -> float64
    compare(upcast, Q @ K.T / 3)
    with pytest.raises(Wrong):
        compare(upcast * (1 + 1e-4), Q @ K.T / 3)


def test_tiny_entries_of_a_big_array_do_not_fail_on_rounding():
    want = np.array([1e6, 3e-7])
    compare(np.array([1e6, 3e-7 + 1e-8]).astype(np.float32), want)


def test_message_names_an_entry_that_really_fails_with_distinct_digits():
    want = np.array([1000.0, 0.001])
    got = np.array([1000.006, 0.006])  # the larger difference (index 0) is inside the tolerance
    message = wrong(compare, got, want)
    assert "(1,)" in message and "0.006" in message and "different values" in message, message
    numbers = re.findall(r"holds (\S+) where (\S+) is expected", message)[0]
    assert numbers[0] != numbers[1]


@pytest.mark.parametrize("got, want", [(1.40004, 1.4), (1.0001, 1.0), (1.92504, 1.925), (np.float32(1.37), 1.36)])
def test_scalar_message_never_shows_equal_numbers_or_the_answer(got, want):
    message = wrong(compare, got, want)
    shown = re.findall(r"is (\S+), which", message)[0]
    assert shown != f"{want:.4g}" and shown.replace(",", "") != str(want), message
    assert "right shape ()" not in message
    revealed = wrong(compare, got, want, reveal=True)
    g, w = re.findall(r"is (\S+), but it should be (\S+)\.", revealed)[0]
    assert g != w


def test_off_by_one_in_a_count_is_caught_by_compare_count():
    assert "not right" in wrong(compare_count, 2362367, 2362368)


def test_scalar_message_says_how_far():
    assert "factor of about 8" in wrong(compare, 8 * 4096, 4096)
    assert "about 10% too small" in wrong(compare, 0.9, 1.0)
    assert "wrong sign" in wrong(compare, -1.0, 1.0)


def test_shape_messages():
    assert "reversed" in wrong(compare, np.ones((3, 2)), np.ones((2, 3)))
    assert "single number" in wrong(compare, np.ones(1), 1.0)
    assert "NaN" in wrong(compare, np.full((2, 2), np.nan), WANT)


def test_expected_inf_matches_inf():
    want = np.array([0.5, -np.inf])
    compare(np.array([0.5, -np.inf]), want)
    assert "NaN or inf" in wrong(compare, np.array([0.5, np.inf]), want)


def test_to_number_reads_0d_arrays():
    assert to_number(np.array(3.5)) == 3.5
    assert "single number" in wrong(to_number, np.array([1.0, 2.0]))


# ---------------------------------------------------------------- named bugs
def test_bug_is_named_at_the_answers_precision():
    want, bug = np.array([1.0, 2.0]), np.array([1.0, 4.0])
    assert wrong(compare, bug.astype(np.float32), want, bugs={"you doubled the second entry.": bug}) == \
        "you doubled the second entry."


def test_either_or_when_two_bugs_give_the_same_answer():
    message = wrong(compare, 8320, 8256, bugs={"you counted the bias twice.": 8320, "the bias has D_out entries.": 8320,
                                               "unrelated.": 1})
    assert message.startswith("More than one mistake") and "Either: you counted the bias twice." in message
    assert "Or: the bias has D_out entries." in message and "unrelated" not in message


def test_a_bug_equal_to_the_right_answer_is_never_reported():
    want = np.array([1.0, 2.0])
    message = wrong(compare, np.array([5.0, 5.0]), want, bugs={"harmless twin.": want.copy(), "five.": np.full(3, 5.0)})
    assert "harmless" not in message and "five" not in message


def test_no_diagnosis_for_a_near_miss():
    bug = np.array([3.0, 4.0])
    message = wrong(compare, bug * 1.001, np.array([1.0, 2.0]), bugs={"the bug.": bug})
    assert "the bug" not in message and "different values" in message


def test_a_bug_that_cannot_run_is_skipped():
    def crashes():
        raise ValueError("shapes")
    assert "different values" in wrong(compare, [9.0, 9.0], [1.0, 2.0], bugs={"never.": crashes})


# ---------------------------------------------------------------- counts, units, choices
@pytest.mark.parametrize("answer", [16, 16.0, np.int64(16), np.array(16), np.float32(16), np.array(16.0)])
def test_count_accepts(answer):
    compare_count(answer, 16)


def test_count_rejects_and_names():
    assert "whole number" in wrong(compare_count, 16.5, 16)
    assert "not right" in wrong(compare_count, 15, 16) and "16" not in wrong(compare_count, 15, 16).split("not right")[1]
    assert wrong(compare_count, 24, 16, bugs={"you added B.": 24}) == "you added B."
    assert "whole number" in wrong(compare_count, 16.0000001, 16)
    assert "a function" in wrong(compare_count, lambda: 16, 16)
    assert "got str" in wrong(compare_count, "16", 16)
    compare_count(np.float32(2**24 + 1), 2**24 + 1)  # float32 cannot hold it exactly; its own rounding is forgiven
    compare_count(10**20, 10**20)


@pytest.mark.parametrize("answer, unit", [(4.724736, "MB"), (4.505859375, "MiB"), (4.506, "MiB"), (4724.736, "kB"),
                                          (8 * 4724736, "bits"), (4614.0, "KiB")])
def test_units_recognised(answer, unit):
    message = wrong(compare_units, answer, 4724736, "bytes")
    assert f"in {unit};" in message and "give it in bytes" in message, message


def test_units_accept_bug_and_other_bases():
    compare_units(4724736.0, 4724736)
    compare_units(np.int64(4724736), 4724736)
    assert wrong(compare_units, 2 * 4724736, 4724736, bugs={"fp32 is 4 bytes, not 2.": 2 * 4724736}) == \
        "fp32 is 4 bytes, not 2."
    assert "in bytes; give it in MiB" in wrong(compare_units, 4724736, 4724736 / 2**20, "MiB")
    assert "in ms" in wrong(compare_units, 2.5, 0.0025, "s", units=exercises.TIME_UNITS)
    assert "not right" in wrong(compare_units, 123, 4724736)


def test_choice_is_case_insensitive_unless_case_matters():
    for answer in ("W", "w", " W ", "'w'", "`W`"):
        assert compare_choice(answer, ["X", "W", "b"], "W") == "W"
    assert wrong(compare_choice, "x", ["X", "W", "b"], "W", bugs={"X": "the dX row says ok."}) == "the dX row says ok."
    assert "not one of" in wrong(compare_choice, "q", ["X", "W", "b"], "W")
    assert compare_choice("w", ["w", "W"], "w") == "w"
    assert "not the right choice" in wrong(compare_choice, "W", ["w", "W"], "w")
    assert "as a string" in wrong(compare_choice, 3, ["a"], "a")


# ---------------------------------------------------------------- functions on many cases
def _make_linear(B, D_in, D_out, rng):
    return rng.normal(size=(B, D_in)), rng.normal(size=(D_in, D_out)), rng.normal(size=D_out)


LINEAR_CASES = cases(_make_linear, dict(B=3, D_in=3, D_out=3), dict(B=4, D_in=5, D_out=2), dict(B=1, D_in=2, D_out=6))
LINEAR_BUGS = {"the bias is missing.": lambda X, W, b: X @ W,
               "W is transposed.": lambda X, W, b: X @ W.T + b}


def _reference(X, W, b):
    return X @ W + b


def test_check_function_accepts_correct_and_in_place_forms():
    check_function(lambda X, W, b: X @ W + b, _reference, LINEAR_CASES, bugs=LINEAR_BUGS)
    check_function(lambda X, W, b: np.einsum("bi,io->bo", X.astype(np.float32), W.astype(np.float32)) + b,
                   _reference, LINEAR_CASES)

    def mutates_then_right(X, W, b):
        out = X @ W + b
        X *= 2
        return out
    check_function(mutates_then_right, _reference, LINEAR_CASES)
    assert "forbids" in wrong(check_function, mutates_then_right, _reference, LINEAR_CASES, forbid_inplace=True)


def test_check_function_reports_the_failing_case_and_bug():
    def hard_coded(X, W, b):  # right only when D_in = 3
        return X[:, :3] @ W[:3] + b
    message = wrong(check_function, hard_coded, _reference, LINEAR_CASES, name="your forward")
    assert message.startswith("with B=4, D_in=5, D_out=2:"), message
    assert wrong(check_function, lambda X, W, b: X @ W, _reference, LINEAR_CASES, bugs=LINEAR_BUGS) == \
        "with B=3, D_in=3, D_out=3: the bias is missing."
    assert wrong(check_function, lambda X, W, b: X @ W.T + b, _reference, LINEAR_CASES, bugs=LINEAR_BUGS) == \
        "with B=3, D_in=3, D_out=3: W is transposed."


def test_reference_data_is_protected_and_cases_are_fresh():
    X, W, b = LINEAR_CASES[1].make()

    def vandal(X, W, b):
        X[...] = 1e9
        W[...] = 1e9
        return X @ W + b
    with pytest.raises(Wrong):
        check_function(vandal, _reference, LINEAR_CASES)
    X2, W2, b2 = LINEAR_CASES[1].make()
    assert np.array_equal(X, X2) and np.array_equal(W, W2) and np.array_equal(b, b2)


def test_plain_factories_get_a_shape_label():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(2, 3))
    message = wrong(check_function, lambda A: A, lambda A: A.T, [lambda: (A.copy(),)])
    assert message.startswith("with arguments (2, 3):"), message


def test_cases_demand_two_values_of_every_size():
    with pytest.raises(ValueError, match="h takes one value"):
        cases(lambda T, h: (T, h), dict(T=3, h=2), dict(T=4, h=2))
    assert len(cases(lambda T, h: (T, h), dict(T=3, h=2), dict(T=4, h=2), fixed=("h",))) == 2


def test_tuple_outputs_with_parts():
    def backward(X, W, dY):
        return dY @ W.T, X.T @ dY, dY.sum(axis=0)
    made = cases(lambda B, D_in, D_out, rng: (rng.normal(size=(B, D_in)), rng.normal(size=(D_in, D_out)),
                                              rng.normal(size=(B, D_out))),
                 dict(B=3, D_in=3, D_out=3), dict(B=4, D_in=2, D_out=5))
    parts = ("dX", "dW", "db")
    check_function(backward, backward, made, parts=parts)
    check_function(lambda X, W, dY: [np.asarray(a, np.float32).tolist() for a in backward(X, W, dY)], backward, made,
                   parts=parts)
    bugs = {"db is the mean, not the sum.": lambda X, W, dY: (dY @ W.T, X.T @ dY, dY.mean(axis=0))}
    message = wrong(check_function, lambda X, W, dY: (dY @ W.T, X.T @ dY, dY.mean(axis=0)), backward, made,
                    parts=parts, bugs=bugs)
    assert message == "with B=3, D_in=3, D_out=3: db is the mean, not the sum."
    assert "db has the right shape" in wrong(check_function, lambda X, W, dY: (dY @ W.T, X.T @ dY, dY[0]), backward,
                                             made, parts=parts)
    assert "tuple of 3" in wrong(check_function, lambda X, W, dY: dY @ W.T, backward, made, parts=parts)


def test_in_place_note_reaches_the_learner():
    ex = Exercise("engine-test-ex1", lambda fn: check_function(fn, _reference, LINEAR_CASES), ["h1", "h2"], "pass")

    def doubles(X, W, b):
        X *= 2
        return X @ W + b
    result = ex.check(doubles)
    assert result.status == "incorrect" and "in place" in result.message, result
    assert ex.check(lambda X, W, b: X @ W + b).ok


# ---------------------------------------------------------------- rng-taking functions
def _good(n, rng):
    return rng.standard_normal(n)


def test_check_rng_accepts_a_good_function_and_restores_the_global_state():
    np.random.seed(7)  # noqa: NPY002
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    out = check_rng(_good, (3,))
    assert np.array_equal(out, np.random.default_rng(0).standard_normal(3))
    assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002


@pytest.mark.parametrize("fn, keyword", [
    (lambda n, rng: np.random.default_rng(42).standard_normal(n), "same result for different rng seeds"),
    (lambda n, rng: np.random.randn(n), "global random state"),  # noqa: NPY002
    (lambda n, rng: rng.standard_normal(n) + np.random.rand(), "global random state"),  # noqa: NPY002
    (lambda n, rng: np.random.default_rng().standard_normal(n), "same rng seed"),
    (lambda n, rng: np.ones(n), "same result for different rng seeds"),
])
def test_check_rng_catches(fn, keyword):
    assert keyword in wrong(check_rng, fn, (3,), name="your init")


# ---------------------------------------------------------------- time limit and the browser
def test_time_limit_stops_a_loop_where_signals_work():
    with pytest.raises(TimeoutError), time_limit(0.05):
        while True:
            pass


class _NoAlarm:
    """A `signal` module as Pyodide has it: no SIGALRM, no setitimer."""


class _BrokenAlarm:
    SIGALRM, ITIMER_REAL = 14, 0

    @staticmethod
    def signal(*args):
        raise ValueError("signal only works in main thread")

    @staticmethod
    def setitimer(*args):
        raise OSError("no timers")


@pytest.mark.parametrize("fake", [_NoAlarm(), _BrokenAlarm(), None])
def test_time_limit_without_signals_falls_back_to_the_trace_watchdog(monkeypatch, fake):
    monkeypatch.setattr(sandbox, "signal", fake)
    ran = []
    with time_limit(1.0):
        ran.append(sum(range(1000)))
    assert ran == [499500]
    with pytest.raises(TimeoutError), time_limit(0.05):  # as in Pyodide: stopped by the watchdog
        while True:
            pass
    assert call(lambda x: x + 1, np.ones(2)).tolist() == [2.0, 2.0]


def test_engine_needs_no_threads_or_subprocesses():
    source = "".join(p.read_text() for p in Path(sandbox.__file__).parent.glob("*.py"))
    for module in ("threading", "subprocess", "multiprocessing", "concurrent"):
        assert f"import {module}" not in source


# ---------------------------------------------------------------- hints, solutions, results
EX = Exercise("engine-test-ex2", lambda a: compare(a, 1.0) or "yes.", ["idea", "step"], "answer = 1.0",
              why="one is one.")


def test_solution_is_folded_with_the_why():
    note = EX.solution()
    page = note._repr_html_()
    assert page.startswith('<details class="exercise-solution" data-exercise="engine-test-ex2"><summary>Show the '
                           'solution</summary>')
    assert 'data-exercise' not in EX.hint()._repr_html_()  # hints keep their HTML
    assert page.endswith("</details>") and "answer = 1.0" in page and "one is one." in page
    assert "answer = 1.0" in repr(note) and "one is one." in repr(note)
    assert note.code == "answer = 1.0" and note.text


def test_hints_climb():
    assert EX.hint().text.startswith("idea") and "hint(2)" in EX.hint().text
    assert EX.hint(2).text == "step" and "1 to 2" in EX.hint(3).text


def test_result_html_carries_label_status_and_words():
    for answer, status, word in ((1.0, "correct", "Correct"), (2.0, "incorrect", "Not quite"),
                                 (..., "not attempted", "Not attempted yet")):
        result = EX.check(answer)
        page = result._repr_html_()
        assert result.status == status and result.label == "engine-test-ex2"
        assert 'data-exercise="engine-test-ex2"' in page and f'data-status="{status}"' in page and f">{word}<" in page
    crash = Exercise("engine-test-ex3", lambda a: 1 / 0, [], "")
    assert 'data-status="error"' in crash.check(1)._repr_html_()
    assert repr(Result("correct", "fine.")) == "Correct: fine."


def _luminance(hex_color: str) -> float:
    channels = [int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_status_badges_meet_wcag_aa():
    for color, _ in exercises._STYLE.values():  # white text on the badge colour, whatever the page background
        ratio = (1.05) / (_luminance(color) + 0.05)
        assert ratio >= 4.5, (color, ratio)


# ---------------------------------------------------------------- labels
CHAPTER_MODULES = [importlib.import_module(f"lib.exercises.{m.name}") for m in pkgutil.iter_modules(exercises.__path__)]
NOTEBOOKS = {p.stem for p in (ROOT / "chapters").glob("*.ipynb")}


def test_every_chapter_label_is_registered_unique_and_named_after_its_notebook():
    found = [ex for mod in CHAPTER_MODULES for ex in vars(mod).values() if isinstance(ex, Exercise)]
    labels = [ex.label for ex in found]
    assert len(labels) == len(set(labels)) >= 35
    for ex in found:
        assert EXERCISES[ex.label] is ex
        assert any(ex.label.startswith(f"{stem}-") for stem in NOTEBOOKS), ex.label
        assert ex.formerly is None or any(ex.formerly.startswith(f"{stem}-") for stem in NOTEBOOKS), ex.formerly


def test_duplicate_label_raises_but_a_reload_does_not():
    label = next(iter(EXERCISES))
    with pytest.raises(ValueError, match="already used"):
        Exercise(label, lambda a: None, [], "")
    with pytest.raises(ValueError, match="lowercase"):
        Exercise("Bad Label", lambda a: None, [], "")
    module = importlib.import_module("lib.exercises.vectors")
    importlib.reload(module)
    for ex in vars(module).values():
        if isinstance(ex, Exercise):
            assert EXERCISES[ex.label] is ex


def test_the_docstring_example_runs():
    doc = exercises.__doc__
    start = doc.index("    def _reference(X, W, b):")
    code = "\n".join(line[4:] for line in doc[start:doc.index("Labels name the exercise")].splitlines())
    namespace = {"np": np, **{k: getattr(exercises, k) for k in exercises.__all__}}
    exec(code.replace('"linear-layer-forward"', '"engine-test-ex4"'), namespace)
    ex = namespace["forward"]
    assert ex.check(lambda X, W, b: X @ W + b).ok
    result = ex.check(lambda X, W, b: X @ W)
    assert result.message == "with B=3, D_in=3, D_out=3: the bias is missing: add b after the product."
    assert result.bug == "the bias is missing: add b after the product."
    assert ex.check(lambda X, W, b: X[:, :3] @ W[:3] + b).message.startswith("with B=4, D_in=5, D_out=2:")
    assert "<details" in ex.solution()._repr_html_()


# ---------------------------------------------------------------- Result.bug: the sentence of the named bug
BIAS = "the bias is missing: add b after the product."
TRANSPOSED = "W is used transposed."
LAYER_CASES = cases(lambda B, D_in, D_out, rng: (rng.normal(size=(B, D_in)), rng.normal(size=(D_in, D_out)),
                                                 rng.normal(size=D_out)),
                    dict(B=3, D_in=3, D_out=3), dict(B=4, D_in=5, D_out=2))
LAYER_BUGS = {BIAS: lambda X, W, b: X @ W, TRANSPOSED: lambda X, W, b: X @ W.T + b}


def _check_layer(fn):
    check_function(fn, lambda X, W, b: X @ W + b, LAYER_CASES, name="your layer", bugs=LAYER_BUGS)
    return "right."


LAYER = Exercise("engine-test-bug-layer", _check_layer, ["a", "b"], "...")


def _rewrapping(fn):  # as chapter checkers do: catch the engine's Wrong and add words
    try:
        return _check_layer(fn)
    except Wrong as wrong:
        raise Wrong(f"in your layer, {wrong}") from None


REWRAPPED = Exercise("engine-test-bug-rewrapped", _rewrapping, ["a", "b"], "...")


def test_result_bug_is_the_named_sentence_and_survives_rewrapping():
    for ex in (LAYER, REWRAPPED):
        result = ex.check(lambda X, W, b: X @ W)
        assert result.status == "incorrect" and result.bug == BIAS, result
        assert BIAS in result.message
        assert ex.check(lambda X, W, b: X @ W + b).bug is None
        generic = ex.check(lambda X, W, b: X @ W + 2 * b)
        assert generic.status == "incorrect" and generic.bug is None, generic


def test_a_hand_raised_bug_and_several_bugs_set_result_bug():
    def checker(answer):
        if answer == 2:
            raise Wrong("you doubled it.", bug=True)
        compare(answer, 1.0, bugs={"off by three.": 4.0, "also off by three.": 4.0})

    ex = Exercise("engine-test-bug-hand", checker, ["a", "b"], "...")
    assert ex.check(2).bug == "you doubled it."
    both = ex.check(4)
    assert both.bug is not None and both.bug.startswith("More than one mistake") and "also off by three." in both.bug
    assert ex.check(7).bug is None


def test_name_bug_every_names_only_a_bug_that_explains_every_case():
    square_only = lambda X, W, b: X @ W.T + b if W.shape[0] == W.shape[1] else X @ W + 3 * b  # noqa: E731
    first = wrong(check_function, square_only, lambda X, W, b: X @ W + b, LAYER_CASES, bugs=LAYER_BUGS)
    assert TRANSPOSED in first  # "first": the square case matches W.T
    every = wrong(check_function, square_only, lambda X, W, b: X @ W + b, LAYER_CASES, bugs=LAYER_BUGS,
                  name_bug="every")
    assert TRANSPOSED not in every and "different values" in every
    assert BIAS in wrong(check_function, lambda X, W, b: X @ W, lambda X, W, b: X @ W + b, LAYER_CASES,
                         bugs=LAYER_BUGS, name_bug="every")
    check_function(lambda X, W, b: X @ W + b, lambda X, W, b: X @ W + b, LAYER_CASES, bugs=LAYER_BUGS,
                   name_bug="every")
    with pytest.raises(ValueError, match="name_bug"):
        check_function(lambda X: X, lambda X: X, LAYER_CASES, name_bug="all")


def test_judge_names_a_bug_only_when_it_explains_every_result_in_the_engine_wording():
    from lib.exercises import as_values, close, judge, run_cases

    wants = [np.array([1.0, 2.0]), np.array([3.0])]
    bugs = {"doubled.": [np.array([2.0, 4.0]), np.array([6.0])], "shifted.": [np.array([2.0, 3.0]), None],
            "also doubled.": [np.array([2.0, 4.0]), np.array([6.0])]}
    judge([np.array([1.0, 2.0]), np.array([3.0])], wants, bugs, ["a", "b"])
    assert wrong(judge, [np.array([2.0, 4.0]), np.array([6.0])], wants, bugs, ["a", "b"]).startswith(
        "More than one mistake gives exactly this answer. Either: doubled.")
    assert "shifted" not in wrong(judge, [np.array([2.0, 3.0]), np.array([4.0])], wants, bugs, ["a", "b"])
    assert close(np.float32(1 / 3), 1 / 3) and not close(np.array([1.0]), np.array([1.0, 1.0]))
    assert as_values(np.array([[5.0]]), "x").shape == ()
    assert "float16" in wrong(as_values, np.float16(1), "x")
    got, error = run_cases(lambda n: n * 2 if n < 3 else 1 / 0, [(1,), (2,), (3,)], float, "your f")
    assert got == [2.0, 4.0] and "ZeroDivisionError" in str(error)


# ---------------------------------------------------------------- numbers and arrays from other libraries
class FakeArray:
    """An array of another library (as a JAX ArrayImpl or a torch tensor): __array__, shape, item()."""

    def __init__(self, value):
        self._value = np.asarray(value)
        self.shape = self._value.shape
        self.dtype = self._value.dtype

    def __array__(self, dtype=None, copy=None):
        return self._value if dtype is None else self._value.astype(dtype)

    def item(self):
        return self._value.item()


class ItemOnly:
    """A 0-d tensor that offers only item() (no __array__)."""

    shape = ()

    def __init__(self, value):
        self.value = value

    def item(self):
        return self.value


def test_a_0d_array_of_another_library_is_a_number():
    for answer in (FakeArray(16), FakeArray(16.0), FakeArray(np.float32(16)), ItemOnly(16), ItemOnly(16.0)):
        assert to_number(answer) == 16.0
        compare(answer, 16)
        compare_count(answer, 16)
        compare_units(answer, 16.0, "bytes")
    assert "got FakeArray of shape (2,)" in wrong(to_number, FakeArray([1.0, 2.0]))
    assert "whole number" in wrong(compare_count, FakeArray(16.5), 16)
    assert "too large" in wrong(compare_count, FakeArray(17), 16, bugs={"one too many.": 17}) or \
        wrong(compare_count, FakeArray(17), 16, bugs={"one too many.": 17}) == "one too many."


def test_an_array_of_another_library_is_compared_as_an_array():
    compare(FakeArray(WANT), WANT)
    compare(FakeArray(WANT.astype(np.float32)), WANT)
    assert "different values" in wrong(compare, FakeArray(WANT + 1), WANT)


def test_a_0d_fake_array_passes_a_whole_exercise():
    ex = Exercise("engine-test-fake-0d", lambda a: compare_count(a, 4_096) or "yes.", ["a", "b"], "...")
    assert ex.check(FakeArray(np.int32(4_096))).ok and ex.check(ItemOnly(4096)).ok


# ---------------------------------------------------------------- stability: inputs that find the hard case
def _masked_softmax(S, allowed):
    S = np.where(allowed, S, -np.inf)
    e = np.exp(S - S.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _half_stable_masked(S, allowed):  # shifts by the maximum over all keys, masked ones included
    e = np.exp(S - S.max(axis=-1, keepdims=True)) * allowed
    return e / e.sum(axis=-1, keepdims=True)


def _unshifted_masked(S, allowed):
    e = np.exp(S) * allowed
    return e / e.sum(axis=-1, keepdims=True)


CAUSAL = np.tril(np.ones((4, 4), dtype=bool))
MASK_CASES = [
    lambda: (np.random.default_rng(0).normal(size=(2, 4, 4)), CAUSAL),
    lambda: (extreme_on_masked(np.random.default_rng(1).normal(size=(2, 4, 4)), CAUSAL), CAUSAL),
]


def test_extreme_on_masked_breaks_a_half_stable_masked_softmax():
    S = extreme_on_masked(np.zeros((4, 4)), CAUSAL)
    assert np.all(S[~CAUSAL] == 2e3) and np.all(S[:, 0] == 1e3)
    check_function(_masked_softmax, _masked_softmax, MASK_CASES)
    with np.errstate(all="ignore"):
        for planted in (_half_stable_masked, _unshifted_masked):
            check_function(planted, _masked_softmax, MASK_CASES[:1])  # ordinary inputs do not tell
            assert "NaN or inf" in wrong(check_function, planted, _masked_softmax, MASK_CASES)


def _cross_entropy(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(axis=-1)) - z[np.arange(len(targets)), targets]))


def _shift_by_target(logits, targets):
    z = logits - logits[np.arange(len(targets)), targets][:, None]
    return float(np.mean(np.log(np.exp(z).sum(axis=-1))))


def test_extreme_off_target_breaks_a_cross_entropy_shifted_by_the_target_logit():
    targets = np.array([0, 2, 1])
    logits = extreme_off_target(np.zeros((3, 3)), targets)
    assert logits[0, 1] == logits[1, 0] == logits[2, 2] == 1e3 and np.all(logits[np.arange(3), targets] == 0)
    ce_cases = [lambda: (np.random.default_rng(2).normal(size=(3, 3)), targets),
                lambda: (extreme_off_target(np.random.default_rng(3).normal(size=(3, 3)), targets), targets)]
    check_function(_cross_entropy, _cross_entropy, ce_cases)
    with np.errstate(all="ignore"):
        check_function(_shift_by_target, _cross_entropy, ce_cases[:1])
        assert "NaN or inf" in wrong(check_function, _shift_by_target, _cross_entropy, ce_cases)
    assert with_extreme(np.zeros(3), 1, 7.0).tolist() == [0.0, 7.0, 0.0]


# ---------------------------------------------------------------- renamed labels
def test_formerly_records_the_old_label_and_refuses_conflicts():
    ex = Exercise("engine-test-renamed", lambda a: None, ["a", "b"], "...", formerly="engine-test-ex9")
    assert ex.formerly == "engine-test-ex9" and renamed_labels()["engine-test-ex9"] == "engine-test-renamed"
    with pytest.raises(ValueError, match="already belongs"):
        Exercise("engine-test-other", lambda a: None, [], "", formerly="engine-test-ex9")
    with pytest.raises(ValueError, match="former label"):
        Exercise("engine-test-ex9", lambda a: None, [], "")
    with pytest.raises(ValueError, match="formerly"):
        Exercise("engine-test-third", lambda a: None, [], "", formerly="Ex 1")
    with pytest.raises(ValueError, match="already belongs"):
        Exercise("engine-test-fourth", lambda a: None, [], "", formerly="engine-test-ex2")  # a label in use


def test_bug_collisions_finds_bugs_that_no_case_tells_apart():
    from lib.exercises import bug_collisions

    square = cases(lambda n, rng: (rng.normal(size=(n, n)), rng.normal(size=(n, n))), dict(n=2), dict(n=3))
    bugs = {"transposed W.": lambda X, W: X @ W.T, "transposed X.": lambda X, W: X.T @ W,
            "both transposed, reversed.": lambda X, W: (W @ X).T, "W only.": lambda X, W: W,
            "X @ W again.": lambda X, W: X @ W, "cannot run.": lambda X, W: X @ np.ones((7, 7))}
    found = bug_collisions(lambda X, W: X @ W, square, bugs)
    assert ("the right answer", "X @ W again.") in found  # a "bug" that is right on every case
    assert ("transposed W.", "transposed X.") not in found and ("transposed X.", "W only.") not in found
    assert ("transposed X.", "both transposed, reversed.") not in found
    same = {"W @ X transposed.": lambda X, W: (W @ X).T, "X.T @ W.T.": lambda X, W: X.T @ W.T}
    assert bug_collisions(lambda X, W: X @ W, square, same) == [("W @ X transposed.", "X.T @ W.T.")]
    assert bug_collisions(lambda X, W: X @ W, square, {"a.": lambda X, W: 2 * X @ W}) == []
