"""Read a search query and match it: its words, their looser forms, the SQL conditions, tiers.

A query splits into words at whitespace and where Chinese meets other text; a run of Chinese
characters is one word, matched as a substring (`存款` finds 存款余额 and 定期存款余额).
Looser forms, used when a word is not in the index as typed: typo corrections of a Latin
word (edit distance 1 from 4 letters, 2 from 8, towards the index's vocabulary) and, for a
Chinese word of three characters or more, most of its character pairs in a title.

`match_clause` and `visible_clause` are the SQL conditions of a candidate document;
`text_matcher` rates one in Python. Tiers, best first: the exact title or key; a title
starting with the query; the query inside a title; the pinyin initials or full pinyin
(`ckye` -> 存款余额); every word in a title; every word in the body (description, columns,
owner); typo corrections or pairs in a title; in the body. The score is `10 * tier +
title coverage (0..1) + min(log1p(views in 30 days), 6)`: coverage and popularity order
results within a tier and never lift one above a better tier.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from itertools import combinations

from sqlalchemy import and_, literal_column, or_, select, table, true

from portal.models import Grant
from portal.services.grants import IMPLIED, subject_clause
from portal.services.search_index import (
    CJK_CHARS,
    CJK_RE,
    GRAM_MARK,
    TITLE_SEPARATOR,
    Vocabulary,
    allowed_typos,
    fold,
    gram,
    search_documents,
)

# Every logged-in user finds metrics and datasets; a dataset they may not read is marked locked.
OPEN_TYPES = frozenset({"metric", "dataset"})
MAX_WORDS = 8
MAX_BIGRAMS = 6
BIGRAM_SHARE = 0.6
TIER_GAP = 10.0
POPULARITY_CAP = 6.0
CAPPED_VIEWS = 403  # log1p(403) > POPULARITY_CAP > log1p(402)
EDGE_PUNCTUATION = "\"'`“”‘’()[]{}<>,.;:!?，。；：！？、（）【】《》「」…·"
RUN_RE = re.compile(f"[{CJK_CHARS}]+|[^{CJK_CHARS}]+")
PINYIN_RE = re.compile(r"[a-z]{2,}")
d = search_documents.c


class Tier(IntEnum):
    """How well a document's text matches a query; a better tier always ranks first."""

    FUZZY = 1
    FUZZY_TITLE = 2
    BODY = 3
    WORDS_IN_TITLE = 4
    PINYIN_PART = 5
    PINYIN = 6
    PHRASE = 7
    PREFIX = 8
    EXACT = 9


# -- the query ----------------------------------------------------------------------------------
@dataclass
class Word:
    """One word of the query, with the looser forms it may also match."""

    text: str
    cjk: bool
    variants: tuple[str, ...] = ()  # spellings within the allowed typos
    bigrams: tuple[str, ...] = ()  # a Chinese word of 3+ characters may match in part
    need: int = 0  # how many of the bigrams

    @property
    def loose(self) -> bool:
        return bool(self.variants or self.bigrams)

    def found_in(self, text: str) -> bool:
        """Return whether the word, a typo correction or enough of its pairs is in text."""
        if self.text in text or any(v in text for v in self.variants):
            return True
        return bool(self.bigrams) and sum(b in text for b in self.bigrams) >= self.need

    def exact_needle(self) -> str:
        """Return what a document holds when it holds the word: short Chinese as a gram."""
        return gram(self.text) if self.cjk and len(self.text) < 3 else self.text

    def alternatives(self) -> list[str]:
        """Return the substrings of which a document must hold one to hold the word.

        The word as typed (a short Chinese word as its padded gram) or a typo correction.
        """
        return [self.exact_needle(), *self.variants]

    def pair_sets(self) -> list[tuple[str, ...]]:
        """Return the sets of padded pairs of which the titles must hold one, to match in part."""
        return (
            list(combinations([gram(b) for b in self.bigrams], self.need)) if self.bigrams else []
        )


