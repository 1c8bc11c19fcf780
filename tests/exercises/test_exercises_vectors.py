"""Tests for lib.exercises.vectors: several correct answers pass, every named bug gets its own sentence."""

import numpy as np
import pytest

from lib import vectors
from lib.exercises.vectors import ex1, ex2, ex3, ex4, ex5, ex6


def assert_correct(result):
    assert result.status == "correct", result


def assert_named(result, fragment):
    assert result.status == "incorrect", result
    assert fragment.lower() in result.message.lower(), result


def unit_rows(M):
    return M / np.linalg.norm(M, axis=1, keepdims=True)


# ---------------------------------------------------------------- ex1: cosine table
def table_loop(A, B):
    return [[float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))) for b in B] for a in A]


@pytest.mark.parametrize("answer", [
    lambda A, B: unit_rows(A) @ unit_rows(B).T,
    lambda A, B: (A @ B.T) / np.outer(np.linalg.norm(A, axis=1), np.linalg.norm(B, axis=1)),
    lambda A, B: (A @ B.T) / (np.linalg.norm(A, axis=1)[:, None] * np.linalg.norm(B, axis=1)),
    lambda A, B: np.einsum("id,jd->ij", unit_rows(A), unit_rows(B)),
    lambda A, B: (unit_rows(A) @ unit_rows(B).T).astype(np.float32),
    lambda A, B: unit_rows(A.astype(np.float32)) @ unit_rows(B.astype(np.float32)).T,
    table_loop,
    lambda A, B: [[vectors.cosine(a, b) for b in B] for a in A],
    lambda A, B: vectors.cosine_matrix(np.vstack([A, B]))[: len(A), len(A):],
])
def test_ex1_correct(answer):
    assert_correct(ex1.check(answer))


@pytest.mark.parametrize("buggy, fragment", [
    (lambda A, B: A @ B.T, "plain dot products"),
    (lambda A, B: unit_rows(A) @ B.T, "only the rows of A"),
    (lambda A, B: A @ unit_rows(B).T, "only the rows of B"),
    (lambda A, B: (A / np.linalg.norm(A, axis=0)) @ (B / np.linalg.norm(B, axis=0)).T, "columns (axis=0)"),
    (lambda A, B: A @ B.T / (np.linalg.norm(A) * np.linalg.norm(B)), "without an axis"),
    (lambda A, B: A @ B.T / np.outer((A * A).sum(1), (B * B).sum(1)), "squared lengths"),
    (lambda A, B: A @ B.T / np.linalg.norm(A, axis=1)[:, None] * np.linalg.norm(B, axis=1), "precedence"),
    (lambda A, B: A @ B.T / np.outer(np.linalg.norm(B, axis=1), np.linalg.norm(A, axis=1)), "other way round"),
    (lambda A, B: np.arccos(np.clip(unit_rows(A) @ unit_rows(B).T, -1, 1)), "angles"),
    (lambda A, B: np.abs(unit_rows(A) @ unit_rows(B).T), "absolute value"),
    (lambda A, B: unit_rows(B) @ unit_rows(A).T, "rows and columns are swapped"),
    (lambda A, B: A @ B.T / (np.linalg.norm(A, axis=1) * np.linalg.norm(B, axis=1)), "entry by entry"),
    (lambda A, B: np.degrees(np.arccos(np.clip(unit_rows(A) @ unit_rows(B).T, -1, 1))), "in degrees"),
    (lambda A, B: 1 - unit_rows(A) @ unit_rows(B).T, "cosine distance"),
    (lambda A, B: unit_rows(A) @ unit_rows(B), "transpose B"),
    (lambda A, B: (A / np.linalg.norm(A, axis=1)) @ (B / np.linalg.norm(B, axis=1)).T, "keepdims=true"),
    (lambda A, B: unit_rows(A).T @ unit_rows(B), "contracts the vectors"),
    (lambda A, B: A @ B.T / (np.linalg.norm(A, axis=1, keepdims=True) * np.linalg.norm(B, axis=1, keepdims=True)),
     "both lists of lengths are columns"),
    (lambda A, B: unit_rows(A) @ unit_rows(A).T, "compares a with itself"),
])
def test_ex1_bugs(buggy, fragment):
    assert_named(ex1.check(buggy), fragment)


def test_ex1_hard_coded_size_fails():
    assert ex1.check(lambda A, B: unit_rows(A)[:, :3] @ unit_rows(B)[:, :3].T).status == "incorrect"


