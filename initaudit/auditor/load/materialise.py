"""Audit a factory's model without ever holding it whole in memory.

The factory runs under ``torch.device("meta")``: the model's structure exists, its values do
not. Each *unit* (a module with parameters of its own, or with its own ``reset_parameters``,
together with its submodules) then gets real storage, the library's own init is replayed on it
(``reset_parameters()`` for torch modules, then ``_init_weights`` for Hugging Face models),
its tensors are measured, and it goes back to the meta device before the next unit. Init code
the factory runs after building the model is not replayed; the report says so.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Callable

import torch

from initaudit.auditor.load.factories import call_factory, factory_function
from initaudit.auditor.load.source import Source, SourceKind, module_source
from initaudit.auditor.notes import Note, NoteKind

#: Without --low-memory, the per-module path is taken when the model's fp32 size exceeds this
#: share of the memory available now.
AUTO_SHARE = 0.5
#: A unit bigger than this is split: its own parameters alone, then each submodule.
UNIT_LIMIT = 1 << 30
RESET_METHODS = ("reset_parameters", "_reset_parameters")


def build_on_meta(function: Callable[[], object]) -> torch.nn.Module | None:
    """The factory's model on the meta device, or None when the factory cannot build there."""
    try:
        with torch.device("meta"):
            built = function()
    except (Exception, SystemExit):  # a factory reading values (weights, .item()) needs real tensors
        return None
    if not isinstance(built, torch.nn.Module):
        return None
    tensors = [*built.parameters(), *built.buffers()]
    if any(torch.nn.parameter.is_lazy(t) for t in tensors):
        return None  # sized by a first forward pass only: such a model is built whole
    return built if tensors and all(t.is_meta for t in tensors) else None


def model_bytes(model: torch.nn.Module) -> int:
    """Size of the parameters at float32 (what the normal path holds at least)."""
    return sum(p.numel() for p in model.parameters()) * 4


def available_bytes() -> int:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def too_big(model: torch.nn.Module) -> bool:
    return model_bytes(model) > AUTO_SHARE * available_bytes()


def fits(model: torch.nn.Module) -> bool:
    return 1.5 * model_bytes(model) + (300 << 20) <= available_bytes()


@dataclass
class _Unit:
    prefix: str
    module: torch.nn.Module
    whole: bool  # with its submodules

    def modules(self) -> list[torch.nn.Module]:
        """Children before parents, in the order they were registered: the order in which a
        model's constructors initialise them."""
        return _post_order(self.module) if self.whole else [self.module]


def _post_order(module: torch.nn.Module) -> list[torch.nn.Module]:
    ordered = [inner for child in module.children() for inner in _post_order(child)]
    return [*ordered, module]


def _has_reset(module: torch.nn.Module) -> bool:
    return any(callable(getattr(module, method, None)) for method in RESET_METHODS)


def _direct(module: torch.nn.Module) -> bool:
    return any(p is not None for p in module._parameters.values())


def _units(model: torch.nn.Module) -> list[_Unit]:
    units: list[_Unit] = []

    def visit(prefix: str, module: torch.nn.Module) -> None:
        starts = _direct(module) or (_has_reset(module) and not _hf_model(module))
        if starts and sum(p.numel() * 4 for p in module.parameters()) <= UNIT_LIMIT:
            units.append(_Unit(prefix, module, True))
            return
        if _direct(module):
            units.append(_Unit(prefix, module, False))
        for name, child in module.named_children():
            visit(f"{prefix}.{name}" if prefix else name, child)

    visit("", model)
    return units


def _hf_model(module: torch.nn.Module) -> bool:
    return any(cls.__name__ == "PreTrainedModel" for cls in type(module).__mro__) and hasattr(module, "_init_weights")


def _hf_owners(model: torch.nn.Module) -> dict[int, torch.nn.Module]:
    """id(module) -> the nearest Hugging Face model at or above it, whose ``_init_weights`` applies."""
    owners: dict[int, torch.nn.Module] = {}

    def visit(module: torch.nn.Module, owner: torch.nn.Module | None) -> None:
        owner = module if _hf_model(module) else owner
        if owner is not None:
            owners[id(module)] = owner
        for child in module.children():
            visit(child, owner)

    visit(model, None)
    return owners


def unreplayable(model: torch.nn.Module) -> list[str]:
    """Modules with parameters of their own that no library init covers."""
    owners = _hf_owners(model)
    return [name or type(model).__name__ for name, module in model.named_modules()
            if _direct(module) and not _has_reset(module) and id(module) not in owners]


