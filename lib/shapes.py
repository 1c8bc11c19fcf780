"""Input validation that fails with a message a learner can act on.

Every public function in `lib` checks its arrays with `check_shapes`, which binds the letters of
a shape spec (B, T, D_in, D_out, d_k, r, ...) to sizes and names the argument, the expected and
the actual shape when something disagrees. For X of shape (4, 3) and W of shape (2, 3):

    check_shapes("linear_forward", X=(X, "B D_in"), W=(W, "D_in D_out"))
    ValueError: linear_forward: W should have shape (D_in, D_out) = (3, D_out), got (2, 3);
    D_in is 3 (from X) but axis 0 of W is 2. It looks transposed: did you mean .T ...
"""

from __future__ import annotations

import numbers

import numpy as np


def as_array(x: object, name: str, where: str = "", *, finite: bool = True) -> np.ndarray:
    """Return `x` as a numeric ndarray, or raise TypeError/ValueError naming `name`.

    Python lists and scalars are accepted; integers and booleans become float64, float32 and
    float16 stay as they are (chapters compare precisions).
    """
    prefix = f"{where}: " if where else ""
    if x is None:
        raise TypeError(f"{prefix}{name} is None; expected an array of numbers.")
    if isinstance(x, (str, bytes, dict, set)):
        raise TypeError(f"{prefix}{name} must be an array of numbers, got {type(x).__name__}.")
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as err:  # ragged nested lists
        raise TypeError(f"{prefix}{name} could not be read as an array ({err}).") from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{prefix}{name} must hold numbers, got dtype {arr.dtype}.")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{prefix}{name} must hold real numbers, got dtype {arr.dtype}.")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if arr.size == 0:
        raise ValueError(f"{prefix}{name} is empty (shape {arr.shape}); every axis needs size >= 1.")
    if finite and not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"{prefix}{name} contains NaN or inf (first at index {bad}).")
    return arr


def as_positive_int(x: object, name: str, where: str = "") -> int:
    """Return `x` as an int >= 1, or raise naming `name`."""
    prefix = f"{where}: " if where else ""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{prefix}{name} must be a positive integer, got {x!r}.")
    if x < 1:
        raise ValueError(f"{prefix}{name} must be a positive integer, got {x}.")
    return int(x)


def positive_ints(where: str, **values: object) -> tuple[int, ...]:
    """Check several sizes at once: `B, D = positive_ints("f", B=B, D=D)`."""
    return tuple(as_positive_int(v, name, where) for name, v in values.items())


def as_number(x: object, name: str, where: str = "", *, positive: bool = False) -> float:
    """Return `x` as a finite float (> 0 with positive=True), or raise naming `name`."""
    prefix = f"{where}: " if where else ""
    kind = "a positive number" if positive else "a number"
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise TypeError(f"{prefix}{name} must be {kind}, got {x!r}.")
    if not np.isfinite(x) or (positive and x <= 0):
        raise ValueError(f"{prefix}{name} must be {kind.replace('number', 'finite number')}, got {x!r}.")
    return float(x)


def as_rng(rng: object, where: str, name: str = "rng") -> np.random.Generator:
    """Return `rng` if it is a NumPy Generator, or raise saying how to make one."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{where}: {name} must be np.random.default_rng(seed), got {type(rng).__name__}.")
    return rng


def as_seed(seed: object, where: str) -> int:
    """Return `seed` as an int >= 0, or raise."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{where}: seed must be a non-negative integer, got {seed!r}.")
    if seed < 0:
        raise ValueError(f"{where}: seed must be a non-negative integer, got {seed}.")
    return int(seed)


def _fmt(spec: list[str], sizes: dict[str, int]) -> str:
    return "(" + ", ".join(str(sizes.get(s, s)) for s in spec) + ("," if len(spec) == 1 else "") + ")"


def check_shapes(
    where: str, *, sizes: dict[str, int] | None = None, **specs: tuple[np.ndarray, str]
) -> dict[str, int]:
    """Check each array against its shape spec and return the size bound to every letter.

    `specs` maps an argument name to `(array, "B D_in")`; a letter seen twice must have the same
    size both times. A letter may also be a number ("3"), which must match exactly. `sizes` binds
    letters in advance (e.g. `{"d": 16}`).
    """
    bound: dict[str, int] = dict(sizes or {})
    origin: dict[str, str] = {k: "the arguments" for k in bound}
    for name, (arr, spec_text) in specs.items():
        spec = spec_text.split()
        shape = np.shape(arr)
        if len(shape) != len(spec):
            raise ValueError(
                f"{where}: {name} should be {len(spec)}-D with shape ({', '.join(spec)}), "
                f"got {len(shape)}-D shape {shape}."
            )
        for axis, (letter, size) in enumerate(zip(spec, shape, strict=True)):
            if letter.isdigit():
                expected = int(letter)
            elif letter in bound:
                expected = bound[letter]
            else:
                bound[letter], origin[letter] = size, name
                continue
            if size != expected:
                source = "" if letter.isdigit() else f"; {letter} is {expected} (from {origin[letter]})"
                hint = _orientation_hint(shape, spec, bound)
                raise ValueError(
                    f"{where}: {name} should have shape ({', '.join(spec)}) = {_fmt(spec, bound)}, "
                    f"got {shape}{source} but axis {axis} of {name} is {size}.{hint}"
                )
    return bound


def _orientation_hint(shape: tuple[int, ...], spec: list[str], bound: dict[str, int]) -> str:
    """Suggest `.T` when the reversed shape of a 2-D array would have matched."""
    if len(spec) != 2:
        return ""
    want = [bound.get(s) for s in spec]
    if want[::-1] == list(shape) and None not in want:
        return " It looks transposed: did you mean .T (PyTorch stores weights as (out, in))?"
    if want[0] is not None and want[1] is None and shape[1] == want[0]:
        return " It looks transposed: did you mean .T (PyTorch stores weights as (out, in))?"
    return ""
