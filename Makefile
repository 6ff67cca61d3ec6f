VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test install lint typecheck unit bench demo clean board-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,spark]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check accord tests bench
	$(BIN)/ruff format --check accord tests bench

typecheck: install
	$(BIN)/mypy accord

unit: install
	./scripts/ensure-postgres.sh
	# A hang (a test server or worker left running) fails the run instead of stalling it.
	timeout --kill-after=30s 40m $(BIN)/pytest -q

test: lint typecheck unit

bench: install
	$(BIN)/python bench/compile.py
	$(BIN)/python bench/scheduling.py
	$(BIN)/python bench/paillier.py
	$(BIN)/python bench/hetero_lr.py
	$(BIN)/python bench/serving.py
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# FATE's hetero-LR example, unchanged, on a fresh standalone site: upload, train, evaluate, stop.
demo: install
	$(BIN)/accord demo --examples ../shared/fate/examples

# The board in Debian's Chromium on a real standalone stack; screenshots in $ACCORD_TEST_ARTIFACTS/board.
board-test: install
	timeout --kill-after=30s 15m $(BIN)/pytest -q tests/board
