"""The registry of static rules, in code order."""

from __future__ import annotations

from initaudit.lint.rules.base import Finding, Rule, RuleInfo
from initaudit.lint.rules.constant_weight_init import ConstantWeightInit
from initaudit.lint.rules.deprecated_init_function import DeprecatedInitFunction
from initaudit.lint.rules.init_activation_mismatch import InitActivationMismatch
from initaudit.lint.rules.init_in_forward import InitInForward
from initaudit.lint.rules.init_shape_misuse import InitShapeMisuse
from initaudit.lint.rules.inplace_init_on_parameter import InplaceInitOnParameter
from initaudit.lint.rules.kaiming_arguments import KaimingArguments
from initaudit.lint.rules.overwritten_init import OverwrittenInit
from initaudit.lint.rules.syntax_error import SyntaxErrorRule
from initaudit.lint.rules.trunc_normal_bounds import TruncNormalBounds
from initaudit.lint.rules.unscaled_random_init import UnscaledRandomInit
from initaudit.lint.rules.zero_weight_init import ZeroWeightInit

SYNTAX_ERROR = SyntaxErrorRule()

RULES: tuple[Rule, ...] = (
    SYNTAX_ERROR,
    ZeroWeightInit(),
    ConstantWeightInit(),
    InitActivationMismatch(),
    DeprecatedInitFunction(),
    UnscaledRandomInit(),
    TruncNormalBounds(),
    InplaceInitOnParameter(),
    InitInForward(),
    KaimingArguments(),
    InitShapeMisuse(),
    OverwrittenInit(),
)

RULES_BY_CODE: dict[str, Rule] = {rule.info.code: rule for rule in RULES}

__all__ = ["Finding", "RULES", "RULES_BY_CODE", "Rule", "RuleInfo", "SYNTAX_ERROR"]
