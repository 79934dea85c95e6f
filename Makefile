# Two commands set everything up: `make run` (the main job) and `make test` (the suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench validate frontier clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test,bench]"
	touch $(STAMP)

run: install
	$(BIN)/python -m sim

test: install
	$(BIN)/ruff check sim experiments tests benchmarks
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache
