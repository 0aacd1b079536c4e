"""IA104: a deprecated non-underscore ``torch.nn.init`` name."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from initaudit import knowledge
from initaudit.diagnostics import Applicability, Edit, Fix
from initaudit.lint.model import DeprecatedRef, FileModel
from initaudit.lint.rules.base import Finding, rule


@rule("IA104")
class DeprecatedInitFunction:
    def check(self, model: FileModel) -> Iterator[Finding]:
        used = set()
        for ref in model.deprecated_refs:
            used.add(ref.alias)
            yield self._finding(model, ref.node, ref.alias, self._edits(model, ref))
        # An import that is never used is still a deprecated name to rename.
        for alias, tokens in model.deprecated_imports.items():
            if alias not in used:
                for token in tokens:
                    yield self._finding(model, token, alias, (model.replace(token, token.value + "_"),))

    def _finding(self, model: FileModel, node: cst.CSTNode, alias: str, edits: tuple[Edit, ...]) -> Finding:
        new = knowledge.DEPRECATED_ALIASES[alias]
        return Finding(
            node,
            f"`torch.nn.init.{alias}` is deprecated (it warns and forwards to `{new}`); use `{new}`",
            fix=Fix(Applicability.SAFE, f"Rename to `{new}`", edits),
        )

    def _edits(self, model: FileModel, ref: DeprecatedRef) -> tuple[Edit, ...]:
        new = knowledge.DEPRECATED_ALIASES[ref.alias]
        if not ref.imported:
            return (model.replace(ref.rename, new),)
        # A name bound by ``from torch.nn.init import <alias> [as x]``: rename the import, and
        # when the local name is the deprecated one, every use of it, all in one fix.
        local = ref.rename.value
        edits = [model.replace(token, new) for token in model.deprecated_imports.get(ref.alias, [])
                 if _local_name(model, token) == local]
        if local == ref.alias:
            edits += [model.replace(other.rename, new) for other in model.deprecated_refs
                      if other.imported and other.rename.value == local]
        return tuple(edits)


def _local_name(model: FileModel, token: cst.Name) -> str:
    return model.import_local_names.get(id(token), token.value)
