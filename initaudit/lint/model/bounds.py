"""How much one file's analysis may compose, whatever code it reads, and the note on what it left.

Composing copies a class's layers into each of its instances (``self.a = Block()`` gives ``a``
the layers ``a.fc``, ``a.act``, ...). Each class is composed once per file model and copied per
instance, but the copies are what ``named_modules()`` would list, and code can make their number
grow exponentially: forty classes each holding two instances of the one before make 2^40 layers,
in one file or across the files of a project. So the copies are counted. A file model composes at
most :data:`FILE_LAYERS` layers; the models of the project files read for one checked file compose
at most :data:`PROJECT_LAYERS` together (and a worker keeps no more than that in the models it
holds); project files are modelled at most :data:`IMPORT_DEPTH` inside one another. An instance
past a bound keeps its class but not its layers, like a class from an installed package, and the
file gets one note saying what was left out. Real models stay far below: in transformers, timm,
torchvision and diffusers no file composes 1,300 layers, the project files read for one file
compose under 700 together, and imports are followed at most 4 files deep.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

#: Layers the composition of one file's classes may copy into instances.
FILE_LAYERS = 10_000
#: Layers the models of the project files read for one checked file may copy, all together.
PROJECT_LAYERS = 20_000
#: Project files modelled one inside another (a class of a file built from a class of another...).
IMPORT_DEPTH = 16
#: Configurations of a file's classes (``targets.option_binding``) whose flow is run again: each
#: is one more run of its class's ``forward``; an operation in another one gets no verdict.
CONFIGURATIONS = 64

#: Why layers were left out, by the bound that left them.
REASONS = {
    "file": f"one file's classes compose at most {FILE_LAYERS:,} layers",
    "project": f"the project files read for one file compose at most {PROJECT_LAYERS:,} layers",
    "depth": f"project files are followed at most {IMPORT_DEPTH} imports deep",
}


class Budget:
    """Layers a file model may still compose; an imported file's model also draws on what its
    checked file's project reads may (``shared``)."""

    def __init__(self, limit: int, shared: Budget | None = None, reason: str = "file") -> None:
        self.limit = limit
        self.used = 0
        self.shared = shared
        self.reason = reason

    def take(self, layers: int) -> str | None:
        """Counts ``layers`` and returns None, or returns the reason they do not fit."""
        if self.used + layers > self.limit:
            return self.reason
        if self.shared is not None and (refused := self.shared.take(layers)) is not None:
            return refused
        self.used += layers
        return None


@dataclass(frozen=True)
class Cut:
    """Layers left out: those of the instance built by ``node`` (None: a whole imported file),
    described by ``what``, for a key of :data:`REASONS`."""

    node: cst.CSTNode | None
    what: str
    reason: str


def note(cuts: list[Cut]) -> str:
    """One line for everything left out of a file's analysis."""
    more = f" and {len(cuts) - 1} more" if len(cuts) > 1 else ""
    reasons = "; ".join(REASONS[reason] for reason in dict.fromkeys(cut.reason for cut in cuts))
    return f"not analysed: layers inside {cuts[0].what}{more}, as {reasons}; the findings cover the rest"
