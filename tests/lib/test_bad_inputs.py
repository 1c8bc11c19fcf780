"""The bad-input matrix: every public function of lib's math modules, fed every kind of bad argument.

Each entry of CALLS is one valid call. From it the matrix derives the bad calls: for every argument,
by the kind of its valid value, None, a string, an empty array, a wrong rank, a wrong size on the
first and last axis, a transpose, object / complex / string dtypes, NaN and inf, zero and negative
sizes, floats for integers, ... A bad call must either work (a Python list instead of an array
must give the same result) or raise a ValueError/TypeError that

- is raised by lib's own code (the innermost frame is in lib/, not deep inside NumPy), and
- starts with the function's name and names the bad argument.

Calls that must never work (None, a string, an empty array, an object dtype, ...) are asserted to
raise. `test_matrix_covers_every_public_function` fails when a new public function is not listed.
"""

from __future__ import annotations

import importlib
import inspect
import pathlib
import pkgutil
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lib
from lib import (
    attention,
    data,
    gradcheck,
    ledger,
    linear,
    lora,
    measure,
    nn,
    sizing,
    svd,
    train,
    transformer,
    vectors,
)

# every math module of lib, discovered: a new module cannot be left outside the matrix by mistake
# (widgets draws, demos and exercises are packages with their own tests)
MODULES = [importlib.import_module(f"lib.{m.name}") for m in pkgutil.iter_modules(lib.__path__)
           if not m.ispkg and m.name != "widgets"]
# Bad values whose error may be reported on another argument: a size that disagrees between two
# arguments can be blamed on either (check_shapes names the one it meets second).
SHAPE_LABELS = {"an extra leading axis", "a missing axis", "first axis + 1", "last axis + 1", "transposed"}
LIB_DIR = pathlib.Path(linear.__file__).resolve().parent

_r = np.random.default_rng(0)


def _a(*shape: int) -> np.ndarray:
    return _r.normal(size=shape)


CFG = transformer.Config(vocab_size=27, d=8, n_heads=2, d_ff=16, n_layers=1, block_size=8, norm="rms", mlp="relu")
PARAMS = transformer.init_params(CFG, seed=0)
LAYERS = nn.init_mlp([2, 4, 3], np.random.default_rng(0))
_, ATT_CACHE = attention.attention_forward(_a(2, 3, 4), _a(2, 3, 4), _a(2, 3, 4))
_, SELF_CACHE = attention.self_attention_forward(_a(2, 3, 4), _a(4, 4), _a(4, 4), _a(4, 4))
_P = _a(3, 2)
MCFG = sizing.preset("gpt2-small")
GCFG = transformer.Config(vocab_size=11, d=8, n_heads=2, n_layers=1, d_ff=12, block_size=6)
GPARAMS = transformer.init_params(GCFG, seed=0)
GLORA = lora.init_model_lora(GPARAMS, 2, ("Wq",), seed=0)
_, LN_CACHE = nn.layer_norm(_a(3, 4), _a(4), _a(4))
_TOK = np.array([[1, 2, 10, 3]])
_TGT = np.array([[-1, -1, 3, 2]])
_DIG = np.array([[1, 2, 3], [4, 5, 6]])


def _loss() -> float:
    return float((_P**2).sum())


@dataclass
class Call:
    fn: Callable
    kwargs: dict
    # arguments left out of the matrix (e.g. flags), with the reason
    skip: tuple[str, ...] = ()
    # functions whose job includes non-finite inputs (softmax takes -inf from masks)
    allows_nonfinite: tuple[str, ...] = ()


def _ledger_add(title: str, spec: str) -> object:
    return ledger.Ledger("t", B=2, D=3).add(title, spec, "meaning")


def _train(X: object, Y: object, cfg: object, steps: object, batch: object) -> object:
    """train.train on fresh parameters: it trains them in place, so a shared dict would change between calls."""
    return train.train(transformer.init_params(GCFG, seed=0), X, Y, cfg, steps=steps, batch=batch)


def _bench_check(backward: object) -> object:
    return gradcheck.LinearBench.random(3, 2, 2, np.random.default_rng(0)).check(backward)


