# One command to run, one to test. Everything installs into .venv.
VENV ?= .venv
PY := $(VENV)/bin/python
FAZHI := $(VENV)/bin/fazhi
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run chat test lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# CPU PyTorch first, pinned, so nothing pulls a CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[test,dev]"
	touch $@

run: setup
	$(FAZHI) model prepare
	FAZHI_WECHAT_TOKEN=$${FAZHI_WECHAT_TOKEN:-fazhi-demo} $(FAZHI) serve --host $(HOST) --port $(PORT)

chat: setup
	$(FAZHI) chat

test: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: setup
	$(PY) bench/bench_retrieval.py

clean:
	rm -rf $(VENV) build *.egg-info
