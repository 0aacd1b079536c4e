"""What each parameter does in the forward pass, read from the operators that consume it.

A tensor's role decides which checks apply: a zero contraction weight (linear, conv, matmul)
stops the signal and its gradient, while a zero learned token, position table or bias is an
ordinary start. The tracer (``auditor/trace/activations.py``) hands every call of its forward pass to a
:class:`RoleRecorder`; without a forward pass, :func:`guessed_role` reads names and shapes.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from enum import Enum
from typing import Any, Iterator

import torch

from initaudit import knowledge
from initaudit.knowledge import LayerKind


class Role(str, Enum):
    CONTRACTION = "contraction"  # contracted with the signal: linear, conv, matmul, einsum
    ADDITIVE = "additive"  # added to the signal or placed among it: biases, tokens, position tables
    SCALE = "scale"  # multiplies the signal: norm weights, layer scales
    EMBEDDING = "embedding"  # rows looked up by index
    RECURRENT = "recurrent"  # a recurrent cell's weights
    GATE = "gate"  # squashed (sigmoid, tanh) before it scales the signal


#: Roles whose all-zero or constant value is a structural fault (IA201, IA202).
MATRIX_ROLES = frozenset({Role.CONTRACTION, Role.RECURRENT})


@dataclass(frozen=True)
class ParameterRole:
    roles: frozenset[Role]
    #: How many inputs each output of the contraction sums over; None when not one.
    fan_in: int | None = None
    #: False: guessed from the name and shape (no forward pass reached the tensor).
    traced: bool = True
    #: For a table that is also a contraction weight (a tied output head): the layer using it so.
    head: str | None = None
    #: Contracted only after the forward normalised it by its own statistics (weight
    #: standardisation, weight normalisation's direction, a cosine classifier): its stored scale
    #: has no effect on the signal, so no std target applies to it.
    scale_free: bool = False

    @property
    def weight_matrix(self) -> bool:
        return bool(self.roles & MATRIX_ROLES)

    @property
    def tied_head(self) -> bool:
        return Role.EMBEDDING in self.roles and Role.CONTRACTION in self.roles


# --------------------------------------------------------------------------- operator tables

#: Contractions: function -> the argument slots (position, keyword) of its weights.
_WEIGHT_SLOTS: dict[str, tuple[tuple[int, str], ...]] = {
    **{name: ((1, "weight"),) for name in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                          "conv_transpose2d", "conv_transpose3d", "conv_tbc")},
    "bilinear": ((2, "weight"),),
    **{name: ((0, "input"), (1, "other")) for name in ("mm", "bmm", "matmul", "__matmul__", "mv", "dot")},
    "__rmatmul__": ((1, "other"), (0, "input")),
    **{name: ((1, "mat1"), (2, "mat2")) for name in ("addmm", "addmm_", "addbmm")},
    "baddbmm": ((1, "batch1"), (2, "batch2")),
    "addmv": ((1, "mat"), (2, "vec")),
}
#: Contractions' additive slots (their bias or added input).
_BIAS_SLOTS: dict[str, tuple[int, str]] = {
    **{name: (2, "bias") for name in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                      "conv_transpose2d", "conv_transpose3d", "conv_tbc")},
    "bilinear": (3, "bias"), "addmm": (0, "input"), "addmm_": (0, "input"), "addbmm": (0, "input"),
    "baddbmm": (0, "input"), "addmv": (0, "input"),
}
#: Normalisations: function -> slots of the scale and of the shift.
_NORM_SLOTS: dict[str, tuple[tuple[int, str], tuple[int, str] | None]] = {
    "layer_norm": ((2, "weight"), (3, "bias")), "group_norm": ((2, "weight"), (3, "bias")),
    "batch_norm": ((3, "weight"), (4, "bias")), "instance_norm": ((3, "weight"), (4, "bias")),
    "rms_norm": ((2, "weight"), None),
}
#: Lookups: function -> the slot of the table.
_TABLE_SLOTS: dict[str, tuple[int, str]] = {
    "embedding": (1, "weight"), "embedding_bag": (1, "weight"), "index_select": (0, "input"),
    "take": (0, "input"), "take_along_dim": (0, "input"),
}
#: Recurrent layers, which take their weights as one flat list.
_RECURRENT = frozenset({"lstm", "gru", "rnn_tanh", "rnn_relu", "lstm_cell", "gru_cell", "rnn_tanh_cell",
                        "rnn_relu_cell"})
#: Composite attention: its matrices contract, its vectors (biases, bias_k/v) are added.
_ATTENTION = frozenset({"multi_head_attention_forward"})
#: Calls that add a tensor to the signal (an attention mask is added to the scores).
_ADDS = frozenset({"add", "__add__", "__radd__", "add_", "__iadd__", "sub", "__sub__", "__rsub__", "sub_",
                   "__isub__", "scaled_dot_product_attention"})
_PRODUCTS = frozenset({"mul", "__mul__", "__rmul__", "mul_", "__imul__", "div", "__truediv__", "div_",
                       "__itruediv__", "addcmul"})
#: Calls that place a tensor among the signal's values (a learned token into a sequence).
_INSERTS = frozenset({"cat", "concat", "concatenate", "stack", "hstack", "vstack", "where", "masked_fill",
                      "masked_scatter", "index_put", "index_put_", "__setitem__", "index_copy",
                      "masked_fill_", "scatter"})
#: Calls that combine parameters with the signal, by the role they give them.
_WITH_SIGNAL: dict[str, Role] = {**dict.fromkeys(_ADDS | _INSERTS, Role.ADDITIVE),
                                 **dict.fromkeys(_PRODUCTS, Role.SCALE)}
#: Calls that squash a parameter into a gate's range.
_SQUASHES = frozenset({"sigmoid", "tanh", "hardsigmoid", "softmax", "sigmoid_", "tanh_"})
#: Calls that normalise a tensor by its own statistics: function -> the slot of that tensor. On a
#: parameter alone (``F.batch_norm(weight.view(1, C, -1), None, None, training=True)``) they make
#: its scale irrelevant to what uses the result.
_SELF_NORMALISING: dict[str, tuple[int, str]] = {
    **{name: (0, "input") for name in ("batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm",
                                       "normalize")},
    "_weight_norm": (0, "v"),
}
#: Reductions that measure a tensor's spread; ``*_mean`` return it first.
_SPREADS = frozenset({"std", "var", "norm", "std_mean", "var_mean", "linalg_vector_norm", "linalg_norm",
                      "vector_norm", "frobenius_norm"})
#: Calls on one spread that keep it a spread (+1: an eps added, a root, a clamp) or invert it (-1).
_SPREAD_KEEPS = frozenset({"add", "__add__", "__radd__", "add_", "sqrt", "clamp", "clamp_min", "clamp_", "clamp_min_",
                           "__iadd__", "expand_as", "expand", "view", "reshape", "unsqueeze"})
_SPREAD_INVERTS = frozenset({"rsqrt", "reciprocal", "__rtruediv__"})
#: Calls whose later tensor arguments give only a shape or a type.
_SHAPED_LIKE = frozenset({"reshape_as", "view_as", "expand_as", "type_as"})
_DIVIDES = frozenset({"div", "__truediv__", "div_", "__itruediv__"})
_MULTIPLIES = frozenset({"mul", "__mul__", "__rmul__", "mul_", "__imul__"})
#: Calls that only look at a tensor, whatever it is.
_QUERIES = frozenset({"dim", "size", "numel", "__len__", "is_floating_point", "__format__", "__bool__",
                      "item", "tolist", "requires_grad_", "data_ptr"})


# --------------------------------------------------------------------------- the recorder

class RoleRecorder:
    """Collects the roles of ``model``'s parameters from the calls of a forward pass.

    A tensor computed from parameters alone (``cls_token.expand(...)``, ``weight.t()``, a
    weight-normalised ``g * v / |v|``) stands for those parameters; a call that combines it with
    the signal gives them a role. What the forward never hands to a known operator keeps none.
    """

    def __init__(self, model: torch.nn.Module) -> None:
        self.derived: dict[int, frozenset[str]] = {}
        self.roles: dict[str, set[Role]] = {}
        self.fan_in: dict[str, int] = {}
        self.aliases: dict[str, list[str]] = {}
        #: Tensor id -> the parameters it holds normalised by their own statistics.
        self.normalised: dict[int, frozenset[str]] = {}
        #: Tensor id -> (the parameters whose spread it measures, +1 the spread, -1 its inverse).
        self.spreads: dict[int, tuple[frozenset[str], int]] = {}
        #: Parameters contracted as they are, and contracted only normalised.
        self.contracted_raw: set[str] = set()
        self.contracted_normalised: set[str] = set()
        canonical: dict[int, str] = {}
        for name, parameter in model.named_parameters(remove_duplicate=False):
            first = canonical.setdefault(id(parameter), name)
            self.aliases.setdefault(first, []).append(name)
            self.derived[id(parameter)] = frozenset({first})

    def parameters_in(self, value: Any) -> frozenset[str]:
        return frozenset().union(*(self.derived.get(id(t), frozenset()) for t in tensors_in(value)))

    def record(self, name: str, args: tuple, kwargs: dict, result: Any, signal: bool) -> bool:
        """Note what the call does with parameters; ``signal``: some argument carries the forward's
        signal. Returns whether the call made a new signal of parameters and other data (a
        lookup with constant indices, a layer applied to what an untraced op produced); a
        computation on parameters alone (``B @ A``, a weight normalised) stands for them."""
        parameters = self.parameters_in((args, kwargs))
        if name in _QUERIES or not parameters:
            return False
        data = any(id(t) not in self.derived for t in tensors_in((args, kwargs)))
        made = self._consume(name, args, kwargs, signal) and data
        if not signal and not made:
            self._derive(result, parameters)
            self._follow_normalisation(name, args, kwargs, result)
        return made

    def is_parameter(self, tensor: torch.Tensor) -> bool:
        """Computed from parameters alone."""
        return id(tensor) in self.derived

    def _consume(self, name: str, args: tuple, kwargs: dict, signal: bool) -> bool:
        """Record the roles ``name`` gives the parameters among its arguments; whether it is a
        layer's operator (a contraction, a lookup, a normalisation), which makes a new signal."""
        if name in _WEIGHT_SLOTS:
            for slot in _WEIGHT_SLOTS[name]:
                for parameter, tensor in self._at(args, kwargs, slot):
                    self._add(parameter, Role.CONTRACTION, _contracted(name, slot[0], tensor))
                    normalised = parameter in self.normalised.get(id(tensor), ())
                    (self.contracted_normalised if normalised else self.contracted_raw).add(parameter)
            self._give(args, kwargs, _BIAS_SLOTS.get(name), Role.ADDITIVE)
        elif name == "einsum":
            for parameter, fan_in in _einsum_operands(self, args):
                self._add(parameter, Role.CONTRACTION, fan_in)
        elif name in _NORM_SLOTS:
            scale, shift = _NORM_SLOTS[name]
            self._give(args, kwargs, scale, Role.SCALE)
            self._give(args, kwargs, shift, Role.ADDITIVE)
        elif name in _TABLE_SLOTS or (name == "__getitem__" and _indexed_by_tensor(args)):
            self._give(args, kwargs, _TABLE_SLOTS.get(name, (0, "input")), Role.EMBEDDING)
        elif name in _RECURRENT or name in _ATTENTION:
            self._composite(name in _RECURRENT, (args, kwargs))
        elif name in _SQUASHES:
            for parameter in self.parameters_in(args[:1]):
                self._add(parameter, Role.GATE)
            return False
        else:
            if signal and name in _WITH_SIGNAL:
                for parameter in self.parameters_in((args, kwargs)):
                    self._add(parameter, _WITH_SIGNAL[name])
            return False
        return True

    def _composite(self, recurrent: bool, args: Any) -> None:
        """A recurrent layer's weights, or attention's: matrices contract, vectors are added."""
        for tensor in tensors_in(args):
            role = (Role.RECURRENT if recurrent else Role.CONTRACTION if tensor.dim() == 2 and min(tensor.shape) > 1
                    else Role.ADDITIVE)
            for parameter in self.derived.get(id(tensor), ()):
                self._add(parameter, role, tensor.shape[-1] if role is Role.CONTRACTION else None)

    def _at(self, args: tuple, kwargs: dict, slot: tuple[int, str] | None) -> Iterator[tuple[str, torch.Tensor]]:
        if slot is None:
            return
        position, keyword = slot
        value = args[position] if len(args) > position else kwargs.get(keyword)
        if isinstance(value, torch.Tensor):
            for parameter in self.derived.get(id(value), ()):
                yield parameter, value

    def _give(self, args: tuple, kwargs: dict, slot: tuple[int, str] | None, role: Role) -> None:
        for parameter, _ in self._at(args, kwargs, slot):
            self._add(parameter, role)

    def _add(self, parameter: str, role: Role, fan_in: int | None = None) -> None:
        self.roles.setdefault(parameter, set()).add(role)
        if fan_in is not None:
            self.fan_in.setdefault(parameter, fan_in)

    def _derive(self, result: Any, parameters: frozenset[str]) -> None:
        for item in tensors_in(result):
            if id(item) not in self.derived:
                weakref.finalize(item, self._forget, id(item))
            self.derived[id(item)] = parameters

    def _forget(self, key: int) -> None:
        for table in (self.derived, self.normalised, self.spreads):
            table.pop(key, None)

    def _follow_normalisation(self, name: str, args: tuple, kwargs: dict, result: Any) -> None:
        """Track, on parameters alone, which tensors hold a parameter normalised by its own
        statistics: a normalisation applied to it, or it divided by its own spread
        (``(w - w.mean()) / w.std()``, ``v * torch.rsqrt(v.var() + eps)``)."""
        items = list(tensors_in(result))
        if name in _SPREADS:
            measured = self.parameters_in(args[:1])
            if items and measured:
                self.spreads[id(items[0])] = (measured, 1)
            return
        if name in _SHAPED_LIKE:
            args, kwargs = args[:1], {}
        operands = list(tensors_in((args, kwargs)))
        spreads = [self.spreads[id(t)] for t in operands if id(t) in self.spreads]
        if len(operands) == 1 and spreads and (name in _SPREAD_KEEPS or name in _SPREAD_INVERTS) and len(items) == 1:
            measured, sign = spreads[0]
            self.spreads[id(items[0])] = (measured, -sign if name in _SPREAD_INVERTS else sign)
            return
        normalised = self._normalised_in((args, kwargs))
        if name in _SELF_NORMALISING:
            normalised |= {p for p, _ in self._at(args, kwargs, _SELF_NORMALISING[name])}
        elif spreads and (name in _DIVIDES or name in _MULTIPLIES):
            wanted = 1 if name in _DIVIDES else -1
            numerators = list(tensors_in(args[:1])) if name in _DIVIDES else operands
            values = self.parameters_in(tuple(t for t in numerators if id(t) not in self.spreads))
            normalised |= {p for measured, sign in spreads if sign == wanted for p in measured & values}
        for item in items:
            if normalised:
                self.normalised[id(item)] = frozenset(normalised)
            else:
                self.normalised.pop(id(item), None)

    def _normalised_in(self, value: Any) -> set[str]:
        """The parameters every argument holding them holds normalised (one raw use spoils it)."""
        normalised: set[str] = set()
        raw: set[str] = set()
        for tensor in tensors_in(value):
            held = self.normalised.get(id(tensor), frozenset())
            normalised |= held
            if id(tensor) not in self.spreads:
                raw |= self.derived.get(id(tensor), frozenset()) - held
        return normalised - raw

    def result(self, layers: set[str]) -> dict[str, ParameterRole]:
        """Parameter -> its traced role; ``layers``: the weight layers the forward ran (where a
        tied table's other name shows the head it serves)."""
        found = {}
        for parameter, roles in self.roles.items():
            others = [alias.rpartition(".")[0] for alias in self.aliases.get(parameter, [])[1:]]
            head = next((owner for owner in others if owner in layers), None)
            scale_free = parameter in self.contracted_normalised and parameter not in self.contracted_raw
            found[parameter] = ParameterRole(frozenset(roles), self.fan_in.get(parameter), head=head,
                                             scale_free=scale_free)
        return found


