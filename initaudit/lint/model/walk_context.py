"""Where the traversal of a file is: the tests, loops, ``try`` bodies, ``except`` clauses and
``no_grad`` blocks around the statement being read. The traversal records them with each init
operation and call, so that resolution knows what runs when."""

from __future__ import annotations

from typing import Callable, Sequence

import libcst as cst

from initaudit import knowledge

_NO_GRAD = ("torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad",
            "torch.autograd.grad_mode.no_grad")


class WalkContext:
    """The traversal's hooks (``walk.py``) that keep the control flow around the statement read."""

    def __init__(self, names: Callable[[cst.CSTNode], frozenset[str]]) -> None:
        self._names_of = names
        self._conditions: list[tuple[cst.If, bool, int]] = []
        #: Length of ``_conditions`` when each open block began: an ``if ...: return`` guard
        #: holds for the rest of its block only.
        self._block_starts: list[int] = []
        self._loops: list[cst.For] = []
        #: Open ``try`` bodies whose handlers swallow an init's ValueError.
        self._tries: list[tuple[cst.Try, int]] = []
        self._handlers: list[cst.CSTNode] = []  # the except clauses open where the walk is
        #: The swallowing ``try`` statements whose body runs an init that raises on a tensor of
        #: fewer than two dimensions.
        self._rejecting: set[int] = set()
        #: Per open ``except`` block: the loops open at its ``try`` when that ``try`` is rejecting.
        self._rejected: list[int | None] = []
        self._no_grad = 0

    def visit_If_body(self, node: cst.If) -> None:
        self._conditions.append((node, True, len(self._loops)))

    def leave_If_body(self, node: cst.If) -> None:
        self._conditions.pop()

    def visit_If_orelse(self, node: cst.If) -> None:
        self._conditions.append((node, False, len(self._loops)))

    def leave_If_orelse(self, node: cst.If) -> None:
        self._conditions.pop()

    def leave_If(self, original_node: cst.If) -> None:
        # ``if not isinstance(m, nn.Linear): return`` guards the statements after it.
        if _always_exits(original_node.body):
            self._conditions.append((original_node, False, len(self._loops)))

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._block_starts.append(len(self._conditions))

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        del self._conditions[self._block_starts.pop():]

    def visit_For_body(self, node: cst.For) -> None:
        self._loops.append(node)

    def leave_For_body(self, node: cst.For) -> None:
        self._loops.pop()

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._handlers.append(node)

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler) -> None:
        self._handlers.pop()

    visit_ExceptStarHandler = visit_ExceptHandler
    leave_ExceptStarHandler = leave_ExceptHandler

    def visit_Try_body(self, node: cst.Try) -> None:
        if any(_swallows_init_errors(handler) for handler in node.handlers):
            self._tries.append((node, len(self._loops)))

    def leave_Try_body(self, node: cst.Try) -> None:
        if self._tries and self._tries[-1][0] is node:
            self._tries.pop()

    def visit_Try_handlers(self, node: cst.Try) -> None:
        self._rejected.append(len(self._loops) if id(node) in self._rejecting else None)

    def leave_Try_handlers(self, node: cst.Try) -> None:
        self._rejected.pop()
        self._rejecting.discard(id(node))

    def note_init(self, function: str) -> None:
        """An init of ``function`` is read: inside a swallowing ``try``, its handlers run for the
        tensors it rejects when it needs two dimensions."""
        if self._tries and knowledge.INIT_FUNCTIONS[function].min_dim >= 2:
            self._rejecting.add(id(self._tries[-1][0]))

    def rejected(self) -> int | None:
        """In the ``except`` clause of a ``try`` whose init rejects tensors under two dimensions:
        how many loops were open at that ``try`` (None elsewhere)."""
        return self._rejected[-1] if self._rejected else None

    def visit_With(self, node: cst.With) -> None:
        if any(self._is_no_grad(item.item) for item in node.items):
            self._no_grad += 1

    def leave_With(self, original_node: cst.With) -> None:
        if any(self._is_no_grad(item.item) for item in original_node.items):
            self._no_grad -= 1

    def _is_no_grad(self, node: cst.BaseExpression) -> bool:
        func = node.func if isinstance(node, cst.Call) else node
        return any(name in _NO_GRAD for name in self._names_of(func))


def _swallows_init_errors(handler: cst.ExceptHandler) -> bool:
    """``except:``, ``except Exception:``, ``except (ValueError, KeyError):``."""
    if handler.type is None:
        return True
    caught = [e.value for e in handler.type.elements] if isinstance(handler.type, cst.Tuple) else [handler.type]
    return any((e.value if isinstance(e, cst.Name) else e.attr.value if isinstance(e, cst.Attribute) else None)
               in knowledge.INIT_ERRORS for e in caught)


def _always_exits(body: cst.BaseSuite) -> bool:
    """Whether a block ends by leaving its function or loop iteration (return, continue, raise, break)."""
    if isinstance(body, cst.IndentedBlock):
        if not body.body or not isinstance(body.body[-1], cst.SimpleStatementLine):
            return False
        statements: Sequence[cst.BaseSmallStatement] = body.body[-1].body
    else:
        statements = body.body
    return bool(statements) and isinstance(statements[-1], (cst.Return, cst.Continue, cst.Raise, cst.Break))
