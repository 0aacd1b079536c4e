"""Python code in Markdown and reStructuredText: which blocks are linted, as one module, at the
document's own lines; fixes and noqa comments inside the blocks, every other byte kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from initaudit import lint_paths, lint_source
from initaudit.cli import main
from initaudit.config import Config
from tests.conftest import XAVIER_BEFORE_RELU

IMPORTS = "import torch.nn as nn\nimport torch.nn.functional as F\nfrom torch.nn import init\n"
LAYER = "w = nn.Linear(3, 3).weight\n"
DEPRECATED = "init.xavier_uniform(w)\n"


def found(text: str | bytes, path: str = "guide.md") -> list[tuple[str, int, int, int, int]]:
    return [(d.code, d.line, d.column, d.end_line, d.end_column) for d in lint_source(text, path)]


def invoke(*args: str):
    return CliRunner().invoke(main, ["check", "--no-cache", *args])


def test_tagged_untagged_and_tilde_fences_are_linted_other_languages_are_not() -> None:
    document = (f"# Guide\n\n```python\n{IMPORTS}{LAYER}```\n\n"  # lines 3-8
                f"```\n{DEPRECATED}```\n\n"  # 10-12: untagged, parses
                f"```bash\n{DEPRECATED}```\n\n"  # 14-16: another language
                f"~~~ py title=\"x.py\"\n{DEPRECATED}~~~\n\n"  # 18-20
                f"```{{python}}\n{DEPRECATED}```\n\n"  # 22-24
                f"````text\n```python\n{DEPRECATED}```\n````\n")  # 26-30: text showing a fence
    assert [(code, line) for code, line, *_ in found(document)] == [("IA104", 11), ("IA104", 19), ("IA104", 23)]


def test_blocks_of_one_document_form_one_module() -> None:
    document = f"Imports first:\n\n```python\n{IMPORTS}```\n\nThen the model:\n\n```python\n{XAVIER_BEFORE_RELU}```\n"
    # The class starts on line 12; its init call is line 6 of the class.
    assert found(document) == [("IA103", 17, 9, 17, 49)]
    assert found(f"```python\n{XAVIER_BEFORE_RELU}```\n") == []  # without the imports, nn is not torch's


def test_fences_indented_in_list_items_give_the_document_columns() -> None:
    document = (f"1. Build:\n\n   ```python\n   {IMPORTS.replace(chr(10), chr(10) + '   ')}{LAYER}   ```\n\n"
                f"2. Initialise:\n\n    - nested\n\n      ```\n      {DEPRECATED}      ```\n")
    assert document.splitlines()[14] == "      init.xavier_uniform(w)"
    assert found(document) == [("IA104", 15, 7, 15, 26)]


def test_rst_directives_with_options_and_literal_blocks() -> None:
    document = (".. code-block:: python\n   :linenos:\n   :caption: setup\n\n"
                + "".join(f"   {line}\n" for line in (IMPORTS + LAYER).splitlines())
                + "\nThen::\n\n    " + DEPRECATED
                + "\n.. code:: bash\n\n   " + DEPRECATED
                + "\n.. sourcecode:: python3\n\n      " + DEPRECATED
                + "\n.. note::\n\n   " + DEPRECATED)
    assert [(code, line, column) for code, line, column, *_ in found(document, "guide.rst")] == [
        ("IA104", 12, 5), ("IA104", 20, 7)]


def test_console_sessions_are_read_without_their_prompts_and_output() -> None:
    document = (f"```python\n{IMPORTS}{LAYER}```\n\n```pycon\n>>> {DEPRECATED}tensor([...])\n"
                f">>> for _ in range(2):\n...     {DEPRECATED}...\n```\n")
    assert [(code, line, column) for code, line, column, *_ in found(document)] == [
        ("IA104", 9, 5), ("IA104", 12, 9)]


def test_a_fixed_console_session_keeps_its_prompts_and_output(tmp_path: Path) -> None:
    path = tmp_path / "session.md"
    session = f">>> {IMPORTS.replace(chr(10), chr(10) + '>>> ')}{LAYER}>>> {DEPRECATED}tensor([[0.1]])\n"
    path.write_text(f"```pycon\n{session}```\n")
    assert invoke(str(path), "--fix").exit_code == 0
    assert path.read_text() == f"```pycon\n{session.replace('xavier_uniform(', 'xavier_uniform_(')}```\n"


def test_a_document_that_is_not_utf8_is_ia000() -> None:
    assert [code for code, *_ in found(b"# Caf\xe9\n\n```python\nx = 1\n```\n")] == ["IA000"]


def test_noqa_works_inside_a_fence() -> None:
    document = f"```python\n{IMPORTS}{LAYER}init.xavier_uniform(w)  # noqa: IA104\n{DEPRECATED}```\n"
    assert [line for _, line, *_ in found(document)] == [7]


def test_a_broken_tagged_block_is_an_info_line_not_ia000(tmp_path: Path) -> None:
    (tmp_path / "guide.md").write_text(
        f"```python\n{IMPORTS}{LAYER}```\n\n```python\n>>> x = [\n...\n```\n\n"
        f"```python\nmodel = Net(\n    ...\n```\n\n```\nnot python at all\n```\n\n```python\n{DEPRECATED}```\n")
    result = invoke(str(tmp_path), "--output-format", "json")
    assert [(d["code"], d["line"]) for d in json.loads(result.stdout)["diagnostics"]] == [("IA104", 23)]
    assert result.stderr.splitlines() == [
        f"initaudit: info: {tmp_path / 'guide.md'}:9: Python code block not checked: it does not parse "
        "('[' was never closed)",
        f"initaudit: info: {tmp_path / 'guide.md'}:14: Python code block not checked: it does not parse "
        "('(' was never closed)"]
    assert result.exit_code == 1
    assert "info" not in invoke(str(tmp_path), "--quiet").stderr


def test_fix_rewrites_only_the_code_of_the_fences_crlf_and_bom_kept(tmp_path: Path) -> None:
    prose = "# Título\r\n\r\n- item   \r\n\r\n"
    block = "    ```python\r\n" + "".join(f"    {line}\r\n" for line in (IMPORTS + LAYER + DEPRECATED).splitlines())
    original = "\ufeff" + prose + block + "    ```\r\n\r\n```python\r\ninit.kaiming_normal(w)\r\n```\r\nend"
    path = tmp_path / "guide.md"
    path.write_bytes(original.encode("utf-8"))
    result = invoke(str(path), "--fix")
    assert result.exit_code == 0, result.output
    expected = original.replace("xavier_uniform(", "xavier_uniform_(").replace("kaiming_normal(", "kaiming_normal_(")
    assert path.read_bytes() == expected.encode("utf-8")


def test_a_fix_that_removes_a_line_moves_what_follows(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text(f"```python\n{IMPORTS}# noqa: IA101\n```\n\nText\n\n```python\n{XAVIER_BEFORE_RELU}```\n")
    before = path.read_text().splitlines()
    data = json.loads(invoke(str(path), "--fix", "--output-format", "json").stdout)
    after = path.read_text().splitlines()
    assert after == before[:4] + before[5:]
    [diagnostic] = data["diagnostics"]
    assert diagnostic["code"] == "IA103"
    assert after[diagnostic["line"] - 1].strip() == "nn.init.xavier_uniform_(self.fc1.weight)"


def test_diff_json_edits_and_add_noqa_count_in_the_document(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text(f"Setup\n\n```python\n{IMPORTS}{LAYER}```\n\n1. Call\n\n   ```python\n   {DEPRECATED}   ```\n")
    diff = invoke(str(path), "--diff").stdout
    assert "-   init.xavier_uniform(w)\n+   init.xavier_uniform_(w)\n" in diff and f"+++ b/{path}" in diff
    [diagnostic] = json.loads(invoke(str(path), "--output-format", "json").stdout)["diagnostics"]
    [edit] = diagnostic["fix"]["edits"]
    assert (diagnostic["line"], edit["location"], edit["end_location"]) == (
        13, {"row": 13, "column": 9}, {"row": 13, "column": 23})
    assert invoke(str(path), "--add-noqa").exit_code == 0
    assert path.read_text().splitlines()[12] == "   init.xavier_uniform(w)  # noqa: IA104"
    assert invoke(str(path)).exit_code == 0


def test_extension_maps_suffixes_on_the_command_line_and_in_settings(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text(f"Notes\n\n```\n{IMPORTS}{LAYER}{DEPRECATED}```\n")
    (tmp_path / "guide.md").write_text(f"```python\n{IMPORTS}{LAYER}{DEPRECATED}```\n")
    (tmp_path / "page.rst").write_text(f".. code-block:: python\n\n   {IMPORTS.splitlines()[2]}\n   {DEPRECATED}")

    def checked(*args: str) -> list[tuple[str, int]]:
        return [(Path(d["path"]).name, d["line"]) for d in
                json.loads(invoke(str(tmp_path), "--output-format", "json", *args).stdout)["diagnostics"]]

    assert checked() == [("guide.md", 6), ("page.rst", 4)]
    assert checked("--extension", "txt:markdown") == [("guide.md", 6), ("notes.txt", 8), ("page.rst", 4)]
    assert checked("--extension", "txt:markdown,md:rst") == [("notes.txt", 8), ("page.rst", 4)]
    (tmp_path / "pyproject.toml").write_text('[tool.initaudit]\nextension = { txt = "markdown" }\n')
    assert checked() == [("guide.md", 6), ("notes.txt", 8), ("page.rst", 4)]
    assert [r.path for r in lint_paths([tmp_path], Config(extension=(("txt", "markdown"),))) if r.parsed][-2:] == [
        str(tmp_path / "notes.txt"), str(tmp_path / "page.rst")]


@pytest.mark.parametrize(("args", "message"), [
    (("--extension", "txt:latex"), "--extension: unknown language 'latex' for .txt"),
    (("--extension", "txt"), "--extension: 'txt' is not EXT:LANG"),
])
def test_a_wrong_extension_is_a_usage_error(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = invoke(str(tmp_path), *args)
    assert result.exit_code == 2 and message in result.stderr


def test_a_wrong_extension_setting_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.initaudit]\nextension = { txt = "word" }\n')
    result = invoke(str(tmp_path))
    assert result.exit_code == 2 and "'extension': unknown language 'word'" in result.stderr


#: A tutorial in the shape of course notes: Chinese prose, a list, an untagged fence holding an
#: MNIST model whose Xavier layer feeds a ReLU and whose ReLU-gain layer gives the logits.
TUTORIAL = """### Python代码示例

