"""A corpus's own words, for correcting typos in queries: "jeens" -> "jeans", "tshrt" -> "tshirt".

Words are the raw (lowercase, unstemmed) alphanumeric runs of the texts, counted by document frequency; runs in CJK
script are left out (an edit of one Chinese character is another word, not a typo). A term is
corrected to the vocabulary word at the smallest edit distance (optimal string alignment: insertions, deletions,
substitutions, swaps of neighbours), ties broken by the more frequent word, then alphabetically. Allowed distance
grows with the term (as Lucene's fuzziness "AUTO"): none below 3 characters, 1 up to 5, 2 from 6.

Lookup is by deletions (SymSpell's idea): the index maps every word and every word with one character deleted to
the words it came from; a term's candidates are the entries hit by the term with up to two characters deleted.
That finds every word at distance 1 and, at distance 2, every pair except those where the word needs two
deletions (the term lacks two of its letters, or two substitutions). Building the index costs ~0.15 s per 40k
titles, paid once per index version at the first query with an unknown word.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

from recsys.index.tokenize import has_cjk

WORD = re.compile(r"[^\W_]+", re.UNICODE)  # the runs the lexical tokenizer splits text into


def max_edits(term: str) -> int:
    return 0 if len(term) < 3 else 1 if len(term) < 6 else 2


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _deletion_index(words: Iterable[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for word in words:
        for key in _deletions(word) | {word}:
            out.setdefault(key, []).append(word)
    return out


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance of ``a`` and ``b``; ``limit + 1`` once it is known to exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


class Vocabulary:
    def __init__(self, texts: Iterable[str]) -> None:
        self.frequency: Counter[str] = Counter()
        for text in texts:
            self.frequency.update({w for w in WORD.findall(text.lower()) if not has_cjk(w)})
        self._by_deletion = _deletion_index(self.frequency)

    @classmethod
    def from_counts(cls, frequency: Mapping[str, int]) -> Vocabulary:
        """The vocabulary whose texts had these word document frequencies (a saved one: counting the words of a
        million texts again is the slow part, the deletion index over their few thousand words is not)."""
        vocabulary = cls(())
        vocabulary.frequency = Counter({w: int(n) for w, n in frequency.items() if n > 0})
        vocabulary._by_deletion = _deletion_index(vocabulary.frequency)
        return vocabulary

    def words_for(self, key: str) -> list[str]:
        """The words that ``key`` is, or is with one character deleted."""
        return self._by_deletion.get(key, [])

    def __contains__(self, word: str) -> bool:
        return word in self.frequency

    def __len__(self) -> int:
        return len(self.frequency)

    def correction(self, term: str) -> str | None:
        """The vocabulary word ``term`` most likely is a typo of, or None (known word, too short, nothing close)."""
        term = term.lower()
        limit = max_edits(term)
        if not limit or term in self.frequency or term.isdigit() or has_cjk(term):
            return None
        keys = {term} | _deletions(term)
        if limit >= 2:
            keys |= {d for key in list(keys) for d in _deletions(key)}
        candidates = {word for key in keys for word in self.words_for(key) if self.frequency[word] > 0}
        best: tuple[int, int, str] | None = None
        for word in candidates:
            distance = edit_distance(term, word, limit)
            if distance <= limit:
                rank = (distance, -self.frequency[word], word)
                best = rank if best is None or rank < best else best
        return None if best is None else best[2]
