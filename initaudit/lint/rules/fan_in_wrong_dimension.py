"""IA113: a fan-in read from dimension 0 of a weight laid out (out, in, ...)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import libcst as cst

from initaudit import knowledge
from initaudit.diagnostics import Applicability, Fix
from initaudit.lint.model.binding import bind
from initaudit.lint.model.conditions import is_name
from initaudit.lint.model.facts import InitOp
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.model.modules import (
    Submodule,
    argument,
    literal_number,
)
from initaudit.lint.model.queries import assignments, describe_layers, layer_list, output_size
from initaudit.lint.model.modules import written_tensor
from initaudit.lint.model.targets import target_of
from initaudit.lint.rules.base import Finding, rule

_RANDOM = ("normal_", "uniform_", "trunc_normal_")


@dataclass(frozen=True)
class _Context:
    """What dimension 0 is read from: the weight (``m.weight``), its module (``m``) or a shape
    parameter (``size`` in ``fanin_init(size)``), and the variables of the enclosing functions."""

    tensors: frozenset[str]
    modules: frozenset[str]
    shapes: frozenset[str]
    assigned: dict[str, list[cst.Assign]]


@dataclass(frozen=True)
class _Evidence:
    node: cst.BaseExpression  # ``w.size(0)``, ``size[0]``, ``m.out_features``
    attribute: bool  # an out_features/out_channels attribute rather than a size
    in_sqrt: bool
    through: tuple[cst.Assign, ...]  # the assignments it flowed through, innermost last
    #: Multiplied by the kernel's size: out * kh * kw, the fan-out written out in full.
    times_kernel: bool = False


@rule("IA113")
class FanInWrongDimension:
    def check(self, model: FileModel) -> Iterator[Finding]:
        found: dict[int, tuple[_Evidence, list[Submodule]]] = {}
        helpers: list[tuple[InitOp, _Evidence, str, frozenset[str]]] = []
        for op in model.init_ops:
            if op.function not in _RANDOM or op.method == "forward":
                continue
            if op.target is not None:
                layers = _output_first(op.effective_layers()) if op.target.param == "weight" else ()
                if not layers or op.target_node is None:
                    continue
                for evidence in _fan_in_from_dim0(model, op, _weight_context(model, op)):
                    if model.is_bound(evidence.node):
                        # Read in a helper the arguments call (``uniform_(*hidden_init(self.fc1))``):
                        # each call binds its own layer, so each is reported where it is made.
                        yield _called_finding(model, op, evidence, layers)
                        continue
                    entry = found.setdefault(id(evidence.node), (evidence, []))
                    entry[1].extend(m for m in layers if m not in entry[1])
            else:
                helpers.extend(_shape_helper(model, op))
        for evidence, layers in found.values():
            yield _inline_finding(model, evidence, layers)
        for op, evidence, shape, overrides in helpers:
            yield from _helper_findings(model, op, evidence, shape, overrides)


def _output_first(layers: Sequence[Submodule]) -> tuple[Submodule, ...]:
    """Layers whose weight is (out, in, ...), minus square Linear layers (fan-in = fan-out)."""
    return tuple(m for m in layers if m.class_name in knowledge.OUTPUT_FIRST_WEIGHTS and not _square(m))


def _square(layer: Submodule) -> bool:
    if layer.class_name != "Linear" or not isinstance(layer.node, cst.Call):
        return False
    first, second = argument(layer.node, 0, "in_features"), argument(layer.node, 1, "out_features")
    return first is not None and second is not None and first.deep_equals(second)


def _weight_context(model: FileModel, op: InitOp) -> _Context:
    tensors = [_written(op.target_node), *_passed_tensor(op)]
    modules = frozenset(model.source(tensor.value) for tensor in tensors if isinstance(tensor, cst.Attribute))
    same = _same_outputs(model, op)
    # The arguments a helper's call binds are read where the call is written (``std=stddev``).
    return _Context(frozenset(model.source(tensor) for tensor in tensors) | {f"{m}.weight" for m in same},
                    modules | same, frozenset(), assignments((*op.enclosing, *op.called_from)))


def _same_outputs(model: FileModel, op: InitOp) -> frozenset[str]:
    """The class's other layers built with the output count of the one ``op`` writes
    (``Linear(a, h)`` and ``Linear(b, h)``), as ``self.<path>``: their dimension 0 is its
    dimension 0, by construction."""
    target = op.target
    if target is None or len(target.layers) != 1 or not target.owner.is_module:
        return frozenset()
    written = target.layers[0]
    size = output_size(written)
    return frozenset() if size is None else frozenset(
        f"self.{m.path}" for m in model.layers(target.owner)
        if m.path != written.path and (other := output_size(m)) is not None and other.deep_equals(size))


def _passed_tensor(op: InitOp) -> tuple[cst.BaseExpression, ...]:
    """For a helper's operation reported at the call that runs it: the argument that call binds
    to the helper's tensor parameter (``m.weight.data``), stripped."""
    tensor = _written(op.target_node)
    if not op.called_from or op.written is None or not isinstance(op.node, cst.Call) \
            or op.scope_node is None or not isinstance(tensor, cst.Name):
        return ()
    passed = bind(op.scope_node, op.node, skip_self=isinstance(op.node.func, cst.Attribute)).get(tensor.value)
    return () if passed is None else (_written(passed),)


