"""Dependency parses of single sentences, for reading the short answer.

Where a word stands in a sentence's grammar tells what it can answer: "Smith" in
"Smith signed the treaty" is the subject of "signed", which "who signed the treaty?"
asks for, however many words lie between them on the page. Only the sentence quoted
first is parsed, at answer time (~5-10 ms here), with the parser of the same spaCy
pipeline that tagged the index's entities; an index tagged without spaCy gets no
parse, and the short-answer model then reads words alone.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from dataclasses import dataclass
from typing import Callable

from rag.entities import SPACY_PACKAGE


@dataclass(frozen=True)
class Token:
    """One word of a parsed sentence: ``text[start:end]``, its relation to its head
    (``dep``: spaCy's labels, "nsubj", "dobj", "pobj" …), the head's position among the
    sentence's tokens (its own for the root) and its part of speech ("VERB", "PROPN" …)."""

    start: int
    end: int
    dep: str
    head: int
    pos: str


Parse = tuple[Token, ...]


class SpacyParser:
    """spaCy's small English pipeline without its NER, loaded on first use."""

    def __init__(self) -> None:
        self._nlp = None

    @property
    def nlp(self):
        if self._nlp is None:
            import importlib

            with _torch_hidden():
                # The tagger gives the parts of speech the parser's features use; NER and
                # the lemmatizer are not needed here.
                self._nlp = importlib.import_module(SPACY_PACKAGE).load(exclude=["ner", "lemmatizer"])
        return self._nlp

    @functools.lru_cache(maxsize=1024)  # noqa: B019 - one parser per process; a follow-up quotes the same sentences
    def __call__(self, text: str) -> Parse:
        doc = self.nlp(text)
        return tuple(Token(t.idx, t.idx + len(t.text), t.dep_, t.head.i, t.pos_) for t in doc)


@contextlib.contextmanager
def _torch_hidden():
    """spaCy's thinc imports torch whenever it is installed, for layers the small
    pipeline never uses: 4-6 s and a few hundred MB in a process that answers without
    torch (queries are encoded with ONNX). Hidden while spaCy loads, torch still imports
    as usual afterwards; where it is already loaded, it is left as it is."""
    if "torch" in sys.modules:
        yield
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # import torch → ImportError
    try:
        yield
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]


@functools.lru_cache(maxsize=2)
def parser_for(tagger: str | None) -> Callable[[str], Parse] | None:
    """The parser that goes with an index's entity tagger ("spacy:…"), or None: an index
    tagged by rules or not at all is read without a parse (and without loading spaCy)."""
    if not tagger or not tagger.startswith("spacy"):
        return None
    try:
        import importlib.util

        if importlib.util.find_spec(SPACY_PACKAGE) is None:
            return None
    except (ImportError, ValueError):
        return None
    return SpacyParser()


def warm(tagger: str | None) -> None:
    """Load the parser that goes with ``tagger`` now (a few seconds), so that the first
    short answer doesn't wait for it."""
    parse = parser_for(tagger)
    if parse is not None:
        parse("The parser is ready.")
