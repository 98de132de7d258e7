"""Masking card keys in free text that people write, before it is stored or shown.

    redact_keys(session: Session, vault: KeyVault, text: str) -> str

returns `text` with every card key in it replaced by its mask (`****` and its last four
characters, `keyvault.mask`: the form hints take everywhere). Nothing else changes. A span of
the text is a key when

- it *is* a key in the store (any product, any status): candidate tokens are fingerprinted with
  the vault's keyed hash in both forms a product may use (exact and case-insensitive) and looked
  up in the unique index on `card_keys.secret_hash`, one query per 500 fingerprints. Candidates
  are the text's tokens (split at blanks, CJK characters and the punctuation that surrounds a
  pasted key, with and without their outer punctuation) and, for keys printed in groups
  (`ABCD EFGH 2345 WXYZ`), runs of up to `MAX_GROUPS` neighbouring groups (3-8 letters and
  digits each, with a digit or in upper case, so ordinary words never form runs); or
- it *looks like* one (`looks_like_key`): three or more dash-separated groups of 4-8 letters and
  digits with a digit or in upper case (`ABCD-EFGH-2345-WXYZ`), or a run of 12 or more letters
  and digits with at least three of each (`X7KQ9P2M4R8T`). Order numbers such as
  `KM2026112200017`, phone numbers and ordinary words do not look like keys. Keys made of
  digits only (some point cards) are masked when they are in the store.

Cost: one HMAC per distinct candidate plus the lookups, and the session is only read (no
transaction is written); a reason of 500 characters takes well under a millisecond of hashing
and one query. Use it on all free text from people: reasons of reissues and refunds, notes,
chat transcripts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from fulfilment.keyvault import KeyVault, mask
from fulfilment.models import CardKey

MIN_KEY = 6  # shorter tokens are never looked up
MAX_KEY = 512  # the longest key an import accepts
MAX_GROUPS = 5  # a key printed in up to five blank-separated groups
LOOKUP_CHUNK = 500
_TOKEN = re.compile(r"[^\s\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]+")
_OUTER = "\"'`.,;:!?()[]{}<>*_~"
# A group of a key printed in blocks: 3-8 letters and digits, with a digit or in upper case.
_GROUP = re.compile(r"(?=[^a-z]*$|.*[0-9])[A-Za-z0-9]{3,8}")
_DASHED = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{4,8}(?:-[A-Za-z0-9]{4,8}){2,}(?![A-Za-z0-9])")
_SOLID = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{12,}(?![A-Za-z0-9])")

Span = tuple[int, int]


def redact_keys(session: Session, vault: KeyVault, text: str) -> str:
    """`text` with every stored or key-like card key masked (see the module docstring)."""
    if not text:
        return text
    masked = _replace(text, _stored_key_spans(session, vault, text))
    return _KEYLIKE.sub(_mask_if_keylike, masked)


def _mask_if_keylike(match: re.Match[str]) -> str:
    return mask(match.group()) if looks_like_key(match.group()) else match.group()


def looks_like_key(token: str) -> bool:
    """Whether `token` has the shape of a card key (grouped or a long mixed run)."""
    if _DASHED.fullmatch(token):
        return any(c.isdigit() for c in token) or token.upper() == token
    if _SOLID.fullmatch(token):
        letters = sum(c.isalpha() for c in token)
        return letters >= 3 and len(token) - letters >= 3
    return False


_KEYLIKE = re.compile(f"{_DASHED.pattern}|{_SOLID.pattern}")


def _candidates(text: str) -> Iterator[tuple[Span, str]]:
    """(span, text) of every token, of it without its outer punctuation, and of group runs."""
    words: list[Span] = []
    for match in _TOKEN.finditer(text):
        yield (match.start(), match.end()), match.group()
        stripped = match.group().strip(_OUTER)
        if not stripped:
            continue
        lead = match.start() + match.group().index(stripped)
        words.append((lead, lead + len(stripped)))
        if len(stripped) != len(match.group()):
            yield words[-1], stripped
    for i, (start, end) in enumerate(words):
        last = i
        while _GROUP.fullmatch(text[start:end]) and last + 1 < min(len(words), i + MAX_GROUPS):
            nxt = words[last + 1]
            if text[words[last][1] : nxt[0]].strip(" \t") or not _GROUP.fullmatch(
                text[nxt[0] : nxt[1]]
            ):
                break
            last += 1
            yield (start, nxt[1]), text[start : nxt[1]]


def _stored_key_spans(session: Session, vault: KeyVault, text: str) -> list[Span]:
    by_text: dict[str, list[Span]] = {}
    for span, candidate in _candidates(text):
        by_text.setdefault(candidate, []).append(span)
    by_hash: dict[str, list[Span]] = {}
    for candidate, spans in by_text.items():
        canonical = "".join(candidate.split())
        if not MIN_KEY <= len(canonical) <= MAX_KEY:
            continue
        # Exact products store the fingerprint of the key as written, the others of its
        # upper case (`keyvault.normalise`): one HMAC per distinct form.
        for form in {canonical, canonical.upper()}:
            digest = vault.fingerprint(form, case_sensitive=True)
            by_hash.setdefault(digest, []).extend(spans)
    hashes = list(by_hash)
    found: list[Span] = []
    for i in range(0, len(hashes), LOOKUP_CHUNK):
        chunk = hashes[i : i + LOOKUP_CHUNK]
        for digest in session.scalars(
            select(CardKey.secret_hash).where(CardKey.secret_hash.in_(chunk))
        ):
            found.extend(by_hash[digest])
    return found


def _replace(text: str, spans: list[Span]) -> str:
    """Mask the spans, the longest first where they overlap."""
    chosen: list[Span] = []
    for start, end in sorted(set(spans), key=lambda s: (s[0] - s[1], s[0])):
        if all(end <= a or start >= b for a, b in chosen):
            chosen.append((start, end))
    out, at = [], 0
    for start, end in sorted(chosen):
        out.append(text[at:start])
        out.append(mask(text[start:end]))
        at = end
    out.append(text[at:])
    return "".join(out)
