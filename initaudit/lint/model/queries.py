"""Questions rules ask of the file model, answered in one place."""

from __future__ import annotations

import math
from typing import Sequence

import libcst as cst

from initaudit import knowledge
from initaudit.knowledge import LayerKind
from initaudit.lint.model.facts import BARE_TENSOR, InitOp, InitVia, ModuleClass
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.model.flow import Consumer, ConsumerKind
from initaudit.lint.model.modules import Submodule, argument, literal_number, small_statements
from initaudit.lint.model.modules import written_tensor
from initaudit.lint.model.targets import defining_class, execution_key, loop_target


def consumers_of(model: FileModel, owner: ModuleClass, layer: Submodule) -> set[Consumer]:
    """What the layer's output flows into: recorded by the owner's forward, or — for a layer
    inside a block of this file, or built in a function or at module level and handed to an
    init function — where it was built: by the outermost instance of a project class holding
    it that records it, whose forward runs the blocks inside with what follows each of them
    (a residual block's last conv feeding the next block's norm), else by the class defining it."""
    found = model.consumers(owner).get(layer.path)
    if found:
        return found
    for holder in (*reversed(_holders(model, owner, layer)), layer):
        if holder.local_path is None:
            continue
        within = f"{holder.local_path}{layer.path[len(holder.path):]}"
        found = _consumers_in_origin(model, owner, holder.origin or "", within)
        if found:
            return found
    return set()


def _holders(model: FileModel, owner: ModuleClass, layer: Submodule) -> list[Submodule]:
    """The instances of project classes ``layer`` is composed into, innermost first."""
    parts = layer.path.split(".")
    module = model.attributes(owner).get(parts[0])
    found = []
    for depth in range(1, len(parts)):
        if module is None:
            break
        if module.kind is LayerKind.CUSTOM:
            found.append(module)
        module = module.child(parts[depth])
    return found[::-1]


def _consumers_in_origin(model: FileModel, owner: ModuleClass, origin_name: str, path: str) -> set[Consumer]:
    """What the forward of the class (or scope) that defines a layer records for it, at its
    ``path`` there."""
    origin = model.classes.get(origin_name) or next(
        (scope for scope in model.scopes if scope.name == origin_name), None)
    if origin is not None:
        return model.consumers(origin).get(path, set()) if origin is not owner else set()
    foreign = model.foreign_origins.get(origin_name)
    if foreign is not None:
        # A block of another file built by a module class here: what follows its output is
        # that class's business.
        return {c for c in foreign.consumers.get(path, set())
                if foreign.is_root or c.kind not in (ConsumerKind.OUTPUT, ConsumerKind.RESIDUAL)}
    return set()


def feeding(model: FileModel, owner: ModuleClass, layer: Submodule) -> Consumer | None:
    """The one thing a layer's output flows into, or None when unknown or ambiguous.

    ``output`` only appears for the file's root modules: what follows a block that another class
    of the file builds is that class's business, and a block used from elsewhere is unknown.
    """
    return _single(consumers_of(model, owner, layer))


def constructions(model: FileModel, owner: ModuleClass, layer: Submodule) -> list[tuple[ModuleClass, Submodule]]:
    """Where ``owner`` is a block some classes of the file build as a construction specialises it
    (``flow.Instance``): each such class with the copy of ``layer`` it holds, what that copy
    feeds being decided there rather than by every way the block may be built."""
    found = []
    for holder in model.classes.values():
        paths = model.specialised(holder)
        found.extend((holder, copy) for copy in (model.layers(holder) if paths else ())
                     if copy.origin == owner.name and copy.local_path == layer.path
                     and any(copy.path.startswith(f"{path}.") for path in paths))
    return found


