"""Dependency parses of single sentences, for reading the short answer.

Where a word stands in a sentence's grammar tells what it can answer: "Smith" in
"Smith signed the treaty" is the subject of "signed", which "who signed the treaty?"
asks for, however many words lie between them on the page. The sentence quoted first
is read with the parser of the same spaCy pipeline that tagged the index's entities;
an index tagged without spaCy gets no parse, and the short-answer model then reads
words alone.

Loading spaCy takes 2-3 s, which a one-off ``rag ask`` would spend on one sentence. So
indexing parses every quotable sentence once and keeps the parses beside the index
(``parses.sqlite``, by a hash of the sentence's text and the pipeline's version): an
answer reads its sentence's parse from there, and loads spaCy only for a sentence the
index has no parse of (an index built before parses were stored, or one too large to
store them for).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import sqlite3
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
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
        return _tokens(nlp(text))

    def parse_many(self, texts: list[str]) -> list[Parse] | None:
        """The parses of ``texts``, in order, in batches (indexing); None if spaCy can't load."""
        nlp = self.nlp
        if nlp is None:
            return None
        return [_tokens(doc) for doc in nlp.pipe(texts, batch_size=256)]


def _tokens(doc) -> Parse:
    return tuple(Token(t.idx, t.idx + len(t.text), t.dep_, t.head.i, t.pos_) for t in doc)


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


def parser_for(tagger: str | None, index: "str | Path | None" = None) -> "Callable[[str], Parse | None] | None":
    """The parser that goes with an index's entity tagger ("spacy:…"), or None: an index
    tagged by rules or not at all is read without a parse (and without loading spaCy).
    With the ``index`` folder, the parses stored there are read first."""
    if not tagger or not tagger.startswith("spacy"):
        return None
    spacy = _spacy_parser()
    if index is None:
        return spacy
    return _StoredFirst(_stored(str(Path(index).resolve())), spacy)


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


def warm(tagger: str | None, index: "str | Path | None" = None) -> None:
    """Load the parser that goes with ``tagger`` now (a few seconds), so that the first
    short answer doesn't wait for it."""
    parse = _needed(tagger, index)
    if parse is not None:
        parse("The parser is ready.")


def preload(tagger: str | None, index: "str | Path | None" = None) -> None:
    """Start loading the parser that goes with ``tagger`` on another thread: a fresh
    process (``rag ask``) then loads spaCy while it retrieves and scores, instead of after."""
    parse = _needed(tagger, index)
    if parse is not None:
        parse.preload()


def _needed(tagger: str | None, index: "str | Path | None") -> SpacyParser | None:
    """The spaCy parser that answers over this index will load: none for an index tagged
    without spaCy (its store is not even looked at), nor for one that stores its parses."""
    parse = parser_for(tagger)
    if not isinstance(parse, SpacyParser) or (index is not None and has_parses(index)):
        return None
    return parse


# -- parses stored beside the index ---------------------------------------------------------

PARSES_FILE = "parses.sqlite"
# Parses are stored for each sentence of the passages indexed, in batches of this many.
_STORE_BATCH = 2048


@functools.cache
def pipeline_version() -> str | None:
    """What the parses depend on: spaCy's and its pipeline's versions (None: not installed).
    Read from the packages' metadata, so that checking it doesn't import spaCy; once per
    process, since every answer asks (~2 ms a read)."""
    from importlib import metadata

    try:
        return f"spacy {metadata.version('spacy')}; {SPACY_PACKAGE} {metadata.version(SPACY_PACKAGE.replace('_', '-'))}"
    except metadata.PackageNotFoundError:
        return None


