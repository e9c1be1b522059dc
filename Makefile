# Two entry points for a fresh machine: `make repro` (pipeline) and `make test` (tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: repro test lint venv clean-venv full-study push pull worker queue-seeds queue-start \
	tracking-server mlflow-ui dvc-yaml

venv: $(VENV)/.installed

# torch is pinned in pyproject.toml so pip takes the CPU wheel, not a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# Stage commands run `python`: put the venv first on PATH so they get this environment.
# `fakenews repro` validates all of params.yaml first (`fakenews check`: stages check only what
# they read), then is `dvc repro` with one stage per core at a time and progress lines.
repro: venv
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/fakenews repro

# Everything, the end-to-end `dvc repro` tests included (plain `pytest` skips those: -m slow).
test: venv
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -m "slow or not slow"

lint: venv
	$(BIN)/ruff check src stages tests tools benchmarks
	$(BIN)/ruff format --check src stages tests tools benchmarks

clean-venv:
	rm -rf $(VENV)

# dvc.yaml is generated from dvc.template.yaml and the imports of each stage's code: run this
# after editing the template or moving/importing modules (tests/test_dvc_yaml.py checks it).
dvc-yaml: venv
	$(BIN)/python tools/generate_dvc_yaml.py

# The full-scale study as a DVC experiment: every dataset and model, the reference fine-tuning
# recipe (max_len 512, batch 16 x 2, warmup 500, 3 epochs), 5 seeds for every model whose fit
# depends on the seed (tfidf_logreg's does not: one run stands for all), no caps. Hours on a GPU; ISOT needs
# its files placed by hand (Kaggle login, see README).
FULL_STUDY = \
	-S '+datasets.isot={}' -S '+datasets.welfake={}' -S '+datasets.fake_or_real_news={}' \
	-S '+datasets.fakenewsnet={}' \
	-S 'models.transformer=[minilm,tinybert,distilbert,bert_base]' \
	-S 'union_models.transformer=[minilm,tinybert,distilbert,bert_base]' \
	-S train.minilm.max_len=512 -S train.minilm.epochs=3 -S train.minilm.batch_size=16 \
	-S train.minilm.grad_accumulation=2 -S train.minilm.warmup_steps=500 \
	-S '~train.minilm.per_dataset' \
	-S 'seeds.recurrent=[42,43,44,45,46]' -S 'seeds.transformer=[42,43,44,45,46]'

full-study: venv
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc exp run -n full-study $(FULL_STUDY)

# --- Scale out (README "Scale out"): machines share finished work through a DVC remote --------
# Stage commands run `python`, so every DVC call gets the venv first on PATH.
DVC := PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc
SHARD ?= 0/1
SEEDS ?= 43 44 45
JOBS ?= 2
MLFLOW_HOST ?= 127.0.0.1
MLFLOW_PORT ?= 5000
MLFLOW_BACKEND ?= sqlite:///$(CURDIR)/mlflow-server.db
MLFLOW_ARTIFACTS ?= $(CURDIR)/mlartifacts-server

# Every output and the run-cache (what ran, and on which inputs) to the default remote.
push: venv
	$(DVC) push --run-cache

# Restore everything any machine has pushed (outputs of what dvc.lock names, and every stage
# the run-cache knows); run what nobody has run yet; push that back.
pull: venv
	$(DVC) repro --pull
	$(DVC) push --run-cache

# One machine's part of a shared study: SHARD=data first (one machine), then SHARD=I/N on
# machine I of N (its train stages with their evaluate/transfer), then `make pull` anywhere.
# (An empty shard, more machines than train stages, runs nothing rather than everything.)
worker: venv
	@stages="$$($(BIN)/fakenews shard $(SHARD))" || exit 1; \
	if [ -z "$$stages" ]; then echo "shard $(SHARD): no stages"; exit 0; fi; \
	set -x; $(DVC) repro --pull $$stages && $(DVC) push --run-cache

# One queued experiment per seed (every seeded family), run by `make queue-start`. Seed-free
# models (tfidf_logreg, minilm_embed) and the data stages come back from the run-cache.
queue-seeds: venv
	for seed in $(SEEDS); do \
		$(DVC) exp run --queue -n seed-$$seed -S "seeds.recurrent=[$$seed]" \
			-S "seeds.transformer=[$$seed]" || exit 1; \
	done

# Run the queue JOBS at a time, wait for it, show the results. DVC's workers can exit with
# experiments still queued (treeverse/dvc#10562): then they are started again.
queue-start: venv
	$(DVC) queue start -j $(JOBS)
	while status="$$($(DVC) queue status)" && echo "$$status" | grep -Eq '\b(Queued|Running)\b'; do \
		if ! echo "$$status" | grep -Eq '\bRunning\b' && echo "$$status" | grep -q ': 0 active'; then \
			$(DVC) queue start -j $(JOBS); fi; \
		sleep 10; \
	done
	$(DVC) queue status
	$(DVC) exp show --only-changed --drop 'Created|.*(_std|:accuracy|:roc_auc)$$|headline/(transfer|lodo)/|(data|models|plots)(/.*)?'

# A shared MLflow tracking server (stages log to it with MLFLOW_TRACKING_URI=http://HOST:PORT):
# runs and the model registry in MLFLOW_BACKEND (sqlite here; postgresql+psycopg://... with
# `pip install -e '.[postgres]'`), artifacts under MLFLOW_ARTIFACTS, served through the server.
tracking-server: venv
	$(BIN)/mlflow server --backend-store-uri "$(MLFLOW_BACKEND)" \
		--artifacts-destination "$(MLFLOW_ARTIFACTS)" --host $(MLFLOW_HOST) --port $(MLFLOW_PORT) \
		--workers 1

# The MLflow UI on this project's runs (mlflow.db, or MLFLOW_TRACKING_URI): prints the URL of
# the experiment's runs table (MLflow 3 otherwise opens an experiment on its GenAI overview).
mlflow-ui: venv
	$(BIN)/fakenews mlflow-ui --host $(MLFLOW_HOST) --port $(MLFLOW_PORT)
