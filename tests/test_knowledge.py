"""The knowledge base against torch itself, and kept free of shadowed definitions."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest

from initaudit import knowledge

torch = pytest.importorskip("torch")

SHAPES = [(7, 5), (128, 256), (256, 64), (16, 8, 3), (32, 16, 3, 3), (8, 4, 2, 3, 3), (4, 12, 5, 5)]
NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "selu", "leaky_relu"]


def test_no_top_level_name_is_bound_twice() -> None:
    tree = ast.parse(Path(knowledge.__file__).read_text(encoding="utf-8"))
    bound: list[str] = []
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
            bound.append(statement.name)
        elif isinstance(statement, ast.Assign):
            bound += [t.id for t in statement.targets if isinstance(t, ast.Name)]
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            bound.append(statement.target.id)
    assert sorted(name for name in set(bound) if bound.count(name) > 1) == []


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
@pytest.mark.parametrize("param", [None, 0, 0.01, 0.2, 1, 3.5])
def test_calculate_gain_matches_torch(nonlinearity: str, param: float | None) -> None:
    assert knowledge.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-12)


@pytest.mark.parametrize("arguments", [("gelu", None), ("leaky_relu", "x"), ("leaky_relu", True)])
def test_calculate_gain_rejects_what_torch_rejects(arguments: tuple) -> None:
    with pytest.raises(ValueError):
        torch.nn.init.calculate_gain(*arguments)
    with pytest.raises(ValueError):
        knowledge.calculate_gain(*arguments)


@pytest.mark.parametrize("shape", [*SHAPES, (3,), (4, 0)])
def test_fans_match_torch(shape: tuple[int, ...]) -> None:
    tensor = torch.empty(shape)
    if len(shape) < 2:
        with pytest.raises(ValueError):
            knowledge.fans(shape)
        return
    assert knowledge.fans(shape) == torch.nn.init._calculate_fan_in_and_fan_out(tensor)


def _grid() -> list[tuple[str, dict[str, object], tuple[int, ...]]]:
    cases: list[tuple[str, dict[str, object]]] = [
        ("uniform_", {}), ("uniform_", {"a": -0.3, "b": 0.5}),
        ("normal_", {}), ("normal_", {"mean": 1.0, "std": 0.02}),
        ("trunc_normal_", {}), ("trunc_normal_", {"std": 0.02}),
        ("trunc_normal_", {"std": 1.0, "a": -1.0, "b": 1.0}),
        ("trunc_normal_", {"mean": 0.5, "std": 0.5, "a": 0.0, "b": 2.0}),
        ("zeros_", {}), ("ones_", {}), ("constant_", {"val": 0.3}),
    ]
    cases += [("sparse_", {"sparsity": 0.1}), ("sparse_", {"sparsity": 0.5, "std": 0.2})]
    for function in ("xavier_uniform_", "xavier_normal_", "orthogonal_"):
        cases += [(function, {}), (function, {"gain": 5.0 / 3.0}), (function, {"gain": 0.02})]
    for function in ("kaiming_uniform_", "kaiming_normal_"):
        for mode in ("fan_in", "fan_out"):
            for nonlinearity, a in (("relu", 0.0), ("leaky_relu", 0.0), ("leaky_relu", 0.2),
                                    ("leaky_relu", math.sqrt(5)), ("tanh", 0.0), ("linear", 0.0)):
                cases.append((function, {"mode": mode, "nonlinearity": nonlinearity, "a": a}))
    shapes = [(128, 256), (256, 64), (32, 16, 3, 3), (8, 40, 2, 3, 3)]
    return [(function, arguments, shape) for function, arguments in cases for shape in shapes
            if len(shape) <= (knowledge.INIT_FUNCTIONS[function].max_dim or len(shape))]


@pytest.mark.parametrize(("function", "arguments", "shape"), _grid())
def test_init_std_matches_what_torch_draws(function: str, arguments: dict[str, object],
                                           shape: tuple[int, ...]) -> None:
    """Every scheme's predicted std equals the std of what torch's initialiser draws (within the
    sampling error of tensors of 30k-90k elements)."""
    spec = knowledge.INIT_FUNCTIONS[function]
    tensor = torch.empty(shape, dtype=torch.float64)
    if "generator" in spec.params:
        arguments = {**arguments, "generator": torch.Generator().manual_seed(0)}
    getattr(torch.nn.init, function)(tensor, **arguments)
    arguments.pop("generator", None)
    predicted = knowledge.init_std(function, shape, **arguments)
    assert predicted == pytest.approx(tensor.std().item(), rel=0.03, abs=1e-12)


def test_pytorch_default_is_kaiming_uniform_with_a_sqrt5() -> None:
    layer = torch.nn.Linear(300, 200)
    assert knowledge.pytorch_default_std(300) == pytest.approx(
        knowledge.init_std("kaiming_uniform_", (200, 300), a=math.sqrt(5)), rel=1e-12)
    assert knowledge.pytorch_default_std(300) == pytest.approx(layer.weight.std().item(), rel=0.03)


@pytest.mark.parametrize(("path", "fragment"), [
    ("unet.zero_convs.0", "zero_conv"), ("controlnet.zero_conv.0.weight", "zero_conv"),
    ("blocks.0.adaLN_modulation.1.weight", "adaln_modulation"), ("mlp.gate_proj.weight", "gate"),
    ("attn_gate", "gate"), ("layers.3.ls1.gamma", "ls1"), ("lora_B.default.weight", "lora_b"),
    ("block.alpha", "alpha"), ("aggregate.weight", None), ("fc1.weight", None),
    ("encoder.rezero_weight", "rezero"),
])
def test_one_intentional_zero_matcher(path: str, fragment: str | None) -> None:
    assert knowledge.intentional_zero_fragment(path) == fragment


def test_pytorch_default_gain_is_torchs() -> None:
    torch = pytest.importorskip("torch")
    import math

    from initaudit import knowledge

    assert knowledge.PYTORCH_DEFAULT_GAIN == pytest.approx(torch.nn.init.calculate_gain("leaky_relu", math.sqrt(5)))
