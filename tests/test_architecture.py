"""Shape rules of the code base itself."""

from __future__ import annotations

import ast
from pathlib import Path

import initaudit

PACKAGE = Path(initaudit.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Module -> initaudit modules it imports at module level (``if TYPE_CHECKING`` blocks
    included; imports inside functions are deliberate lazy imports and run later)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        statements = list(tree.body)
        imported: set[str] = set()
        while statements:
            node = statements.pop()
            if isinstance(node, (ast.If, ast.Try)):
                statements += node.body + node.orelse + getattr(node, "finalbody", [])
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # ``from pkg import sub`` imports the submodule; ``from pkg import name``, pkg.
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    imported.add(submodule if submodule in modules else node.module)
        # A package is imported before any module inside it: an edge to an enclosing package
        # is no dependency that could be broken.
        graph[name] = {target for target in imported
                       if target in modules and target != name and not name.startswith(target + ".")}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                found.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target, [*stack, target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_no_import_cycle_inside_the_package() -> None:
    assert _cycles(_import_graph()) == []


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_linter_modules_do_not_import_the_auditor() -> None:
    graph = _import_graph()
    for name, targets in graph.items():
        if name.startswith("initaudit.lint"):
            assert not any(t.startswith("initaudit.audit") for t in targets), name


def test_both_commands_report_one_finding_type() -> None:
    """Reporters and the Python API can treat the linter's and the auditor's findings alike."""
    import dataclasses

    from initaudit.audit.results import Finding
    from initaudit.diagnostics import Diagnostic, RuleFinding, Severity

    shared = {field.name for field in dataclasses.fields(RuleFinding)}
    assert shared == {"code", "name", "severity", "message"}
    for kind in (Diagnostic, Finding):
        assert issubclass(kind, RuleFinding)
        assert shared < {field.name for field in dataclasses.fields(kind)}
    finding = Finding(code="IA201", name="zero-weight-matrix", severity=Severity.WARNING,
                      message="m", parameter="fc.weight")
    assert finding.to_dict() == {"code": "IA201", "name": "zero-weight-matrix", "severity": "warning",
                                 "parameter": "fc.weight", "message": "m"}


def test_rules_leave_the_file_model_as_they_found_it() -> None:
    """The model is complete when rules get it: no rule adds, removes or replaces a fact."""
    import libcst as cst

    from initaudit.catalogue import entries
    from initaudit.lint.model import FileModel
    from initaudit.lint.rules import RULES

    def facts(model: FileModel) -> dict[str, object]:
        shape = {}
        for name, value in vars(model).items():
            if name.startswith("_"):
                continue  # private caches (positions are computed on first use)
            if isinstance(value, (list, dict, set, tuple)):
                shape[name] = (len(value), [id(item) for item in (value.values() if isinstance(value, dict) else value)])
            else:
                shape[name] = id(value)
        return shape

    sources = [code for entry in entries().values() if entry.scope == "check"
               for section in ("Example", "Use instead") for code in entry.examples(section)]
    sources += [path.read_text() for path in (Path(__file__).parent.parent / "examples").glob("*.py")]
    checked = 0
    for text in sources:
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError:
            continue  # a page's fragment, not a module
        model = FileModel(module, text)
        checked += 1
        before = facts(model)
        for rule in RULES:
            list(rule.check(model))
        assert facts(model) == before
    assert checked > 20
