"""``--output-format junit``: JUnit XML, a test suite per file and a failing test case per
finding, for CI systems that show test reports."""

from __future__ import annotations

from xml.etree import ElementTree

from initaudit.diagnostics import Diagnostic
from initaudit.lint.summary import Summary
from initaudit.report.printable import printable


def render(summary: Summary) -> str:
    by_file: dict[str, list[Diagnostic]] = {}
    for d in summary.diagnostics:
        by_file.setdefault(d.path, []).append(d)
    count = str(len(summary.diagnostics))
    root = ElementTree.Element("testsuites", name="initaudit", tests=count, failures=count, errors="0")
    for path, found in by_file.items():
        suite = ElementTree.SubElement(root, "testsuite", name=printable(path), tests=str(len(found)),
                                       failures=str(len(found)), errors="0")
        for d in found:
            case = ElementTree.SubElement(suite, "testcase", name=f"initaudit.{d.code}",
                                          classname=printable(path), line=str(d.line), column=str(d.column))
            failure = ElementTree.SubElement(case, "failure", message=printable(d.message), type=d.code)
            failure.text = f"{_position(d)}: {d.code} {printable(d.message)} [{d.name}, {d.severity.value}]"
    if not by_file:
        suite = ElementTree.SubElement(root, "testsuite", name="initaudit", tests="1", failures="0", errors="0")
        ElementTree.SubElement(suite, "testcase", name="No problems found", classname="initaudit")
        root.set("tests", "1")
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode")


def _position(d: Diagnostic) -> str:
    cell = "" if d.cell is None else f"cell {d.cell}, "
    return f"{cell}line {d.line}, column {d.column}"
