"""``--output-format azure``: Azure Pipelines logging commands, one
``##vso[task.logissue ...]message`` line per finding, which annotate the build.

Azure knows two issue types: info findings are reported as warnings. A notebook's finding points
at the line of the ``.ipynb`` file that stores its source line; the message gives the cell.
"""

from __future__ import annotations

from initaudit.diagnostics import Diagnostic, Severity
from initaudit.lint.run.summary import Summary
from initaudit.report.printable import printable

_TYPE = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "warning"}


def _escape(text: str) -> str:
    # printable() has turned line breaks into visible escapes already; Azure decodes %AZP25.
    return printable(text).replace("%", "%AZP25")


def _escape_property(text: str) -> str:
    return _escape(text).replace("]", "%5D").replace(";", "%3B")


def render(summary: Summary) -> str:
    return "\n".join(_command(summary, d) for d in summary.diagnostics)


def _command(summary: Summary, d: Diagnostic) -> str:
    properties: dict[str, object] = {"type": _TYPE[d.severity], "sourcepath": d.path}
    if d.cell is None:
        properties |= {"linenumber": d.line, "columnnumber": d.column}
    elif (line := summary.file_line(d)) is not None:
        properties["linenumber"] = line
    properties["code"] = d.code
    fields = "".join(f"{key}={_escape_property(str(value))};" for key, value in properties.items())
    where = "" if d.cell is None else f"cell {d.cell}, line {d.line}, column {d.column}: "
    return f"##vso[task.logissue {fields}]{_escape(where + d.message)}"
