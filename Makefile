# Two commands set everything up: `make run` (the main job) and `make test` (the suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run simulate test lint bench validate frontier dashboard clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test,bench]"
	touch $(STAMP)

## The main job: one default simulation (becomes the policy comparison).
run: install
	$(BIN)/python -m sim

## One simulation with the defaults (pass ARGS="policy=training seed=3").
simulate: install
	$(BIN)/python -m sim $(ARGS)

lint: install
	$(BIN)/ruff check sim experiments tests benchmarks

test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache .ruff_cache
