"""lib.ledger: every formula by the seeds' worked example, the Ledger class, bad inputs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import ledger
from lib.ledger import Ledger, linear_costs, linear_ledger
from lib.linear import linear_backward, linear_forward

# The seeds' worked example: B = 32, D_in = 128, D_out = 64, fp32.
B, D_IN, D_OUT = 32, 128, 64


# ---------------------------------------------------------------- formulas, by hand
def test_params_and_bytes_of_the_worked_example():
    assert ledger.linear_params(D_IN, D_OUT) == 8_256
    assert ledger.linear_params(D_IN, D_OUT, bias=False) == 8_192
    assert ledger.param_bytes(D_IN, D_OUT) == 33_024
    assert ledger.param_bytes(D_IN, D_OUT, "fp16") == 16_512
    assert ledger.param_bytes(D_IN, D_OUT, "bf16") == 16_512
    assert ledger.param_bytes(D_IN, D_OUT, "int8") == 8_256
    assert ledger.param_bytes(D_IN, D_OUT, "fp32", bias=False) == 32_768


def test_flops_of_the_worked_example():
    assert ledger.matmul_flops(B, D_IN, D_OUT) == 524_288
    assert ledger.linear_flops(B, D_IN, D_OUT) == 524_288
    assert ledger.linear_flops(B, D_IN, D_OUT, backward=True) == 1_572_864


def test_traffic_and_intensity_of_the_worked_example():
    # 32*128 + 128*64 + 64 + 32*64 = 4096 + 8192 + 64 + 2048
    assert ledger.linear_traffic_elements(B, D_IN, D_OUT) == 14_400
    assert ledger.linear_traffic_elements(B, D_IN, D_OUT, bias=False) == 14_336
    assert ledger.linear_traffic_bytes(B, D_IN, D_OUT) == 57_600
    assert ledger.linear_traffic_bytes(B, D_IN, D_OUT, "bf16") == 28_800
    assert ledger.arithmetic_intensity(524_288, 57_600) == pytest.approx(9.1022, abs=1e-4)


def test_linear_costs_reproduces_every_seed_number():
    c = linear_costs(B, D_IN, D_OUT)
    assert (c.params, c.param_bytes, c.forward_flops) == (8_256, 33_024, 524_288)
    assert (c.output_bytes, c.cached_input_bytes, c.train_flops) == (8_192, 16_384, 1_572_864)
    assert c.traffic_bytes == 57_600 and c.intensity == pytest.approx(524_288 / 57_600)
    assert c.rows == 32 and c.T == 1


def test_transformer_mlp_layer_and_a_batch_of_sequences():
    mlp = linear_costs(8, 4096, 11008, T=2048)
    assert mlp.params == 45_099_776  # ~45M
    assert mlp.param_bytes == 180_399_104  # ~180 MB in fp32
    assert mlp.rows == 16_384
    assert mlp.cached_input_bytes == 16_384 * 4096 * 4  # 268 MB
    assert mlp.output_bytes == 16_384 * 11008 * 4  # 721 MB
    assert mlp.forward_flops == 2 * 16_384 * 4096 * 11008
    assert linear_costs(8, 4096, 11008, "bf16", T=2048).param_bytes == 90_199_552


def test_seed_4096_square_layer():
    assert ledger.param_bytes(4096, 4096, bias=False) == 67_108_864  # ~67 MB
    # the seed's ~537 MB activation is B*T = 32,768 rows of 4096 fp32 values
    assert linear_costs(16, 4096, 4096, T=2048).output_bytes == 536_870_912


def test_roofline_and_ridge():
    assert ledger.ridge_intensity(100.0, 10.0) == 10.0
    assert ledger.roofline(1.0, 100.0, 10.0) == 10.0  # memory-bound: intensity * bandwidth
    assert ledger.roofline(1000.0, 100.0, 10.0) == 100.0  # compute-bound: the peak
    np.testing.assert_allclose(ledger.roofline(np.array([0.5, 10.0, 50.0]), 100.0, 10.0), [5.0, 100.0, 100.0])
    assert isinstance(ledger.roofline(2, 100, 10), float)


def test_human_bytes():
    assert ledger.human_bytes(33_024) == "33.0 kB"
    assert ledger.human_bytes(67_108_864) == "67.1 MB"
    assert ledger.human_bytes(536_870_912) == "536.9 MB"
    assert ledger.human_bytes(1.5e12) == "1.5 TB"
    assert ledger.human_bytes(12) == "12 B"
    assert ledger.human_bytes(0) == "0 B"


def test_bytes_per_element():
    assert [ledger.bytes_per_element(d) for d in ("fp64", "fp32", "FP16", "bf16", "int8", "float32")] == [8, 4, 2, 2, 1, 4]
    assert ledger.bytes_per_element(np.float16) == 2
    with pytest.raises(ValueError, match="unknown dtype 'fp8'"):
        ledger.bytes_per_element("fp8")
    with pytest.raises(TypeError, match="dtype must be a name"):
        ledger.bytes_per_element(3.5)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 512), st.integers(1, 512), st.integers(1, 512))
def test_properties(b, d_in, d_out):
    c = linear_costs(b, d_in, d_out)
    assert c.train_flops == 3 * c.forward_flops
    assert c.param_bytes == 4 * c.params
    assert linear_costs(b, d_in, d_out, "bf16").param_bytes * 2 == c.param_bytes
    assert c.forward_flops == ledger.matmul_flops(b, d_in, d_out)
    assert c.traffic_bytes >= c.param_bytes  # the weights must be read at least once
    # parameter memory does not depend on the batch; intensity never decreases with it
    assert linear_costs(b + 1, d_in, d_out).param_bytes == c.param_bytes
    assert linear_costs(b + 1, d_in, d_out).intensity >= c.intensity


# ---------------------------------------------------------------- the cost sheet's displays
def test_linear_costs_text_and_html():
    text = str(linear_costs(B, D_IN, D_OUT))
    for piece in ("8,256", "33,024", "524,288", "1,572,864", "16,384", "8,192", "9.10 FLOP/byte"):
        assert piece in text
    assert repr(linear_costs(B, D_IN, D_OUT)) == text
    page = linear_costs(8, 4096, 11008, T=2048)._repr_html_()
    assert page.startswith("<table") and "B*T = 16,384 rows" in page and "B*T*D_in" in page
    assert "45,099,776" in page and "180.4 MB" in page
    assert "D_in*D_out<" in linear_costs(2, 3, 4, bias=False)._repr_html_()


# ---------------------------------------------------------------- the Ledger class
def test_linear_ledger_shapes_and_totals():
    led = linear_ledger(B, D_IN, D_OUT)
    assert led.shape("X") == (32, 128) and led.shape("W") == (128, 64) and led.shape("b") == (64,)
    assert led.shape("dX") == (32, 128)
    assert led.total("parameter") == 8_256
    assert led.total("parameter", "bytes") == 33_024
    assert led.nbytes("Y") == 8_192 and led.nbytes("X") == 16_384
    assert led.total("gradient") == 2048 + 8192 + 64 + 4096
    assert linear_ledger(B, D_IN, D_OUT, "bf16").total("parameter", "bytes") == 16_512


def test_ledger_check_against_real_arrays(rng):
    X = rng.normal(size=(B, D_IN))
    W = rng.normal(size=(D_IN, D_OUT))
    b = rng.normal(size=D_OUT)
    Y = linear_forward(X, W, b)
    dX, dW, db = linear_backward(X, W, rng.normal(size=Y.shape))
    led = linear_ledger(B, D_IN, D_OUT, dtype="fp64")
    assert led.check(X=X, W=W, b=b, Y=Y, dX=dX, dW=dW, db=db) is led
    # the bytes column is checked too: a fp32 ledger does not describe float64 arrays
    with pytest.raises(ValueError, match=r"W should take 32,768 bytes \(fp32\), but the array takes 65,536 \(float64\)"):
        linear_ledger(B, D_IN, D_OUT).check(W=W)
    assert linear_ledger(B, D_IN, D_OUT).check(W=W.astype(np.float32))
    with pytest.raises(ValueError, match=r"W should be \(D_in, D_out\) = \(128, 64\), got \(64, 128\)"):
        led.check(W=W.T)
    with pytest.raises(KeyError, match="no row 'Z'"):
        led.check(Z=X)


def test_ledger_numeric_spec_and_chaining():
    led = Ledger("heads", h=4, d_k=16).add("Wq", "h 3 d_k", "query weights", "parameter")
    assert led.shape("Wq") == (4, 3, 16) and led.elements("Wq") == 192


def test_ledger_text_and_html_repr():
    led = linear_ledger(B, D_IN, D_OUT)
    text = repr(led)
    assert text.startswith("linear layer  [B=32, D_in=128, D_out=64; fp32]")
    assert "33,024" not in text and "32,768 B" in text  # W alone: 8,192 elements * 4 bytes
    page = led._repr_html_()
    assert page.count("<tr>") == 1 + 8 and "4 bytes per element" in page
    assert "&lt;" in Ledger("<b>", n=2).add("x<", "n", "a<b", "input")._repr_html_()


def test_ledger_text_columns_stay_aligned_with_long_names():
    led = Ledger("t", n=2).add("x", "n", "short", "input").add("dlogits_long", "n n", "long name", "gradient")
    rows = repr(led).splitlines()[1:]
    assert len({row.index(" el ") for row in rows}) == 1, rows  # the element column starts at one place


def test_ledger_bad_inputs():
    with pytest.raises(ValueError, match="kind must be one of"):
        Ledger(n=2).add("x", "n", "x", "weights")
    with pytest.raises(ValueError, match=r"uses \['m'\] but the ledger only knows \['n'\]"):
        Ledger(n=2).add("x", "n m", "x")
    with pytest.raises(ValueError, match="n must be a positive integer, got 0"):
        Ledger(n=0)
    with pytest.raises(TypeError, match="n must be a positive integer"):
        Ledger(n="3")
    with pytest.raises(ValueError, match="unknown dtype"):
        Ledger(dtype="fp12", n=2)
    with pytest.raises(KeyError, match="rows are"):
        Ledger(n=2).shape("x")
    led = Ledger(n=2).add("x", "n", "x", "input")
    with pytest.raises(ValueError, match="kind must be one of"):
        led.total("inputs")
    with pytest.raises(ValueError, match="unit must be 'elements' or 'bytes'"):
        led.total("input", "bits")


@pytest.mark.parametrize(
    ("fn", "args", "exc", "match"),
    [
        (ledger.linear_params, (0, 4), ValueError, "linear_params: D_in must be a positive integer, got 0"),
        (ledger.linear_params, (3.0, 4), TypeError, "D_in must be a positive integer"),
        (ledger.param_bytes, (3, None), TypeError, "D_out must be a positive integer"),
        (ledger.param_bytes, (3, 4, "fp4"), ValueError, "unknown dtype"),
        (ledger.linear_flops, (-1, 3, 4), ValueError, "linear_flops: B must be a positive integer"),
        (ledger.linear_traffic_elements, (2, "3", 4), TypeError, "linear_traffic_elements: D_in"),
        (ledger.linear_traffic_bytes, (True, 3, 4), TypeError, "B must be a positive integer"),
        (ledger.arithmetic_intensity, (100, 0), ValueError, "bytes_moved must be a positive finite number"),
        (ledger.arithmetic_intensity, ("1", 2), TypeError, "flops must be a positive number"),
        (ledger.arithmetic_intensity, (float("nan"), 2), ValueError, "flops must be a positive finite"),
        (ledger.roofline, (1.0, -5, 10), ValueError, "peak_gflops must be a positive"),
        (ledger.roofline, ([1.0, -2.0], 5, 10), ValueError, "intensity must be positive"),
        (ledger.roofline, ("abc", 5, 10), TypeError, "roofline: intensity must be an array of numbers"),
        (ledger.roofline, ([], 5, 10), ValueError, "intensity is empty"),
        (ledger.roofline, ([1.0, np.nan], 5, 10), ValueError, "intensity contains NaN"),
        (ledger.ridge_intensity, (100, None), TypeError, "bandwidth_gbs must be a positive number"),
        (ledger.human_bytes, (-3,), ValueError, "n must be a positive finite number"),
        (linear_costs, (2, 3, 4, "fp32"), None, None),
        (linear_costs, (0, 3, 4), ValueError, "linear_costs: B must be a positive integer"),
        (linear_costs, (2, 3, 4, "fp32", False), TypeError, "positional"),
    ],
)
def test_bad_inputs_name_the_argument(fn, args, exc, match):
    if exc is None:
        fn(*args)
        return
    with pytest.raises(exc, match=match):
        fn(*args)


def test_linear_costs_bad_T():
    with pytest.raises(ValueError, match="T must be a positive integer, got 0"):
        linear_costs(2, 3, 4, T=0)


# ---------------------------------------------------------------- rules for whole models
def test_roofline_time_by_hand():
    # 1e12 FLOPs at 312 TFLOP/s = 3.205 ms; 1 GB at 2,039 GB/s = 0.490 ms: compute binds
    assert ledger.roofline_time(1e12, 1e9, 312_000, 2_039) == pytest.approx(1e12 / 312e12)
    # one row through 4096 x 4096 in bf16: 33,554,432 FLOPs, 33,570,816 bytes: bandwidth binds
    assert ledger.roofline_time(33_554_432, 33_570_816, 312_000, 2_039) == pytest.approx(33_570_816 / 2_039e9)


def test_ridge_batch_by_hand():
    # ridge 50 FLOP/B in fp32 with a bias: (1024^2) crosses at 125, (4096^2) at 106, 4096->11008 at 104
    assert ledger.ridge_batch(1024, 1024, 100_000, 2_000, "fp32", bias=True) == 125
    assert ledger.ridge_batch(4096, 4096, 100_000, 2_000, "fp32", bias=True) == 106
    assert ledger.ridge_batch(4096, 11008, 100_000, 2_000, "fp32", bias=True) == 104
    # A100 bf16, no bias: ridge 312000/2039 = 153.0; B*(2*4096^2 - 153.0*2*8192) >= 153.0*2*4096^2 -> 165.4
    B = ledger.ridge_batch(4096, 4096, 312_000, 2_039)
    assert B == 166
    ridge = 312_000 / 2_039
    assert ledger.linear_costs(B, 4096, 4096, "bf16", bias=False).intensity >= ridge
    assert ledger.linear_costs(B - 1, 4096, 4096, "bf16", bias=False).intensity < ridge
    # small-batch law: intensity ~ 2B / bytes, so B ~ ridge * bytes / 2 = 153 (a slight underestimate)
    assert abs(B - ridge) / ridge < 0.1
    # the toy 128 -> 64 layer tops out at 21.3 FLOP/B in fp32: never compute-bound at a ridge of 50
    assert ledger.ridge_batch(128, 64, 100_000, 2_000, "fp32") is None


def test_numbers_in_the_memory_flops_review_answers():
    # answer 1: 1024 -> 256 with a bias; answer 4: intensity 2 against a ridge of 20 is a tenth of the peak
    assert ledger.linear_params(1024, 256) == 262_400
    assert ledger.param_bytes(1024, 256, "bf16") == 524_800
    assert ledger.roofline(2.0, 100.0, 5.0) == pytest.approx(100.0 / 10)
    # answer 5: B = 1 -> 2 doubles the FLOPs and almost doubles the intensity of a 4096 x 4096 layer
    one, two = (ledger.linear_costs(B, 4096, 4096, bias=False) for B in (1, 2))
    assert two.forward_flops == 2 * one.forward_flops and 1.99 < two.intensity / one.intensity < 2
