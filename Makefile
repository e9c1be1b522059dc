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

# Stage commands run `python`: put the venv first on PATH so they get this environment.
repro: venv
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro

# Everything, the end-to-end `dvc repro` tests included (plain `pytest` skips those: -m slow).
test: venv
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -m "slow or not slow"

lint: venv
	$(BIN)/ruff check src stages tests
	$(BIN)/ruff format --check src stages tests

clean-venv:
	rm -rf $(VENV)
