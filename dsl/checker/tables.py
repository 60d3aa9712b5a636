"""Tier tables through the type pass (language §9): a numeric key; thresholds of the key's type,
constant and strictly ascending; at most one `below` band, first; band values of one type — a
level's labels, or a marginal table's constant rates that the key can be multiplied by.

A mixin of `Typer` (dsl/checker/typecheck.py). Emits E300, E301 (a threshold's unit), E400
(band order, `below`), E402 (no `from` band; `below` in a marginal table; band types), E403
(thresholds and rates not constant).
"""

from __future__ import annotations

from decimal import Decimal

from dsl.checker.fold import is_zero
from dsl.checker.text import article
from dsl.checker.types import ERROR, Kind, Type, arithmetic, comparable, is_unit_confusion, unify, unit_hint
from dsl.front import ast


class Tables:
    """The type rules of a tier table (a mixin of `Typer`)."""

    def check_tiers(self, decl: ast.Tiers) -> Type:
        """Language §9: a numeric key, constant ascending thresholds of the key's type, and band values
        of one type (a level's labels; a marginal table's constant rates)."""
        key_t = self.infer(decl.key, {}, None)
        if key_t is not ERROR and not key_t.is_numeric:
            self.err("E300", f"the key of a tier table must be numeric, but it is {key_t}", decl.key.span)
            key_t = ERROR
        self.tier_thresholds(decl, key_t)
        return self.tier_values(decl, key_t)

    def tier_thresholds(self, decl: ast.Tiers, key_t: Type) -> None:
        """The bands' thresholds: of the key's type, constant, strictly ascending; at most one
        `below` band, first, naming the first threshold (none in a marginal table)."""
        froms = [b for b in decl.bands if b.kind == "from"]
        belows = [b for b in decl.bands if b.kind == "below"]
        marginal = decl.mode == "marginal"
        if not froms:
            self.err("E402", f"table `{decl.name}` has no `from` band", decl.name_span,
                     help="add at least one band `from THRESHOLD -> VALUE`")
        previous: Decimal | None = None
        previous_band = None
        for band in decl.bands:
            tt = self.infer(band.threshold, {}, key_t)
            if not comparable(">=", key_t, tt):
                if is_unit_confusion(key_t.kind, tt.kind):
                    self.err("E301", f"a threshold of `{decl.name}` is {tt} but the key is {key_t}",
                             band.threshold.span, label=f"this is {article(tt)}",
                             help=unit_hint(">=", key_t.kind, tt.kind, decl.key.span.text,
                                            band.threshold.span.text, self.currency or "USD"))
                else:
                    self.err("E300", f"a threshold of `{decl.name}` is {tt} but the key is {key_t}",
                             band.threshold.span)
            if not self.is_constant(band.threshold):
                self.err("E403", f"thresholds of `{decl.name}` must be constant", band.threshold.span,
                         help="use literals or params")
        for band in belows:
            if marginal:
                self.err("E402", "`below` is not allowed in a marginal table", band.span,
                         help="in a marginal table a key below the first threshold contributes nothing")
        if len(belows) > 1:
            self.err("E400", f"table `{decl.name}` has more than one `below` band", belows[1].span)
        if belows and decl.bands[0] is not belows[0]:
            self.err("E400", "the `below` band must come first", belows[0].span)
        if belows and froms:
            b, f = self.constants.get(id(belows[0].threshold)), self.constants.get(id(froms[0].threshold))
            if b is not None and f is not None and b != f:
                self.err("E400", f"`below {belows[0].threshold.span.text}` must name the first band's "
                         f"threshold `{froms[0].threshold.span.text}`", belows[0].threshold.span,
                         help=f"write `below {froms[0].threshold.span.text} -> ...`")
        for band in froms:
            value = self.constants.get(id(band.threshold))
            if value is not None and previous is not None and value <= previous:
                self.err("E400", f"thresholds of `{decl.name}` must be strictly ascending: "
                         f"{band.threshold.span.text} comes after {previous_band.threshold.span.text}",
                         band.threshold.span, help="order the bands from the lowest threshold up")
            if value is not None:
                previous, previous_band = value, band

    def tier_values(self, decl: ast.Tiers, key_t: Type) -> Type:
        """The table's type: its bands' values unified (a zero takes the type of the others,
        §2a), a level's own type, or a marginal table's key times its rates."""
        marginal = decl.mode == "marginal"
        if decl.name in self.res.levels:
            level = Type(Kind.LEVEL, self.res.levels[decl.name], decl.name)
            for band in decl.bands:
                self.types[id(band.value)] = level
            return level
        result: Type | None = None
        first_band = None
        mixed = False
        zeros = [band.value for band in decl.bands if is_zero(band.value)]
        for band in decl.bands:
            if any(band.value is z for z in zeros):
                continue  # §2a: a zero band value takes the type of the others, below
            vt = self.infer(band.value, {}, result)
            if marginal:
                if not self.is_constant(band.value):
                    self.err("E403", f"the rates of the marginal table `{decl.name}` must be constant",
                             band.value.span, help="use literals or params")
                if vt is not ERROR and key_t is not ERROR and arithmetic("*", key_t.kind, vt.kind) is None:
                    self.err("E402", f"a marginal table multiplies its key by its rates, but "
                             f"{key_t} times {vt} has no type", band.value.span,
                             help="money keys take percent rates; number keys take money rates; "
                             "percent keys take percent rates")
                    vt = ERROR
            if result is None or result is ERROR:
                result, first_band = vt, band
                continue
            u = unify(result, vt)
            if u is None:
                self.err("E402", f"the bands of `{decl.name}` give different types: "
                         f"{result} (line {first_band.value.span.line}) and {vt}", band.value.span,
                         help="every band of a table gives the same type")
                mixed = True
            else:
                result = u
        for z in zeros:
            zt = self.infer(z, {}, result)
            result = zt if result is None or result is ERROR else result
        if mixed:
            return ERROR
        if result is None:
            return ERROR
        if marginal:
            if result is ERROR or key_t is ERROR:
                return ERROR
            product = arithmetic("*", key_t.kind, result.kind)
            return Type(product) if product is not None else ERROR
        return result