def test_ex1_generic_wrong_is_not_misnamed():
    result = ex1.check(lambda A, B: unit_rows(A) @ unit_rows(B).T + 0.1)
    assert result.status == "incorrect" and "different values" in result.message


# ---------------------------------------------------------------- ex2: the bug in a similarity search
def given_similarities(E, q):  # the function the page shows, with its bug
    return (E @ q) / (np.linalg.norm(E) * np.linalg.norm(q))


def similarities_loop(E, q):
    out = []
    for row in E:
        dot = sum(float(a) * float(b) for a, b in zip(row, q, strict=True))
        out.append(dot / (sum(a * a for a in row) ** 0.5 * sum(b * b for b in q) ** 0.5))
    return out


def sim_solution(E, q):
    row_lengths = np.linalg.norm(E, axis=1)
    return (E @ q) / (row_lengths * np.linalg.norm(q))


@pytest.mark.parametrize("answer", [
    sim_solution,
    similarities_loop,
    lambda E, q: unit_rows(E) @ (q / np.linalg.norm(q)),
    lambda E, q: (unit_rows(E.astype(np.float32)) @ (q / np.linalg.norm(q)).astype(np.float32)),
    lambda E, q: [vectors.cosine(row, q) for row in E],
    lambda E, q: vectors.cosine_matrix(np.vstack([q, E]))[0, 1:],
    lambda E, q: np.einsum("nd,d->n", E, q) / np.sqrt(np.einsum("nd,nd->n", E, E) * (q @ q)),
    lambda E, q: ((E @ q) / np.linalg.norm(E, axis=1, keepdims=True).ravel() / np.linalg.norm(q)).tolist(),
])
def test_ex2_correct(answer):
    assert_correct(ex2.check(answer))


SIM_WRONG = [
    (given_similarities, "the function as given"),
    (lambda E, q: E @ q, "plain dot products"),
    (lambda E, q: (E @ q) / np.linalg.norm(q), "divided by |q| only"),
    (lambda E, q: (E @ q) / np.linalg.norm(E, axis=1), "row lengths only"),
    (lambda E, q: (E @ q) / (np.linalg.norm(E, axis=0) * np.linalg.norm(q)), "one length per column"),
    (lambda E, q: (E / np.linalg.norm(E, axis=0)) @ q / np.linalg.norm(q), "columns of e to length 1"),
    (lambda E, q: (E @ q) / (np.linalg.norm(E, axis=1, keepdims=True) * np.linalg.norm(q)), "(n, n) table"),
    (lambda E, q: (E @ q) / ((E * E).sum(axis=1) * (q @ q)), "squared lengths"),
    (lambda E, q: (E @ q) / np.linalg.norm(E, axis=1) * np.linalg.norm(q), "precedence"),
]


@pytest.mark.parametrize("buggy, fragment", SIM_WRONG)
def test_ex2_names_each_bug(buggy, fragment):
    result = ex2.check(buggy)
    assert_named(result, fragment)
    assert result.bug and fragment.lower() in result.bug.lower(), result


def test_ex2_every_bug_has_its_own_case():
    from lib.exercises import bug_collisions
    from lib.exercises.vectors import SIM_BUGS, SIM_CASES, _similarities

    assert bug_collisions(_similarities, SIM_CASES, SIM_BUGS) == []
    assert any(E.shape[0] != E.shape[1] for E, _ in (c.make() for c in SIM_CASES))


def test_ex2_the_given_function_ranks_emperor_first_for_king():
    E, W = vectors.EMBEDDINGS, vectors.WORDS
    assert W[int(np.argmax(given_similarities(E, E[0])))] == "emperor"
    assert W[int(np.argmax(sim_solution(E, E[0])))] == "king"


def test_ex2_generic_wrong_is_not_misnamed():
    result = ex2.check(lambda E, q: sim_solution(E, q) + 0.1)
    assert result.status == "incorrect" and result.bug is None and "different values" in result.message


# ---------------------------------------------------------------- ex3: cross-attention score shape
@pytest.mark.parametrize("answer", [(5, 7), [5, 7], (np.int64(5), np.int64(7)), np.array([5, 7]),
                                    (np.zeros((5, 16)) @ np.zeros((7, 16)).T).shape])
def test_ex3_correct(answer):
    assert_correct(ex3.check(answer))


