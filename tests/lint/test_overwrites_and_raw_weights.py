"""Overwrites that void an earlier init (an apply followed by per-layer writes, an assignment to a
layer's tensor), and raw Parameters judged by what their matrix product flows into."""

from __future__ import annotations

from initaudit.diagnostics import Diagnostic
from tests.lint.selection import lint_selected

APPLY_THEN_HEADS = """
import torch
import torch.nn as nn


def shaped_like(weights, std=1.0):
    out = torch.randn(weights.size())
    return out * std / out.norm()


def weights_init(m):
    name = m.__class__.__name__
    if name.find("Conv") != -1:
        m.weight.data.uniform_(-0.1, 0.1)
    elif name.find("Linear") != -1:
        m.weight.data.uniform_(-0.1, 0.1)
        m.bias.data.fill_(0)


class ActorCritic(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.critic = nn.Linear(8, 1)
        self.actor = nn.Linear(8, 4)
        self.apply(weights_init)
        self.actor.weight.data = {actor}
        self.actor.bias.data.fill_(0)
        self.critic.weight.data = {critic}
        self.critic.bias.data.fill_(0)

    def forward(self, x):
        x = self.conv(x).flatten(1)
        return self.critic(x), self.actor(x)
"""


def overwritten(actor: str, critic: str) -> list[Diagnostic]:
    return lint_selected(APPLY_THEN_HEADS.format(actor=actor, critic=critic), "IA111")


def test_an_apply_whose_layers_are_all_written_again_is_reported() -> None:
    found = overwritten("shaped_like(self.actor.weight.data, 0.01)", "shaped_like(self.critic.weight, 1.0)")
    assert [(d.line, d.code) for d in found] == [(16, "IA111"), (17, "IA111")]
    assert "lines 27, 29" in found[0].message and "lines 28, 30" in found[1].message


def test_a_rescale_of_the_applied_values_is_no_overwrite() -> None:
    found = overwritten("self.actor.weight.data * 0.01", "shaped_like(self.critic.weight.data, 1.0)")
    assert [d.line for d in found] == [17]  # the biases are still filled again


def test_a_helper_reading_the_values_is_no_overwrite() -> None:
    code = APPLY_THEN_HEADS.replace("out = torch.randn(weights.size())", "out = weights.clone()")
    found = lint_selected(code.format(actor="shaped_like(self.actor.weight.data)",
                                      critic="shaped_like(self.critic.weight.data)"), "IA111")
    assert [d.line for d in found] == [17]


def test_a_conditional_tie_is_no_overwrite() -> None:
    code = """
    import torch.nn as nn

    class Decoder(nn.Module):
        def __init__(self, tie=True):
            super().__init__()
            self.emb = nn.Embedding(10, 8)
            self.proj = nn.Linear(8, 10)
            nn.init.xavier_normal_(self.proj.weight)
            if tie:
                self.proj.weight = self.emb.weight

        def forward(self, x):
            return self.proj(self.emb(x))
    """
    assert lint_selected(code, "IA111") == []
    assert [d.line for d in lint_selected(code.replace("if tie:\n", "if True:\n").replace(
        "            if True:\n                self.proj", "            self.proj"), "IA111")] == [9]


GCN = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class GraphConv(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.FloatTensor(n_in, n_out))
        self.bias = nn.Parameter(torch.FloatTensor(1, n_out))
        nn.init.xavier_uniform_(self.weight)
        nn.init.zeros_(self.bias)

    def forward(self, x, adj):
        return {body}
"""


def mismatch(body: str) -> list[int]:
    return [d.line for d in lint_selected(GCN.format(body=body), "IA103")]


def test_a_raw_weight_before_relu_is_judged_by_its_product() -> None:
    assert mismatch("F.relu(torch.spmm(adj, x.mm(self.weight)))") == [12]
    assert mismatch("F.relu(F.dropout(adj @ (x @ self.weight) + self.bias, 0.5))") == [12]
    assert mismatch("torch.relu(torch.matmul(x, self.weight.t().t()))") == [12]
    assert mismatch("F.relu(F.linear(x, self.weight.t()))") == [12]
    assert mismatch("F.relu(torch.einsum('ni,io->no', x, self.weight))") == [12]


def test_a_raw_weight_whose_product_is_not_rectified_is_quiet() -> None:
    assert mismatch("torch.tanh(x.mm(self.weight))") == []
    assert mismatch("torch.spmm(adj, x.mm(self.weight))") == []
    assert mismatch("F.relu(x.mm(self.weight) @ x.t())") == []  # a product of two signals
    assert mismatch("F.relu(x * self.weight.sum())") == []  # not a product with the matrix
    assert lint_selected(GCN.format(body="F.relu(x.mm(self.weight))").replace(
        "xavier_uniform_(self.weight)", "kaiming_uniform_(self.weight, nonlinearity='relu')"), "IA103") == []


UNSCALED = """
import torch
import torch.nn as nn


