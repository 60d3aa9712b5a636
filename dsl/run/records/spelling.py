"""The "did you mean" of a mistyped name: an enum member in a record, a param of `--set`.

Receives the names that are right and a text that is not one of them. Guarantees the name it
most likely meant — a case-insensitive match first, then difflib's closest spelling (ratio at
least 0.6, the same answer as `difflib.get_close_matches(text, names, n=1)` over the names it
looks at) — or None, at a cost that does not grow with the number of names. Emits nothing.
"""

from __future__ import annotations

import bisect
import difflib


def closest(text: str, members: tuple[str, ...]) -> str | None:
    """The member a mistyped value most likely meant: case-insensitive match, then spelling."""
    return Spelling(members).closest(text)


class Spelling:
    """The "did you mean" of a mistyped name among `names`, cheap however many there are.

    A case-insensitive match first (a dict); then difflib's closest spelling (ratio >= 0.6),
    over every name when there are at most `SMALL`, else over the `NEAR` names on either side
    of the text in alphabetical order, and as many in the order of the names written backwards
    (a typo late in a word keeps its start, an early one its end): at most 4 × `NEAR`
    candidates, found by bisection. Answers are remembered (up to 4,096 texts), since a file
    tends to repeat its mistakes.
    """

    SMALL = 100
    NEAR = 8

    def __init__(self, names: tuple[str, ...]):
        self.names = names
        self._lower: dict[str, str] | None = None
        self._ordered: tuple[list[str], list[str], list[str], list[str]] | None = None
        self._seen: dict[str, str | None] = {}

    def closest(self, text: str) -> str | None:
        if text in self._seen:
            return self._seen[text]
        if self._lower is None:
            self._lower = {}
            for name in self.names:
                self._lower.setdefault(name.lower(), name)
        lowered = text.lower()
        found = self._lower.get(lowered)
        if found is None:
            found = self._spelt(lowered)
        if len(self._seen) < 4096 and len(text) <= 256:  # a long value is not kept
            self._seen[text] = found
        return found

    def _spelt(self, lowered: str) -> str | None:
        if len(self.names) <= self.SMALL:
            candidates = self.names
        else:
            if self._ordered is None:
                forward = sorted(self.names, key=str.lower)
                backward = sorted(self.names, key=lambda n: n.lower()[::-1])
                self._ordered = ([n.lower() for n in forward], forward,
                                 [n.lower()[::-1] for n in backward], backward)
            fkeys, forward, bkeys, backward = self._ordered
            i = bisect.bisect(fkeys, lowered)
            j = bisect.bisect(bkeys, lowered[::-1])
            near = self.NEAR
            candidates = forward[max(0, i - near): i + near] + backward[max(0, j - near): j + near]
        return _best_spelling(lowered, candidates)


def _best_spelling(word: str, candidates, cutoff: float = 0.6) -> str | None:
    """`difflib.get_close_matches(word, candidates, n=1, cutoff)`, the same answer (the
    highest ratio, then the greatest candidate), with `ratio()` — the costly part — computed
    only while a candidate's `quick_ratio()`, an upper bound of it, can still win."""
    # real_quick_ratio() bounds ratio() by the lengths alone: against a word much longer than
    # every candidate none can reach the cutoff, and set_seq2 would index every character of
    # it (a 50 MB value took 2 GB and 13 s for no suggestion)
    longest = max(map(len, candidates), default=0)
    if 2 * longest < cutoff * (len(word) + longest):
        return None
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(word)
    bounded = []
    for x in candidates:
        matcher.set_seq1(x)
        if matcher.real_quick_ratio() >= cutoff:
            bound = matcher.quick_ratio()
            if bound >= cutoff:
                bounded.append((bound, x))
    bounded.sort(reverse=True)
    best: tuple[float, str] | None = None
    for bound, x in bounded:
        if best is not None and bound < best[0]:
            break
        matcher.set_seq1(x)
        score = matcher.ratio()
        if score >= cutoff and (best is None or (score, x) > best):
            best = (score, x)
    return best[1] if best else None
