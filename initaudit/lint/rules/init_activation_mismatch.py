"""IA103: the initialiser was designed for another activation than the one the layer feeds."""

from __future__ import annotations

from typing import Iterable, Iterator

from initaudit import knowledge
from initaudit.diagnostics import Applicability, Fix
from initaudit.knowledge import LayerKind
from initaudit.lint.model.facts import InitOp, ModuleClass
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.model.flow import Consumer, ConsumerKind
from initaudit.lint.model.modules import Submodule
from initaudit.lint.model.queries import (
    FORMULA_DRAWS,
    activation_name,
    constructions,
    gated_feeding,
    heir_feeding,
    init_intent,
    internal_activations,
    judged_feeding,
    layer_label,
    layer_list,
    weight_feeding,
    written_at,
)
from initaudit.lint.rules.base import Applied, Finding, rule
from initaudit.lint.rules.overwritten_init import dead_inits
from initaudit.lint.rules.rewrite import render_init_call

_INTENT_TEXT = {
    "glorot": "Xavier with gain 1 (for tanh/sigmoid or linear units)",
    knowledge.DAMPED: "a gain below 1 (for linear units at most)",
    knowledge.RELU: "a ReLU gain (sqrt 2)",
    knowledge.TANH: "the tanh gain (5/3)",
    knowledge.SIGMOID: "the sigmoid gain (1)",
    knowledge.SELU: "the selu gain (3/4)",
    knowledge.LINEAR: "the linear gain (1)",
}

#: Why a mismatch hurts, by (intent, family of the real activation).
_CONSEQUENCE = {
    ("glorot", knowledge.RELU): "ReLU-like units zero half the signal, so its variance halves at every layer",
    (knowledge.LINEAR, knowledge.RELU): "ReLU-like units zero half the signal, so its variance halves at every layer",
    (knowledge.DAMPED, knowledge.RELU): "ReLU-like units zero half the signal, so with a gain below 1 its "
                                        "variance falls by more than half at every layer",
    (knowledge.RELU, knowledge.LINEAR): "with no activation after it the output variance is twice what it should be",
    (knowledge.RELU, knowledge.TANH): "the larger gain pushes tanh towards saturation",
    (knowledge.RELU, knowledge.SIGMOID): "the larger gain pushes sigmoid towards saturation",
}


