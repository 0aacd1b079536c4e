"""Per-tensor statistics: one streamed pass for moments, extremes and zeros; samples for the rest.

The full-tensor pass walks float32 blocks of whole rows small enough to stay in cache, so its
few reductions read each element from memory once. Everything shape-dependent (kurtosis, Gram
matrix, row keys for duplicates and clones, patterns) uses a subsample, a few rows or a few
columns."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import torch

from initaudit.auditor.measure import training_evidence

BLOCK_ELEMENTS = 1 << 18  # 1 MiB of float32: the block's four reductions read it from L2
SAMPLE_SIZE = 1 << 16
GRAM_ROWS = 64
#: Columns whose bytes key each row when looking for duplicated rows.
KEY_COLUMNS = 32
#: Projections of equal rows agree to float64 rounding; different rows are far further apart.
PRINT_TOLERANCE = 1e-9
#: ``--sample`` reads at most this many elements of a tensor: whole rows spread evenly over it
#: (a random offset, then a fixed stride), or chunks of ``SAMPLE_CHUNK`` elements for vectors
#: and very wide matrices. For i.i.d. init values the sample's std has a relative standard error
#: of sqrt((kurtosis + 2) / 4n), 0.14 % for a normal init at n = 2**18 (less for uniform): the
#: std, hence the scheme, is within ``SAMPLED_STD_BOUND`` (7 standard errors) of the full
#: tensor's.
SAMPLED_ELEMENTS = 1 << 18
SAMPLE_CHUNK = 4096
SAMPLED_STD_BOUND = 0.01
#: Deterministic structure (``_deterministic``): lines of at least this many values along an
#: axis, a few of them, each read up to ``STRUCTURE_LENGTH`` values, must be reproduced by a short
#: recurrence to within ``EXACT_FIT`` of their spread (or a few of the dtype's steps) with at
#: least ``SPARE_EQUATIONS`` equations more than the recurrence has coefficients: a random draw
#: fits to 1e-3 by a chance of about 1e-3 per spare equation and line.
STRUCTURE_LINES = 16
STRUCTURE_LENGTH = 256
EXACT_FIT = 1e-3
SPARE_EQUATIONS = 4
#: A line needs this many distinct values to show its structure (``[s, 0, 0, ...]`` fits any);
#: lines with fewer say nothing either way.
STRUCTURE_DISTINCT = 4

Mapper = Callable[..., Iterable["_Moments"]]


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
    #: "eye" | "dirac" | "sparse" | "structured": values a low-order function of their position
    #: (arange, linspace, log/exp of them, sinusoid tables), deterministic rather than drawn.
    pattern: str | None
    fingerprint: bytes | None  # equal tensors have equal fingerprints
    #: Evidence of training (auditor/measure/training_evidence.py): spectral spike and misfit to every init family.
    spike: float | None = None
    misfit: float | None = None
    #: Elements read when the statistics come from a sample (``--sample``), else None.
    sampled: int | None = None

    @property
    def abs_max(self) -> float:
        return max(abs(self.minimum), abs(self.maximum))

    @property
    def zero_fraction(self) -> float:
        return self.zero_count / self.numel if self.numel else 0.0

    @property
    def finite_count(self) -> int:
        return self.numel - self.nonfinite


@contextlib.contextmanager
def block_workers() -> Iterator[Mapper]:
    """A ``map`` that spreads blocks over torch's threads, each block computed single-threaded.

    Small reductions on several OpenMP threads pay a barrier each; when another process holds a
    core, every barrier waits for a scheduler slice and the pass gets ten times slower.
    Independent single-threaded workers just share whatever cores are free.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        if threads == 1:
            yield map
        else:
            # A thread's OpenMP team size is its own: each worker sets it, or its reductions
            # would split by the default and round differently from one run to the next.
            with ThreadPoolExecutor(threads, initializer=torch.set_num_threads, initargs=(1,)) as pool:
                yield pool.map
    finally:
        torch.set_num_threads(threads)