以下是一个简单的PyTorch示例，展示如何在MNIST手写数字分类任务中应用Xavier和He初始化。

```
import torch
import torch.nn as nn

class InitNet(nn.Module):
    def __init__(self):
        super(InitNet, self).__init__()
        self.fc1 = nn.Linear(28 * 28, 128)
        self.fc2 = nn.Linear(128, 10)
        self.relu = nn.ReLU()
        nn.init.xavier_uniform_(self.fc1.weight)  # Xavier初始化
        nn.init.kaiming_uniform_(self.fc2.weight, nonlinearity='relu')  # He初始化

    def forward(self, x):
        x = x.view(-1, 28 * 28)
        x = self.relu(self.fc1(x))
        return self.fc2(x)
```

1. **输出示例**：
   ```
   Epoch 1, Loss: 0.3876, Test Accuracy: 93.20%
   ```

```python
from torch.nn import init
init.xavier_uniform(net1[0].weight) # 这就是 Xavier 初始化方法
```
"""


def test_course_notes_saved_as_text_give_their_init_bugs(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text(TUTORIAL, encoding="utf-8")
    result = invoke(str(path), "--extension", "txt:markdown", "--output-format", "json")
    lines = TUTORIAL.splitlines()
    assert [(d["code"], lines[d["line"] - 1].strip()[:30]) for d in json.loads(result.stdout)["diagnostics"]] == [
        ("IA103", "nn.init.xavier_uniform_(self.f"), ("IA103", "nn.init.kaiming_uniform_(self."),
        ("IA104", "init.xavier_uniform(net1[0].we")]
    assert invoke(str(path), "--extension", "txt:markdown", "--fix", "--unsafe-fixes").exit_code == 0
    changed = [(old, new) for old, new in zip(lines, path.read_text(encoding="utf-8").splitlines(), strict=True)
               if old != new]
    assert changed == [
        (lines[14], '        nn.init.kaiming_uniform_(self.fc1.weight, nonlinearity="relu")  # Xavier初始化'),
        (lines[15], "        nn.init.xavier_uniform_(self.fc2.weight)  # He初始化"),
        (lines[30], "init.xavier_uniform_(net1[0].weight) # 这就是 Xavier 初始化方法")]
