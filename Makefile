# The two commands of the README:  `make book`  and  `make test`.
# Both create (or reuse) the virtual environment .venv from requirements.txt.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.installed
# The site shows every demo as a kernel-free player; Jupyter, Binder and Colab get live widgets.
# Matplotlib keeps its font cache here, not in the machine's shared cache (a stale shared cache
# once printed findfont warnings onto five pages).
export MPLCONFIGDIR := $(CURDIR)/_build/.mplconfig
BUILD  := COURSE_DEMO_MODE=static $(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going

.PHONY: book test lint bench clean

$(READY): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# Sphinx and the execution cache key on each notebook's own text; a change in lib/ can change
# every notebook's output, so it drops both (Sphinx's environment and the cache): the next build
# re-reads and re-executes every notebook. Otherwise unchanged notebooks stay cached.
LIB_STAMP := _build/.lib-stamp
$(LIB_STAMP): $(wildcard lib/*.py lib/demos/*.py lib/exercises/*.py)
	rm -rf _build/.jupyter_cache _build/.doctrees
	mkdir -p _build && touch $@

book: $(READY) $(LIB_STAMP)
	$(BUILD)
	@echo
	@echo "The site is built: open $(CURDIR)/_build/html/index.html"

lint: $(READY)
	$(BIN)/ruff check .

# Lint, build the site (warnings are errors), then pytest: lib, every notebook under nbval,
# the built pages, and headless Chromium against the site.
test: lint book
	$(BIN)/python -m pytest

bench: $(READY)
	$(BIN)/python scripts/bench.py

clean:
	rm -rf _build