def judged_feeding(model: FileModel, owner: ModuleClass, layer: Submodule) -> Consumer | None:
    """``feeding`` for a layer whose output is split between a sum with a skip connection and
    other paths (``residual, skip = torch.chunk(y, 2, dim=1)``, ``x + residual``, ``skip`` into
    another layer): the summed part's scale is the residual block's design, so what the other
    parts flow into decides. A layer whose every path is such a sum is left as ``feeding`` says."""
    consumers = consumers_of(model, owner, layer)
    elsewhere = {c for c in consumers if not c.residual and c.kind is not ConsumerKind.RESIDUAL}
    return _single(elsewhere or consumers)


def is_head(model: FileModel, owner: ModuleClass, layer: Submodule, consumer: Consumer | None) -> bool:
    """Whether the layer's output leaves its module as it is or through squashes alone (sigmoid,
    softmax, tanh: ``knowledge.SQUASHES``) with no other weight layer after them: each of its
    units then gets an error of its own, so its start breaks no symmetry and sets the first
    outputs (a prior, uniform attention, small actions)."""
    if consumer is None:
        return False
    if consumer.kind is ConsumerKind.OUTPUT:
        return True
    return consumer.kind is ConsumerKind.ACTIVATION and consumer.activation in knowledge.SQUASHES \
        and not any(c.then_layer for c in consumers_of(model, owner, layer))


def ends_residual(model: FileModel, owner: ModuleClass, layer: Submodule) -> bool:
    """Whether every path of a layer's output is a sum with a skip connection
    (``x + self.proj(h)``): the last layer of a residual branch, which a zero or near-zero start
    turns into the identity. A block another class builds records no consumer for what it
    returns, so there its forward's output tells: the layer's raw output summed on its way out."""
    consumers = consumers_of(model, owner, layer)
    if consumers:
        return all(c.residual or c.kind is ConsumerKind.RESIDUAL for c in consumers)
    summary = model.summaries.get(owner.name)
    return summary is not None and summary.output.residual and layer.path in summary.output.producers


def gated_feeding(model: FileModel, owner: ModuleClass, layer: Submodule, intent: str) -> Consumer | None:
    """For a layer whose known consumers disagree (a gate's halves into tanh and sigmoid, a loop's
    last layer skipping the activation): one of the consumers that set a gain, when ``intent``
    suits none of them; None otherwise. A norm, a residual sum or another layer on the other
    paths sets no gain of its own."""
    consumers = consumers_of(model, owner, layer)
    if any(c.kind is ConsumerKind.UNKNOWN for c in consumers):
        return None
    gains = [c for c in consumers if c.kind in (ConsumerKind.ACTIVATION, ConsumerKind.OUTPUT)]
    activations = [c for c in gains if c.kind is ConsumerKind.ACTIVATION]
    if activations and _stands_for_several(model, owner, layer):
        # The layers a loop builds take turns: the hidden ones feed the activation, the last
        # one the output. An init suiting the output alone is still wrong for the hidden ones.
        gains = activations
    families = {knowledge.ACTIVATIONS[activation_name(c) or ""].family for c in gains}
    if not gains or any(intent in knowledge.COMPATIBLE_INTENTS[family] for family in families):
        return None
    # An activation rather than the output: the output is usually the path a loop's last layer takes.
    return min(gains, key=lambda c: (c.kind is not ConsumerKind.ACTIVATION, activation_name(c) or "", c.slope or 0.0))


def _stands_for_several(model: FileModel, owner: ModuleClass, layer: Submodule) -> bool:
    """Whether ``layer`` is the child of a container that a loop or comprehension fills, so that
    it stands for several layers in a row rather than one."""
    parent, _, _ = layer.path.rpartition(".")
    container = next((m for m in model.layers(owner) if m.path == parent), None)
    return container is not None and (container.repeated or container.open_length or container.cycles)


def weight_feeding(model: FileModel, op: InitOp) -> Consumer | None:
    """What the product of the raw weight ``op`` writes flows into (``relu(x @ self.w)``), when
    that weight is judged at all (``judged_parameter``); None when unknown or ambiguous."""
    target = op.target
    if target is None or target.layers or not target.exact or not judged_parameter(model, op):
        return None
    found = model.consumers(target.owner).get(target.param, set())
    if not target.owner.is_root and (not found or _returned(model, target.owner, target.param)):
        # The product also leaves the block (``return attention @ (x @ self.w)``): what the
        # classes building the block make of it is one more consumer.
        built = _built_consumers(model, target.owner, target.param)
        found = (found | built) if built else set()
    return _single(found)


