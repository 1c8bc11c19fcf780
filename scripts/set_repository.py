"""Write the repository of `_config.yml` into every chapter's Colab cell: `make repository`.

`repository.url` and `repository.branch` in `_config.yml` are the one place a fork changes: the
launch buttons and the downloadable notebooks (`_ext/course_site.py`) read them at build time,
but Colab opens a chapter straight from GitHub, so its install line must be written into each
notebook. This script does it (only that line), and tests/site/test_site.py fails until it has run.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
INSTALL = re.compile(r'url = "git\+[^"]*"')


def configured() -> str:
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    return f"git+{repo['url'].rstrip('/')}@{repo.get('branch') or 'main'}"


def main() -> int:
    want = configured()
    changed = []
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        cell = nb["cells"][0]
        source = "".join(cell["source"])
        if "google.colab" not in source or not INSTALL.search(source):
            print(f"{path.name}: no Colab install cell found; left alone", file=sys.stderr)
            continue
        new = INSTALL.sub(f'url = "{want}"', source)
        if new != source:
            cell["source"] = new.splitlines(keepends=True)
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
            changed.append(path.name)
    print(f"Colab cells install {want}: updated {len(changed)} notebook(s) {' '.join(changed)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
