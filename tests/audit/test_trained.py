"""Trained weights are recognised (IA209): init checks off for them, --fix refuses them
without --force, and a fix's "verified" comes from auditing the written output again."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import pytest
import torch
from torch import nn

from initaudit.auditor.load.source import SourceKind, module_source
from initaudit.auditor.pipeline import analyse, audit_module
from initaudit.diagnostics import Severity
from initaudit.model_command import run_model

FACTORY_CODE = """
from torch import nn

def build():
    return nn.Sequential(nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 4))
"""


def _architecture() -> nn.Sequential:
    namespace: dict[str, object] = {}
    exec(FACTORY_CODE, namespace)  # noqa: S102 - the same code the factory file holds
    return namespace["build"]()  # type: ignore[operator]


def _train(model: nn.Module, steps: int, seed: int = 0, only: Callable[[str], bool] = lambda name: True) -> float:
    """A few hundred Adam steps on a teacher task; returns the accuracy reached. One thread: small
    steps on several OpenMP threads wait on each other when other processes hold the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _steps(model, steps, seed, only)
    finally:
        torch.set_num_threads(threads)


def _steps(model: nn.Module, steps: int, seed: int, only: Callable[[str], bool]) -> float:
    generator = torch.Generator().manual_seed(seed)
    teacher = torch.randn(32, 4, generator=generator)
    chosen = [p for name, p in model.named_parameters() if only(name)]
    optimiser = torch.optim.Adam(chosen, lr=1e-3)
    for _ in range(steps):
        x = torch.randn(64, 32, generator=generator)
        loss = nn.functional.cross_entropy(model(x), (x @ teacher).argmax(1))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    x = torch.randn(2048, 32, generator=generator)
    with torch.no_grad():
        return float((model(x).argmax(1) == (x @ teacher).argmax(1)).float().mean())


@pytest.fixture(scope="module")
def trained() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    model = _architecture()
    assert _train(model, 300) > 0.85
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def _loaded(state: dict[str, torch.Tensor]) -> nn.Sequential:
    model = _architecture()
    model.load_state_dict(state)
    return model


def test_a_trained_model_gets_no_init_warning(trained: dict[str, torch.Tensor]) -> None:
    model = _loaded(trained)
    report = audit_module(model)
    assert report.exit_code == 0, report.findings
    assert report.summary()["trained"] is True
    assert all(p.trained and p.scheme.name == "trained" for p in report.parameters)
    note = [f for f in report.findings if f.code == "IA209"]
    assert len(note) == 1 and note[0].severity is Severity.INFO
    assert "trained: init checks do not apply to 6 of 6 tensors" in note[0].message
    # The same weights audited as inits do fail: recognition is what keeps the report quiet.
    as_init = analyse(module_source(model, SourceKind.FACTORY, None), recognise_trained=False).report
    assert as_init.exit_code == 1 and not as_init.summary()["trained"]


INITS: dict[str, Callable[[torch.Tensor], object]] = {
    "default": lambda t: nn.init.kaiming_uniform_(t, a=math.sqrt(5)),
    "xavier_uniform": nn.init.xavier_uniform_,
    "xavier_normal": nn.init.xavier_normal_,
    "kaiming_normal_fan_out": lambda t: nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
    "normal_0.02": lambda t: nn.init.normal_(t, std=0.02),
    "normal_1": nn.init.normal_,
    "trunc_normal_cut": lambda t: nn.init.trunc_normal_(t, std=0.02, a=-0.03, b=0.03),
    "uniform_0_1": nn.init.uniform_,
    "orthogonal": nn.init.orthogonal_,
    "sparse": lambda t: nn.init.sparse_(t.view(t.shape[0], -1), 0.3),
    "zeros": nn.init.zeros_,
    "eye": lambda t: nn.init.eye_(t.view(t.shape[0], -1)),
    "dirac": lambda t: nn.init.dirac_(t) if t.dim() > 2 else nn.init.eye_(t),
}


SHAPES = ((8, 16), (64, 64), (256, 1024), (1024, 64), (32, 16, 3, 3), (16, 8, 5))


