"""``initaudit server`` on notebook documents (LSP 3.17), checked as ``initaudit check`` checks the
``.ipynb`` file, and the code actions it offers by kind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")

from tests.lint.test_server import BAD, ROOT, WAIT  # noqa: E402
from tests.lint.test_server_hostile import (  # noqa: E402, F401
    Message, Server, apply_edits, client_position, start, workspace)

MODEL = ("import torch.nn as nn\n%matplotlib inline\n\nclass Net(nn.Module):\n    def __init__(self):\n"
         "        super().__init__()\n        self.fc = nn.Linear(8, 8)\n        self.out = nn.Linear(8, 2)\n\n"
         "    def forward(self, x):\n        return self.out(nn.functional.relu(self.fc(x)))\n")
# A markdown cell, a cell with a line magic, one run by a cell magic (left out), findings in the
# cells after the one defining the model, characters outside the BMP and a last line without end.
CELLS = [
    ("markdown", "# Experiment\n"),
    ("code", MODEL),
    ("code", "%%time\nnn.init.xavier_uniform(w)\n"),
    ("code", "net = Net()\nnn.init.xavier_uniform_(net.fc.weight)  # \U0001f525 feeds a ReLU\n"
             "nn.init.kaiming_normal(net.out.weight)\n"),
    ("code", "s = '\U0001f525'; nn.init.normal(net.fc.bias)"),
]
NOTEBOOKS = {"notebookDocument": {"synchronization": {}}}
Cells = list[tuple[str, str, str]]  # (uri, kind, text)


def _ipynb(path: Path, cells: Cells) -> Path:
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {"language_info": {"name": "python"}},
                                "cells": [{"cell_type": kind, "metadata": {}, "source": text} for _, kind, text in cells]}))
    return path


def _check(notebook: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "initaudit", "check", "--no-cache", *options, str(notebook)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=WAIT)


def _position(text: str, line: int, column: int, encoding: str) -> Message:
    offset = sum(len(before) + 1 for before in text.split("\n")[:line - 1]) + column - 1
    return client_position(text, offset, encoding)


def _expected(cells: Cells, scratch: Path, encoding: str) -> dict[str, list[tuple[str, Message, Message]]]:
    """``initaudit check``'s findings on the same cells as an .ipynb file, as ranges on each cell."""
    found: dict[str, list[tuple[str, Message, Message]]] = {uri: [] for uri, _, _ in cells}
    result = _check(_ipynb(scratch / "expected.ipynb", cells), "--output-format", "json")
    for d in json.loads(result.stdout)["diagnostics"]:
        uri, _, text = cells[d["cell"] - 1]
        found[uri].append((d["code"], _position(text, d["line"], d["column"], encoding),
                           _position(text, d["end_line"], d["end_column"], encoding)))
    return {uri: sorted(ranges, key=repr) for uri, ranges in found.items()}


def _published(server: Server, cells: Cells) -> dict[str, list[tuple[str, Message, Message]]]:
    return {uri: sorted(((d["code"], d["range"]["start"], d["range"]["end"]) for d in server.diagnostics(uri)), key=repr)
            for uri, _, _ in cells}


def _cell(uri: str, kind: str) -> Message:
    return {"kind": 2 if kind == "code" else 1, "document": uri}


def _item(uri: str, kind: str, text: str, version: int = 1) -> Message:
    return {"uri": uri, "languageId": "python" if kind == "code" else "markdown", "version": version, "text": text}


