"""One streamed pass over a tensor: moments, extremes, zeros, row fingerprints and a subsample.

Full-tensor work runs on float32 blocks of rows so that memory stays at one block beyond the
(memory-mapped) tensor; everything shape-dependent (kurtosis, Gram matrix, patterns) uses a
subsample or a few rows.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import torch

BLOCK_ELEMENTS = 1 << 22  # 16 MiB of float32 per block
SAMPLE_SIZE = 1 << 16
GRAM_ROWS = 64


@dataclass
class TensorStats:
    shape: tuple[int, ...]
    dtype: str
    numel: int
    mean: float
    std: float  # about the mean, population
    minimum: float
    maximum: float
    sum_squares: float  # about zero, over finite values
    zero_count: int
    nonfinite: int
    zero_rows: int
    duplicate_rows: int  # rows (non-zero) equal to an earlier row
    kurtosis: float  # excess, about the mean, on the subsample
    sample_size: int
    gram_deviation: float | None  # max|G - cI| / c on sampled rows of the shorter side
    gram_scale: float | None  # c: squared norm of a row (or column) of the shorter side
    pattern: str | None  # "eye" | "dirac" | "sparse"
    fingerprint: bytes | None  # equal tensors have equal fingerprints

    @property
    def abs_max(self) -> float:
        return max(abs(self.minimum), abs(self.maximum))

    @property
    def zero_fraction(self) -> float:
        return self.zero_count / self.numel if self.numel else 0.0

    @property
    def finite_count(self) -> int:
        return self.numel - self.nonfinite


def tensor_stats(tensor: torch.Tensor, seed: int = 0) -> TensorStats:
    tensor = tensor.detach()
    if tensor.is_complex() or tensor.dtype == torch.bool:
        tensor = tensor.real if tensor.is_complex() else tensor.to(torch.uint8)
    shape = tuple(tensor.shape)
    numel = tensor.numel()
    if numel == 0:
        return TensorStats(shape, _dtype_name(tensor), 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0, 0,
                           0.0, 0, None, None, None, None)
    matrix = tensor.reshape(shape[0], -1) if tensor.dim() >= 2 else tensor.reshape(1, -1)
    rows, cols = matrix.shape
    generator = torch.Generator().manual_seed(seed * 1_000_003 + cols)
    probe = torch.randn(cols, generator=generator)
    acc = _Accumulator()
    row_prints = []
    block_rows = max(1, BLOCK_ELEMENTS // max(cols, 1))
    for start in range(0, rows, block_rows):
        block = matrix[start:start + block_rows].float()
        acc.add(block)
        if tensor.dim() >= 2:
            row_prints.append(block @ probe)
    prints = torch.cat(row_prints) if row_prints else None
    sample = _subsample(tensor, generator)
    zero_rows, duplicates = _row_structure(matrix, prints) if prints is not None else (0, 0)
    finite = acc.finite
    mean = acc.total / finite if finite else 0.0
    variance = max(acc.squares / finite - mean * mean, 0.0) if finite else 0.0
    gram_dev, gram_scale = _gram(matrix, generator) if acc.nonfinite == 0 else (None, None)
    return TensorStats(
        shape=shape, dtype=_dtype_name(tensor), numel=numel, mean=mean,
        std=math.sqrt(variance), minimum=acc.minimum, maximum=acc.maximum,
        sum_squares=acc.squares, zero_count=acc.zeros, nonfinite=acc.nonfinite,
        zero_rows=zero_rows, duplicate_rows=duplicates, kurtosis=_kurtosis(sample),
        sample_size=sample.numel(), gram_deviation=gram_dev, gram_scale=gram_scale,
        pattern=_pattern(tensor, matrix, acc) if acc.nonfinite == 0 else None,
        fingerprint=_fingerprint(shape, prints, acc) if prints is not None else None,
    )


class _Accumulator:
    def __init__(self) -> None:
        self.total = 0.0
        self.squares = 0.0
        self.zeros = 0
        self.nonfinite = 0
        self.finite = 0
        self.minimum = math.inf
        self.maximum = -math.inf

    def add(self, block: torch.Tensor) -> None:
        flat = block.reshape(-1)
        squares = float(torch.dot(flat, flat))
        if not math.isfinite(squares):
            mask = torch.isfinite(flat)
            self.nonfinite += int(flat.numel() - mask.sum())
            flat = flat[mask]
            if flat.numel() == 0:
                return
            squares = float(torch.dot(flat, flat))
        low, high = torch.aminmax(flat)
        self.minimum = min(self.minimum, float(low))
        self.maximum = max(self.maximum, float(high))
        self.total += float(flat.sum())
        self.squares += squares
        self.zeros += flat.numel() - int(torch.count_nonzero(flat))
        self.finite += flat.numel()


def _dtype_name(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def _subsample(tensor: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    flat = tensor.reshape(-1)
    if flat.numel() <= SAMPLE_SIZE:
        sample = flat.double()
    else:
        # A strided slice from a random offset: one cheap pass instead of a random gather.
        step = flat.numel() // SAMPLE_SIZE
        offset = int(torch.randint(step, (1,), generator=generator))
        sample = flat[offset::step][:SAMPLE_SIZE].double()
    return sample[torch.isfinite(sample)]


def _kurtosis(sample: torch.Tensor) -> float:
    if sample.numel() < 4:
        return 0.0
    centred = sample - sample.mean()
    var = float(centred.square().mean())
    if var == 0:
        return 0.0
    return float(centred.pow(4).mean()) / (var * var) - 3.0


def _row_structure(matrix: torch.Tensor, prints: torch.Tensor) -> tuple[int, int]:
    """(all-zero rows, non-zero rows that repeat an earlier row), confirmed exactly."""
    zero_candidates = torch.nonzero(prints == 0).flatten()
    zero_rows = sum(1 for r in zero_candidates.tolist() if not bool(matrix[r].any()))
    if prints.numel() < 2:
        return zero_rows, 0
    order = torch.argsort(prints)
    ordered = prints[order]
    same = torch.nonzero(ordered[1:] == ordered[:-1]).flatten()
    duplicates = 0
    for position in same.tolist()[:10_000]:
        first, second = int(order[position]), int(order[position + 1])
        if prints[first] != 0 and torch.equal(matrix[first], matrix[second]):
            duplicates += 1
    return zero_rows, duplicates


def _gram(matrix: torch.Tensor, generator: torch.Generator) -> tuple[float | None, float | None]:
    rows, cols = matrix.shape
    if min(rows, cols) < 2 or matrix.dim() != 2:
        return None, None
    if rows <= cols:
        index = torch.randperm(rows, generator=generator)[:GRAM_ROWS]
        side = matrix[index].double()
    else:
        index = torch.randperm(cols, generator=generator)[:GRAM_ROWS]
        side = matrix[:, index].double().T
    gram = side @ side.T
    scale = float(gram.diagonal().mean())
    if scale <= 0:
        return None, None
    deviation = (gram - scale * torch.eye(gram.shape[0], dtype=gram.dtype)).abs().max()
    return float(deviation) / scale, scale


def _pattern(tensor: torch.Tensor, matrix: torch.Tensor, acc: _Accumulator) -> str | None:
    numel = tensor.numel()
    if tensor.dim() < 2 or acc.zeros == 0 or acc.zeros == numel:
        return None
    ones_and_zeros = acc.minimum == 0.0 and acc.maximum == 1.0
    if ones_and_zeros and tensor.dim() == 2 and _is_eye(matrix, numel - acc.zeros):
        return "eye"
    if ones_and_zeros and tensor.dim() in (3, 4, 5) and _is_dirac(tensor, numel - acc.zeros):
        return "dirac"
    if tensor.dim() == 2 and _is_sparse(matrix, acc.zeros):
        return "sparse"
    return None


def _is_eye(matrix: torch.Tensor, nonzero: int) -> bool:
    rows, cols = matrix.shape
    return nonzero == min(rows, cols) and bool((matrix.diagonal() == 1).all())


def _is_dirac(tensor: torch.Tensor, nonzero: int) -> bool:
    out_channels, in_channels = tensor.shape[:2]
    if nonzero > out_channels or nonzero == 0:
        return False
    centre = tuple(size // 2 for size in tensor.shape[2:])
    positions = torch.nonzero(tensor).tolist()
    if any(tuple(p[2:]) != centre for p in positions):
        return False
    for per_group in range(1, out_channels + 1):
        if out_channels % per_group:
            continue
        groups = out_channels // per_group
        expected = groups * min(per_group, in_channels)
        if expected == nonzero and all(p[1] == p[0] % per_group for p in positions):
            return True
    return False


def _is_sparse(matrix: torch.Tensor, zeros: int) -> bool:
    """sparse_: the same number of zeros in every column, scattered rather than whole rows."""
    rows, cols = matrix.shape
    per_column = (matrix == 0).sum(dim=0)
    count = int(per_column[0])
    if count == 0 or not bool((per_column == count).all()):
        return False
    whole_zero_rows = int((~matrix.any(dim=1)).sum())
    return whole_zero_rows < count


def _fingerprint(shape: tuple[int, ...], prints: torch.Tensor, acc: _Accumulator) -> bytes:
    digest = hashlib.sha256(repr((shape, acc.total, acc.squares, acc.minimum, acc.maximum)).encode())
    digest.update(repr(prints.tolist()).encode())
    return digest.digest()
