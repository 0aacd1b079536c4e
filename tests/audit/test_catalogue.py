"""Every rules/IA2xx entry's Example produces its code and its Use instead does not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from initaudit.auditor.pipeline import audit_module

RULES = sorted((Path(__file__).parents[2] / "rules").glob("IA2*.md"))
BLOCK = re.compile(r"## (Example|Use instead)\n```python\n(.*?)```", re.DOTALL)


def _model(code: str) -> torch.nn.Module:
    namespace: dict[str, object] = {}
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # IA209's example trains: small steps on busy cores are slow on several
    try:
        exec(compile(code, "<catalogue>", "exec"), namespace)  # noqa: S102 - our own catalogue
    finally:
        torch.set_num_threads(threads)
    model = namespace["model"]
    assert isinstance(model, torch.nn.Module)
    return model


def test_catalogue_has_auditor_rules() -> None:
    assert len(RULES) >= 8


@pytest.mark.parametrize("path", RULES, ids=lambda p: p.stem)
def test_examples(path: Path) -> None:
    code = path.name[:5]
    blocks = dict((kind, body) for kind, body in BLOCK.findall(path.read_text()))
    assert set(blocks) == {"Example", "Use instead"}
    bad = audit_module(_model(blocks["Example"]))
    informative = "severity: info" in path.read_text()  # an info rule's example cannot fail
    assert any(f.code == code and (f.severity.fails or informative) for f in bad.findings), bad.findings
    good = audit_module(_model(blocks["Use instead"]))
    assert not any(f.code == code for f in good.findings), good.findings


def test_every_auditor_page_has_exactly_one_registered_rule() -> None:
    from initaudit.auditor.rules import RULES as REGISTERED
    from initaudit.catalogue import entries

    assert [rule.info.code for rule in REGISTERED] == [e.code for e in entries().values() if e.scope == "model"]
