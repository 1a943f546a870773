"""What a reader reads of a text that carries markup: Markdown links, code marks, URLs.

"[orjson.dumps()](https://github.com/ijl/orjson#serialize) is something like 10x as
fast" reads as "orjson.dumps() is something like 10x as fast". The address and the
marks are no words of the sentence: embedded or counted as keywords, they pull every
passage holding a link towards every other (they share "https", "github", "com").

``readable`` blanks them with spaces, keeping every character where it was, so that
the offsets of sentences, entities and citations hold in both texts: passages are
stored, shown and quoted as written; only what the embedding model and the keyword
index read is the readable text.
"""

from __future__ import annotations

import re

# A Markdown link or image: keep the words in brackets, blank the brackets and the address.
_LINK = re.compile(r"!?\[([^\]\n]*)\]\(([^)\s]*)(?:\s+\"[^\"\n]*\")?\)")
# A bare address, or one in angle brackets.
_URL = re.compile(r"<?\b(?:https?://|www\.)[^\s<>)\]]+>?")
# Inline code marks, emphasis marks and HTML tags; a heading's leading hashes.
_TAG = r"</?[A-Za-z][\w-]*(?:\s+[\w-]+(?:=(?:\"[^\"\n]*\"|'[^'\n]*'|[^\s>]+))?)*\s*/?>"
_MARKS = re.compile(r"`+|\*\*+|__+|" + _TAG + r"|^#{1,6}(?=\s)", re.M)

_ANY_MARK = re.compile(r"[\[`*<#]|__|://|www\.")


def readable(text: str) -> str:
    """``text`` with its markup blanked by spaces (same length, same offsets).

    >>> readable("[orjson.dumps()](https://github.com/ijl/orjson) is `fast`")
    ' orjson.dumps()                                 is  fast '
    """
    if not _ANY_MARK.search(text):
        return text  # plain prose, as most passages are: nothing to blank
    text = _LINK.sub(lambda m: _keep(m, 1), text)
    text = _URL.sub(lambda m: " " * len(m.group(0)), text)
    return _MARKS.sub(lambda m: " " * len(m.group(0)), text)


def _keep(match: re.Match, group: int) -> str:
    """The match blanked but for one group, left where it stands."""
    before = match.start(group) - match.start()
    return " " * before + match.group(group) + " " * (match.end() - match.end(group))