def _fan_in_from_dim0(model: FileModel, op: InitOp, context: _Context) -> Iterator[_Evidence]:
    """Uses of dimension 0 as a fan-in in the scale arguments of ``op``."""
    for key in ("std", "a", "b"):
        if key in op.args:
            for evidence in _evidence(model, op.args[key], context, False, (), frozenset()):
                if _says_fan_in(model, evidence):
                    yield evidence


def _says_fan_in(model: FileModel, evidence: _Evidence) -> bool:
    """Dimension 0 under a square root (the 1/sqrt(fan_in) idiom) or named a fan-in; never when a
    name or comment says fan-out (torchvision's documented fan_out He init)."""
    words = " ".join([_line_words(model, evidence.node), *(_words(model, assign) for assign in evidence.through)])
    if any(word in words for word in knowledge.FAN_OUT_WORDS):
        return False
    named = any(word in words for word in knowledge.FAN_IN_WORDS)
    # ``out_channels`` or dimension 0 times the kernel's size computes the fan-out on purpose
    # (He's fan_out mode, as torchvision's ResNet wrote it), unless it is called a fan-in.
    return named if evidence.attribute or evidence.times_kernel else named or evidence.in_sqrt


def _words(model: FileModel, assign: cst.Assign) -> str:
    """The assigned name and the comment on its line or the line above, lower-cased."""
    target = assign.targets[0].target
    name = target.value if isinstance(target, cst.Name) else ""
    return " ".join([name, *_comments(model, assign)]).lower()


def _line_words(model: FileModel, node: cst.CSTNode) -> str:
    """The names assigned on the line of a read (``fan_out = w.size(0)``, reached through a
    helper's returned value) and the comments there, lower-cased."""
    line = model.position(node).start.line
    text = _lines(model, node)[line - 1]
    return " ".join([text.split("#", 1)[0].split("=", 1)[0] if "=" in text else "",
                     *_comments(model, node)]).lower()


def _comments(model: FileModel, node: cst.CSTNode) -> list[str]:
    """The comments on the line of ``node`` and the line above."""
    line = model.position(node).start.line
    return [text.split("#", 1)[1] for text in _lines(model, node)[max(line - 2, 0):line] if "#" in text]


def _lines(model: FileModel, node: cst.CSTNode) -> list[str]:
    return re.split(r"\r\n|\r|\n", model.written_text(node))


