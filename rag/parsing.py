"""Dependency parses of single sentences, for reading the short answer.

Where a word stands in a sentence's grammar tells what it can answer: "Smith" in
"Smith signed the treaty" is the subject of "signed", which "who signed the treaty?"
asks for, however many words lie between them on the page. Only the sentence quoted
first is parsed, at answer time (~5-10 ms here), with the parser of the same spaCy
pipeline that tagged the index's entities; an index tagged without spaCy gets no
parse, and the short-answer model then reads words alone.
"""

from __future__ import annotations

import functools
import logging
import sys
import threading
from dataclasses import dataclass
from typing import Callable

from rag.entities import SPACY_PACKAGE

log = logging.getLogger(__name__)


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
    """spaCy's small English pipeline without its NER, loaded on first use (or ahead of
    it, by ``preload``). If it can't load, sentences are read without a parse, as for an
    index tagged by rules: answering never fails for want of one."""

    def __init__(self) -> None:
        self._nlp = None
        self._failed = False
        self._lock = threading.Lock()
        # A follow-up quotes the same sentences again: each is parsed once.
        self._parse = functools.lru_cache(maxsize=1024)(self._parse_uncached)

    @property
    def nlp(self):
        with self._lock:  # a preloading thread may be at it: wait for it, don't load twice
            if self._nlp is None and not self._failed:
                import importlib

                try:
                    _thinc_without_torch()
                    # The tagger gives the parts of speech the parser's features use; NER
                    # and the lemmatizer are not needed here.
                    self._nlp = importlib.import_module(SPACY_PACKAGE).load(exclude=["ner", "lemmatizer"])
                except Exception as error:  # noqa: BLE001 - any failure: answer without a parse
                    self._failed = True
                    log.warning("spaCy's parser did not load (%s); short answers are read without it", error)
        return self._nlp

    def preload(self) -> None:
        """Start loading in the background (~2 s), unless loaded or loading already."""
        if self._nlp is None and not self._lock.locked():
            _thinc_without_torch()  # here, not on the other thread: see _thinc_without_torch
            threading.Thread(target=lambda: self.nlp, name="rag-parser-load", daemon=True).start()

    def __call__(self, text: str) -> Parse | None:
        return self._parse(text)

    def _parse_uncached(self, text: str) -> Parse | None:
        nlp = self.nlp
        if nlp is None:
            return None
        return tuple(Token(t.idx, t.idx + len(t.text), t.dep_, t.head.i, t.pos_) for t in nlp(text))


_HIDING = threading.Lock()


def _thinc_without_torch() -> None:
    """spaCy's thinc imports torch whenever it is installed (in ``thinc.compat``), for
    layers the small pipeline never uses: 4-6 s and a few hundred MB in a process that
    answers without torch (queries are encoded with ONNX). So ``thinc.compat`` is imported
    once with torch hidden; torch imports as usual afterwards, and where it is loaded
    already, nothing is hidden. Called on the thread that asked for the parser, never on
    a loading thread: hidden there, torch would fail to import for the rest of the process
    for as long as it takes (~0.4 s)."""
    with _HIDING:
        if "thinc.compat" in sys.modules or "torch" in sys.modules:
            return
        sys.modules["torch"] = None  # type: ignore[assignment]  # import torch → ImportError
        try:
            import thinc.compat  # noqa: F401
        finally:
            if sys.modules.get("torch", 0) is None:
                del sys.modules["torch"]


def parser_for(tagger: str | None) -> "Callable[[str], Parse | None] | None":
    """The parser that goes with an index's entity tagger ("spacy:…"), or None: an index
    tagged by rules or not at all is read without a parse (and without loading spaCy)."""
    if not tagger or not tagger.startswith("spacy"):
        return None
    return _spacy_parser()


@functools.cache
def _spacy_parser() -> SpacyParser | None:
    """The one spaCy parser of the process (None when the package isn't installed)."""
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


def preload(tagger: str | None) -> None:
    """Start loading the parser that goes with ``tagger`` on another thread: a fresh
    process (``rag ask``) then loads spaCy while it retrieves and scores, instead of
    after (on the command line, ~1.1 s before the parse and ~3 s with it loaded in turn)."""
    parse = parser_for(tagger)
    if isinstance(parse, SpacyParser):
        parse.preload()
