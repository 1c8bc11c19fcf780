"""Exercise checkers that answer like a patient teacher.

Each chapter has a module here (`lib.exercises.vectors`, ...) defining its exercises as
`Exercise` objects. In a notebook:

    from lib.exercises.vectors import ex1
    answer = ...          # the placeholder: "not attempted yet", never "wrong"
    ex1.check(answer)     # Correct / Not quite (with the reason) / Not attempted yet
    ex1.hint()            # then ex1.hint(2) for a stronger hint
    ex1.solution()        # folded (a <details>) in Jupyter, so Run All spoils nothing

A checker never raises into the notebook: a learner's exception, a wrong type, NaN or a function
that never returns all come back as a readable `Result`. Learner functions get deep copies of
their inputs, so they cannot corrupt the reference data; editing those copies in place is allowed
unless the exercise says otherwise (`forbid_inplace=True`).

For checker authors
-------------------
A checker takes the learner's answer and returns a sentence of praise, or raises `Wrong` with a
sentence saying what to change. The tools:

- `compare(got, want, bugs=...)`: arrays and numbers. Any real dtype, list, tuple, NumPy scalar or
  0-d array; the tolerance follows the answer's precision (float32 is judged as float32) and the
  scale of `want`. `bugs` maps a sentence to what that mistake returns (a value or a zero-argument
  function); a bug is named only when the answer matches it as tightly as it would have to match
  the right answer, never when that value is also right, and "Either ... Or ..." when several fit.
- `compare_count(got, want, bugs=...)`: a whole number (16, 16.0, np.int64(16), np.array(16)).
- `compare_units(got, want, "bytes", bugs=...)`: a quantity; an answer in MB, MiB, kB, bits ...
  is recognised and told which unit to use. `compare_choice(got, options, want)`: one of a few
  words, case-insensitive unless the options differ only by case.
- `check_function(fn, reference, cases, bugs=...)`: a function tried on every case (`cases(...)`
  builds them from sizes and demands two values of every size), with bugs computed per case.
- `check_rng(fn, args)`: an rng-taking function is reproducible from the rng it is given and
  ignores NumPy's global state.
- `refuse_lib(fn, {"lib.svd.reconstruct": svd.reconstruct})`: the course's own function is not an
  answer, handed in, called by name, wrapped (a lambda, a partial, a helper) or imported under
  another name; a family of routines (`{"an SVD routine": SVD_ROUTINES}`, `EIG_ROUTINES`) is
  refused by every route (np.linalg.svdvals, norm(A, 2), pinv, scipy). `not_applicable()` in a
  bug's function: that bug does not apply to this case.
- `check_function(..., name_bug="every")`: name a bug only when it explains every case (the
  default "first" names it on the first failing case).
- `extreme_on_masked(scores, allowed)` and `extreme_off_target(logits, targets)` (and
  `with_extreme`): inputs that put the extreme value where a half-stable softmax or
  cross-entropy breaks (a large score on a masked key, a large logit away from the target); make
  one case of a stability check with them.
- `bug_collisions(reference, cases, bugs)`, for a checker's tests: the pairs of named bugs that no
  case tells apart (each named bug needs a case where it alone gives its number).
- `call`, `to_array`, `to_number`, `need_function`, `time_limit`, `explain_crashes`, `as_shape`,
  `short` for hand-written checks; `run_cases`, `as_values`, `judge` and `close` judge several cases
  at once, naming a bug only when it explains all of them.

`Result.bug` is the sentence of the mistake a checker named (None when none was): a bug sentence
raised through `bugs=...` is marked by the engine, a hand-raised one with `Wrong(sentence,
bug=True)`. Numbers may come from any array library: a 0-d array of JAX or PyTorch is a number.
A learner's function runs with a time limit that also holds in Pyodide (a trace watchdog where
SIGALRM is missing; the first call of a function gets twice the limit, for a jit compile).

A declarative checker, whole:

    def _reference(X, W, b):
        return X @ W + b                       # X (B, D_in), W (D_in, D_out), b (D_out,) -> (B, D_out)

    _CASES = cases(lambda B, D_in, D_out, rng: (rng.normal(size=(B, D_in)), rng.normal(size=(D_in, D_out)),
                                                rng.normal(size=D_out)),
                   dict(B=3, D_in=3, D_out=3), dict(B=4, D_in=5, D_out=2), dict(B=1, D_in=2, D_out=6))

    def _check_forward(fn):
        check_function(fn, _reference, _CASES, name="your linear_forward", bugs={
            "the bias is missing: add b after the product.": lambda X, W, b: X @ W,
            "W is used transposed: it is already (D_in, D_out), so multiply X @ W.": lambda X, W, b: X @ W.T + b,
        })
        return "X @ W + b, with b broadcast over the batch, for every shape."

    forward = Exercise("linear-layer-forward", _check_forward,
                   ["Write the shapes: (B, D_in) @ (D_in, D_out) -> ?", "Which of the three has shape (D_out,)?"],
                   "def linear_forward(X, W, b):\\n    return X @ W + b",
                   why="b has one entry per output column, so NumPy adds it to every row.")

Labels name the exercise, "<chapter>-<slug>" (such as "linear-layer-forward"), and are unique
book-wide (`EXERCISES` holds them all); a renamed exercise passes its old label as `formerly=` so
saved progress follows it (`renamed_labels()`). The HTML of a `Result` carries `data-exercise` and
`data-status` for the browser runner, and a solution's `<details>` carries `data-exercise` so the
site keeps it closed until that exercise has been checked once.

The engine lives in `lib.exercises.core` (exercise.py: the objects; sandbox.py: running the
learner's code; compare.py: reading and comparing answers; cases.py: functions tried on many
cases); this package re-exports it. A chapter's module imports only the engine and `lib`.
"""

