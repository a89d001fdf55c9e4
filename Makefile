# mlops-lab: the two commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8888
# pytest-xdist processes for make pytest, each running one test file at a time (0: none)
PYTEST_WORKERS ?= 2
DEMO_DIR ?= demo-workspace
# Reinstall when any packaged source changes (the build hook rebuilds the frontend).
SOURCES := pyproject.toml package.json yarn.lock tsconfig.json install.json \
	$(shell find mlops_lab labextension jupyter-config notebooks -type f \
	  -not -path 'mlops_lab/labextension/*' -not -name '*.pyc' 2>/dev/null)
INSTALLED := $(VENV)/.installed
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: demo demo-loop demo-stream test lint typecheck jstest pytest install develop chromium redis-server nats-server clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(INSTALLED): $(BIN)/python $(SOURCES)
	$(BIN)/python -m pip install --quiet ".[test]"
	$(BIN)/jupyter labextension list 2>&1 | grep -q "mlops-lab.*enabled.*OK"
	$(BIN)/jupyter server extension list 2>&1 | grep -q "mlops_lab.*enabled"
	touch $@

install: $(INSTALLED)

## develop: editable install, the built frontend linked into .venv (then `jlpm watch` and
## `jupyter lab`: Python changes apply on a kernel/server restart, TypeScript on a reload)
develop: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]" "jupyter-builder>=1.3"
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/jupyter labextension develop --overwrite .
	$(BIN)/jupyter server extension list 2>&1 | grep -q "mlops_lab.*enabled"
	touch $(INSTALLED)

## demo: create .venv, install with the built extension, create the demo workspace, run its
## pipeline, start JupyterLab
demo: $(INSTALLED)
	$(BIN)/mlops-lab init --demo $(DEMO_DIR) --name demo
	$(BIN)/mlops-lab --workspace $(DEMO_DIR) run churn
	$(BIN)/mlops-lab --workspace $(DEMO_DIR) handoff notebooks/06_churn_report.ipynb --pipeline reports
	-$(BIN)/mlops-lab --workspace $(DEMO_DIR) handoff notebooks/07_exploration.ipynb --pipeline reports
	$(BIN)/python scripts/demo_loop.py $(DEMO_DIR) --first
	$(BIN)/mlops-lab --workspace $(DEMO_DIR) status
	@echo "Starting JupyterLab on http://127.0.0.1:$(PORT)/lab (the URL with its token follows)"
	$(BIN)/jupyter lab --ip 127.0.0.1 --port $(PORT) --no-browser $(ROOT_FLAG) \
	  --ServerApp.root_dir=$(DEMO_DIR)

# After `make demo`: serve the champion, send shifted traffic, monitor, retrain (scripts/demo_loop.py).
demo-loop: $(INSTALLED)
	$(BIN)/python scripts/demo_loop.py $(DEMO_DIR)

# After `make demo`: stream purchases through Redis into the window view and watch the
# served model's windowed features change within a second (scripts/demo_stream.py).
demo-stream: $(INSTALLED) redis-server
	$(BIN)/python scripts/demo_stream.py $(DEMO_DIR)

chromium:
	@command -v chromium >/dev/null || { apt-get update -q && apt-get install -y -q chromium; }

redis-server:
	@command -v redis-server >/dev/null || { apt-get update -q && apt-get install -y -q redis-server; }

# NATS JetStream for the streaming tests (Debian installs nats-server in /usr/sbin).
nats-server:
	@PATH=$$PATH:/usr/sbin command -v nats-server >/dev/null || { apt-get update -q && apt-get install -y -q nats-server; }

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo  # the layers: [tool.importlinter] in pyproject.toml
	PATH=$(abspath $(BIN)):$$PATH jlpm install --immutable >/dev/null
	PATH=$(abspath $(BIN)):$$PATH jlpm lint:check

typecheck: $(INSTALLED)
	$(BIN)/mypy

## jstest: the frontend's unit tests (jest, labextension/test/*.spec.ts) and its type check
jstest: $(INSTALLED)
	PATH=$(abspath $(BIN)):$$PATH jlpm install --immutable >/dev/null
	PATH=$(abspath $(BIN)):$$PATH jlpm typecheck
	PATH=$(abspath $(BIN)):$$PATH jlpm test

pytest: $(INSTALLED) chromium redis-server nats-server
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=40

## test: create .venv if needed, install test extras and chromium, run lint, types and all tests
test: lint typecheck jstest pytest

clean:
	rm -rf $(VENV) node_modules labextension/lib mlops_lab/labextension tsconfig.tsbuildinfo .pytest_cache .mypy_cache .ruff_cache
