"""Vectors, the dot product, cosine similarity and projection.

Shapes: d is the vector length (an embedding width); u, v are (d,).
"""

from __future__ import annotations

import numpy as np

from lib.shapes import as_array, as_number, check_shapes


def _pair(u: np.ndarray, v: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    u, v = as_array(u, "u", where), as_array(v, "v", where)
    check_shapes(where, u=(u, "d"), v=(v, "d"))
    return u, v


def dot(u: np.ndarray, v: np.ndarray) -> float:
    """Multiply pairwise, then sum.  u (d,), v (d,) -> scalar"""
    u, v = _pair(u, v, "dot")
    return float(sum(a * b for a, b in zip(u, v, strict=True)))


def norm(u: np.ndarray) -> float:
    """Euclidean length sqrt(u . u).  u (d,) -> scalar"""
    u = as_array(u, "u", "norm")
    check_shapes("norm", u=(u, "d"))
    return float(np.sqrt(u @ u))


def cosine(u: np.ndarray, v: np.ndarray) -> float:
    """Cosine of the angle between u and v: u . v / (|u| |v|), in [-1, 1].  u (d,), v (d,) -> scalar"""
    u, v = _pair(u, v, "cosine")
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        raise ValueError("cosine: the angle to a zero vector is undefined (|u| or |v| is 0).")
    return float(np.clip(u @ v / (nu * nv), -1.0, 1.0))


def project(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The projection of u onto the line through v: (u . v / v . v) v.  u (d,), v (d,) -> (d,)"""
    u, v = _pair(u, v, "project")
    vv = v @ v
    if vv == 0:
        raise ValueError("project: cannot project onto the zero vector v.")
    return (u @ v / vv) * v


def unit(angle: float) -> np.ndarray:
    """The 2-D unit vector at `angle` radians from the x axis.  -> (2,)"""
    angle = as_number(angle, "angle", "unit")
    return np.array([np.cos(angle), np.sin(angle)])


def cosine_matrix(E: np.ndarray) -> np.ndarray:
    """Cosine similarity between every pair of rows.  E (n, d) -> (n, n)"""
    E = as_array(E, "E", "cosine_matrix")
    check_shapes("cosine_matrix", E=(E, "n d"))
    lengths = np.linalg.norm(E, axis=1, keepdims=True)  # (n, 1)
    if np.any(lengths == 0):
        raise ValueError("cosine_matrix: a row of E is all zeros, so its angle is undefined.")
    unit_rows = E / lengths  # (n, d)
    return np.clip(unit_rows @ unit_rows.T, -1.0, 1.0)  # (n, d) @ (d, n) -> (n, n); rounding can exceed 1