def _returned(model: FileModel, owner: ModuleClass, producer: str) -> bool:
    """Whether the raw output of ``producer`` (a layer's path, a raw weight's name) leaves
    ``owner``'s forward in what it returns."""
    summary = model.summaries.get(owner.name)
    return summary is not None and producer in summary.output.producers


def heir_feeding(model: FileModel, op: InitOp) -> list[tuple[ModuleClass, Consumer]]:
    """For a raw weight whose class runs no ``forward`` with it: what its product flows into in
    each subclass of the file that does (the subclasses inherit the ``__init__`` that writes
    it), for those where that is known and single."""
    target = op.target
    if target is None or target.layers or not target.exact or not judged_parameter(model, op) \
            or model.consumers(target.owner).get(target.param):
        return []
    found = ((heir, _single(set(model.consumers(heir).get(target.param, ())))) for heir in heirs(model, target.owner))
    return [(heir, consumer) for heir, consumer in found if consumer is not None]


def heirs(model: FileModel, owner: ModuleClass) -> list[ModuleClass]:
    """The classes of the file deriving from ``owner``, directly or through one another."""
    derived: dict[str, list[ModuleClass]] = {}
    for cls in model.classes.values():
        for base in cls.bases:
            derived.setdefault(base, []).append(cls)
    found: list[ModuleClass] = []
    pending, seen = [owner.name], {owner.name}
    while pending:
        for cls in derived.get(pending.pop(), ()):
            if cls.name not in seen:
                seen.add(cls.name)
                found.append(cls)
                pending.append(cls.name)
    return found


def _built_consumers(model: FileModel, block: ModuleClass, param: str) -> set[Consumer]:
    """What the product with a block's raw weight flows into where the classes of the file build
    the block: its output is theirs to follow (``relu(self.layer_1(x))``). Empty when an
    instance's use is not known, so that no instance is judged by the others."""
    found: set[Consumer] = set()
    for builder in model.classes.values():
        for layer in model.layers(builder):
            if layer.kind is LayerKind.CUSTOM and layer.class_name == block.name and builder is not block:
                used = model.consumers(builder).get(f"{layer.path}.{param}")
                if not used:
                    return set()
                found |= used
    return found


def internal_activations(layer: Submodule, param: str) -> tuple[str, ...] | None:
    """The activations a recurrent layer applies to what ``param`` produces (an LSTM's sigmoid
    gates and tanh for ``weight_ih_l0``; ``weight``, its weights as a loop over the parameters of
    a model reaches them), whatever follows the layer's output; None for another layer or
    parameter, or an RNN whose ``nonlinearity`` is not written as a literal."""
    found = knowledge.RECURRENT_INTERNAL_ACTIVATIONS.get(layer.class_name or "")
    if found is None or not (param == "weight" or param.startswith(knowledge.RECURRENT_GATE_WEIGHTS)):
        return None
    told = knowledge.RECURRENT_NONLINEARITY_ARG.get(layer.class_name or "")
    if told is None:
        return found
    if not isinstance(layer.node, cst.Call):
        return None
    written = argument(layer.node, *told)
    if written is None:
        return found
    name = string(written)
    return (name,) if name in knowledge.ACTIVATIONS else None


def _single(consumers: set[Consumer]) -> Consumer | None:
    if not consumers or any(c.kind is ConsumerKind.UNKNOWN for c in consumers):
        return None
    if len(consumers) > 1:
        families = {_family(c) for c in consumers}
        if len(families) != 1 or None in families:
            return None
    return next(iter(consumers))


def _family(consumer: Consumer) -> str | None:
    if consumer.kind is ConsumerKind.ACTIVATION and consumer.activation is not None:
        return knowledge.ACTIVATIONS[consumer.activation].family
    return consumer.kind


