"""The registry of static rules, in code order."""

from __future__ import annotations

from initaudit.lint.rules.base import Finding, Rule, RuleInfo
from initaudit.lint.rules.constant_weight_init import ConstantWeightInit
from initaudit.lint.rules.deprecated_init_function import DeprecatedInitFunction
from initaudit.lint.rules.init_activation_mismatch import InitActivationMismatch
from initaudit.lint.rules.syntax_error import SyntaxErrorRule
from initaudit.lint.rules.zero_weight_init import ZeroWeightInit

SYNTAX_ERROR = SyntaxErrorRule()

RULES: tuple[Rule, ...] = (
    SYNTAX_ERROR,
    ZeroWeightInit(),
    ConstantWeightInit(),
    InitActivationMismatch(),
    DeprecatedInitFunction(),
)

RULES_BY_CODE: dict[str, Rule] = {rule.info.code: rule for rule in RULES}

__all__ = ["Finding", "RULES", "RULES_BY_CODE", "Rule", "RuleInfo", "SYNTAX_ERROR"]