def _evidence(model: FileModel, node: cst.BaseExpression, context: _Context, in_sqrt: bool,
              through: tuple[cst.Assign, ...], seen: frozenset[str], kernel: bool = False) -> Iterator[_Evidence]:
    """Dimension-0 reads inside ``node``, following variables to their single assignment
    (``kernel``: inside a product with the kernel's size)."""
    if isinstance(node, cst.Name):
        if node.value not in seen:
            for assign in context.assigned.get(node.value, ()):
                yield from _evidence(model, assign.value, context, in_sqrt, (*through, assign),
                                     seen | {node.value}, kernel)
        return
    attribute = _dim0(model, node, context, seen)
    if attribute is not None:
        yield _Evidence(node, attribute, in_sqrt, through, kernel)
        return
    if isinstance(node, cst.Call) and node.args and any(n in knowledge.SQRT_FUNCTIONS for n in model.names(node.func)):
        yield from _evidence(model, node.args[0].value, context, True, through, seen, kernel)
    elif isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in ("float", "int") \
            and len(node.args) == 1:
        yield from _evidence(model, node.args[0].value, context, in_sqrt, through, seen, kernel)
    elif isinstance(node, cst.BinaryOperation):
        if isinstance(node.operator, cst.Add) and (_reads_dim1(node.left) or _reads_dim1(node.right)):
            return  # ``shape[0] // 3 + shape[1]``: both fans summed, Glorot's scale (timm's moco qkv)
        root = isinstance(node.operator, cst.Power) and literal_number(node.right) in (0.5, -0.5)
        kernel = kernel or isinstance(node.operator, cst.Multiply) and (_reads_kernel(node.left) or _reads_kernel(node.right))
        yield from _evidence(model, node.left, context, in_sqrt or root, through, seen, kernel)
        if not root:
            yield from _evidence(model, node.right, context, in_sqrt, through, seen, kernel)
    elif isinstance(node, cst.BooleanOperation):  # ``fanin = fanin or size[0]``
        yield from _evidence(model, node.left, context, in_sqrt, through, seen, kernel)
        yield from _evidence(model, node.right, context, in_sqrt, through, seen, kernel)
    elif isinstance(node, cst.UnaryOperation):
        yield from _evidence(model, node.expression, context, in_sqrt, through, seen, kernel)


def _reads_kernel(node: cst.CSTNode) -> bool:
    """The kernel's size somewhere in ``node``: ``size(2)``, ``shape[3]``, ``shape[2:]``, a
    ``kernel_size``."""
    return _reads_dimension(node, lambda index: index >= 2, kernel=True)


def _reads_dim1(node: cst.CSTNode) -> bool:
    """``size(1)`` or ``shape[1]`` somewhere in ``node``."""
    return _reads_dimension(node, lambda index: index == 1, kernel=False)


def _reads_dimension(node: cst.CSTNode, wanted: Callable[[float], bool], *, kernel: bool) -> bool:
    """A size read somewhere in ``node`` (``size(i)``, ``shape[i]``) of a dimension ``wanted``
    accepts; with ``kernel``, also the dimensions from one on (``shape[i:]``) and a ``kernel_size``."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "size" \
            and len(node.args) == 1 and (index := literal_number(node.args[0].value)) is not None and wanted(index):
        return True
    if isinstance(node, cst.Subscript) and len(node.slice) == 1:
        part = node.slice[0].slice
        index = literal_number(part.value) if isinstance(part, cst.Index) else \
            literal_number(part.lower) if kernel and isinstance(part, cst.Slice) and part.lower is not None else None
        if index is not None and wanted(index):
            return True
    if kernel and (is_name(node, "kernel_size") or (isinstance(node, cst.Attribute) and node.attr.value == "kernel_size")):
        return True
    return any(_reads_dimension(child, wanted, kernel=kernel) for child in node.children)


def _dim0(model: FileModel, node: cst.BaseExpression, context: _Context, seen: frozenset[str]) -> bool | None:
    """None unless ``node`` reads dimension 0: False for a size (``w.size(0)``, ``w.shape[0]``,
    ``size[0]``), True for an ``out_features``/``out_channels`` attribute of the module."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "size" \
            and len(node.args) == 1 and literal_number(node.args[0].value) == 0:
        return False if _is(model, node.func.value, context.tensors, context, seen) else None
    if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index) \
            and literal_number(node.slice[0].slice.value) == 0:
        return False if _is_shape(model, node.value, context, seen) else None
    if isinstance(node, cst.Attribute) and node.attr.value in knowledge.OUTPUT_SIZE_ATTRIBUTES:
        return True if _is(model, node.value, context.modules, context, seen) else None
    return None


