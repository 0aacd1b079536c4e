"""Load -> per-tensor statistics -> scheme -> activations -> findings -> signal, as one report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch

from initaudit import knowledge
from initaudit.auditor import rules
from initaudit.auditor.errors import AuditError
from initaudit.auditor.identify import trained
from initaudit.auditor.identify.layers import (
    ParameterContext,
    contexts_from_module,
    contexts_from_names,
    module_kind,
)
from initaudit.auditor.identify.schemes import identify
from initaudit.auditor.load.example import Example
from initaudit.auditor.load.source import Source, SourceKind, module_source
from initaudit.auditor.measure.tensors import Measured, measure_source, nonfinite_elsewhere
from initaudit.auditor.measure.tensorstats import SAMPLED_ELEMENTS, SAMPLED_STD_BOUND, TensorStats
from initaudit.auditor.notes import Note, NoteKind
from initaudit.auditor.results import AuditReport, ParameterReport
from initaudit.auditor.trace.activations import LayerUse, trace_activations, tracked_modules
from initaudit.auditor.trace.example_inputs import candidate_examples
from initaudit.auditor.trace.probe import first_accepted, materialise_lazy, probe_signal
from initaudit.auditor.trace.roles import ParameterRole, guessed_role
from initaudit.auditor.trace.script_activations import script_activations
from initaudit.knowledge import LayerKind
from initaudit.progress import Progress
from initaudit.selectors import matches, resolve_all


@dataclass
class Analysis:
    """The report plus what ``--fix`` needs to act on it."""

    report: AuditReport
    parameters: dict[str, ParameterReport] = field(default_factory=dict)
    example: object = None


def analyse(source: Source, *, input_shape: tuple[int, ...] | None = None, seed: int = 0,
            recognise_trained: bool = True, sample: bool = False, jobs: int = 1,
            progress: Progress | None = None, enabled: Callable[[str], bool] | None = None) -> Analysis:
    """``recognise_trained=False`` audits tensors that look trained as inits (``--force``);
    ``progress`` follows the measuring of the tensors; ``enabled`` says which rule codes run
    (all when None), e.g. :func:`selection`'s answer or a ``Config.enabled``."""
    notes: list[Note] = list(source.notes)
    eager = source.module is not None and not isinstance(source.module, torch.jit.ScriptModule)
    lazy_example = (materialise_lazy(source.module, _candidates(source, input_shape, seed))
                    if eager and not source.per_module else None)
    if lazy_example is not None:
        notes.append(Note(NoteKind.LAZY_MATERIALISED, "lazy modules sized and initialised by a first forward "
                          "pass, as a first batch would (without gradients, in eval mode)"))
    measured = measure_source(source, seed, sample=sample, jobs=jobs, progress=progress)
    stats = _collect_stats(measured, notes)
    contexts = (contexts_from_module(source.module) if source.module is not None
                else contexts_from_names({name: stat.shape for name, stat in stats.items()}))
    uses: dict[str, LayerUse] = {}
    order: list[str] = []
    outputs: frozenset[str] = frozenset()
    roles: dict[str, ParameterRole] = {}
    signal = []
    example = None
    if isinstance(source.module, torch.jit.ScriptModule):
        uses, order = _script_uses(source.module, notes)
    elif source.module is not None:
        try:
            candidates = [lazy_example] if lazy_example else _candidates(source, input_shape, seed)
            if source.per_module:
                example, (uses, order, roles, outputs) = first_accepted(
                    candidates, lambda given: trace_activations(source.module, _on_meta(given)))
                notes.append(Note(NoteKind.META_TRACE, "no signal probe: the model is audited module by module, "
                                  "never whole in memory (activations were traced on the meta device)"))
            else:
                example, (uses, order, roles, outputs) = first_accepted(
                    candidates, lambda given: trace_activations(source.module, given))
                signal = probe_signal(source.module, example, seed)
                notes.append(Note(NoteKind.PROBED, f"forward probe on {example.describe()}"))
        except AuditError as error:
            notes.append(Note(NoteKind.NO_FORWARD,
                              f"no forward pass: {error}; IA206-IA208 judged without activations or signal"))
        except Exception as error:  # the user's forward may fail on a guessed input
            notes.append(Note(NoteKind.NO_FORWARD, f"no forward pass ({type(error).__name__}: {str(error)[:160]}); "
                              "pass --example-inputs or --input-shape to probe activations and signal"))
            uses, order, roles, signal = {}, [], {}, []
    parameters = _parameters(source, stats, contexts, uses, _output_layers(outputs, order), roles)
    looks_trained = trained.recognise(parameters.values())
    if recognise_trained:
        trained.mark(parameters.values(), looks_trained)
    elif looks_trained:
        notes.append(Note(NoteKind.LOOKS_TRAINED,
                          f"{len(looks_trained)} tensors that look trained are audited as inits"))
    weight_of = rules.weights_of(order)
    clones = [group for group in _clone_groups(source, stats) if not _tied(group, parameters)]
    found = rules.check(rules.ModelFacts(list(parameters.values()), signal, clones,
                                         _has_norms(source), weight_of, nonfinite_elsewhere(source),
                                         measured.unmeasured + source.unread), enabled)
    found.sort(key=lambda f: (list(parameters).index(f.parameter) if f.parameter in parameters else -1, f.code))
    report = AuditReport(source.label or str(source.path or "model"), list(parameters.values()),
                         found, signal, notes, _coverage(source, uses, signal))
    return Analysis(report, parameters, example)


