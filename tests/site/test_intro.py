"""The numbers in intro.md (a page without cells) are the ones lib computes."""

from __future__ import annotations

import re
from pathlib import Path

from lib.ledger import linear_params, matmul_flops

INTRO = (Path(__file__).resolve().parents[2] / "intro.md").read_text()


def _number(latex: str) -> int:
    return int(latex.replace("{,}", "").replace(",", ""))


def test_motivating_layer_parameters():
    m = re.search(r"\$768 \\times 3072 \+ 3072 = ([\d{},]+)\$\s+parameters", INTRO)
    assert m, "the intro's parameter count of the 768-to-3072 layer"
    assert _number(m.group(1)) == linear_params(768, 3072) == 768 * 3072 + 3072


def test_motivating_layer_flops():
    m = re.search(r"\$2 \\times 4 \\times 768 \\times 3072\s+= ([\d{},]+)\$ floating-point operations", INTRO)
    assert m, "the intro's FLOP count for a batch of 4 tokens"
    assert _number(m.group(1)) == matmul_flops(4, 768, 3072)


def test_width_numbers():
    assert "768-number vector" in INTRO and "3,072 numbers" in INTRO
    assert 4 * 768 == 3072  # GPT-2 small's MLP is four times wider than the model


def test_every_number_in_the_intro_prose_is_accounted_for():
    """Each number outside code (blocks and `spans`: commands, addresses) is a checked figure or a small one."""
    prose = re.sub(r"`[^`\n]*`", "", re.sub(r"```.*?```", "", INTRO, flags=re.S))
    numbers = {_number(n) for n in re.findall(r"\d[\d,{}]*\d|\d", prose)}
    checked = {768, 3072, 2_362_368, 18_874_368, 2, 4, 1}
    assert numbers <= checked, f"unchecked numbers in intro.md: {sorted(numbers - checked)}"