class Cross(nn.Module):
    def __init__(self, n, layers):
        super().__init__()
        self.w = nn.ParameterList(
            nn.Parameter({factory})
            for _ in range(layers)
        )
        self.b = nn.ParameterList(nn.Parameter(torch.zeros(n, 1)) for _ in range(layers))

    def forward(self, x):
        for i in range(len(self.w)):
            x = x + torch.matmul(self.w[i], x) + self.b[i]
        return x
"""


def test_a_parameter_list_of_unit_normal_matrices_is_reported_at_its_element() -> None:
    found = lint_selected(UNSCALED.format(factory="torch.randn(n, n)"), "IA105")
    assert [(d.line, d.code) for d in found] == [(10, "IA105")]
    assert "w is drawn from N(0, 1)" in found[0].message


def test_a_parameter_list_scaled_or_of_vectors_is_quiet() -> None:
    assert lint_selected(UNSCALED.format(factory="torch.randn(n, n) / n ** 0.5"), "IA105") == []
    assert lint_selected(UNSCALED.format(factory="torch.randn(n)"), "IA105") == []


def test_a_legacy_constructor_of_one_size_is_a_vector() -> None:
    code = """
    import torch
    import torch.nn as nn

    class Layer(nn.Module):
        def __init__(self, n_out):
            super().__init__()
            self.bias = nn.Parameter(torch.Tensor(n_out))
            nn.init.xavier_uniform_(self.bias)
            self.table = nn.Parameter(torch.Tensor([[1.0, 2.0]]))
            nn.init.xavier_uniform_(self.table)
    """
    assert [(d.line, d.code) for d in lint_selected(code, "IA110")] == [(9, "IA110")]


REBOUND = """
import torch.nn as nn

linear = nn.Linear(4, 4)
nn.init.zeros_(linear.weight)
linear = nn.Linear(4, 4)
nn.init.xavier_uniform_(linear.weight)


def build():
    fc = nn.Linear(4, 4)
    nn.init.orthogonal_(fc.weight)
    nn.init.zeros_(fc.weight)
    fc = nn.Linear(4, 4)
    nn.init.xavier_uniform_(fc.weight)
    return fc
"""


def test_an_init_through_a_name_later_rebound_stays_on_its_layer() -> None:
    assert [(d.line, d.code) for d in lint_selected(REBOUND, "IA101")] == [(5, "IA101"), (13, "IA101")]


def test_a_name_rebound_in_a_branch_keeps_one_binding() -> None:
    code = """
    import torch.nn as nn

    def build(wide):
        fc = nn.Linear(4, 4)
        if wide:
            fc = nn.Linear(4, 8)
        nn.init.zeros_(fc.weight)
        nn.init.xavier_uniform_(fc.weight)
        return fc
    """
    assert lint_selected(code, "IA101") == []


LOOPED_SCRIPT = """
import torch
import torch.nn as nn


