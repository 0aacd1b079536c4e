"""Shape rules of the code base itself."""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

import initaudit

PACKAGE = Path(initaudit.__file__).parent

#: The package's layers, top to bottom, each one or more groups of modules (``fnmatch``
#: patterns of module names). A module imports only modules of its own group and of lower
#: layers: never one above it, nor another group of its layer. Imports inside functions count:
#: a lazy import is for speed, never a way round this order.
LAYERS: tuple[dict[str, tuple[str, ...]], ...] = (
    {"entry points": ("initaudit", "initaudit.__main__", "initaudit.cli", "initaudit.server",
                      "initaudit.server_*")},
    {"commands": ("initaudit.check_command", "initaudit.model_command", "initaudit.watch",
                  "initaudit.testing")},
    {"reporters": ("initaudit.report", "initaudit.report.*")},
    {"linter": ("initaudit.lint.*", "initaudit.config"),
     "auditor": ("initaudit.auditor", "initaudit.auditor.*")},
    {"shared": ("initaudit.diagnostics", "initaudit.knowledge", "initaudit.catalogue", "initaudit.registry",
                "initaudit.selectors", "initaudit.settings_files", "initaudit.atomic", "initaudit.safe_read",
                "initaudit.progress", "initaudit.pool", "initaudit.version")},
)


