# Set-up and the two everyday jobs. `make demo` and `make test` install everything they need
# into .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The auditor's torch. Pinned to a CPU build available locally here; elsewhere pass e.g.
# TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cpu" or any torch>=2.4.
TORCH_SPEC ?= torch==2.13.0

.PHONY: install demo test

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH_SPEC)
	$(BIN)/python -m pip install --quiet --editable ".[model,test]"
	touch $@

demo: install
	-$(BIN)/initaudit check examples/
	-$(BIN)/initaudit model examples.audit_models:bad_mlp
	-$(BIN)/initaudit model examples.audit_models:good_mlp

test: install
	$(BIN)/python -m pytest
