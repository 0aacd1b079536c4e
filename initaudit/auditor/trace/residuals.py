"""Which layers end a residual branch, read from the forward pass's data flow.

A layer's output ends a residual branch when, carried on unchanged (reshaped, dropped out,
scaled by a parameter or a number), it is added to the stream its own block transforms: the
block's first input, or something derived from that input alone (a projection shortcut). A
product (a rotary embedding's ``q * cos``, a gate) ends the branch without a sum, and an add
whose other operand comes from another input (a UNet's ``h + temb``) conditions the signal.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

import torch

from initaudit.auditor.trace.roles import tensors_in

#: Calls that add two signals.
SUMS = frozenset({"add", "__add__", "__radd__", "add_", "__iadd__", "sub", "__sub__", "__rsub__", "sub_",
                  "__isub__"})
#: Calls that scale a signal (by a parameter or a number, when the branch goes on through them).
_SCALINGS = frozenset({"mul", "__mul__", "__rmul__", "mul_", "__imul__", "div", "__truediv__", "div_",
                       "__itruediv__"})
#: Calls that write their last argument into their first and return nothing.
_WRITES_INTO = frozenset({"__setitem__"})
#: Calls that take only the shape, dtype and device of the tensors they are given.
_SHAPE_ONLY = frozenset({"new_empty", "new_zeros", "new_ones", "new_full", "empty_like", "zeros_like",
                         "ones_like", "full_like", "rand_like", "randn_like", "randint_like"})


class SignalGraph:
    """The tensors of a forward pass that carry its signal, each a node with the nodes it was
    computed from, and the stack of module calls with their inputs' nodes."""

    def __init__(self) -> None:
        self.node: dict[int, int] = {}
        self.parents: list[tuple[int, ...]] = []
        #: Per running module call: its first input's node and all its inputs' nodes.
        self.blocks: list[tuple[int | None, frozenset[int]]] = []
        #: Node -> the weight layer whose output it is (the innermost, when layers nest).
        self.made_by: dict[int, str] = {}
        #: The node of the model's first input: the stream it transforms.
        self.primary: int | None = None

    def nodes_in(self, value: Any) -> tuple[int, ...]:
        found = (self.node.get(id(t)) for t in tensors_in(value))
        return tuple(dict.fromkeys(n for n in found if n is not None))

    def carries_signal(self, value: Any) -> bool:
        return bool(self.nodes_in(value))

    def add_roots(self, value: Any) -> None:
        for item in tensors_in(value):
            self._set(item, ())
            if self.primary is None:
                self.primary = self.node[id(item)]

    def from_primary(self, node: int) -> bool:
        """Whether ``node`` was computed from the model's first input."""
        return self.primary is not None and bool(self._inputs_reached(node, frozenset({self.primary})))

    def record(self, name: str, args: Any, result: Any, made: bool) -> None:
        """A call's result carries the signal when an argument did, or when the call ``made`` a
        new one (a layer applied to data the trace did not see produced)."""
        parents = () if name in _SHAPE_ONLY else self.nodes_in(args)
        if name in _WRITES_INTO and isinstance(args, tuple) and args and isinstance(args[0], tuple) and args[0]:
            result = args[0][0]  # ``out[i] = value`` returns nothing: ``out`` now derives from ``value``
        if parents or made:
            for item in tensors_in(result):
                self._set(item, parents)

    def layer_output(self, layer: str, tensor: torch.Tensor) -> None:
        node = self.node.get(id(tensor))
        if node is not None:
            self.made_by.setdefault(node, layer)

    def layers_reaching(self, value: Any) -> set[str]:
        """The weight layers whose output reaches ``value`` without passing through another
        weight layer: the model's output layers when ``value`` is what it returned."""
        found: set[str] = set()
        pending = list(self.nodes_in(value))
        seen = set(pending)
        while pending:
            node = pending.pop()
            if node in self.made_by:
                found.add(self.made_by[node])
                continue
            for parent in self.parents[node]:
                if parent not in seen:
                    seen.add(parent)
                    pending.append(parent)
        return found

    def _set(self, tensor: torch.Tensor, parents: tuple[int, ...]) -> None:
        if id(tensor) not in self.node:
            weakref.finalize(tensor, self.node.pop, id(tensor), None)
        self.node[id(tensor)] = len(self.parents)
        self.parents.append(parents)

    def enter(self, args: Any, kwargs: Any) -> None:
        nodes = self.nodes_in((args, kwargs))
        first = next(iter(self.nodes_in(args) or nodes), None)
        self.blocks.append((first, frozenset(nodes)))

    def leave(self) -> None:
        if self.blocks:
            self.blocks.pop()

    def residual(self, branch: int, other: torch.Tensor) -> bool:
        """Whether adding ``other`` to the branch whose layer made node ``branch`` closes a
        residual: going out from the innermost running module, the first whose inputs ``other``
        derives from alone through its first input, when the branch derives from that input too."""
        start = self.node.get(id(other))
        if start is None:
            return False  # parameters or constants: a bias, a position table
        for first, inputs in reversed(self.blocks):
            if first is not None and self._inputs_reached(start, inputs) == {first}:
                return first in self._inputs_reached(branch, inputs)
        return False

    def _inputs_reached(self, start: int, inputs: frozenset[int]) -> set[int]:
        """The nodes of ``inputs`` that ``start`` was computed from (itself included)."""
        reached: set[int] = set()
        seen = {start}
        pending = [start]
        while pending:
            node = pending.pop()
            if node in inputs:
                reached.add(node)
                continue
            for parent in self.parents[node]:
                if parent not in seen:
                    seen.add(parent)
                    pending.append(parent)
        return reached


