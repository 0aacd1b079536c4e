"""Which initialiser produced a tensor (init-reference §5.3).

Exact patterns first (identity, Dirac, deterministic structure), then orthogonality from a
sampled Gram matrix, then the distribution family by likelihood + BIC using the scale about
zero, then the named scheme whose predicted std is closest within the estimate's standard
error. Pure math on ``TensorStats``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from initaudit import knowledge
from initaudit.auditor.measure.tensorstats import TensorStats
from initaudit.auditor.results import Scheme

ORTHOGONAL_TOLERANCE = 2e-3
#: Truncation points beyond this many sigmas are statistically a plain normal (§5.2).
TRUNCATION_INVISIBLE = 3.5
#: A mean this many standard errors from zero is not a zero-mean init.
MEAN_SIGNIFICANCE = 8.0
WEAK_TRUNCATION = 1.5
RELATIVE_FLOOR = 0.005
#: Quantisation step of each storage dtype: stored bounds are only this precise.
DTYPE_EPS = {"bfloat16": 2.0**-8, "float16": 2.0**-11}


@dataclass(frozen=True)
class DefaultInit:
    """What torch's own ``reset_parameters`` gives this parameter (§2)."""

    family: str  # uniform | normal
    std: float
    gain: float | None


def identify(stats: TensorStats, default: DefaultInit | None = None) -> Scheme:
    if stats.numel == 0 or stats.nonfinite:
        return Scheme("unknown", "unknown", None, 0.0, 0.0)
    if stats.minimum == stats.maximum:
        value = stats.minimum
        name = "zeros" if value == 0 else "ones" if value == 1 else "constant"
        return Scheme(name, name, None, 0.0, 1.0)
    if stats.pattern in ("eye", "dirac", "structured"):
        # "structured": deterministic values (arange, log/exp of it, a sinusoid table), no draw.
        return Scheme(stats.pattern, stats.pattern, None, stats.std, 1.0)
    if stats.pattern == "sparse":
        nonzero = stats.numel - stats.zero_count
        return Scheme("sparse", "sparse", None, math.sqrt(stats.sum_squares / nonzero), 0.95)
    if stats.gram_deviation is not None and stats.gram_deviation < ORTHOGONAL_TOLERANCE:
        gain = math.sqrt(stats.gram_scale or 0.0)
        rows = stats.shape[0]
        cols = stats.numel // rows
        return Scheme("orthogonal", "orthogonal", gain, gain / math.sqrt(max(rows, cols)), 0.99)
    return _by_family(stats, default)


@dataclass(frozen=True)
class _Fit:
    family: str
    bic: float
    scale: float  # the family's scale estimate: uniform b/sqrt(3), normal sigma, trunc sigma
    actual_std: float