@dataclass
class ModuleReplay:
    """``load(name)`` for a meta model: the parameter's unit, materialised and initialised."""

    model: torch.nn.Module
    seed_state: torch.Tensor = field(default_factory=torch.get_rng_state)
    #: Parameters that no replayed init set, hence not measured.
    unset: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.units = _units(self.model)
        self.owners = _hf_owners(self.model)
        names = {id(p): n for n, p in self.model.named_parameters()}
        self.unit_of: dict[str, int] = {}
        for index, unit in enumerate(self.units):
            for local, parameter in unit.module.named_parameters(prefix=unit.prefix, recurse=unit.whole):
                self.unit_of.setdefault(names.get(id(parameter), local), index)
        self.states: dict[int, torch.Tensor] = {0: self.seed_state}
        self.current: tuple[int, dict[str, torch.Tensor]] | None = None
        self.restore: list[tuple[dict, str, torch.Tensor]] = []

    def load(self, name: str) -> torch.Tensor:
        index = self.unit_of[name]
        if self.current is None or self.current[0] != index:
            self.current = None  # freed before the next unit is made
            try:
                self.current = (index, self._materialise(index))
            finally:
                self._restore()
        return self.current[1][name]

    def _restore(self) -> None:
        """Put the unit's modules back on the meta device; its measured tensors stay in ``current``."""
        for table, key, original in reversed(self.restore):
            table[key] = original
        self.restore.clear()

    def _materialise(self, index: int) -> dict[str, torch.Tensor]:
        unit = self.units[index]
        made: dict[int, torch.Tensor] = {}
        for module in unit.modules():
            for table in (module._parameters, module._buffers):
                for key, original in table.items():
                    if original is None:
                        continue
                    if id(original) not in made:
                        made[id(original)] = _real(original)
                    self.restore.append((table, key, original))
                    table[key] = made[id(original)]
        with torch.random.fork_rng(devices=[]):
            # Units replay one RNG stream in model order, as the constructor would; a unit
            # visited again (or out of order) replays from its saved state or a derived seed.
            if index in self.states:
                torch.set_rng_state(self.states[index])
            else:
                torch.manual_seed(int(self.seed_state.sum()) + index)
            self._initialise(unit)
            self.states.setdefault(index + 1, torch.get_rng_state())
        tensors: dict[str, torch.Tensor] = {}
        for name, parameter in unit.module.named_parameters(prefix=unit.prefix, recurse=unit.whole):
            if self.unit_of.get(name) != index:
                continue
            if _untouched(parameter):
                if name not in self.unset:
                    self.unset.append(name)
                tensors[name] = torch.empty(parameter.shape, dtype=parameter.dtype, device="meta")
            else:
                tensors[name] = parameter.detach()
        return tensors

    def _initialise(self, unit: _Unit) -> None:
        """The constructors' resets, children first, then the Hugging Face init. Enclosing
        modules take part too (an init may reach into submodules, as nn.Transformer's or T5's
        do): what they touch outside this unit is on the meta device, where writes are no-ops."""
        own, enclosing = unit.modules(), self._enclosing(unit)
        with torch.no_grad():
            for module in own:
                _reset(module)
            for module in enclosing:
                _quietly(_reset, module)
            for module in own:
                owner = self.owners.get(id(module))
                if owner is not None:
                    owner._init_weights(module)
            for module in enclosing:
                owner = self.owners.get(id(module))
                if owner is not None:
                    _quietly(owner._init_weights, module)

    def _enclosing(self, unit: _Unit) -> list[torch.nn.Module]:
        """The modules above the unit, nearest first."""
        chain, module = [], self.model
        parts = unit.prefix.split(".") if unit.prefix else []
        for part in parts:
            chain.append(module)
            module = getattr(module, part)
        return list(reversed(chain))


def _reset(module: torch.nn.Module) -> None:
    for method in RESET_METHODS:
        reset = getattr(module, method, None)
        if callable(reset):
            reset()
            return


def _quietly(function: Callable[[torch.nn.Module], object], module: torch.nn.Module) -> None:
    try:
        function(module)
    except Exception:  # an enclosing init mixing meta and real tensors: it did not touch this unit
        pass


def _real(original: torch.Tensor) -> torch.Tensor:
    """Storage on the CPU; floats start as NaN so that a value no init wrote stands out."""
    tensor = torch.empty(original.shape, dtype=original.dtype, device="cpu")
    if tensor.is_floating_point():
        tensor.fill_(math.nan)
    else:
        tensor.zero_()
    if isinstance(original, torch.nn.Parameter):
        return torch.nn.Parameter(tensor, requires_grad=original.requires_grad)
    return tensor


def _untouched(parameter: torch.Tensor) -> bool:
    if parameter.numel() == 0 or not parameter.is_floating_point():
        return False
    flat = parameter.detach().reshape(-1)
    return bool(torch.isnan(flat[0]) and torch.isnan(flat[-1]))



def factory_source(spec: str, low_memory: bool) -> Source:
    """The source for ``pkg.mod:factory``: built whole, or module by module when ``low_memory``
    is asked for or the model would take more than ``AUTO_SHARE`` of the available memory. The
    factory is first built on the meta device (no values, no memory) to size the model."""
    function = factory_function(spec)
    notes: list[Note] = []
    meta = build_on_meta(function)
    missing = unreplayable(meta) if meta is not None else []
    per_module = meta is not None and (low_memory or too_big(meta))
    if low_memory and meta is None:
        notes.append(Note(NoteKind.BUILT_WHOLE,
                          "--low-memory: the factory cannot build its model on the meta device; built whole"))
    if per_module and missing and meta is not None and fits(meta):
        notes.append(Note(NoteKind.BUILT_WHOLE, f"the init of {_listed(missing)} cannot be replayed module by "
                          "module (no reset_parameters, no library init): built whole"))
        per_module = False
    if not per_module or meta is None:
        module, example = call_factory(spec, function)
        source = module_source(module, SourceKind.FACTORY, None)
        source.label, source.factory, source.example = spec, spec, example
        source.notes.extend(notes)
        return source
    replay = ModuleReplay(meta)
    source = Source(SourceKind.FACTORY, None, [name for name, _ in meta.named_parameters()], replay.load,
                    module=meta, label=spec, factory=spec, per_module=True)
    source.notes.append(Note(
        NoteKind.MODULE_BY_MODULE,
        f"audited module by module ({model_bytes(meta) / (1 << 30):.1f} GiB at fp32): built on the meta "
        "device, then each module materialised, initialised by its library's own init "
        "(reset_parameters, Hugging Face _init_weights), measured and freed; init code the factory "
        "runs after building the model is not replayed"))
    if missing:
        source.notes.append(Note(NoteKind.NOT_REPLAYED, f"the init of {_listed(missing)} cannot be replayed "
                                 "module by module and the model does not fit in memory: their parameters are "
                                 "not measured"))
    return source


def _listed(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