CALLS: list[Call] = [
    # linear
    Call(linear.linear_forward, dict(X=_a(4, 3), W=_a(3, 2), b=_a(2))),
    Call(linear.linear_backward, dict(X=_a(4, 3), W=_a(3, 2), dY=_a(4, 2))),
    Call(linear.matvec, dict(W=_a(2, 3), x=_a(3))),
    Call(linear.from_torch_layout, dict(weight=_a(2, 3))),
    Call(linear.init_linear, dict(D_in=3, D_out=2, rng=np.random.default_rng(0))),
    # vectors
    Call(vectors.dot, dict(u=_a(3), v=_a(3))),
    Call(vectors.norm, dict(u=_a(3))),
    Call(vectors.cosine, dict(u=_a(3), v=_a(3))),
    Call(vectors.project, dict(u=_a(3), v=_a(3))),
    Call(vectors.unit, dict(angle=0.3)),
    Call(vectors.cosine_matrix, dict(E=_a(4, 3))),
    Call(vectors.random_pair_cosines, dict(d=3, n_pairs=4, rng=np.random.default_rng(0))),
    # ledger
    Call(ledger.bytes_per_element, dict(dtype="fp16")),
    Call(ledger.matmul_flops, dict(m=4, k=3, n=2)),
    Call(ledger.linear_params, dict(D_in=3, D_out=2)),
    Call(ledger.Ledger, dict(title="t", dtype="fp32", B=2, D=3)),
    Call(_ledger_add, dict(title="X", spec="B D")),
    Call(ledger.linear_ledger, dict(B=32, D_in=128, D_out=64, dtype="fp32")),
    Call(ledger.param_bytes, dict(D_in=3, D_out=2, dtype="fp32")),
    Call(ledger.linear_flops, dict(B=4, D_in=3, D_out=2)),
    Call(ledger.linear_traffic_elements, dict(B=4, D_in=3, D_out=2)),
    Call(ledger.linear_traffic_bytes, dict(B=4, D_in=3, D_out=2, dtype="fp32")),
    Call(ledger.arithmetic_intensity, dict(flops=100.0, bytes_moved=10.0)),
    Call(ledger.roofline, dict(intensity=np.array([0.5, 4.0]), peak_gflops=100.0, bandwidth_gbs=10.0)),
    Call(ledger.ridge_intensity, dict(peak_gflops=100.0, bandwidth_gbs=10.0)),
    Call(ledger.human_bytes, dict(n=2048.0)),
    Call(ledger.linear_costs, dict(B=4, D_in=3, D_out=2, dtype="fp32", T=2)),
    Call(ledger.roofline_time, dict(flops=1e9, bytes_moved=1e6, peak_gflops=100.0, bandwidth_gbs=10.0)),
    Call(ledger.ridge_batch, dict(D_in=64, D_out=32, peak_gflops=100.0, bandwidth_gbs=10.0, dtype="bf16"),
         skip=("bias",)),
    # gradcheck
    Call(gradcheck.numerical_gradient, dict(loss=_loss, param=_P)),
    Call(gradcheck.relative_error, dict(analytic=_a(3, 2), numeric=_a(3, 2)), allows_nonfinite=("numeric",)),
    Call(gradcheck.check_gradients, dict(loss=_loss, params={"P": _P}, grads={"P": 2 * _P})),
    Call(gradcheck.eps_sweep, dict(loss=_loss, params={"P": _P}, grads={"P": 2 * _P}, eps_values=[1e-3, 1e-5])),
    Call(gradcheck.LinearBench, dict(X=_a(3, 2), W=_a(2, 2), b=_a(2), G=_a(3, 2))),
    Call(_bench_check, dict(backward="correct")),
    # measure (small sizes: the matrix times nothing, it only checks arguments)
    Call(measure.time_call, dict(fn=lambda: None, repeats=1, min_time=0.0)),
    Call(measure.gflops, dict(flops=1e9, seconds=0.5)),
    Call(measure.time_linear, dict(B=2, D_in=3, D_out=2, dtype="fp32", repeats=1, min_time=0.0)),
    Call(measure.sweep_linear, dict(shapes=[(2, 3, 2)], repeats=1, min_time=0.0)),
    Call(measure.peak_gflops, dict(n=8, dtype="fp32", repeats=1)),
    Call(measure.bandwidth_gbs, dict(n_bytes=4096, repeats=1)),
    Call(measure.read_bandwidth_gbs, dict(n_bytes=4096, threads=2, repeats=1)),
    Call(measure.usable_cores, dict()),
    Call(measure.last_level_cache_bytes, dict()),
    Call(measure.machine_info, dict()),
    # nn
    Call(nn.relu, dict(Z=_a(4, 3))),
    Call(nn.relu_backward, dict(Z=_a(4, 3), dA=_a(4, 3))),
    Call(nn.softmax, dict(Z=_a(4, 3)), allows_nonfinite=("Z",)),
    Call(nn.log_softmax, dict(Z=_a(4, 3))),
    Call(nn.mse, dict(Y_hat=_a(4, 3), Y=_a(4, 3))),
    Call(nn.mse_backward, dict(Y_hat=_a(4, 3), Y=_a(4, 3))),
    Call(nn.mse_and_grad, dict(Y_hat=_a(4, 3), Y=_a(4, 3))),
    Call(nn.one_hot, dict(labels=np.array([0, 2, 1]), V=3)),
    Call(nn.cross_entropy, dict(logits=_a(4, 3), labels=np.array([0, 2, 1, 1]))),
    Call(nn.cross_entropy_backward, dict(logits=_a(4, 3), labels=np.array([0, 2, 1, 1]))),
    Call(nn.collapse_linear, dict(layers=[(_a(2, 3), _a(3)), (_a(3, 2), _a(2))])),
    Call(nn.init_mlp, dict(sizes=[2, 4, 3], rng=np.random.default_rng(0))),
    Call(nn.mlp_forward, dict(X=_a(5, 2), layers=LAYERS)),
    Call(nn.mlp_backward, dict(dlogits=_a(5, 3), layers=LAYERS, cache=nn.mlp_forward(_a(5, 2), LAYERS)[1])),
    Call(nn.mlp_loss_and_grads, dict(X=_a(5, 2), labels=np.array([0, 1, 2, 0, 1]), layers=LAYERS)),
    Call(nn.train_mlp, dict(X=_a(6, 2), labels=np.array([0, 1, 2, 0, 1, 2]), sizes=[2, 4, 3], steps=2, lr=0.1)),
    Call(nn.predict_proba, dict(X=_a(5, 2), layers=LAYERS)),
    Call(data.make_spirals, dict(n_per_class=5, rng=np.random.default_rng(0))),
    Call(nn.plane_grid, dict(extent=(-1.0, 1.0, -1.0, 1.0), n=4)),
    Call(nn.activation_patterns, dict(X=_a(5, 2), layers=LAYERS)),
    Call(nn.region_ids, dict(X=_a(5, 2), layers=LAYERS)),
    Call(nn.count_linear_regions, dict(layers=LAYERS, extent=(-1.0, 1.0, -1.0, 1.0), n=10)),
    Call(nn.max_regions_one_layer, dict(n_units=5, d_in=2)),
    Call(nn.sawtooth_network, dict(depth=3)),
    Call(nn.count_params, dict(layers=LAYERS)),
    # svd
    Call(svd.rotation, dict(angle=0.5)),
    Call(svd.matrix_from_svd, dict(angle_v=0.1, s1=2.0, s2=0.5, angle_u=0.3)),
    Call(svd.unit_circle, dict(n_points=8)),
    Call(svd.ellipse_points, dict(A=_a(2, 2), n_points=8)),
    Call(svd.svd_stages, dict(A=_a(2, 2), P=_a(2, 5))),
    Call(svd.reconstruct, dict(U=_a(4, 2), S=np.array([2.0, 1.0]), Vt=_a(2, 3))),
    Call(svd.rank_k_approx, dict(A=_a(4, 3), k=2)),
    Call(svd.approx_errors, dict(A=_a(4, 3), k=2)),
    Call(svd.tail_errors, dict(S=np.array([3.0, 2.0, 1.0]), k=1)),
    Call(svd.energy_kept, dict(S=np.array([3.0, 2.0, 1.0]), k=1)),
    Call(svd.energy_rank, dict(S=np.array([3.0, 2.0, 1.0]), fraction=0.9)),
    Call(svd.full_params, dict(m=4, n=3)),
    Call(svd.factored_params, dict(m=4, n=3, k=2)),
    Call(svd.condition_number, dict(A=_a(3, 3))),
    Call(svd.deep_stack_norms, dict(scale=1.0, rng=np.random.default_rng(0), depth=3, width=4, batch=2)),
    Call(svd.product_singular_values, dict(scale=0.5, rng=np.random.default_rng(0), depth=3, width=4)),
    Call(svd.init_std, dict(rule="he", D_in=4, D_out=3)),
    Call(data.teacher_regression, dict(rng=np.random.default_rng(0), B=10, D_in=4, D_out=3, rank=2)),
    Call(svd.to_grayscale, dict(rgb=np.abs(_a(4, 5, 3)))),
    # attention
    Call(attention.causal_mask, dict(T_q=3, T_k=4)),
    Call(attention.attention_forward, dict(Q=_a(2, 3, 4), K=_a(2, 5, 4), V=_a(2, 5, 6))),
    Call(attention.attention_backward, dict(dY=_a(2, 3, 4), cache=ATT_CACHE)),
    Call(attention.self_attention_forward, dict(X=_a(2, 3, 4), Wq=_a(4, 2), Wk=_a(4, 2), Wv=_a(4, 5))),
    Call(attention.self_attention_backward, dict(dY=_a(2, 3, 4), cache=SELF_CACHE)),
    Call(attention.split_heads, dict(X=_a(2, 3, 8), n_heads=2)),
    Call(attention.merge_heads, dict(X=_a(2, 2, 3, 4))),
    Call(attention.multi_head_attention, dict(X=_a(2, 3, 8), Wq=_a(8, 8), Wk=_a(8, 8), Wv=_a(8, 8), Wo=_a(8, 8), n_heads=2)),
    Call(attention.score_variance, dict(d_k=4, n_samples=10, rng=np.random.default_rng(0))),
    Call(attention.max_weight, dict(d_k=4, T=5, rng=np.random.default_rng(0), scale=True, n_rows=4)),
    Call(attention.causal_average, dict(T=4)),
    Call(attention.softmax_backward, dict(A=_a(2, 3, 3), dA=_a(2, 3, 3))),
    Call(attention.repeat_kv, dict(K=_a(2, 2, 3, 4), n_rep=2)),
    Call(attention.rope_angles, dict(T=3, d_h=4, base=100.0, start=2)),
    Call(attention.apply_rope, dict(x=_a(2, 3, 4), start=1, base=100.0)),
    Call(attention.grouped_query_attention, dict(Q=_a(2, 4, 3, 5), K=_a(2, 2, 6, 5), V=_a(2, 2, 6, 7))),
    Call(attention.attention_flops, dict(T_q=3, T_k=5, d=8)),
    Call(attention.score_bytes, dict(batch=2, n_heads=4, T_q=3, T_k=5, bytes_per_element=2)),
    # transformer (one model; its variants by Config)
    Call(transformer.Config, dict(vocab_size=11, d=8, n_heads=2, n_layers=1, d_ff=12, block_size=6)),
    Call(transformer.param_shapes, dict(cfg=GCFG)),
    Call(transformer.init_params, dict(cfg=GCFG, seed=0)),
    Call(transformer.total_params, dict(params=GPARAMS)),
    Call(transformer.forward, dict(params=GPARAMS, tokens=_TOK, cfg=GCFG)),
    Call(transformer.loss, dict(params=GPARAMS, tokens=_TOK, targets=_TGT, cfg=GCFG)),
    Call(transformer.loss_and_grads, dict(params=GPARAMS, tokens=_TOK, targets=_TGT, cfg=GCFG)),
    Call(transformer.attention_maps, dict(params=GPARAMS, tokens=_TOK, cfg=GCFG)),
    Call(transformer.generate, dict(params=GPARAMS, prompt=_TOK, n_new=2, cfg=GCFG)),
    Call(transformer.block_forward, dict(x=_a(1, 3, 8), params=GPARAMS, cfg=GCFG, layer=0)),
    Call(transformer.block_source, dict()),
    Call(transformer.backward_source, dict()),
    Call(transformer.step_function, dict(params=PARAMS, cfg=CFG, t=3, cached=True)),
    Call(transformer.layer_flops, dict(cfg=CFG, T_q=1, T_k=4)),
    Call(transformer.step_flops, dict(cfg=CFG, t=3, cached=True)),
    # nn's transformer pieces
    Call(nn.layer_norm, dict(x=_a(3, 4), g=_a(4), b=_a(4))),
    Call(nn.rms_norm, dict(x=_a(3, 4), g=_a(4))),
    Call(nn.norm_backward, dict(dy=_a(3, 4), cache=LN_CACHE)),
    Call(nn.gelu, dict(x=_a(3, 4))),
    Call(nn.gelu_backward, dict(x=_a(3, 4), dy=_a(3, 4))),
    Call(nn.silu, dict(x=_a(3, 4))),
    Call(nn.sequence_loss, dict(logits=_a(1, 4, 11), targets=_TGT)),
    # data
    Call(data.encode, dict(text="hello")),
    Call(data.decode, dict(tokens=np.array([8, 5]))),
    Call(data.name_of, dict(tokens=np.array([0, 5, 0, 7]))),
    Call(data.digit_task, dict(kind="reverse", n_examples=5, n_digits=3, seed=0)),
    Call(data.to_sequences, dict(X=_DIG, Y=_DIG[:, ::-1].copy())),
    # train
    Call(train.solve, dict(params=GPARAMS, X=_DIG, cfg=GCFG)),
    Call(train.accuracy, dict(params=GPARAMS, X=_DIG, Y=_DIG[:, ::-1].copy(), cfg=GCFG)),
    Call(train.adam_update, dict(p=_a(3, 2), g=_a(3, 2), m=_a(3, 2), v=np.abs(_a(3, 2)), t=2, lr=0.01)),
    Call(_train, dict(X=_DIG, Y=_DIG[:, ::-1].copy(), cfg=GCFG, steps=2, batch=2)),
    # lora
    Call(lora.lora_scale, dict(alpha=8.0, r=4)),
    Call(lora.init_lora, dict(D_in=8, D_out=6, r=2, rng=np.random.default_rng(0))),
    Call(lora.lora_forward, dict(X=_a(5, 8), W0=_a(8, 6), A=_a(8, 2), B=_a(2, 6), alpha=4.0)),
    Call(lora.lora_backward, dict(X=_a(5, 8), W0=_a(8, 6), A=_a(8, 2), B=_a(2, 6), alpha=4.0, dY=_a(5, 6))),
    Call(lora.merge_lora, dict(W0=_a(8, 6), A=_a(8, 2), B=_a(2, 6), alpha=4.0)),
    Call(lora.init_model_lora, dict(params=GPARAMS, r=2, targets=("Wq", "Wk"), seed=0)),
    Call(lora.merge_model_lora, dict(params=GPARAMS, lora=GLORA, alpha=2.0)),
    Call(lora.best_update, dict(X=_a(10, 6), delta=_a(6, 5), r=2)),
    Call(data.lowrank_finetune_task, dict(rng=np.random.default_rng(0), d=6, N=10, true_rank=2)),
    Call(lora.train_full, dict(X=_a(10, 6), Y=_a(10, 6), W0=_a(6, 6), steps=2)),
    Call(lora.train_lora, dict(X=_a(10, 6), Y=_a(10, 6), W0=_a(6, 6), r=2, rng=np.random.default_rng(0), steps=2)),
    # sizing (the whole-model ledger): formulas on plain integers, then config-level helpers
    Call(sizing.kv_bytes, dict(n_layers=2, n_kv_heads=2, head_dim=4, T=5, B=1, bytes_per_element=2)),
    Call(sizing.token_flops, dict(d=8, d_ff=32, t=5, d_kv=4, mlp_matrices=3)),
    Call(sizing.crossover_vs_weights, dict(d=8, d_ff=32, d_kv=4, mlp_matrices=3)),
    Call(sizing.decode_step, dict(n_params=100, n_layers=2, d=8, d_kv=4, t=5, batch=2, bytes_per_element=2)),
    Call(sizing.lora_layer_params, dict(D_in=8, D_out=6, r=2)),
    Call(sizing.training_flops, dict(params=1e6, tokens=1e9)),
    Call(sizing.training_state_bytes, dict(n_total=100, n_trained=10)),
    Call(sizing.training_memory, dict(params=1000, activation_bytes=64, dtype="bf16", optimizer="adam")),
    Call(sizing.active_params, dict(cfg=MCFG)),
    Call(sizing.prefill_flops, dict(cfg=MCFG, T=8)),
    Call(sizing.from_hf_config, dict(config=sizing.shipped_config("gpt2"), name="gpt2")),
    Call(sizing.shipped_config, dict(name="gpt2")),
    Call(sizing.decode_time, dict(cfg=MCFG, T=8, B=2, accelerator="H100-SXM", dtype="bf16")),
    Call(sizing.compute_time, dict(flops=1e18, accelerator="A100-80GB", mfu=0.4, n_devices=8)),
    Call(sizing.implied_mfu, dict(flops=1e21, device_hours=100.0, accelerator="A100-80GB")),
    Call(sizing.ModelConfig, dict(name="m", vocab=27, d=16, n_layers=1, n_heads=4, d_ff=64)),
    Call(sizing.preset, dict(name="gpt2-small")),
    Call(sizing.projection_shapes, dict(cfg=MCFG)),
    Call(sizing.block_params, dict(cfg=MCFG)),
    Call(sizing.param_counts, dict(cfg=MCFG)),
    Call(sizing.n_params, dict(cfg=MCFG)),
    Call(sizing.weight_bytes, dict(cfg=MCFG, dtype="bf16")),
    Call(sizing.model_ledger, dict(cfg=MCFG, T=4, B=2, dtype="bf16")),
    Call(sizing.forward_flops, dict(cfg=MCFG, T=8)),
    Call(sizing.crossover_vs_mlp, dict(cfg=MCFG)),
    Call(sizing.train_flops, dict(cfg=MCFG, tokens=64, T=8)),
    Call(sizing.kv_cache_bytes, dict(cfg=MCFG, T=8, B=2, dtype="bf16")),
    Call(sizing.activation_bytes, dict(cfg=MCFG, B=2, T=8, dtype="bf16")),
    Call(sizing.lora_params, dict(cfg=MCFG, r=2, targets=("q", "v"))),
    Call(sizing.train_memory, dict(cfg=MCFG, B=2, T=8, dtype="bf16")),
    Call(sizing.max_batch, dict(cfg=MCFG, T=8, memory_bytes=1e9, dtype="bf16")),
    Call(sizing.inference_bytes, dict(cfg=MCFG, T=8, B=2, dtype="bf16")),
    Call(sizing.with_changes, dict(cfg=MCFG)),
]