def _contracted(name: str, position: int, tensor: torch.Tensor) -> int | None:
    """How many of ``tensor``'s elements each output sums over, as argument ``position`` of ``name``."""
    shape = tuple(tensor.shape)
    if not shape:
        return None
    if name.startswith("conv_transpose"):
        return shape[0] * math.prod(shape[2:])
    if name.startswith("conv") or name == "bilinear":
        return math.prod(shape[1:])
    if name == "linear":
        return shape[-1]
    first = _WEIGHT_SLOTS[name][0][0] == position
    return shape[-1] if first or len(shape) == 1 else shape[-2]


def _einsum_operands(recorder: RoleRecorder, args: tuple) -> Iterator[tuple[str, int]]:
    """The parameters among einsum's operands, each with what its contracted subscripts sum over."""
    if not args or not isinstance(args[0], str):
        return
    equation = args[0].replace(" ", "").replace("...", "")
    operands = list(args[1]) if len(args) == 2 and isinstance(args[1], (list, tuple)) else list(args[1:])
    inputs, _, output = equation.partition("->")
    terms = inputs.split(",")
    for term, operand in zip(terms, operands):
        if not isinstance(operand, torch.Tensor) or id(operand) not in recorder.derived:
            continue
        kept = set(output) if "->" in equation else {c for c in inputs if inputs.count(c) == 1}
        sizes = dict(zip(term, operand.shape[len(operand.shape) - len(term):]))
        fan_in = math.prod(size for letter, size in sizes.items() if letter not in kept)
        for parameter in recorder.derived[id(operand)]:
            yield parameter, fan_in


