"""The two statistics by which trained weights are recognised (see trained.py): pure tensor math,
computed in the per-tensor pass."""

from __future__ import annotations

import math

import numpy
import torch

from initaudit import knowledge

SPIKE_ROWS = 256
#: Smallest matrix sides whose spectrum is judged (fluctuations of smaller ones are too wide).
MIN_SHORT_SIDE, MIN_LONG_SIDE = 8, 16


def spectral_spike(matrix: torch.Tensor, generator: torch.Generator) -> float | None:
    """Largest Gram eigenvalue of sampled rows of the shorter side over the i.i.d. edge."""
    rows, cols = matrix.shape
    if rows > cols:
        rows, cols = cols, rows
        pick = torch.randperm(rows, generator=generator)[:SPIKE_ROWS]
        side = matrix[:, pick].T.float()
    else:
        pick = torch.randperm(rows, generator=generator)[:SPIKE_ROWS]
        side = matrix[pick].float()
    if rows < MIN_SHORT_SIDE or cols < MIN_LONG_SIDE:
        return None
    # Rows less their common mean m, S'S'^T = SS^T - m(r 1^T + 1 r^T) + m^2 n 11^T with r the
    # row sums: one cheap float32 centring (the gathered rows are a copy) keeps the float32
    # product exact enough (~1e-6 relative) when the mean dwarfs the spread, and the formula
    # removes what that centring left, in float64.
    side -= float(side.mean())
    gram = (side @ side.T).double()
    sums = side.sum(dim=1).double()
    k, count = side.shape[0], side.numel()
    mean = float(sums.sum()) / count
    gram = gram - mean * (sums[:, None] + sums[None, :]) + mean * mean * cols
    variance = float(gram.diagonal().sum()) / count
    if not 0 < variance < math.inf:  # float32 overflows where float64 weights exceed ~1e19
        return None
    top = float(torch.linalg.eigvalsh(gram)[-1])
    return top / (variance * (math.sqrt(k) + math.sqrt(cols)) ** 2)


def family_misfit(sample: torch.Tensor) -> float | None:
    """sqrt(n) times the KS distance of ``sample`` (float64, finite) to its closest init family,
    each fitted to the non-zero values about their mean (``uniform_(0, 1)`` is an init too):
    normal(sigma), uniform(+-bound), normal(sigma) cut at +-bound."""
    sample = sample[sample != 0]  # exact zeros come from sparse inits, masks, pruning
    n = sample.numel()
    if n < 64:
        return None
    # numpy's vectorised sort: ten times torch's single-threaded one on this many values.
    values = torch.from_numpy(numpy.sort((sample - sample.mean()).numpy(force=True)))
    mean_square = float(values.square().mean())
    bound = float(values.abs().max()) * (n + 1) / n
    if not mean_square > 0:
        return None
    above = torch.arange(1, n + 1, dtype=torch.float64) / n
    below = above - 1 / n

    def distance(cdf: torch.Tensor) -> float:
        return float(torch.maximum(above - cdf, cdf - below).max())

    sigma = math.sqrt(mean_square)
    fits = [distance(_normal_cdf(values / sigma)), distance(((values + bound) / (2 * bound)).clamp(0, 1))]
    if bound / sigma < 3.5:  # farther cuts are a plain normal
        cut_sigma = _truncated_sigma(bound, mean_square)
        low = _normal_cdf(torch.tensor(-bound / cut_sigma, dtype=torch.float64))
        mass = 1 - 2 * low
        fits.append(distance(((_normal_cdf(values / cut_sigma) - low) / mass).clamp(0, 1)))
    return min(fits) * math.sqrt(n)


def _normal_cdf(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1 + torch.erf(x / math.sqrt(2)))


def _truncated_sigma(bound: float, mean_square: float) -> float:
    """sigma of N(0, sigma) cut at +-bound whose second moment is ``mean_square`` (bisection)."""
    low, high = 1e-3 * bound, 1e3 * bound
    for _ in range(80):
        sigma = math.sqrt(low * high)
        if knowledge.truncated_std(sigma, 0.0, -bound, bound) ** 2 < mean_square:
            low = sigma
        else:
            high = sigma
    return math.sqrt(low * high)