@pytest.mark.parametrize("answer, fragment", [
    ((7, 5), "K @ Q.T"),
    ((5, 5), "self-attention"),
    ((7, 7), "keys with keys"),
    ((5, 16), "shape of Q itself"),
    ((7, 16), "shape of K itself"),
    ((16, 16), "Q.T @ K"),
    ((5, 7, 16), "2-D"),
    ((3, 4), "cancel the shared dimension"),
    ((35,), "arranged as a table"),
    ("(5, 7)", "tuple of integers"),
])
def test_ex3_wrong(answer, fragment):
    assert_named(ex3.check(answer), fragment)


# ---------------------------------------------------------------- ex4: spread of random cosines
@pytest.mark.parametrize("answer", [
    1 / np.sqrt(3072), 0.018, np.float32(0.018), 3072 ** -0.5,
    float(vectors.random_pair_cosines(3072, 2000, np.random.default_rng(5)).std()),
    np.array(0.018),
])
def test_ex4_correct(answer):
    assert_correct(ex4.check(answer))


@pytest.mark.parametrize("answer, fragment", [
    (1 / 3072, "that is 1/d"),
    (np.sqrt(3072), "that is sqrt(d)"),
    (np.degrees(1 / np.sqrt(3072)), "in degrees"),
    (1 / np.sqrt(768), "d = 768"),
    (0.25, "d = 16"),
    (1 / 768, "without the square root"),
    (1 / np.sqrt(2), "d = 2"),
    (0.02, "one significant digit"),
    (0, "mean of the cosine"),
    (0.5, "too large by a factor"),
])
def test_ex4_wrong(answer, fragment):
    assert_named(ex4.check(answer), fragment)


# ---------------------------------------------------------------- ex5: perpendicular part
def perp_loop(u, v):
    coef = sum(a * b for a, b in zip(u, v, strict=True)) / sum(b * b for b in v)
    return [a - coef * b for a, b in zip(u, v, strict=True)]


@pytest.mark.parametrize("answer", [
    lambda u, v: u - (u @ v) / (v @ v) * v,
    lambda u, v: u - vectors.project(u, v),
    lambda u, v: u - np.outer(v, v) @ u / (v @ v),
    lambda u, v: (u - (u @ v) / (v @ v) * v).astype(np.float32),
    perp_loop,
    lambda u, v: u - (u @ (v / np.linalg.norm(v))) * (v / np.linalg.norm(v)),
])
def test_ex5_correct(answer):
    assert_correct(ex5.check(answer))


@pytest.mark.parametrize("buggy, fragment", [
    (lambda u, v: (u @ v) / (v @ v) * v, "projection itself"),
    (lambda u, v: (u @ v) / (v @ v) * v - u, "sign is flipped"),
    (lambda u, v: u - (u @ v) * v, "forgot to divide"),
    (lambda u, v: u - (u @ v) / np.linalg.norm(v) * v, "instead of v . v"),
    (lambda u, v: v - (u @ v) / (u @ u) * u, "roles are swapped"),
    (lambda u, v: u - (u @ v) / (np.linalg.norm(u) * np.linalg.norm(v)) * v, "cosine as the coefficient"),
    (lambda u, v: u - u @ v / v @ v * v, "precedence"),
    (lambda u, v: u - (u @ v) / (u @ u) * v, "divided by u . u"),
])
def test_ex5_bugs(buggy, fragment):
    assert_named(ex5.check(buggy), fragment)


def test_ex5_scalar_answer_is_a_shape_message():
    result = ex5.check(lambda u, v: np.linalg.norm(u - (u @ v) / (v @ v) * v))
    assert result.status == "incorrect" and "shape" in result.message


@pytest.mark.parametrize("ex", [ex1, ex2, ex3, ex4, ex5, ex6])
def test_placeholders_and_hints(ex):
    assert ex.check(...).status == "not attempted"
    assert len(ex.hints) == 2 and ex.hints[1] not in ex.solution().code


# ---------------------------------------------------------------- ex6: predict apple's best match by dot product
@pytest.mark.parametrize("answer", ["emperor", "Emperor", " emperor. ", "EMPEROR"])
def test_ex6_correct(answer):
    assert_correct(ex6.check(answer))


@pytest.mark.parametrize("answer, fragment", [
    ("apple", "squared length"),
    ("banana", "closest *direction*"),
    ("queen", "rank 4 of 5"),
    ("king", "rank 5 of 5"),
])
def test_ex6_wrong(answer, fragment):
    assert_named(ex6.check(answer), fragment)


def test_ex6_reads_the_data():
    # the answer is computed from the embeddings: emperor's dot product with apple beats apple's own
    E, i = vectors.EMBEDDINGS, vectors.WORDS.index("apple")
    assert (E @ E[i]).argmax() == vectors.WORDS.index("emperor")
