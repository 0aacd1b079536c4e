"""Which activation each layer's output meets first, read from a TorchScript graph.

ScriptModules take no forward hooks, so instead of running the model this walks its inlined
forward graph with the rules of ``tracing.py``. Every inlined node knows the module it came
from, so a tracked layer's output is whatever leaves that module's nodes, starting from the
``prim::GetAttr`` of its weight. From there, uses are followed through shape-only ops (view,
flatten, dropout, ...) and normalisations (ops or norm modules, which set ``norm_between``)
until an activation (op or activation module) claims it; any other op makes it "linear". When
a value has several uses, the earliest node in the graph decides, as the first call would at
run time.
"""

from __future__ import annotations

import re
from typing import Iterator

import torch

from initaudit import knowledge
from initaudit.auditor.identify.layers import class_name, custom_activation, module_kind
from initaudit.auditor.trace.activations import PASSTHROUGH, LayerUse, tracked_modules
from initaudit.auditor.trace.residuals import SUMS
from initaudit.knowledge import LayerKind

#: ``name(Class)`` steps of ``Node.getModuleHierarchy()``; inlining adds SELF/UNKNOWN steps.
_HIERARCHY_STEP = re.compile(r"([^.()]+)\([^()]*\)")
_NOT_A_SUBMODULE = frozenset({"SELF", "UNKNOWN_INSTANCE"})
#: Graph-only ops that regroup values without computing on them.
_GRAPH_PASSTHROUGH = frozenset({
    "TupleConstruct", "ListConstruct", "TupleUnpack", "ListUnpack", "TupleIndex",
    "unchecked_cast", "feature_dropout", "unsafe_view", "Loop",
})
_NORM_OPS = knowledge.NORM_FUNCTIONS | {"native_layer_norm", "native_batch_norm", "batch_norm_impl_index"}


def script_activations(model: torch.jit.ScriptModule) -> tuple[dict[str, LayerUse], list[str]]:
    """Map tracked module name -> what its output meets; also the graph order of the layers."""
    return _GraphWalk(model).run()


class _GraphWalk:
    def __init__(self, model: torch.jit.ScriptModule) -> None:
        self.model = model
        self.graph = model.inlined_graph
        self.nodes = list(_all_nodes(self.graph.nodes()))  # also keeps the node wrappers alive
        self.position = {node: index for index, node in enumerate(self.nodes)}
        self.position[self.graph.return_node()] = len(self.nodes)
        self.modules = dict(model.named_modules())
        self.paths = _attribute_paths(self.graph, self.nodes)

    def run(self) -> tuple[dict[str, LayerUse], list[str]]:
        weights: dict[str, list[torch._C.Value]] = {}
        for node in self.nodes:
            if node.kind() == "prim::GetAttr":
                owner, _, local = self.paths.get(node.output().unique(), "").rpartition(".")
                if _holds_matrix(getattr(self.modules.get(owner), local, None)):
                    weights.setdefault(owner, []).append(node.output())
        first: dict[str, int] = {}
        uses: dict[str, LayerUse] = {}
        for layer in set(tracked_modules(self.model).values()) & set(weights):
            entries = self._entries(layer, weights[layer])
            if entries:
                first[layer] = min(self.position[use.user] for use in entries)
                uses[layer] = self._first_use(layer, entries)
        order = sorted(first, key=first.__getitem__)
        return {layer: uses[layer] for layer in order}, order

    def _entries(self, layer: str, weights: list[torch._C.Value]) -> list[torch._C.Use]:
        """Where the layer's weights are used; inside the layer's own nodes when it runs at all,
        so that a parent's fused fast path or a tied head reading the same weight is skipped."""
        entries = [use for value in weights for use in value.uses() if _computes(use.user)]
        own = [use for use in entries if layer in self._modules_of(use.user)]
        return own or entries

    def _first_use(self, layer: str, entries: list[torch._C.Use]) -> LayerUse:
        """Follow the layer's weights through its own nodes, then to the first consumer."""
        found: list[tuple[int, LayerUse]] = []
        pending = [(use, False) for use in entries]
        seen: set[tuple[int, bool]] = set()
        while pending:
            use, normed = pending.pop()
            node = use.user
            if node == self.graph.return_node():
                found.append((self.position[node], LayerUse("linear", normed)))
                continue
            if node.kind() == "prim::Return":
                outputs = _block_result(node, use.offset)
            elif _computes(node):
                step = self._classify(node, use.offset, layer, normed)
                if isinstance(step, LayerUse):
                    found.append((self.position[node], step))
                    continue
                outputs, normed = [out for out in node.outputs() if _carries_tensor(out.type())], step
            else:
                continue
            for value in outputs:
                if (value.unique(), normed) not in seen:
                    seen.add((value.unique(), normed))
                    pending.extend((later, normed) for later in value.uses())
        return min(found, key=lambda item: item[0])[1] if found else LayerUse("linear", False)

    def _classify(self, node: torch._C.Node, offset: int, layer: str, normed: bool) -> LayerUse | bool:
        """A LayerUse when ``node`` decides the layer's activation, else the ``normed`` flag its
        outputs carry on."""
        chain = self._modules_of(node)
        if layer in chain:
            return normed  # still inside the layer itself (bias, reshapes of its own)
        for path in chain:
            if layer.startswith(path + ".") or path == "":
                continue  # a container of the layer
            module = self.modules.get(path)
            kind = module_kind(module) if module is not None else None
            if kind is LayerKind.NORM:
                return True
            if kind is LayerKind.ACTIVATION:
                name = knowledge.ACTIVATION_MODULES.get(class_name(module)) or custom_activation(module)
                if name:
                    return LayerUse(name, normed, _module_slope(module, name))
        name = node.kind().split("::")[-1].removeprefix("_")
        if offset == 0 and name in knowledge.ACTIVATION_FUNCTIONS:
            activation = knowledge.ACTIVATION_FUNCTIONS[name]
            return LayerUse(activation, normed, self._slope(node, activation))
        if offset == 0 and name in _NORM_OPS:
            return True
        if name in _GRAPH_PASSTHROUGH or (offset == 0 and name in PASSTHROUGH):
            return normed
        return LayerUse("linear", normed, residual=name in SUMS)  # no data flow read: any sum

    def _modules_of(self, node: torch._C.Node) -> list[str]:
        """Paths of the modules a node was inlined from, outermost (the model, "") first."""
        hierarchy = node.getModuleHierarchy()
        owner = node.owningBlock().owningNode()
        while not hierarchy and owner is not None:
            # Nodes inside if/loop blocks may lose their module; the if/loop node keeps it.
            hierarchy = owner.getModuleHierarchy()
            owner = owner.owningBlock().owningNode()
        chain, parts = [""], []
        for name in _HIERARCHY_STEP.findall(hierarchy):
            if name in _NOT_A_SUBMODULE:
                continue
            parts.append(name)
            chain.append(".".join(parts))
        return chain

    def _slope(self, node: torch._C.Node, activation: str) -> float | None:
        if activation not in ("leaky_relu", "prelu") or node.inputsSize() < 2:
            return None
        argument = node.inputsAt(1)
        if activation == "prelu":
            path = self.paths.get(argument.unique())
            return None if path is None else float(self.model.get_parameter(path).detach().float().mean())
        value = argument.toIValue()
        return float(value) if isinstance(value, (int, float)) else None


