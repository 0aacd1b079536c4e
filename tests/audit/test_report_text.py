"""The model report as a terminal shows it: width, names, legend, counts; and its JSON summary."""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner
from torch import nn

from initaudit.auditor.pipeline import audit_module
from initaudit.cli import main
from initaudit.report.audit_text import render_text, report_width

LONG = "encoder_block_attention_query_projection_layer"  # 46 characters


def xavier_before_relu(depth: int = 6, width: int = 64) -> nn.Sequential:
    layers: list[nn.Module] = []
    for _ in range(depth):
        linear = nn.Linear(width, width)
        nn.init.xavier_normal_(linear.weight)
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers)


def long_names() -> nn.Module:
    model = nn.Module()
    model.add_module("net", xavier_before_relu(2))
    model.add_module(LONG, nn.Linear(64, 64))
    model.forward = lambda x: getattr(model, LONG)(model.net(x))  # type: ignore[method-assign]
    return model


def rendered(model: nn.Module, width: int | None = None) -> str:
    stream = io.StringIO()
    render_text(audit_module(model), stream, width=width)
    return stream.getvalue()


@pytest.mark.parametrize("width", [80, 100, 150])
def test_fits_the_width_and_never_cuts_names(width: int) -> None:
    output = rendered(long_names(), width)
    assert max(map(len, output.splitlines())) <= width
    assert "…" not in output
    for name in ("net.0.weight", "net.2.weight", f"{LONG}.weight"):
        if len(name) <= width // 3:
            assert any(line.startswith(name + " ") for line in output.splitlines()), name
    folded, column = f"{LONG}.weight", width // 3
    if len(folded) > column:  # wrapped in its column over the next lines, every character kept
        lines = output.splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith(folded[:column]))
        pieces = -(-len(folded) // column)
        assert "".join(line[:column].rstrip() for line in lines[first: first + pieces]) == folded


def test_width_follows_columns_else_80_when_piped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "123")
    assert report_width(io.StringIO()) == 123
    monkeypatch.delenv("COLUMNS")
    assert report_width(io.StringIO()) == 80
    output = CliRunner().invoke(main, ["model", "--factory", "examples.audit_models:bad_mlp"]).output
    assert max(map(len, output.splitlines())) <= 80
    wide = CliRunner(env={"COLUMNS": "150"}).invoke(main, ["model", "--factory", "examples.audit_models:bad_mlp"]).output
    assert 80 < max(map(len, wide.splitlines())) <= 150


def test_legend_and_plurals() -> None:
    output = rendered(xavier_before_relu(), 100)
    assert "ratio: std / target" in output and "| at 1" in output
    one = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))
    nn.init.zeros_(one[0].weight)
    last = rendered(one, 100).splitlines()[-1]
    assert last == "4 parameters, 0 errors, 1 warning, 0 info"


def test_names_from_files_are_escaped() -> None:
    model = nn.Module()
    model.add_module("evil\x1b[2J", nn.Linear(4, 4))
    model.forward = lambda x: getattr(model, "evil\x1b[2J")(x)  # type: ignore[method-assign]
    output = rendered(model, 100)
    assert "\x1b" not in output and "evil\\x1b[2J.weight" in output


def test_json_summary_notes_and_across_sample_std() -> None:
    report = json.loads(audit_module(xavier_before_relu()).to_json())
    warnings = sum(f["severity"] == "warning" for f in report["findings"])
    assert report["summary"] == {"parameters": 12, "errors": 0, "warnings": warnings, "info": 1,
                                 "probed": True, "trained": False, "notes": 1,
                                 "coverage": {"layers": 6, "traced": 6, "probed": 6}}
    assert report["notes"] == ["forward probe on first layer (64x64)"]
    assert all(set(row) == {"module", "forward_std", "sample_std", "grad_norm", "grad_rms"} for row in report["signal"])
    assert report["signal"][-1]["sample_std"] < report["signal"][0]["sample_std"]
    unprobed = json.loads(audit_module(nn.Sequential(nn.Linear(3, 3)), input_shape=(2, 5)).to_json())
    assert unprobed["summary"]["probed"] is False and unprobed["notes"][0].startswith("no forward pass")