#: Consumers that apply no nonlinearity to the layer's output and are judged as such: the
#: model's output. (A sum with another tensor is left to what follows the sum.)
LINEAR_CONSUMERS = frozenset({ConsumerKind.OUTPUT})


def activation_name(consumer: Consumer) -> str | None:
    """Activation that decides the right init for a consumer; None when scale does not matter."""
    if consumer.kind in (ConsumerKind.ACTIVATION, ConsumerKind.LAYER):
        # Another weight layer taking the output directly names "linear" where the chain of
        # layers ends in an activation or the output (a linear map of a linear map), none
        # where that end is not followed.
        return consumer.activation
    if consumer.kind in LINEAR_CONSUMERS:
        return "linear"
    return None  # a norm resets the scale


def number(model: FileModel, node: cst.BaseExpression | None) -> float | None:
    """Numeric value of arithmetic on literals and square roots (``1 / math.sqrt(2)``,
    ``2 ** 0.5``)."""
    return literal_number(node, lambda leaf: _root(model, leaf))


def _root(model: FileModel, node: cst.CSTNode) -> float | None:
    """``math.sqrt(<arithmetic>)``'s value. (No closure calling itself: it would make a
    reference cycle holding the tree.)"""
    if not isinstance(node, cst.Call) or len(node.args) != 1 \
            or not any(n in ("math.sqrt", "numpy.sqrt", "np.sqrt") for n in model.names(node.func)):
        return None
    inner = number(model, node.args[0].value)
    return inner**0.5 if inner is not None and inner >= 0 else None


def computed_number(model: FileModel, node: cst.BaseExpression | None) -> float | None:
    """``number``, or the value a ``calculate_gain`` call of literals returns
    (``a=calculate_gain('conv2d')`` is a slope of 1)."""
    value = number(model, node)
    named = gain_name(model, node) if value is None else None
    if named is None:
        return value
    try:
        return knowledge.calculate_gain(*named)
    except ValueError:  # a name torch rejects: the call raises, no value
        return None


def quote_of(model: FileModel, node: cst.CSTNode) -> str:
    """The quote a string written into ``node``'s source should use: single quotes only where
    the code already uses them and not double ones."""
    text = model.source(node)
    return "'" if "'" in text and '"' not in text else '"'


def string(node: cst.BaseExpression | None) -> str | None:
    return node.evaluated_value if isinstance(node, cst.SimpleString) else None


def gain_name(model: FileModel, node: cst.BaseExpression | None) -> tuple[str, float | None] | None:
    """``calculate_gain("tanh")`` -> ("tanh", None); ``calculate_gain("leaky_relu", 0.2)``."""
    if not isinstance(node, cst.Call) or not node.args:
        return None
    if knowledge.INIT_MODULE + ".calculate_gain" not in model.names(node.func):
        return None
    name = string(node.args[0].value)
    if name is None:
        return None
    param = number(model, node.args[1].value) if len(node.args) > 1 else None
    return name, param


