"""IA103: the initialiser was designed for another activation than the one the layer feeds."""

from __future__ import annotations

from typing import Iterator

from initaudit import knowledge
from initaudit.diagnostics import Applicability, Fix
from initaudit.knowledge import LayerKind
from initaudit.lint.model.facts import InitOp
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.model.flow import ConsumerKind
from initaudit.lint.model.modules import Submodule
from initaudit.lint.model.queries import (
    activation_name,
    feeding,
    gated_feeding,
    init_intent,
    layer_label,
    layer_list,
    weight_feeding,
    written_at,
)
from initaudit.lint.rules.base import Finding, rule
from initaudit.lint.rules.rewrite import render_init_call

_INTENT_TEXT = {
    "glorot": "Xavier with gain 1 (for tanh/sigmoid or linear units)",
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
    (knowledge.RELU, knowledge.LINEAR): "with no activation after it the output variance is twice what it should be",
    (knowledge.RELU, knowledge.TANH): "the larger gain pushes tanh towards saturation",
    (knowledge.RELU, knowledge.SIGMOID): "the larger gain pushes sigmoid towards saturation",
}


@rule("IA103")
class InitActivationMismatch:
    def check(self, model: FileModel) -> Iterator[Finding]:
        for op in model.init_ops:
            if knowledge.INIT_FUNCTIONS[op.function].scheme not in ("xavier", "kaiming", "orthogonal"):
                continue
            target = op.target
            if target is None or not target.exact or op.method == "forward" \
                    or (target.param != "weight" and target.layers):
                continue
            intent = init_intent(model, op)
            if intent is None:
                continue
            if not target.layers:
                yield from self._raw_weight(model, op, intent)
                continue
            mismatched: dict[tuple[str, float | None], list[Submodule]] = {}
            judged, several = 0, False
            for layer in op.effective_layers():
                if layer.kind is not LayerKind.DENSE:
                    continue
                consumer = feeding(model, target.owner, layer)
                if consumer is None:
                    consumer = gated_feeding(model, target.owner, layer, intent)
                    several |= consumer is not None  # no one fix suits every consumer
                activation = activation_name(consumer) if consumer is not None else None
                if consumer is not None and consumer.kind is ConsumerKind.NORM:
                    judged += 1  # scale reset by the norm: any scheme is fine
                if activation is None:
                    continue
                judged += 1
                family = knowledge.ACTIVATIONS[activation].family
                if intent not in knowledge.COMPATIBLE_INTENTS[family]:
                    assert consumer is not None
                    mismatched.setdefault((activation, consumer.slope), []).append(layer)
            for (activation, slope), layers in mismatched.items():
                whole_site = judged == len(layers) and len(mismatched) == 1 and not several
                yield Finding.at(op, self._layers_message(model, op, intent, activation, layers),
                              fix=self._fix(model, op, activation, slope) if whole_site else None)

    def _raw_weight(self, model: FileModel, op: InitOp, intent: str) -> Iterator[Finding]:
        """A bare Parameter multiplying the signal (``relu(x @ self.w)``): its product's consumer decides."""
        consumer = weight_feeding(model, op)
        activation = activation_name(consumer) if consumer is not None else None
        if consumer is None or activation is None \
                or intent in knowledge.COMPATIBLE_INTENTS[knowledge.ACTIVATIONS[activation].family]:
            return
        assert op.target is not None
        where = f"the product with {op.target.param} (a raw weight matrix) feeds {_shown(activation)}"
        # No fix: which dimension is the fan-in depends on how the product is written.
        yield Finding.at(op, self._message(model, op, intent, activation, where))

    def _layers_message(self, model: FileModel, op: InitOp, intent: str, activation: str,
                        layers: list[Submodule]) -> str:
        if len(layers) == 1:
            where = f"{layers[0].path} ({layer_label(model, layers[0])}) feeds {_shown(activation)}"
        else:
            kinds, names = layer_list(layers)
            where = f"it reaches {len(layers)} {kinds} layers that feed {_shown(activation)}: {names}"
        return self._message(model, op, intent, activation, where)

    def _message(self, model: FileModel, op: InitOp, intent: str, activation: str, where: str) -> str:
        family = knowledge.ACTIVATIONS[activation].family
        consequence = _CONSEQUENCE.get((intent, family), f"{activation} needs a different gain")
        distribution = "normal" if "normal" in op.function else "uniform"
        advice = knowledge.recommend(activation, distribution).description
        return (f"{op.function}{written_at(model, op)} uses {_INTENT_TEXT[intent]} but {where}; {consequence}. "
                f"Use {advice}")

    def _fix(self, model: FileModel, op: InitOp, activation: str, slope: float | None) -> Fix | None:
        if op.function == "orthogonal_":
            return None  # the right fix keeps orthogonality and changes the gain: left to the user
        if op.written is not None:
            return None  # reported where it runs: the fix would belong where it is written
        distribution = "normal" if "normal" in op.function else "uniform"
        text = render_init_call(model, op, knowledge.recommend(activation, distribution, slope))
        if text is None:
            return None
        return Fix(Applicability.UNSAFE, f"Replace with `{text}`", (model.replace(op.node, text),))


def _shown(activation: str) -> str:
    return "no activation (it is the model's output)" if activation == "linear" else activation