@rule("IA103")
class InitActivationMismatch:
    def check(self, model: FileModel) -> Iterator[Finding | Applied]:
        as_written = {id(op) for op in model.written_ops}
        relocated: set[tuple[int, str, ConsumerKind]] = set()  # (init as written, activation, kind)
        # A holder applying again the operation its blocks ran when built (the same helper)
        # repeats their verdict on their layers: it is reported where each block applies it.
        repeated = {(id(op.as_written), id(op.target.owner), m.path) for op in model.inherited_ops
                    if op.target is not None for m in op.target.layers}
        # An init that every holder writes again (IA111 at the init) sets no weight: no verdict.
        dead = dead_inits(model)
        for op in model.init_ops:
            if id(op.node) in dead:
                continue
            # normal_/uniform_ state an intent when their scale is a formula of a fan (He by hand).
            if op.target is None or (knowledge.INIT_FUNCTIONS[op.function].scheme not in (
                    "xavier", "kaiming", "orthogonal") and op.function not in FORMULA_DRAWS):
                continue
            wanted: list[str | None] = []
            yield from self._judged(model, op, wanted, relocated, repeated)
            # An application: run by a call or a construction (not judged where it is written,
            # nor for every layer of the classes a helper tests).
            if id(op) not in as_written and not op.target.by_class:
                # One rewrite for this application, or none: it is fine, or no one rewrite suits it.
                yield Applied(op, wanted[0] if len(wanted) == 1 else None)

    def _judged(self, model: FileModel, op: InitOp, wanted: list[str | None],
                relocated: set[tuple[int, str, ConsumerKind]],
                repeated: set[tuple[int, int, str]]) -> Iterator[Finding]:
        """The findings of ``op``; ``wanted`` gains, per finding, the text its fix would write
        at the operation as written (None: no fix suits the whole application). ``relocated``
        holds the verdicts already reported at an init for a holder (``_at_the_init``);
        ``repeated``: (operation as written, owner, layer path) that a block's construction ran,
        judged there."""
        target = op.target
        assert target is not None
        recurrent = bool(target.layers) and all(
            internal_activations(layer, target.param) for layer in op.effective_layers())
        if not target.exact or op.method == "forward" or (target.param != "weight" and target.layers and not recurrent):
            wanted.append(None)  # not judged here: no rewrite is known to suit it
            return
        intent = init_intent(model, op)
        if intent is None:
            wanted.append(None)
            return
        if model.in_another_configuration(op):
            wanted.append(None)  # the defaults' configuration, which a rewrite would change, is not this one
            yield from self._in_configuration(model, op, intent)
            return
        if recurrent:
            yield from self._recurrent(model, op, intent, wanted, list(op.effective_layers()), whole=True)
            return
        # A loop over a model's parameters reaching recurrent layers among others (``"weight" in name``).
        gated = [layer for layer in op.effective_layers() if internal_activations(layer, target.param)]
        yield from self._recurrent(model, op, intent, wanted, gated, whole=False)
        if not target.layers:
            for finding in self._raw_weight(model, op, intent):
                wanted.append(None)
                yield finding
            return
        mismatched: dict[tuple[str, float | None, ConsumerKind], list[Submodule]] = {}
        judged, several = 0, bool(gated)  # no one fix suits the recurrent layers too
        again = _run_again(model, op, repeated)
        for owner, layer in _per_construction(model, target.owner, op.effective_layers()):
            if layer.kind is not LayerKind.DENSE or layer.path in again:
                continue
            consumer = judged_feeding(model, owner, layer)
            if consumer is None:
                consumer = gated_feeding(model, owner, layer, intent)
                several |= consumer is not None  # no one fix suits every consumer
            if consumer is not None and consumer.kind is ConsumerKind.OUTPUT and _held_elsewhere(model, owner):
                continue  # the class may be a block of another file's model: what follows is unknown
            activation = activation_name(consumer) if consumer is not None else None
            if consumer is not None and consumer.kind is ConsumerKind.NORM:
                judged += 1  # scale reset by the norm: any scheme is fine
            if activation is None:
                continue
            judged += 1
            family = knowledge.ACTIVATIONS[activation].family
            if intent not in knowledge.COMPATIBLE_INTENTS[family]:
                assert consumer is not None
                mismatched.setdefault((activation, consumer.slope, consumer.kind), []).append(layer)
        for (activation, slope, kind), layers in mismatched.items():
            whole_site = judged == len(layers) and len(mismatched) == 1 and not several
            text = self._replacement(model, op, activation, slope) if whole_site else None
            wanted.append(text)
            fix = None
            if text is not None and op.written is None:  # reported where it is written
                fix = Fix(Applicability.UNSAFE, f"Replace with `{text}`", (model.replace(op.node, text),))
            message = self._layers_message(model, op, intent, activation, kind, layers)
            if not _at_the_init(model, op):
                yield Finding.at(op, message, fix=fix)
            elif (id(op.written), activation, kind) not in relocated:
                # One finding per verdict at the init, whichever holders share it.
                relocated.add((id(op.written), activation, kind))
                assert op.written is not None
                yield Finding(op.written, message)

    def _in_configuration(self, model: FileModel, op: InitOp, intent: str) -> Iterator[Finding]:
        """An operation in the arm of an option that also picks what the layers feed
        (``if act == "tanh":`` around both): judged by what they feed in that configuration,
        where the class's flow with the option so set is known (``FileModel.configured``)."""
        consumers = model.configured(op)
        assert op.target is not None
        if consumers is None:
            return
        keys = [m.path for m in op.effective_layers() if m.kind is LayerKind.DENSE] if op.target.layers \
            else [op.target.param]
        arm = " and ".join(model.source(condition.test) for condition, positive, _ in op.conditions if positive)
        for key in keys:
            found = consumers.get(key, set())
            consumer = next(iter(found)) if len(found) == 1 else None
            activation = activation_name(consumer) if consumer is not None else None
            if consumer is None or activation is None \
                    or intent in knowledge.COMPATIBLE_INTENTS[knowledge.ACTIVATIONS[activation].family]:
                continue
            what = f"the product with {key} (a raw weight matrix)" if not op.target.layers else key
            where = f"{what} feeds {_shown(activation, consumer.kind)} where {arm}"
            yield Finding.at(op, self._message(model, op, intent, activation, where))
            return

    def _recurrent(self, model: FileModel, op: InitOp, intent: str, wanted: list[str | None],
                   layers: list[Submodule], *, whole: bool) -> Iterator[Finding]:
        """An input or hidden weight of recurrent ``layers``: it feeds the activations inside each
        layer (an LSTM's gates), whatever follows the layer's output. ``whole``: they are every
        layer the operation writes."""
        assert op.target is not None
        mismatched: dict[tuple[str, ...], list[Submodule]] = {}
        for layer in layers:
            activations = internal_activations(layer, op.target.param) or ()
            # A gate and a candidate state: reported when the init suits neither.
            if all(intent not in knowledge.COMPATIBLE_INTENTS[knowledge.ACTIVATIONS[a].family] for a in activations):
                mismatched.setdefault(activations, []).append(layer)
        for activations, reached in mismatched.items():
            # One rewrite only where one activation is fed: a scheme for the tanh alone is not
            # the one for the sigmoid gates beside it.
            whole_site = whole and len(reached) == len(layers) and len(mismatched) == 1 and len(activations) == 1
            text = self._replacement(model, op, activations[0], None) if whole_site else None
            wanted.append(text)
            fix = None
            if text is not None and op.written is None:
                fix = Fix(Applicability.UNSAFE, f"Replace with `{text}`", (model.replace(op.node, text),))
            names = ", ".join(f"{m.path} ({layer_label(model, m)})" for m in reached[:4])
            tensor = "weight_ih and weight_hh" if op.target.param == "weight" else op.target.param
            where = f"{tensor} of {names} feeds the layer's own {' and '.join(activations)}"
            yield Finding.at(op, self._message(model, op, intent, activations[0], where), fix=fix)

    def _raw_weight(self, model: FileModel, op: InitOp, intent: str) -> Iterator[Finding]:
        """A bare Parameter multiplying the signal (``relu(x @ self.w)``): its product's consumer
        decides; where the class runs no forward with it, each subclass's that does, the first
        one it mismatches reported."""
        consumer = weight_feeding(model, op)
        users: list[tuple[ModuleClass | None, Consumer]] = (
            [(None, consumer)] if consumer is not None else list(heir_feeding(model, op)))
        assert op.target is not None
        for user, consumer in users:
            activation = activation_name(consumer)
            if activation is None or intent in knowledge.COMPATIBLE_INTENTS[knowledge.ACTIVATIONS[activation].family]:
                continue
            fed = _shown(activation, consumer.kind) + (f" in {user.name}" if user is not None else "")
            where = f"the product with {op.target.param} (a raw weight matrix) feeds {fed}"
            # No fix: which dimension is the fan-in depends on how the product is written.
            yield Finding.at(op, self._message(model, op, intent, activation, where))
            return

    def _layers_message(self, model: FileModel, op: InitOp, intent: str, activation: str,
                        kind: ConsumerKind, layers: list[Submodule]) -> str:
        holder = f" in {op.holder.name}" if op.holder is not None else ""
        if len(layers) == 1:
            where = f"{layers[0].path} ({layer_label(model, layers[0])}){holder} feeds {_shown(activation, kind)}"
        else:
            kinds, names = layer_list(layers)
            where = f"it reaches {len(layers)} {kinds} layers{holder} that feed {_shown(activation, kind)}: {names}"
        return self._message(model, op, intent, activation, where)

    def _message(self, model: FileModel, op: InitOp, intent: str, activation: str, where: str) -> str:
        family = knowledge.ACTIVATIONS[activation].family
        consequence = _CONSEQUENCE.get((intent, family), f"{activation} needs a different gain")
        distribution = "normal" if "normal" in op.function else "uniform"
        advice = knowledge.recommend(activation, distribution).description
        at = "" if _at_the_init(model, op) else written_at(model, op)
        return (f"{op.function}{at} uses {_INTENT_TEXT[intent]} but {where}; {consequence}. "
                f"Use {advice}")

    def _replacement(self, model: FileModel, op: InitOp, activation: str, slope: float | None) -> str | None:
        """The call that suits ``activation``, written in place of the operation as written."""
        if knowledge.INIT_FUNCTIONS[op.function].scheme not in ("xavier", "kaiming"):
            # Orthogonality or a hand-written formula is kept and the gain changed: left to the user.
            return None
        written = _as_written(model, op)
        if written is None:
            return None
        distribution = "normal" if "normal" in op.function else "uniform"
        return render_init_call(model, written, knowledge.recommend(activation, distribution, slope))


