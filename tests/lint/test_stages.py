"""The file model is built in stages, each a value made from the last: ``collect`` (the
traversal), then ``resolve``. Each is run alone here, and neither changes what it was given."""

from __future__ import annotations

import dataclasses
import textwrap
from typing import Iterator

import libcst as cst
import pytest

from initaudit.lint.model.bounds import FILE_LAYERS, Budget
from initaudit.lint.model.collect import Collection, collect
from initaudit.lint.model.facts import CollectedFile, InitOp, ModuleClass
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.model.modules import Submodule
from initaudit.lint.model.names import NameResolver
from initaudit.lint.model.targets import Resolution, resolve

SOURCE = textwrap.dedent('''
    import torch.nn as nn


    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 8)

        def forward(self, x):
            return self.fc(x)


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(Block(), nn.ReLU())
            self.head = nn.Linear(8, 2)
            self.apply(init_weights)
            nn.init.normal_(self.head.weight, std=0.01)

        def forward(self, x):
            return self.head(self.body(x))
''')


class _Alone:
    """One file with no project around it: what ``collect`` and ``resolve`` ask of a file."""

    links = None

    def __init__(self, text: str) -> None:
        self.module = cst.parse_module(text)
        self.resolver = NameResolver(self.module)
        self.imported_classes: dict[str, tuple[ModuleClass, CollectedFile]] = {}

    def names(self, node: cst.CSTNode) -> frozenset[str]:
        return self.resolver.names(node)

    def imported_class(self, name: str) -> ModuleClass | None:
        return None

    def foreign_models(self) -> Iterator[CollectedFile]:
        return iter(())


def _resolved(file: _Alone, collection: Collection) -> Resolution:
    return resolve(file, collection, Budget(FILE_LAYERS, None), [])


def _shape(collection: Collection) -> list[object]:
    """Everything resolution could change in a collection: its operations field by field, and
    each class's module trees node by node."""
    ops = [(id(op), tuple(getattr(op, f.name) for f in dataclasses.fields(InitOp))) for op in collection.init_ops]
    trees = [(name, m.path, id(m), len(m.children), m.origin, m.local_path)
             for owner in (*collection.classes.values(), *collection.scopes)
             for name, module in owner.attributes.items() for m in module.walk()]
    flags = [(owner.name, owner.is_root) for owner in collection.classes.values()]
    return [ops, trees, flags]


def test_collection_records_the_code_as_written() -> None:
    collection = collect(_Alone(SOURCE))
    assert {op.function for op in collection.init_ops} == {"xavier_uniform_", "zeros_", "normal_"}
    assert all(op.target is None for op in collection.init_ops)  # nothing is resolved yet
    body = collection.classes["Net"].attributes["body"]
    assert [m.class_name for m in body.children] == ["Block", "ReLU"]
    assert body.children[0].children == []  # the Block instance is not composed
    assert not collection.classes["Block"].is_root  # Net builds it: its output is not a model's
    assert collection.classes["Net"].is_root
    assert [call.function.value for call in collection.apply_calls] == ["init_weights"]


def test_collection_is_immutable() -> None:
    collection = collect(_Alone(SOURCE))
    with pytest.raises(dataclasses.FrozenInstanceError):
        collection.init_ops = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        collection.classes["Other"] = collection.classes["Net"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        collection.init_ops[0].target = None  # type: ignore[misc]


def test_resolution_composes_and_targets_without_changing_the_collection() -> None:
    file = _Alone(SOURCE)
    collection = collect(file)
    before = _shape(collection)
    resolution = _resolved(file, collection)
    assert _shape(collection) == before
    net = collection.classes["Net"]
    composed = resolution.attributes[id(net)]["body"]
    assert [m.path for m in composed.walk()] == ["body", "body.0", "body.0.fc", "body.1"]
    applied = [op for op in resolution.init_ops if op.function == "xavier_uniform_" and op.owner is net]
    assert [m.path for op in applied for m in op.target.layers] == ["body.0.fc", "head"]  # type: ignore[union-attr]
    # The later normal_ on head voids what apply wrote there, not what it wrote in the block.
    assert [op.superseded for op in applied] == [frozenset({"head"})]
    consumers = resolution.consumers[id(net)]
    assert {c.activation for c in consumers["body.0.fc"]} == {"relu"}


def test_resolution_of_the_same_collection_is_the_same() -> None:
    file = _Alone(SOURCE)
    collection = collect(file)

    def summary(resolution: Resolution) -> list[tuple[str, tuple[str, ...], frozenset[str]]]:
        return [(op.function, tuple(m.path for m in op.target.layers) if op.target else (), op.superseded)
                for op in resolution.init_ops]

    assert summary(_resolved(file, collection)) == summary(_resolved(file, collection))


def test_the_file_model_serves_the_stages_read_only() -> None:
    model = FileModel(cst.parse_module(SOURCE), SOURCE)
    assert model.init_ops is model.resolved.init_ops
    assert model.classes is model.collected.classes
    assert isinstance(model.init_ops, tuple) and isinstance(model.apply_calls, tuple)
    net = model.classes["Net"]
    assert [m.path for m in model.layers(net)] == ["body", "body.0", "body.0.fc", "body.1", "head"]
    assert [m.path for m in net.layers()] == ["body", "body.0", "body.1", "head"]  # as written
    assert isinstance(model.attributes(net)["head"], Submodule)
