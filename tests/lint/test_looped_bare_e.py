"""A loop over a model's parameters (in a function, at module level, in a holder's ``__init__``,
in another file than the model) writes the bare Parameters the model's classes register too,
as its tests of the tensor keep them: what the class drew for them is then voided."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lint.selection import lint_selected
from tests.lint.test_project import findings, write

GRAPH = """
import torch
import torch.nn as nn


class Graph(nn.Module):
    def __init__(self, n, d):
        super().__init__()
        self.node_table = nn.Parameter({draw})
        self.shift = nn.Parameter(torch.zeros(d))
        self.proj = nn.Linear(d, d)

    def forward(self, x):
        return self.proj(x @ self.node_table.t() @ self.node_table) + self.shift
"""

IN_FUNCTION = """

def build(n, d):
    net = Graph(n, d)
    for name, p in net.named_parameters():
        if {test}:
            nn.init.xavier_uniform_(p)
    return net
"""

AT_MODULE_LEVEL = """

net = Graph(8, 4)
for name, p in net.named_parameters():
    if {test}:
        nn.init.xavier_uniform_(p)
"""

IN_HOLDER = """

class Holder(nn.Module):
    def __init__(self, n, d):
        super().__init__()
        self.graph = Graph(n, d)
        for name, p in self.graph.named_parameters():
            if {test}:
                nn.init.xavier_uniform_(p)

    def forward(self, x):
        return self.graph(x)
"""


def overwritten(loop: str, test: str, draw: str = "torch.randn(n, d)") -> list[tuple[int, str]]:
    code = GRAPH.format(draw=draw) + loop.format(test=test)
    return [(d.line, d.message) for d in lint_selected(code, "IA111")]


@pytest.mark.parametrize("loop", [IN_FUNCTION, AT_MODULE_LEVEL, IN_HOLDER])
@pytest.mark.parametrize("test", ["p.dim() > 1", "'node' in name", "not name.endswith('shift')"])
def test_a_loop_over_the_model_parameters_voids_the_class_draw_of_a_bare_parameter(loop: str, test: str) -> None:
    """Reported at the loop, naming the draw; at the draw itself where only the holder builds
    the class, whose draw then never has an effect."""
    found = overwritten(loop, test)
    assert found == [(9, "this normal_ has no effect: every class that builds its class initialises these "
                      "tensors again afterwards (line 23), so the call only misleads the reader")] \
        if loop is IN_HOLDER else len(found) == 1 and "node_table" in found[0][1] and "line 9" in found[0][1]


@pytest.mark.parametrize(("test", "judged"), [("p.dim() > 1", False), ("p.dim() > 2", True)])
def test_a_draw_every_holder_redraws_is_not_judged_unscaled(test: str, judged: bool) -> None:
    code = GRAPH.format(draw="torch.randn(n, d)") + IN_HOLDER.format(test=test)
    assert [d.line for d in lint_selected(code, "IA105")] == ([9] if judged else [])


@pytest.mark.parametrize("loop", [IN_FUNCTION, AT_MODULE_LEVEL, IN_HOLDER])
@pytest.mark.parametrize("test", ["p.dim() > 2", "'bias' in name", "p.dim() > 1 and name in keep"])
def test_a_loop_whose_test_excludes_the_bare_parameter_voids_nothing(loop: str, test: str) -> None:
    assert overwritten(loop, test) == []


@pytest.mark.parametrize("loop", [IN_FUNCTION, AT_MODULE_LEVEL, IN_HOLDER])
def test_a_bare_parameter_the_class_never_draws_is_not_overwritten(loop: str) -> None:
    assert overwritten(loop, "p.dim() > 1", draw="torch.empty(n, d)") == []


@pytest.mark.parametrize("loop", [IN_FUNCTION, AT_MODULE_LEVEL, IN_HOLDER])
def test_a_vector_passes_a_test_of_one_dimension_only(loop: str) -> None:
    """``self.shift`` (1-D, zeros) is written by a loop testing ``p.dim() == 1``, not ``> 1``."""
    found = overwritten(loop, "p.dim() == 1")
    assert len(found) == 1 and (found[0][0] == 10 or "shift" in found[0][1] and "line 10" in found[0][1])


SCRIPT = """
import torch.nn as nn
from pkg.net import Graph

model = Graph(8, 4)
for p in model.parameters():
    if p.dim() > {rank}:
        nn.init.xavier_uniform_(p)
    else:
        nn.init.uniform_(p)
"""


def script_project(tmp_path: Path, rank: int, draw: str = "torch.randn(n, d)") -> list[tuple[str, int, str, str]]:
    root = write(tmp_path, {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/net.py": GRAPH.format(draw=draw),
                            "run.py": SCRIPT.format(rank=rank)})
    return [found for found in findings([root]) if found[2] == "IA111"]


def test_a_script_loop_voids_the_draw_of_a_class_imported_from_another_file(tmp_path: Path) -> None:
    """The matrix by the ``if`` branch, the vector the class zeroed by the ``else`` branch."""
    found = script_project(tmp_path, 1)
    assert [(name, line) for name, line, _, _ in found] == [("run.py", 8), ("run.py", 10)]
    assert "node_table of model" in found[0][3] and "net.py:9" in found[0][3]
    assert "shift of model" in found[1][3] and "net.py:10" in found[1][3]


def test_a_script_loop_voids_what_its_else_branch_writes(tmp_path: Path) -> None:
    """``p.dim() > 2`` keeps neither: ``else: uniform_(p)`` writes both."""
    found = script_project(tmp_path, 2)
    assert sorted((name, line, "shift" in message) for name, line, _, message in found) == [
        ("run.py", 10, False), ("run.py", 10, True)]


def test_a_script_loop_voids_nothing_of_a_parameter_the_class_never_draws(tmp_path: Path) -> None:
    found = script_project(tmp_path, 1, draw="torch.empty(n, d)")
    assert [(name, line) for name, line, _, _ in found] == [("run.py", 10)] and "shift" in found[0][3]