def init_intent(model: FileModel, op: InitOp) -> str | None:
    """Activation family an xavier/kaiming/orthogonal call was designed for ("glorot" for Xavier
    with gain 1), or a draw whose scale is written as a formula of a fan (``formula_gain``);
    None when it cannot be told statically or names no family."""
    if op.function in FORMULA_DRAWS:
        gain = formula_gain(model, op)
        return knowledge.intent_of_gain(gain) if gain is not None else None
    spec = knowledge.INIT_FUNCTIONS[op.function]
    if spec.scheme == "kaiming":
        nonlinearity = string(op.args["nonlinearity"]) if "nonlinearity" in op.args else "leaky_relu"
        if nonlinearity is None:
            return None
        if nonlinearity == "leaky_relu":
            slope = number(model, op.args["a"]) if "a" in op.args else 0.0
            # a = sqrt(5) is torch's own Linear/Conv default, gain 1/sqrt(3): not an intent.
            if slope is None or slope > 1.0:
                return None
            # A slope of 1 makes the leaky ReLU the identity: gain 1, an init for linear units.
            if knowledge.intent_of_gain(knowledge.calculate_gain(nonlinearity, slope)) == "glorot":
                return knowledge.LINEAR
        return knowledge.GAIN_NAME_FAMILY.get(nonlinearity)
    if spec.scheme in ("xavier", "orthogonal"):
        gain = op.args.get("gain")
        if gain is None:
            return "glorot" if spec.scheme == "xavier" else None
        named = gain_name(model, gain)
        if named is not None:
            family = knowledge.GAIN_NAME_FAMILY.get(named[0])
            # Xavier with calculate_gain("linear") (gain 1) is Glorot's own scheme, the same draw.
            return "glorot" if family == knowledge.LINEAR and spec.scheme == "xavier" else family
        if spec.scheme == "orthogonal":
            return None
        value = number(model, gain)
        return knowledge.written_gain_intent(value) if value is not None else None
    return None


#: Draws whose scale can be a formula of a fan written by hand.
FORMULA_DRAWS = ("normal_", "uniform_")


def formula_gain(model: FileModel, op: InitOp) -> float | None:
    """The gain of a zero-centred draw whose scale is written as a formula of a fan:
    ``normal_(0, math.sqrt(2. / n))`` and ``std = gain / math.sqrt(fan)`` give the std's gain,
    ``uniform_(-b, b)`` with ``b = math.sqrt(6. / n)`` the bound's over sqrt(3) (the bound of a
    uniform draw is sqrt(3) stds). The fan is any expression that is not a number; which
    dimension it counts is IA113's concern. None for a fixed scale or another formula."""
    assigned = assignments((*op.enclosing, *op.called_from))
    if op.function == "normal_":
        mean = op.args.get("mean")
        if mean is not None and _resolved_number(model, mean, assigned) != 0.0:
            return None
        return _fan_gain(model, op.args.get("std"), assigned, frozenset())
    low, high = op.args.get("a"), op.args.get("b")
    if low is None or high is None or not _negated(model, low, high, assigned):
        return None
    bound = _fan_gain(model, high, assigned, frozenset())
    return bound / math.sqrt(3.0) if bound is not None else None


def _fan_gain(model: FileModel, node: cst.BaseExpression | None, assigned: dict[str, list[cst.Assign]],
              seen: frozenset[str]) -> float | None:
    """g for an expression worth g / sqrt(fan): ``sqrt(g**2 / fan)``, ``(g**2 / fan) ** 0.5``,
    ``g / sqrt(fan)``, ``g * <one of those>``, through variables whose every assignment gives
    the same gain (``stdv = 1. / math.sqrt(n)`` in each branch, for the fan each computes)."""
    if isinstance(node, cst.Name):
        values = assigned.get(node.value, [])
        if node.value in seen or not values:
            return None
        gains = {_fan_gain(model, value.value, assigned, seen | {node.value}) for value in values}
        return gains.pop() if len(gains) == 1 else None
    root = _square_root(model, node)
    if root is not None and isinstance(root, cst.BinaryOperation) and isinstance(root.operator, cst.Divide):
        squared = _resolved_number(model, root.left, assigned)
        multiple = _fan_multiple(model, root.right, assigned)
        if squared is not None and squared > 0 and multiple is not None:
            # Over the sum of both fans (Glorot's ``sqrt(2 / (fan_in + fan_out))``), the 2 of the
            # numerator averages them: the gain is taken over that average fan.
            return math.sqrt(squared / multiple / (2.0 if _summed(root.right, assigned) else 1.0))
        return None
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Divide, cst.Multiply)):
        factor = _resolved_number(model, node.left, assigned)
        if factor is None or factor <= 0:
            return None
        if isinstance(node.operator, cst.Divide):
            fan = _square_root(model, node.right)
            multiple = _fan_multiple(model, fan, assigned) if fan is not None else None
            return factor / math.sqrt(multiple) if multiple is not None else None
        inner = _fan_gain(model, node.right, assigned, seen)
        return factor * inner if inner is not None else None
    return None


