"""The text prefilter decides which files need a full parse; it must never change results."""

from __future__ import annotations

from pathlib import Path


def test_prefilter_never_drops_a_finding() -> None:
    """Every source the suite knows gives the same diagnostics with and without the prefilter."""
    from initaudit.catalogue import entries
    from initaudit.config import Config
    from initaudit.lint.engine import lint_file

    root = Path(__file__).parents[2]
    sources = [p.read_bytes() for p in sorted((root / "tests" / "fixtures").rglob("*.py"))]
    sources += [p.read_bytes() for p in sorted((root / "examples").glob("*.py"))]
    sources += [code.encode() for e in entries().values() if e.scope == "check"
                for section in ("Example", "Use instead") for code in e.examples(section)]
    sources += [b"x = 1\n", b"def f(:\n", b"class A:\n    def __init__(self):\n        self._init_weights()\n"]
    assert len(sources) > 15
    for data in sources:
        fast = lint_file("f.py", data, Config(), prefilter=True)
        full = lint_file("f.py", data, Config(), prefilter=False)
        assert fast.diagnostics == full.diagnostics
        assert fast.parsed == full.parsed
