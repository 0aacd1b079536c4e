"""A function that picks its module's class (``classname.find("GRU") != -1``) and calls a
one-line init function inside a loop over that module's parameters: judged where it stands,
with nothing applying it, the call runs the init with the call's values on the tensors of the
classes tested, as an init written in the call's place would."""

from __future__ import annotations

from tests.conftest import lint

HELPER = '''
from torch import nn


def orthogonal(weight, gain):
    nn.init.orthogonal_(weight, gain)


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("{kind}") != -1:
        for param in m.parameters():
            if len(param.shape) >= 2:
                {call}
'''


def found(kind: str, call: str, extra: str = "") -> list[tuple[str, int]]:
    return [(d.code, d.line) for d in lint(HELPER.format(kind=kind, call=call) + extra)]


def test_a_std_passed_as_the_gain_of_a_recurrent_layer_fires_at_the_call() -> None:
    assert found("GRU", "orthogonal(param, 0.01)") == [("IA112", 14)]


def test_the_same_init_written_in_place_fires_at_the_same_line() -> None:
    assert found("GRU", "nn.init.orthogonal_(param, 0.01)") == [("IA112", 14)]


def test_a_gain_of_one_stays_quiet() -> None:
    assert found("GRU", "orthogonal(param, 1.0)") == []


def test_a_layer_that_may_be_an_output_layer_leaves_the_small_gain_to_the_caller() -> None:
    # A Linear may be a policy head, where a gain of 0.01 is a known recipe.
    assert found("Linear", "orthogonal(param, 0.01)") == []


def test_a_function_that_tests_no_class_leaves_the_gain_to_the_caller() -> None:
    source = HELPER.format(kind="GRU", call="orthogonal(param, 0.01)").replace(
        'if classname.find("GRU") != -1:', "if classname:")
    assert [d.code for d in lint(source)] == []


def test_applied_as_well_it_is_reported_once() -> None:
    applied = '''

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(4, 4)
        self.apply(weights_init)
'''
    assert found("GRU", "orthogonal(param, 0.01)", applied) == [("IA112", 14)]
