"""The Reference part: notation, glossary, API reference, index of exercises, the Sphinx index.

The checks find what must be there on their own (every public function of `lib`, every exercise
of every chapter, every letter of every shape line) and look for it in the built site
(`make book` writes _build/html) or in the page sources; they do not ask the generator
(_ext/reference.py) what it produced.
"""

from __future__ import annotations

import html
import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path
from urllib.parse import unquote, urldefrag

import pytest
import yaml

import lib
import lib.exercises
from lib.exercises import checked_in

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
REFERENCE = ROOT / "reference"


def _extension():
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("_course_reference_ext", ROOT / "_ext" / "reference.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


reference = _extension()  # the generator's own helpers, for the checks on lib's sources below
needs_site = pytest.mark.skipif(not (HTML / "reference" / "exercises.html").exists(), reason="run `make book` first")


# ---------------------------------------------------------------- what lib and the chapters hold
def lib_modules() -> list[str]:
    names = ["lib"] + [m.name for m in pkgutil.walk_packages(lib.__path__, "lib.")]
    return [n for n in names if not any(part.startswith("_") for part in n.split("."))]


def public_callables(modname: str) -> list[str]:
    """Functions and classes a user of the module may call: `__all__`, or what it defines itself."""
    module = importlib.import_module(modname)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, obj in vars(module).items()
                 if not n.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
                 and obj.__module__ == modname]
    return [n for n in names if inspect.isfunction(getattr(module, n)) or inspect.isclass(getattr(module, n))]


def toc_notebooks() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = []

    def visit(entries):
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            visit(entry.get("sections", []))

    for part in toc.get("parts", [toc]):
        visit(part.get("chapters", []))
    return [ROOT / f"{f}.ipynb" for f in files if (ROOT / f"{f}.ipynb").exists()]


