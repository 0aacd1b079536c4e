from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from initaudit.auditor.identify.schemes import identify
from initaudit.auditor.measure.tensorstats import tensor_stats
from initaudit.auditor.pipeline import audit_module

init = nn.init
SCHEMES = [
    (lambda t: init.xavier_uniform_(t), "xavier_uniform", "uniform"),
    (lambda t: init.xavier_normal_(t, gain=5 / 3), "xavier_normal", "normal"),
    (lambda t: init.kaiming_normal_(t, nonlinearity="relu"), "kaiming_normal", "normal"),
    (lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), "kaiming_uniform", "uniform"),
    (lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), "kaiming_normal_fan_out", "normal"),
    (lambda t: init.kaiming_normal_(t, nonlinearity="linear"), "lecun_normal", "normal"),
    (lambda t: init.normal_(t, std=0.02), "normal", "normal"),
    (lambda t: init.trunc_normal_(t, std=0.02), "normal", "normal"),
    (lambda t: init.trunc_normal_(t, std=0.02, a=-0.04, b=0.04), "trunc_normal", "trunc_normal"),
    (lambda t: init.orthogonal_(t, gain=2.0), "orthogonal", "orthogonal"),
    (lambda t: init.uniform_(t, -0.3, 0.3), "uniform", "uniform"),
    (lambda t: init.zeros_(t), "zeros", "zeros"),
    (lambda t: init.ones_(t), "ones", "ones"),
    (lambda t: init.constant_(t, 0.5), "constant", "constant"),
    (lambda t: init.sparse_(t, 0.3), "sparse", "sparse"),
]


@pytest.mark.parametrize("apply,name,family", SCHEMES, ids=[f"{s[1]}-{i}" for i, s in enumerate(SCHEMES)])
def test_named_schemes_on_a_rectangular_matrix(apply, name: str, family: str) -> None:
    tensor = apply(torch.empty(128, 300))
    scheme = identify(tensor_stats(tensor))
    assert (scheme.name, scheme.family) == (name, family)
    if family not in ("zeros", "ones", "constant", "sparse"):
        truth = 0.02 if family == "trunc_normal" else tensor.pow(2).mean().sqrt().item()
        assert math.isclose(scheme.std, truth, rel_tol=0.05)


def test_structural_patterns() -> None:
    assert identify(tensor_stats(init.eye_(torch.empty(6, 9)))).name == "eye"
    assert identify(tensor_stats(init.dirac_(torch.empty(8, 4, 3, 3)))).name == "dirac"
    assert identify(tensor_stats(init.dirac_(torch.empty(8, 2, 3), groups=2))).name == "dirac"


def test_square_matrix_reports_aliases_and_lower_confidence() -> None:
    square = identify(tensor_stats(init.xavier_normal_(torch.empty(256, 256))))
    rectangular = identify(tensor_stats(init.xavier_normal_(torch.empty(128, 784))))
    assert "lecun_normal" in square.aliases
    assert square.confidence < rectangular.confidence


def test_trained_looking_tensor_is_unknown() -> None:
    heavy = torch.distributions.StudentT(3.0).sample((256, 256)) * 0.05
    assert identify(tensor_stats(heavy)).family == "unknown"


def _defaults(model: nn.Module, shape: tuple[int, ...] | None = None) -> dict[str, str]:
    return {p.name: p.scheme.name for p in audit_module(model, input_shape=shape).parameters}


def test_builtin_defaults_are_pytorch_default() -> None:
    for model in (nn.Linear(300, 200), nn.Conv2d(32, 64, 3), nn.Conv1d(16, 32, 5),
                  nn.ConvTranspose2d(32, 16, 4), nn.Conv2d(64, 64, 3, groups=8)):
        names = _defaults(model)
        assert names["weight"] == "pytorch_default" and names["bias"] == "pytorch_default", (model, names)
    assert _defaults(nn.Embedding(1000, 64))["weight"] == "pytorch_default"
    lstm = _defaults(nn.LSTM(32, 64), (5, 2, 32))
    gru = _defaults(nn.GRU(32, 64), (5, 2, 32))
    assert set(lstm.values()) == {"pytorch_default"} and set(gru.values()) == {"pytorch_default"}
    attention = {p.name: p.scheme for p in audit_module(nn.MultiheadAttention(64, 4)).parameters}
    assert attention["in_proj_weight"].name == "xavier_uniform"
    assert attention["in_proj_bias"].family == "zeros"
    assert attention["out_proj.weight"].name == "pytorch_default"


def test_builtin_defaults_from_a_bare_state_dict(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    from initaudit.model_command import run_model

    torch.save(nn.LSTM(16, 48).state_dict(), tmp_path / "lstm.pt")
    run_model(str(tmp_path / "lstm.pt"), output_format="json")
    names = {p["scheme"]["name"] for p in json.loads(capsys.readouterr().out)["parameters"]}
    assert names == {"pytorch_default"}


def test_subnormal_values_have_no_scheme_but_do_not_fail() -> None:
    tensor = torch.zeros(4, 4)
    tensor[0, 0] = 1e-39  # a float32 subnormal: its square underflows to zero
    scheme = identify(tensor_stats(tensor, 0), None)
    assert (scheme.name, scheme.confidence) == ("unknown", 0.0)
