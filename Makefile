# The two commands of the README:  `make book`  and  `make test`.
# Both create (or reuse) the virtual environment .venv from requirements.txt (what a learner's
# kernel needs, what Binder installs) and requirements-dev.txt (the site's build and test tools).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
# matplotlib's font cache of our own: a stale shared one (~/.cache/matplotlib) made every plotting
# cell print 'findfont' warnings to stderr, which then reached the pages.
export MPLCONFIGDIR := $(CURDIR)/_build/.matplotlib
VENV   := .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.installed
# The site shows every demo as a kernel-free player; Jupyter, Binder and Colab get live widgets.
BUILD  := COURSE_DEMO_MODE=static $(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going

.PHONY: book site pdf dist chromium test lint bench clean lab repository serve

$(READY): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

# Sphinx and the execution cache key on each notebook's own text; a change in lib/ can change
# every notebook's output, so it drops both (Sphinx's environment and the cache): the next build
# re-reads and re-executes every notebook. Otherwise unchanged notebooks stay cached.
LIB_STAMP := _build/.lib-stamp
# The API pages go too: Sphinx never deletes a page, so a deleted module's page (lib.gpt.html) stayed.
$(LIB_STAMP): $(wildcard lib/*.py lib/demos/*.py lib/exercises/*.py lib/exercises/core/*.py lib/configs/*)
	rm -rf _build/.jupyter_cache _build/.doctrees _build/html/reference/api
	mkdir -p _build && touch $@

# Sphinx copies _static/ and reruns _ext/ only when some page is out of date: a change there drops
# Sphinx's environment (not the execution cache), so every page is rewritten with it.
SITE_STAMP := _build/.site-stamp
$(SITE_STAMP): $(wildcard _static/* _ext/*.py) _config.yml
	rm -rf _build/.doctrees
	mkdir -p _build && touch $@

# The site, then the two downloads its intro page links: the PDF and the offline edition.
book: dist
	@echo
	@echo "The site is built in $(CURDIR)/_build/html: run 'make serve' and open the address it prints"

site: $(READY) $(LIB_STAMP) $(SITE_STAMP)
	$(BIN)/python scripts/vendor_pyodide.py   # the in-browser Python, verified (COURSE_NO_RUNNER=1 skips)
	$(BUILD)

# Debian's Chromium prints the PDF and runs the browser tests: installed here when it is missing
# (with apt-get, as root or through sudo); on another system, install Chromium yourself.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  command -v apt-get >/dev/null 2>&1 || { echo "Install Chromium (the PDF and the browser tests need it)"; exit 1; }; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The whole book as one PDF, printed from the built pages by Chromium.
pdf: site chromium
	$(BIN)/python scripts/make_pdf.py

# The offline edition: the site (with the PDF), the launcher serve.py and a README, in one zip.
dist: pdf
	$(BIN)/python scripts/make_dist.py

lint: $(READY)
	$(BIN)/ruff check .

# Lint, build the site (warnings are errors), then pytest: lib, every notebook under nbval,
# the built pages, and headless Chromium against the site.
test: lint book
	$(BIN)/python -m pytest -n auto --dist loadfile   # one worker per core; a file's tests (and its browser) stay together

# The course live in JupyterLab (with the MyST renderer), from the environment above.
LAB_ARGS ?=
lab: $(READY)
	$(BIN)/jupyter lab --notebook-dir=chapters $(LAB_ARGS)

# A fork: after changing repository.url (and .branch) in _config.yml, write it into the Colab cells.
repository: $(READY)
	$(BIN)/python scripts/set_repository.py

# The built site on http://127.0.0.1:8000/ (PORT=...), cross-origin isolated so that Stop can
# interrupt a cell (the in-page Python cannot start from file://; python3 -m http.server works too).
PORT ?= 8000
serve:
	@test -f _build/html/index.html || $(MAKE) book
	$(PYTHON) scripts/serve.py _build/html --port $(PORT)

bench: $(READY)
	$(BIN)/python scripts/bench.py

clean:
	rm -rf _build
