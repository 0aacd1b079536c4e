"""What the tests guarding an init operation say about what it writes: which module classes an
``isinstance`` / ``type(m) is`` / class-name / ``hasattr`` / ``dim()`` test keeps of a loop's
modules (:class:`ClassTest`), and which parameters a ``p.dim() > 1`` or parameter-name test
keeps (:data:`ParameterTest`), through ``and``, ``or`` and ``not``. Read from the written test
alone; ``targets.py`` applies them to the modules a loop or an ``apply`` reaches."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from operator import eq, ge, gt, le, lt, ne
from typing import Callable

import libcst as cst
from libcst.helpers import get_full_name_for_node

from initaudit import knowledge
from initaudit.knowledge import LayerKind
from initaudit.lint.model.facts import CollectedFile
from initaudit.lint.model.modules import Submodule, literal_number, small_statements, viewed_name, written_tensor


@dataclass(frozen=True)
class ClassTest:
    """What an ``if`` test says about a module's class."""

    matches: Callable[[Submodule], bool]
    #: The whole test is about the class (not ``isinstance(m, nn.Linear) and m.bias is not None``).
    whole: bool
    #: True picks out classes (``isinstance``); false excludes some (``not isinstance``, ``!=``).
    selects: bool
    #: The classes it keeps are told by what they are (``isinstance``, a class name), not only by
    #: what they hold (``hasattr(m, "weight")``, ``m.weight.dim() > 1``), which every kind may pass.
    named: bool = True


def class_test(model: CollectedFile, test: cst.BaseExpression, name: str,
                aliases: frozenset[str]) -> ClassTest | None:
    """The class test that ``test`` makes of the module ``name``, through ``and``, ``or`` and
    ``not``; None when it tests nothing about the class."""
    if isinstance(test, cst.BooleanOperation):
        left = class_test(model, test.left, name, aliases)
        right = class_test(model, test.right, name, aliases)
        if isinstance(test.operator, cst.And):
            if left is not None and right is not None:
                return ClassTest(lambda m: left.matches(m) and right.matches(m), left.whole and right.whole,
                                 left.selects or right.selects, left.named or right.named)
            known = left or right
            return dataclasses.replace(known, whole=False) if known is not None else None
        if left is not None and right is not None and left.whole and right.whole:
            return ClassTest(lambda m: left.matches(m) or right.matches(m), True,
                             left.selects and right.selects, left.named and right.named)
        return None
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = class_test(model, test.expression, name, aliases)
        if inner is None or not inner.whole:
            return None
        return ClassTest(lambda m: not inner.matches(m), True, not inner.selects, inner.named)
    return _atomic_class_test(model, test, name, aliases)


def _atomic_class_test(model: CollectedFile, test: cst.BaseExpression, name: str,
                       aliases: frozenset[str]) -> ClassTest | None:
    """``isinstance(m, A)``, ``type(m) is A``, ``type(m) in (A, B)``, ``classname == "Linear"``,
    ``"Conv" in classname``, ``classname.find("Conv") != -1``, ``classname.startswith("Conv")``,
    and their negations (``!=``, ``is not``, ``not in``, ``find(...) == -1``)."""
    if _is_call(test, "isinstance") and len(test.args) == 2 and is_name(test.args[0].value, name):
        classes = _class_names(model, test.args[1].value)
        return ClassTest(lambda m: m.class_name in classes, True, True)
    if isinstance(test, cst.Call) and isinstance(test.func, cst.Attribute) \
            and test.func.attr.value in ("startswith", "endswith") and len(test.args) == 1 \
            and _is_class_name(test.func.value, name, aliases):
        fragment = _string(test.args[0].value)
        if fragment is None:
            return None
        method = test.func.attr.value
        return ClassTest(lambda m: m.class_name is not None and getattr(m.class_name, method)(fragment),
                         True, True)
    if _is_call(test, "hasattr") and len(test.args) == 2 and is_name(test.args[0].value, name):
        attribute = _string(test.args[1].value)
        if attribute is None:
            return None
        return ClassTest(lambda m: _has_parameter(model, m, attribute), True, True, named=False)
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return None
    left, operator = test.left, test.comparisons[0].operator
    right = test.comparisons[0].comparator
    ndim = _ndim_test(model, left, operator, right, name)
    if ndim is not None:
        return ndim
    if isinstance(left, cst.Call) and isinstance(left.func, cst.Attribute) and left.func.attr.value == "find" \
            and len(left.args) == 1 and _is_class_name(left.func.value, name, aliases):
        return _found_fragment(_string(left.args[0].value), operator, literal_number(right))
    predicate = _compared_class(model, left, operator, right, name, aliases)
    if predicate is None:
        return None
    if isinstance(operator, (cst.IsNot, cst.NotEqual, cst.NotIn)):
        return ClassTest(lambda m: not predicate(m), True, False)
    return ClassTest(predicate, True, True)