def _key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def store_parses(index: "str | Path", sentences: Iterable[str], tagger: str | None) -> int:
    """Make the parses stored beside the index at ``index`` those of ``sentences`` (its
    quotable sentences): parse the ones it has no parse of, drop the others. Returns how
    many were parsed. An index tagged without spaCy gets none. Parses of another pipeline
    version are dropped first: they would differ.

    The store is marked complete (its ``pipeline`` row) only once every sentence has its
    parse, so a pass that fails leaves it to be finished by the next sync, and answers
    meanwhile load spaCy as before. Written in batches, each its own transaction, in WAL
    mode: answering threads go on reading while a sync writes."""
    parser = parser_for(tagger)
    version = pipeline_version()
    if not isinstance(parser, SpacyParser) or version is None:
        return 0
    wanted = {_key(text): text for text in sentences}
    with contextlib.closing(sqlite3.connect(Path(index) / PARSES_FILE, timeout=30)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        with db:
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS parses (key BLOB PRIMARY KEY, tokens TEXT NOT NULL)")
            row = db.execute("SELECT value FROM meta WHERE key = 'pipeline'").fetchone()
            if row is None or row[0] != version:
                db.execute("DELETE FROM meta")
                if row is not None:
                    db.execute("DELETE FROM parses")
        known = {key for (key,) in db.execute("SELECT key FROM parses")}
        stale = [(key,) for key in known - wanted.keys()]
        missing = [key for key in wanted if key not in known]
        with db:
            db.executemany("DELETE FROM parses WHERE key = ?", stale)
        for first in range(0, len(missing), _STORE_BATCH):
            part = missing[first : first + _STORE_BATCH]
            parses = parser.parse_many([wanted[key] for key in part])
            if parses is None:
                raise RuntimeError("spaCy's parser did not load")
            with db:
                db.executemany(
                    "INSERT OR REPLACE INTO parses VALUES (?, ?)",
                    [(key, json.dumps([[t.start, t.end, t.dep, t.head, t.pos] for t in parse], separators=(",", ":")))
                     for key, parse in zip(part, parses)],
                )
        with db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('pipeline', ?)", (version,))
    _stored(str(Path(index).resolve())).forget()
    return len(missing)


def has_parses(index: "str | Path") -> bool:
    """Whether the index at ``index`` has its complete set of parses, as this spaCy gives them."""
    return _stored(str(Path(index).resolve())).usable()


# How long an answer waits for a sync writing the parses before parsing the sentence itself.
_READ_TIMEOUT = 0.05


class _StoredParses:
    """The parses stored beside one index, read-only; opened when first needed and only if
    complete and of this pipeline's version. A store found missing or incomplete is looked
    at again when its files change (a sync of this or another process wrote them)."""

    def __init__(self, folder: str) -> None:
        self._path = Path(folder) / PARSES_FILE
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._seen: tuple | None = None  # the files' state when last found unusable

    def forget(self) -> None:
        """Look at the file again on next use (after indexing wrote to it)."""
        with self._lock:
            self._close()
            self._seen = None

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
        self._db = None

    def _state(self) -> tuple:
        state = []
        for path in (self._path, self._path.with_name(PARSES_FILE + "-wal")):
            try:
                found = path.stat()
                state.append((found.st_mtime_ns, found.st_size))
            except OSError:
                state.append(None)
        return tuple(state)

    def _open(self) -> sqlite3.Connection | None:
        if self._db is not None and not self._path.exists():  # deleted (a cache): look again
            self._close()
        if self._db is not None:
            return self._db
        state = self._state()
        if state == self._seen or state[0] is None:
            self._seen = state
            return None
        self._seen = state
        db = None
        try:
            db = sqlite3.connect(f"{self._path.as_uri()}?mode=ro", uri=True, check_same_thread=False, timeout=_READ_TIMEOUT)
        except sqlite3.Error as error:
            log.info("the stored parses %s are not readable now (%s); sentences are parsed as needed", self._path, error)
            return None
        if not _complete(db):
            db.close()
            return None
        self._db, self._seen = db, None
        return db

    def usable(self) -> bool:
        """Whether the store is complete and of this pipeline, asked of the file now (a
        sync may have begun to rewrite it since it was opened)."""
        with self._lock:
            db = self._open()
            if db is not None and not _complete(db):
                self._close()
                return False
            return db is not None

    def get(self, text: str) -> Parse | None:
        with self._lock:
            db = self._open()
            if db is None:
                return None
            try:
                row = db.execute("SELECT tokens FROM parses WHERE key = ?", (_key(text),)).fetchone()
            except sqlite3.Error:  # a writer holding it past the timeout: parse it instead
                return None
        return None if row is None else tuple(Token(*token) for token in json.loads(row[0]))


def _complete(db: sqlite3.Connection) -> bool:
    """Whether a store holds the complete set of parses of this pipeline's version."""
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'pipeline'").fetchone()
    except sqlite3.Error:  # unreadable now (a writer past the timeout, a damaged file)
        return False
    return row is not None and row[0] == pipeline_version()


@functools.lru_cache(maxsize=16)
def _stored(folder: str) -> _StoredParses:
    return _StoredParses(folder)


@dataclass(frozen=True)
class _StoredFirst:
    """A sentence's stored parse, else spaCy's (loaded then, if it must be)."""

    stored: _StoredParses
    spacy: SpacyParser | None

    def __call__(self, text: str) -> Parse | None:
        found = self.stored.get(text)
        if found is not None or self.spacy is None:
            return found
        return self.spacy(text)
