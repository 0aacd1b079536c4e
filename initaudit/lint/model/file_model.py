"""The model of one file that every rule queries, built once from a single traversal.

It holds what ``collect.py`` finds as written (the nn.Module classes and their submodules, every
initialisation of a tensor, the ``apply`` and helper calls, the references to deprecated
``torch.nn.init`` names) and what ``targets.py`` resolves from it (composed classes, the consumer
of each layer's output, what each init operation writes and what voids it), and answers the
questions of position and origin that rules ask. Unknown things stay unknown: rules only judge
what resolves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Mapping, Protocol

import libcst as cst
from libcst.metadata import CodeRange

from initaudit.diagnostics import Edit
from initaudit.lint.files.source import line_starts
from initaudit.lint.model.bounds import FILE_LAYERS, Budget, Cut, note
from initaudit.lint.model.builders import BuilderSummary
from initaudit.lint.model.collect import collect
from initaudit.lint.model.facts import InitOp, ModuleClass
from initaudit.lint.model.flow import Consumer
from initaudit.lint.model.modules import Submodule
from initaudit.lint.model.names import NameResolver, outside_origin
from initaudit.lint.model.targets import Resolution, resolve
from initaudit.lint.parse.positions import Positions
from initaudit.lint.parse.reparse import PiecedPositions

class ProjectFiles(Protocol):
    """The project as a file model sees it: what composition may still copy (``bounds.py``),
    and how its files are named."""

    @property
    def layers(self) -> Budget: ...

    def display(self, path: Path) -> str: ...


class Links(Protocol):
    """What a file model asks of the other files of its project; ``project.py:Links`` answers,
    building their models with this module."""

    path: Path
    #: Files defining module classes this file builds, left unmodelled: too deep an import.
    unfollowed: list[Path]

    @property
    def project(self) -> ProjectFiles: ...

    def star_origin(self, level: int, module: str, name: str) -> str | None: ...

    def module_class(self, local: str) -> tuple[ModuleClass, FileModel] | None: ...

    def function(self, local: str) -> tuple[cst.FunctionDef, FileModel] | None: ...

    def builder(self, local: str) -> BuilderSummary | None: ...

    def factory(self, local: str) -> Submodule | None: ...

    def models(self) -> list[FileModel]: ...

    def built_elsewhere(self, name: str) -> bool: ...


class FileModel:
    """One file's facts, built in stages that each make a value from the last: ``collect``
    (the traversal, ``collect.py``), then ``resolve`` (``targets.py``). Rules read the finished
    model; nothing changes it after it is built (``test_architecture.py`` checks that rules don't)."""

    def __init__(self, module: cst.Module, text: str, links: Links | None = None, *,
                 imported: bool = False, positions: PiecedPositions | None = None) -> None:
        """``imported``: modelled for the files that import it, which read its classes, their
        flow and the init operations as written; what those reach here is not worked out.
        ``positions``: the nodes' positions where the parse already knows them."""
        self.module = module
        self.text = text
        #: The other files of the project this one imports from (None: the file alone).
        self.links = links
        self.resolver = NameResolver(module, links.star_origin if links is not None else outside_origin)
        self._positions: Positions | PiecedPositions | None = positions
        self._line_starts = line_starts(text)
        #: Classes of other project files built here, by local name, with their file's model
        #: (looked up as the traversal meets their names).
        self.imported_classes: dict[str, tuple[ModuleClass, FileModel]] = {}
        self._walked = False
        collected = collect(self)
        self._walked = True
        unfollowed = links.unfollowed if links is not None else []
        resolved = resolve(self, collected,
                           Budget(FILE_LAYERS, links.project.layers if imported and links is not None else None),
                           [Cut(None, f"the classes of {links.project.display(path)}", "depth")
                            for path in unfollowed] if links is not None else [],
                           init_targets=not imported)
        self.collected = collected
        self.resolved = resolved
        # The facts rules read, from the stage that makes each (documented there).
        self.classes = collected.classes
        self.scopes = collected.scopes
        self.written_ops = resolved.init_ops[:len(collected.init_ops)]
        self.deprecated_refs = collected.deprecated_refs
        self.deprecated_imports = collected.deprecated_imports
        self.import_local_names = collected.import_local_names
        self.alias_variables = collected.alias_variables
        self.apply_calls = collected.apply_calls
        self.functions = collected.functions
        self.dispatched = collected.dispatched
        self.components = collected.components
        self.helper_calls = collected.helper_calls
        self.call_sites = collected.call_sites
        self.method_layers = collected.method_layers
        self.builders = collected.builders
        self.factory_modules = collected.factory_modules
        self.factory_chain = collected.factory_chain
        self.init_ops = resolved.init_ops
        self.overwrites = resolved.overwrites
        self.partial_writes = resolved.partial_writes
        self.inherited_ops = resolved.inherited_ops
        self.summaries = resolved.summaries
        self.foreign_origins = resolved.foreign_origins
        self.imported_sites = resolved.imported_sites
        self.stand_ins = resolved.stand_ins
        self.cuts = resolved.cuts
        self.layers_used = resolved.layers_used

    # ---------------------------------------------------------------- composed classes

    def attributes(self, owner: ModuleClass) -> Mapping[str, Submodule]:
        """The class's attributes (of this file or another project file), each instance of a
        project class holding that class's layers."""
        return self._resolution_of(owner).attributes.get(id(owner), owner.attributes)

    def layers(self, owner: ModuleClass) -> Iterator[Submodule]:
        for module in self.attributes(owner).values():
            yield from module.walk()

    def consumers(self, owner: ModuleClass) -> Mapping[str, set[Consumer]]:
        """What each layer (by path) and raw weight (by name) of the class feeds."""
        return self._resolution_of(owner).consumers.get(id(owner), {})

    def in_another_configuration(self, op: InitOp) -> bool:
        """Whether ``op`` runs in an arm of an option that the defaults skip and that also picks
        what its class's layers feed (``targets.option_binding``)."""
        return id(op.node) in self.resolved.configured

    def configured(self, op: InitOp) -> Mapping[str, set[Consumer]] | None:
        """For an operation in another configuration: what the class's layers and raw weights
        feed in the one its arm names; None where that is not known."""
        return self.resolved.configured.get(id(op.node))

    def specialised(self, owner: ModuleClass) -> frozenset[str]:
        """The paths of the class's blocks its construction of them specialises (``flow.Instance``)."""
        return self._resolution_of(owner).specialised.get(id(owner), frozenset())

    def cut(self, owner: ModuleClass) -> str | None:
        return self._resolution_of(owner).class_cuts.get(id(owner))

    def size(self, owner: ModuleClass) -> int | None:
        return self._resolution_of(owner).sizes.get(id(owner))

    def _resolution_of(self, owner: ModuleClass) -> Resolution:
        """The resolution of the file that defines ``owner``: this one, or an imported file's."""
        if id(owner) in self.resolved.sizes or self.links is None:
            return self.resolved
        return next((other.resolved for other in self.foreign_models() if id(owner) in other.resolved.sizes),
                    self.resolved)

    def notes(self) -> list[tuple[int, str]]:
        """One (line, message) saying what the analysis left out, at the first place it did;
        none when it left out nothing."""
        if not self.cuts:
            return []
        line = next((self.position(cut.node).start.line for cut in self.cuts
                     if cut.node is not None and self._owns(cut.node)), 1)
        return [(line, note(self.cuts))]

    # ---------------------------------------------------------------- the project

    def imported_class(self, name: str) -> ModuleClass | None:
        """The module class of another project file that ``name`` is imported as."""
        if name in self.imported_classes:
            return self.imported_classes[name][0]
        found = self.links.module_class(name) if self.links is not None else None
        if found is not None:
            self.imported_classes[name] = found
        return found[0] if found is not None else None

    def foreign_models(self) -> Iterator[FileModel]:
        """The models of the project files this one read, transitively."""
        pending = self.links.models() if self.links is not None else []
        seen: set[int] = set()
        while pending:
            other = pending.pop()
            if id(other) in seen:
                continue
            seen.add(id(other))
            yield other
            if other.links is not None:
                pending.extend(other.links.models())

    def names(self, node: cst.CSTNode) -> frozenset[str]:
        """The dotted names an expression may refer to through imports (empty when unknown),
        resolved in the file that wrote it (an imported helper's code). The walk asks about this
        file's nodes before it notes them; only resolution meets others."""
        if self.links is not None and self._walked and not self.resolver.knows(node):
            for other in self.foreign_models():
                if other.resolver.knows(node):
                    return other.resolver.names(node)
        return self.resolver.names(node)

    def _owns(self, node: cst.CSTNode) -> bool:
        if self._positions is None:
            self._positions = Positions(self.module)
        return node in self._positions

    def _written_in(self, node: cst.CSTNode) -> FileModel:
        node = self._standing_for(node)
        if self.links is None or self._owns(node):
            return self
        return next((other for other in self.foreign_models() if other._owns(node)), self)

    def written_text(self, node: cst.CSTNode) -> str:
        """The text of the file that writes ``node`` (this one, or an imported helper's)."""
        return self._written_in(node).text

    def written_file(self, node: cst.CSTNode) -> Path | None:
        """The absolute path of the other project file that writes ``node``; None for this file's."""
        other = self._written_in(node)
        if other is self or other.links is None:
            return None
        return other.links.path

    def location(self, node: cst.CSTNode) -> str | None:
        """``blocks.py:12`` for a node written in another project file; None for this file's."""
        node = self._standing_for(node)
        other = self._written_in(node)
        if other is self or other.links is None:
            return None
        return f"{other.links.project.display(other.links.path)}:{other.position(node).start.line}"

    # ---------------------------------------------------------------- metadata

    def is_bound(self, node: cst.CSTNode) -> bool:
        """Whether ``node`` was made by binding a function's parameters to a call's arguments: it
        stands for an expression written in that function."""
        return self._standing_for(node) is not node

    def _standing_for(self, node: cst.CSTNode) -> cst.CSTNode:
        """The written expression a bound one stands for (itself when it is written)."""
        entry = self.stand_ins.get(id(node))
        return entry[1] if entry is not None and entry[0] is node else node

    def position(self, node: cst.CSTNode) -> CodeRange:
        # Resolved on first use: most files have no finding, and positions cost a full pass.
        node = self._standing_for(node)
        other = self._written_in(node)
        if other is not self:
            return other.position(node)
        if self._positions is None:
            self._positions = Positions(self.module)
        return self._positions[node]

    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        """Character offsets of a node in the text (lines counted as the parser counts them)."""
        node = self._standing_for(node)
        other = self._written_in(node)
        if other is not self:
            return other.span(node)
        code_range = self.position(node)
        start = self._line_starts[code_range.start.line - 1] + code_range.start.column
        end = self._line_starts[code_range.end.line - 1] + code_range.end.column
        return start, end

    def replace(self, node: cst.CSTNode, text: str) -> Edit:
        start, end = self.span(node)
        return Edit(start, end, text)

    def source(self, node: cst.CSTNode) -> str:
        if self._standing_for(node) is not node:
            return cst.Module([]).code_for_node(node)  # what binding made: its own text
        start, end = self.span(node)
        return self._written_in(node).text[start:end]