@dataclass
class ParsedQuery:
    """A query as search reads it: its phrase and its words."""

    phrase: str  # folded, edge punctuation removed, single spaces
    compact: str  # the phrase without spaces
    words: list[Word]

    @property
    def chinese(self) -> bool:
        return any(w.cjk for w in self.words)

    @property
    def loose(self) -> bool:
        return any(w.loose for w in self.words)

    @property
    def may_be_pinyin(self) -> bool:
        return PINYIN_RE.fullmatch(self.compact) is not None


def parse_query(q: str) -> ParsedQuery:
    """Split a query into words: at whitespace and where Chinese meets other text."""
    parts, words, seen = [], [], set()
    for raw in fold(q).split(" "):
        raw = raw.strip(EDGE_PUNCTUATION)
        if not raw:
            continue
        parts.append(raw)
        for run in RUN_RE.findall(raw):
            run = run.strip(EDGE_PUNCTUATION)
            if run and run not in seen and len(words) < MAX_WORDS:
                seen.add(run)
                words.append(Word(run, cjk=CJK_RE.match(run) is not None))
    phrase = " ".join(parts)
    return ParsedQuery(phrase=phrase, compact=phrase.replace(" ", ""), words=words)


def bigrams(text: str) -> tuple[str, ...]:
    """Return the character pairs a long Chinese word may match in part (at most six).

    Overlapping pairs for words of three or four characters (存款余额: 存款 款余 余额), pairs
    side by side for longer ones (杭州不良贷款: 杭州 不良 贷款), which keeps the number of
    pair sets to look up small.
    """
    step = 1 if len(text) <= 4 else 2
    pairs = [text[i : i + 2] for i in range(0, len(text) - 1, step)]
    return tuple(dict.fromkeys(pairs))[:MAX_BIGRAMS]


def loosen(query: ParsedQuery, words: Callable[[], Vocabulary]) -> None:
    """Give unknown Latin words their typo corrections and long Chinese words their pairs.

    `words` returns the index's vocabulary; it is called only if a word may have typos.
    """
    for word in query.words:
        if word.cjk and len(word.text) >= 3:
            word.bigrams = bigrams(word.text)
            word.need = math.ceil(BIGRAM_SHARE * len(word.bigrams))
        elif not word.cjk and allowed_typos(word.text) and not words().knows(word.text):
            word.variants = tuple(words().similar(word.text))


# -- matching in SQL ----------------------------------------------------------------------------
def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(column, value: str):
    return column.like(f"%{_escape_like(value)}%", escape="\\")


def in_body(needle: str):
    """Return the SQL condition: the body (or its Chinese grams, for a gram) holds `needle`."""
    return _contains(d.grams if GRAM_MARK in needle else d.body, needle)


