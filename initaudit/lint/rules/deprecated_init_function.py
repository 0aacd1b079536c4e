"""IA104: a deprecated non-underscore ``torch.nn.init`` name."""

from __future__ import annotations

import re
from typing import Iterator

import libcst as cst

from initaudit import knowledge
from initaudit.diagnostics import Applicability, Edit, Fix
from initaudit.lint.model.facts import DeprecatedRef
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.rules.base import Finding, rule


@rule("IA104")
class DeprecatedInitFunction:
    def check(self, model: FileModel) -> Iterator[Finding]:
        import_edits: dict[str, tuple[Edit, ...]] = {}  # by local name, shared by its findings

        def edits_for_import(local: str) -> tuple[Edit, ...]:
            if local not in import_edits:
                import_edits[local] = _import_edits(model, local)
            return import_edits[local]

        used = set()  # local names of imports whose uses are reported (their fixes rename them)
        for ref in model.deprecated_refs:
            if ref.imported:
                used.add(ref.rename.value)
            yield self._finding(ref.node, ref.alias, self._edits(model, ref, edits_for_import))
        # An import that is never called is still a deprecated name to rename, even where the
        # same name is also reached another way (``torch.nn.init.kaiming_normal(...)``).
        for alias, tokens in model.deprecated_imports.items():
            for token in tokens:
                if _local_name(model, token) not in used:
                    yield self._finding(token, alias, edits_for_import(_local_name(model, token)))

    def _finding(self, node: cst.CSTNode, alias: str, edits: tuple[Edit, ...]) -> Finding:
        new = knowledge.DEPRECATED_ALIASES[alias]
        return Finding(
            node,
            f"`torch.nn.init.{alias}` is deprecated (it warns and forwards to `{new}`); use `{new}`",
            fix=Fix(Applicability.SAFE, f"Rename to `{new}`", edits),
        )

    def _edits(self, model: FileModel, ref: DeprecatedRef, edits_for_import) -> tuple[Edit, ...]:
        if ref.imported:
            return edits_for_import(ref.rename.value)
        return (model.replace(ref.rename, knowledge.DEPRECATED_ALIASES[ref.alias]),)


def _import_edits(model: FileModel, local: str) -> tuple[Edit, ...]:
    """The edits for names bound to ``local`` by ``from torch.nn.init import <alias> [as x]``
    (or by ``from torch.nn.init import *``).

    ``as x``: the imported name alone is renamed. Otherwise the variable is renamed everywhere
    it refers to the import (uses, ``del``, ``global``, assignments), so the module keeps working;
    where that could change what a name means (the new name already means something else, the
    variable may also hold another import, or a string spells the old name, as ``__all__`` or
    ``getattr`` would) the import becomes ``<new> as <alias>`` and the uses stay as they are.
    """
    tokens = [token for group in model.deprecated_imports.values() for token in group
              if _local_name(model, token) == local]
    if tokens and tokens[0].value != local:
        return tuple(model.replace(token, knowledge.DEPRECATED_ALIASES[token.value]) for token in tokens)
    new = knowledge.DEPRECATED_ALIASES.get(local)
    if new is None:
        return ()
    uses = [name for name in model.alias_variables.get(local, []) if knowledge.INIT_PREFIX + local in model.names(name)]
    # No import to rewrite: the name comes from a star import, renamed only where that gives
    # the new name too.
    starred = not tokens and model.resolver.global_names(new) == {knowledge.INIT_PREFIX + new}
    if (tokens or starred) and _can_rename(model, local, new, uses):
        return tuple(model.replace(node, new) for node in [*tokens, *uses])
    return tuple(model.replace(token, f"{new} as {local}") for token in tokens)


def _can_rename(model: FileModel, old: str, new: str, uses: list[cst.Name]) -> bool:
    if any(model.names(name) != {knowledge.INIT_PREFIX + old} for name in uses):
        return False
    if any(model.names(name) != {knowledge.INIT_PREFIX + new} for name in model.alias_variables.get(new, [])):
        return False
    if re.search(rf"\bnonlocal\b[^\n\r]*\b{old}\b", model.text):  # rebound from inside: bound both ways
        return False
    return re.search(rf"""(['"]){re.escape(old)}\1""", model.text) is None


def _local_name(model: FileModel, token: cst.Name) -> str:
    return model.import_local_names.get(id(token), token.value)
