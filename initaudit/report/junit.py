"""``--output-format junit``: JUnit XML, a test suite per file and a failing test case per
finding, for CI systems that show test reports."""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree

from initaudit.diagnostics import Diagnostic
from initaudit.lint.run.summary import Summary
from initaudit.report.printable import printable


@dataclass(frozen=True)
class Case:
    """A failing test case: one finding."""

    name: str
    code: str
    message: str
    #: The failure's text: where, what, which rule.
    text: str
    #: Where it is, as attributes of the test case (line, column).
    position: tuple[tuple[str, str], ...] = ()


def render(summary: Summary) -> str:
    by_file: dict[str, list[Case]] = {}
    for d in summary.diagnostics:
        by_file.setdefault(d.path, []).append(_case(d))
    return document(by_file)


def _case(d: Diagnostic) -> Case:
    return Case(f"initaudit.{d.code}", d.code, printable(d.message),
                f"{_position(d)}: {d.code} {printable(d.message)} [{d.name}, {d.severity.value}]",
                (("line", str(d.line)), ("column", str(d.column))))


def document(suites: dict[str, list[Case]]) -> str:
    """The XML: a test suite per file (the key), its cases failing; one passing case when there
    is no finding."""
    count = str(sum(len(cases) for cases in suites.values()))
    root = ElementTree.Element("testsuites", name="initaudit", tests=count, failures=count, errors="0")
    for path, cases in suites.items():
        suite = ElementTree.SubElement(root, "testsuite", name=printable(path), tests=str(len(cases)),
                                       failures=str(len(cases)), errors="0")
        for found in cases:
            case = ElementTree.SubElement(suite, "testcase",
                                          {"name": found.name, "classname": printable(path), **dict(found.position)})
            failure = ElementTree.SubElement(case, "failure", message=found.message, type=found.code)
            failure.text = found.text
    if not suites:
        suite = ElementTree.SubElement(root, "testsuite", name="initaudit", tests="1", failures="0", errors="0")
        ElementTree.SubElement(suite, "testcase", name="No problems found", classname="initaudit")
        root.set("tests", "1")
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode")


def _position(d: Diagnostic) -> str:
    cell = "" if d.cell is None else f"cell {d.cell}, "
    return f"{cell}line {d.line}, column {d.column}"
