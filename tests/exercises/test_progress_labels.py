"""Saved progress follows a renamed exercise: the map {old: new} from `Exercise(formerly=...)`
(_ext/progress_labels.py) and the page script that moves localStorage records (progress-migrate.js),
run here in Node as the page runs it, against the runner's own reading of progress."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lib.exercises import Exercise

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "_ext"))
import progress_labels  # noqa: E402 (the extension lives in _ext/)

SCRIPT = ROOT / "_ext" / "reference_static" / "progress-migrate.js"
RUNNER = ROOT / "_ext" / "runner" / "course-runner.js"
MOVED = Exercise("engine-test-moved-label", lambda a: None, ["a", "b"], "...", formerly="engine-test-ex7")


def test_the_map_comes_from_the_registered_exercises():
    renamed = progress_labels.renamed_map()
    assert renamed["engine-test-ex7"] == "engine-test-moved-label"
    assert all(new in __import__("lib.exercises").exercises.EXERCISES for new in renamed.values())
    script = progress_labels.map_script({"a-ex1": "a-</script>"})
    assert script.startswith("window.COURSE_RENAMED_LABELS = ") and "</script>" not in script


# A page in Node: a localStorage, the map the extension writes, this script, then the runner's own
# reading of progress (the storage key and the `progress[label]` test of course-runner.js).
PAGE = r"""
const fs = require("fs"), vm = require("vm");
const store = new Map(Object.entries(JSON.parse(process.argv[1])));
const localStorage = {
  get length() { return store.size; },
  key(i) { return [...store.keys()][i] ?? null; },
  getItem(k) { return store.has(k) ? store.get(k) : null; },
  setItem(k, v) { store.set(k, String(v)); },
  removeItem(k) { store.delete(k); },
};
const window = { localStorage, COURSE_RENAMED_LABELS: JSON.parse(process.argv[2]) };
vm.runInNewContext(fs.readFileSync(process.argv[3], "utf8"), { window, JSON, Object, Array });
const runner = fs.readFileSync(process.argv[4], "utf8");
const KEY = /const KEY = "([^"]+)"/.exec(runner)[1];
const progress = JSON.parse(localStorage.getItem(KEY)) || {};
const labels = JSON.parse(process.argv[5]);
console.log(JSON.stringify({ done: labels.filter((label) => progress[label]), store: Object.fromEntries(store) }));
"""


def _page(store: dict, renamed: dict, labels: list[str]) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node is not installed")
    out = subprocess.run([node, "-e", PAGE, json.dumps(store), json.dumps(renamed), str(SCRIPT), str(RUNNER),
                          json.dumps(labels)], capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


KEY = "linalg-nn-course:progress"


def test_old_progress_shows_as_done_under_the_new_label():
    # the book's own map: vectors-ex1 and vectors-ex3 were renamed, vectors-apple-dot was born with its name
    store = {KEY: json.dumps({"vectors-ex1": "2026-11-30T10:00:00Z", "vectors-ex3": "2026-11-30T10:05:00Z",
                              "vectors-apple-dot": "2026-11-30T10:09:00Z"})}
    renamed = progress_labels.renamed_map()
    page = _page(store, renamed, ["vectors-cosine-table", "vectors-cross-attention-shape", "vectors-apple-dot",
                                  "vectors-similarity-bug"])
    assert page["done"] == ["vectors-cosine-table", "vectors-cross-attention-shape", "vectors-apple-dot"]
    record = json.loads(page["store"][KEY])
    assert record == {"vectors-cosine-table": "2026-11-30T10:00:00Z", "vectors-cross-attention-shape": "2026-11-30T10:05:00Z",
                      "vectors-apple-dot": "2026-11-30T10:09:00Z"}


def test_migration_keeps_a_newer_record_other_keys_and_chains():
    store = {KEY: json.dumps({"a-ex1": "old", "a-new": "newer", "b-ex1": "x"}),
             "linalg-nn-course:attempts": json.dumps({"b-ex1": 3}),
             "linalg-nn-course:code:chapters/a": json.dumps({"cell-3": "print(1)"}),
             "someone-else": json.dumps({"a-ex1": "theirs"}), f"{KEY}-broken": "{not json"}
    page = _page(store, {"a-ex1": "a-new", "b-ex1": "b-mid", "b-mid": "b-last"}, ["a-new", "b-last"])
    assert page["done"] == ["a-new", "b-last"]
    assert json.loads(page["store"][KEY]) == {"a-new": "newer", "b-last": "x"}
    assert json.loads(page["store"]["linalg-nn-course:attempts"]) == {"b-last": 3}
    assert page["store"]["linalg-nn-course:code:chapters/a"] == store["linalg-nn-course:code:chapters/a"]
    assert page["store"]["someone-else"] == store["someone-else"]


def test_no_map_changes_nothing():
    store = {KEY: json.dumps({"a-ex1": "old"})}
    assert _page(store, {}, ["a-ex1"])["store"] == store