#: Python's comparison of two numbers, by libcst operator.
_ORDER: dict[type, Callable[[float, float], bool]] = {
    cst.GreaterThan: gt, cst.GreaterThanEqual: ge, cst.LessThan: lt, cst.LessThanEqual: le,
    cst.Equal: eq, cst.NotEqual: ne,
}


def _ndim_test(model: CollectedFile, left: cst.BaseExpression, operator: cst.BaseCompOp,
               right: cst.BaseExpression, name: str) -> ClassTest | None:
    """``m.weight.dim() > 1``: the modules whose parameter has that many dimensions (the
    class decides it: a Linear's weight is a matrix, a norm's a vector)."""
    operand = _ndim_operand(left)
    bound = literal_number(right)
    compare = _ORDER.get(type(operator))
    if operand is None or bound is None or compare is None:
        return None
    operand = written_tensor(operand)
    if not (isinstance(operand, cst.Attribute) and is_name(operand.value, name)):
        return None
    param = operand.attr.value

    def matches(m: Submodule) -> bool:
        ndim = _parameter_ndim(model, m, param)
        return ndim is not None and compare(ndim, bound)
    return ClassTest(matches, True, True, named=False)


def _has_parameter(model: CollectedFile, module: Submodule, param: str) -> bool:
    """Whether ``module`` holds ``param`` (``hasattr(m, "weight")``): torch's classes by what
    they register, the file's by their attributes."""
    own = model.classes.get(module.class_name or "") if module.kind is LayerKind.CUSTOM else None
    if own is not None:
        return param in own.parameters or param in own.attributes
    return _parameter_ndim(model, module, param) is not None


def _parameter_ndim(model: CollectedFile, module: Submodule, param: str) -> int | None:
    """The number of dimensions of ``module``'s parameter ``param``, None when it has none (or
    it is not known): torch's classes from what they register, the file's from their
    ``nn.Parameter`` attributes."""
    if module.class_name is None:
        return None
    own = model.classes.get(module.class_name) if module.kind is LayerKind.CUSTOM else None
    if own is not None:
        return own.parameters.get(param)
    return knowledge.parameter_ndim(module.class_name, param) if module.kind in knowledge.PARAMETERISED_KINDS else None


def _compared_class(model: CollectedFile, left: cst.BaseExpression, operator: cst.BaseCompOp,
                    right: cst.BaseExpression, name: str,
                    aliases: frozenset[str]) -> Callable[[Submodule], bool] | None:
    """The positive form of a one-comparison class test (the caller applies ``not``/``!=``)."""
    membership = isinstance(operator, (cst.In, cst.NotIn))
    if _is_call(left, "type") and len(left.args) == 1 and is_name(left.args[0].value, name):
        classes = _class_names(model, right)
        return lambda m: m.class_name in classes
    if _is_class_name(left, name, aliases):
        if membership and isinstance(right, (cst.Tuple, cst.List, cst.Set)):
            names = {_string(e.value) for e in right.elements}
            return lambda m: m.class_name in names
        value = _string(right)
        return None if value is None or membership else (lambda m: m.class_name == value)
    if membership and _is_class_name(right, name, aliases):
        fragment = _string(left)
        return None if fragment is None else (lambda m: m.class_name is not None and fragment in m.class_name)
    return None


def _found_fragment(fragment: str | None, operator: cst.BaseCompOp, bound: float | None) -> ClassTest | None:
    """``classname.find(fragment)`` compared with -1 or 0: present (``!= -1``, ``>= 0``,
    ``> -1``), absent (``== -1``, ``< 0``), or at the start (``== 0``; ``!= 0``: not there)."""
    if fragment is None:
        return None

    def present(m: Submodule) -> bool:
        return m.class_name is not None and fragment in m.class_name

    def first(m: Submodule) -> bool:
        return m.class_name is not None and m.class_name.startswith(fragment)
    if isinstance(operator, (cst.Equal, cst.NotEqual)) and bound == 0:
        return ClassTest(first, True, True) if isinstance(operator, cst.Equal) \
            else ClassTest(lambda m: not first(m), True, False)
    if (isinstance(operator, cst.NotEqual) and bound == -1) or (isinstance(operator, cst.GreaterThan)
                                                                and bound == -1) \
            or (isinstance(operator, cst.GreaterThanEqual) and bound == 0):
        return ClassTest(present, True, True)
    if (isinstance(operator, cst.Equal) and bound == -1) or (isinstance(operator, cst.LessThan) and bound == 0):
        return ClassTest(lambda m: not present(m), True, False)
    return None


