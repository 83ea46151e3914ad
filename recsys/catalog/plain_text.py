"""What counts as acceptable plain text, for every field anyone types: one rule set, used by ``validation``.

Each check appends a reason to ``problems`` instead of raising, so a caller collects every problem of an item
at once. Control characters are removed, line breaks normalised; anything else that is wrong is refused, never
silently rewritten: markup, characters that disguise text (bidirectional overrides), invalid code points, text
that is empty once invisible characters are ignored.
"""

from __future__ import annotations

import numbers
import re
import unicodedata
from typing import Any

# C0 and C1 control characters except tab and line breaks (those are handled as whitespace below).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")
_LINE_BREAKS = re.compile(r"\r\n|[\r\x85\u2028\u2029]")
# Embeddings, overrides and isolates: they reorder what a reader sees ("Trojan source", U+202E file names).
_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Characters that render as nothing although Unicode does not class them as format or space characters.
_BLANK_LETTERS = frozenset("\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0")
# Combining marks are not in it: a word may end in one (Devanagari virama), so trimming must keep them.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})

# Elements of HTML, SVG and MathML that a browser acts on; ``size <M>`` or ``<USB-C>`` name none of them.
_ELEMENTS = frozenset(
    """
a abbr acronym address applet area article aside audio b base basefont bdi bdo bgsound big blink blockquote body
br button canvas caption center cite code col colgroup data datalist dd del details dfn dialog dir div dl dt em
embed fieldset figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html i
iframe image img input ins isindex kbd keygen label layer legend li link listing main map mark marquee math menu
meta meter nav nobr noembed noframes noscript object ol optgroup option output p param picture plaintext portal
pre progress q rp rt ruby s samp script search section select slot small source span strike strong style sub
summary sup svg table tbody td template textarea tfoot th thead time title tr track tt u ul var video wbr xmp
animate foreignobject set use
""".split()
)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)(?=[\s/>]|$)([^<>]*)(>?)")
_ATTRIBUTE = re.compile(r"[\s/][^\s/=<>\"']+\s*=")
_DECLARATION = re.compile(r"<!--|<!\[CDATA\[|<![A-Za-z]|<\?[A-Za-z]")


def kind_of(value: Any) -> str:
    """How a value's type reads to a merchant: 'text', 'a number', 'a list', 'true'..."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true" if value else "false"  # JSON's spelling: the merchant typed it in a JSON file
    if isinstance(value, str):
        return "text"
    if isinstance(value, numbers.Number):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def shown(value: Any, limit: int = 40) -> str:
    """A short, safe echo of a value for a message (the whole value may be megabytes)."""
    text = str(value).lower() if isinstance(value, bool) else repr(value)
    text = _CONTROL.sub("", _SURROGATE.sub("\ufffd", text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def as_text(value: Any, name: str, problems: list[str], *, allow_numbers: bool = False) -> str | None:
    """The value as a string, or None (with a reason) when it is not text.

    None means "not given" and becomes "". Whole numbers are text when ``allow_numbers`` (ids, attribute values:
    a JSON ``"id": 123``); other types are refused rather than stringified into "{'a': 1}" or "['a']".
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if allow_numbers and isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(int(value))
    problems.append(f"{name} must be text, not {kind_of(value)}")
    return None


def is_visible(char: str) -> bool:
    return unicodedata.category(char) not in _INVISIBLE_CATEGORIES and char not in _BLANK_LETTERS


def _strip_invisible(text: str) -> str:
    start, end = 0, len(text)
    while start < end and not is_visible(text[start]):
        start += 1
    while end > start and not is_visible(text[end - 1]):
        end -= 1
    return text[start:end]


def contains_markup(text: str) -> bool:
    """True for HTML markup: a tag of a real element (``<b>``, ``</div>``, ``<img src=x>``), a tag with
    attributes, a comment or declaration. Angle brackets around other words (``size <M>``) are plain text.

    A one-letter element (``<S>``, ``<b>``) counts when it has attributes or its closing tag is also there:
    alone it is far more often a size than a strike-through.
    """
    if _DECLARATION.search(text):
        return True
    lowered = text.lower()
    for match in _TAG.finditer(text):
        closing, name, rest, closed = match.group(1), match.group(2).lower(), match.group(3), match.group(4)
        if _ATTRIBUTE.search(rest):
            return True  # <x onclick=...>, known element or not
        if name not in _ELEMENTS:
            continue
        if len(name) > 1 and (closed or not rest.strip()):
            return True
        if closing or f"</{name}" in lowered[match.end() :]:
            return True
    return False


def clean_text(
    value: Any,
    name: str,
    max_chars: int,
    problems: list[str],
    *,
    required: bool = False,
    multiline: bool = False,
    allow_numbers: bool = False,
) -> str:
    """One text field, cleaned (control characters dropped, NFC, edges trimmed) or refused with reasons.

    One-line fields (titles, ids, names) refuse line breaks: in a CSV a line break inside a title is the mark of
    a quote that was never closed, and in a heading it would end the heading.
    """
    raw = as_text(value, name, problems, allow_numbers=allow_numbers)
    if raw is None:
        return ""
    if _SURROGATE.search(raw):
        problems.append(f"{name} holds an invalid character (a lone UTF-16 surrogate)")
        return ""
    text = unicodedata.normalize("NFC", _CONTROL.sub("", _LINE_BREAKS.sub("\n", raw)))
    bidi = _BIDI_CONTROL.search(text)  # before trimming: one at an edge is refused too, not silently dropped
    text = _strip_invisible(text)
    if required and not text:
        problems.append(f"{name} is required" + (" (it holds only invisible characters)" if raw.strip() else ""))
    if not multiline and "\n" in text:
        problems.append(f"{name} holds a line break; it must be one line")
    if len(text) > max_chars:
        problems.append(f"{name} is {len(text)} characters, over the {max_chars} limit")
    if bidi:
        problems.append(
            f"{name} holds a bidirectional control character (U+{ord(bidi.group()):04X}) that can disguise text"
        )
    if contains_markup(text):
        problems.append(f"{name} contains HTML markup; plain text only")
    return text
