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
# zoo declares the few it needs (tests/torchvision_ops.py). It is kept out of the venv (timm pulls
# it in), in a folder only the tests see (tests/conftest.py puts it on their path): beside this
# torch its import fails, and with it transformers' model classes, which `initaudit model` needs
# to build a Hugging Face directory.
TORCHVISION_SPEC ?= torchvision==0.29.1
TEST_ONLY := $(VENV)/test-only

.PHONY: install demo test golden

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH_SPEC)
	$(BIN)/python -c "import importlib.metadata as m; print('torch==' + m.version('torch'))" > $(VENV)/torch-constraint.txt
	$(BIN)/python -m pip install --quiet --constraint $(VENV)/torch-constraint.txt --editable ".[model,test,watch,zoo]"
	$(BIN)/python -m pip uninstall --quiet --yes torchvision
	$(BIN)/python -m pip install --quiet --no-deps --upgrade --target $(TEST_ONLY) $(TORCHVISION_SPEC)
	touch $@

demo: install
	-$(BIN)/initaudit check examples/
	-$(BIN)/initaudit model --factory examples.audit_models:bad_mlp
	-$(BIN)/initaudit model --factory examples.audit_models:good_mlp

test: install
	$(BIN)/python -m pytest

# Rewrites every golden and snapshot file from the code as it is: the per-rule snapshots
# (tests/fixtures/rules/*.json, tests/fixtures/audit_rules/*.json), tests/golden/findings/*.json
# and the output formats (tests/lint/golden/*). Run it after an intended change of findings or
# output, then review its diff like code; with no change it rewrites nothing.
GOLDEN_TESTS := tests/lint/test_rule_snapshots.py tests/audit/test_rule_snapshots.py \
	tests/test_golden_findings.py tests/lint/test_output_formats.py::test_golden

golden: install
	INITAUDIT_UPDATE_GOLDEN=1 $(BIN)/python -m pytest -q $(GOLDEN_TESTS)
