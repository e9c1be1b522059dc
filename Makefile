# Two entry points for a fresh machine: `make repro` (pipeline) and `make test` (tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: repro test lint venv clean-venv

venv: $(VENV)/.installed

# torch is pinned in pyproject.toml so pip takes the CPU wheel, not a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

repro: venv
	$(BIN)/dvc repro

test: venv
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check src stages tests benchmarks
	$(BIN)/ruff format --check src stages tests benchmarks

clean-venv:
	rm -rf $(VENV)
