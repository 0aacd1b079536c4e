"""What kind of layer owns a parameter, and what torch's own init gives it (init-reference §2)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from initaudit import knowledge
from initaudit.auditor.identify.schemes import DefaultInit
from initaudit.knowledge import LayerKind

_RNN_PARAM = re.compile(r"(?:^|\.)(weight|bias)_(ih|hh|hr)_l\d+(?:_reverse)?$")
_EMBEDDING_NAME = re.compile(r"(emb|wte|wpe|tok_|token|word_|position_)", re.IGNORECASE)
_SWISH = re.compile("swish", re.IGNORECASE)


def class_name(module: torch.nn.Module) -> str:
    """The nn class name, also for TorchScript modules (``original_name``)."""
    return getattr(module, "original_name", None) or type(module).__name__


_TORCH_NORMS = (torch.nn.modules.batchnorm._NormBase, torch.nn.LayerNorm, torch.nn.GroupNorm,
                torch.nn.LocalResponseNorm, torch.nn.RMSNorm)


def module_kind(module: torch.nn.Module) -> LayerKind | None:
    """What a module is: its torch.nn class or base class, a known transposed dense layer, or a
    leaf module named like a normalisation (``LlamaRMSNorm``). A composite module named
    ``...Norm...`` (``Conv2dNormActivation``, ``NormMlpClassifierHead``) is none of these."""
    name = class_name(module)
    kind = knowledge.layer_kind(name)
    if kind is not None:
        return kind
    if name in knowledge.TRANSPOSED_DENSE_LAYERS:
        return LayerKind.DENSE
    if isinstance(module, torch.nn.Linear) or isinstance(module, torch.nn.modules.conv._ConvNd):
        return LayerKind.DENSE
    if isinstance(module, (torch.nn.Embedding, torch.nn.EmbeddingBag)):
        return LayerKind.EMBEDDING
    if isinstance(module, (torch.nn.RNNBase, torch.nn.RNNCellBase)):
        return LayerKind.RECURRENT
    if isinstance(module, _TORCH_NORMS):
        return LayerKind.NORM
    leaf = not any(True for _ in module.children())
    if leaf and "norm" in name.lower() and not any(p.dim() >= 2 for p in module.parameters(recurse=False)):
        return LayerKind.NORM
    if custom_activation(module) is not None:
        return LayerKind.ACTIVATION
    return None


def custom_activation(module: torch.nn.Module) -> str | None:
    """Activation named by a parameter-free module class outside torch.nn (``NewGELUActivation``)."""
    name = class_name(module)
    if name in knowledge.ACTIVATION_MODULES or any(True for _ in module.parameters(recurse=False)):
        return None
    if any(True for _ in module.children()):
        return None
    lowered = _SWISH.sub("silu", name.lower())
    for activation in sorted(knowledge.ACTIVATIONS, key=len, reverse=True):
        if activation != "linear" and activation in lowered:
            return activation
    return None


@dataclass(frozen=True)
class ParameterContext:
    layer_type: str | None  # class name of the owning module (guessed without a module)
    kind: LayerKind | None
    default: DefaultInit | None
    #: The weight is stored (in, out), as Hugging Face's Conv1D: its fans are the reverse of torch's.
    transposed: bool = False
    #: ``module.QualifiedClass`` of the module holding the layer (``timm.layers.mlp.Mlp``).
    block_type: str | None = None


def contexts_from_module(module: torch.nn.Module) -> dict[str, ParameterContext]:
    found: dict[str, ParameterContext] = {}
    modules = dict(module.named_modules())
    for prefix, owner in modules.items():
        kind = module_kind(owner)
        block = modules.get(prefix.rpartition(".")[0]) if prefix else None
        for local, parameter in owner.named_parameters(recurse=False):
            name = f"{prefix}.{local}" if prefix else local
            found[name] = ParameterContext(
                class_name(owner), kind, _module_default(owner, kind, local, parameter),
                class_name(owner) in knowledge.TRANSPOSED_DENSE_LAYERS,
                None if block is None else f"{type(block).__module__}.{type(block).__qualname__}")
    return found


def _module_default(owner: torch.nn.Module, kind: str | None, local: str,
                    parameter: torch.Tensor) -> DefaultInit | None:
    if kind is LayerKind.DENSE:
        weight = getattr(owner, "weight", None)
        if weight is None or weight.dim() < 2 or class_name(owner) in knowledge.TRANSPOSED_DENSE_LAYERS:
            return None
        fan_in = weight.shape[1] if class_name(owner) == "Bilinear" else knowledge.fans(tuple(weight.shape))[0]
        return DefaultInit("uniform", knowledge.pytorch_default_std(fan_in), knowledge.PYTORCH_DEFAULT_GAIN)
    if kind is LayerKind.EMBEDDING and local == "weight":
        return DefaultInit("normal", 1.0, None)
    if kind is LayerKind.RECURRENT:
        hidden = getattr(owner, "hidden_size", None)
        if hidden:
            return DefaultInit("uniform", knowledge.pytorch_default_std(hidden), knowledge.PYTORCH_DEFAULT_GAIN)
    return None


def contexts_from_names(shapes: dict[str, tuple[int, ...]]) -> dict[str, ParameterContext]:
    """Best guesses for a bare state dict: layer types from parameter names and shapes."""
    found: dict[str, ParameterContext] = {}
    for name, shape in shapes.items():
        rnn = _RNN_PARAM.search(name)
        if rnn:
            hidden = _rnn_hidden(name, shapes)
            default = DefaultInit("uniform", knowledge.pytorch_default_std(hidden), knowledge.PYTORCH_DEFAULT_GAIN) if hidden else None
            found[name] = ParameterContext("RNN", LayerKind.RECURRENT, default)
        elif len(shape) == 2 and _EMBEDDING_NAME.search(name.rsplit(".", 1)[0] if "." in name else name):
            found[name] = ParameterContext("Embedding", LayerKind.EMBEDDING, DefaultInit("normal", 1.0, None))
        elif len(shape) >= 2 and name.endswith("weight") and "norm" not in name.lower():
            fan_in = knowledge.fans(shape)[0]
            found[name] = ParameterContext(
                None, LayerKind.DENSE, DefaultInit("uniform", knowledge.pytorch_default_std(fan_in), knowledge.PYTORCH_DEFAULT_GAIN))
        elif len(shape) == 1 and name.endswith("bias"):
            weight = shapes.get(name[: -len("bias")] + "weight")
            default = None
            if weight is not None and len(weight) >= 2:
                default = DefaultInit("uniform", knowledge.pytorch_default_std(knowledge.fans(weight)[0]),
                                      knowledge.PYTORCH_DEFAULT_GAIN)
            found[name] = ParameterContext(None, LayerKind.DENSE if default else None, default)
        else:
            found[name] = ParameterContext(None, None, None)
    return found


def _rnn_hidden(name: str, shapes: dict[str, tuple[int, ...]]) -> int | None:
    layer = re.sub(r"(weight|bias)_(ih|hh|hr)_", "weight_hh_", name)
    recurrent = shapes.get(layer)
    projection = shapes.get(re.sub(r"(weight|bias)_(ih|hh|hr)_", "weight_hr_", name))
    if projection is not None:
        return projection[1]
    if recurrent is not None and len(recurrent) == 2:
        return recurrent[1]
    return None