# Public functions and classes deliberately outside the matrix, with the reason.
NOT_IN_MATRIX = {
    "check_shapes": "a validator: its arguments are (array, spec) pairs; tests/lib/test_shapes.py covers its messages",
    "as_array": "a validator the matrix relies on; tests/lib/test_shapes.py has its own bad-input table",
    "as_positive_int": "a validator; tests/lib/test_shapes.py has its own bad-input table",
    "positive_ints": "a validator; tests/lib/test_shapes.py",
    "as_number": "a validator; tests/lib/test_shapes.py",
    "as_rng": "a validator; tests/lib/test_shapes.py",
    "as_seed": "a validator; tests/lib/test_shapes.py",
    "count_flops": "a context manager with no arguments",
    "shipped_configs": "takes no arguments (it lists lib/configs)",
    "TrainingMemory": "a frozen record built by training_memory, which validates its inputs",
    "Row": "a record made by Ledger.add",
    "GradCheck": "a record made by check_gradients",
    "GradReport": "a record made by check_gradients",
    "LinearCosts": "a record made by linear_costs",
    "Cache": "a record made by mlp_forward",
    "TrainRun": "a record made by train_mlp",
    "Task": "a record made by data.lowrank_finetune_task",
    "train": "train.train trains its params in place; the matrix calls it through _train with fresh parameters",
    "one_blas_thread": "a context manager with no arguments",
}


