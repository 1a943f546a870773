"""A segment: an immutable slice of an index's passages, with everything needed to search it.

Layout of a segment folder (``<index>/segments/s<time>-<id>/``)::

    passages.sqlite   the passages by position: chunk id, source, text, offsets, page, date,
                      entities, and a hash of the text (to find a text already embedded);
                      the names the entities hold, counted (for the gazetteer)
    ids.npy           chunk id of each position, ascending
    dates.npy         date of each position as YYYYMMDD (0: undated), for date filters
    sources.npy       source of each position, as a number into segment.json's "sources"
    pages.npy, starts.npy   page (0: none) and start offset of each position: with the source,
                      where a passage lies in the corpus, which orders passages of equal score
    vectors.faiss     rag.vectors: flat, or IVF for big segments; labels are positions
    keyword.*         rag.lexical.Postings: term statistics for BM25
    sentences.npy, sentence_starts.npy   optional: a vector (float16) for each sentence of each
                      passage, as rag.sentences splits it; a passage's rows run from its start to
                      the next one's (none: not stored, encoded when an answer needs them)
    segment.json      written last: counts, id range, sources, the vector index's kind

Written once into a staging folder, fsynced and renamed into place; never changed after.
Opening one reads ``segment.json`` and headers and maps the rest: nothing is parsed or
rebuilt, so opening costs the same for 100 passages or 250,000. SQLite (Python's own
``sqlite3``) serves rows by position; numpy and FAISS map the arrays.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from rag import vectors as vector_index
from rag.entities import Entity, name_counts
from rag.lexical import Postings, _open_readonly, map_array
from rag.sentences import SPLITTER_VERSION
from rag.settings import VECTORS, VectorSettings
from rag.types import Chunk

SEGMENT_FORMAT = 1
_META = "segment.json"
_COLUMNS = "chunk_id, source, text, start, stop, page, date"


def content_key(text: str) -> int:
    """A 64-bit hash of a passage's text (signed, as SQLite stores integers).

    Only a hint: a match is confirmed by comparing the texts, so a collision costs a
    lookup, never a wrong vector.
    """
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


def date_number(date: str | None) -> int:
    """``"2024-12-09"`` → 20241209; None → 0 (undated). Order is kept, so filters compare numbers."""
    return int(date.replace("-", "")) if date else 0


@dataclass(frozen=True)
class SegmentInfo:
    """What the manifest records about a segment."""

    name: str
    passages: int
    first_id: int
    last_id: int


def new_name() -> str:
    return f"s{time.time_ns()}-{uuid.uuid4().hex[:6]}"


def write_segment(
    directory: Path,
    chunks: list[Chunk],
    vectors: np.ndarray,
    entities: list[tuple[Entity, ...]],
    dimension: int,
    settings: VectorSettings = VECTORS,
    sentences: "list[np.ndarray | None] | None" = None,
) -> SegmentInfo:
    """Write a segment of ``chunks`` (ascending ids) into ``directory`` and return its record.

    ``sentences``, when given, holds for each passage the vectors of its sentences
    (``rag.embedding.encode_sentences``), or None for a passage that has none stored.

    The segment is built in a ``.tmp-`` folder and renamed into place once every file is
    on disk; a crash before that leaves only the staging folder, which the next writer
    removes.
    """
    if not chunks:
        raise ValueError("a segment needs at least one passage")
    ids = np.fromiter((c.chunk_id for c in chunks), dtype="int64", count=len(chunks))
    if np.any(np.diff(ids) <= 0):
        raise ValueError("a segment's passages must have ascending, distinct chunk ids")
    if len(vectors) != len(chunks) or len(entities) != len(chunks):
        raise ValueError(f"{len(chunks)} passages, {len(vectors)} vectors and {len(entities)} entity lists disagree")
    if sentences is not None and len(sentences) != len(chunks):
        raise ValueError(f"{len(chunks)} passages but {len(sentences)} lists of sentence vectors")
    if sentences is not None and all(found is None for found in sentences):
        sentences = None
    name = new_name()
    directory.mkdir(parents=True, exist_ok=True)
    staging = directory / f".tmp-{name}"
    staging.mkdir()
    try:
        sources = sorted({c.source for c in chunks})
        code = {source: number for number, source in enumerate(sources)}
        np.save(staging / "ids.npy", ids)
        np.save(staging / "dates.npy", np.fromiter((date_number(c.date) for c in chunks), "int32", len(chunks)))
        np.save(staging / "sources.npy", np.fromiter((code[c.source] for c in chunks), "int32", len(chunks)))
        np.save(staging / "pages.npy", np.fromiter((c.page or 0 for c in chunks), "int32", len(chunks)))
        np.save(staging / "starts.npy", np.fromiter((c.start for c in chunks), "int64", len(chunks)))
        _write_passages(staging / "passages.sqlite", chunks, entities)
        index = vector_index.build(vectors, dimension, settings)
        vector_index.write(index, staging / "vectors.faiss")
        Postings.build([c.text for c in chunks]).save(staging)
        if sentences is not None:
            _write_sentences(staging, sentences, dimension)
        meta = {
            "format": SEGMENT_FORMAT,
            "passages": len(chunks),
            "dimension": dimension,
            "first_id": int(ids[0]),
            "last_id": int(ids[-1]),
            "sources": sources,
            "vectors": vector_index.kind(index),
            "nlist": int(getattr(index, "nlist", 0)),
        }
        if sentences is not None:
            meta["sentences"] = {"splitter": SPLITTER_VERSION, "count": sum(len(f) for f in sentences if f is not None)}
        (staging / _META).write_text(json.dumps(meta))  # last: a segment with segment.json is complete
        for file in staging.iterdir():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
        os.rename(staging, directory / name)
        fsync_directory(directory)
    except BaseException:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SegmentInfo(name, len(chunks), int(ids[0]), int(ids[-1]))


def _write_sentences(folder: Path, sentences: "list[np.ndarray | None]", dimension: int) -> None:
    lengths = [0 if found is None else len(found) for found in sentences]
    for found in sentences:
        if found is not None and (found.ndim != 2 or found.shape[1] != dimension):
            raise ValueError(f"sentence vectors of shape {found.shape}, not (sentences, {dimension})")
    rows = [np.asarray(found, dtype="float16") for found in sentences if found is not None and len(found)]
    stacked = np.concatenate(rows) if rows else np.zeros((0, dimension), "float16")
    np.save(folder / "sentences.npy", stacked.reshape(-1))
    np.save(folder / "sentence_starts.npy", np.cumsum([0] + lengths, dtype="int64"))


def _write_passages(path: Path, chunks: list[Chunk], entities: list[tuple[Entity, ...]]) -> None:
    import sqlite3

    database = sqlite3.connect(path)
    try:
        # No journal: the file is fsynced with the folder and renamed into place when whole.
        database.execute("PRAGMA journal_mode=OFF")
        database.execute("PRAGMA synchronous=OFF")
        database.execute(
            "CREATE TABLE passages (position INTEGER PRIMARY KEY, chunk_id INTEGER NOT NULL, source TEXT NOT NULL, "
            "text TEXT NOT NULL, start INTEGER NOT NULL, stop INTEGER NOT NULL, page INTEGER, date TEXT, "
            "entities TEXT NOT NULL, content INTEGER NOT NULL) STRICT"
        )
        database.executemany(
            "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (position, c.chunk_id, c.source, c.text, c.start, c.end, c.page, c.date,
                 json.dumps([[e.start, e.end, e.label] for e in found]), content_key(c.text))
                for position, (c, found) in enumerate(zip(chunks, entities))
            ),
        )
        database.execute("CREATE INDEX passages_content ON passages (content)")
        # In order of first occurrence: the gazetteer settles ties between labels by it.
        database.execute("CREATE TABLE names (key TEXT NOT NULL, label TEXT NOT NULL, count INTEGER NOT NULL) STRICT")
        counts = name_counts((c.text[e.start : e.end], e.label) for c, found in zip(chunks, entities) for e in found)
        database.executemany("INSERT INTO names VALUES (?, ?, ?)", ((k, label, n) for (k, label), n in counts.items()))
        database.commit()
    finally:
        database.close()


def fsync_directory(path: Path) -> None:
    """Make a rename inside ``path`` durable, so a power cut cannot undo it."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class Segment:
    """One opened segment: its arrays mapped, its SQLite file open, nothing read yet.

    Every file is opened here, so a reader keeps its segments even after a merge has
    deleted them from the index folder.
    """

    def __init__(self, folder: Path, dimension: int) -> None:
        self.folder = folder
        self.name = folder.name
        try:
            meta = json.loads((folder / _META).read_text())
        except (OSError, ValueError) as error:
            raise ValueError(f"cannot read {_META} ({error})") from None
        if not isinstance(meta, dict) or meta.get("format") != SEGMENT_FORMAT:
            raise ValueError(f"{_META} is not of this version")
        size = meta.get("passages")
        if not isinstance(size, int) or meta.get("dimension") != dimension or not isinstance(meta.get("sources"), list):
            raise ValueError(f"{_META} does not describe {dimension}-dimensional passages")
        self.size = size
        self.sources: list[str] = meta["sources"]
        try:
            self.ids = map_array(folder / "ids.npy", "<i8", size)
            self.dates = map_array(folder / "dates.npy", "<i4", size)
            self.source_codes = map_array(folder / "sources.npy", "<i4", size)
            self.pages = map_array(folder / "pages.npy", "<i4", size)
            self.starts = map_array(folder / "starts.npy", "<i8", size)
        except ValueError as error:
            raise ValueError(f"cannot read the passage arrays ({error})") from None
        if size and (int(self.ids[0]) != meta.get("first_id") or int(self.ids[-1]) != meta.get("last_id")):
            raise ValueError("the passage arrays disagree with segment.json")
        self._database = _open_readonly(folder / "passages.sqlite")
        self._lock = threading.Lock()
        try:
            last = self._query("SELECT max(position) FROM passages")[0][0]
        except ValueError:
            raise ValueError("passages.sqlite holds no passages table") from None
        if (last if last is not None else -1) != size - 1:
            raise ValueError(f"passages.sqlite holds {0 if last is None else last + 1:,} passages, not {size:,}")
        vectors_file = folder / "vectors.faiss"
        if not vectors_file.is_file() or vectors_file.stat().st_size == 0:
            raise ValueError(f"vectors.faiss is {'missing' if not vectors_file.is_file() else 'empty'}")
        if meta.get("vectors") not in ("flat", "ivf"):
            raise ValueError(f"{_META} names no known kind of vector index")
        try:
            self.vectors = vector_index.read(vectors_file, meta["vectors"])
        except RuntimeError:
            raise ValueError("vectors.faiss is unreadable (cut short, or not a FAISS index)") from None
        if self.vectors.d != dimension:
            raise ValueError(f"vectors have {self.vectors.d} dimensions, the manifest says {dimension}")
        if self.vectors.ntotal != size:
            raise ValueError(f"vectors and passages disagree: {self.vectors.ntotal:,} vectors for {size:,} passages")
        self.postings = Postings.load(folder, size)
        self.dimension = dimension
        self._sentences, self._sentence_starts = None, None
        stored = meta.get("sentences")
        # Vectors of another splitting (an older rag.sentences) would be taken for the wrong
        # sentences: they are left unread, and answers encode the sentences they meet.
        if isinstance(stored, dict) and stored.get("splitter") == SPLITTER_VERSION and isinstance(stored.get("count"), int):
            try:
                self._sentence_starts = map_array(folder / "sentence_starts.npy", "<i8", size + 1)
                self._sentences = map_array(folder / "sentences.npy", "<f2", stored["count"] * dimension)
            except ValueError as error:
                raise ValueError(f"cannot read the sentence vectors ({error})") from None
            if int(self._sentence_starts[-1]) != stored["count"]:
                raise ValueError("sentence_starts.npy disagrees with segment.json")

    def _query(self, sql: str, parameters=()) -> list[tuple]:
        import sqlite3

        try:
            with self._lock:
                return self._database.execute(sql, parameters).fetchall()
        except sqlite3.Error as error:
            raise ValueError(f"passages.sqlite is damaged ({error})") from None

    # -- by position -------------------------------------------------------------------

    def position(self, chunk_id: int) -> int | None:
        """Where ``chunk_id`` lies in this segment, or None."""
        at = int(np.searchsorted(self.ids, chunk_id))
        return at if at < self.size and int(self.ids[at]) == chunk_id else None

    def positions(self, chunk_ids: np.ndarray) -> np.ndarray:
        """The positions of those of ``chunk_ids`` that this segment holds."""
        chunk_ids = np.asarray(chunk_ids, dtype="int64")
        at = np.searchsorted(self.ids, chunk_ids)
        inside = at < self.size
        at, chunk_ids = at[inside], chunk_ids[inside]
        return at[np.asarray(self.ids)[at] == chunk_ids]

    def chunks(self, positions) -> list[Chunk]:
        """The passages at ``positions``, in that order."""
        return [chunk for chunk, _ in self.rows(positions)]

    def rows(self, positions) -> list[tuple[Chunk, tuple[Entity, ...]]]:
        """(passage, its entities) at each of ``positions``, in that order."""
        positions = [int(p) for p in positions]
        found: dict[int, tuple] = {}
        for first in range(0, len(positions), 500):
            part = positions[first : first + 500]
            for row in self._query(
                f"SELECT position, {_COLUMNS}, entities FROM passages WHERE position IN ({','.join('?' * len(part))})",
                part,
            ):
                found[row[0]] = row[1:]
        try:
            return [_row(found[p]) for p in positions]
        except KeyError as missing:
            raise ValueError(f"passages.sqlite has no passage at position {missing}") from None

    def all_rows(self, batch: int = 10_000) -> Iterator[tuple[int, Chunk, tuple[Entity, ...]]]:
        """(position, passage, entities) of every position, in order (for merges and checks)."""
        for first in range(0, self.size, batch):
            rows = self._query(
                f"SELECT position, {_COLUMNS}, entities FROM passages WHERE position >= ? AND position < ? "
                "ORDER BY position",
                (first, first + batch),
            )
            for row in rows:
                chunk, entities = _row(row[1:])
                yield row[0], chunk, entities

    def find_texts(self, texts) -> dict[str, int]:
        """A position holding each of ``texts`` that this segment holds."""
        wanted: dict[int, set[str]] = {}
        for text in texts:
            wanted.setdefault(content_key(text), set()).add(text)
        keys = list(wanted)
        found: dict[str, int] = {}
        for first in range(0, len(keys), 500):
            part = keys[first : first + 500]
            for key, position, text in self._query(
                f"SELECT content, position, text FROM passages WHERE content IN ({','.join('?' * len(part))})", part
            ):
                if text in wanted[key]:  # the hash only points; the text decides
                    found.setdefault(text, position)
        return found

    def name_counts(self) -> Counter[tuple[str, str]]:
        """The names of every passage of the segment, counted (deleted ones included)."""
        return Counter({(key, label): count for key, label, count in self._query(
            "SELECT key, label, count FROM names ORDER BY rowid"
        )})

    @property
    def has_sentences(self) -> bool:
        return self._sentences is not None

    def sentences_stored(self, live: np.ndarray | None = None) -> int:
        """How many passages (of those ``live``, or all) have their sentence vectors stored."""
        if self._sentences is None:
            return 0
        stored = np.diff(np.asarray(self._sentence_starts)) > 0
        return int(np.count_nonzero(stored if live is None else stored & live))

    def sentence_vectors_at(self, position: int) -> np.ndarray | None:
        """The stored vectors of the passage's sentences (float16, in order), or None."""
        if self._sentences is None:
            return None
        first, stop = int(self._sentence_starts[position]), int(self._sentence_starts[position + 1])
        if first == stop:
            return None
        return np.asarray(self._sentences[first * self.dimension : stop * self.dimension]).reshape(-1, self.dimension)

    def vectors_at(self, positions) -> np.ndarray:
        return vector_index.reconstruct(self.vectors, np.asarray(positions, dtype="int64"))

    def size_bytes(self) -> int:
        try:
            return sum(f.stat().st_size for f in self.folder.iterdir() if f.is_file())
        except FileNotFoundError:  # deleted by a merge since: this snapshot still reads it
            return 0

    def info(self) -> SegmentInfo:
        return SegmentInfo(self.name, self.size, int(self.ids[0]) if self.size else 0,
                           int(self.ids[-1]) if self.size else -1)


def _row(row: tuple) -> tuple[Chunk, tuple[Entity, ...]]:
    chunk_id, source, text, start, stop, page, date, entities = row
    try:
        found = tuple(Entity(int(s), int(e), str(label)) for s, e, label in json.loads(entities))
    except (TypeError, ValueError) as error:
        raise ValueError(f"passage {chunk_id} has damaged entities ({error})") from None
    return Chunk(chunk_id, source, text, start, stop, page, date), found


