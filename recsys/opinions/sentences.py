"""Split review text into sentences: the unit an aspect opinion is detected on.

Reviews mix several opinions ("Love the colour. Runs small though."); one label per review would blur them, so
each sentence is classified on its own. A plain rule (end punctuation then whitespace, a line break, or CJK
end punctuation) is enough for review prose (which is often lower-cased after
its first word, so no capital is required) and keeps every sentence a verbatim span of the review, which is what
a quote must be.
"""

from __future__ import annotations

import re

# After . ! ? (or a run of them) and whitespace; or after CJK end marks; or at a line break.
_BOUNDARY = re.compile(r"(?<=[.!?])\s+|(?<=[。！？；])|\s*[\r\n]+\s*")
MIN_CHARS = 3  # "Ok." is a sentence; "." or "a" is not
MAX_CHARS = 400  # run-on text is cut into pieces this long at most, at a word boundary


def _cut(piece: str) -> list[str]:
    out: list[str] = []
    while len(piece) > MAX_CHARS:
        cut = piece.rfind(" ", 0, MAX_CHARS)
        cut = cut if cut > 0 else MAX_CHARS
        out.append(piece[:cut].strip())
        piece = piece[cut:].strip()
    return [*out, piece] if piece else out


def split_sentences(text: str) -> list[str]:
    """Verbatim sentences of ``text`` in order (whitespace trimmed); empty text gives []."""
    pieces = _BOUNDARY.split(text or "")
    return [s for p in pieces for s in _cut(p.strip()) if len(s) >= MIN_CHARS]


def review_sentences(title: str, text: str) -> list[str]:
    """The title (a one-line verdict such as "Runs small") counts as a sentence, then the body's sentences."""
    title = (title or "").strip()
    return ([title] if len(title) >= MIN_CHARS else []) + split_sentences(text)
