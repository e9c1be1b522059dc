# Two entry points for a fresh machine: `make repro` (pipeline) and `make test` (tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: repro test lint venv clean-venv full-study

venv: $(VENV)/.installed

# torch is pinned in pyproject.toml so pip takes the CPU wheel, not a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# Stage commands run `python`: put the venv first on PATH so they get this environment.
# `fakenews check` validates all of params.yaml first (stages check only what they read).
repro: venv
	$(BIN)/fakenews check
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro

# Everything, the end-to-end `dvc repro` tests included (plain `pytest` skips those: -m slow).
test: venv
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -m "slow or not slow"

lint: venv
	$(BIN)/ruff check src stages tests
	$(BIN)/ruff format --check src stages tests

clean-venv:
	rm -rf $(VENV)

# The full-scale study as a DVC experiment: every dataset and model, the reference fine-tuning
# recipe (max_len 512, batch 16 x 2, warmup 500, 3 epochs), 5 seeds for every model whose fit
# depends on the seed (tfidf_logreg's does not: one run stands for all), no caps. Hours on a GPU; ISOT needs
# its files placed by hand (Kaggle login, see README).
FULL_STUDY = \
	-S '+datasets.isot={}' -S '+datasets.welfake={}' -S '+datasets.fake_or_real_news={}' \
	-S '+datasets.fakenewsnet={}' \
	-S 'models.transformer=[minilm,tinybert,distilbert,bert_base]' \
	-S train.minilm.max_len=512 -S train.minilm.epochs=3 -S train.minilm.batch_size=16 \
	-S train.minilm.grad_accumulation=2 -S train.minilm.warmup_steps=500 \
	-S '~train.minilm.per_dataset' \
	-S 'seeds.recurrent=[42,43,44,45,46]' -S 'seeds.transformer=[42,43,44,45,46]'

full-study: venv
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc exp run -n full-study $(FULL_STUDY)