# ---------------------------------------------------------------- deriving the bad calls
MUST_FAIL = "must fail"
MAY_WORK = "may work"


def _bad_arrays(x: np.ndarray) -> dict[str, tuple[object, str]]:
    bad = {
        "None": (None, MUST_FAIL),
        "a string": ("abc", MUST_FAIL),
        "an empty array": (np.zeros((0,) + x.shape[1:]), MUST_FAIL),
        "object dtype": (x.astype(object), MUST_FAIL),
        "complex dtype": (x.astype(complex), MUST_FAIL),
        "string dtype": (x.astype(str), MUST_FAIL),
        "an extra leading axis": (x[None], MAY_WORK),
        "a missing axis": (x[0], MAY_WORK) if x.ndim else (np.ones(2), MAY_WORK),
        "first axis + 1": (np.concatenate([x, x[:1]]), MAY_WORK) if x.ndim else (x, MAY_WORK),
        "last axis + 1": (np.concatenate([x, x[..., :1]], axis=-1), MAY_WORK) if x.ndim else (x, MAY_WORK),
        "transposed": (x.T, MAY_WORK),
    }
    if x.dtype.kind == "f":
        nan, inf = x.copy(), x.copy()
        nan.flat[-1], inf.flat[0] = np.nan, -np.inf
        bad["NaN"], bad["inf"] = (nan, MUST_FAIL), (inf, MUST_FAIL)
    return bad


