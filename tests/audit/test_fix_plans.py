"""``--fix`` carries out the plans the rules put on their findings, and nothing else."""

from __future__ import annotations

from pathlib import Path

import torch

from examples import audit_models
from initaudit.auditor.fix.fixer import apply_fix, planned, reinitialiser
from initaudit.auditor.load.source import SourceKind, module_source
from initaudit.auditor.pipeline import analyse, selection
from initaudit.auditor.results import AuditFinding, FixPlan
from initaudit.diagnostics import Severity

HE = FixPlan("fc.weight", "kaiming_normal_", (("nonlinearity", "relu"), ("a", 0.0)), 2 ** 0.5 / 16, "why")


def _finding(code: str, parameter: str, plan: FixPlan | None) -> AuditFinding:
    return AuditFinding(code=code, name="n", severity=Severity.WARNING, message="m", parameter=parameter, fix=plan)


def test_a_random_plan_draws_from_its_seed_in_the_tensors_dtype() -> None:
    original = torch.zeros(512, 256, dtype=torch.float16)
    first, again, other = (reinitialiser(HE, seed)(original) for seed in (7, 7, 8))
    assert first.dtype == torch.float16 and first.shape == original.shape
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert abs(first.float().std().item() / HE.target_std - 1) < 0.02  # type: ignore[operator]
    assert HE.describe() == "kaiming_normal_(nonlinearity='relu', a=0)"


def test_a_plan_without_randomness_takes_no_generator() -> None:
    ones = FixPlan("norm.weight", "ones_", (), None, "a norm scale starts at 1")
    assert torch.equal(reinitialiser(ones, 0)(torch.randn(8)), torch.ones(8))


def test_one_plan_per_tensor_in_name_order() -> None:
    other = FixPlan("fc.weight", "xavier_normal_", (), 0.1, "another rule's")
    later = FixPlan("b.weight", "ones_", (), None, "why")
    found = [_finding("IA206", "fc.weight", HE), _finding("IA203", "fc.weight", other),
             _finding("IA207", "fc.weight", None), _finding("IA201", "b.weight", later)]
    assert planned(found) == {"b.weight": later, "fc.weight": HE}
    assert planned([_finding("IA207", "fc.weight", None)]) == {}


def test_only_the_selected_rules_findings_are_fixed(tmp_path: Path) -> None:
    """bad_mlp has one zero layer (IA201) and eight Xavier layers before ReLU (IA206): with IA201
    alone selected, its plan is the only one carried out and the re-audit runs IA201 alone."""
    enabled = selection(["IA201"])
    source = module_source(audit_models.bad_mlp(), SourceKind.FACTORY, None)
    analysis = analyse(source, enabled=enabled)
    outcome = apply_fix(source, analysis, str(tmp_path / "fixed.pt"), "torch", seed=0, trust_pickle=False,
                        factory="examples.audit_models:bad_mlp", enabled=enabled)
    assert [(c.name, c.scheme, c.verified) for c in outcome.changes] == [
        ("6.weight", "kaiming_uniform_(nonlinearity='relu', a=0)", True)]
    assert outcome.remaining == [] and outcome.exit_code == 0
    fixed = torch.load(tmp_path / "fixed.pt", weights_only=True)
    original = audit_models.bad_mlp().state_dict()
    assert [name for name in original if not torch.equal(original[name], fixed[name])] == ["6.weight"]