from lib.exercises.core.cases import (
    Case,
    bug_collisions,
    cases,
    check_function,
    check_rng,
    extreme_off_target,
    extreme_on_masked,
    run_cases,
    safe,
    with_extreme,
)
from lib.exercises.core.compare import (
    BYTE_UNITS,
    DEFAULT_ATOL,
    DEFAULT_RTOL,
    FLOP_UNITS,
    TIME_UNITS,
    ULPS,
    as_shape,
    as_values,
    close,
    compare,
    compare_choice,
    compare_count,
    compare_units,
    judge,
    to_array,
    to_number,
)
from lib.exercises.core.exercise import (
    _STYLE,
    EXERCISES,
    Exercise,
    NotAttempted,
    Note,
    Result,
    Wrong,
    checked_in,
    renamed_labels,
)
from lib.exercises.core.sandbox import (
    EIG_ROUTINES,
    FIRST_CALL_FACTOR,
    SVD_ROUTINES,
    TIME_LIMIT_S,
    Reached,
    call,
    explain_crashes,
    forbidding,
    need_function,
    not_applicable,
    refuse_lib,
    short,
    time_limit,
)

__all__ = [
    "BYTE_UNITS", "DEFAULT_ATOL", "DEFAULT_RTOL", "EIG_ROUTINES", "EXERCISES", "FIRST_CALL_FACTOR", "FLOP_UNITS",
    "SVD_ROUTINES", "TIME_LIMIT_S", "TIME_UNITS", "ULPS", "Case", "Exercise", "Note", "NotAttempted", "Reached",
    "Result", "Wrong", "as_shape", "as_values", "bug_collisions", "call", "cases", "check_function", "check_rng", "close", "compare",
    "compare_choice", "compare_count", "compare_units", "explain_crashes", "extreme_off_target",
    "extreme_on_masked", "forbidding", "judge", "need_function", "not_applicable", "refuse_lib", "renamed_labels", "checked_in",
    "run_cases", "safe", "short", "time_limit", "to_array", "to_number", "with_extreme",
]
_STYLE = _STYLE  # the badge colours (tests check their contrast)
