"""The words of IPL that the parser, the builder and the tools share (spec §2a, §5, §9).

Receives nothing: data. Guarantees the reserved words (`RESERVED`: a declaration or expression
word is never a name), the names the language gives values, the builtins that the grammar does
not spell, and the values a header may give `period` and `rounding`. Every other keyword of the
grammar (`syntax.keywords()`) is a keyword only where the grammar uses it. Emits nothing.
"""

from __future__ import annotations

# §2a: the words that stay reserved everywhere: those that start a declaration, the expression
# words, and the names the language itself gives values. Every other keyword of the grammar is a
# keyword only where the grammar uses it, and a name everywhere else (`input target : money`).
DECLARATION_WORDS = frozenset({
    "policy", "module", "tests", "use", "input", "param", "metric", "def", "tiers", "scorecard",
    "eligibility", "component", "benefit", "total", "program", "clawback", "fixture", "test",
})
EXPRESSION_WORDS = frozenset({"if", "then", "else", "match", "and", "or", "not", "in", "otherwise",
                              "true", "false"})
# `eligible`, `reasons` (and `periods_active`) name values: they may be read anywhere but not
# declared, which the names pass refuses (E201); `total` is also a declaration word.
VALUE_WORDS = frozenset({"eligible", "reasons", "total"})
RESERVED = DECLARATION_WORDS | EXPRESSION_WORDS
# Builtins the grammar does not spell: `rank(x among c)` and `percentile(...)` are calls (§2a:
# a call is a name followed by `(`), built into `ast.Rank` (build_expr.py).
RANK_CALLS = ("rank", "percentile")

PERIOD_KINDS = ("month", "quarter", "half", "year")
ROUNDING_MODES = ("half_even", "half_up", "down", "up")
