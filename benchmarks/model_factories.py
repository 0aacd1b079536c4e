"""Factories the benchmarks audit as ``model_factories:NAME``: stock architectures at their
published sizes, built in code (nothing is downloaded)."""

from __future__ import annotations

import torch

_declared: list[torch.library.Library] = []


def declare_torchvision_ops() -> None:
    """torchvision installed without its compiled ops imports only once they are declared
    (transformers and timm import torchvision when it is present)."""
    if _declared:
        return
    try:
        torch.ops.torchvision.nms
        return
    except (AttributeError, RuntimeError):
        pass
    library = torch.library.Library("torchvision", "DEF")
    library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    library.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _declared.append(library)


def bert_base() -> torch.nn.Module:
    declare_torchvision_ops()
    from transformers import BertConfig, BertModel

    return BertModel(BertConfig())


def vgg11() -> torch.nn.Module:
    declare_torchvision_ops()
    from torchvision.models import vgg11 as build

    return build()


def llama_7b() -> torch.nn.Module:
    declare_torchvision_ops()
    from transformers import LlamaConfig, LlamaForCausalLM

    return LlamaForCausalLM(LlamaConfig())