def _module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(tree: ast.Module) -> set[ast.AST]:
    """The nodes under ``if TYPE_CHECKING:`` blocks: imports for annotations alone."""
    blocks = [node for node in ast.walk(tree) if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"]
    return {inner for block in blocks for statement in block.body for inner in ast.walk(statement)}


def _import_graph(package: Path = PACKAGE, *, annotations: bool = True) -> dict[str, set[str]]:
    """Module -> the package's modules it imports, wherever the import statement is: at module
    level, under ``if TYPE_CHECKING`` (unless ``annotations`` is false) or ``try``, or inside a
    function or method."""
    paths = {_module_name(p, package): p for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        imported: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = set() if annotations else _type_checking_only(tree)
        for node in ast.walk(tree):
            if node in skipped:
                continue
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = here.split(".")[:len(here.split(".")) - node.level + 1] if node.level else []
                module = ".".join([*base, *([node.module] if node.module else [])])
                # ``from pkg import sub`` imports the submodule; ``from pkg import name``, pkg.
                for alias in node.names:
                    submodule = f"{module}.{alias.name}"
                    imported.add(submodule if submodule in paths else module)
        graph[name] = {target for target in imported if target in paths and target != name}
    return graph


def _place(module: str) -> tuple[int, str]:
    """The layer (0 at the top) and group of a module."""
    places = [(level, group) for level, groups in enumerate(LAYERS)
              for group, patterns in groups.items() if any(fnmatch.fnmatchcase(module, p) for p in patterns)]
    assert len(places) == 1, f"{module} belongs to {len(places)} groups of LAYERS (one expected)"
    return places[0]


def _against_the_layers(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports of a module above the importer, or of another group of its layer."""
    wrong = []
    for name, targets in sorted(graph.items()):
        level, group = _place(name)
        for target in sorted(targets):
            target_level, target_group = _place(target)
            if target_level < level or (target_level == level and target_group != group):
                wrong.append((name, target))
    return wrong


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


def test_imports_go_down_the_layers() -> None:
    assert _against_the_layers(_import_graph()) == []


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_imports_inside_functions_count(tmp_path: Path) -> None:
    """A lazy import is in the graph: one going up a layer, or closing a cycle, fails."""
    package = tmp_path / "initaudit"
    (package / "report").mkdir(parents=True)
    (package / "lint").mkdir()
    (package / "__init__.py").write_text("")
    (package / "report" / "__init__.py").write_text("")
    (package / "report" / "text.py").write_text("from initaudit.lint import runner\n")
    (package / "lint" / "runner.py").write_text(
        "class Run:\n    def to_dict(self):\n        if self:\n            from ..report.text import render\n")
    graph = _import_graph(package)
    assert graph["initaudit.lint.runner"] == {"initaudit.report.text"}
    assert _against_the_layers(graph) == [("initaudit.lint.runner", "initaudit.report.text")]
    assert _cycles(graph) == [["initaudit.lint.runner", "initaudit.report.text", "initaudit.lint.runner"]]


#: The stages of the linter and of the auditor, in pipeline order: a module imports modules of
#: its own stage and of earlier ones only. A stage is a folder (or, in the auditor, the records
#: every stage shares and the modules that run the stages). An import for annotations alone
#: (under ``if TYPE_CHECKING``) is no dependency on the order: the shared records name the types
#: the stages fill them with; cycles through such imports still fail above.
STAGES: dict[str, tuple[tuple[str, ...], ...]] = {
    "initaudit.lint": (("files",), ("parse",), ("model",), ("rules",), ("fixes",), ("run",)),
    "initaudit.auditor": (("errors", "notes", "results"), ("load",), ("measure",), ("identify",), ("trace",),
                          ("rules",), ("pipeline",), ("fix",), ("api", "")),
}


def _stage(module: str) -> tuple[str, int] | None:
    """The package and the stage number of a linter or auditor module, None outside both."""
    for package, stages in STAGES.items():
        if module == package or module.startswith(package + "."):
            first = module[len(package) + 1:].split(".")[0]
            numbers = [number for number, names in enumerate(stages) if first in names]
            assert len(numbers) == 1, f"{module} is in no stage of STAGES (or in several)"
            return package, numbers[0]
    return None


def _against_the_stages(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    wrong = []
    for name, targets in sorted(graph.items()):
        here = _stage(name)
        for target in sorted(targets):
            there = _stage(target)
            if here and there and here[0] == there[0] and there[1] > here[1]:
                wrong.append((name, target))
    return wrong


def test_stages_import_only_earlier_stages() -> None:
    assert _against_the_stages(_import_graph(annotations=False)) == []


def test_the_stage_check_finds_an_import_of_a_later_stage() -> None:
    graph = {"initaudit.lint.parse.walk": {"initaudit.lint.model.flow", "initaudit.lint.files.source"},
             "initaudit.auditor.load.sources": {"initaudit.auditor.notes"}}
    assert _against_the_stages(graph) == [("initaudit.lint.parse.walk", "initaudit.lint.model.flow")]


def test_every_stage_folder_says_what_it_does() -> None:
    for package, stages in STAGES.items():
        folder = PACKAGE.parent.joinpath(*package.split("."))
        loose = {p.stem for p in folder.glob("*.py")} - {"__init__"}
        assert loose <= {name for names in stages for name in names}, loose
        for names in stages:
            for name in names:
                init = folder / name / "__init__.py"
                if init.exists():
                    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
                    assert doc and len(doc.split()) >= 20, f"{init} needs a paragraph saying what the stage does"


def test_linter_modules_do_not_import_the_auditor() -> None:
    graph = _import_graph()
    for name, targets in graph.items():
        if name.startswith("initaudit.lint"):
            assert not any(t.startswith("initaudit.auditor") for t in targets), name


def test_both_commands_report_one_finding_type() -> None:
    """Reporters and the Python API can treat the linter's and the auditor's findings alike."""
    import dataclasses

    from initaudit.auditor.results import AuditFinding
    from initaudit.diagnostics import Diagnostic, RuleFinding, Severity

    shared = {field.name for field in dataclasses.fields(RuleFinding)}
    assert shared == {"code", "name", "severity", "message"}
    for kind in (Diagnostic, AuditFinding):
        assert issubclass(kind, RuleFinding)
        assert shared < {field.name for field in dataclasses.fields(kind)}
    finding = AuditFinding(code="IA201", name="zero-weight-matrix", severity=Severity.WARNING,
                           message="m", parameter="fc.weight")
    assert finding.to_dict() == {"code": "IA201", "name": "zero-weight-matrix", "severity": "warning",
                                 "parameter": "fc.weight", "message": "m"}


def test_rules_leave_the_file_model_as_they_found_it() -> None:
    """The model is complete when rules get it: no rule adds, removes or replaces a fact."""
    import libcst as cst

    from initaudit.catalogue import entries
    from initaudit.lint.model.file_model import FileModel
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


def test_each_rule_module_is_named_after_its_rule() -> None:
    """``IA109 kaiming-argument-mismatch`` lives in ``kaiming_argument_mismatch.py``; a module of
    the rules package that defines no rule is not named like one."""
    import sys

    from initaudit.catalogue import entries
    from initaudit.lint.rules import RULES

    names = {entry.name.replace("-", "_") for entry in entries().values()}
    for found in RULES:
        module = Path(sys.modules[type(found).__module__].__file__ or "").stem
        assert module == found.info.name.replace("-", "_"), (found.info.code, module)
    rule_modules = {Path(sys.modules[type(found).__module__].__file__ or "").stem for found in RULES}
    helpers = {path.stem for path in (PACKAGE / "lint" / "rules").glob("*.py")} - rule_modules - {"__init__"}
    assert not helpers & names