def _is(model: FileModel, node: cst.BaseExpression, sources: frozenset[str], context: _Context,
        seen: frozenset[str]) -> bool:
    """``node`` is one of ``sources``, directly or through a variable (``w = m.weight``)."""
    node = _written(node)
    if isinstance(node, cst.Name) and node.value not in seen and any(
            _is(model, assign.value, sources, context, seen | {node.value})
            for assign in context.assigned.get(node.value, ())):
        return True
    return model.source(node) in sources


def _is_shape(model: FileModel, node: cst.BaseExpression, context: _Context, seen: frozenset[str]) -> bool:
    """``w.size()``, ``w.shape``, a shape parameter, or a variable holding one of them."""
    if isinstance(node, cst.Name):
        return node.value in context.shapes or node.value not in seen and any(
            _is_shape(model, assign.value, context, seen | {node.value})
            for assign in context.assigned.get(node.value, ()))
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "size" \
            and not node.args:
        return _is(model, node.func.value, context.tensors, context, seen)
    if isinstance(node, cst.Attribute) and node.attr.value == "shape":
        return _is(model, node.value, context.tensors, context, seen)
    return False


def _inline_finding(model: FileModel, evidence: _Evidence, layers: list[Submodule]) -> Finding:
    return Finding(
        evidence.node,
        f"{model.source(evidence.node)} is used as the fan-in of {describe_layers(layers, 'weight')}, but "
        f"{_layout(evidence, layers)}: use nn.init._calculate_fan_in_and_fan_out(w)[0], or "
        "kaiming_*_(w, mode=\"fan_in\")",
        fix=_dimension_fix(model, evidence, layers),
    )


def _called_finding(model: FileModel, op: InitOp, evidence: _Evidence, layers: Sequence[Submodule]) -> Finding:
    # The helper may be another project file's (``from utils import hidden_init``): named there.
    read_at = model.location(evidence.node) or f"line {model.position(evidence.node).start.line}"
    return Finding(
        op.node,
        f"the scale of this {op.function} takes the fan-in of {describe_layers(layers, 'weight')} from "
        f"{model.source(evidence.node)} (read at {read_at}), but {_layout(evidence, layers)}",
        related=((evidence.node, "the fan-in read from dimension 0"),),
    )


def _layout(evidence: _Evidence, layers: Sequence[Submodule]) -> str:
    """Why the read is the fan-out, and where the fan-in is."""
    kinds, _ = layer_list(layers)
    counted = "out_features/out_channels" if evidence.attribute else "dimension 0"
    return (f"a {kinds} weight is laid out (out, in, ...): {counted} counts the outputs, so the scale "
            "follows the fan-out and is off by sqrt(out/in). The fan-in is dimension 1 (times the kernel "
            "size for a conv)")


def _dimension_fix(model: FileModel, evidence: _Evidence, layers: list[Submodule]) -> Fix | None:
    """Unsafe (it changes the scale drawn): dimension 1 instead of 0, for Linear weights only."""
    node = evidence.node
    if evidence.attribute or any(m.class_name not in ("Linear", "LazyLinear") for m in layers):
        return None
    if isinstance(node, cst.Call):
        index = node.args[0].value
    elif isinstance(node, cst.Subscript) and isinstance(node.slice[0].slice, cst.Index):
        index = node.slice[0].slice.value
    else:
        return None
    replaced = model.replace(index, "1")
    return Fix(Applicability.UNSAFE, "Read dimension 1 (in_features)", (replaced,))


