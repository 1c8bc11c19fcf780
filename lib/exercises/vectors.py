"""Exercises for the chapter `vectors`: cosine similarity, nearest word, projection."""

from __future__ import annotations

import numpy as np

from lib import vectors
from lib.exercises import Exercise, Wrong, call, compare
from lib.vectors import EMBEDDINGS, WORDS

_rng = np.random.default_rng(7)
_PAIRS = [(_rng.normal(size=4), _rng.normal(size=4)) for _ in range(3)] + [
    (np.array([3.0, 4.0]), np.array([4.0, -3.0])),  # perpendicular: cosine 0
    (np.array([1.0, 2.0, 2.0]), np.array([-2.0, -4.0, -4.0])),  # opposite: cosine -1
]


def _check_cosine(fn) -> str:
    for u, v in _PAIRS:
        got = call(fn, u, v, name="your cosine")
        nu, nv = np.linalg.norm(u), np.linalg.norm(v)
        compare(got, vectors.cosine(u, v), name=f"cosine({u.round(2)}, {v.round(2)})", bugs={
            "that is the plain dot product u . v: divide by the two lengths |u| |v|.": u @ v,
            "you divided by |u| only; the cosine divides by both lengths.": u @ v / nu,
            "you divided by the squared lengths; use np.linalg.norm (or sqrt(u @ u)), not u @ u.": u @ v / (nu**2 * nv**2),
            "that is the angle in radians; the exercise asks for its cosine.": np.arccos(np.clip(u @ v / (nu * nv), -1, 1)),
        })
    return "your cosine gives 0 for perpendicular vectors and -1 for opposite ones."


ex1 = Exercise(
    "vectors-ex1",
    _check_cosine,
    ["The cosine is the dot product of the two vectors after each is scaled to length 1.",
     "cos = (u @ v) / (np.linalg.norm(u) * np.linalg.norm(v))"],
    "def cosine(u, v):\n    return (u @ v) / (np.linalg.norm(u) * np.linalg.norm(v))",
)


def _check_nearest(answer) -> str:
    if not isinstance(answer, str):
        raise Wrong(f"answer with a word (a string such as 'apple'), got {type(answer).__name__}.")
    word = answer.strip().lower()
    if word not in WORDS:
        raise Wrong(f"{answer!r} is not one of the words {WORDS}.")
    if word == "king":
        raise Wrong("every vector is most similar to itself; leave 'king' out and take the best of the rest.")
    if word == "emperor":
        raise Wrong("'emperor' has the largest dot product with 'king', but only because its vector is long; "
                    "the cosine divides the length out.")
    sims = vectors.cosine_matrix(EMBEDDINGS)[0]
    best = WORDS[1 + int(np.argmax(sims[1:]))]
    if word != best:
        raise Wrong(f"cosine(king, {word}) = {sims[WORDS.index(word)]:.3f}; another word scores higher.")
    return f"'{best}' points almost exactly the way 'king' does (cosine {sims[1]:.3f})."


ex2 = Exercise(
    "vectors-ex2",
    _check_nearest,
    ["Compute the cosine between the 'king' row and every row of EMBEDDINGS.",
     "vectors.cosine_matrix(EMBEDDINGS)[0] holds all of them; skip index 0, which is king itself."],
    "sims = vectors.cosine_matrix(EMBEDDINGS)[0]\nanswer = WORDS[1 + int(np.argmax(sims[1:]))]",
)


def _check_project(fn) -> str:
    for u, v in _PAIRS:
        got = call(fn, u, v, name="your project")
        uv, vv = u @ v, v @ v
        compare(got, vectors.project(u, v), name=f"project({u.round(2)}, {v.round(2)})", bugs={
            "you projected v onto u; the shadow of u falls on the line through v.": (uv / (u @ u)) * u,
            "you forgot to divide by v . v, so the result is stretched by |v|^2.": uv * v,
            "you divided by |v| instead of |v|^2 (v @ v).": uv / np.sqrt(vv) * v,
            "that is the coefficient (u . v / v . v) alone; multiply it by v to get the vector.": uv / vv,
        })
    return "the projection of a vector perpendicular to v is the zero vector, as it should be."


ex3 = Exercise(
    "vectors-ex3",
    _check_project,
    ["The projection lies along v, so it is some number times v.",
     "That number is (u @ v) / (v @ v)."],
    "def project(u, v):\n    return (u @ v) / (v @ v) * v",
)
