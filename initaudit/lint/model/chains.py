"""What a tensor holds after in-place arithmetic follows its init.

``w.normal_().fmod_(2).mul_(s).add_(m)`` draws N(0, 1), then scales and shifts the same tensor:
it leaves N(m, s), bounded. So does ``w.uniform_(-1, 1)`` followed by ``w *= s`` in the next
statement. The init is read as the one it amounts to, its parameters carried through each
operator as expressions (``std`` becomes ``s``), so that the rules judge the value the tensor is
left with. ``renorm_`` multiplies each slice by a factor its own norm sets: the scale that stays
is the one it gives, unknown here. A method returning a new tensor (``mul``) leaves the
initialised one as it was, and ends the chain.
"""

from __future__ import annotations

from typing import Sequence

import libcst as cst

from initaudit import knowledge
from initaudit.lint.model.binding import Bound, StandIns
from initaudit.lint.model.modules import written_tensor

#: One in-place operation after an init: its operator and operand.
Step = tuple[str, cst.BaseExpression]

_AUGMENTED: dict[type[cst.BaseAugOp], str] = {
    cst.MultiplyAssign: "*=", cst.DivideAssign: "/=", cst.AddAssign: "+=", cst.SubtractAssign: "-=",
}
_OPERATORS: dict[str, type[cst.BaseBinaryOp]] = {
    "*": cst.Multiply, "/": cst.Divide, "+": cst.Add, "-": cst.Subtract,
}


def chain_start(node: cst.BaseExpression) -> tuple[cst.BaseExpression, list[Step]] | None:
    """The expression a chain of in-place methods starts from and the arithmetic the chain
    applies to it, in order: ``w.normal_().fmod_(2).mul_(s)`` -> (``w.normal_()``, [("*", s)]).
    None when ``node`` is no such chain, or one of its steps takes operands whose effect is not
    a plain operator (``add_(x, alpha=2)``)."""
    steps: list[Step] = []
    current = node
    while isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
        method = current.func.attr.value
        if method in knowledge.INPLACE_ARITHMETIC:
            if len(current.args) != 1 or current.args[0].keyword is not None or current.args[0].star:
                return None
            steps.append((knowledge.INPLACE_ARITHMETIC[method], current.args[0].value))
        elif method in knowledge.INPLACE_RENORMALISING:
            # a multiplication by a factor known only at run time, the call standing for it
            steps.append(("*", current))
        elif method not in knowledge.INPLACE_BOUNDING:
            break
        current = current.func.value
    return (current, steps[::-1]) if current is not node else None


def following_steps(statements: Sequence[cst.BaseStatement]) -> dict[int, list[Step]]:
    """For each in-place init that a statement's chain starts from, by id of its call: the
    arithmetic that chain and the statements right after it apply to the same tensor."""
    found: dict[int, list[Step]] = {}
    for index, statement in enumerate(statements):
        call = _expression(statement)
        if call is None:
            continue
        init, steps = chain_start(call) or (call, [])
        if not (isinstance(init, cst.Call) and isinstance(init.func, cst.Attribute)
                and init.func.attr.value in knowledge.INPLACE_INIT_METHODS):
            continue
        tensor = _tensor_key(init.func.value)
        for later in statements[index + 1:]:
            more = _steps_on(later, tensor)
            if more is None:
                break
            steps = steps + more
        if steps:
            found[id(init)] = steps
    return found


def carried(function: str, args: Bound, steps: Sequence[Step], stand_ins: StandIns) -> tuple[str, Bound]:
    """The init (name, arguments) that ``function`` with ``args`` followed by ``steps`` amounts
    to. Expressions made here stand for the operand of their step (``stand_ins``)."""
    args = dict(args)
    if function in knowledge.CONSTANT_INITS:
        args["val"] = cst.Integer(f"{knowledge.CONSTANT_INITS[function]:g}")
        function = "constant_"
    for operator, operand in steps:
        moved = knowledge.SCALED_PARAMETERS if operator in "*/" else knowledge.SHIFTED_PARAMETERS
        for name, default in moved.get(function, {}).items():
            value = _combined(args.get(name), default, operator, operand, stand_ins)
            if value is not None:
                args[name] = value
    val = _literal(args.get("val")) if function == "constant_" else None
    constant = next((name for name, value in knowledge.CONSTANT_INITS.items() if val == value), None)
    if constant is not None:
        args.pop("val")
        return constant, args
    return function, args


def _combined(value: cst.BaseExpression | None, default: float | None, operator: str,
              operand: cst.BaseExpression, stand_ins: StandIns) -> cst.BaseExpression | None:
    """``value <operator> operand``, an absent ``value`` standing for ``default`` (None: nothing
    to carry), without the identities: ``0 * s`` stays as it was, ``0 + s`` and ``1 * s`` are
    ``s``."""
    known = default if value is None else _literal(value)
    if value is None and known is None:
        return None
    if known == 0.0:
        if operator in "*/":
            return value
        if operator == "+":
            return operand
        return _made(cst.UnaryOperation(cst.Minus(), _grouped(operand)), operand, stand_ins)
    if known == 1.0 and operator == "*":
        return operand
    left = value if value is not None else cst.Integer(f"{known:g}")
    return _made(cst.BinaryOperation(_grouped(left), _OPERATORS[operator](), _grouped(operand)),
                 operand, stand_ins)


def _made(node: cst.BaseExpression, written: cst.BaseExpression, stand_ins: StandIns) -> cst.BaseExpression:
    stand_ins[id(node)] = (node, stand_ins.get(id(written), (written, written))[1])
    return node


def _grouped(node: cst.BaseExpression) -> cst.BaseExpression:
    """``node`` in parentheses where an operator could bind into it, so that its text reads as built."""
    if isinstance(node, (cst.BinaryOperation, cst.UnaryOperation, cst.BooleanOperation,
                         cst.Comparison, cst.IfExp, cst.Lambda)) and not node.lpar:
        return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return node


def _literal(node: cst.BaseExpression | None) -> float | None:
    return float(node.evaluated_value) if isinstance(node, (cst.Integer, cst.Float)) else None


def _expression(statement: cst.BaseStatement) -> cst.BaseExpression | None:
    """The expression a statement consists of, if it is a single expression."""
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 \
            and isinstance(statement.body[0], cst.Expr):
        return statement.body[0].value
    return None


def _steps_on(statement: cst.BaseStatement, tensor: str) -> list[Step] | None:
    """The in-place arithmetic a statement applies to ``tensor`` (by its key), or None when it
    does something else."""
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 \
            and isinstance(small := statement.body[0], cst.AugAssign):
        symbol = _AUGMENTED.get(type(small.operator))
        if symbol is None or _tensor_key(small.target) != tensor:
            return None
        return [(knowledge.INPLACE_ARITHMETIC[symbol], small.value)]
    expression = _expression(statement)
    chain = chain_start(expression) if expression is not None else None
    if chain is None or _tensor_key(chain[0]) != tensor:
        return None
    return chain[1]


def _tensor_key(node: cst.BaseExpression) -> str:
    """The text naming a tensor, the same through ``.data`` and ``.detach()``."""
    return cst.Module([]).code_for_node(written_tensor(node))
