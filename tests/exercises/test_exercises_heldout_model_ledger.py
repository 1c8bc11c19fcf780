"""A held-out set of learner answers for the two new checkers of `model-ledger`: the calculator's bugs
(Qwen3-4B's KV cache) and the hybrid-attention cache (Gemma-3-1B), written apart from their unit tests.

Every correct answer must be accepted and every buggy one rejected with its mistake named.
"""

import numpy as np
import pytest

from lib.exercises import model_ledger as ML

# ============================================================ model-ledger calculator-kv (ex5)
_QCFG = {"hidden_size": 2560, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128,
         "num_hidden_layers": 36}


def _fixed_calculator(config, T):
    head_dim = config.get("head_dim", config["hidden_size"] // config["num_attention_heads"])
    return 2 * config["num_hidden_layers"] * config["num_key_value_heads"] * head_dim * T * 2 / 10**9


_Q = _fixed_calculator(_QCFG, 32768)
ML5_OK = [_Q, round(_Q, 2), round(_Q, 3), np.float32(_Q), np.float64(_Q), 147_456 * 32_768 / 1e9,
          36 * 8 * 128 * 4 * 32768 * 1e-9]
ML5_BAD = {
    "as shipped": 2 * 36 * 8 * 80 * 32768 * 2 / 1024**3,
    "unit only": 2 * 36 * 8 * 80 * 32768 * 2 / 1e9,
    "head_dim only": 2 * 36 * 8 * 128 * 32768 * 2 / 1024**3,
    "query heads": 2 * 36 * 32 * 128 * 32768 * 2 / 1e9,
    "no K and V": 36 * 8 * 128 * 32768 * 2 / 1e9,
    "32k as 32000": 2 * 36 * 8 * 128 * 32000 * 2 / 1e9,
    "fp32": 2 * 36 * 8 * 128 * 32768 * 4 / 1e9,
    "in MB": _Q * 1000,
    "in bytes": _Q * 1e9,
    "per token": 147_456 / 1e9,
}

# ============================================================ model-ledger hybrid-cache (ex6)
_per_layer_token = 2 * 1 * 256 * 2
_G = sum((32768 if (i + 1) % 6 == 0 else 512) for i in range(26)) * _per_layer_token / 1e6
ML6_OK = [_G, round(_G, 1), round(_G, 2), np.float32(_G), (4 * 32768 + 22 * 512) * 1024 * 1e-6]
ML6_BAD = {
    "all global": 26 * 32768 * _per_layer_token / 1e6,
    "all local": 26 * 512 * _per_layer_token / 1e6,
    "one in five": (5 * 32768 + 21 * 512) * _per_layer_token / 1e6,
    "no factor 2": _G / 2,
    "globals only": 4 * 32768 * _per_layer_token / 1e6,
    "MiB": _G * 1e6 / 2**20,
    "GB": _G / 1000,
    "bytes": _G * 1e6,
}


KW = {
 "model-ledger-calculator-kv": {"as shipped": "calculator's own answer", "unit only": "head_dim = 128",
   "head_dim only": "in GiB", "query heads": "query heads", "no K and V": "factor 2", "32k as 32000": "32,768",
   "fp32": "2 bytes", "in MB": "in MB", "in bytes": "in bytes", "per token": "not right"},
 "model-ledger-hybrid-cache": {"all global": "every layer as global", "all local": "512-token window",
   "one in five": "one in six", "no factor 2": "factor 2", "globals only": "global layers only", "MiB": "in MiB",
   "GB": "in GB", "bytes": "in bytes"},
}
_SETS = {"model-ledger-calculator-kv": (ML.ex5, ML5_OK, ML5_BAD), "model-ledger-hybrid-cache": (ML.ex6, ML6_OK, ML6_BAD)}
_GENERIC = ("which is not right", "different values")


@pytest.mark.parametrize("label, i", [(label, i) for label, (_, ok, _) in _SETS.items() for i in range(len(ok))])
def test_correct_answers_accepted(label, i):
    ex, ok, _ = _SETS[label]
    result = ex.check(ok[i])
    assert result.ok, (label, i, result)


@pytest.mark.parametrize("label, bug", [(label, bug) for label, (_, _, bad) in _SETS.items() for bug in bad])
def test_buggy_answers_rejected_and_named(label, bug):
    ex, _, bad = _SETS[label]
    result = ex.check(bad[bug])
    assert result.status == "incorrect", (label, bug, result)
    assert KW[label][bug] in result.message, (label, bug, result)


@pytest.mark.parametrize("label", list(_SETS))
def test_at_least_90_percent_named(label):
    ex, _, bad = _SETS[label]
    named = sum(not any(g in ex.check(a).message for g in _GENERIC) for a in bad.values())
    assert named >= 0.9 * len(bad), (label, named, len(bad))