# ------------------------------------------------------------------------ shape helpers


def _shape_helper(model: FileModel, op: InitOp) -> Iterator[tuple[InitOp, _Evidence, str, frozenset[str]]]:
    """``def fanin_init(size, fanin=None): fanin = fanin or size[0]; v = 1 / np.sqrt(fanin);
    return torch.Tensor(size).uniform_(-v, v)``: a function drawing a new tensor of the shape it is
    given, its scale from dimension 0 of that shape. Yields the evidence, the shape parameter
    and the parameters that override the fan-in (``fanin``)."""
    function = op.scope_node
    made = _written(op.target_node) if op.target_node is not None else None
    if function is None or model.functions.get(function.name.value) is not function \
            or not isinstance(made, cst.Call) or not made.args \
            or not any(n in knowledge.SHAPE_FACTORIES for n in model.names(made.func)):
        return
    shape = made.args[0].value
    params = [p.name.value for p in function.params.params]
    if not isinstance(shape, cst.Name) or shape.value not in params:
        return
    context = _Context(frozenset(), frozenset(), frozenset({shape.value}), assignments(op.enclosing))
    for evidence in _fan_in_from_dim0(model, op, context):
        overrides = frozenset(
            name.value for assign in evidence.through for name in _names_in(assign.value)
            if name.value in params and name.value != shape.value)
        yield op, evidence, shape.value, overrides


def _helper_findings(model: FileModel, op: InitOp, evidence: _Evidence, shape: str,
                     overrides: frozenset[str]) -> Iterator[Finding]:
    """Each call handing the helper the shape of an (out, in, ...) weight without a fan-in."""
    function = op.scope_node
    assert function is not None
    params = [p.name.value for p in function.params.params]
    for call in model.helper_calls:
        if not (isinstance(call.function, cst.Name) and call.function.value == function.name.value):
            continue
        passed = argument(call.node, params.index(shape), shape)
        if any(argument(call.node, params.index(name), name) is not None for name in overrides):
            continue
        weight = _shape_of(passed)
        at_call = dataclasses.replace(op, owner=call.owner, method=call.method, seq=call.seq,
                                      loops=call.loops, conditions=call.conditions)
        target = target_of(model, at_call, weight) if weight is not None else None
        layers = _output_first(target.layers) if target is not None and target.param == "weight" else ()
        if not layers or target is None or not target.exact:
            continue
        kinds, _ = layer_list(layers)
        yield Finding(
            call.node,
            f"{function.name.value}() takes the fan-in of {describe_layers(layers, 'weight')} from "
            f"{model.source(evidence.node)} (line {model.position(evidence.node).start.line}), but a "
            f"{kinds} weight is laid out (out, in, ...): dimension 0 counts the outputs, so the "
            f"bound follows the fan-out and is off by sqrt(out/in). {_remedy(overrides, kinds)}",
        )


def _remedy(overrides: frozenset[str], kinds: str) -> str:
    fan_in = "dimension 1" + ("" if kinds == "Linear" else " times the kernel size")
    if len(overrides) == 1:
        return f"Pass {next(iter(overrides))}= ({fan_in}) or read {fan_in} in the helper"
    return f"Read {fan_in} in the helper"


def _shape_of(node: cst.BaseExpression | None) -> cst.BaseExpression | None:
    """``w.size()`` / ``w.data.size()`` / ``w.shape`` -> ``w``."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "size" \
            and not node.args:
        return node.func.value
    if isinstance(node, cst.Attribute) and node.attr.value == "shape":
        return node.value
    return None


# ------------------------------------------------------------------------ small helpers


def _written(node: cst.BaseExpression | None) -> cst.BaseExpression:
    assert node is not None
    return written_tensor(node)


def _names_in(node: cst.CSTNode) -> Iterator[cst.Name]:
    if isinstance(node, cst.Name):
        yield node
    for child in node.children:
        yield from _names_in(child)