def _all_nodes(nodes: Iterator[torch._C.Node]) -> Iterator[torch._C.Node]:
    """Every node in graph order, those inside if/loop blocks included."""
    for node in nodes:
        yield node
        for block in node.blocks():
            yield from _all_nodes(block.nodes())
            yield block.returnNode()


def _attribute_paths(graph: torch._C.Graph, nodes: list[torch._C.Node]) -> dict[int, str]:
    """Value id -> dotted attribute path from ``self`` for every ``prim::GetAttr`` chain."""
    self_value = next(graph.inputs())
    paths = {self_value.unique(): ""}
    for node in nodes:
        if node.kind() == "prim::GetAttr":
            base = paths.get(node.input().unique())
            if base is not None:
                name = node.s("name")
                paths[node.output().unique()] = f"{base}.{name}" if base else name
    return paths


def _block_result(return_node: torch._C.Node, offset: int) -> list[torch._C.Value]:
    """The if/loop output that a sub-block's returned value becomes."""
    owner = return_node.owningBlock().owningNode()
    outputs = list(owner.outputs())
    index = offset - 1 if owner.kind() == "prim::Loop" else offset  # a loop block returns its condition first
    return [outputs[index]] if 0 <= index < len(outputs) else []


def _holds_matrix(attribute: object) -> bool:
    """A weight matrix, or a list of them (a scripted LSTM reads ``_flat_weights``)."""
    if isinstance(attribute, (list, tuple)):
        return any(_holds_matrix(item) for item in attribute)
    return isinstance(attribute, torch.Tensor) and attribute.dim() >= 2


def _computes(node: torch._C.Node) -> bool:
    """Whether a node makes tensors: size(), dim() or dtype only ask about one."""
    return any(_carries_tensor(out.type()) for out in node.outputs())


def _carries_tensor(value_type: torch._C.Type) -> bool:
    if isinstance(value_type, torch._C.TensorType):
        return True
    return any(_carries_tensor(inner) for inner in value_type.containedTypes())


def _module_slope(module: torch.nn.Module, activation: str) -> float | None:
    if activation == "leaky_relu":
        slope = getattr(module, "negative_slope", None)
        return float(slope) if isinstance(slope, (int, float)) else None
    if activation == "prelu":
        weight = getattr(module, "weight", None)
        return float(weight.detach().float().mean()) if isinstance(weight, torch.Tensor) else None
    return None
