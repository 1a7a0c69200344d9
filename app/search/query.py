"""The small query language both engines answer, and the text helpers they share.

A query is words, "quoted phrases", `OR` between two of them, and `-word` or `-"phrase"`
(also `NOT word`) to leave something out. Anything else is read as words: there are no
field names, wildcards or ranges, so no input can reach an engine's own syntax. Parsing is
one linear pass, and the query is cut to a bounded number of items first.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

# Beyond this many words and phrases the rest of a query is ignored.
MAX_ITEMS = 32
# Typo correction: only words at least this long, at most this many edits away.
MIN_CORRECTABLE = 4

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)
# Characters no query or document needs: C0 controls (NUL included) and lone surrogates.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


@dataclass(frozen=True)
class Item:
    """A word (one token) or a phrase (several, in order). Tokens are lower-case \\w runs."""

    tokens: tuple[str, ...]
    quoted: bool = False

    @property
    def phrase(self) -> bool:
        return self.quoted or len(self.tokens) > 1

    def display(self) -> str:
        text = " ".join(self.tokens)
        return f'"{text}"' if self.phrase else text


@dataclass(frozen=True)
class ParsedQuery:
    """must: clauses that all have to match, each a list of alternatives (OR); must_not:
    items that may not appear."""

    must: tuple[tuple[Item, ...], ...] = ()
    must_not: tuple[Item, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.must

    def positive_tokens(self) -> list[str]:
        seen: dict[str, None] = {}
        for clause in self.must:
            for item in clause:
                for token in item.tokens:
                    seen.setdefault(token, None)
        return list(seen)

    def display(self) -> str:
        parts = [" OR ".join(item.display() for item in clause) for clause in self.must]
        parts += ["-" + item.display() for item in self.must_not]
        return " ".join(parts)

    def websearch(self, *, negative: bool = False) -> str:
        """The positive part (or the excluded items, OR-ed) as PostgreSQL websearch syntax.
        Tokens are \\w runs only, so the quotes and `or` written here are the only syntax."""
        if negative:
            return " or ".join(_websearch_item(item) for item in self.must_not)
        return " ".join(" or ".join(_websearch_item(item) for item in clause) for clause in self.must)

    def corrected(self, corrections: dict[str, str]) -> ParsedQuery:
        if not corrections:
            return self

        def fix(item: Item) -> Item:
            return Item(tuple(corrections.get(token, token) for token in item.tokens), item.quoted)

        return ParsedQuery(tuple(tuple(fix(item) for item in clause) for clause in self.must), self.must_not)


def _websearch_item(item: Item) -> str:
    text = " ".join(item.tokens)
    return f'"{text}"' if item.phrase else text


def clean(text) -> str:
    """Any value as text without control characters (NUL included) or lone surrogates."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    elif not isinstance(text, str):
        text = str(text)
    return _CONTROL.sub(" ", text)


def tokens_of(text: str) -> tuple[str, ...]:
    return tuple(match.group(0).lower() for match in _WORD.finditer(text))


def parse(text: str) -> ParsedQuery:
    """Read a query; never raises. Unbalanced quotes run to the end, stray operators are ignored."""
    must: list[list[Item]] = []
    must_not: list[Item] = []
    join_next = False  # the previous token was OR, after a wanted item
    negate_next = False  # the previous token was NOT
    previous_wanted = False  # the previous item went into must
    count = 0
    for match in _TOKEN.finditer(clean(text)):
        if count >= MAX_ITEMS:
            break
        minus, quoted, word = match.group(1), match.group(2), match.group(3)
        if word is not None:
            if word in ("OR", "or", "|"):
                join_next = previous_wanted and not negate_next
                continue
            if word in ("AND", "&", "+"):
                continue
            if word == "NOT":
                negate_next = True
                join_next = False
                continue
            negated = word.startswith("-") and len(word) > 1
            item_tokens = tokens_of(word[1:] if negated else word)
            item = Item(item_tokens) if item_tokens else None
        else:
            negated = bool(minus)
            item_tokens = tokens_of(quoted)
            item = Item(item_tokens, quoted=True) if item_tokens else None
        negated = negated or negate_next
        negate_next = False
        if item is None:
            join_next = previous_wanted = False
            continue
        count += 1
        if negated:
            must_not.append(item)
        elif join_next:
            must[-1].append(item)
        else:
            must.append([item])
        join_next = False
        previous_wanted = not negated
    return ParsedQuery(tuple(tuple(clause) for clause in must), tuple(must_not))


