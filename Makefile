VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNTIME_STAMP := $(VENV)/.runtime-installed
# The demo's own site home, made afresh by every `make demo` (a user's ~/.accord is never touched).
DEMO_HOME ?= $(CURDIR)/.demo-home

.PHONY: test install lint typecheck unit bench demo clean board-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,spark,nn]'
	touch $(STAMP)

# What a site runs on, without the test and lint tools (the demo needs nothing more).
$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $(RUNTIME_STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check accord tests bench
	$(BIN)/ruff format --check accord tests bench

typecheck: install
	$(BIN)/mypy accord

unit: install
	./scripts/ensure-postgres.sh
	# A hang (a test server or worker left running) fails the run instead of stalling it. Two test
	# processes (pytest-xdist), a whole test file each, keep both cores busy while one waits on a server.
	timeout --kill-after=30s 80m $(BIN)/pytest -q -n 2 --dist loadfile --durations=40

test: lint typecheck unit

bench: install
	$(BIN)/python bench/compile.py
	$(BIN)/python bench/scheduling.py
	$(BIN)/python bench/paillier.py
	$(BIN)/python bench/hetero_lr.py
	$(BIN)/python bench/serving.py
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(DEMO_HOME)

# FATE's hetero-LR example, unchanged, on a fresh standalone site of its own: upload, train,
# evaluate. The previous demo's site is stopped and its home removed first.
demo: $(RUNTIME_STAMP)
	-$(BIN)/accord down --home $(DEMO_HOME) >/dev/null 2>&1
	rm -rf $(DEMO_HOME)
	$(BIN)/accord demo --examples ../shared/fate/examples --home $(DEMO_HOME)

# The board in Debian's Chromium on a real standalone stack; screenshots in $ACCORD_TEST_ARTIFACTS/board.
board-test: install
	timeout --kill-after=30s 15m $(BIN)/pytest -q tests/board
