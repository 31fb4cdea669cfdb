"""Site search: the tokeniser every adapter shares, and the plain index of the memory store."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping

import attrs

from ._models import SearchKind

_WORD = re.compile(r"\w+(?:[-.@']\w+)*")
_MAX_TERMS = 16

MAX_WORD_LENGTH = 100
"""The longest word the index keeps: a longer one is indexed, and searched for, by its first
100 characters, on every store (Postgres refuses words of over 2,047 bytes)."""

PREFIX_MIN_LENGTH = 3
"""A term this long or longer also finds the words it begins (``sft`` finds ``sftp``)."""

TITLE_WEIGHT = 3.0
"""How much more a match in a title, summary or reference counts than one in a body."""
TAG_WEIGHT = 2.0
"""How much more a match in an article's tags counts than one in a body."""


def tokenize(text: str) -> list[str]:
    """The searchable tokens of ``text``, lower-cased, in order, repeats kept.

    A compound word (``HHA-13782``, ``e-mail``, ``alice@acme.test``) yields
    itself and its parts, so a search for the whole matches it exactly and a
    search for a part still finds it.  Tokens are cut to :data:`MAX_WORD_LENGTH`.
    """
    tokens: list[str] = []
    for match in _WORD.finditer(text.casefold()):
        word = match.group()
        tokens.append(word[:MAX_WORD_LENGTH])
        parts = re.findall(r"\w+", word)
        if len(parts) > 1:
            tokens.extend(part[:MAX_WORD_LENGTH] for part in parts)
    return tokens


def query_terms(text: str) -> tuple[str, ...]:
    """The distinct terms of a search box's text, in order, at most 16.

    Every term must match: a hit holds all of them, in any of its fields.
    A term matches the words it begins where :func:`is_prefix` says so
    (search as you type); a compound term keeps only itself (its parts would
    match more loosely) and matches whole.
    Terms are cut to :data:`MAX_WORD_LENGTH`, as :func:`tokenize` cuts them.
    """
    terms: dict[str, None] = {}
    for match in _WORD.finditer(text.casefold()):
        terms.setdefault(match.group()[:MAX_WORD_LENGTH], None)
    return tuple(terms)[:_MAX_TERMS]


def is_prefix(term: str) -> bool:
    """Whether ``term`` finds the words it begins, not only itself.

    Only a plain word of :data:`PREFIX_MIN_LENGTH` characters or more: a
    shorter one would match most of the index while someone is still
    typing, and a compound (``hha-13782``) is matched whole.
    """
    return len(term) >= PREFIX_MIN_LENGTH and term.isalnum()


def snippet(text: str, terms: Iterable[str], width: int = 160) -> str:
    """About ``width`` characters of ``text`` around the first term found in it."""
    folded = text.casefold()
    found = [at for at in (folded.find(term) for term in terms) if at >= 0]
    start = max(0, min(found, default=0) - width // 4)
    cut = text[start : start + width].strip()
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(text) else ""
    return f"{prefix}{cut}{suffix}"


@attrs.frozen(kw_only=True)
class IndexedText:
    """One searchable field of one target (a ticket, an article, an announcement)."""

    kind: SearchKind
    target_id: str
    text: str
    weight: float = 1.0
    internal: bool = False
    """Text only staff may search: an internal note."""
    counts: Mapping[str, int] = attrs.field(factory=dict)

    @classmethod
    def of(
        cls,
        kind: SearchKind,
        target_id: str,
        text: str,
        *,
        weight: float = 1.0,
        internal: bool = False,
    ) -> IndexedText:
        """Tokenise ``text`` into a field of the target."""
        return cls(
            kind=kind,
            target_id=target_id,
            text=text,
            weight=weight,
            internal=internal,
            counts=Counter(tokenize(text)),
        )


@attrs.frozen(kw_only=True)
class Match:
    """A target all terms matched, with its score and the field that matched best."""

    kind: SearchKind
    target_id: str
    score: float
    best: IndexedText


class SearchIndex:
    """An inverted index from tokens to fields, for the in-memory store.

    Fields are keyed by any hashable the store chooses (``("ticket", id,
    "summary")``).  :meth:`put` returns what it replaced so that a rolled-back
    transaction can put it back.
    """

    def __init__(self) -> None:
        self._fields: dict[object, IndexedText] = {}
        self._postings: dict[str, set[object]] = {}

    def put(self, key: object, field: IndexedText | None) -> IndexedText | None:
        """Index ``field`` under ``key`` (None removes it); returns the field it replaced."""
        previous = self._fields.pop(key, None)
        if previous is not None:
            for token in previous.counts:
                self._postings[token].discard(key)
        if field is not None:
            self._fields[key] = field
            for token in field.counts:
                self._postings.setdefault(token, set()).add(key)
        return previous

    def match(self, terms: Iterable[str], *, include_internal: bool) -> Iterator[Match]:
        """Targets whose searchable fields hold every term between them, scored.

        Internal fields take no part unless ``include_internal``: a term only
        an internal note holds finds nothing for a customer.  A term scores
        its count times the field's weight: nothing about other targets
        (how rare a term is across the index would tell a reader how often
        it stands in text they may not see).
        """
        targets: dict[tuple[SearchKind, str], dict[object, float]] | None = None
        for term in terms:
            tokens = self._tokens_for(term)
            keys = {
                key
                for token in tokens
                for key in self._postings.get(token, ())
                if include_internal or not self._fields[key].internal
            }
            scored: dict[tuple[SearchKind, str], dict[object, float]] = {}
            for key in keys:
                field = self._fields[key]
                fields = scored.setdefault((field.kind, field.target_id), {})
                count = sum(field.counts.get(token, 0) for token in tokens)
                fields[key] = count * field.weight
            if targets is None:
                targets = scored
            else:
                targets = {
                    target: _merge(targets[target], fields)
                    for target, fields in scored.items()
                    if target in targets
                }
        for (kind, target_id), fields in (targets or {}).items():
            best = max(fields, key=lambda key: fields[key])
            yield Match(
                kind=kind,
                target_id=target_id,
                score=sum(fields.values()),
                best=self._fields[best],
            )

    def _tokens_for(self, term: str) -> list[str]:
        """The indexed tokens ``term`` matches: itself, and those it begins if it is a prefix."""
        if not is_prefix(term):
            return [term]
        # A scan of the vocabulary: the memory store serves tests and demos.
        return [token for token in self._postings if token.startswith(term)]


def _merge(left: Mapping[object, float], right: Mapping[object, float]) -> dict[object, float]:
    merged = dict(left)
    for key, score in right.items():
        merged[key] = merged.get(key, 0.0) + score
    return merged