def _is_class_name(node: cst.BaseExpression, name: str, aliases: frozenset[str]) -> bool:
    """``m.__class__.__name__``, ``type(m).__name__``, or a local variable holding one of them."""
    if isinstance(node, cst.Name):
        return node.value in aliases
    if not (isinstance(node, cst.Attribute) and node.attr.value == "__name__"):
        return False
    owner = node.value
    if isinstance(owner, cst.Attribute) and owner.attr.value == "__class__":
        return is_name(owner.value, name)
    return _is_call(owner, "type") and len(owner.args) == 1 and is_name(owner.args[0].value, name)


def class_name_aliases(function: cst.FunctionDef, name: str) -> frozenset[str]:
    """Variables of ``function`` assigned the class name of ``name`` (``classname = m.__class__.__name__``)."""
    return frozenset(
        small.targets[0].target.value for small in small_statements(function)
        if isinstance(small, cst.Assign) and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name) and _is_class_name(small.value, name, frozenset()))


def _is_call(node: cst.BaseExpression, function: str) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == function


def _string(node: cst.BaseExpression) -> str | None:
    value = node.evaluated_value if isinstance(node, cst.SimpleString) else None
    return value if isinstance(value, str) else None


def _class_names(model: CollectedFile, node: cst.BaseExpression) -> frozenset[str]:
    if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
        names: frozenset[str] = frozenset()
        for element in node.elements:
            names |= _class_names(model, element.value)
        return names
    if isinstance(node, cst.Name) and node.value in model.classes:
        return frozenset({node.value})
    imported = _imported_class(model, node)
    if imported is not None:
        return frozenset({imported})
    found = set()
    for name in model.names(node):
        if name.startswith("torch.nn."):
            last = name.rsplit(".", 1)[-1]
            found |= knowledge.ABSTRACT_BASES.get(last, {last})
    return frozenset(found)


def _imported_class(model: CollectedFile, node: cst.BaseExpression) -> str | None:
    """The name a module class of another project file is defined under, for the name that
    imports it here (``from blocks import *``, ``blocks.Conv``): its instances carry that name."""
    spelled = get_full_name_for_node(node)
    found = model.links.module_class(spelled) if spelled is not None and model.links is not None else None
    return found[0].name if found is not None else None


#: A test of (module, parameter name), and whether it is the whole ``if`` test.
ParameterTest = tuple[Callable[..., bool], bool]


def parameter_test(test: cst.BaseExpression, variable: str, name_variable: str | None,
                   model: CollectedFile | None = None, prefix: str = "",
                   aliases: frozenset[str] = frozenset()) -> ParameterTest | None:
    """What ``p.dim() > 1``, ``p.dim() in (3, 4)``, ``"weight" in name``, ``name ==
    "fc1.weight"``, ``name.startswith("fc1")`` and their ``and``/``or``/``not`` combinations
    select; with the ``model``, a dimension test compares the dimensions its classes give each
    parameter. The name a parameter is given is its module's path less ``prefix`` (that of the
    module whose parameters are named), then its own name. ``aliases``: local names bound to the
    parameter (``data = p.data``)."""
    variables = aliases | {variable}
    return combined(test, lambda atom: _parameter_predicate(atom, variables, name_variable, model, prefix))


def combined(test: cst.BaseExpression, atom: Callable[[cst.BaseExpression], Callable | None]):
    """(predicate, whole) for ``test`` through ``and``/``or``/``not``, from the predicates that
    ``atom`` finds for its parts; ``whole`` is false when a part of an ``and`` was not understood."""
    if isinstance(test, cst.BooleanOperation):
        left, right = combined(test.left, atom), combined(test.right, atom)
        if isinstance(test.operator, cst.And):
            if left is not None and right is not None:
                return (lambda *x: left[0](*x) and right[0](*x)), left[1] and right[1]
            known = left or right
            return (known[0], False) if known is not None else None
        if left is not None and right is not None and left[1] and right[1]:
            return (lambda *x: left[0](*x) or right[0](*x)), True
        return None
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = combined(test.expression, atom)
        return ((lambda *x: not inner[0](*x)), True) if inner is not None and inner[1] else None
    predicate = atom(test)
    return (predicate, True) if predicate is not None else None


