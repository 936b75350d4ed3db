# Build, test and check the book.
#   make            .venv + pip install, execute every chapter, HTML in _build/html
#   make test       pytest: lib unit tests + every notebook through papermill at profile smoke
#                   (BOOK_NO_TRAIN=1: shipped artifacts are used, a missing one is an error)
#   make test-fast  the unit tests only (-m "not slow": no notebook, training, bench or goldens)
#   make lint       ruff check + ruff format --check (lib, tests, scripts) and mypy (lib/core)
#   make lab        JupyterLab on the chapters (installed into .venv on first use)
#   make check      whole book at profile smoke into _build_smoke, then scripts/check_book.py on it
#   make artifacts  rebuild every shipped artifact from scratch (python -m lib.experiments --rebuild-all)
#   make bench      python -m lib.bench
#   make clean      remove both builds (make distclean also removes .venv)
SHELL    := /bin/bash
PY       ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.installed
JB_FLAGS := -W -n --keep-going
SMOKE    := _build_smoke

# jupyter-cache keys a notebook on its code cells only, so it cannot see edits in lib/, new
# artifacts (their .json stamps are hashed) or a new environment. This hash of those inputs is stored next to each build; when it changes, the
# execution cache and Sphinx's doctrees are dropped so every chapter re-executes (both must go:
# with .doctrees kept, Sphinx never re-reads an unchanged notebook). The hash is stored as soon as
# the caches are dropped, so after a failed build only the failing chapter runs again (jupyter-cache
# keeps successful executions only; raise_on_error re-runs the failure on every build).
INPUTS_HASH = { find lib artifacts -type f \( -name '*.py' -o -name '*.json' \) -print0 2>/dev/null \
                | LC_ALL=C sort -z | xargs -0r sha256sum; \
                sha256sum pyproject.toml requirements-lock.txt; } | sha256sum | cut -c1-16

.PHONY: all setup book test test-fast lint lab check browser artifacts bench clean distclean

all: book

$(STAMP): pyproject.toml requirements-lock.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c requirements-lock.txt -e '.[dev]'
	touch $@

setup: $(STAMP)

# $(call jb_build,<output root>,<env assignments>): one jupyter-book build with the cache guard.
# scripts/execute_parallel.py first executes the uncached notebooks in parallel (one kernel per
# core) into the cache the build reads, so that the build itself executes none.
define jb_build
	@mkdir -p $(1)/_build
	@h="$$($(INPUTS_HASH))"; if [ "$$(cat $(1)/_build/.inputs-hash 2>/dev/null)" != "$$h" ]; then \
	  echo "lib/ or the environment changed since the last build of $(1): every chapter re-executes"; \
	  rm -rf $(1)/_build/.jupyter_cache $(1)/_build/.doctrees; echo "$$h" > $(1)/_build/.inputs-hash; fi
	$(2) $(BIN)/python scripts/execute_parallel.py $(1)
	$(2) $(BIN)/jupyter-book build . $(JB_FLAGS) --path-output $(1)
endef

book: setup
	$(call jb_build,.,)

# BOOK_NO_TRAIN=1: a chapter whose artifact is missing or stale fails loudly instead of training
# (tests that train on purpose do it in their own temporary artifact folder).
test: setup
	BOOK_NO_TRAIN=1 $(BIN)/python -m pytest -q

# The edit-test loop: everything but the tests marked slow (pyproject.toml's markers).
test-fast: setup
	BOOK_NO_TRAIN=1 $(BIN)/python -m pytest -q -m "not slow"

LINTED := lib tests scripts
lint: setup
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

# JupyterLab is not part of the default install (the book builds without it): installed on first
# use, with the project's venv registered as a kernel so that chapters import this checkout's lib.
JUPYTERLAB := jupyterlab==4.6.6
LAB_STAMP  := $(VENV)/.lab-installed
$(LAB_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -c requirements-lock.txt $(JUPYTERLAB)
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (modulation-pathways-book)"
	touch $@

lab: $(LAB_STAMP)
	cd book && ../$(BIN)/jupyter lab

# Chapters read BOOK_PROFILE as the default of their `profile` parameter. The smoke build has its
# own output root (and so its own execution cache), so it never mixes with the real build.
check: setup browser
	$(call jb_build,$(SMOKE),BOOK_PROFILE=smoke BOOK_NO_TRAIN=1)
	$(BIN)/python scripts/check_book.py $(SMOKE)/_build/html

# Headless Chromium from Debian for scripts/check_book.py; installed only when missing (CI runs as root).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the HTML check"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  log=$$(mktemp); \
	  { $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; \
	  } >"$$log" 2>&1 || { cat "$$log"; echo "could not install chromium" >&2; exit 1; }; \
	  rm -f "$$log"; }

# Rebuilt artifacts change what chapters show without changing their code: drop both execution caches.
artifacts: setup
	$(BIN)/python -m lib.experiments --rebuild-all --yes
	rm -rf _build/.jupyter_cache _build/.doctrees $(SMOKE)/_build/.jupyter_cache $(SMOKE)/_build/.doctrees

bench: setup
	$(BIN)/python -m lib.bench

clean:
	rm -rf _build $(SMOKE)

distclean: clean
	rm -rf $(VENV) *.egg-info