def _square_root(model: FileModel, node: cst.BaseExpression | None) -> cst.BaseExpression | None:
    """``x`` of ``math.sqrt(x)`` or ``x ** 0.5``."""
    if isinstance(node, cst.Call) and len(node.args) == 1 \
            and any(n in knowledge.SQRT_FUNCTIONS for n in model.names(node.func)):
        return node.args[0].value
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Power) \
            and literal_number(node.right) == 0.5:
        return node.left
    return None


def _fan_multiple(model: FileModel, node: cst.BaseExpression, assigned: dict[str, list[cst.Assign]]
                  ) -> float | None:
    """m for a size written as a fan over a number (``n / 2.`` is half of ``n``, so
    ``1 / sqrt(n / 2.)`` is sqrt(2) / sqrt(n)): 1 for a fan otherwise written (a product of
    numbers and sizes, ``3 * 3 * c``, counts them all); None for a number, which is no fan."""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide):
        divisor = _resolved_number(model, node.right, assigned)
        inner = _fan_multiple(model, node.left, assigned)
        if divisor is not None and divisor > 0:
            return inner / divisor if inner is not None else None
    return 1.0 if _is_fan(model, node, assigned) else None


def _summed(node: cst.BaseExpression, assigned: dict[str, list[cst.Assign]]) -> bool:
    """``fan_in + fan_out``, written out or through a variable assigned once."""
    if isinstance(node, cst.Name) and len(assigned.get(node.value, [])) == 1:
        node = assigned[node.value][0].value
    return isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add)


def _is_fan(model: FileModel, node: cst.BaseExpression, assigned: dict[str, list[cst.Assign]]) -> bool:
    """A size the code computes (``n``, ``fan_in``, ``k * k * c``), not a number."""
    return _resolved_number(model, node, assigned) is None


def _resolved_number(model: FileModel, node: cst.BaseExpression, assigned: dict[str, list[cst.Assign]]
                     ) -> float | None:
    """``number``, through a variable assigned once."""
    if isinstance(node, cst.Name) and len(assigned.get(node.value, [])) == 1:
        node = assigned[node.value][0].value
    return number(model, node)


def _negated(model: FileModel, low: cst.BaseExpression, high: cst.BaseExpression,
             assigned: dict[str, list[cst.Assign]]) -> bool:
    """``low`` is ``-high`` (``uniform_(-b, b)``), written out or through a variable."""
    if isinstance(low, cst.Name) and len(assigned.get(low.value, [])) == 1:
        low = assigned[low.value][0].value
    return isinstance(low, cst.UnaryOperation) and isinstance(low.operator, cst.Minus) \
        and model.source(low.expression) == model.source(high)


def assignments(functions: Sequence[cst.FunctionDef]) -> dict[str, list[cst.Assign]]:
    """``name = value`` statements of the enclosing functions by name (each branch's assignment:
    ``fan_in = size[0]`` for 2-D tensors and another for convs), inner functions winning."""
    found: dict[str, list[cst.Assign]] = {}
    for function in functions:
        local: dict[str, list[cst.Assign]] = {}
        for small in small_statements(function):
            if isinstance(small, cst.Assign) and len(small.targets) == 1 \
                    and isinstance(small.targets[0].target, cst.Name):
                local.setdefault(small.targets[0].target.value, []).append(small)
        found.update(local)
    return found


def is_weight_matrix(layer: Submodule, param: str) -> bool:
    """A weight that multiplies the signal (not a bias, norm affine or embedding table)."""
    if not layer.has_weight_matrix:
        return False
    return param == "weight" or param.startswith("weight_") or param == "in_proj_weight"


def is_intentional(path: str) -> bool:
    """Named like a deliberately zero-initialised tensor (LoRA B, zero conv, gates...)."""
    return knowledge.intentional_zero_fragment(path) is not None


