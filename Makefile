# Two commands set everything up: `make run` (the main job) and `make test` (the suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run simulate test test-unit test-model test-apps test-e2e lint bench validate frontier calibrate sensitivity discover dashboard docs shipped clean

install: $(STAMP)

# One environment for everything: the suite needs every extra (Ray's launcher, pyabc's ABC-SMC, the
# test tools), and the main job runs in it too. An analyst who only runs the model and the analyses
# can use `pip install -e .` alone (README, Install).
EXTRAS := test,bench,ray,smc

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 12) else 1)' 2>/dev/null \
		|| { echo "error: Python 3.11 or 3.12 needed (found $$($(PYTHON) -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || echo none) at $$(command -v $(PYTHON) || echo $(PYTHON))); set PYTHON=..." >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[$(EXTRAS)]"
	touch $(STAMP)

## The main job: every policy scenario x 20 seeds, then more seeds until every P(best) is known to within
## 0.03 (those run only the scenarios still in contention: racing=true), tables, figures and report
## (pass ARGS="p_best_precision=null" for exactly `seeds` seeds, ARGS="racing=false" to run them all).
run: install
	$(BIN)/python -m experiments.compare $(ARGS)

## Budget frontier: one budget split between training and infrastructure (pass ARGS="n_splits=21").
frontier: install
	$(BIN)/python -m experiments.frontier $(ARGS)

## Calibration against Indonesian data (ABC rejection, seeded; 2024-25 figures held out; pass ARGS="ship=true" to
## make its posterior the one the comparison draws from, or ARGS="quick=true" for a test-size run).
calibrate: install
	$(BIN)/python -m experiments.calibration $(ARGS)

## Global sensitivity analysis: Morris screening of every uncertain parameter (docs/sensitivity.md;
## pass ARGS="method=sobol 'parameters=[...]'" or ARGS="policy=training").
sensitivity: install
	$(BIN)/python -m experiments.exploration.sensitivity $(ARGS)

## Scenario discovery: Latin hypercube + PRIM boxes where training beats infrastructure (pass ARGS="n_samples=500").
discover: install
	$(BIN)/python -m experiments.exploration.discover $(ARGS)

## Validation: diffusion results, UTAUT limits, Indonesian figures, ablation, interactions (docs/validation.md;
## pass ARGS="n_jobs=2" or ARGS="quick=true").
validate: install
	$(BIN)/python -m experiments.validation $(ARGS)

## One simulation with the defaults (pass ARGS="policy=training seed=3").
simulate: install
	$(BIN)/python -m sim $(ARGS)

## Speed and memory at 10 k, 100 k and 1 M citizens against the per-agent Mesa reference and the
## bare CSR product; writes benchmarks/results.md (10 M: ARGS="--sizes 10000000 --block large").
bench: install
	$(BIN)/python -m benchmarks.run $(ARGS)

## The dashboard on this machine only (127.0.0.1); the URL is printed. Production mode: no file
## watcher, and no request to solara.dev (development mode checks its installation there).
dashboard: install
	SOLARA_TELEMETRY_MIXPANEL_ENABLE=False $(BIN)/solara run sim/app.py --host 127.0.0.1 --port 8765 \
		--production

## Generated documentation from the declarations: monthly and per-run outputs (sim.metrics.METRICS,
## sim.summary.OUTPUTS), every parameter with its unit, range, default, prior and source
## (sim.parameters.par), and the table of provinces with its sources (sim.provinces).
docs: install
	$(BIN)/python -m experiments.shipped steps=docs

## Every shipped result again, each stamped with the commit it came from: the generated documents, the
## Morris screening (experiments/data/morris.csv, docs/sensitivity.md), the validation (docs/validation.md),
## the figures of docs/ (Sobol indices, scenario discovery); about 40 minutes on two cores. Pass
## ARGS="posterior=true" to run every shipped calibration too (four, up to two hours each), ARGS="steps=morris" for one
## step, ARGS="quick=true out=/tmp/shipped" for a test-size run that leaves the shipped files alone.
shipped: install
	$(BIN)/python -m experiments.shipped $(ARGS)

lint: install
	$(BIN)/ruff check sim experiments tests benchmarks

# The suite on every core (pytest-xdist), one test file per worker at a time: a file's module
# fixtures (a comparison run once for its tests) are built once, and most of the suite's time is
# subprocesses and servers waiting, which two workers overlap (9.2 min serial, 5.2 min on two cores).
test: lint
	$(BIN)/python -m pytest -q -n auto --dist loadfile

## One tier of the suite: unit (pure functions, seconds), model (runs of the model: directions of
## effect, invariants, reproducibility), apps (the experiment apps and the command line), e2e (the
## dashboard in a browser, stored reference outputs).
test-unit test-model test-apps test-e2e: install
	$(BIN)/python -m pytest -q tests/$(@:test-%=%)

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache .ruff_cache