def _at_the_init(model: FileModel, op: InitOp) -> bool:
    """Whether ``op`` is reported where it is written rather than where it runs: a holder's
    construction of a class of this file runs it as written (``op.holder``), so the verdict is
    the init's own; the holder only shows what the layer feeds."""
    return op.holder is not None and op.written is not None and model.location(op.written) is None


def _per_construction(model: FileModel, owner: ModuleClass,
                      layers: Iterable[Submodule]) -> Iterator[tuple[ModuleClass, Submodule]]:
    """Each layer with its class, or, where what it feeds is not one consumer for the class, each
    copy of it a construction specialises (``queries.constructions``), with the class holding it."""
    for layer in layers:
        built = constructions(model, owner, layer) if judged_feeding(model, owner, layer) is None else []
        yield from built or [(owner, layer)]


def _held_elsewhere(model: FileModel, owner: ModuleClass) -> bool:
    """Whether ``owner``, whose output is taken for the model's, may be a block of another
    project file's model that is not seen building it (through a factory, or beside the blocks
    of its file that models elsewhere build): what follows its output is then unknown."""
    return model.links is not None and model.links.built_elsewhere(owner.name)


def _run_again(model: FileModel, op: InitOp, repeated: set[tuple[int, int, str]]) -> set[str]:
    """The paths of the layers ``op`` writes that the construction of their block already wrote
    with the same operation, ``op`` being a later run of it (not that construction's own)."""
    assert op.target is not None
    owner = op.target.owner
    local = [m for m in op.target.layers if (id(op.as_written), id(owner), m.path) in repeated]
    if not local:
        return set()
    built = {m.path: m.node for m in model.layers(owner)}
    return {m.path for m in local if built.get(m.instance_path()) is not op.node}


def _as_written(model: FileModel, op: InitOp) -> InitOp | None:
    """The operation as its own file writes it (its arguments unbound), for one run at a call."""
    if op.written is None:
        return op
    for source in (model, *model.foreign_models()):
        found = next((written for written in source.written_ops if written.node is op.written), None)
        if found is not None:
            return found
    return None


#: Why a layer's output meets no activation, by what takes it.
_NO_ACTIVATION = {
    ConsumerKind.OUTPUT: "it is the model's output",
    ConsumerKind.LAYER: "another layer takes it directly",
}


def _shown(activation: str, kind: ConsumerKind) -> str:
    return f"no activation ({_NO_ACTIVATION[kind]})" if activation == "linear" else activation
