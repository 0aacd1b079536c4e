"""IA110: an initialiser applied to a tensor of a shape it rejects."""

from __future__ import annotations

from typing import Iterator

from initaudit import knowledge
from initaudit.lint.model.facts import InitVia
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.rules.base import Finding, rule


@rule("IA110")
class InitShapeMisuse:
    def check(self, model: FileModel) -> Iterator[Finding]:
        for op in model.init_ops:
            spec = knowledge.INIT_FUNCTIONS[op.function]
            if op.via is not InitVia.INIT or op.target is None or not op.target.exact:
                continue
            target = op.target
            shapes = {target.parameter_ndim} if not target.layers else {
                knowledge.parameter_ndim(m.class_name or "", target.param) for m in target.layers}
            if len(shapes) != 1 or None in shapes:
                continue
            ndim = shapes.pop()
            assert ndim is not None
            if ndim < spec.min_dim or (spec.max_dim is not None and ndim > spec.max_dim):
                allowed = (f"exactly {spec.min_dim}" if spec.max_dim == spec.min_dim else
                           f"{spec.min_dim} to {spec.max_dim}" if spec.max_dim else f"at least {spec.min_dim}")
                where = target.layers[0].path + "." + target.param if len(target.layers) == 1 else target.param
                yield Finding.at(
                    op,
                    f"{op.function} needs a tensor with {allowed} dimensions but {where} has {ndim}: torch raises "
                    "ValueError here" + (" (fans are undefined for a bias; biases usually start at 0)"
                                         if ndim == 1 and spec.scheme in ("xavier", "kaiming") else ""),
                )
