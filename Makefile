# Set-up and the two everyday jobs. `make demo` and `make test` install everything they need
# into .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The auditor's torch. Pinned to a CPU build available locally here; elsewhere pass e.g.
# TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cpu" or any torch>=2.4.
TORCH_SPEC ?= torch==2.13.0
# The test zoo's torchvision. --no-deps: every torchvision release pins the exact torch it was
# built for, and pip would replace the torch above with it (a CUDA build of several GB). 0.29.1
# is the newest that installs here; its compiled operators do not load on another torch, so the
# zoo declares the few it needs (tests/audit/zoo/conftest.py).
TORCHVISION_SPEC ?= torchvision==0.29.1

.PHONY: install demo test

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH_SPEC)
	$(BIN)/python -c "import importlib.metadata as m; print('torch==' + m.version('torch'))" > $(VENV)/torch-constraint.txt
	$(BIN)/python -m pip install --quiet --constraint $(VENV)/torch-constraint.txt --editable ".[model,test,zoo]"
	$(BIN)/python -m pip install --quiet --no-deps $(TORCHVISION_SPEC)
	touch $@

demo: install
	-$(BIN)/initaudit check examples/
	-$(BIN)/initaudit model --factory examples.audit_models:bad_mlp
	-$(BIN)/initaudit model --factory examples.audit_models:good_mlp

test: install
	$(BIN)/python -m pytest
