# PVO-assistent: every task starts here. `make run` and `make test` do all set-up themselves.
SHELL := /bin/bash
export TF_CPP_MIN_LOG_LEVEL ?= 2
export RASA_TELEMETRY_ENABLED ?= false
.DEFAULT_GOAL := help

ENGINE_VENV := .venv-rasa
APP_VENV := .venv
RASA := $(ENGINE_VENV)/bin/rasa
APP_PY := $(APP_VENV)/bin/python
SPACY_MODEL := var/spacy/nl_pvo
MODEL := models/pvo-assistent.tar.gz
TRAINING_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null)

# Python 3.10 for the engine only (Rasa 3.6 supports 3.8-3.10); Python 3.12 for our own code.
# Found on PATH (pyenv shims honour .python-version), else in a pyenv install.
# Override with `make PYTHON310=/path/to/python3.10 PYTHON312=/path/to/python3.12 ...`.
find_python = $(firstword $(foreach p,$(shell command -v python$(1) 2>/dev/null) $(wildcard $(HOME)/.pyenv/versions/$(1).*/bin/python$(1)),$(if $(shell $(p) -c 'print(1)' 2>/dev/null),$(p),)))
ifndef PYTHON310
PYTHON310 := $(call find_python,3.10)
endif
ifndef PYTHON312
PYTHON312 := $(call find_python,3.12)
endif

.PHONY: help setup spacy train run shell test test-fast test-widget widget lint format validate db benchmark benchmark-broker clean lock

help:
	@echo "make run        start the assistant (Rasa :5005, actions :5055) on demo data"
	@echo "make test       validate data, lint, and run all tests against a trained model"
	@echo "make shell      chat with the assistant in this terminal"
	@echo "make train      train the model (skipped when data and config did not change)"
	@echo "make setup      create both Python environments and build the Dutch spaCy pipeline"
	@echo "make benchmark  measure latency and throughput of the running assistant"
	@echo "make lint       ruff check and format check"

setup: $(ENGINE_VENV)/.installed $(APP_VENV)/.installed $(SPACY_MODEL)/meta.json widget

$(ENGINE_VENV)/.installed: requirements/engine.lock
	@bot/check_python.sh 3.10 "$(PYTHON310)"
	@echo "==> Creating the engine environment $(ENGINE_VENV) (Rasa 3.6, spaCy; a few minutes the first time)"
	@test -x $(ENGINE_VENV)/bin/python || "$(PYTHON310)" -m venv $(ENGINE_VENV)
	$(ENGINE_VENV)/bin/python -m pip install --quiet --disable-pip-version-check pip==24.2
	$(ENGINE_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/engine.lock
	@touch $@

$(APP_VENV)/.installed: requirements/app.lock requirements/dev.lock
	@bot/check_python.sh 3.12 "$(PYTHON312)"
	@echo "==> Creating the app environment $(APP_VENV) (Python 3.12: rasa-sdk, FastAPI, SQLAlchemy 2)"
	@$(APP_VENV)/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null \
		|| { rm -rf $(APP_VENV) && "$(PYTHON312)" -m venv $(APP_VENV); }
	$(APP_VENV)/bin/python -m pip install --quiet --disable-pip-version-check pip==24.2
	$(APP_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		-r requirements/app.lock -r requirements/dev.lock
	@touch $@

# Regenerate the locks from requirements/*.in (keeps existing pins unless an .in file asks otherwise).
lock: $(APP_VENV)/.installed
	$(APP_VENV)/bin/uv pip compile --quiet --python-version 3.10 requirements/engine.in -o requirements/engine.lock
	$(APP_VENV)/bin/uv pip compile --quiet --python-version 3.12 requirements/app.in -o requirements/app.lock
	$(APP_VENV)/bin/uv pip compile --quiet --python-version 3.12 requirements/dev.in -o requirements/dev.lock

# The chat widget's browser dependencies come from the npm registry (package-lock.json pins them);
# the socket.io client is copied next to the widget script, with its licence. Nothing generated
# is committed.
WIDGET_VENDOR := api/static/widget/vendor
widget: $(WIDGET_VENDOR)/socket.io.min.js
node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js 20) is needed for the chat widget"; exit 1; }
	npm ci --no-audit --no-fund
$(WIDGET_VENDOR)/socket.io.min.js: node_modules/.package-lock.json
	@mkdir -p $(WIDGET_VENDOR)
	cp node_modules/socket.io-client/dist/socket.io.min.js $@
	cp node_modules/socket.io-client/LICENSE $(WIDGET_VENDOR)/socket.io.LICENSE

# Unit tests of the widget's pure logic (node's own test runner).
test-widget: widget
	node --test tests/widget/

spacy: $(SPACY_MODEL)/meta.json
$(SPACY_MODEL)/meta.json: bot/spacy_pipeline.py $(ENGINE_VENV)/.installed
	@echo "==> Building the Dutch spaCy pipeline in $(SPACY_MODEL)"
	$(ENGINE_VENV)/bin/python bot/spacy_pipeline.py --output $(SPACY_MODEL)

# Rasa's own fingerprint skips unchanged parts; a rebuilt spaCy pipeline forces a full retrain.
train: $(MODEL)
$(MODEL): $(TRAINING_INPUTS) $(SPACY_MODEL)/meta.json
	@echo "==> Training the model (Rasa skips what did not change)"
	$(RASA) train --out models --fixed-model-name pvo-assistent \
		$(if $(filter $(SPACY_MODEL)/meta.json,$?),--force,)
	@touch $@

db: $(APP_VENV)/.installed
	$(APP_PY) -m kvo db upgrade
	$(APP_PY) -m kvo demo load --create-demo

run: setup train db
	$(APP_PY) -m bot.launcher

shell: setup train db
	$(APP_PY) -m bot.launcher --shell

validate: setup
	$(RASA) data validate

test: setup train
	$(APP_VENV)/bin/ruff check .
	$(APP_VENV)/bin/ruff format --check .
	node --test tests/widget/
	$(APP_VENV)/bin/pytest

# Everything that needs no trained model: quick feedback while coding.
test-fast: $(APP_VENV)/.installed widget
	node --test tests/widget/
	$(APP_VENV)/bin/pytest -m "not model"

lint: $(APP_VENV)/.installed
	$(APP_VENV)/bin/ruff check .
	$(APP_VENV)/bin/ruff format --check .

format: $(APP_VENV)/.installed
	$(APP_VENV)/bin/ruff check --fix .
	$(APP_VENV)/bin/ruff format .

benchmark: $(APP_VENV)/.installed
	$(APP_PY) bench/chat_load.py

# The event broker's cost: chat load without a broker, with Rasa's stock SQL broker and with ours,
# on a private stack (free ports); needs a trained model, not a running assistant.
benchmark-broker: setup train
	nice -n 10 $(APP_PY) bench/broker_cost.py --json var/bench/broker_cost.json

clean:
	rm -rf $(ENGINE_VENV) $(APP_VENV) var/spacy models .pytest_cache node_modules $(WIDGET_VENDOR)