def _candidates(source: Source, shape: tuple[int, ...] | None, seed: int) -> Iterable[Example]:
    """The inputs to try in turn: the one given, else those inferred."""
    return [source.example] if source.example is not None else candidate_examples(source.module, shape, seed)


def selection(select: Iterable[str] = ("ALL",), ignore: Iterable[str] = ()) -> Callable[[str], bool]:
    """Which rule codes run: those ``select`` names and ``ignore`` does not (codes, prefixes or
    rule names, as ``--select``); a selector naming no rule raises ``selectors.UnknownSelector``."""
    chosen, left_out = (resolve_all([items] if isinstance(items, str) else list(items)) for items in (select, ignore))
    return lambda code: matches(code, chosen) and not matches(code, left_out)


def _on_meta(example: object) -> object:
    """The example input's tensors on the meta device, for a forward pass that computes no values."""
    if isinstance(example, Example):
        return Example(_on_meta(example.args), _on_meta(example.kwargs), example.origin)
    if isinstance(example, torch.Tensor):
        return example.to("meta")
    if isinstance(example, (list, tuple)):
        return type(example)(_on_meta(item) for item in example)
    if isinstance(example, dict):
        return {key: _on_meta(value) for key, value in example.items()}
    return example


def _script_uses(module: torch.jit.ScriptModule, notes: list[Note]) -> tuple[dict[str, LayerUse], list[str]]:
    notes.append(Note(NoteKind.SCRIPT_GRAPH, "TorchScript: activations read from the graph; no signal probe "
                      "(a ScriptModule takes no hooks)"))
    try:
        return script_activations(module)
    except Exception as error:  # graphs of unusual archives may lack what the walk expects
        notes.append(Note(NoteKind.SCRIPT_GRAPH, "no activations from the TorchScript graph "
                          f"({type(error).__name__}: {str(error)[:160]})"))
        return {}, []


def _collect_stats(measured: Measured, notes: list[Note]) -> dict[str, TensorStats]:
    if measured.ties:
        shown = [f"{first} = {', '.join(names[:3])}{f' and {len(names) - 3} more' if len(names) > 3 else ''}"
                 for first, names in list(measured.ties.items())[:3]]
        notes.append(Note(NoteKind.TIED, f"tied, one tensor under several names, measured once: {'; '.join(shown)}"
                          f"{f' (and {len(measured.ties) - 3} more groups)' if len(measured.ties) > 3 else ''}"))
    sampled = [stat for stat in measured.stats.values() if stat.sampled]
    if sampled:
        read = sum(stat.sampled or stat.numel for stat in measured.stats.values())
        total = sum(stat.numel for stat in measured.stats.values())
        notes.append(Note(
            NoteKind.SAMPLED, f"--sample: {len(sampled)} tensors measured on rows spread over them, at most "
            f"{SAMPLED_ELEMENTS} elements each ({read / total:.1%} of all values read; std within "
            f"{SAMPLED_STD_BOUND:.0%} of the full tensor's); NaN/Inf, exact zeros, constant values, "
            "zero and duplicated rows and clones were checked on the sample only, eye/dirac/sparse "
            "patterns not at all"))
    return measured.stats


def _output_layers(outputs: frozenset[str], order: list[str]) -> frozenset[str]:
    """The layers whose output the model returns through no other weight layer (a policy and a
    value head, a zero convolution per returned residual); without that data flow (TorchScript
    graphs), the layer that ran last."""
    return outputs or frozenset(order[-1:])


