"""IA101: a weight matrix initialised to all zeros."""

from __future__ import annotations

from typing import Iterator

from initaudit.diagnostics import Severity
from initaudit.lint.model.file_model import FileModel
from initaudit.lint.rules.base import Finding, rule
from initaudit.lint.rules.constant_detection import constant_inits, finding, severity


@rule("IA101")
class ZeroWeightInit:
    def check(self, model: FileModel) -> Iterator[Finding]:
        for found in constant_inits(model):
            if found.value != 0.0:
                continue
            if severity(found, self.info.severity) is Severity.ERROR:
                consequence = "it feeds a ReLU-family activation, so its units output 0 and never get a gradient"
            else:
                consequence = ("its units start identical and its output carries no signal, so the layers "
                               "before it get no gradient until it moves")
            yield finding(found, f"{found.what} is initialised to zeros: {consequence}",
                          self.info.severity, model)