def tensor_stats(tensor: torch.Tensor, seed: int = 0, mapper: Mapper | None = None,
                 sample: bool = False) -> TensorStats:
    """Statistics of one tensor; pass the ``mapper`` of an open ``block_workers()`` when
    looping over many tensors. With ``sample``, tensors over ``SAMPLED_ELEMENTS`` are measured
    on rows spread over them; counts are scaled to the whole tensor."""
    if mapper is None:
        with block_workers() as workers:
            return tensor_stats(tensor, seed, workers, sample)
    tensor = tensor.detach()
    if sample and tensor.numel() > SAMPLED_ELEMENTS:
        return _sampled_stats(tensor, seed, mapper)
    if tensor.is_complex() or tensor.dtype == torch.bool:
        tensor = tensor.real if tensor.is_complex() else tensor.to(torch.uint8)
    shape = tuple(tensor.shape)
    numel = tensor.numel()
    if numel == 0:
        return TensorStats(shape, _dtype_name(tensor), 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0, 0,
                           0.0, 0, None, None, None, None)
    matrix = tensor.reshape(shape[0], -1) if tensor.dim() >= 2 else tensor.reshape(1, -1)
    if tensor.dim() >= 2:
        parts = list(mapper(_moments, _row_blocks(matrix)))
    else:
        flat = matrix.reshape(-1)
        parts = list(mapper(_moments, [flat[start:start + BLOCK_ELEMENTS]
                                       for start in range(0, numel, BLOCK_ELEMENTS)]))
    acc = _Moments.merge(parts)
    generator = torch.Generator().manual_seed(seed * 1_000_003 + matrix.shape[1])
    sample = _subsample(tensor, generator)
    finite = acc.finite
    mean = acc.total / finite if finite else 0.0
    variance = max(acc.squares / finite - mean * mean, 0.0) if finite else 0.0
    gram_dev, gram_scale = _gram(matrix, generator) if acc.nonfinite == 0 else (None, None)
    keys = _row_keys(matrix, generator) if tensor.dim() >= 2 else None
    pattern = _pattern(tensor, matrix, acc) if acc.nonfinite == 0 else None
    if pattern is None and acc.nonfinite == 0 and acc.minimum != acc.maximum and _deterministic(tensor):
        pattern = "structured"
    # Neither a constant nor a deterministic structure is evidence of training.
    structured = acc.nonfinite or acc.minimum == acc.maximum or pattern == "structured"
    zero_rows, duplicates = (_row_structure(matrix, keys, acc, generator)
                             if keys is not None and acc.nonfinite == 0 else (0, 0))
    return TensorStats(
        shape=shape, dtype=_dtype_name(tensor), numel=numel, mean=mean,
        std=math.sqrt(variance), minimum=acc.minimum, maximum=acc.maximum,
        sum_squares=acc.squares, zero_count=acc.zeros, nonfinite=acc.nonfinite,
        zero_rows=zero_rows, duplicate_rows=duplicates, kurtosis=_kurtosis(sample),
        sample_size=sample.numel(), gram_deviation=gram_dev, gram_scale=gram_scale,
        pattern=pattern,
        fingerprint=_fingerprint(shape, tensor.dtype, keys, acc) if keys is not None else None,
        spike=training_evidence.spectral_spike(matrix, generator) if tensor.dim() >= 2 and not structured else None,
        misfit=training_evidence.family_misfit(sample) if not structured else None,
    )


def _sampled_stats(tensor: torch.Tensor, seed: int, mapper: Mapper) -> TensorStats:
    part = sampled_rows(tensor, torch.Generator().manual_seed(seed * 1_000_003 + tensor.numel()))
    stats = tensor_stats(part, seed, mapper)
    scale = tensor.numel() / part.numel()
    row_scale = (tensor.shape[0] / part.shape[0]) if tensor.dim() >= 2 and part.shape[1:] == tensor.shape[1:] else 1.0
    return dataclasses.replace(
        stats, shape=tuple(tensor.shape), dtype=_dtype_name(tensor), numel=tensor.numel(),
        sum_squares=stats.sum_squares * scale, zero_count=round(stats.zero_count * scale),
        nonfinite=math.ceil(stats.nonfinite * scale), zero_rows=round(stats.zero_rows * row_scale),
        pattern="structured" if stats.pattern == "structured" else None, sampled=part.numel())