def markdown_cells(path: Path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


def chapter_exercises() -> dict[str, list[tuple[str | None, str]]]:
    """notebook stem -> [(label or None, heading)] for every `### Exercise N: ...` heading."""
    found = {}
    for path in toc_notebooks():
        items = []
        for text in markdown_cells(path):
            lines = text.splitlines()
            for i, line in enumerate(lines):
                if re.match(r"#{2,4}\s+Exercise\s+\d+", line):
                    prev = next((p.strip() for p in reversed(lines[:i]) if p.strip()), "")
                    label = re.fullmatch(r"\(([\w-]+)\)=", prev)
                    items.append((label.group(1) if label else None, line))
        found[path.stem] = items
    return found


def registered_exercises() -> set[str]:
    """The labels of the Exercise objects the chapter modules of lib.exercises define (not the ones
    other tests register in the engine's book-wide table)."""
    labels = set()
    for info in pkgutil.iter_modules(lib.exercises.__path__, "lib.exercises."):
        module = importlib.import_module(info.name)
        labels |= {v.label for v in vars(module).values() if isinstance(v, lib.exercises.Exercise)}
    return labels


def page_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def ids_of(page: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', page))


def plain(fragment: str) -> str:
    """The visible text of an HTML fragment, with Sphinx's typography undone and spaces collapsed."""
    text = html.unescape(re.sub(r"<[^>]+>", "", fragment))
    for fancy, ascii_ in (("\u2026", "..."), ("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'),
                          ("\u2013", "--"), ("\u2014", "---"), ("\u00a0", " ")):
        text = text.replace(fancy, ascii_)
    return " ".join(text.split())


def squash(docstring_line: str) -> str:
    """A docstring line as the page shows it: Markdown backticks gone, spaces collapsed."""
    return " ".join(docstring_line.replace("`", "").split())


# ---------------------------------------------------------------- the API reference
@needs_site
@pytest.mark.parametrize("modname", lib_modules())
def test_every_public_function_is_in_the_api_reference(modname):
    page = HTML / "reference" / "api" / f"{modname}.html"
    assert page.exists(), f"no API page for {modname}"
    ids = ids_of(page_text(page))
    missing = [n for n in public_callables(modname) if f"{modname}.{n}" not in ids]
    assert not missing, f"{modname}: not documented on {page.name}: {missing}"


@needs_site
@pytest.mark.parametrize("modname", lib_modules())
def test_api_pages_show_each_docstring_and_its_shape_line(modname):
    page = page_text(HTML / "reference" / "api" / f"{modname}.html")
    module = importlib.import_module(modname)
    for name in public_callables(modname):
        doc = inspect.getdoc(getattr(module, name)) or ""
        start = page.index(f'id="{modname}.{name}"')
        end = page.find("<dt", start + 1)
        shown = plain(page[start:end if end > 0 else None])
        for line in [doc.splitlines()[0]] if doc and "chapter `" not in doc.splitlines()[0] else []:  # a chapter name becomes its title
            assert squash(line) in shown, f"{modname}.{name}: its first line is not shown"
        for line in doc.splitlines():
            if "->" in line and re.search(r"\w \([^()]*\)", line) and not line.startswith(" "):
                assert squash(line) in shown, f"{modname}.{name}: shape line {line!r} not shown"


def test_every_module_has_an_api_page_in_the_toc():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    reference = [p for p in toc["parts"] if p.get("caption") == "Reference"]
    assert reference, "_toc.yml has a part 'Reference'"
    files = [c["file"] for c in reference[0]["chapters"]]
    assert files[:5] == ["reference/notation", "reference/glossary", "reference/concept-map", "reference/api",
                         "reference/exercises"]
    api = next(c for c in reference[0]["chapters"] if c["file"] == "reference/api")
    assert {"glob": "reference/api/*"} in api["sections"], "the module pages are picked up by a glob"


# ---------------------------------------------------------------- the glossary
def glossary_entries(page: str) -> list[tuple[list[str], str]]:
    """[(term ids, definition html)] from the built glossary."""
    entries = []
    for block in re.findall(r"<dl class=\"simple glossary\">(.*?)</dl>", page, re.S) or \
            re.findall(r"<dl class=\"glossary[^\"]*\">(.*?)</dl>", page, re.S):
        for terms, definition in re.findall(r"((?:<dt[^>]*>.*?</dt>\s*)+)<dd>(.*?)</dd>", block, re.S):
            entries.append((re.findall(r'id="(term-[^"]+)"', terms), definition))
    return entries


@needs_site
def test_every_glossary_term_links_to_where_it_is_taught():
    page = page_text(HTML / "reference" / "glossary.html")
    entries = glossary_entries(page)
    assert len(entries) >= 40, f"only {len(entries)} glossary entries found"
    for ids, definition in entries:
        links = re.findall(r'<a class="reference internal" href="([^"]+)"', definition)
        targets = [unquote(h) for h in links if not h.startswith("#") and "/api/" not in h and "genindex" not in h]
        assert targets, f"{ids}: the definition links to no chapter or section"
        for href in targets:
            path, fragment = urldefrag(href)
            file = (HTML / "reference" / path).resolve()
            assert file.exists(), f"{ids}: {href} does not exist"
            if fragment:
                assert fragment in ids_of(page_text(file)), f"{ids}: {href} has no anchor #{fragment}"


def test_every_glossary_definition_has_a_doc_or_ref_link_in_its_source():
    text = (REFERENCE / "glossary.md").read_text()
    body = text.split("```{glossary}", 1)[1].split("\n```", 1)[0]
    definitions = re.split(r"\n\s*\n(?=\S)", body.strip().split("\n", 1)[1].strip())  # after ":sorted:"
    assert len(definitions) >= 40
    for definition in definitions:
        assert re.search(r"\{(ref|doc)\}`", definition), f"no {{ref}} or {{doc}} link: {definition[:60]!r}"


# ---------------------------------------------------------------- the index of exercises
def test_every_exercise_heading_has_a_label():
    for stem, items in chapter_exercises().items():
        unlabelled = [heading for label, heading in items if label is None]
        assert not unlabelled, f"{stem}: exercise headings without a '(label)=' line above: {unlabelled}"


def test_every_checker_belongs_to_an_exercise_heading():
    placed = {label for items in chapter_exercises().values() for label, _ in items}
    assert registered_exercises() <= placed, f"checkers with no heading: {sorted(registered_exercises() - placed)}"


def test_every_chapter_check_call_has_a_heading():
    for path in toc_notebooks():
        cells = json.loads(path.read_text())["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        checked = {exercise.label for _, exercise in checked_in(code)}
        headed = {label for label, _ in chapter_exercises().get(path.stem, [])}
        assert checked, f"{path.stem} checks no exercise"
        assert checked <= headed, f"{path.stem}: exercises checked but without a heading: {sorted(checked - headed)}"


@needs_site
def test_every_exercise_is_in_the_index_of_exercises():
    page = page_text(HTML / "reference" / "exercises.html")
    links = {unquote(h) for h in re.findall(r'href="([^"]+)"', page)}
    total = 0
    for stem, items in chapter_exercises().items():
        for label, heading in items:
            total += 1
            assert f"../chapters/{stem}.html#{label}" in links, f"{stem}: {heading} ({label}) is not in the index"
            assert label in ids_of(page_text(HTML / "chapters" / f"{stem}.html")), f"no anchor #{label} in {stem}"
    assert total >= len(registered_exercises())
    assert f"<strong>{total} exercises</strong>" in page


@needs_site
def test_the_index_of_exercises_loads_the_progress_script():
    page = page_text(HTML / "reference" / "exercises.html")
    assert "reference-progress.js" in page
    script = (HTML / "_static" / "reference-progress.js").read_text()
    assert "linalg-nn-course:progress" in script


# ---------------------------------------------------------------- notation
_TUPLE = re.compile(r"(?:\w|:|->) \(([^()]*)\)")  # "X (B, D_in)", '"wte": (V, d)', "-> (h, w)"
_ITEM = re.compile(r"^\s*(\.\.\.|\d+|[A-Za-z_]\w*(\[[^\]]*\])?)(\s*[-+*/]\s*(\d+|[A-Za-z_]\w*(\[[^\]]*\])?))*\s*$")
_BUILTIN_WORDS = {"float", "int", "bool", "str", "None"}


def _looks_like_a_size(item: str) -> bool:
    """`B`, `D_in`, `T0`, `sizes[k]`, `2`, `n`: a size, unlike a lowercase word such as `gain`."""
    item = item.strip()
    return item != "..." and (len(item) <= 2 or bool(re.search(r"[\dA-Z_\[]", item)))


def shape_letters() -> dict[str, str]:
    """Every name used as a size in a shape line (`... -> ...`) of a lib docstring -> one place it occurs."""
    letters: dict[str, str] = {}
    for modname in lib_modules():
        module = importlib.import_module(modname)
        objects = [(modname, module)]
        for name, obj in vars(module).items():
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == modname and not name.startswith("_"):
                objects.append((f"{modname}.{name}", obj))
                if inspect.isclass(obj):
                    objects += [(f"{modname}.{name}.{k}", v) for k, v in vars(obj).items() if inspect.isfunction(v)]
        for where, obj in objects:
            for line in (inspect.getdoc(obj) or "").splitlines():
                if "->" not in line:
                    continue
                for inside in _TUPLE.findall(line):
                    items = [i for i in inside.split(",") if i.strip()]
                    if not items or not all(_ITEM.match(i) for i in items) or re.search(r"[A-Za-z]-[A-Za-z]", inside):
                        continue
                    if len(items) == 1 and not inside.rstrip().endswith(","):
                        continue  # a 1-D shape is written (n,); "(n_total - n_trained) * 2" is arithmetic
                    if not any(_looks_like_a_size(i) for i in items):
                        continue  # words in brackets, "(gain, shift)", are not a shape
                    for item in items:
                        for letter in re.findall(r"[A-Za-z_]\w*", re.sub(r"\[[^\]]*\]", "", item)):
                            if letter not in _BUILTIN_WORDS:
                                letters.setdefault(letter, where)
    return letters


def notation_letters() -> set[str]:
    """Code spans in the first column of the tables of reference/notation.md."""
    defined = set()
    for line in (REFERENCE / "notation.md").read_text().splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            defined |= set(re.findall(r"`([^`]+)`", first))
    return defined


def test_shape_letter_parser_on_known_lines():
    line = "X (B, D_in), W (D_in, D_out), b (D_out,) or None -> Y (B, D_out)"
    assert {n for inside in _TUPLE.findall(line) for n in re.findall(r"[A-Za-z_]\w*", inside)} == {"B", "D_in", "D_out"}
    assert not _ITEM.match("steps + 1 values") and _ITEM.match("D_k+1") and _ITEM.match("B*T")
    assert not any(_looks_like_a_size(w) for w in ("gain", "shift", "..."))
    assert all(_looks_like_a_size(w) for w in ("n", "B", "D_in", "T0", "sizes[k]", "steps + 1", "h_kv"))


def test_every_letter_of_every_lib_shape_line_is_on_the_notation_page():
    letters = shape_letters()
    assert {"B", "T", "D_in", "D_out", "d", "d_k", "h", "r", "V"} <= set(letters), "the parser finds the usual letters"
    missing = {letter: where for letter, where in letters.items() if letter not in notation_letters()}
    assert not missing, f"define these letters on reference/notation.md: {missing}"


def test_every_letter_of_the_model_ledgers_is_on_the_notation_page():
    """The ledgers of `lib.sizing.model_ledger` (model-ledger prints them) name their sizes in spec
    strings such as "2 L_win B h_kv W d_h", not in docstring shape lines: every preset and every
    shipped config, with a mixture of experts and sliding windows among them."""
    from lib import sizing

    configs = [sizing.preset(name) for name in sizing.PRESETS]
    configs += [sizing.from_hf_config(sizing.shipped_config(name)) for name in sizing.shipped_configs()]
    letters: dict[str, str] = {}
    for cfg in configs:
        ledger = sizing.model_ledger(cfg, T=8192, B=2)
        for letter in ledger.sizes:
            letters.setdefault(letter, cfg.name)
    assert {"E", "L_full", "L_win", "W", "h_kv", "d_h", "T_max"} <= set(letters), "the configs cover MoE and windows"
    missing = {letter: where for letter, where in letters.items() if letter not in notation_letters()}
    assert not missing, f"define these ledger letters on reference/notation.md: {missing}"


def test_the_intro_letters_are_on_the_notation_page():
    intro = (ROOT / "intro.md").read_text()
    conventions = intro.split("## Conventions", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`([A-Za-z_]\w*)` (?:batch|tokens|and|features|model|key|heads|a LoRA|the vocabulary|for)",
                           conventions))
    assert named and named <= notation_letters(), named - notation_letters()


@needs_site
def test_the_byte_table_is_lib_s():
    from lib.ledger import BYTES_PER_ELEMENT

    page = page_text(HTML / "reference" / "notation.html")
    table = page.split('class="dtype-table', 1)[1].split("</table>", 1)[0]
    rows = [[plain(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)] for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)]
    rows = [r for r in rows if r]
    assert rows == [[name, str(size), str(8 * size)] for name, size in BYTES_PER_ELEMENT.items()]


# ---------------------------------------------------------------- the index, and the way in
@needs_site
def test_the_sphinx_index_is_not_empty():
    page = page_text(HTML / "genindex.html")
    entries = re.findall(r"<li><a href=\"([^\"]+)\"", page)
    assert len(entries) >= 100, f"genindex.html lists only {len(entries)} entries"
    for word in ("softmax", "KV cache", "linear_forward()", "row-major orientation"):
        assert word in plain(page), f"genindex.html has no entry {word!r}"


def test_the_intro_links_every_reference_page():
    intro = (ROOT / "intro.md").read_text()
    for page in ("notation", "glossary", "concept-map", "api", "exercises"):
        assert f"{{doc}}`reference/{page}`" in intro, f"intro.md does not link reference/{page}"
    assert "{ref}`genindex`" in intro


# ---------------------------------------------------------------- numbers typed on the reference pages
def test_the_numbers_the_reference_pages_state():
    import numpy as np

    from lib.ledger import BYTES_PER_ELEMENT as size

    glossary, notation = (" ".join((REFERENCE / name).read_text().split()) for name in ("glossary.md", "notation.md"))
    # Adam: weight + gradient + two moments in fp32; bf16 weight and gradient + fp32 master copy + moments
    assert "about 16 bytes per parameter" in glossary and "$4 + 4 + 8$" in glossary and "$2 + 2 + (4 + 8)$" in glossary
    assert size["fp32"] + size["fp32"] + 2 * size["fp32"] == 16 == size["bf16"] * 2 + size["fp32"] + 2 * size["fp32"]
    # the bit layouts of fp16 and bf16: sign + exponent + stored mantissa
    f16, f32 = np.finfo(np.float16), np.finfo(np.float32)
    assert (f16.nexp, f16.nmant) == (5, 10) and f32.nexp == 8 and 1 + 8 + 7 == 8 * size["bf16"]
    for text in (glossary, notation):
        assert "5 exponent" in text and "10 mantissa" in text and "7 stored" in text and "8 exponent bits" in text
    # the 6ND rule: 2 FLOPs per weight and token forward, twice that backward
    assert "one multiply-add (2 FLOPs) per token in the forward pass and twice that" in glossary


# ---------------------------------------------------------------- the chapters link to the reference
def glossary_terms() -> list[set[str]]:
    """The glossary's entries, each as the set of its terms (an entry may have synonyms)."""
    body = (REFERENCE / "glossary.md").read_text().split("```{glossary}", 1)[1].split("\n```", 1)[0]
    entries = re.split(r"\n\s*\n(?=\S)", body.strip().split("\n", 1)[1].strip())
    return [{line.strip() for line in entry.splitlines() if line.strip() and not line.startswith(" ")} for entry in entries]


def term_links(path: Path) -> list[str]:
    """Targets of the {term} roles in a notebook's markdown: {term}`text <target>` or {term}`target`."""
    text = "\n".join(markdown_cells(path))
    return [m.group(2) or m.group(1) for m in re.finditer(r"\{term\}`([^`<]*?)\s*(?:<([^`>]+)>)?`", text)]


def test_every_chapter_links_its_key_terms_to_the_glossary():
    entries = glossary_terms()
    every_term = set().union(*entries)
    linked = set()
    for path in toc_notebooks():
        targets = term_links(path)
        assert len(set(targets)) >= 3, f"{path.stem} links only {sorted(set(targets))} to the glossary"
        assert set(targets) <= every_term, f"{path.stem}: not in the glossary: {set(targets) - every_term}"
        linked |= set(targets)
    orphans = [sorted(entry) for entry in entries if not entry & linked]
    waiting = [o for o in orphans if set(o) & TERMS_AWAITING_CHAPTER_LINKS]
    assert not [o for o in orphans if o not in waiting], f"glossary entries no chapter links to: {orphans}"
    if waiting:
        pytest.xfail(f"new glossary entries that no chapter links with {{term}} yet: {waiting}")


# A new glossary entry that no chapter links with {term} yet may wait here (an expected failure);
# empty since the chapters link every Part IV and RoPE entry.
TERMS_AWAITING_CHAPTER_LINKS: set[str] = set()


def test_every_glossary_entry_links_to_the_section_that_teaches_it():
    body = (REFERENCE / "glossary.md").read_text().split("```{glossary}", 1)[1]
    entries = re.split(r"\n\s*\n(?=\S)", body.split("\n```", 1)[0].strip().split("\n", 1)[1].strip())
    chapter_labels = {p.stem for p in toc_notebooks()}
    waiting = []
    for entry in entries:
        refs = re.findall(r"\{ref\}`([^`]+)`", entry)
        sections = [r for r in refs if r not in chapter_labels and not r.startswith(("notation", "genindex"))]
        if not sections and entry.splitlines()[0].strip() in TERMS_AWAITING_CHAPTER_LINKS:
            waiting.append(entry.splitlines()[0].strip())  # model-ledger and tiny-gpt have no section labels yet
            continue
        assert sections, f"{entry.splitlines()[0]!r}: link the section that teaches it with {{ref}}"
    if waiting:
        pytest.xfail(f"entries that link only a chapter until its sections get labels: {waiting}")


def test_every_chapter_links_a_lib_function_to_the_api_reference():
    for path in toc_notebooks():
        text = "\n".join(markdown_cells(path))
        assert re.search(r"\{py:(func|class)\}`[^`]*lib\.", text), f"{path.stem}: no {{py:func}} link to the API"


@pytest.mark.parametrize("page", sorted(p.name for p in REFERENCE.glob("*.md")))
def test_reference_pages_pass_the_book_wide_word_guards(page):
    from tests.site.test_guards import LEAKED_WORDS, plain_chapter_references

    text = (REFERENCE / page).read_text()
    assert not LEAKED_WORDS.findall(text), f"{page}: a source is 'a claim you will meet'"
    assert not plain_chapter_references(text), f"{page}: link chapters with {{doc}} or {{ref}}"


# ---------------------------------------------------------------- constants, summaries, chapter top lines
def _doc_comments(modname: str) -> dict[str, str]:
    from sphinx.pycode import ModuleAnalyzer

    attrs = ModuleAnalyzer.for_module(modname).find_attr_docs()
    return {name: " ".join(lines).strip() for (scope, name), lines in attrs.items() if scope == ""}


# Modules being rewritten by other helpers this round add their `#:` comments themselves; once
# every branch is merged the coordinator empties this set (one switch).
CONSTANTS_PENDING: set[str] = set()


def undocumented_constants(modname: str) -> list[str]:
    """Public constants of a module without a `#:` comment of their own."""
    described = _doc_comments(modname)
    return [m.name for m in reference.public_members(modname) if m.kind == "data" and not described.get(m.name)]


@pytest.mark.parametrize("modname", [m for m in reference.lib_modules() if not m.startswith("lib.exercises")])
def test_every_public_constant_has_its_own_description(modname):
    missing = undocumented_constants(modname)
    if missing and modname in CONSTANTS_PENDING:
        pytest.xfail(f"{modname}: rewritten by another helper this round: {missing}")
    assert not missing, f"{modname}: write a `#:` comment on (or above) the line of {missing}"


def test_a_builtin_docstring_on_a_constant_is_caught_and_dropped():
    """The planted defect: `SEP = 10` with no comment would show int's docstring; it is found, and
    the docstring hook leaves the entry empty instead."""
    assert reference.builtin_doc(10).startswith("int(")
    assert reference.builtin_doc({}).startswith("dict()")
    assert reference.builtin_doc(reference.Member("x", "data")) == ""
    lines = (inspect.getdoc(int) or "").splitlines()
    reference.process_docstring(None, "data", "lib.planted.SEP", 10, {}, lines)
    assert lines == []


@needs_site
def test_no_api_page_shows_a_builtin_docstring():
    builtin = {inspect.getdoc(t).split("\n")[0][:40] for t in (int, float, str, tuple, dict, list, bool, frozenset, set)}
    bad = []
    for page in (HTML / "reference" / "api").glob("*.html"):
        text = re.sub(r"<[^>]+>", "", page.read_text())
        bad += [f"{page.name}: {b}" for b in builtin if b in text]
    assert not bad, bad


@pytest.mark.parametrize("modname", reference.lib_modules())
def test_module_summaries_are_whole_sentences(modname):
    summary = reference.first_line(importlib.import_module(modname))
    assert summary.endswith((".", "?", "!", ":")), f"{modname}: the API table's summary is cut: {summary!r}"


# The chapter helpers add the top line and the Sources section this round; until their branches
# are merged, the chapters still lacking them are expected failures. The coordinator flips this
# one switch to True after the merges.
ALL_CHAPTERS_HAVE_TOP_LINE_AND_SOURCES = True
TIME_LINE = re.compile(r"About \d+(?:\s*(?:to|-|–)\s*\d+)? (?:minutes|hours?)")


def chapter_top_line_and_sources(nb: dict) -> list[str]:
    """What a chapter lacks: the line under its title (prerequisites linked with {doc}, a time) and
    a closing `## Sources` section with links."""
    md = [("".join(c["source"]) if isinstance(c["source"], list) else c["source"])
          for c in nb["cells"] if c["cell_type"] == "markdown"]
    text = "\n".join(md)
    after_title = re.split(r"^# .+$", text, maxsplit=1, flags=re.M)[-1].strip().split("\n\n")[0]
    problems = []
    if "rerequisite" not in after_title or "{doc}" not in after_title and "none" not in after_title.lower():
        problems.append("no prerequisites line (linked with {doc}) right under the title")
    if not TIME_LINE.search(after_title):
        problems.append("no time estimate ('About 45 minutes') right under the title")
    sources = re.search(r"^## Sources\s*$(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    if not sources or "http" not in sources.group(1):
        problems.append("no '## Sources' section with links")
    return problems


def test_the_chapter_check_fails_on_a_planted_chapter():
    bare = {"cells": [{"cell_type": "markdown", "source": "# A chapter\n\nSome text."}]}
    assert len(chapter_top_line_and_sources(bare)) == 3
    good = {"cells": [{"cell_type": "markdown", "source": "# A chapter\n\nPrerequisites: {doc}`vectors`. About 40 minutes."},
                      {"cell_type": "markdown", "source": "## Sources\n\n- [Paper](https://arxiv.org/abs/1706.03762): attention."}]}
    assert chapter_top_line_and_sources(good) == []


@pytest.mark.parametrize("path", sorted((ROOT / "chapters").glob("*.ipynb")), ids=lambda p: p.stem)
def test_every_chapter_has_its_top_line_and_sources(path):
    problems = chapter_top_line_and_sources(json.loads(path.read_text()))
    if problems and not ALL_CHAPTERS_HAVE_TOP_LINE_AND_SOURCES:
        pytest.xfail(f"{path.stem}: {problems} (added by the chapter helpers this round)")
    assert not problems, f"{path.stem}: {problems}"


# ---------------------------------------------------------------- the index leads into the chapters
def index_targets(genindex_html: str) -> dict[str, set[str]]:
    """term -> the pages its genindex entry links (the first link text of each <li>)."""
    found: dict[str, set[str]] = {}
    for item in re.findall(r"<li>(.*?)(?=<li>|</ul>)", genindex_html, flags=re.S):
        links = re.findall(r'<a href="([^"#]*)[^"]*">([^<]*)</a>', item)
        if links:
            term = html.unescape(re.sub(r"<[^>]+>", "", item).split(",")[0]).strip()
            found.setdefault(term, set()).update(href for href, _ in links)
    return found


def only_at_reference_pages(targets: dict[str, set[str]], terms: list[str]) -> list[str]:
    return [t for t in terms if t in targets and not any(h.startswith("chapters/") for h in targets[t])]


def test_the_index_check_fails_on_an_entry_pointing_only_at_a_reference_page():
    planted = ('<ul><li><a href="reference/glossary.html#term-KV-cache">KV cache</a></li>'
               '<li><a href="reference/glossary.html#term-bias">bias</a>, <a href="chapters/shapes-bias.html#x">[1]</a></li></ul>')
    assert only_at_reference_pages(index_targets(planted), ["KV cache", "bias"]) == ["KV cache"]


@needs_site
def test_every_taught_glossary_term_has_an_index_entry_in_its_chapter():
    targets = index_targets((HTML / "genindex.html").read_text())
    body = (REFERENCE / "glossary.md").read_text()
    taught = [t for t, refs in reference.glossary_teaching_sites(body) if any(
        not r.startswith(("notation", "glossary", "api")) and r not in {p.stem for p in toc_notebooks()} for r in refs)]
    assert taught, "the glossary's 'Taught in' links were not found"
    missing = only_at_reference_pages(targets, taught)
    assert not missing, f"index entries that point only at reference pages: {missing}"
