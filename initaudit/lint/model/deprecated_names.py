"""The deprecated ``torch.nn.init`` names a file calls (``nn.init.xavier_uniform``), hands on to
be called (``partial(nn.init.normal, std=0.02)``, ``def block(init=nn.init.kaiming_normal)``) or
imports (``from torch.nn.init import xavier_uniform``), and the variables spelled as those names or
their replacements, which IA104's fix must not rename into a clash."""

from __future__ import annotations

from typing import Callable

import libcst as cst

from initaudit import knowledge
from initaudit.lint.model.facts import DeprecatedRef

#: Deprecated ``torch.nn.init`` names and their replacements, as variables an IA104 fix renames.
_ALIAS_SPELLINGS = frozenset(knowledge.DEPRECATED_ALIASES) | frozenset(knowledge.DEPRECATED_ALIASES.values())



class DeprecatedNames:
    """The traversal's hooks (``walk.py``) that note deprecated names. Only uses count: the
    traversal adds the function of each call it meets to ``_callees``; an argument, a parameter's
    default and an assigned value are handed on to be called."""

    def __init__(self, names: Callable[[cst.CSTNode], frozenset[str]]) -> None:
        self._names_of = names
        self.deprecated_refs: list[DeprecatedRef] = []
        #: ``from torch.nn.init import <alias>`` name tokens, by deprecated alias.
        self.deprecated_imports: dict[str, list[cst.Name]] = {}
        #: Local name each of those import tokens binds (differs with ``as``), by id of the token.
        self.import_local_names: dict[int, str] = {}
        #: Variables (not attributes or keywords) spelled as a deprecated alias or its new name.
        self.alias_variables: dict[str, list[cst.Name]] = {}
        self._not_variables: set[int] = set()  # ids of attribute and keyword Names
        self._deprecated_locals: set[str] = set()
        self._callees: set[int] = set()
        self._handed_on: set[int] = set()

    def visit_ImportFrom(self, node: cst.ImportFrom | cst.LazyImportFrom) -> bool:
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return False
        if cst.helpers.get_full_name_for_node(node.module) != knowledge.INIT_MODULE:
            return False
        for alias in node.names:
            name = alias.name
            if isinstance(name, cst.Name) and name.value in knowledge.DEPRECATED_ALIASES:
                self.deprecated_imports.setdefault(name.value, []).append(name)
                local = alias.asname.name if alias.asname is not None else name
                if isinstance(local, cst.Name):
                    self.import_local_names[id(name)] = local.value
                    self._deprecated_locals.add(local.value)
        return False

    visit_LazyImportFrom = visit_ImportFrom

    def visit_Import(self, node: cst.Import | cst.LazyImport) -> bool:
        return False

    visit_LazyImport = visit_Import

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._not_variables.add(id(node.keyword))
        self._handed_on.add(id(node.value))

    def visit_Param(self, node: cst.Param) -> None:
        if node.default is not None:
            self._handed_on.add(id(node.default))

    def note_assigned(self, value: cst.BaseExpression) -> None:
        self._handed_on.add(id(value))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._not_variables.add(id(node.attr))
        if node.attr.value in knowledge.DEPRECATED_ALIASES:
            self._deprecated(node, node.attr.value, node.attr)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in _ALIAS_SPELLINGS and id(node) not in self._not_variables:
            self.alias_variables.setdefault(node.value, []).append(node)
        if (node.value in knowledge.DEPRECATED_ALIASES or node.value in self._deprecated_locals) \
                and self._is_used(node):
            for name in self._names_of(node):
                alias = name[len(knowledge.INIT_PREFIX):] if name.startswith(knowledge.INIT_PREFIX) else ""
                if alias in knowledge.DEPRECATED_ALIASES:
                    self.deprecated_refs.append(DeprecatedRef(node, alias, node, True))
                    return

    def _deprecated(self, node: cst.Attribute, alias: str, rename: cst.Name) -> None:
        if self._is_used(node) and knowledge.INIT_PREFIX + alias in self._names_of(node):
            self.deprecated_refs.append(DeprecatedRef(node, alias, rename, False))

    def _is_used(self, node: cst.BaseExpression) -> bool:
        """Only uses count: a registry that lists the old functions in a collection (as torch's
        own overrides table does) does not use them."""
        return id(node) in self._callees or id(node) in self._handed_on