@pytest.mark.parametrize("name", INITS)
def test_untrained_inits_are_not_trained(name: str) -> None:
    """Every init, in every shape, in float32 and bfloat16, audited together as one model."""
    torch.manual_seed(1)
    tensors = nn.ParameterDict()
    for shape in SHAPES:
        for dtype in (torch.float32, torch.bfloat16):
            tensor = torch.empty(shape)
            INITS[name](tensor)
            tensors["x".join(map(str, shape)) + str(dtype)[-4:]] = nn.Parameter(tensor.to(dtype))
    report = audit_module(tensors)
    assert not report.summary()["trained"], [(p.name, p.stats.spike, p.stats.misfit) for p in report.parameters]


def test_a_fresh_head_on_a_trained_body_is_still_an_init(trained: dict[str, torch.Tensor]) -> None:
    model = _loaded(trained)
    nn.init.xavier_normal_(model[2].weight)  # re-initialised, and wrong before a ReLU
    nn.init.zeros_(model[4].weight)  # a broken head: the zero check still applies
    report = audit_module(model)
    by_name = {p.name: p for p in report.parameters}
    assert by_name["0.weight"].trained and by_name["0.bias"].trained
    assert not by_name["2.weight"].trained and by_name["2.weight"].scheme.name == "xavier_normal"
    assert not by_name["4.weight"].trained
    assert any(f.code == "IA206" and f.parameter == "2.weight" and f.severity.fails for f in report.findings)
    assert any(f.code == "IA201" and f.parameter == "4.weight" for f in report.findings)


def test_only_the_layer_that_learned_is_trained() -> None:
    torch.manual_seed(2)
    model = _architecture()
    _train(model, 300, only=lambda name: name.startswith("2."))
    report = audit_module(model)
    assert [p.name for p in report.parameters if p.trained] == ["2.weight", "2.bias"]


def _factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "trained_factory.py").write_text(FACTORY_CODE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "trained_factory:build"


def test_fix_refuses_a_trained_checkpoint_unless_forced(trained: dict[str, torch.Tensor], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from initaudit.auditor.load.safetensors_io import save_safetensors

    checkpoint = tmp_path / "trained.safetensors"
    save_safetensors(trained, checkpoint)
    factory = _factory(tmp_path, monkeypatch)
    assert run_model(str(checkpoint), factory=factory) == 0
    capsys.readouterr()
    out = tmp_path / "fixed.safetensors"
    assert run_model(str(checkpoint), factory=factory, fix=True, output=str(out)) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("initaudit: error: --fix refused: 6 tensors look trained")
    assert "0.weight" in error[0] and "--force" in error[0] and not out.exists()

    status = run_model(str(checkpoint), factory=factory, fix=True, output=str(out), force=True)
    text = capsys.readouterr().out
    assert "tensors that look trained are audited as inits" in text and "fix written to" in text
    assert status == (0 if "re-audit of the output: no finding at warning or above" in text else 1)
    from safetensors.torch import load_file

    fixed = load_file(str(out))
    rewritten = [name for name in trained if not torch.equal(fixed[name], trained[name])]
    assert rewritten and all(name.endswith("weight") for name in rewritten)


def test_force_needs_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_model(factory="examples.audit_models:good_mlp", force=True) == 2
    assert "--force only applies with --fix" in capsys.readouterr().err


def test_verified_comes_from_auditing_the_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A re-initialiser that hits the target std but leaves duplicated rows is not verified."""
    from examples import audit_models
    from initaudit.auditor.fix import fixer
    from initaudit.auditor.load.safetensors_io import save_safetensors

    checkpoint = tmp_path / "bad.safetensors"
    save_safetensors(audit_models.bad_mlp().state_dict(), checkpoint)
    original = fixer.reinitialiser

    def reinitialiser(plan: fixer.FixPlan, seed: int) -> Callable[[torch.Tensor], torch.Tensor]:
        reinit = original(plan, seed)

        def duplicating(tensor: torch.Tensor) -> torch.Tensor:
            fresh = reinit(tensor)
            fresh[1::2] = fresh[0::2][: fresh[1::2].shape[0]]  # every other row a copy: same std
            return fresh
        return duplicating

    monkeypatch.setattr(fixer, "reinitialiser", reinitialiser)
    out = tmp_path / "fixed.safetensors"
    status = run_model(str(checkpoint), factory="examples.audit_models:bad_mlp", fix=True, output=str(out))
    text = capsys.readouterr().out
    assert status == 1
    assert "re-audit of the output: IA203" in text
    assert " yes" not in text.split("fix written to")[1].split("re-audit")[0]