def _by_family(stats: TensorStats, default: DefaultInit | None) -> Scheme:
    n = stats.finite_count - stats.zero_rows * (stats.numel // max(stats.shape[0], 1))
    n = max(n, 2)
    centred = _mean_is_significant(stats, n)
    if centred:
        squares = stats.std**2 * n
        bound = max(stats.maximum - stats.mean, stats.mean - stats.minimum)
    else:
        squares = stats.sum_squares
        bound = stats.abs_max
    if not squares > 0 or not bound > 0:
        # Values so close to zero that their squares vanish in float64 (subnormals): no scale.
        return Scheme("unknown", "unknown", None, stats.std, 0.0)
    fits = _fits(n, squares, bound)
    fits.sort(key=lambda f: f.bic)
    best = fits[0]
    family_confidence = 1.0 / sum(math.exp(-min((f.bic - best.bic) / 2, 700)) for f in fits)
    if _looks_trained(stats):
        return Scheme("unknown", "unknown", None, stats.std, round(family_confidence * 0.5, 3))
    if centred:
        return Scheme(best.family, best.family, None, best.actual_std, family_confidence * 0.8)
    return _name_scheme(stats, best, n, family_confidence, default)


def _mean_is_significant(stats: TensorStats, n: int) -> bool:
    if stats.std == 0:
        return False
    return abs(stats.mean) / (stats.std / math.sqrt(n)) > MEAN_SIGNIFICANCE


def _looks_trained(stats: TensorStats) -> bool:
    """Heavy tails: far more kurtosis than any init family has (normal 0, uniform -1.2)."""
    m = stats.sample_size
    return m >= 64 and stats.kurtosis > max(1.0, 6 * math.sqrt(24 / m))


def _fits(n: int, squares: float, bound: float) -> list[_Fit]:
    log_n = math.log(n)
    sigma = math.sqrt(squares / n)
    b_hat = bound * (n + 1) / n
    fits = [
        _Fit("uniform", log_n + 2 * n * math.log(2 * b_hat), b_hat / math.sqrt(3), b_hat / math.sqrt(3)),
        _Fit("normal", log_n + n * (math.log(2 * math.pi * sigma * sigma) + 1), sigma, sigma),
    ]
    truncated = _fit_truncated(n, squares, b_hat)
    if truncated is not None:
        fits.append(truncated)
    return fits


def _fit_truncated(n: int, squares: float, b: float) -> _Fit | None:
    """Normal restricted to [-b, b] with sigma maximising the likelihood (golden section)."""

    def loglik(log_sigma: float) -> float:
        s = math.exp(log_sigma)
        mass = math.erf(b / (s * math.sqrt(2)))
        if mass <= 0:
            return -math.inf
        return -n * log_sigma - squares / (2 * s * s) - n * math.log(mass) - n / 2 * math.log(2 * math.pi)

    low, high = math.log(b / TRUNCATION_INVISIBLE), math.log(b * 20)
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(80):
        a = high - ratio * (high - low)
        c = low + ratio * (high - low)
        if loglik(a) > loglik(c):
            high = c
        else:
            low = a
    log_sigma = (low + high) / 2
    sigma = math.exp(log_sigma)
    if b / sigma >= TRUNCATION_INVISIBLE * 0.999 or b / sigma < 0.05:
        return None
    std = knowledge.truncated_std(sigma, 0.0, -b, b)
    # Cut within ~1.5 sigma, a truncated normal is nearly flat: demand extra evidence over uniform.
    penalty = 2 * math.log(n) if b / sigma < WEAK_TRUNCATION else math.log(n)
    return _Fit("trunc_normal", penalty + math.log(n) - 2 * loglik(log_sigma), sigma, std)


@dataclass(frozen=True)
class _Match:
    name: str
    gain: float | None
    predicted: float
    z: float
    rank: int


def _name_scheme(stats: TensorStats, fit: _Fit, n: int, family_confidence: float,
                 default: DefaultInit | None) -> Scheme:
    tolerance = _tolerance(stats, fit.family, n)
    matches: list[_Match] = []
    for name, gain, predicted, rank, compares_actual in _candidates(stats.shape, fit, default):
        estimate = fit.actual_std if compares_actual else fit.scale
        if predicted <= 0:
            continue
        distance = abs(math.log(estimate / predicted))
        if distance < tolerance:
            matches.append(_Match(name, gain, predicted, distance / (tolerance / 4), rank))
    if not matches:
        return Scheme(fit.family, fit.family, None, fit.scale, family_confidence * 0.9)
    closest = min(matches, key=lambda m: m.z)
    group = [m for m in matches if _same(m.predicted, closest.predicted)]
    best = min(group, key=lambda m: m.rank)
    aliases = tuple(sorted({m.name for m in group} - {best.name}))
    weights: dict[float, float] = {}
    for match in matches:
        key = round(math.log(match.predicted), 6)
        weights[key] = max(weights.get(key, 0.0), math.exp(-match.z * match.z / 2))
    share = weights[round(math.log(best.predicted), 6)] / sum(weights.values())
    confidence = family_confidence * share * (0.9 if aliases else 1.0)
    return Scheme(best.name, fit.family, best.gain, fit.scale, confidence, aliases)


def _tolerance(stats: TensorStats, family: str, n: int) -> float:
    if family == "uniform":
        standard_error = 1.0 / n
    else:
        kurtosis = max(stats.kurtosis, -1.2) if family == "normal" else 0.0
        standard_error = math.sqrt(max(kurtosis + 2, 0.8) / (4 * n))
    return max(4 * standard_error, RELATIVE_FLOOR, 2 * DTYPE_EPS.get(stats.dtype, 0.0))


def _same(a: float, b: float) -> bool:
    return abs(math.log(a / b)) < 1e-6


def _candidates(shape: tuple[int, ...], fit: _Fit, default: DefaultInit | None):
    """(name, gain, predicted scale, rank, compare with the actual std rather than the scale)."""
    family = fit.family
    distribution = "normal" if family in ("normal", "trunc_normal") else "uniform"
    truncated = family == "trunc_normal"
    if default is not None and default.family == family:
        yield "pytorch_default", default.gain, default.std, -1, False
    if len(shape) >= 2:
        for candidate in knowledge.SCHEME_CANDIDATES:
            if not candidate.function.startswith(("kaiming_" + distribution, "xavier_" + distribution)):
                continue
            predicted = knowledge.init_std(candidate.function, shape, **candidate.args)
            if predicted is None:
                continue
            yield candidate.name, candidate.gain, predicted, candidate.rank, truncated
    if distribution == "normal":
        label = "trunc_normal" if truncated else "normal"
        for candidate in knowledge.SCHEME_CANDIDATES:
            if candidate.function == "normal_":
                yield label, None, float(candidate.args["std"]), candidate.rank, False
        base = knowledge.SCALED_RESIDUAL_BASE_STD
        layers = round(0.5 * (base / fit.scale) ** 2)
        if layers >= 1 and base / fit.scale > 1.05:
            yield f"scaled_{label}", None, base / math.sqrt(2 * layers), 7, False
