"""``initaudit model --output-format sarif|github|junit|gitlab``: an audit's findings in the
formats CI systems read, made with the lint reporters' own pieces.

A lint finding has a file and a line; an audit finding has the checkpoint and a parameter. The
checkpoint (for a model built by ``--factory``, the file defining the factory, at its ``def``
line) is the file, and the parameter stands where a line would: a SARIF logical location, the
start of the message, the test case's name. Fingerprints hash the code and the parameter, so that
an alert follows a tensor from run to run whatever its numbers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Callable

from initaudit.auditor.results import AuditFinding, AuditReport
from initaudit.catalogue import entries
from initaudit.lint.run.fingerprints import project_fingerprint
from initaudit.report import github, gitlab, junit
from initaudit.report.paths import repository_path
from initaudit.report.printable import printable
from initaudit.report.sarif_log import LEVEL, artifact_location, rule_descriptor, sarif_log

#: The SARIF ``partialFingerprints`` key of a finding's code and parameter.
_FINGERPRINT = "initaudit/parameter/v1"
WHOLE_MODEL = "(model)"


@dataclass(frozen=True)
class Artifact:
    """The file an audit's findings are reported on, and the line where one applies."""

    path: str
    line: int | None = None


def render(report: AuditReport, artifact: Artifact, output_format: str) -> str:
    return _RENDERERS[output_format](report, artifact)


def _findings(report: AuditReport) -> list[tuple[AuditFinding, str]]:
    """Each finding with its fingerprint: the hash of its code and parameter, and its occurrence
    among the findings with both the same."""
    seen: dict[tuple[str, str], int] = {}
    found = []
    for finding in report.findings:
        key = (finding.code, finding.parameter or "")
        seen[key] = seen.get(key, 0) + 1
        digest = hashlib.sha256("\0".join(key).encode("utf-8", "surrogatepass")).hexdigest()[:16]
        found.append((finding, f"{digest}:{seen[key]}"))
    return found


def _message(finding: AuditFinding) -> str:
    """The message, after the parameter it is about (``(model)``: the model as a whole)."""
    return f"{finding.parameter or WHOLE_MODEL}: {finding.message}"


def render_sarif(report: AuditReport, artifact: Artifact) -> str:
    findings = _findings(report)
    found = {finding.code for finding, _ in findings}
    rules = [rule_descriptor(page) for page in entries().values() if page.scope == "model" and page.code in found]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = []
    for finding, fingerprint in findings:
        parameter = finding.parameter
        location: dict[str, object] = {"physicalLocation": {
            "artifactLocation": artifact_location(artifact.path),
            # GitHub code scanning places a result only with a start line; a checkpoint has none.
            "region": {"startLine": artifact.line or 1}}}
        if parameter is not None:
            location["logicalLocations"] = [{"name": parameter.rpartition(".")[2], "fullyQualifiedName": parameter,
                                             "kind": "member"}]
        results.append({"ruleId": finding.code, "ruleIndex": index[finding.code], "level": LEVEL[finding.severity],
                        "message": {"text": _message(finding)}, "locations": [location],
                        "partialFingerprints": {_FINGERPRINT: fingerprint}})
    return sarif_log(rules, results)


def render_github(report: AuditReport, artifact: Artifact) -> str:
    region = "" if artifact.line is None else f"line={artifact.line},"
    return "\n".join(github.annotation(finding.severity, artifact.path, region, f"{finding.code} {finding.name}",
                                       _message(finding))
                     for finding in report.findings)


def render_junit(report: AuditReport, artifact: Artifact) -> str:
    position = () if artifact.line is None else (("line", str(artifact.line)),)
    cases = [junit.Case(f"initaudit.{finding.code} {printable(finding.parameter or WHOLE_MODEL)}", finding.code,
                        printable(finding.message),
                        f"{printable(_message(finding))} [{finding.code} {finding.name}, {finding.severity.value}]",
                        position)
             for finding in report.findings]
    return junit.document({artifact.path: cases} if cases else {})


def render_gitlab(report: AuditReport, artifact: Artifact) -> str:
    path = repository_path(artifact.path)
    line = artifact.line or 1
    return json.dumps([gitlab.issue(f"{finding.code} {_message(finding)}", finding.code,
                                    project_fingerprint(path, fingerprint), gitlab.SEVERITY[finding.severity],
                                    path, line, line)
                       for finding, fingerprint in _findings(report)], indent=2)


_RENDERERS: dict[str, Callable[[AuditReport, Artifact], str]] = {
    "sarif": render_sarif, "github": render_github, "junit": render_junit, "gitlab": render_gitlab}
#: The formats of this module, beside the text and JSON reports.
FORMATS = tuple(_RENDERERS)
