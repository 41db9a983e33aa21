# Two commands: `make run` (install, initialise, serve) and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))'; \
	then echo $$p; break; fi; done)

OWNER_EMAIL ?= owner@example.org
LOCALE := src/ehrlich/locale

.PHONY: run test lint bench clean i18n-extract i18n-update i18n-compile

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "ehrlich needs Python 3.11 or newer"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(BIN)/pybabel compile --domain ehrlich --directory $(LOCALE) --statistics
	@touch $@

$(VENV)/.installed-dev: pyproject.toml tests/e2e/package-lock.json | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pybabel compile --domain ehrlich --directory $(LOCALE) --statistics
	@# axe-core for the browser tests' accessibility audit (test-only, never served)
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/e2e --no-audit --no-fund --silent; \
	else echo "npm not found: the axe-core accessibility tests will skip (Debian: apt-get install npm)"; fi
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	@test -f .ehrlich/data/ehrlich.toml || $(BIN)/ehrlich init --data-dir .ehrlich/data \
		--key-file .ehrlich/keys/ehrlich.key --owner-email "$(OWNER_EMAIL)"
	@$(BIN)/ehrlich --data-dir .ehrlich/data migrate
	$(BIN)/ehrlich --data-dir .ehrlich/data serve

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# One test process per core (pytest-xdist); each makes its own instance templates. The
# slow tests start first (tests/conftest.py) and an idle process takes queued tests from a
# busy one (worksteal), so no core waits alone at the end (docs/testing.md).
test: lint
	$(BIN)/pytest --numprocesses auto --dist worksteal

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench

# Translations (docs/translations.md): extract the texts into the template, merge it into
# each language's .po, compile the .po files into the .mo files the server loads.
# Once pybabel is there, the translation targets never reinstall the package (a venv may
# be shared by several checkouts: BIN=/other/.venv/bin).
$(BIN)/pybabel:
	$(MAKE) $(VENV)/.installed

i18n-extract: | $(BIN)/pybabel
	$(BIN)/pybabel extract --mapping-file babel.cfg --keyword N_ --keyword NP_:1,2 --no-location --sort-output \
		--project ehrlich --copyright-holder "ehrlich contributors" --width 100 \
		--output-file $(LOCALE)/ehrlich.pot .

i18n-update: i18n-extract
	$(BIN)/pybabel update --domain ehrlich --input-file $(LOCALE)/ehrlich.pot \
		--output-dir $(LOCALE) --ignore-obsolete --ignore-pot-creation-date --width 100

i18n-compile: | $(BIN)/pybabel
	$(BIN)/pybabel compile --domain ehrlich --directory $(LOCALE) --statistics

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