def _bad_values(value: object) -> dict[str, tuple[object, str]]:
    """Bad replacements for one valid argument value, with whether the call must fail."""
    if isinstance(value, np.ndarray):
        return _bad_arrays(value)
    if isinstance(value, bool):
        return {}
    if isinstance(value, int):
        return {"zero": (0, MAY_WORK), "negative": (-2, MUST_FAIL), "a float": (2.5, MUST_FAIL),
                "a string": ("3", MUST_FAIL), "None": (None, MAY_WORK), "True": (True, MAY_WORK)}
    if isinstance(value, float):
        return {"NaN": (float("nan"), MUST_FAIL), "inf": (float("inf"), MAY_WORK), "a string": ("1.5", MUST_FAIL),
                "None": (None, MUST_FAIL), "negative": (-value, MAY_WORK)}
    if isinstance(value, str):  # titles accept anything printable; dtype names must be known
        return {"None": (None, MAY_WORK), "a number": (3, MAY_WORK), "an unknown string": ("fp13", MAY_WORK)}
    if isinstance(value, dict):
        return {"None": (None, MUST_FAIL), "a string": ("abc", MUST_FAIL), "an empty dict": ({}, MUST_FAIL)}
    if isinstance(value, (list, tuple)):
        return {"None": (None, MUST_FAIL), "a string": ("abc", MUST_FAIL), "empty": (type(value)(), MAY_WORK),
                "nested wrongly": ([value], MAY_WORK)}
    if isinstance(value, np.random.Generator):
        return {"a string": ("rng", MUST_FAIL), "a list": ([1, 2], MUST_FAIL)}
    if callable(value):
        return {"None": (None, MUST_FAIL), "a string": ("abc", MUST_FAIL), "a number": (3, MUST_FAIL)}
    if isinstance(value, (sizing.ModelConfig, transformer.Config)):
        return {"None": (None, MUST_FAIL), "a string": ("abc", MUST_FAIL), "a dict": (dict(d=8), MUST_FAIL)}
    if isinstance(value, nn.Cache):
        return {"None": (None, MUST_FAIL), "a string": ("abc", MUST_FAIL)}
    raise AssertionError(f"no bad values for {type(value).__name__}")