def test_notebook_cells_get_the_findings_check_gives_the_ipynb(start, workspace, tmp_path):
    server = start(NOTEBOOKS)
    assert server.capabilities["notebookDocumentSync"]["notebookSelector"][0]["cells"] == [{"language": "python"}]
    path = workspace / "experiment.ipynb"
    cells = [(f"vscode-notebook-cell:{path}#W{index}", kind, text) for index, (kind, text) in enumerate(CELLS)]
    server.notify("notebookDocument/didOpen", {
        "notebookDocument": {"uri": path.as_uri(), "notebookType": "jupyter-notebook", "version": 1,
                             "cells": [_cell(uri, kind) for uri, kind, _ in cells]},
        "cellTextDocuments": [_item(uri, kind, text) for uri, kind, text in cells]})
    published = _published(server, cells)
    assert published == _expected(cells, tmp_path, server.encoding)
    assert [len(found) for found in published.values()] == [0, 0, 0, 3, 1]

    # A quick fix is offered on its cell, with edits on that cell only.
    last, _, text = cells[4]
    [action] = server.actions(last, {"line": 0, "character": 0}, {"line": 0, "character": 99}, only=["quickfix"])
    assert list(action["edit"]["changes"]) == [last]
    assert apply_edits(text, action["edit"]["changes"][last], server.encoding) == "s = '\U0001f525'; nn.init.normal_(net.fc.bias)"

    # Every safe fix at once makes the cells check --fix makes of the file.
    [fix_all] = server.actions(cells[1][0], {"line": 0, "character": 0}, {"line": 0, "character": 0},
                               only=["source.fixAll"])
    changes = fix_all["edit"]["changes"]
    fixed = [apply_edits(text, changes.get(uri, []), server.encoding) for uri, _, text in cells]
    notebook = _ipynb(tmp_path / "fixed.ipynb", cells)
    _check(notebook, "--fix")
    assert fixed == [cell["source"] for cell in json.loads(notebook.read_text())["cells"]]
    assert sorted(changes) == [cells[3][0], cells[4][0]]

    # A cell edited, the cell run by a magic replaced by one with a finding, a cell closed: the
    # findings follow, and the removed cell's are cleared.
    third = cells[3]
    new_third = third[2].replace("net = Net()\n", "net = Net()\nnn.init.zeros_(net.out.weight)\n")
    cells[3] = (third[0], "code", new_third)
    added = (f"vscode-notebook-cell:{path}#W9", "code", "nn.init.uniform(net.out.bias)\n")
    removed = cells.pop(2)
    cells.insert(2, added)
    server.notify("notebookDocument/didChange", {
        "notebookDocument": {"uri": path.as_uri(), "version": 2},
        "change": {"cells": {
            "structure": {"array": {"start": 2, "deleteCount": 1, "cells": [_cell(added[0], "code")]},
                          "didOpen": [_item(*added)], "didClose": [{"uri": removed[0]}]},
            "textContent": [{"document": {"uri": third[0], "version": 2},
                             "changes": [{"range": {"start": {"line": 1, "character": 0},
                                                    "end": {"line": 1, "character": 0}},
                                          "text": "nn.init.zeros_(net.out.weight)\n"}]}]}}})
    assert server.diagnostics(removed[0]) == []
    assert _published(server, cells) == _expected(cells, tmp_path, server.encoding)

    server.notify("notebookDocument/didClose", {"notebookDocument": {"uri": path.as_uri()},
                                                "cellTextDocuments": [{"uri": uri} for uri, _, _ in cells]})
    assert all(found == [] for found in _published(server, cells).values())
    assert server.close() == 0


@pytest.mark.parametrize(("only", "kinds"), [
    (None, ["quickfix"]),  # fix-all is offered when asked for by kind only
    (["quickfix"], ["quickfix"]),
    (["source.fixAll"], ["source.fixAll.initaudit"]),
    (["source"], ["source.fixAll.initaudit"]),
    (["quickfix", "source.fixAll.initaudit"], ["quickfix", "source.fixAll.initaudit"]),
    (["refactor"], []),
    (["source.organizeImports"], []),
])
def test_code_actions_are_of_the_kinds_asked_for(start, workspace, only, kinds):
    server = start()
    uri = (workspace / "net.py").as_uri()
    assert [d["code"] for d in server.open(uri, BAD)] == ["IA104"]
    actions = server.actions(uri, {"line": 0, "character": 0}, {"line": 9, "character": 0}, only=only)
    assert [action["kind"] for action in actions] == kinds
    assert server.close() == 0