def sampled_rows(tensor: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """About ``SAMPLED_ELEMENTS`` of ``tensor``: whole slices along the first dimension (rows of
    a matrix, output channels of a conv) spread evenly over it, or, for vectors and slices wider
    than a sixteenth of the budget, chunks of ``SAMPLE_CHUNK`` elements spread the same way.
    Only the selected bytes are read, also from a memory-mapped file."""
    if tensor.dim() >= 2 and tensor[0].numel() <= SAMPLED_ELEMENTS // 16:
        rows = tensor
    else:
        flat = tensor.reshape(-1)
        rows = flat[:flat.numel() - flat.numel() % SAMPLE_CHUNK].view(-1, SAMPLE_CHUNK)
    wanted = max(1, min(rows.shape[0], SAMPLED_ELEMENTS // max(rows[0].numel(), 1)))
    stride = rows.shape[0] // wanted
    offset = int(torch.randint(stride, (1,), generator=generator))
    return rows[offset::stride][:wanted].contiguous()


def _row_blocks(matrix: torch.Tensor) -> list[torch.Tensor]:
    rows, cols = matrix.shape
    step = max(1, BLOCK_ELEMENTS // max(cols, 1))
    return [matrix[start:start + step] for start in range(0, rows, step)]


@dataclass
class _Moments:
    total: float = 0.0
    squares: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    zeros: int = 0
    nonfinite: int = 0
    finite: int = 0

    @staticmethod
    def merge(parts: list[_Moments]) -> _Moments:
        """Sums in block order, so that equal tensors get bit-equal totals."""
        return _Moments(
            total=sum(p.total for p in parts), squares=sum(p.squares for p in parts),
            minimum=min(p.minimum for p in parts), maximum=max(p.maximum for p in parts),
            zeros=sum(p.zeros for p in parts), nonfinite=sum(p.nonfinite for p in parts),
            finite=sum(p.finite for p in parts))


def _moments(block: torch.Tensor) -> _Moments:
    flat = _converted(block, torch.float32).reshape(-1)
    squares = float(torch.dot(flat, flat))
    nonfinite = 0
    if not math.isfinite(squares):
        mask = torch.isfinite(flat)
        nonfinite = int(flat.numel() - mask.sum())
        flat = flat[mask]
        if flat.numel() == 0:
            return _Moments(nonfinite=nonfinite)
        squares = float(torch.dot(flat, flat))
    low, high = torch.aminmax(flat)
    return _Moments(float(flat.sum()), squares, float(low), float(high),
                    flat.numel() - int(torch.count_nonzero(flat)), nonfinite, flat.numel())


_scratch = threading.local()


def _converted(block: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``block.to(dtype)`` in a buffer each worker thread keeps: freed per-block copies would
    otherwise pile up in the threads' malloc arenas and grow anonymous memory."""
    if block.dtype == dtype:
        return block
    buffers: dict[torch.dtype, torch.Tensor] = _scratch.__dict__.setdefault("buffers", {})
    buffer = buffers.get(dtype)
    if buffer is None or buffer.numel() < block.numel():
        buffer = buffers[dtype] = torch.empty(max(block.numel(), BLOCK_ELEMENTS), dtype=dtype)
    return buffer[:block.numel()].view(block.shape).copy_(block)


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


def _row_keys(matrix: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Per row, an exact integer hash of its bytes in a few sampled columns: equal rows get
    equal keys wherever they sit (no floating-point rounding), at the cost of a small gather."""
    cols = matrix.shape[1]
    columns = torch.randperm(cols, generator=generator)[:KEY_COLUMNS]
    width = min(cols, KEY_COLUMNS) * matrix.element_size()
    weights = torch.randint(1, 1 << 31, (width,), generator=generator)
    step = max(1, BLOCK_ELEMENTS // width)  # int64 products of a few rows at a time, not all
    return torch.cat([(matrix[start:start + step, columns].contiguous().view(torch.uint8).long() * weights).sum(dim=1)
                      for start in range(0, matrix.shape[0], step)])  # < 2**39 per byte: no overflow


def _row_structure(matrix: torch.Tensor, keys: torch.Tensor, acc: _Moments,
                   generator: torch.Generator) -> tuple[int, int]:
    """(all-zero rows, non-zero rows that repeat an earlier row), confirmed exactly."""
    rows, cols = matrix.shape
    if acc.minimum == acc.maximum:
        return (rows if acc.minimum == 0 else 0), 0
    # A zero row needs at least a row's worth of zeros; only then is the extra pass worth it.
    live = torch.nonzero(matrix.any(dim=1)).flatten() if acc.zeros >= cols else torch.arange(rows)
    order = live[torch.argsort(keys[live])]
    same = keys[order[1:]] == keys[order[:-1]]
    shares_key = torch.cat([same, same.new_zeros(1)]) | torch.cat([same.new_zeros(1), same])
    return rows - live.numel(), _duplicates(matrix, order[shares_key], generator)


def _duplicates(matrix: torch.Tensor, candidates: torch.Tensor, generator: torch.Generator) -> int:
    """Rows among ``candidates`` equal to another: sorted by a float64 projection of the whole
    row (float32 products are exact in float64, so equal rows agree to rounding), then compared."""
    if candidates.numel() < 2:
        return 0
    probe = torch.randn(matrix.shape[1], generator=generator, dtype=torch.float64)
    prints = torch.cat([matrix[chunk].double() @ probe for chunk in candidates.split(GRAM_ROWS)])
    order = torch.argsort(prints)
    ordered, rows = prints[order], candidates[order]
    close = ordered[1:] - ordered[:-1] <= PRINT_TOLERANCE * float(ordered.abs().max())
    duplicates = 0
    for position in torch.nonzero(close).flatten().tolist()[:10_000]:
        if torch.equal(matrix[rows[position]], matrix[rows[position + 1]]):
            duplicates += 1
    return duplicates


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


def _pattern(tensor: torch.Tensor, matrix: torch.Tensor, acc: _Moments) -> str | None:
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


def _deterministic(tensor: torch.Tensor) -> bool:
    """Values that are a low-order function of their position rather than a random draw: along
    some axis, every sampled line is constant or reproduced exactly by a short linear recurrence
    ``x[k] = a x[k-1] (+ b x[k-2]) + c`` (arithmetic and geometric progressions, quadratics,
    sinusoids), as it is or after ``exp`` or ``log``, and some line is not constant. Such a tensor
    is the same in every layer and may repeat its rows by construction."""
    values = tensor.squeeze()  # singleton dimensions carry no position
    eps = torch.finfo(tensor.dtype).eps if tensor.dtype.is_floating_point else 0.0
    for axis in range(values.dim()):
        length = values.shape[axis]
        if length < 2 + 2 + SPARE_EQUATIONS:  # the shortest recurrence: 2 coefficients, 1 lag
            continue
        view = values.movedim(axis, -1)[..., :STRUCTURE_LENGTH]
        count = math.prod(view.shape[:-1])
        chosen = torch.linspace(0, count - 1, min(count, STRUCTURE_LINES)).round().long().tolist()
        # Gather the chosen lines only: reshaping a transposed view would copy the whole tensor.
        lines = torch.stack([view[_unravel(index, view.shape[:-1])] for index in chosen])
        if _lines_recur(lines.double(), eps):
            return True
    return False


def _unravel(index: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    position = []
    for size in reversed(shape):
        index, rest = divmod(index, size)
        position.append(rest)
    return tuple(reversed(position))


def _lines_recur(lines: torch.Tensor, eps: float) -> bool:
    """Every line with a few distinct values recurrent, and one at least has them. ``eps``: the
    stored dtype's relative precision, whose rounding (carried through exp or log) the fit forgives."""
    varied = False
    for line in lines:
        if torch.unique(line).numel() < STRUCTURE_DISTINCT:
            continue  # constant, or too few values to show anything (a slow cosine in bfloat16)
        rounding = eps * line.abs()
        transforms = [(line, rounding), (torch.exp(line), rounding * torch.exp(line))]
        if bool((line > 0).all()):
            transforms.append((torch.log(line), torch.full_like(line, eps)))
        if not any(_recurs(values, error) for values, error in transforms if bool(torch.isfinite(error).all())):
            return False
        varied = True
    return varied


def _recurs(line: torch.Tensor, error: torch.Tensor) -> bool:
    """``line`` satisfies a linear recurrence of order 1 or 2 with a constant term: its least-squares
    residual within ``EXACT_FIT`` of the line's spread plus the values' rounding ``error``."""
    spread = float(line.std())
    if not spread > 0 or not math.isfinite(spread):
        return False
    allowed = EXACT_FIT * spread + float(error.square().mean().sqrt())
    for order in (1, 2):
        equations = line.numel() - order
        if equations - (order + 1) < SPARE_EQUATIONS:
            break
        lags = [line[order - lag:line.numel() - lag] for lag in range(1, order + 1)]
        design = torch.stack([*lags, torch.ones(equations, dtype=line.dtype)], dim=1)
        target = line[order:]
        solution = torch.linalg.lstsq(design, target.unsqueeze(1), driver="gelsd").solution
        residual = target - (design @ solution).squeeze(1)
        if float(residual.square().mean().sqrt()) <= allowed:
            return True
    return False


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
    count, remainder = divmod(zeros, cols)
    if remainder or count >= rows or int((matrix[:, 0] == 0).sum()) != count:
        return False
    per_column = sum((block == 0).sum(dim=0) for block in _row_blocks(matrix))  # no matrix-sized temporaries
    if not bool((per_column == count).all()):
        return False
    whole_zero_rows = int((~matrix.any(dim=1)).sum())
    return whole_zero_rows < count


def _fingerprint(shape: tuple[int, ...], dtype: torch.dtype, keys: torch.Tensor, acc: _Moments) -> bytes:
    """Exact: byte hashes of sampled columns in every row plus exact extremes and counts. Float
    sums are left out, their rounding depends on the order threads add blocks in."""
    summary = (shape, dtype, acc.minimum, acc.maximum, acc.zeros, keys.tolist())
    return hashlib.sha256(repr(summary).encode()).digest()
