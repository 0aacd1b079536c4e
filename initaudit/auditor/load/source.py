"""What the auditor reads a model from: parameter names, one tensor loaded at a time, and the
module graph where one exists. ``sources.py`` opens files into a :class:`Source`; a model built
in this process (a factory, ``initaudit.audit(model)``) is one through :func:`module_source`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Callable

import torch

from initaudit.auditor.load.example import Example
from initaudit.auditor.notes import Note


class SourceKind(str, Enum):
    """What a source was read from."""

    SAFETENSORS = "safetensors"
    SHARDED_SAFETENSORS = "sharded-safetensors"
    SHARDED_BIN = "sharded-bin"
    ZIP = "zip"  # a torch.save archive holding a state dict
    LEGACY = "legacy"  # a pre-1.6 torch.save file or a raw pickle
    TORCHSCRIPT = "torchscript"
    PICKLE = "pickle"  # a pickled nn.Module (only with --trust-pickle)
    FACTORY = "factory"  # a model built in this process

    @property
    def sharded(self) -> bool:
        return self in (SourceKind.SHARDED_SAFETENSORS, SourceKind.SHARDED_BIN)


@dataclass
class Source:
    """Parameters to audit; ``module`` is set when a module graph exists."""

    kind: SourceKind
    path: Path | None
    names: list[str]
    load: Callable[[str], torch.Tensor]
    module: torch.nn.Module | None = None
    #: zip/legacy: the loaded object and where its state dict sits, for writing a fixed copy.
    container: Any = None
    key_path: tuple[str, ...] = ()
    #: How the report names what was audited when there is no file (``pkg.mod:factory``).
    label: str | None = None
    prefix: str = ""
    #: A safetensors file's ``__metadata__``, written back unchanged into a fixed copy.
    metadata: dict[str, str] = field(default_factory=dict)
    #: The class built from a checkpoint directory's config.json.
    architecture: str | None = None
    #: The ``pkg.mod:factory`` that built the model (what ``--fix`` replays the init from).
    factory: str | None = None
    #: sharded sources: the index file's name.
    index: str | None = None
    #: Audited module by module (``materialise.py``): the model is never whole in memory.
    per_module: bool = False
    #: sharded sources: tensor name -> shard file name, checked to stay inside ``path``.
    shard_map: dict[str, str] = field(default_factory=dict)
    #: What the report should say about how the source was read.
    notes: list[Note] = field(default_factory=list)
    #: Shape and dtype of a tensor without reading its values, where the format allows.
    describe: Callable[[str], tuple[tuple[int, ...], torch.dtype]] | None = None
    #: A directory built from its config: its tensors as stored (what ``--fix`` rewrites).
    weights: Source | None = None
    #: Inputs for the forward probe that came with the model (a factory's ``(model, inputs)``).
    example: Example | None = None
    #: The file's tensors outside the audited state dict (a second state dict, optimizer
    #: state), by key path: checked for NaN only.
    others: dict[str, torch.Tensor] = field(default_factory=dict)
    #: What the source holds but could not be read, each with why (for IA210).
    unread: list[str] = field(default_factory=list)


def module_source(module: torch.nn.Module, kind: SourceKind, path: Path | None) -> Source:
    parameters = dict(module.named_parameters())
    return Source(kind, path, list(parameters), lambda name: parameters[name], module=module)


def tied_names(module: torch.nn.Module) -> dict[str, str]:
    """Every further name of a parameter shared under several names -> its first name."""
    first: dict[int, str] = {}
    aliases = {}
    for name, parameter in module.named_parameters(remove_duplicate=False):
        if id(parameter) in first:
            aliases[name] = first[id(parameter)]
        else:
            first[id(parameter)] = name
    return aliases