def _fts_phrase(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _fts(expression: str):
    matched = (
        select(literal_column("rowid"))
        .select_from(table("search_fts"))
        .where(literal_column("search_fts").op("MATCH")(expression))
    )
    return d.resource_id.in_(matched)


def _in_part(word: Word):
    """Return the SQL condition: the titles hold enough of the word's character pairs."""
    return or_(*(and_(*(_contains(d.title_grams, g) for g in p)) for p in word.pair_sets()))


def match_clause(words: list[Word], fts: bool):
    """Return the SQL condition: the document holds every word (or a looser form of it).

    With FTS5 every needle of three or more characters goes into one MATCH expression (the
    pairs of a long Chinese word against `title_grams`); shorter ones (Latin words of one or
    two letters) are LIKE scans, as is everything without FTS5.
    """
    clauses, fts_terms = [], []
    for word in words:
        alternatives, pair_sets = word.alternatives(), word.pair_sets()
        if fts and all(len(n) >= 3 for n in alternatives):
            term = " OR ".join(map(_fts_phrase, alternatives))
            if pair_sets:
                sets = " OR ".join("(" + " AND ".join(map(_fts_phrase, p)) + ")" for p in pair_sets)
                term += f" OR (title_grams : ({sets}))"
            fts_terms.append(term)
        else:
            found = [in_body(n) for n in alternatives] + ([_in_part(word)] if pair_sets else [])
            clauses.append(or_(*found))
    if fts_terms:
        clauses.append(_fts(" AND ".join(f"({t})" for t in fts_terms)))
    return and_(*clauses)


def granted_view(user, now: datetime):
    """Return a subquery of the resource ids the user holds a current view (or better) grant on."""
    return select(Grant.resource_id).where(
        Grant.permission.in_(IMPLIED["view"]),
        or_(Grant.expires_at.is_(None), Grant.expires_at > now),
        subject_clause(user),
    )


def visible_clause(user, now: datetime):
    """Return the SQL condition: the user may find the document's resource.

    Metrics and datasets: everyone. Anything else: its owner, holders of a view grant, or
    everyone once published (spec.published is true).
    """
    return or_(
        d.type.in_(OPEN_TYPES),
        d.published == true(),
        d.owner_id == user.id,
        d.resource_id.in_(granted_view(user, now)),
    )


def in_titles_clause(word: Word):
    """Return the SQL condition: the titles hold the word, a typo correction or enough pairs."""
    found = [_contains(d.titles, n) for n in (word.text, *word.variants)]
    return or_(*found, *([_in_part(word)] if word.bigrams else []))


# -- rating -----------------------------------------------------------------------------------
# A candidate: (resource id, views, type, domain, owner, exact, titles). `exact` is '1' when
# the body holds every word as typed (a loose query only), `titles` is TITLE_SEPARATOR-joined.
RID, VIEWS, TYPE, DOMAIN, OWNER, EXACT, TITLES = range(7)


def text_matcher(query: ParsedQuery):
    """Return a function rating a candidate's text: (tier, title coverage 0..1) or None.

    Called for every candidate, so the query's properties are worked out once, here.
    """
    phrase, compact, words = query.phrase, query.compact, query.words
    texts = [w.text for w in words]
    n_phrase, n_compact = len(phrase), len(compact)
    pinyin_query, chinese, loose = query.may_be_pinyin, query.chinese, query.loose
    spaced = phrase != compact

    def match(c) -> tuple[Tier, float] | None:
        title_zh, title_en, name, initials, pinyin = c[TITLES].split(TITLE_SEPARATOR)
        if phrase in (title_zh, title_en, name):
            return Tier.EXACT, 1.0
        if spaced and compact == title_zh.replace(" ", ""):
            return Tier.EXACT, 1.0
        for title in (title_zh, title_en):
            if title.startswith(phrase):
                return Tier.PREFIX, n_phrase / len(title)
        for title in (title_zh, title_en, name):
            if phrase in title:
                return Tier.PHRASE, n_phrase / len(title)
        if pinyin_query and initials:
            if compact in (initials, pinyin):
                return Tier.PINYIN, 1.0
            for form in (initials, pinyin):
                if compact in form:
                    return Tier.PINYIN_PART, n_compact / len(form)
        titles = f"{title_zh}\n{title_en}\n{name}"
        primary = (title_zh or title_en) if chinese else (title_en or title_zh)
        coverage = min(1.0, n_compact / len(primary)) if primary else 0.0
        if all(t in titles for t in texts):
            return Tier.WORDS_IN_TITLE, coverage
        if not loose or c[EXACT] == "1":
            return Tier.BODY, 0.0  # SQL found every word, exactly, in the body
        if all(w.found_in(titles) for w in words):
            return Tier.FUZZY_TITLE, coverage
        return Tier.FUZZY, 0.0

    return match


POPULARITY = [min(math.log1p(v), POPULARITY_CAP) for v in range(CAPPED_VIEWS)]


def score(tier: Tier, coverage: float, views: int) -> float:
    """Return 10 * tier + coverage + min(log1p(views), 6): popularity never beats a tier."""
    views = max(views, 0)
    popularity = POPULARITY[views] if views < CAPPED_VIEWS else POPULARITY_CAP
    return tier * TIER_GAP + coverage + popularity