def _indexed_by_tensor(args: tuple) -> bool:
    index = args[1] if len(args) > 1 else None
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, torch.Tensor) and not i.is_floating_point() and i.dtype != torch.bool for i in items)


def tensors_in(value: Any) -> Iterator[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from tensors_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from tensors_in(item)


# --------------------------------------------------------------------------- without a forward

def guessed_role(name: str, shape: tuple[int, ...], kind: LayerKind | None) -> ParameterRole:
    """The role of a parameter no forward pass reached, from its layer's kind, name and shape.
    Singleton dimensions never make a matrix: a (1, 1, D) token is a vector."""
    local = name.rpartition(".")[2]
    spread = sum(1 for size in shape if size > 1)
    if kind is LayerKind.EMBEDDING:
        roles = {Role.EMBEDDING}
    elif kind is LayerKind.RECURRENT and len(shape) >= 2:
        roles = {Role.RECURRENT}
    elif kind is LayerKind.NORM:
        roles = {Role.SCALE if local == "weight" else Role.ADDITIVE}
    elif (kind in knowledge.WEIGHT_MATRIX_KINDS and len(shape) >= 2) or (
            kind is None and spread >= 2 and not knowledge.is_embedding_like(local)):
        roles = {Role.CONTRACTION}
    elif local.endswith("bias") or knowledge.is_embedding_like(local):
        roles = {Role.ADDITIVE}
    else:
        roles = {Role.SCALE}
    fan_in = knowledge.fans(shape)[0] if Role.CONTRACTION in roles else None
    return ParameterRole(frozenset(roles), fan_in, traced=False)