class Branches:
    """Follows each weight layer's output to the call that consumes it, and says whether that
    call closes a residual (layer -> verdict, the first consumer deciding)."""

    def __init__(self, graph: SignalGraph, passthrough: frozenset[str],
                 is_parameter: Callable[[torch.Tensor], bool]) -> None:
        self.graph = graph
        self.passthrough = passthrough
        self.is_parameter = is_parameter
        self.marks: dict[int, tuple[str, int]] = {}
        self.verdicts: dict[str, bool] = {}
        #: Layers whose output, computed from another input, the first consumer adds whole to the
        #: stream of the model's first input (a ControlNet-style zero convolution).
        self.added: dict[str, bool] = {}

    def start(self, layer: str, output: Any) -> None:
        first = next(tensors_in(output), None)
        if first is not None and id(first) in self.graph.node:
            self.graph.layer_output(layer, first)
            self._mark(first, (layer, self.graph.node[id(first)]))

    def step(self, name: str, args: Any, result: Any) -> None:
        given = list(tensors_in(args))
        marked = [(t, self.marks[id(t)]) for t in given if id(t) in self.marks]
        if not marked or not any(True for _ in tensors_in(result)):
            return  # a query (.shape, .dim()) consumes nothing
        others = [t for t in given if id(t) not in self.marks]
        if name in self.passthrough or (name in _SCALINGS and all(self._scale(t) for t in others)):
            for item in tensors_in(result):
                self._mark(item, marked[0][1])
            return
        for tensor, (layer, node) in marked:
            other = [t for t in given if t is not tensor]
            summed = name in SUMS and len(other) == 1
            self.verdicts.setdefault(layer, summed and self.graph.residual(node, other[0]))
            self.added.setdefault(layer, summed and self._merged_into_the_stream(tensor, node, other[0], result))
        for item in tensors_in(result):
            self.marks.pop(id(item), None)

    def _merged_into_the_stream(self, branch: torch.Tensor, node: int, other: torch.Tensor, result: Any) -> bool:
        """A side branch added whole to the model's stream (ControlNet's ``sample + cond``): the
        other operand, of the sum's shape, comes from the model's first input and the branch does
        not, so without the branch the sum still holds the stream. Not a broadcast conditioning
        (``h + temb``), nor a block's own transformation added to a condition."""
        summed = next(tensors_in(result), None)
        start = self.graph.node.get(id(other))
        return (start is not None and summed is not None and branch.shape == other.shape == summed.shape
                and self.graph.from_primary(start) and not self.graph.from_primary(node))

    def _scale(self, tensor: torch.Tensor) -> bool:
        return self.is_parameter(tensor) or (tensor.numel() == 1 and not self.graph.carries_signal(tensor))

    def _mark(self, tensor: torch.Tensor, mark: tuple[str, int]) -> None:
        if id(tensor) not in self.marks:
            weakref.finalize(tensor, self.marks.pop, id(tensor), None)
        self.marks[id(tensor)] = mark
