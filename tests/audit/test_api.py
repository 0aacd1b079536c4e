"""``initaudit.audit`` and ``initaudit.testing.assert_well_initialized``: the auditor in a test suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import initaudit
from initaudit.testing import assert_well_initialized


def he_mlp() -> nn.Sequential:
    layers: list[nn.Module] = []
    for _ in range(4):
        linear = nn.Linear(32, 32)
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(32, 4))


def with_zero_layer() -> nn.Sequential:
    model = he_mlp()
    nn.init.zeros_(model[2].weight)
    return model


def test_audit_a_model_or_a_factory() -> None:
    report = initaudit.audit(with_zero_layer())
    assert not report.ok
    assert [(f.code, f.parameter) for f in report.findings if f.code == "IA201"] == [("IA201", "2.weight")]
    assert [p.name for p in report.parameters][:2] == ["0.weight", "0.bias"]
    assert report.signal and report.signal[0].module == "0"
    assert json.loads(report.to_json())["summary"]["parameters"] == 10
    assert initaudit.audit(he_mlp).ok  # a factory is called
    conv = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
    assert initaudit.audit(conv, input_shape=(2, 3, 16, 16)).signal


def test_audit_leaves_the_model_as_it_was() -> None:
    model = with_zero_layer().eval()
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    initaudit.audit(model)
    assert not model.training
    assert all(torch.equal(before[name], tensor) for name, tensor in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


def test_audit_rejects_what_is_not_a_model() -> None:
    with pytest.raises(TypeError, match="nn.Module"):
        initaudit.audit(42)
    with pytest.raises(TypeError, match="returned int"):
        initaudit.audit(lambda: 42)


def test_assert_well_initialized_passes_and_fails_with_the_report() -> None:
    assert assert_well_initialized(he_mlp()).ok
    with pytest.raises(AssertionError) as failure:
        assert_well_initialized(with_zero_layer())
    message = str(failure.value)
    assert "IA201 warning 2.weight: all-zero weight matrix" in message
    assert "parameters" in message and "ratio: std / target" in message


@pytest.mark.parametrize("ignore", [["IA201", "IA207"], ["IA2"], ["zero-weight-matrix", "signal-collapse"]])
def test_ignore_by_code_prefix_or_name(ignore: list[str]) -> None:
    report = assert_well_initialized(with_zero_layer(), ignore=ignore)
    assert not any(f.code in ("IA201", "IA207") for f in report.findings)


@pytest.mark.parametrize("typo", ["IA999", "zero-weight", ""])
def test_unknown_ignore_is_an_error_not_a_silent_pass(typo: str) -> None:
    with pytest.raises(ValueError, match="unknown rule selector"):
        assert_well_initialized(he_mlp(), ignore=[typo])


@pytest.mark.parametrize(("select", "ignore", "codes"), [
    (["IA201"], [], {"IA201"}), (["zero-weight-matrix"], [], {"IA201"}), ("IA201", [], {"IA201"}),
    (["IA20"], ["IA207"], {"IA201"}), (["ALL"], ["IA2"], set()), (["IA1"], [], set()),
    (["ALL"], [], {"IA201", "IA207"}),
])
def test_select_and_ignore_choose_the_rules_that_run(select: list[str], ignore: list[str], codes: set[str]) -> None:
    assert {f.code for f in initaudit.audit(with_zero_layer(), select=select, ignore=ignore).findings} == codes


@pytest.mark.parametrize("typo", ["IA999", "zero-weight", ""])
def test_unknown_select_is_an_error_before_any_work(typo: str) -> None:
    with pytest.raises(ValueError, match="unknown rule selector"):
        initaudit.audit(lambda: pytest.fail("the model was built"), select=[typo])


def test_importing_initaudit_does_not_import_torch() -> None:
    script = ("import sys, initaudit, initaudit.auditor, initaudit.testing\n"
              "assert callable(initaudit.audit)\n"
              "assert 'torch' not in sys.modules, 'torch was imported'\n"
              "print('ok')")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


def test_the_report_names_the_factory_or_the_class() -> None:
    assert initaudit.audit(he_mlp).source == f"{__name__}:he_mlp"
    assert initaudit.audit(he_mlp()).source == "torch.nn.modules.container.Sequential"


def test_measuring_reports_progress_per_tensor() -> None:
    from initaudit.auditor.load.source import SourceKind, module_source
    from initaudit.auditor.pipeline import analyse

    model = he_mlp()
    seen: list[tuple[int, int]] = []
    analyse(module_source(model, SourceKind.FACTORY, None), progress=lambda done, total: seen.append((done, total)))
    total = sum(1 for _ in model.parameters())
    assert seen == [(done, total) for done in range(1, total + 1)]


def test_a_failure_names_codes_and_the_worst_in_pytests_short_summary(tmp_path: Path) -> None:
    (tmp_path / "test_model.py").write_text(
        "import torch\nfrom torch import nn\nfrom initaudit.testing import assert_well_initialized\n"
        "def test_model():\n"
        "    model = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4))\n"
        "    with torch.no_grad():\n"
        "        model[0].weight.zero_()\n"
        "        model[2].weight[0, 0] = float('nan')\n"
        "    assert_well_initialized(model)\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rf", "-p", "no:cacheprovider", str(tmp_path)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300,
                            env={**os.environ, "COLUMNS": "120"})
    summary = next(line for line in result.stdout.splitlines() if line.startswith("FAILED"))
    assert summary.startswith("FAILED test_model.py::test_model - AssertionError: IA205 2.weight, worst of 2 "
                              "initialisation problems (IA201, IA205)")
