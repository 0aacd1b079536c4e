"""Recognise trained weights, to which init checks do not apply.

Two per-tensor statistics, measured against untrained inits of every scheme in knowledge.py
(uniform, normal, truncated normal, Xavier, Kaiming, orthogonal, sparse; shapes 4x16 to
4096x256; float32, bfloat16, float16) and against MLPs, CNNs and Transformers trained here
for 50-300 steps of Adam or SGD on synthetic tasks (benchmarks/trained_separation.py):

* ``spike``: the largest eigenvalue of the centred Gram matrix of up to 256 sampled rows of
  the shorter side, over the Marchenko-Pastur edge ``var * (sqrt(k) + sqrt(n))**2`` that an
  i.i.d. matrix of any init family reaches. Untrained: at most 1.2 (8x8; 1.08 from 16x16 on);
  learning puts low-rank structure above it (trained MLP/CNN hidden layers 1.6-5).
* ``misfit``: the Kolmogorov-Smirnov distance, times sqrt(sample size), between the values and
  the closest init family (normal, uniform, or normal truncated at the values' bound). An init
  follows its family (at most 1.6 measured, the KS 1e-3 quantile is 1.95); training blurs it
  (trained Transformer projections 2-5, hidden MLP layers up to 24).

Both are measured in the per-tensor pass (training_evidence.py). A tensor with strong
evidence (``spike >= STRONG_SPIKE`` or ``misfit >= STRONG_MISFIT``) is trained. A model is
trained when the median evidence of its weight matrices reaches ``MODEL_EVIDENCE``; then its
other tensors count as trained too, unless at least ``MIN_VERDICT_VALUES`` values still match
a named init scheme (a freshly re-initialised layer, an embedding that barely moved): only some
layers being trained is recognised per layer. Zero, constant, identity, Dirac, sparse and
orthogonal tensors are never called trained.
"""

from __future__ import annotations

import math
import statistics
from typing import Iterable

from initaudit import knowledge
from initaudit.auditor.results import ParameterReport, Scheme

STRONG_SPIKE = 1.5
STRONG_MISFIT = 3.0
#: Median over a model's weight matrices of max(spike excess / 0.5, misfit / 3).
MODEL_EVIDENCE = 0.6
#: Fewer values than this cannot be told from an init by either statistic (a trained 4x128 head
#: matches Xavier by chance): in a trained model they go with the model.
MIN_VERDICT_VALUES = 1024
#: Values closer than this (log ratio) to a fixed std of knowledge.FIXED_STDS match it.
FIXED_STD_TOLERANCE = 0.05
STRUCTURED = frozenset({"zeros", "ones", "constant", "eye", "dirac", "sparse", "orthogonal"})
TRAINED = "trained"


def evidence(parameter: ParameterReport) -> float:
    """1.0 and above is strong evidence of training; an untrained init stays well below."""
    stats = parameter.stats
    if _structured(parameter) or stats.duplicate_rows or stats.zero_rows:
        return 0.0
    spike = (stats.spike - 1) / (STRONG_SPIKE - 1) if stats.spike is not None else 0.0
    misfit = stats.misfit / STRONG_MISFIT if stats.misfit is not None else 0.0
    return max(spike, misfit, 0.0)


def recognise(parameters: Iterable[ParameterReport]) -> list[str]:
    """Names of the tensors that look trained, in order."""
    records = list(parameters)
    matrices = [p for p in records if len(p.shape) >= 2 and not p.stats.nonfinite]
    scores = {p.name: evidence(p) for p in matrices}
    model_trained = bool(scores) and statistics.median(scores.values()) >= MODEL_EVIDENCE
    found = {p.name for p in records
             if scores.get(p.name, 0.0) >= 1.0 or (model_trained and _drifted(p))}
    layers = {p.name.rpartition(".")[0] for p in records if p.name in found and len(p.shape) >= 2}
    # A bias or norm scale of a trained layer learned with it.
    found |= {p.name for p in records
              if len(p.shape) < 2 and p.name.rpartition(".")[0] in layers and not _structured(p)}
    return [p.name for p in records if p.name in found]


def mark(parameters: Iterable[ParameterReport], names: list[str]) -> None:
    """Flag the named tensors trained; their scheme becomes "trained"."""
    chosen = set(names)
    for parameter in parameters:
        if parameter.name in chosen:
            parameter.trained = True
            parameter.scheme = Scheme(TRAINED, "unknown", None, parameter.std, parameter.scheme.confidence)


def _drifted(parameter: ParameterReport) -> bool:
    """In a model known to be trained: values no named init scheme explains, or too few to tell."""
    if _structured(parameter) or parameter.stats.nonfinite:
        return False
    return parameter.stats.numel < MIN_VERDICT_VALUES or not _named(parameter.scheme)


def _structured(parameter: ParameterReport) -> bool:
    stats = parameter.stats
    return (parameter.scheme.family in STRUCTURED or stats.pattern is not None
            or stats.minimum == stats.maximum or stats.numel < 2)


def _named(scheme: Scheme) -> bool:
    if scheme.name not in (scheme.family, "unknown"):
        return True  # pytorch_default, kaiming_*, xavier_*, scaled_normal...
    return scheme.family in ("normal", "trunc_normal") and any(
        abs(math.log(scheme.std / std)) < FIXED_STD_TOLERANCE for std in knowledge.FIXED_STDS if scheme.std > 0)
