# make demo: set up .venv and run the lab demo.  make test: set up .venv and run every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-headless test test-fresh-clone lint typecheck contracts format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/skynet demo

demo-headless: $(STAMP)
	$(BIN)/skynet demo --headless

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy with the settings and the file list in pyproject.toml ([tool.mypy]): skynet_tui/ and skynet_lab/.
typecheck: $(STAMP)
	$(BIN)/mypy

# The layering contracts of pyproject.toml ([tool.importlinter]); tests/test_contracts.py shows each one bite.
contracts: $(STAMP)
	$(BIN)/lint-imports --no-cache

test: lint typecheck contracts
	$(BIN)/python -m pytest -n 2

# make test in a fresh clone of HEAD, in an empty temp folder: proves the tests need nothing beside the repository.
test-fresh-clone:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	git clone --quiet "$(CURDIR)" "$$tmp/skynet" && \
	echo "fresh clone of $$(git rev-parse --short HEAD) in $$tmp/skynet (nothing beside it)" && \
	$(MAKE) --no-print-directory -C "$$tmp/skynet" test

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache
