"""Notebooks built around (mutated) sources, then mutated as JSON."""

from __future__ import annotations

import json
import random
from typing import Any

MAGICS = ["%matplotlib inline", "!pip install torch", "%time x = 1", "model?", "%%time", "%%bash",
          "%load_ext autoreload", "get_ipython().run_line_magic('x', '')"]


def wrap(rng: random.Random, source: bytes) -> dict[str, Any]:
    """An nbformat 4 notebook whose code cells, in order, hold ``source``."""
    text = source.decode("utf-8", errors=rng.choice(("replace", "surrogateescape", "ignore")))
    lines = text.splitlines(keepends=True)
    cuts = sorted(rng.sample(range(len(lines) + 1), min(rng.randint(1, 4), len(lines) + 1)))
    cells: list[dict[str, Any]] = [_markdown("# Fuzzed notebook\n")]
    for start, end in zip([0, *cuts], [*cuts, len(lines)]):
        if start == end:
            continue
        cell_lines = lines[start:end]
        if rng.random() < 0.2:
            cell_lines = [rng.choice(MAGICS) + "\n", *cell_lines]
        cells.append(_code(rng, cell_lines))
        if rng.random() < 0.3:
            cells.append(_markdown("Some *prose* between cells.\n"))
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": rng.choice((2, 4, 5))}


def _markdown(text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": [text]}


def _code(rng: random.Random, lines: list[str]) -> dict[str, Any]:
    cell: dict[str, Any] = {
        "cell_type": "code",
        "execution_count": rng.choice((None, 1, 7)),
        "metadata": {"tags": ["fuzz"]} if rng.random() < 0.3 else {},
        "outputs": [{"output_type": "stream", "name": "stdout", "text": ["ok\n"]}] if rng.random() < 0.3 else [],
        "source": lines if rng.random() < 0.8 else "".join(lines),
    }
    if rng.random() < 0.5:
        cell["id"] = f"cell-{rng.randrange(10**6)}"
    return cell


# ----------------------------------------------------------------------------- JSON structure

def _wrong_value(rng: random.Random) -> Any:
    return rng.choice([None, 0, -1, 1.5, "x", [], {}, [None], [1, 2], {"a": 1}, True, 10**30])


def _structure_mutation(rng: random.Random, notebook: dict[str, Any]) -> None:
    cells = notebook["cells"]
    cell = rng.choice(cells)
    choice = rng.randrange(9)
    if choice == 0:
        notebook[rng.choice(("cells", "metadata", "nbformat", "nbformat_minor"))] = _wrong_value(rng)
    elif choice == 1:
        notebook.pop(rng.choice(("cells", "metadata", "nbformat", "nbformat_minor")), None)
    elif choice == 2:
        cell[rng.choice(("source", "cell_type", "metadata", "outputs", "execution_count"))] = _wrong_value(rng)
    elif choice == 3:
        cell.pop(rng.choice(("source", "cell_type", "metadata", "outputs")), None)
    elif choice == 4:
        cell["source"] = [*(cell["source"] if isinstance(cell["source"], list) else [cell["source"]]),
                          _wrong_value(rng)]
    elif choice == 5:
        notebook["nbformat"] = rng.choice((3, 5, "4", 4.0, -4))
    elif choice == 6:
        cell["cell_type"] = rng.choice(("raw", "Code", "", "code ", "heading"))
    elif choice == 7:
        cells.insert(rng.randint(0, len(cells)), rng.choice((None, [], "code", 7)))
    else:
        notebook["cells"] = cells * rng.randint(2, 40)


def _deep(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def serialise(rng: random.Random, notebook: dict[str, Any]) -> bytes:
    """JSON text as notebook tools write it, in one of several layouts, possibly mutated."""
    if rng.random() < 0.4:
        _structure_mutation(rng, notebook)
    text = json.dumps(notebook, indent=rng.choice((1, 2, 4, None)), ensure_ascii=rng.random() < 0.5)
    if rng.random() < 0.7:
        text += "\n"
    choice = rng.randrange(12)
    if choice == 0:  # deep nesting in the metadata
        text = text.replace('"metadata": {', f'"metadata": {{"deep": {_deep(rng.choice((100, 5000, 100_000)))}, ', 1)
    elif choice == 1:  # duplicate key: the last one wins in Python's json
        text = text.replace('"cells":', '"cells": [], "cells":', 1)
    elif choice == 2:
        text = text.replace('"nbformat": 4', rng.choice(('"nbformat": NaN', '"nbformat": 1e999',
                                                           '"nbformat": 4.0', '"nbformat": 04')), 1)
    elif choice == 3:
        text = text.replace('"source": [', '"source": ["\\ud800", ', 1)
    elif choice == 4:
        text = "\ufeff" + text
    elif choice == 5:
        text = text.replace("\n", "\r\n")
    elif choice == 6:
        text = text[:rng.randint(0, len(text))]
    elif choice == 7:
        return _flip(rng, text.encode("utf-8", "surrogatepass"))
    return text.encode("utf-8", "surrogatepass")


def _flip(rng: random.Random, data: bytes) -> bytes:
    buffer = bytearray(data or b"\0")
    for _ in range(rng.randint(1, 4)):
        buffer[rng.randrange(len(buffer))] ^= 1 << rng.randrange(8)
    return bytes(buffer)
