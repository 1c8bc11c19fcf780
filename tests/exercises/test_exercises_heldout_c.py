"""Held-out learner answers for the exercises of svd, low-rank and lora (written apart from tests/).

Each chapter's answers are built inside a function: correct ones in different forms (float32,
float16 where the answer is a prediction, lists, loops, einsum, in-place edits, either sign), and
plausible buggy ones. Every correct answer must be accepted; every buggy one rejected, and named
(a specific sentence, not the generic "different values") unless listed in UNNAMED.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from lib.exercises import lora as LO
from lib.exercises import low_rank as LR
from lib.exercises import svd as SV
from lib.exercises.svd import A_STRETCH, W_COMPRESS

f32 = np.float32


def _svd_answers() -> dict[str, list]:
    f32 = np.float32

    # ---- ex1
    def r_diag(U, S, Vt):
        return U @ np.diag(S) @ Vt

    def r_bcast(U, S, Vt):
        return (U * S) @ Vt

    def r_rows(U, S, Vt):
        return U @ (S[:, None] * Vt)

    def r_einsum(U, S, Vt):
        return np.einsum("ik,k,kj->ij", U, S, Vt)

    def r_loop(U, S, Vt):
        A = np.zeros((U.shape[0], Vt.shape[1]))
        for i in range(len(S)):
            A += S[i] * np.outer(U[:, i], Vt[i])
        return A

    def r_f32(U, S, Vt):
        return (U.astype(f32) * S.astype(f32)) @ Vt.astype(f32)

    def r_list(U, S, Vt):
        return (U @ np.diag(S) @ Vt).tolist()

    def r_multidot(U, S, Vt):
        return np.linalg.multi_dot([U, np.diag(S), Vt])

    def r_inplace(U, S, Vt):
        U *= S
        return U @ Vt

    def r_prec(U, S, Vt):
        return U * S @ Vt  # same precedence: (U * S) @ Vt

    def r_matmul(U, S, Vt):
        return np.matmul(np.matmul(U, np.diag(S)), Vt)

    EX1_OK = [
        ("diag", r_diag),
        ("bcast", r_bcast),
        ("rows", r_rows),
        ("einsum", r_einsum),
        ("loop", r_loop),
        ("f32", r_f32),
        ("list", r_list),
        ("multi_dot", r_multidot),
        ("prec", r_prec),
        ("inplace", r_inplace),
        ("matmul", r_matmul),
    ]

    def b_US(U, S, Vt):
        return U @ S @ Vt

    def b_V(U, S, Vt):
        return U @ np.diag(S) @ Vt.T

    def b_noS(U, S, Vt):
        return U @ Vt

    def b_diagfirst(U, S, Vt):
        return np.diag(S) @ U @ Vt

    def b_loop_skip0(U, S, Vt):
        A = np.zeros((U.shape[0], Vt.shape[1]))
        for i in range(1, len(S)):
            A += S[i] * np.outer(U[:, i], Vt[i])
        return A

    def b_loop_short(U, S, Vt):
        A = np.zeros((U.shape[0], Vt.shape[1]))
        for i in range(len(S) - 1):
            A += S[i] * np.outer(U[:, i], Vt[i])
        return A

    def b_rank1(U, S, Vt):
        return S[0] * np.outer(U[:, 0], Vt[0])

    def b_hard3(U, S, Vt):
        Sig = np.zeros((3, 3))
        np.fill_diagonal(Sig, S)
        return U @ Sig @ Vt

    def b_noVt(U, S, Vt):
        return U @ np.diag(S)

    def b_sqrt(U, S, Vt):
        return U @ np.diag(np.sqrt(S)) @ Vt

    def b_Scol(U, S, Vt):
        return (U * S[:, None]) @ Vt

    def b_rev(U, S, Vt):
        return Vt.T @ np.diag(S) @ U.T

    def b_UT(U, S, Vt):
        return U.T @ np.diag(S) @ Vt

    def b_invS(U, S, Vt):
        return U @ np.diag(1 / S) @ Vt

    EX1_BUG = [(n, f) for n, f in list(locals().items()) if n.startswith("b_")]

    # ---- ex2
    A = A_STRETCH
    U, S, Vt = np.linalg.svd(A)
    lam, Q = np.linalg.eigh(A.T @ A)

    def power(M, it=500):
        x = np.ones(M.shape[0])
        for _ in range(it):
            x = M @ x
            x /= np.linalg.norm(x)
        return x

    EX2_OK = [
        ("Vt0", Vt[0]),
        ("-Vt0", -Vt[0]),
        ("f32", Vt[0].astype(f32)),
        ("list", Vt[0].tolist()),
        ("eighATA", Q[:, -1]),
        ("power", power(A.T @ A)),
        ("V col", Vt.T[:, 0]),
        ("tuple", tuple(-Vt[0])),
        ("thin", np.linalg.svd(A, full_matrices=False)[2][0]),
    ]
    lamA, vA = np.linalg.eig(A)
    top = vA[:, np.argmax(abs(lamA))].real
    j = np.argmax(np.linalg.norm(A, axis=0))
    EX2_BUG = [
        ("Vt col", Vt[:, 0]),
        ("U col", U[:, 0]),
        ("Vt last", Vt[-1]),
        ("eig A", top / np.linalg.norm(top)),
        ("eighATA row", Q[-1]),
        ("eighATA smallest", Q[:, 0]),
        ("eighAAT", np.linalg.eigh(A @ A.T)[1][:, -1]),
        ("sigma v1", S[0] * Vt[0]),
        ("A v1", A @ Vt[0]),
        ("power A", power(A)),
        ("unit col", np.eye(3)[j]),
        ("U row", U[0]),
        ("A.T u1 unnorm", A.T @ U[:, 0]),
    ]

    # ---- ex3
    def s_sort(A):
        return np.sort(np.abs(np.linalg.eigvalsh(A)))[::-1]

    def s_sorted(A):
        return sorted(np.abs(np.linalg.eigvalsh(A)), reverse=True)

    def s_neg(A):
        return -np.sort(-np.abs(np.linalg.eigvalsh(A)))

    def s_f32(A):
        return np.sort(np.abs(np.linalg.eigvalsh(A.astype(f32))))[::-1]

    def s_argsort(A):
        a = np.abs(np.linalg.eigvalsh(A))
        return a[np.argsort(-a)]

    def s_sq(A):
        return np.sqrt(np.linalg.eigvalsh(A @ A.T))[::-1]

    def s_flip(A):
        return np.flip(np.sort(np.abs(np.linalg.eigvalsh(A))))

    def s_loop(A):
        out = [abs(x) for x in np.linalg.eigvalsh(A)]
        res = []
        while out:
            m = max(out)
            res.append(m)
            out.remove(m)
        return np.array(res)

    def s_inplace(A):
        a = np.abs(np.linalg.eigvalsh(A))
        a.sort()
        return a[::-1]

    EX3_OK = [(n, f) for n, f in list(locals().items()) if n.startswith("s_")]

    def t_eig(A):
        return np.linalg.eigvalsh(A)

    def t_abs(A):
        return np.abs(np.linalg.eigvalsh(A))

    def t_asc(A):
        return np.sort(np.abs(np.linalg.eigvalsh(A)))

    def t_absrev(A):
        return np.abs(np.linalg.eigvalsh(A))[::-1]

    def t_sq(A):
        return np.sort(np.linalg.eigvalsh(A) ** 2)[::-1]

    def t_signdesc(A):
        return np.sort(np.linalg.eigvalsh(A))[::-1]

    def t_sqrtabs(A):
        return np.sort(np.sqrt(np.abs(np.linalg.eigvalsh(A))))[::-1]

    def t_none(A):
        a = np.abs(np.linalg.eigvalsh(A))
        return a.sort()

    def t_max(A):
        return np.max(np.abs(np.linalg.eigvalsh(A)))

    def t_eigvals(A):
        return np.abs(np.linalg.eigvals(A))

    def t_svd(A):  # right values, but the exercise asks for eigvalsh only
        return np.linalg.svd(A, compute_uv=False)

    def t_ATA(A):
        return np.sort(np.abs(np.linalg.eigvalsh(A.T @ A)))[::-1]

    EX3_BUG = [(n, f) for n, f in list(locals().items()) if n.startswith("t_")]

    # ---- ex4
    def m_U(W):
        return np.linalg.svd(W)[0][:, 0]

    def m_negU(W):
        return -np.linalg.svd(W, full_matrices=False)[0][:, 0]

    def m_WT(W):
        return np.linalg.svd(W.T)[2][0]

    def m_eigh(W):
        return np.linalg.eigh(W @ W.T)[1][:, -1]

    def m_f32(W):
        return np.linalg.svd(W.astype(f32))[0][:, 0]

    def m_list(W):
        return list(np.linalg.svd(W)[0][:, 0])

    def m_power(W):
        x = np.ones(W.shape[0])
        for _ in range(2000):
            x = W @ (W.T @ x)
            x = x / np.linalg.norm(x)
        return x

    EX4_OK = [(n, f) for n, f in list(locals().items()) if n.startswith("m_")]

    def n_Vt0(W):
        return np.linalg.svd(W)[2][0]

    def n_Urow(W):
        return np.linalg.svd(W)[0][0]

    def n_Ulast(W):
        return np.linalg.svd(W)[0][:, -1]

    def n_WTU(W):
        return np.linalg.svd(W.T)[0][:, 0]

    def n_eighWTW(W):
        return np.linalg.eigh(W.T @ W)[1][:, -1]

    def n_eighsmall(W):
        return np.linalg.eigh(W @ W.T)[1][:, 0]

    def n_eighrow(W):
        return np.linalg.eigh(W @ W.T)[1][-1]

    def n_unnorm(W):
        U, S, Vt = np.linalg.svd(W)
        return S[0] * U[:, 0]

    def n_col0(W):
        return W[:, 0] / np.linalg.norm(W[:, 0])

    def n_Vtcol(W):
        return np.linalg.svd(W)[2][:, 0]

    def n_hard4(W):
        return np.linalg.svd(W)[0][:4, 0]

    def n_output(W):
        U, S, Vt = np.linalg.svd(W)
        return U[:, 0] @ W

    EX4_BUG = [(n, f) for n, f in list(locals().items()) if n.startswith("n_")]

    # ---- ex5
    SS = np.linalg.svd(W_COMPRESS, compute_uv=False)
    EX5_OK = [
        ("tuple", (0.0, SS[-1])),
        ("list", [0, SS[-1]]),
        ("f32", np.array([0, SS[-1]], dtype=f32)),
        ("rounded", (0, round(SS[-1], 4))),
        ("min", (0.0, SS.min())),
        ("svdT", (0, np.linalg.svd(W_COMPRESS.T, compute_uv=False)[-1])),
        ("int0", (0, float(SS[-1]))),
        ("f16", np.array([0, SS[-1]], dtype=np.float16)),
    ]
    EX5_BUG = [
        ("both min", (SS[-1], SS[-1])),
        ("both 0", (0, 0)),
        ("swapped", (SS[-1], 0)),
        ("max", (SS[0], SS[0])),
        ("min max", (SS[-1], SS[0])),
        ("0 max", (0, SS[0])),
        ("squared", (0, SS[-1] ** 2)),
        ("middle", (0, SS[1])),
        ("cond", (0, SS[0] / SS[-1])),
        ("min min rounded", (round(SS[-1], 4), round(SS[-1], 4))),
        ("wide minSV tall 0", (SS[-1], 0.0)),
    ]
    return {k: v for k, v in locals().items() if k.startswith("EX")}


def _low_rank_answers() -> dict[str, list]:
    f32 = np.float32

    # ---- ex1
    def r_std(A, k):
        U, S, Vt = np.linalg.svd(A, full_matrices=False)
        return U[:, :k] @ np.diag(S[:k]) @ Vt[:k]

    def r_bc(A, k):
        U, S, Vt = np.linalg.svd(A, full_matrices=False)
        return (U[:, :k] * S[:k]) @ Vt[:k, :]

    def r_loop(A, k):
        U, S, Vt = np.linalg.svd(A)
        out = np.zeros_like(A)
        for i in range(k):
            out += S[i] * np.outer(U[:, i], Vt[i])
        return out

    def r_full(A, k):
        U, S, Vt = np.linalg.svd(A)
        return U[:, :k] @ np.diag(S[:k]) @ Vt[:k]

    def r_zero(A, k):
        U, S, Vt = np.linalg.svd(A, full_matrices=False)
        S[k:] = 0
        return U @ np.diag(S) @ Vt

    def r_f32(A, k):
        U, S, Vt = np.linalg.svd(A.astype(f32), full_matrices=False)
        return (U[:, :k] * S[:k]) @ Vt[:k]

    def r_list(A, k):
        return r_std(A, k).tolist()

    def r_einsum(A, k):
        U, S, Vt = np.linalg.svd(A, full_matrices=False)
        return np.einsum("ik,k,kj->ij", U[:, :k], S[:k], Vt[:k])

    def r_inplace(A, k):
        U, S, Vt = np.linalg.svd(A, full_matrices=False)
        A[...] = (U[:, :k] * S[:k]) @ Vt[:k]
        return A

    def r_subtract(A, k):
        U, S, Vt = np.linalg.svd(A, full_matrices=False)
        return A - (U[:, k:] * S[k:]) @ Vt[k:]

    EX1_OK = [(n, f) for n, f in list(locals().items()) if n.startswith("r_")]

    def _t(A):
        return np.linalg.svd(A, full_matrices=False)

    def b_small(A, k):
        U, S, Vt = _t(A)
        return U[:, -k:] @ np.diag(S[-k:]) @ Vt[-k:]

    def b_kp1(A, k):
        U, S, Vt = _t(A)
        return U[:, : k + 1] @ np.diag(S[: k + 1]) @ Vt[: k + 1]

    def b_km1(A, k):
        U, S, Vt = _t(A)
        return U[:, : k - 1] @ np.diag(S[: k - 1]) @ Vt[: k - 1]

    def b_single(A, k):
        U, S, Vt = _t(A)
        return S[k] * np.outer(U[:, k], Vt[k])

    def b_noS(A, k):
        U, S, Vt = _t(A)
        return U[:, :k] @ Vt[:k]

    def b_Vcols(A, k):
        U, S, Vt = _t(A)
        return U[:, :k] @ np.diag(S[:k]) @ Vt[:, :k].T

    def b_S2(A, k):
        U, S, Vt = _t(A)
        return U[:, :k] @ np.diag(S[:k] ** 2) @ Vt[:k]

    def b_hard2(A, k):
        U, S, Vt = _t(A)
        return U[:, :2] @ np.diag(S[:2]) @ Vt[:2]

    def b_Urows(A, k):
        U, S, Vt = _t(A)
        return U[:k] @ np.diag(S[:k]) @ Vt[:k]

    def b_zero_off(A, k):
        U, S, Vt = _t(A)
        S[k + 1 :] = 0
        return U @ np.diag(S) @ Vt

    def b_factors(A, k):
        U, S, Vt = _t(A)
        return U[:, :k], S[:k], Vt[:k]

    def b_loop_off(A, k):
        U, S, Vt = _t(A)
        out = np.zeros_like(A)
        for i in range(1, k + 1):
            out += S[i] * np.outer(U[:, i], Vt[i])
        return out

    def b_tail(A, k):
        U, S, Vt = _t(A)
        return (U[:, k:] * S[k:]) @ Vt[k:]

    def b_zero_wrong(A, k):
        U, S, Vt = _t(A)
        S[:k] = 0
        return U @ np.diag(S) @ Vt

    EX1_BUG = [(n, f) for n, f in list(locals().items()) if n.startswith("b_")]

    # ---- ex2, ex3 and ex4 (the error pair, the condition number, the init scale) were replaced by
    # choose_k and init_gain: their held-out answers are in _low_rank_new_answers

    # ---- ex4 (was ex5: gain or conditioning)
    g = 0.9**20
    EX4_OK = [
        ("exact", (0.9**20, 1.0)),
        ("ints", (0.9**20, 1)),
        ("rounded", (0.1216, 1.0)),
        ("0.12", [0.12, 1]),
        ("f32", np.array([g, 1], dtype=f32)),
        ("arr", np.array([g, 1.0])),
        ("np", (np.float64(0.9) ** 20, np.float64(1))),
        ("f16", np.array([g, 1], dtype=np.float16)),
    ]
    EX4_BUG = [
        ("gain gain", (g, g)),
        ("0.9*20", (18, 1)),
        ("0.9", (0.9, 1)),
        ("1 1", (1, 1)),
        ("inverse", (1 / g, 1)),
        ("cond0", (g, 0)),
        ("off by one", (0.9**19, 1)),
        ("fro", (g * 8, 1)),
        ("cond inf", (g, np.inf)),
        ("gain 0", (0, 1)),
        ("sq", (0.81**20, 1)),
        ("1, cond gain", (1, g)),
    ]
    return {k: v for k, v in locals().items() if k.startswith("EX")}


def _lora_answers() -> dict[str, list]:
    f32 = np.float32

    # ---- ex1
    def i_std(D_in, D_out, r, rng):
        return rng.standard_normal((D_in, r)) / np.sqrt(D_in), np.zeros((r, D_out))

    def i_normal(D_in, D_out, r, rng):
        return rng.normal(0, 1 / np.sqrt(D_in), size=(D_in, r)), np.zeros((r, D_out))

    def i_small(D_in, D_out, r, rng):
        return 0.01 * rng.standard_normal((D_in, r)), np.zeros((r, D_out))

    def i_kaiming_u(D_in, D_out, r, rng):
        b = 1 / np.sqrt(D_in)
        return rng.uniform(-b, b, size=(D_in, r)), np.zeros((r, D_out))

    def i_f32(D_in, D_out, r, rng):
        return rng.standard_normal((D_in, r), dtype=np.float32) / np.sqrt(
            np.float32(D_in)
        ), np.zeros((r, D_out), np.float32)

    def i_list(D_in, D_out, r, rng):
        return [rng.standard_normal((D_in, r)), np.zeros((r, D_out))]

    def i_unit(D_in, D_out, r, rng):
        return rng.normal(size=(D_in, r)), np.zeros((r, D_out))

    def i_BT(D_in, D_out, r, rng):
        B = np.zeros((D_out, r)).T
        A = rng.standard_normal((r, D_in)).T
        return A, B

    def i_zeros_like(D_in, D_out, r, rng):
        A = rng.standard_normal(size=(D_in, r))
        return A, np.zeros_like(A.T @ np.ones((D_in, D_out)))

    EX1_OK = [(n, f) for n, f in list(locals().items()) if n.startswith("i_")]

    def j_bothzero(D_in, D_out, r, rng):
        return np.zeros((D_in, r)), np.zeros((r, D_out))

    def j_Azero(D_in, D_out, r, rng):
        return np.zeros((D_in, r)), rng.standard_normal((r, D_out))

    def j_Brand(D_in, D_out, r, rng):
        return rng.standard_normal((D_in, r)), rng.standard_normal((r, D_out))

    def j_swap(D_in, D_out, r, rng):
        return np.zeros((r, D_out)), rng.standard_normal((D_in, r))

    def j_paper(D_in, D_out, r, rng):
        return rng.standard_normal((r, D_in)), np.zeros((D_out, r))

    def j_global(D_in, D_out, r, rng):
        return np.random.randn(D_in, r), np.zeros((r, D_out))  # noqa: NPY002 (the bug tested)

    def j_newrng(D_in, D_out, r, rng):
        return np.random.default_rng().standard_normal((D_in, r)), np.zeros((r, D_out))

    def j_fixed(D_in, D_out, r, rng):
        return np.random.default_rng(0).standard_normal((D_in, r)), np.zeros((r, D_out))

    def j_tile(D_in, D_out, r, rng):
        return np.tile(rng.standard_normal((D_in, 1)), (1, r)), np.zeros((r, D_out))

    def j_huge(D_in, D_out, r, rng):
        return 100 * rng.standard_normal((D_in, r)), np.zeros((r, D_out))

    def j_tiny(D_in, D_out, r, rng):
        return 1e-6 * rng.standard_normal((D_in, r)), np.zeros((r, D_out))

    def j_ones(D_in, D_out, r, rng):
        return np.ones((D_in, r)), np.zeros((r, D_out))

    def j_eye(D_in, D_out, r, rng):
        return np.eye(D_in, r), np.zeros((r, D_out))

    def j_hard(D_in, D_out, r, rng):
        return rng.standard_normal((6, 3)), np.zeros((3, 4))

    def j_Bsmall(D_in, D_out, r, rng):
        return rng.standard_normal((D_in, r)), 1e-3 * rng.standard_normal((r, D_out))

    def j_squareB(D_in, D_out, r, rng):
        return rng.standard_normal((D_in, r)), np.zeros((D_out, D_out))

    EX1_BUG = [(n, f) for n, f in list(locals().items()) if n.startswith("j_")]

    # ---- ex2
    def m_std(W0, A, B, alpha):
        return W0 + alpha / A.shape[1] * A @ B

    def m_Bshape(W0, A, B, alpha):
        return W0 + (alpha / B.shape[0]) * (A @ B)

    def m_inplace(W0, A, B, alpha):
        W0 += (alpha / A.shape[1]) * A @ B
        return W0

    def m_einsum(W0, A, B, alpha):
        return W0 + alpha / len(B) * np.einsum("ir,ro->io", A, B)

    def m_loop(W0, A, B, alpha):
        r = A.shape[1]
        W = W0.copy()
        for i in range(r):
            W += (alpha / r) * np.outer(A[:, i], B[i])
        return W

    def m_f32(W0, A, B, alpha):
        return W0.astype(f32) + f32(alpha / A.shape[1]) * (A.astype(f32) @ B.astype(f32))

    def m_dot(W0, A, B, alpha):
        return np.add(W0, np.dot(A, B) * alpha / A.shape[-1])

    def m_list(W0, A, B, alpha):
        return (W0 + alpha / A.shape[1] * A @ B).tolist()

    def m_order(W0, A, B, alpha):
        return (alpha * (A @ B)) / A.shape[1] + W0

    EX2_OK = [(n, f) for n, f in list(locals().items()) if n.startswith("m_")]

    def n_noscale(W0, A, B, alpha):
        return W0 + A @ B

    def n_inv(W0, A, B, alpha):
        return W0 + A.shape[1] / alpha * A @ B

    def n_alpha(W0, A, B, alpha):
        return W0 + alpha * A @ B

    def n_rs(W0, A, B, alpha):
        return W0 + alpha / np.sqrt(A.shape[1]) * A @ B

    def n_BA(W0, A, B, alpha):
        return W0 + alpha / A.shape[1] * B @ A

    def n_T(W0, A, B, alpha):
        return W0 + alpha / A.shape[1] * (A @ B).T

    def n_only(W0, A, B, alpha):
        return alpha / A.shape[1] * A @ B

    def n_minus(W0, A, B, alpha):
        return W0 - alpha / A.shape[1] * A @ B

    def n_len(W0, A, B, alpha):
        return W0 + alpha / len(A) * A @ B

    def n_Bcols(W0, A, B, alpha):
        return W0 + alpha / B.shape[1] * A @ B

    def n_hard8(W0, A, B, alpha):
        return W0 + alpha / 8 * A @ B

    def n_floordiv(W0, A, B, alpha):
        return W0 + alpha // A.shape[1] * A @ B

    def n_scaleall(W0, A, B, alpha):
        return alpha / A.shape[1] * (W0 + A @ B)

    def n_hardr2(W0, A, B, alpha):
        return W0 + alpha / 2 * A @ B

    def n_elem(W0, A, B, alpha):
        return W0 + alpha / A.shape[1] * np.outer(A[:, 0], B[0])

    EX2_BUG = [(n, f) for n, f in list(locals().items()) if n.startswith("n_")]

    # ---- ex3
    def g_std(X, W0, A, B, alpha, dY):
        s = alpha / A.shape[1]
        H = X @ A
        dB = s * H.T @ dY
        dH = s * dY @ B.T
        dA = X.T @ dH
        dX = dY @ W0.T + dH @ A.T
        return dX, dA, dB

    def g_merged(X, W0, A, B, alpha, dY):
        s = alpha / B.shape[0]
        return dY @ (W0 + s * A @ B).T, s * X.T @ (dY @ B.T), s * (X @ A).T @ dY

    def g_einsum(X, W0, A, B, alpha, dY):
        s = alpha / A.shape[1]
        dB = s * np.einsum("nr,no->ro", X @ A, dY)
        dA = s * np.einsum("ni,no,ro->ir", X, dY, B)
        dX = np.einsum("no,io->ni", dY, W0) + s * np.einsum("no,ro,ir->ni", dY, B, A)
        return dX, dA, dB

    def g_f32(X, W0, A, B, alpha, dY):
        X, W0, A, B, dY = (a.astype(f32) for a in (X, W0, A, B, dY))
        return g_std(X, W0, A, B, f32(alpha), dY)

    def g_list(X, W0, A, B, alpha, dY):
        return list(g_std(X, W0, A, B, alpha, dY))

    def g_assoc(X, W0, A, B, alpha, dY):
        s = alpha / A.shape[1]
        return dY @ W0.T + s * dY @ B.T @ A.T, s * (X.T @ dY) @ B.T, s * A.T @ (X.T @ dY)

    def g_ABT(X, W0, A, B, alpha, dY):
        dX, dA, dB = g_std(X, W0, A, B, alpha, dY)
        s = alpha / A.shape[1]
        return dY @ W0.T + s * dY @ (A @ B).T, dA, dB

    EX3_OK = [(n, f) for n, f in list(locals().items()) if n.startswith("g_")]

    def _p(X, W0, A, B, alpha, dY, r=None):
        r = A.shape[1] if r is None else r
        s = alpha / r
        H = X @ A
        return s, H

    def h_noscale(X, W0, A, B, alpha, dY):
        H = X @ A
        dH = dY @ B.T
        return dY @ W0.T + dH @ A.T, X.T @ dH, H.T @ dY

    def h_dBnos(X, W0, A, B, alpha, dY):
        dX, dA, dB = g_std(X, W0, A, B, alpha, dY)
        return dX, dA, (X @ A).T @ dY

    def h_dAnos(X, W0, A, B, alpha, dY):
        dX, dA, dB = g_std(X, W0, A, B, alpha, dY)
        return dX, X.T @ dY @ B.T, dB

    def h_dA2(X, W0, A, B, alpha, dY):
        dX, dA, dB = g_std(X, W0, A, B, alpha, dY)
        return dX, alpha / A.shape[1] * dA, dB

    def h_dXnoad(X, W0, A, B, alpha, dY):
        dX, dA, dB = g_std(X, W0, A, B, alpha, dY)
        return dY @ W0.T, dA, dB

    def h_dXnos(X, W0, A, B, alpha, dY):
        dX, dA, dB = g_std(X, W0, A, B, alpha, dY)
        return dY @ W0.T + dY @ B.T @ A.T, dA, dB

    def h_order(X, W0, A, B, alpha, dY):
        dX, dA, dB = g_std(X, W0, A, B, alpha, dY)
        return dX, dB, dA

    def h_dBT(X, W0, A, B, alpha, dY):
        dX, dA, dB = g_std(X, W0, A, B, alpha, dY)
        return dX, dA, alpha / A.shape[1] * dY.T @ (X @ A)

    def h_sneg(X, W0, A, B, alpha, dY):
        return tuple(-g for g in g_std(X, W0, A, B, alpha, dY))

    def h_s_alpha(X, W0, A, B, alpha, dY):
        return g_std(X, W0, A, B, alpha * A.shape[1], dY)  # s = alpha (no /r)

    def h_r_wrong(X, W0, A, B, alpha, dY):
        return g_std(X, W0, A, B, alpha * A.shape[1] / A.shape[0], dY)  # s = alpha / D_in

    def h_dXW0(X, W0, A, B, alpha, dY):
        dX, dA, dB = g_std(X, W0, A, B, alpha, dY)
        s = alpha / A.shape[1]
        return s * dY @ B.T @ A.T, dA, dB

    def h_dA_noT(X, W0, A, B, alpha, dY):
        dX, dA, dB = g_std(X, W0, A, B, alpha, dY)
        s = alpha / A.shape[1]
        return dX, s * X.T @ dY @ B, dB

    EX3_BUG = [(n, f) for n, f in list(locals().items()) if n.startswith("h_")]

    # ---- ex4: the data-weighted best rank-r update
    def _trunc(M, k):
        U, S, Vt = np.linalg.svd(M, full_matrices=False)
        return (U[:, :k] * S[:k]) @ Vt[:k]

    def q_svd(X, delta, r):
        _, S, Vt = np.linalg.svd(X, full_matrices=False)
        return np.linalg.inv(S[:, None] * Vt) @ _trunc(S[:, None] * Vt @ delta, r)

    def q_pinv(X, delta, r):
        return np.linalg.pinv(X) @ _trunc(X @ delta, r)

    def q_lstsq(X, delta, r):
        return np.linalg.lstsq(X, _trunc(X @ delta, r), rcond=None)[0]

    def q_qr(X, delta, r):
        _, R = np.linalg.qr(X)
        return np.linalg.solve(R, _trunc(R @ delta, r))

    def q_loop(X, delta, r):
        _, S, Vt = np.linalg.svd(X, full_matrices=False)
        U2, S2, Vt2 = np.linalg.svd(np.diag(S) @ Vt @ delta)
        Zr = sum(S2[i] * np.outer(U2[:, i], Vt2[i]) for i in range(r))
        return Vt.T @ np.diag(1 / S) @ Zr

    EX4_OK = [(n, f) for n, f in list(locals().items()) if n.startswith("q_")]

    def p_plain(X, delta, r):
        return _trunc(delta, r)

    def p_gram(X, delta, r):
        G = X.T @ X
        return np.linalg.solve(G, _trunc(G @ delta, r))

    def p_rank_plus(X, delta, r):
        return np.linalg.pinv(X) @ _trunc(X @ delta, r + 1)

    def p_no_back(X, delta, r):
        _, S, Vt = np.linalg.svd(X, full_matrices=False)
        return _trunc(S[:, None] * Vt @ delta, r)

    def p_fit_X(X, delta, r):  # the truncated product X delta, returned as is: wrong shape
        return _trunc(X @ delta, r)

    EX4_BUG = [(n, f) for n, f in list(locals().items()) if n.startswith("p_")]

    # ---- ex5
    EX5_OK = [
        ("B", "B"),
        ("B.", "B "),
        ("b", "b"),
        ("space", " B "),
        ("quoted", "'B'"),
        ("backtick", "`B`"),
    ]
    EX5_BUG = [
        ("A", "A"),
        ("both", "both"),
        ("a", "a"),
        ("Both", "Both"),
        ("neither", "neither"),
        ("AB", "A and B"),
    ]
    return {k: v for k, v in locals().items() if k.startswith("EX")}


GENERIC = [
    r"has the right shape .* but different values",
    r"which is not right",
    r"has shape \(",
    r"is a single number, but",
    r"contains NaN or inf",
    r"is not the right choice",
    r"raised \w+Error",
    r"is not one of",
    r"but it should be",
]
# buggy answers that are rejected with the generic message only: not classic bugs (or a crash in the first case)
UNNAMED = {
    ("svd-most-stretched", "unit col"),
    ("svd-symmetric-singular-values", "t_max"),
    ("svd-most-amplified-input", "n_col0"),
    ("svd-smallest-gain-predict", "middle"),
    ("low-rank-rank-k-bug", "b_Urows"),
    ("lora-merge-bug", "n_elem"),
    ("lora-best-update", "p_fit_X"),
    ("lora-backward", "h_dA_noT"),
}


def _named(message: str) -> bool:
    if "shape reversed" in message or "return a number" in message or "hard-coded" in message:
        return True
    return not any(re.search(g, message) for g in GENERIC)


def _params(module, answers: dict[str, list], kind: str) -> list:
    out = []
    for i in range(1, 6):
        if f"EX{i}_{kind}" not in answers:  # an exercise that was replaced
            continue
        ex = getattr(module, f"ex{i}")
        for name, answer in answers[f"EX{i}_{kind}"]:
            out.append(pytest.param(ex, name, answer, id=f"{ex.label}-{name}"))
    return out


_ALL = [(SV, _svd_answers()), (LR, _low_rank_answers()), (LO, _lora_answers())]
_CORRECT = [p for m, a in _ALL for p in _params(m, a, "OK")]
_BUGGY = [p for m, a in _ALL for p in _params(m, a, "BUG")]


@pytest.mark.parametrize(("ex", "name", "answer"), _CORRECT)
def test_correct_answer_accepted(ex, name, answer):
    result = ex.check(answer)
    assert result.ok, result


@pytest.mark.parametrize(("ex", "name", "answer"), _BUGGY)
def test_buggy_answer_rejected_and_named(ex, name, answer):
    state = np.random.get_state()  # noqa: NPY002 (a buggy answer draws from the global state)
    try:
        result = ex.check(answer)
    finally:
        np.random.set_state(state)  # noqa: NPY002
    assert result.status == "incorrect", result
    if (ex.label, name) not in UNNAMED:
        assert _named(result.message), result


def test_named_share_is_at_least_90_percent():
    assert len(_BUGGY) - len(UNNAMED) >= 0.9 * len(_BUGGY)
    assert all(
        len(a[f"EX{i}_OK"]) >= 5 and len(a[f"EX{i}_BUG"]) >= 5 for _, a in _ALL for i in range(1, 6) if f"EX{i}_OK" in a
    )


def _power(M, iterations):
    x = np.ones(M.shape[0])
    for _ in range(iterations):
        x = M @ x
        x /= np.linalg.norm(x)
    return x


def _qr_init(D_in, D_out, r, rng):
    Q, _ = np.linalg.qr(rng.standard_normal((D_in, r)))  # orthonormal columns: random and full rank
    return Q, np.zeros((r, D_out))


def _merge_out(W0, A, B, alpha):
    W = np.empty_like(W0)
    np.add(W0, alpha / A.shape[1] * (A @ B), out=W)
    return W


_V1 = np.linalg.svd(A_STRETCH)[2][0]
_MORE_CORRECT = [
    (SV.ex1, lambda U, S, Vt: np.asmatrix(U) * np.asmatrix(np.diag(S)) * np.asmatrix(Vt)),
    (SV.ex1, lambda U, S, Vt: np.dot(U * S, Vt)),
    (SV.ex2, _power(A_STRETCH.T @ A_STRETCH, 20)),
    (SV.ex2, np.round(_V1, 3)),  # copied from a print-out
    (SV.ex2, -np.round(_V1, 4)),
    (LR.choose_k, lambda S, t: min(k for k in range(len(S) + 1)
                                   if np.sum(np.square(S[k:])) <= t**2 * np.sum(np.square(S)))),
    (LR.choose_k, lambda S, t: len(S) - int(np.sum(np.sqrt(np.cumsum(np.asarray(S)[::-1] ** 2)) <= t * np.linalg.norm(S)))),
    (LR.init_gain, (256 / 1024) ** 0.5),
    (LO.ex1, _qr_init),
    (LO.ex1, lambda D_in, D_out, r, rng: (rng.standard_normal((D_in, r)) * np.sqrt(2 / D_in), np.zeros((r, D_out)))),
    (LO.ex1, lambda D_in, D_out, r, rng: (rng.standard_normal((D_in, r)).astype(np.float32),
                                          np.zeros((r, D_out), dtype=int))),
    (LO.ex1, lambda D_in, D_out, r, rng: (rng.standard_normal((D_in, r)).tolist(), [[0.0] * D_out] * r)),
    (LO.ex2, _merge_out),
    (LO.ex5, "only B"),
    (LO.ex5, "B only"),
    (LO.ex5, "B."),
]


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix, as a learner may still use it
@pytest.mark.parametrize(("ex", "answer"), _MORE_CORRECT)
def test_more_correct_answers_accepted(ex, answer):
    result = ex.check(answer)
    assert result.ok, result


def test_svd_ex2_rounded_too_far_is_rejected():
    assert SV.ex2.check(np.round(_V1, 2)).status == "incorrect"
