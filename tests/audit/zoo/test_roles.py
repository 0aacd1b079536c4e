"""Stock models judged by what each tensor does: zero tokens and position tables are quiet, a
zero query under rotary products is no residual end, a UNet's timestep add is no residual sum,
and a tied embedding is judged as the output projection it also is."""

from __future__ import annotations

import copy

import pytest
import torch

import initaudit
from initaudit.diagnostics import Severity
from tests.audit.zoo.conftest import Zoo


def audited(zoo: Zoo, name: str, *zeroed: str, change=torch.nn.init.zeros_):
    model = copy.deepcopy(zoo.model(name))
    torch.manual_seed(1)
    for parameter in zeroed:
        with torch.no_grad():
            change(model.get_parameter(parameter))
    return initaudit.audit(model)


def zero_findings(report, parameter: str) -> list[tuple[str, Severity]]:
    return [(f.code, f.severity) for f in report.findings if f.parameter == parameter and f.code == "IA201"]


@pytest.mark.parametrize(("name", "tables"), [
    ("vit", ("embeddings.cls_token", "embeddings.position_embeddings")),
    ("timm_vit_s", ("cls_token", "pos_embed")),
])
def test_zero_tokens_and_position_tables_are_quiet(zoo: Zoo, name: str, tables: tuple[str, ...]) -> None:
    report = audited(zoo, name, *tables)
    assert [f for f in report.findings if f.code in ("IA201", "IA202")] == []


@pytest.mark.parametrize(("parameter", "severity"), [
    ("model.layers.0.self_attn.q_proj.weight", Severity.WARNING),  # q * cos + rotate(q) * sin: products
    ("model.layers.0.self_attn.o_proj.weight", Severity.INFO),  # the attention branch's end
    ("model.layers.0.mlp.down_proj.weight", Severity.INFO),
])
def test_llama_zero_projections(zoo: Zoo, parameter: str, severity: Severity) -> None:
    assert zero_findings(audited(zoo, "llama", parameter), parameter) == [("IA201", severity)]


def test_gpt2_tied_embedding_drawn_n01_is_an_output_projection_fault(zoo: Zoo) -> None:
    report = audited(zoo, "gpt2", "transformer.wte.weight", change=torch.nn.init.normal_)
    wte = [f for f in report.findings if f.parameter == "transformer.wte.weight"]
    assert [(f.code, f.severity) for f in wte] == [("IA206", Severity.WARNING)]
    assert wte[0].message.startswith("as the output projection lm_head it is tied to")
    assert not [f for f in zoo.report("gpt2").findings if f.parameter == "transformer.wte.weight" and f.severity.fails]


@pytest.mark.parametrize(("parameter", "severity"), [
    ("down_blocks.0.resnets.0.conv1.weight", Severity.WARNING),  # h + temb conditions, closes nothing
    ("up_blocks.1.resnets.1.conv1.weight", Severity.WARNING),
    ("down_blocks.0.resnets.0.conv2.weight", Severity.INFO),  # the residual branch's end
    ("up_blocks.1.resnets.1.conv2.weight", Severity.INFO),  # closed over a 1x1 shortcut
])
def test_unet_timestep_add_is_no_residual_sum(zoo: Zoo, parameter: str, severity: Severity) -> None:
    assert zero_findings(audited(zoo, "unet2d", parameter), parameter) == [("IA201", severity)]