def low_rank_partner(name: str) -> str | None:
    """``lora_B`` -> ``lora_a``: the (lower-cased) factor that must be random when this one is zero."""
    lowered = name.lower()
    for first, second in knowledge.LOW_RANK_PAIRS:
        if lowered == second or lowered.endswith("_" + second):
            return lowered[: len(lowered) - len(second)] + first
    return None


def layer_list(layers: Sequence[Submodule]) -> tuple[str, str]:
    """("Linear/Conv2d", "net.0, net.2, ...") for a message naming several layers."""
    kinds = "/".join(sorted({m.class_name or "layer" for m in layers}))
    names = ", ".join(m.path for m in layers[:4]) + (", ..." if len(layers) > 4 else "")
    return kinds, names


def written_at(model: FileModel, op: InitOp) -> str:
    """`` (written at blocks.py:12)`` or `` (written at line 12)`` for an operation reported at
    a call that runs it (a wrapper's construction, a helper's call); empty otherwise."""
    if op.written is None or op.written is op.node:
        return ""
    return f" (written at {model.location(op.written) or f'line {model.position(op.written).start.line}'})"


def layer_label(model: FileModel | None, layer: Submodule) -> str:
    """``Linear``, or ``Linear, blocks.py:12`` for a layer another project file builds."""
    where = model.location(layer.node) if model is not None else None
    return f"{layer.class_name}, {where}" if where is not None else f"{layer.class_name}"


def describe_layers(layers: Sequence[Submodule], param: str, model: FileModel | None = None) -> str:
    """``fc1.weight (Linear)`` or ``the weight of 3 Linear layers (net.0, net.2, net.4)``."""
    if len(layers) == 1:
        return f"{layers[0].path}.{param} ({layer_label(model, layers[0])})"
    kinds, names = layer_list(layers)
    if len({m.path for m in layers}) == 1:  # one module of any of these classes (a helper's parameter)
        classes = kinds.split("/")
        return f"{layers[0].path}.{param} ({', '.join(classes[:4])}{', ...' if len(classes) > 4 else ''})"
    return f"the {param} of {len(layers)} {kinds} layers ({names})"


def weight_matrices(model: FileModel, op: InitOp) -> tuple[str, tuple[Submodule, ...]] | None:
    """What a (resolved, exact) operation writes when that is a weight matrix: a description
    and the layers; None for biases, norms, embeddings, vectors and unknown targets."""
    target = op.target
    if target is None or not target.exact:
        return None
    if not target.layers:
        return (target.param, ()) if judged_parameter(model, op) else None
    layers = tuple(m for m in op.effective_layers() if is_weight_matrix(m, target.param))
    return (describe_layers(layers, target.param, model), layers) if layers else None


def judged_parameter(model: FileModel, op: InitOp) -> bool:
    """Whether what ``op`` writes to a bare Parameter (no layer) is a weight matrix that starts
    from it: one that multiplies the signal, not a table, token or offset, and that neither the
    library's init convention nor an assignment to its ``.data`` sets again."""
    target = op.target
    assert target is not None
    return not ((target.parameter_ndim or 0) < 2 or target.param in target.owner.column_parameters
                or target.param in target.owner.bias_parameters
                or BARE_TENSOR in op.superseded
                or not any(target.param in c.matrix_parameters for c in (target.owner, *heirs(model, target.owner)))
                or knowledge.is_embedding_like(target.param)
                or target.param in target.owner.data_assigned
                or (op.via is InitVia.PARAMETER and _reinitialised_elsewhere(model, target.owner))
                or _redrawn_by_a_parameter_loop(model, op))


def _redrawn_by_a_parameter_loop(model: FileModel, op: InitOp) -> bool:
    """A later operation of the same construction in a loop over the class's own parameters
    (``for p in self.parameters(): if p.dim() > 1: xavier_uniform_(p)``): it writes whatever
    tensor the loop hands it, a bare Parameter included, so what ``op`` wrote is not its start."""
    return any(other.loops and other.owner is op.owner and other is not op and other.method != "forward"
               and execution_key(other) > execution_key(op)
               and any(_over_own_parameters(loop, other) for loop in other.loops)
               for other in model.init_ops)