def _parameters(source: Source, stats: dict[str, TensorStats], contexts: dict[str, ParameterContext],
                uses: dict[str, LayerUse], outputs: frozenset[str],
                roles: dict[str, ParameterRole]) -> dict[str, ParameterReport]:
    """One record per measured parameter, completed with its scheme, its place in the model and
    what follows its layer. Where a model's forward did not run, a dense weight's target is the
    linear-gain fan-in std that its kind and fans give (IA206 then flags only what no scheme
    explains); a file of tensors alone is left as it was, its layers' kinds being guesses."""
    frozen = ({n for n, p in source.module.named_parameters() if not p.requires_grad}
              if source.module is not None else set())
    parameters: dict[str, ParameterReport] = {}
    for name, stat in stats.items():
        context = contexts.get(name, ParameterContext(None, None, None))
        owner, _, local = name.rpartition(".")
        fan_in, fan_out = knowledge.fans(stat.shape) if len(stat.shape) >= 2 else (None, None)
        if context.transposed:
            fan_in, fan_out = fan_out, fan_in
        record = ParameterReport(name, stat, fan_in, fan_out, identify(stat, context.default),
                                 layer_type=context.layer_type, kind=context.kind,
                                 block_type=context.block_type,
                                 last_layer=owner in outputs and context.kind is not LayerKind.EMBEDDING,
                                 frozen=name in frozen)
        record.role = roles.get(name) or guessed_role(name, stat.shape, context.kind)
        # A table tied to an output head is judged as that head too.
        head = record.role.head if record.role.tied_head else None
        use = uses.get(head or owner)
        if head is not None:
            record.last_layer = head in outputs
        if use is not None:
            record.residual_end, record.added_to_signal = use.residual, use.added
            if local == "weight" or len(stat.shape) >= 2:
                record.activation, record.norm_between, record.slope = use.activation, use.norm_between, use.slope
                record.rescaled_within, record.gate_consumer = use.rescaled_within, use.gate_consumer
                # A weight the forward standardises before using it has no scale to judge.
                if (head is not None or context.kind is LayerKind.DENSE and local == "weight") and fan_in \
                        and not record.role.scale_free:
                    record.expected_std = knowledge.recommended_std(use.activation, fan_in, use.slope)
        elif not uses and source.module is not None and context.kind is LayerKind.DENSE \
                and local == "weight" and fan_in:
            record.expected_std = knowledge.recommended_std("linear", fan_in)
        parameters[name] = record
    return parameters


def _coverage(source: Source, uses: dict[str, LayerUse], signal: list) -> dict[str, int]:
    """How many weight layers the model has, and how many the trace and the probe reached."""
    layers = len(tracked_modules(source.module)) if isinstance(source.module, torch.nn.Module) else 0
    return {"layers": layers, "traced": len(uses), "probed": len(signal)}


def _tied(group: list[str], parameters: dict[str, ParameterReport]) -> bool:
    """Equal tables where one is an embedding: weights tied on purpose (an output head sharing
    the input embedding, encoder and decoder sharing a vocabulary), saved as copies."""
    return any(parameters[name].kind is LayerKind.EMBEDDING for name in group if name in parameters)


def _has_norms(source: Source) -> bool:
    if source.module is not None:
        return any(module_kind(m) is LayerKind.NORM for m in source.module.modules())
    return any("norm" in name.lower() or ".ln" in name.lower() for name in source.names)


def _clone_groups(source: Source, stats: dict[str, TensorStats]) -> list[list[str]]:
    """Groups of distinct, randomly drawn weight tensors with identical values. Constants and
    deterministic patterns (identity, Dirac, a function of position: ``stat.pattern``) are the
    same in every layer by construction, not copies."""
    by_print: dict[bytes, list[str]] = {}
    for name, stat in stats.items():
        if stat.fingerprint is None or stat.minimum == stat.maximum or stat.nonfinite \
                or stat.pattern in ("eye", "dirac", "structured"):
            continue
        by_print.setdefault(stat.fingerprint, []).append(name)
    groups = []
    for names in by_print.values():
        if len(names) < 2:
            continue
        first = source.load(names[0])
        same = [names[0]]
        for other in names[1:]:
            tensor = source.load(other)
            shares_storage = tensor.untyped_storage().data_ptr() == first.untyped_storage().data_ptr()
            if not shares_storage and torch.equal(first, tensor):
                same.append(other)
        if len(same) > 1:
            groups.append(same)
    return groups


def audit_module(model: torch.nn.Module, *, input_shape: tuple[int, ...] | None = None,
                 seed: int = 0) -> AuditReport:
    """Audit a model object in memory (what ``initaudit model pkg.mod:factory`` does)."""
    return analyse(module_source(model, SourceKind.FACTORY, None), input_shape=input_shape, seed=seed).report
