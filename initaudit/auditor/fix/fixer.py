"""``--fix --output OUT``: carry out the fix plans the rules put on their findings (re-initialise
a tensor with a scheme of ``knowledge``), write a copy in the input's format atomically
(``checkpoint_writer``), reload it and audit it again. The input is never modified; a
checkpoint with trained tensors is refused unless ``--force``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from initaudit import knowledge
from initaudit.auditor.errors import AuditError
from initaudit.auditor.fix.checkpoint_writer import write_copy
from initaudit.auditor.load.source import Source
from initaudit.auditor.load.sources import open_source
from initaudit.auditor.measure.tensorstats import tensor_stats
from initaudit.auditor.notes import Note
from initaudit.auditor.pipeline import Analysis, analyse
from initaudit.auditor.results import AuditFinding, FixPlan
from initaudit.auditor.rules.base import hidden_layers, output_layers, weights_of
from initaudit.auditor.trace.probe import signal_ratios

#: Relative tolerance of the reloaded std against the target (sampling noise of small layers).
VERIFY_TOLERANCE = 0.25


@dataclass(frozen=True)
class Change:
    name: str
    scheme: str
    std_before: float
    std_after: float
    target_std: float | None
    verified: bool


@dataclass
class FixOutcome:
    output: str
    changes: list[Change] = field(default_factory=list)
    signal_ratios: list[tuple[str, float | None, float | None]] = field(default_factory=list)
    #: Findings at warning or above in the re-audit of the written output.
    remaining: list[AuditFinding] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.remaining or any(not c.verified for c in self.changes) else 0


def refuse_trained(analysis: Analysis) -> None:
    """--fix without --force never rewrites a checkpoint with trained tensors."""
    names = [p.name for p in analysis.parameters.values() if p.trained]
    if names:
        shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        raise AuditError(f"--fix refused: {len(names)} tensors look trained ({shown}); re-initialising "
                         "would erase what they learned (pass --force to audit and fix them as inits)")


def apply_fix(source: Source, analysis: Analysis, output: str, fmt: str, *, seed: int,
              trust_pickle: bool, factory: str | None, input_shape: tuple[int, ...] | None = None,
              recognise_trained: bool = True, enabled: Callable[[str], bool] | None = None) -> FixOutcome:
    """Carry out the fix plans of the findings: write the fixed copy to ``output`` in ``fmt``
    (from ``writing.output_format``), then audit the written copy again as the input was
    audited (with the rules ``enabled``, as in ``analyse``): a change is verified when its std
    is on target and the re-audit finds nothing at warning or above on it."""
    target = Path(output)
    plans = planned(analysis.report.findings)
    outcome = FixOutcome(str(target))
    reinits = {name: reinitialiser(plan, seed + index) for index, (name, plan) in enumerate(plans.items())}
    write_copy(source, reinits, target, fmt, outcome.notes)
    reloaded = open_source(str(target), trust_pickle=trust_pickle,
                           factory=factory or source.factory)
    again = analyse(reloaded, input_shape=input_shape, seed=seed, recognise_trained=recognise_trained,
                    enabled=enabled)
    outcome.remaining = [f for f in again.report.findings if f.severity.fails]
    still_flagged = {f.parameter for f in outcome.remaining}
    for name, plan in plans.items():
        after = again.parameters[name].std if name in again.parameters else tensor_stats(reloaded.load(name)).std
        on_target = plan.target_std is None or abs(after / plan.target_std - 1) < VERIFY_TOLERANCE
        outcome.changes.append(Change(name, plan.describe(), analysis.parameters[name].std, after,
                                      plan.target_std, on_target and name not in still_flagged))
    if analysis.report.signal and again.report.signal:
        before_signal, after_signal = _signal_ratios(analysis), _signal_ratios(again)
        outcome.signal_ratios = [
            ("forward std ratio last hidden/first", before_signal[0], after_signal[0]),
            ("backward dL/dh ratio first/last", before_signal[1], after_signal[1]),
        ]
    return outcome


def planned(findings: list[AuditFinding]) -> dict[str, FixPlan]:
    """One plan per tensor (the first finding's, where several rules plan for one tensor), in
    name order: the order that gives each its seed."""
    plans: dict[str, FixPlan] = {}
    for found in findings:
        if found.fix is not None:
            plans.setdefault(found.fix.tensor, found.fix)
    return dict(sorted(plans.items()))


def reinitialiser(plan: FixPlan, seed: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """The function from the original tensor to the one ``plan`` draws, in the original's dtype
    (a random initialiser draws from its own generator, seeded with ``seed``)."""
    arguments: dict[str, object] = dict(plan.arguments)
    random = "generator" in knowledge.INIT_FUNCTIONS[plan.function].params

    def reinit(original: torch.Tensor) -> torch.Tensor:
        fresh = torch.empty(original.shape, dtype=torch.float32)
        drawn = {"generator": torch.Generator().manual_seed(seed)} if random else {}
        getattr(torch.nn.init, plan.function)(fresh, **arguments, **drawn)
        return fresh.to(original.dtype)

    return reinit


def _signal_ratios(analysis: Analysis) -> tuple[float | None, float | None]:
    signal = analysis.report.signal
    weight_of = weights_of(row.module for row in signal)
    return signal_ratios(signal, hidden_layers(analysis.report.parameters, weight_of),
                         output_layers(analysis.report.parameters, weight_of))
