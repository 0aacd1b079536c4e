"""Jupyter notebooks: code cells linted together, positions as (cell, line), fixes written back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from initaudit import lint_paths, lint_source
from initaudit.cli import main
from tests.conftest import XAVIER_BEFORE_RELU

IMPORTS = "import torch.nn as nn\nimport torch.nn.functional as F\nfrom torch.nn import init\n"
DEPRECATED = "w = nn.Linear(3, 3).weight\ninit.xavier_uniform(w)"
OUTPUT = {"name": "stdout", "output_type": "stream", "text": ["Net(\n", "  (fc1): Linear()\n", ")\n"]}


def code(source: str, *, as_list: bool = True, outputs: list[Any] | None = None, count: int = 1) -> dict[str, Any]:
    return {"cell_type": "code", "execution_count": count, "id": f"cell-{count}",
            "metadata": {"tags": ["keep"]}, "outputs": outputs or [],
            "source": source.splitlines(keepends=True) if as_list else source}


def markdown(source: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "id": "md", "metadata": {}, "source": [source]}


def notebook(*cells: dict[str, Any], language: str = "python") -> dict[str, Any]:
    return {"cells": list(cells), "metadata": {"kernelspec": {"name": "python3"},
                                               "language_info": {"name": language}},
            "nbformat": 4, "nbformat_minor": 5}


def dump(document: dict[str, Any], indent: int = 1) -> str:
    return json.dumps(document, indent=indent, sort_keys=True, ensure_ascii=False) + "\n"


def lint_notebook(document: dict[str, Any]) -> list[tuple[str, int | None, int, int, int, int]]:
    diagnostics = lint_source(dump(document), "tutorial.ipynb")
    return [(d.code, d.cell, d.line, d.column, d.end_line, d.end_column) for d in diagnostics]


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_positions_are_cell_and_line_within_the_cell() -> None:
    document = notebook(markdown("# Intro"), code(IMPORTS), markdown("The model:"), code(XAVIER_BEFORE_RELU),
                        code(DEPRECATED, as_list=False))
    assert lint_notebook(document) == [
        ("IA103", 4, 6, 9, 6, 49),
        ("IA104", 5, 2, 1, 2, 20),
    ]


def test_definitions_in_one_cell_reach_code_in_another() -> None:
    cells = [code(IMPORTS), code("net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))"),
             code("nn.init.xavier_uniform_(net[0].weight)")]
    assert [(c, cell, line) for c, cell, line, *_ in lint_notebook(notebook(*cells))] == [("IA103", 3, 1)]


def test_magics_and_shell_escapes_keep_parsing_and_numbering() -> None:
    first = "%matplotlib inline\n!pip install torch \\\n    torchvision\n" + IMPORTS + "files = !ls\nnn.Linear?\n"
    loop = "for i in range(2):\n    %time x = i\n    !echo $i\n" + DEPRECATED
    timed = "%%time\nthis is not python (\n"
    document = notebook(code(first), code(timed), code(loop))
    assert lint_notebook(document) == [("IA104", 3, 5, 1, 5, 20)]


def test_noqa_in_a_cell() -> None:
    document = notebook(code(IMPORTS), code(DEPRECATED + "  # noqa: IA104"))
    assert lint_notebook(document) == []


def test_syntax_error_in_a_cell_points_into_it() -> None:
    document = notebook(code("x = 1\n"), code("y = 2\nz = (\n"))
    assert [d[:3] for d in lint_notebook(document)] == [("IA000", 2, 2)]


def test_notebook_without_init_text_gets_a_syntax_check_only() -> None:
    assert lint_notebook(notebook(code("print('hello')"), markdown("x"))) == []
    assert [d[:3] for d in lint_notebook(notebook(code("print('x'"), code("y = 1")))] == [("IA000", 1, 1)]


def test_other_kernel_languages_are_not_linted() -> None:
    assert lint_notebook(notebook(code("library(torch)\nx <- 1"), language="R")) == []


def test_invalid_notebooks_are_ia000_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "broken.ipynb").write_text('{"cells": [\n  {"cell_type": "code",,}\n]}\n')
    (tmp_path / "old.ipynb").write_text(json.dumps({"cells": [], "nbformat": 3}))
    (tmp_path / "good.ipynb").write_text(dump(notebook(code(IMPORTS + DEPRECATED))))
    result = invoke("check", str(tmp_path), "--format", "json")
    data = json.loads(result.output)
    found = [(Path(d["path"]).name, d["code"], d["line"], d.get("cell")) for d in data["diagnostics"]]
    assert found == [("broken.ipynb", "IA000", 2, None), ("good.ipynb", "IA104", 5, 1),
                     ("old.ipynb", "IA000", 1, None)]
    assert "not valid JSON" in data["diagnostics"][0]["message"]
    assert data["summary"]["files"] == 3 and data["summary"]["errors"] == 2
    assert result.exit_code == 1


def test_json_output_adds_cell_only_for_notebooks(tmp_path: Path) -> None:
    (tmp_path / "a.ipynb").write_text(dump(notebook(code(IMPORTS), code(DEPRECATED))))
    (tmp_path / "b.py").write_text(IMPORTS + DEPRECATED + "\n")
    data = json.loads(invoke("check", str(tmp_path), "--format", "json").output)
    contract = {"path", "line", "column", "end_line", "end_column", "code", "name", "severity",
                "message", "fix"}
    by_file = {Path(d["path"]).name: d for d in data["diagnostics"]}
    assert set(by_file["b.py"]) == contract and by_file["b.py"]["line"] == 5
    assert set(by_file["a.ipynb"]) == contract | {"cell"}
    assert (by_file["a.ipynb"]["cell"], by_file["a.ipynb"]["line"]) == (2, 2)


def test_text_sarif_and_github_positions(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    path.write_text(dump(notebook(markdown("x"), code(IMPORTS + DEPRECATED))))
    lines = invoke("check", str(path)).output.splitlines()
    assert lines[0].startswith(f"{path}:cell 2:5:1: IA104 ")
    assert lines[1] == "5 | init.xavier_uniform(w)"
    sarif = json.loads(invoke("check", str(path), "--format", "sarif").output)["runs"][0]["results"][0]
    assert sarif["properties"] == {"cell": 2, "cellLine": 5, "cellColumn": 1}
    assert sarif["message"]["text"].startswith("cell 2, line 5: ")
    # Code scanning shows the .ipynb file: the result marks the line that stores the source line.
    stored = sarif["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert path.read_text().splitlines()[stored - 1].strip() == '"init.xavier_uniform(w)"'
    github = invoke("check", str(path), "--format", "github").output
    assert (f"::warning file={path},line={stored},title=IA104 deprecated-init-function::"
            "cell 2, line 5, column 1: ") in github


def fixable_notebook() -> dict[str, Any]:
    return notebook(markdown("# Tutorial"),
                    code("%matplotlib inline\n" + IMPORTS, count=1),
                    code(XAVIER_BEFORE_RELU + "\nprint(Net())", outputs=[OUTPUT], count=2),
                    code(DEPRECATED, as_list=False, count=3),
                    code("%%time\ninit.xavier_uniform(w)", count=4))


def without_sources(document: dict[str, Any], cells: set[int]) -> dict[str, Any]:
    copy = json.loads(json.dumps(document))
    for index in cells:
        del copy["cells"][index]["source"]
    return copy


def test_fix_writes_only_the_fixed_cells_and_keeps_the_format(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    original = dump(fixable_notebook())
    path.write_text(original)
    result = invoke("check", str(path), "--fix", "--unsafe-fixes")
    assert "Fixed 2 problems" in result.output and result.exit_code == 0
    written = path.read_text()
    before, after = json.loads(original), json.loads(written)
    assert without_sources(after, {2, 3}) == without_sources(before, {2, 3})
    assert written == dump(after)  # indent, key order, non-ASCII and final newline as before
    model = "".join(after["cells"][2]["source"])
    assert 'nn.init.kaiming_uniform_(self.fc1.weight, nonlinearity="relu")' in model
    assert isinstance(after["cells"][2]["source"], list)
    assert after["cells"][3]["source"] == "w = nn.Linear(3, 3).weight\ninit.xavier_uniform_(w)"
    changed = [line for line in written.splitlines() if line not in original.splitlines()]
    assert len(changed) == 2  # one line per fixed cell, nothing else moved


def test_fix_keeps_magics_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    path.write_text(dump(fixable_notebook()))
    invoke("check", str(path), "--fix")
    once = path.read_bytes()
    cells = json.loads(once)["cells"]
    assert cells[1]["source"][0] == "%matplotlib inline\n"
    assert cells[3]["source"].endswith("init.xavier_uniform_(w)")
    assert cells[4]["source"] == ["%%time\n", "init.xavier_uniform(w)"]  # cell magics are not linted
    result = invoke("check", str(path), "--fix")
    assert path.read_bytes() == once and "Fixed" not in result.output


def test_fix_keeps_an_unusual_format(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    text = json.dumps(notebook(code("%pwd\n" + IMPORTS + DEPRECATED)), indent=2).replace("\n", "\r\n")
    path.write_bytes(text.encode())
    invoke("check", str(path), "--fix")
    expected = text.replace("init.xavier_uniform(w)", "init.xavier_uniform_(w)")
    assert path.read_bytes() == expected.encode()


def test_diff_writes_nothing_and_names_the_cell(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    original = dump(fixable_notebook())
    path.write_text(original)
    result = invoke("check", str(path), "--diff")
    assert result.exit_code == 1
    assert f"--- a/{path}:cell 4\n+++ b/{path}:cell 4\n" in result.output
    no_newline = "\\ No newline at end of cell\n"
    assert f"-init.xavier_uniform(w)\n{no_newline}+init.xavier_uniform_(w)\n{no_newline}" in result.output
    assert path.read_text() == original


def test_directories_are_walked_for_notebooks(tmp_path: Path) -> None:
    content = dump(notebook(code(IMPORTS + DEPRECATED)))
    (tmp_path / "nb.ipynb").write_text(content)
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "nb-checkpoint.ipynb").write_text(content)
    results = lint_paths([tmp_path])
    assert [Path(r.path).name for r in results] == ["nb.ipynb"]
    assert [(d.code, d.cell) for d in results[0].diagnostics] == [("IA104", 1)]


def test_a_lone_surrogate_in_a_cell_is_a_syntax_error() -> None:
    document = notebook(code("import torch.nn as nn\nx = '\udce9'\nnn.init.xavier_uniform(w)\n"))
    found = lint_source(json.dumps(document).encode(), "odd.ipynb")
    assert [(d.code, d.cell) for d in found] == [("IA000", None)]
    assert "lone surrogate" in found[0].message


def test_fix_keeps_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.ipynb"
    document = notebook(code("import torch.nn as nn\nnn.init.xavier_uniform(w)\n"))
    path.write_bytes(b"\xef\xbb\xbf" + dump(document).encode())
    assert invoke("check", "--no-cache", "--fix", str(path)).exit_code == 0
    fixed = path.read_bytes()
    assert fixed.startswith(b"\xef\xbb\xbf") and b"xavier_uniform_(w)" in fixed


def test_a_cell_holding_the_cell_boundary_line_is_checked_and_fixed(tmp_path: Path) -> None:
    cells = [code(IMPORTS + "# -- next notebook cell --\n" + DEPRECATED), code(DEPRECATED)]
    path = tmp_path / "odd.ipynb"
    path.write_text(dump(notebook(*cells)))
    result = invoke("check", "--no-cache", "--output-format", "json", str(path))
    found = json.loads(result.stdout)["diagnostics"]
    first = IMPORTS.count("\n") + 3  # the imports, the boundary-like comment, then DEPRECATED's 2 lines
    assert [(d["code"], d["cell"], d["line"]) for d in found] == [("IA104", 1, first), ("IA104", 2, 2)]
    assert [d["fix"]["edits"][0]["location"]["row"] for d in found] == [first, 2]
    assert invoke("check", "--no-cache", "--fix", str(path)).exit_code == 0
    sources = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]]
    assert "# -- next notebook cell --\n" in sources[0] and "xavier_uniform(" not in "".join(sources)
