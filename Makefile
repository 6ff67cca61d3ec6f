VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test install lint typecheck unit bench demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check accord tests bench
	$(BIN)/ruff format --check accord tests bench

typecheck: install
	$(BIN)/mypy accord

unit: install
	./scripts/ensure-postgres.sh
	$(BIN)/pytest -q

test: lint typecheck unit

bench: install
	$(BIN)/python bench/compile.py
	$(BIN)/python bench/scheduling.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Until the scheduler lands, the demo compiles FATE's hetero-LR example and derives its predict DSL.
EXAMPLE := ../shared/fate/examples/dsl/v2/hetero_logistic_regression
demo: install
	$(BIN)/accord dsl validate -d $(EXAMPLE)/hetero_lr_normal_dsl.json -c $(EXAMPLE)/hetero_lr_normal_conf.json
	$(BIN)/accord dsl predict -d $(EXAMPLE)/hetero_lr_normal_dsl.json \
		--cpn-list reader_0,data_transform_0,intersection_0,hetero_lr_0,evaluation_0