class FeedForward(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.conv1 = nn.Conv1d(d, d, 1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv1d(d, d, 1)

    def forward(self, x):
        return self.conv2(self.relu(self.conv1(x)))


class Model(nn.Module):
    def __init__(self, d, n):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.blocks = nn.ModuleList()
        for _ in range(n):
            block = FeedForward(d)
            self.blocks.append(block)

    def forward(self, x):
        for block in self.blocks:
            x = x + block(self.norm(x))
        return x


model = Model(8, 2).to("cpu").train()
{loop}
"""


def script(loop: str) -> list[int]:
    return [d.line for d in lint_selected(LOOPED_SCRIPT.format(loop=loop), "IA103")]


def test_a_loop_whose_init_errors_are_swallowed_skips_the_vectors() -> None:
    loop = """for name, param in model.named_parameters():
    try:
        nn.init.xavier_normal_(param.data)
    except {caught}:
        pass"""
    assert script(loop.format(caught="Exception")) == [35]
    assert script(loop.format(caught="(ValueError, KeyError)")) == [35]
    assert script(loop.format(caught="KeyError")) == []  # a vector would raise: the loop is not read


def test_a_try_around_the_loop_is_no_filter() -> None:
    loop = """try:
    for param in model.parameters():
        nn.init.xavier_normal_(param)
except Exception:
    pass"""
    assert script(loop) == []


TRY_THEN_EXCEPT = """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 8)
        try:
            nn.init.{first}(self.fc.weight)
        {handler}
            nn.init.{second}(self.fc.weight)

    def forward(self, x):
        return self.fc(x).relu()
"""


def _codes_by_line(code: str) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in lint_selected(code, "IA103", "IA111")]


def test_an_init_in_an_except_clause_does_not_replace_the_one_its_try_made() -> None:
    """The except clause runs only when the try failed: the try's init stands otherwise, and
    each is judged for what it draws."""
    right_first = TRY_THEN_EXCEPT.format(first="kaiming_uniform_", second="xavier_uniform_",
                                         handler="except ValueError:")
    assert _codes_by_line(right_first) == [(12, "IA103")]
    wrong_first = TRY_THEN_EXCEPT.format(first="xavier_uniform_", second="kaiming_uniform_",
                                         handler="except ValueError:")
    assert _codes_by_line(wrong_first) == [(10, "IA103")]


def test_an_init_after_the_try_in_its_else_or_finally_replaces_it() -> None:
    for handler in ("finally:", "except ValueError:\n            pass\n        else:"):
        code = TRY_THEN_EXCEPT.format(first="xavier_uniform_", second="kaiming_uniform_", handler=handler)
        assert _codes_by_line(code) == [(10, "IA111")], handler


def test_a_factory_whose_results_are_not_all_written_again_is_not_voided() -> None:
    """A factory's init runs once per call: zeroing one call's layer voids that one only."""
    factory = """
        import torch.nn as nn


        def Conv1d(*args, **kwargs):
            layer = nn.Conv1d(*args, **kwargs)
            nn.init.kaiming_normal_(layer.weight)
            return layer


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.inp = Conv1d(1, 64, 1)
                self.out = Conv1d(64, 1, 1)
                nn.init.zeros_(self.out.weight)
                {again}

            def forward(self, x):
                return self.out(self.inp(x).relu())
    """
    assert lint_selected(factory.format(again=""), "IA111") == []
    both = factory.format(again="nn.init.zeros_(self.inp.weight)")
    assert [(d.line, d.code) for d in lint_selected(both, "IA111")] == [(7, "IA111")]


def test_a_write_in_a_method_construction_never_calls_voids_nothing() -> None:
    code = """
        import torch.nn as nn


        class Decoder(nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding = nn.Embedding(100, 16)
                self.init_weights()

            def init_weights(self):
                self.embedding.weight.data.uniform_(-0.1, 0.1)
                {later}

            def load_pretrained_embeddings(self, embeddings):
                self.embedding.weight = nn.Parameter(embeddings)
    """
    assert lint_selected(code.format(later=""), "IA111") == []
    called = code.format(later="self.embedding.weight.data.normal_(0, 0.02)")
    assert [(d.line, d.code) for d in lint_selected(called, "IA111")] == [(12, "IA111")]


SAGE_LAYER = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class SageLayer(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.FloatTensor(n_out, 2 * n_in))
        {more}
        for param in self.parameters():
            nn.init.xavier_uniform_(param)

    def forward(self, x):
        return F.{activation}(self.weight.mm(x.t())).t()
"""


def test_a_parameters_loop_of_a_class_with_one_bare_parameter_writes_it() -> None:
    assert [d.code for d in lint_selected(SAGE_LAYER.format(more="", activation="relu"), "IA103")] == ["IA103"]
    assert lint_selected(SAGE_LAYER.format(more="", activation="tanh"), "IA103") == []
    two = SAGE_LAYER.format(more="self.other = nn.Parameter(torch.FloatTensor(n_out, n_out))", activation="relu")
    assert lint_selected(two, "IA103") == []  # which of them the loop's element is, is not one answer
