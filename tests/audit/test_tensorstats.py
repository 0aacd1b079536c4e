from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from initaudit.auditor.measure.tensorstats import BLOCK_ELEMENTS, block_workers, tensor_stats
from initaudit.auditor.pipeline import audit_module


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64])
def test_blocked_pass_matches_whole_tensor_statistics(dtype: torch.dtype) -> None:
    tensor = torch.randn(700, 1000).mul_(0.05).add_(0.01).to(dtype)
    tensor[3, :40] = 0
    assert tensor.numel() > 2 * BLOCK_ELEMENTS
    exact = tensor.double()
    with block_workers() as mapper:
        stats = tensor_stats(tensor, mapper=mapper)
    assert math.isclose(stats.mean, float(exact.mean()), rel_tol=1e-5)
    assert math.isclose(stats.std, float(exact.std(unbiased=False)), rel_tol=1e-5)
    assert math.isclose(stats.sum_squares, float(exact.square().sum()), rel_tol=1e-5)
    assert (stats.minimum, stats.maximum) == (float(exact.min()), float(exact.max()))
    assert stats.zero_count == int((tensor == 0).sum())


def test_non_finite_values_are_counted_across_blocks() -> None:
    tensor = torch.randn(600, 1000)
    tensor[10, 3] = float("nan")
    tensor[590, 7] = float("inf")
    stats = tensor_stats(tensor)
    assert stats.nonfinite == 2 and stats.finite_count == tensor.numel() - 2
    assert math.isfinite(stats.mean) and math.isfinite(stats.maximum)


@pytest.mark.parametrize("rows", [5, 63, 300])
def test_duplicated_rows_are_found_wherever_they_sit(rows: int) -> None:
    # Identical rows at different positions of a float32 matrix-vector product may round
    # differently (vectorised body vs. remainder rows); the count must not depend on that.
    tensor = torch.randn(rows, 4099)
    tensor[rows - 1] = tensor[0]
    tensor[rows - 2] = tensor[0]
    tensor[2] = tensor[0]
    tensor[2, 17] += 1  # equal to row 0 but for one column, which the row keys may not sample
    tensor[1] = -0.0
    stats = tensor_stats(tensor)
    assert (stats.duplicate_rows, stats.zero_rows) == (2, 1)


def test_duplicated_rows_and_cloned_layers_are_reported() -> None:
    model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64))
    with torch.no_grad():
        model[0].weight[63] = model[0].weight[1]
        model[4].weight.copy_(model[2].weight)
    findings = {(f.code, f.parameter) for f in audit_module(model).findings}
    assert ("IA203", "0.weight") in findings
    assert ("IA204", "4.weight") in findings


def test_zeros_that_only_look_like_a_sparse_count_are_not_sparse() -> None:
    tensor = nn.init.kaiming_uniform_(torch.empty(64, 100))
    tensor[:3] = 0  # 300 zeros: a multiple of the column count, but whole rows
    assert tensor_stats(tensor).pattern is None
    assert tensor_stats(nn.init.sparse_(torch.empty(64, 100), 0.25)).pattern == "sparse"


def test_workers_restore_the_thread_count() -> None:
    before = torch.get_num_threads()
    with block_workers():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