# --- Typo correction --------------------------------------------------------------------


def max_edits(word: str) -> int:
    if len(word) < MIN_CORRECTABLE or not word.isalpha():
        return 0
    return 1 if len(word) <= 5 else 2


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a swap of neighbours is one edit), or limit + 1
    as soon as it must exceed limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] | None = None
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        best = current[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if previous2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
            best = min(best, value)
        if best > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[len(b)]


def best_candidate(word: str, candidates) -> str | None:
    """The likeliest intended word among candidates (word, document frequency): each edit
    makes a word ten times less likely, and a word used in more documents is likelier, so a
    common word two edits away beats a rare one a single edit away."""
    limit = max_edits(word)
    if not limit:
        return None
    best = None
    for candidate, frequency in candidates:
        if candidate == word:
            continue
        distance = edit_distance(word, candidate, limit)
        if distance <= limit:
            key = (-max(frequency or 1, 1) / 10**distance, distance, candidate)
            best = key if best is None or key < best else best
    return best[2] if best else None


# --- Text helpers ------------------------------------------------------------------------

_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_TAG = re.compile(r"</?[A-Za-z][^<>\n]{0,200}>")
_MD_MARKS = re.compile(r"(^|\s)[#>*+\-]+(?=\s)|[*_`~]{1,3}|^\s*\d+\.\s", re.MULTILINE)
_SPACES = re.compile(r"\s+")
# Private-use characters the PostgreSQL engine uses to mark highlights; never in stored text.
MARK_START, MARK_END = "\ue000", "\ue001"


def plain_text(markdown_text: str | None) -> str:
    """Markdown as plain words for indexing and snippets (the snippet is escaped anyway)."""
    if not markdown_text:
        return ""
    text = clean(markdown_text).replace(MARK_START, " ").replace(MARK_END, " ")
    text = _MD_LINK.sub(r"\1", text)
    text = _TAG.sub(" ", text)
    text = _MD_MARKS.sub(r"\1", text)
    return _SPACES.sub(" ", html.unescape(text)).strip()


def join_text(*parts) -> str:
    return " ".join(part.strip() for part in parts if part and part.strip())


@dataclass
class Snippet:
    """Builds escaped HTML from plain text with marked spans."""

    parts: list[str] = field(default_factory=list)

    def text(self, value: str) -> None:
        self.parts.append(html.escape(value, quote=True))

    def mark(self, value: str) -> None:
        self.parts.append("<mark>" + html.escape(value, quote=True) + "</mark>")

    def html(self) -> str:
        return "".join(self.parts)


def snippet_from_spans(text: str, spans: list[tuple[int, int]], width: int = 220) -> str:
    """Escaped HTML around the first highlighted span (or the start of text), spans marked."""
    text = text or ""
    if not text:
        return ""
    start = 0
    if spans:
        first = spans[0][0]
        start = max(0, first - width // 4)
        if start:
            space = text.rfind(" ", 0, start)
            start = space + 1 if space >= 0 and start - space < 30 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.find(" ", end)
        end = space if 0 <= space - end < 30 else end
    out = Snippet()
    if start > 0:
        out.parts.append("… ")
    position = start
    for span_start, span_end in spans:
        if span_end <= position or span_start >= end:
            continue
        span_start = max(span_start, position)
        span_end = min(span_end, end)
        out.text(text[position:span_start])
        out.mark(text[span_start:span_end])
        position = span_end
    out.text(text[position:end])
    if end < len(text):
        out.parts.append(" …")
    return out.html()


def snippet_from_markers(marked: str) -> str:
    """Escaped HTML from text where MARK_START/MARK_END surround the highlights."""
    out = Snippet()
    inside = False
    for piece in re.split(f"([{MARK_START}{MARK_END}])", marked or ""):
        if piece == MARK_START:
            inside = True
        elif piece == MARK_END:
            inside = False
        elif piece:
            (out.mark if inside else out.text)(piece)
    return out.html()