def _over_own_parameters(loop: cst.For, op: InitOp) -> bool:
    """``loop`` is ``for p in self.parameters()`` (or ``for name, p in self.named_parameters()``)
    and ``op`` writes its ``p``."""
    iterated = loop.iter
    if not (isinstance(iterated, cst.Call) and isinstance(iterated.func, cst.Attribute)
            and isinstance(iterated.func.value, cst.Name) and iterated.func.value.value == "self"
            and iterated.func.attr.value in ("parameters", "named_parameters")):
        return False
    written = written_tensor(op.target_node) if op.target_node is not None else None
    return isinstance(written, cst.Name) and written.value == loop_target(loop)


def _reinitialised_elsewhere(model: FileModel, owner: ModuleClass) -> bool:
    """A class whose parameters an init routine of the file handles (``isinstance(m, Owner)``),
    or a file following the ``_init_weights`` convention, in which a library initialises every
    module after construction: what ``__init__`` creates is only a placeholder."""
    return owner.name in model.dispatched or "_init_weights" in model.functions or any(
        "_init_weights" in cls.methods or any(base.endswith(_LIBRARY_BASES) for base in cls.bases)
        for cls in model.classes.values())


#: Base classes of libraries that initialise every module after construction (transformers'
#: PreTrainedModel.post_init, diffusers' ModelMixin loading).
_LIBRARY_BASES = ("PreTrainedModel", "ModelMixin")


def single_output(layer: Submodule) -> bool:
    """A Linear or convolution built with one output unit (``Conv2d(1, 1, k)``, ``Linear(n, 1)``)."""
    size = output_size(layer)
    return isinstance(size, cst.Integer) and size.evaluated_value == 1


def output_size(layer: Submodule) -> cst.BaseExpression | None:
    """The output count a Linear or convolution is built with (``out_features``, ``out_channels``)."""
    if layer.class_name not in knowledge.OUTPUT_FIRST_WEIGHTS or not isinstance(layer.node, cst.Call):
        return None
    keyword = "out_features" if layer.class_name.endswith("Linear") else "out_channels"
    return argument(layer.node, 0 if layer.class_name.startswith("Lazy") else 1, keyword)


def forward_running(model: FileModel, owner: ModuleClass, method: str) -> ModuleClass | None:
    """The class (``owner`` or one deriving from it in the file) whose ``forward`` runs
    ``owner.<method>`` on every call, through ``self.<name>(...)`` calls; None if none does. A
    call under a test of what the call or its caller sets (``if self.proj is None:``) is a lazy,
    once-only construction and is not followed."""
    for cls in (owner, *heirs(model, owner)):
        pending = [m for m in [_defining(model, cls, "forward")] if m is not None]
        seen = {(id(m[0]), m[1]) for m in pending}
        while pending:
            definer, name = pending.pop()
            if definer is owner and name == method and name != "forward":
                return cls
            for callee, guards in definer.self_calls.get(name, ()):
                found = _defining(model, cls, callee)
                if found is None or (id(found[0]), callee) in seen:
                    continue
                written = definer.assigned.get(name, set()) | found[0].assigned.get(callee, set())
                if not any(_self_attributes_read(guard.test) & written for guard in guards):
                    seen.add((id(found[0]), callee))
                    pending.append(found)
    return None


def _defining(model: FileModel, cls: ModuleClass, method: str) -> tuple[ModuleClass, str] | None:
    """The class of the file whose definition of ``method`` an instance of ``cls`` runs."""
    defining = defining_class(model.classes, cls, method)
    return None if defining is None else (defining, method)


def _self_attributes_read(test: cst.BaseExpression) -> set[str]:
    """``x`` of every ``self.x`` a test reads."""
    found: set[str] = set()
    pending: list[cst.CSTNode] = [test]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
            found.add(node.attr.value)
        else:
            pending.extend(node.children)
    return found