def _default_is_none(fn: Callable, arg: str) -> bool:
    param = inspect.signature(fn).parameters.get(arg)
    return param is not None and param.default is None


def _cases() -> list[tuple[str, Call, str, str, object, str]]:
    cases = []
    for call in CALLS:
        for arg, value in call.kwargs.items():
            if arg in call.skip:
                continue
            for label, (bad, rule) in _bad_values(value).items():
                if arg in call.allows_nonfinite and label in ("NaN", "inf"):
                    rule = MAY_WORK
                if label == "None" and _default_is_none(call.fn, arg):  # None means "not given"
                    rule = MAY_WORK
                cases.append((f"{call.fn.__name__}-{arg}-{label}", call, arg, label, bad, rule))
    return cases


CASES = _cases()


def _names_word(word: str, msg: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", msg) is not None


def _raised_in_lib(err: BaseException) -> bool:
    frames = traceback.extract_tb(err.__traceback__)
    return pathlib.Path(frames[-1].filename).resolve().is_relative_to(LIB_DIR)


def _names(fn: Callable) -> list[str]:
    """The names an error message may start with: the function's, or the class's for a method."""
    name = fn.__name__.lstrip("_")
    return [name, "Ledger", "LinearBench", "Ledger.add", "LinearBench.check"] if fn in (_ledger_add, _bench_check) else [name]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input(case):
    _, call, arg, label, bad, rule = case
    try:
        call.fn(**{**call.kwargs, arg: bad})
    except (ValueError, TypeError) as err:
        msg = str(err)
        assert _raised_in_lib(err), f"raised from outside lib ({traceback.extract_tb(err.__traceback__)[-1].filename}): {msg}"
        assert any(msg.startswith(n) for n in _names(call.fn)), f"message does not start with the function's name: {msg}"
        blamed = call.kwargs if label in SHAPE_LABELS else [arg]
        assert any(_names_word(a, msg) for a in blamed), f"message does not name the argument {arg!r}: {msg}"
        return
    except Exception as err:  # anything else is a crash
        pytest.fail(f"{type(err).__name__} instead of ValueError/TypeError: {err}")
    assert rule == MAY_WORK, f"{label} for {arg} was accepted silently"


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.allclose(a, b, equal_nan=True)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return np.isclose(a, b)
    return True  # objects (ledgers, reports): working is enough


LIST_CASES = [(call, arg) for call in CALLS for arg, v in call.kwargs.items()
              if isinstance(v, np.ndarray) and call.fn not in (gradcheck.numerical_gradient,)]


@pytest.mark.parametrize("call, arg", LIST_CASES, ids=[f"{c.fn.__name__}-{a}" for c, a in LIST_CASES])
def test_python_lists_work_like_arrays(call, arg):
    rng_free = {k: (np.random.default_rng(0) if isinstance(v, np.random.Generator) else v) for k, v in call.kwargs.items()}
    want = call.fn(**rng_free)
    rng_free = {k: (np.random.default_rng(0) if isinstance(v, np.random.Generator) else v) for k, v in call.kwargs.items()}
    got = call.fn(**{**rng_free, arg: call.kwargs[arg].tolist()})
    if call.fn in (measure.time_call, measure.time_linear, measure.sweep_linear):
        return
    assert _same(want, got)


def test_numerical_gradient_needs_the_real_array():
    with pytest.raises(TypeError, match="numerical_gradient: param must be a float ndarray"):
        gradcheck.numerical_gradient(_loss, _P.tolist())


def test_valid_calls_work():
    for call in CALLS:
        call.fn(**call.kwargs)


def test_matrix_covers_every_public_function():
    listed = {c.fn for c in CALLS}
    missing = []
    for mod in MODULES:
        for name, obj in vars(mod).items():
            public = not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
            if public and obj.__module__ == mod.__name__ and obj not in listed and name not in NOT_IN_MATRIX:
                missing.append(f"{mod.__name__}.{name}")
    assert not missing, f"add these to CALLS (or NOT_IN_MATRIX with a reason): {missing}"


def test_matrix_size():
    must = sum(1 for c in CASES if c[5] == MUST_FAIL)
    print(f"\nbad-input matrix: {len(CASES)} bad calls ({must} must fail) over {len(CALLS)} functions")
    assert len(CASES) > 1000 and must > 500


# ---------------------------------------------------------------- property-based shapes
dims = st.integers(1, 6)


@settings(max_examples=40, deadline=None)
@given(B=dims, D_in=dims, D_out=dims, axis=st.sampled_from(["X1", "W0", "W1", "b0", "dY0", "dY1"]), delta=st.integers(1, 3))
def test_linear_mismatch_names_expected_and_actual(B, D_in, D_out, axis, delta):
    shapes_ = {"X": [B, D_in], "W": [D_in, D_out], "b": [D_out], "dY": [B, D_out]}
    name, i = axis[:-1], int(axis[-1])
    shapes_[name][i] += delta
    X, W, b, dY = (np.ones(shapes_[k]) for k in ("X", "W", "b", "dY"))
    fn = (lambda: linear.linear_backward(X, W, dY)) if name == "dY" else (lambda: linear.linear_forward(X, W, b))
    with pytest.raises(ValueError) as info:
        fn()
    msg = str(info.value)
    # the size is bound by the first argument that has it and checked against the next one
    sharing = {"X1": "XW", "W0": "XW", "W1": "Wb", "b0": "Wb", "dY0": ["dY"], "dY1": ["dY"]}[axis]
    arrays = {"X": X, "W": W, "b": b, "dY": dY}
    assert any(msg.startswith(f"linear_{'backward' if name == 'dY' else 'forward'}: {n} should have shape")
               and f"got {arrays[n].shape}" in msg for n in sharing), msg


@settings(max_examples=40, deadline=None)
@given(B=dims, T=dims, S=dims, d_k=dims, d_v=dims)
def test_attention_shapes_property(B, T, S, d_k, d_v):
    Y, cache = attention.attention_forward(np.ones((B, T, d_k)), np.ones((B, S, d_k)), np.ones((B, S, d_v)))
    assert Y.shape == (B, T, d_v) and cache["A"].shape == (B, T, S)
    with pytest.raises(ValueError, match=rf"K should have shape \(B, T_k, d_k\) = \({B}, {S}, {d_k}\), got \({B}, {S}, {d_k + 1}\)"):
        attention.attention_forward(np.ones((B, T, d_k)), np.ones((B, S, d_k + 1)), np.ones((B, S, d_v)))


@settings(max_examples=40, deadline=None)
@given(N=dims, D_in=dims, D_out=dims, r=dims)
def test_lora_shapes_property(N, D_in, D_out, r):
    X, W0, A, B = np.ones((N, D_in)), np.ones((D_in, D_out)), np.ones((D_in, r)), np.ones((r, D_out))
    assert lora.lora_forward(X, W0, A, B, alpha=2.0).shape == (N, D_out)
    with pytest.raises(ValueError, match=r"B should have shape \(r, D_out\)"):
        lora.lora_forward(X, W0, A, B.T if r != D_out else np.ones((r + 1, D_out)), alpha=2.0)
