"""The exercise engine (lib.exercises): fair comparison, named bugs, sized cases, rng checks, folding, labels."""

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
    time_limit,
    to_number,
)

ROOT = Path(__file__).resolve().parents[1]


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
def test_time_limit_without_signals_runs_the_body_with_no_limit(monkeypatch, fake):
    monkeypatch.setattr(exercises, "signal", fake)
    ran = []
    with time_limit(0.01):
        ran.append(sum(range(1000)))
    assert ran == [499500]
    assert call(lambda x: x + 1, np.ones(2)).tolist() == [2.0, 2.0]


def test_engine_needs_no_threads_or_subprocesses():
    source = Path(exercises.__file__).read_text()
    for module in ("threading", "subprocess", "multiprocessing", "concurrent"):
        assert f"import {module}" not in source


# ---------------------------------------------------------------- hints, solutions, results
EX = Exercise("engine-test-ex2", lambda a: compare(a, 1.0) or "yes.", ["idea", "step"], "answer = 1.0",
              why="one is one.")


def test_solution_is_folded_with_the_why():
    note = EX.solution()
    page = note._repr_html_()
    assert page.startswith('<details class="exercise-solution"><summary>Show the solution</summary>')
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
        assert any(ex.label.startswith(f"{stem}-") for stem in NOTEBOOKS), ex.label  # <chapter>-<slug>


def test_duplicate_label_raises_but_a_reload_does_not():
    label = next(iter(EXERCISES))
    with pytest.raises(ValueError, match="already used"):
        Exercise(label, lambda a: None, [], "")
    with pytest.raises(ValueError, match="lowercase"):
        Exercise("Bad Label", lambda a: None, [], "")
    module = importlib.import_module("lib.exercises.vectors")
    importlib.reload(module)
    assert EXERCISES["vectors-ex1"] is module.ex1


def test_the_docstring_example_runs():
    doc = exercises.__doc__
    start = doc.index("    def _reference(X, W, b):")
    code = "\n".join(line[4:] for line in doc[start:doc.index("Labels are")].splitlines())
    namespace = {"np": np, **{k: getattr(exercises, k) for k in exercises.__all__}}
    exec(code.replace('"linear-layer-ex3"', '"engine-test-ex4"'), namespace)
    ex = namespace["ex3"]
    assert ex.check(lambda X, W, b: X @ W + b).ok
    assert ex.check(lambda X, W, b: X @ W).message == "with B=3, D_in=3, D_out=3: the bias is missing: add b after the product."
    assert ex.check(lambda X, W, b: X[:, :3] @ W[:3] + b).message.startswith("with B=4, D_in=5, D_out=2:")
    assert "<details" in ex.solution()._repr_html_()