def _parameter_predicate(test: cst.BaseExpression, variables: frozenset[str], name_variable: str | None,
                         model: CollectedFile | None, prefix: str):
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and _is_ndim(test.left, variables):
        operator = test.comparisons[0].operator
        if isinstance(operator, cst.In):
            return _ndim_among(test.comparisons[0].comparator, model)
        bound = literal_number(test.comparisons[0].comparator)
        if bound is None:
            return None
        matrix = (isinstance(operator, cst.GreaterThan) and bound >= 1) or \
            (isinstance(operator, cst.GreaterThanEqual) and bound >= 2) or \
            (isinstance(operator, cst.Equal) and bound >= 2)
        vector = (isinstance(operator, (cst.LessThan, cst.Equal)) and bound <= 2 and not matrix)
        if not (matrix or vector):
            return None
        guess = _matrix_guess if matrix else _vector_guess
        compare = _ORDER.get(type(operator))
        if model is None or compare is None:
            return guess
        # A tensor's dimensions, where its creation says them (``nn.Parameter(torch.ones(1, n, 1))``
        # passes ``p.dim() > 1``), decide the test; the kind of the parameter guesses the rest.
        return lambda m, p: guess(m, p) if (known := _parameter_ndim(model, m, p)) is None \
            else compare(known, bound)
    named = name_predicate(test, name_variable)
    return None if named is None else (lambda m, p: named(f"{m.path}.{p}"[len(prefix):]))


def _ndim_among(listed: cst.BaseExpression, model: CollectedFile | None):
    """What ``p.dim() in (3, 4)`` selects: the parameters of one of the dimensions listed, all
    matrices (or all vectors) where a layer's kind is all that says them."""
    items = listed.elements if isinstance(listed, (cst.Tuple, cst.List, cst.Set)) else ()
    numbers = {literal_number(item.value) for item in items}
    counts = frozenset(n for n in numbers if n is not None)
    if not counts or len(counts) < len(numbers):
        return None
    if min(counts) >= 2:
        guess = _matrix_guess
    elif max(counts) <= 1:
        guess = _vector_guess
    else:
        return None
    if model is None:
        return guess
    return lambda m, p: guess(m, p) if (known := _parameter_ndim(model, m, p)) is None else known in counts


def _matrix_guess(module: Submodule, param: str) -> bool:
    return param == "weight" and module.kind is not LayerKind.NORM


def _vector_guess(module: Submodule, param: str) -> bool:
    return param == "bias" or module.kind is LayerKind.NORM


def name_predicate(test: cst.BaseExpression, name_variable: str | None) -> Callable[[str], bool] | None:
    """A test of the name a ``named_modules()``/``named_parameters()`` loop gives:
    ``name == "fc1"``, ``"conv" in name``, ``name.startswith("fc")``, ``name.endswith("weight")``."""
    if not name_variable:
        return None
    if isinstance(test, cst.Call) and isinstance(test.func, cst.Attribute) \
            and test.func.attr.value in ("startswith", "endswith") \
            and is_name(test.func.value, name_variable) and len(test.args) == 1:
        fragment = _string(test.args[0].value)
        method = test.func.attr.value
        return None if fragment is None else (lambda name: getattr(name, method)(fragment))
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return None
    operator = test.comparisons[0].operator
    right = test.comparisons[0].comparator
    if isinstance(operator, (cst.In, cst.NotIn)) and is_name(right, name_variable):
        fragment = _string(test.left)
        inside = isinstance(operator, cst.In)
        return None if fragment is None else (lambda name: (fragment in name) == inside)
    if isinstance(operator, (cst.Equal, cst.NotEqual)) and is_name(test.left, name_variable):
        value = _string(right)
        equal = isinstance(operator, cst.Equal)
        return None if value is None else (lambda name: (name == value) == equal)
    return None


def _is_ndim(node: cst.BaseExpression, variables: frozenset[str]) -> bool:
    """``p.dim()``, ``p.ndim``, ``p.ndimension()``, ``len(p.shape)``, ``len(p.size())``, also
    through ``p.data``, for ``p`` one of ``variables``."""
    operand = _ndim_operand(node)
    return operand is not None and viewed_name(operand) in variables


def _ndim_operand(node: cst.BaseExpression) -> cst.BaseExpression | None:
    """``p`` of ``p.dim()``, ``p.ndim``, ``p.ndimension()``, ``len(p.shape)``, ``len(p.size())``."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and not node.args:
        return node.func.value if node.func.attr.value in ("dim", "ndimension") else None
    if isinstance(node, cst.Attribute) and node.attr.value == "ndim":
        return node.value
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "len" and node.args:
        inner = node.args[0].value
        if isinstance(inner, cst.Attribute) and inner.attr.value == "shape":
            return inner.value
        if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Attribute) and inner.func.attr.value == "size":
            return inner.func.value
    return None


def is_name(node: cst.BaseExpression, value: str) -> bool:
    return isinstance(node, cst.Name) and node.value == value
