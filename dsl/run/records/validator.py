"""Validating raw records against a policy's inputs (spec §13; v0.2 §2a, §23.1).

Receives the policy's inputs (`fields_of` an IR program: `Field`, values.py), the id input's
name, the ids that occur more than once (duplicates.py), and raw records as the readers give
them: `(row, raw, problem)`, `raw` keyed by column (§2a), or by name with typed values (a
test file's fixtures). Guarantees every record once, either as a validated dict (input name →
Decimal | str | bool) or as a `Reject` with its row, id (when there is one), field (the column
as written in the file) and the first reason it is rejected: the reader's problem, a column
the header lacks or holds twice, a missing or invalid value, a duplicate id. `fast_validator`
is the same validation, generated per policy (dsl/backends/python/rows.py). Emits no
diagnostics: rejects are data; a problem of a CSV header also goes, once, to the `notes` a
caller passes.
"""

from __future__ import annotations

import collections
import copy
from dataclasses import dataclass

from dsl.run.records.values import BadValue, Field, converter_of, has_surrogates, id_text


@dataclass(frozen=True, slots=True)
class Reject:
    """A record that will not be paid, and why (§13)."""

    row: int  # 1-based position of the record in the file (the header is not a record)
    id: str | None
    field: str | None
    reason: str

    def to_json(self) -> dict:
        return {"row": self.row, "id": self.id, "field": self.field, "reason": self.reason}


def fields_of(program) -> tuple[Field, ...]:
    """The inputs of an IR program (dsl/ir/nodes.py) as the readers validate them."""
    out = []
    for inp in program.inputs:
        t = inp.type
        unit = {"money": program.currency, "percent": "%"}.get(t.kind.value, "")
        out.append(Field(name=inp.name, kind=t.kind.value, members=tuple(t.members), lo=inp.lo, hi=inp.hi,
                         default=inp.default, has_default=inp.has_default, unit=unit, column=inp.column))
    return tuple(out)


def column_of(fields: tuple[Field, ...], name: str) -> str:
    """The column (§2a) that the input `name` is read from; `name` itself if it is no input."""
    for f in fields:
        if f.name == name:
            return f.column
    return name


class Validator:
    """Validates raw records against the policy's inputs (§13).

    A raw record is keyed by column, as read from the file (§2a); the validated record by the
    inputs' names. A reject's `field` is the column. With `fixtures`, raw records are a test
    file's values instead: keyed by name, and already typed (a percent is its fraction).
    """

    def __init__(self, fields: tuple[Field, ...], id_field: str, duplicates: frozenset[str] = frozenset(),
                 *, fixtures: bool = False):
        self.fields = fields
        self.id_field = id_field
        self.id_column = id_field if fixtures else column_of(fields, id_field)
        self.duplicates = duplicates
        self.fixtures = fixtures
        self._converters = tuple((f.name if fixtures else f.column, f.name, f, converter_of(f, typed=fixtures))
                                 for f in fields)
        self.header_faults: dict[str, str] = {}  # column -> the reason that rejects every row
        self.header_notes: list[str] = []  # the same, said once for the summary

    def for_header(self, header: list[str]) -> Validator:
        """This validator for a CSV file with these columns. A column that a required input
        needs and the header lacks, or that the header holds twice (which one to read?), rejects
        every row with a short reason ("no column `segment`"); `header_notes` says it once."""
        v = copy.copy(self)
        v.header_faults, v.header_notes = {}, []
        counts = collections.Counter(header)
        for column, name, f, _ in self._converters:
            n = counts[column]
            if n == 0 and not f.has_default:
                v.header_faults[column] = f"no column `{column}`"
                v.header_notes.append(f"the file has no column `{column}` (required by input `{name}`)")
            elif n > 1:
                v.header_faults[column] = f"{n} columns `{column}`"
                v.header_notes.append(f"the file has {n} columns `{column}` (read by input `{name}`): which one "
                                      "holds the value is not clear, so every record is rejected")
        return v

    def record_id(self, raw: dict | None) -> str | None:
        if raw is None:
            return None
        value = id_text(raw.get(self.id_column))
        if value is not None and has_surrogates(value):
            return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return value

    def validate(self, row: int, raw: dict | None, problem: str | None = None) -> dict | Reject:
        """A validated record, or the first reason it is rejected."""
        rid = self.record_id(raw)
        if problem is not None or raw is None:
            return Reject(row, rid, None, problem or "unreadable record")
        if self.header_faults:
            column, reason = next(iter(self.header_faults.items()))
            return Reject(row, rid, column, reason)
        out = {}
        for column, name, f, convert in self._converters:
            value = raw.get(column)
            if value is None or value == "":
                if f.has_default:
                    out[name] = f.default
                    continue
                return Reject(row, rid, column, f"missing field `{column}`")
            try:
                out[name] = convert(value)
            except BadValue as bad:
                if value.__class__ is str and f.kind != "text" and not value.strip():
                    # a blank value is a missing one (a value of spaces, an id above all)
                    if f.has_default:
                        out[name] = f.default
                        continue
                    return Reject(row, rid, column, f"missing field `{column}`")
                return Reject(row, rid, column, str(bad))
        if rid in self.duplicates:
            return Reject(row, rid, self.id_column, f"duplicate id {rid!r}: every record with this id is rejected")
        return out


def fast_validator(validator: Validator, header: list[str] | None = None, notes: list[str] | None = None):
    """A generated `validate(row, raw, problem)` equal to `validator.validate`, faster
    (dsl/backends/python/rows.py: an inline path for each field's obviously valid spelling,
    this validator for everything else).

    With `header` (a CSV file's columns), `raw` is the row's list of cells, read by position;
    the slow path gets the same dict the generic reader would have built, and validates it
    for that header (`Validator.for_header`: a required column the header lacks rejects every
    row; `notes`, if given, gets the header's problems once). Fields are read by column
    (language §4) and come out by name."""
    from dsl.backends.python.rows import make_validator

    slow = validator.validate
    if header is not None:
        if header:  # (an empty file has no header to find faults in)
            validator = validator.for_header(header)
            if notes is not None:
                notes.extend(validator.header_notes)

        def slow(row, raw, problem):
            return validator.validate(row, dict(zip(header, raw)) if raw is not None else None, problem)
        if validator.header_faults:
            return slow  # every row is rejected
    return make_validator(validator.fields, validator.id_field, validator.duplicates, slow, header,
                          validator.fixtures)
