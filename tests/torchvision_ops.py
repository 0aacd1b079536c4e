"""torchvision next to a torch it was not compiled against, for the tests that build real models.

The registry's torchvision is a CUDA build whose compiled operators do not load beside the CPU
torch of the test environment, and transformers, timm and diffusers import it. Declaring its
operators (and giving NMS a plain-torch kernel) lets it import and run; a compiled torchvision
that registered them already is left alone.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
import torch

_TORCHVISION_OPS: list[Any] = []


def _nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression in plain torch, for torchvision builds without their C++ ops."""
    order = scores.argsort(descending=True)
    keep: list[int] = []
    while order.numel():
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        top_left = torch.maximum(boxes[best, :2], boxes[rest, :2])
        bottom_right = torch.minimum(boxes[best, 2:], boxes[rest, 2:])
        inter = (bottom_right - top_left).clamp(min=0).prod(dim=1)
        area = (boxes[:, 2:] - boxes[:, :2]).prod(dim=1)
        iou = inter / (area[best] + area[rest] - inter)
        order = rest[iou <= iou_threshold]
    return torch.tensor(keep, dtype=torch.long)


def _declared(operator: str) -> bool:
    try:
        getattr(torch.ops.torchvision, operator)
    except (AttributeError, RuntimeError):
        return False
    return True


def declare_torchvision_ops() -> None:
    """Let torchvision import next to a torch it was not compiled against (transformers, timm
    and diffusers import it too): its operators are declared, and NMS given a plain-torch
    kernel, unless a compiled torchvision (or another test) already did. Idempotent."""
    if not _declared("nms"):
        library = torch.library.Library("torchvision", "DEF")
        library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        library.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        _TORCHVISION_OPS.append(library)
    if not torch._C._dispatch_has_kernel_for_dispatch_key("torchvision::nms", "CPU"):
        kernels = torch.library.Library("torchvision", "IMPL")
        kernels.impl("nms", _nms, "CPU")
        _TORCHVISION_OPS.append(kernels)


def import_torchvision() -> Any:
    declare_torchvision_ops()
    torchvision = pytest.importorskip("torchvision")
    if not torchvision.extension._has_ops():  # NMS runs the kernel above, RoIAlign its Python path
        torchvision.ops.boxes._assert_has_ops = lambda: None
        align = sys.modules["torchvision.ops.roi_align"]
        align._roi_align = getattr(align._roi_align, "__wrapped__", align._roi_align)  # eager, not compiled
    return torchvision
