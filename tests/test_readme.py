"""The README's examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def section(title: str) -> str:
    start = README.index(f"### {title}\n")
    end = README.find("\n#", start + 1)
    return README[start: end if end != -1 else None]


def test_testing_models_example_runs() -> None:
    pytest.importorskip("torch")
    [code] = re.findall(r"```python\n(.*?)```", section("Testing models"), re.DOTALL)
    namespace: dict[str, object] = {"__name__": "readme_example"}
    exec(compile(code, "README.md", "exec"), namespace)
    namespace["test_model_is_well_initialized"]()  # type: ignore[operator]
