"""The index on disk: immutable segments listed by a manifest that is swapped in atomically.

Layout of an index directory::

    CURRENT              name of the live version folder, replaced atomically
    LOCK                 held while a writer changes the index
    v<time>-<id>/        manifest.json: settings, every indexed file, and the live segments
                         with the chunk ids deleted from each (tombstones)
    segments/s<time>-<id>/   one segment each (rag.segments): passages, vectors, BM25 postings

A sync writes only a new segment holding the files it added or changed, and a new
manifest that lists it and tombstones the replaced passages; the manifest goes last,
through CURRENT, so a crash at any point leaves the previous version live. Small
segments are then merged (``merge_policy``: tiered, as Lucene's), again ending with a
manifest swap. Segments are never changed once written, and a reader that opened a
version keeps every file of it open, so it reads its snapshot undisturbed by writers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import functools
import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from rag import vectors as vector_index
from rag.chunking import CHUNKER_VERSION
from rag.entities import Entity, Gazetteer, name_counts
from rag.errors import IndexFormatError
from rag.segments import Segment, SegmentInfo, date_number, fsync_directory, write_segment
from rag.settings import CHUNKING, STORAGE, ChunkingSettings, SegmentSettings, StorageSettings, VectorSettings
from rag.types import Chunk, DocumentFacts, IndexInfo

log = logging.getLogger(__name__)

# 3: segments (SQLite passages, mapped vectors and BM25 postings) and tombstones;
# 2: one folder per version with chunks.jsonl, entities.jsonl, vectors.faiss and bm25s's matrix.
FORMAT_VERSION = 3
_CURRENT = "CURRENT"
_SEGMENTS = "segments"
_KEEP_VERSIONS = 2  # the live one and the one before, for readers still opening it


@dataclass(frozen=True)
class FileRecord:
    """What the manifest remembers about one indexed source file."""

    root: str
    sha256: str
    chunk_ids: Sequence[int]  # a range: a file's passages get consecutive ids when it is indexed
    pages: int = 1
    profile: str = "plain"  # how it was chunked: "news" or "plain" (rag.chunking)
    added: str = ""  # ISO timestamp of when this version of the file was indexed; "" in older indexes
    # The file's size and modification time (ns) when it was hashed: while both are the same,
    # a sync trusts the file unchanged without reading it (-1: not recorded, always hash).
    size: int = -1
    mtime_ns: int = -1


@dataclass(frozen=True)
class SegmentEntry:
    """A live segment, as the manifest lists it: its size, id range and deleted ids."""

    name: str
    passages: int
    first_id: int
    last_id: int
    deleted: tuple[tuple[int, int], ...] = ()  # [start, stop) runs of chunk ids no longer live
    deleted_count: int = 0

    @property
    def live(self) -> int:
        return self.passages - self.deleted_count


@dataclass(frozen=True)
class Manifest:
    model: str
    dimension: int
    files: dict[str, FileRecord] = field(default_factory=dict)
    next_id: int = 0
    updated: str = ""
    format_version: int = FORMAT_VERSION
    chunker_version: int = CHUNKER_VERSION
    tagger: str = "none"  # what tagged the passages' entities (rag.entities)
    chunking: ChunkingSettings = CHUNKING
    segments: tuple[SegmentEntry, ...] = ()
    storage: StorageSettings = STORAGE

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["chunking"] = dataclasses.asdict(self.chunking)
        data["storage"] = dataclasses.asdict(self.storage)
        data["files"] = {
            source: {**{name: getattr(r, name) for name in _RECORD_FIELDS}, "chunk_ids": _as_span(r.chunk_ids)}
            for source, r in sorted(self.files.items())
        }
        data["segments"] = [
            {**dataclasses.asdict(s), "deleted": [list(run) for run in s.deleted]} for s in self.segments
        ]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Manifest":
        """The manifest in ``data``; ValueError naming the first field of the wrong type."""
        _expect(data, dict, "the manifest")
        for name, kind in (("model", str), ("dimension", int), ("next_id", int), ("updated", str), ("files", dict),
                           ("segments", list), ("tagger", str)):
            if name in data:
                _expect(data[name], kind, name)
        files = {source: _file_record(source, r) for source, r in data.get("files", {}).items()}
        segments = tuple(_segment_entry(s, n) for n, s in enumerate(data.get("segments", [])))
        chunking = data.get("chunking", {})
        _expect(chunking, dict, "chunking")
        try:
            settings = ChunkingSettings(**chunking)
        except TypeError as error:
            raise ValueError(f"chunking: {error}") from None
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{
            **{k: v for k, v in data.items() if k in known}, "files": files, "chunking": settings, "segments": segments,
            "storage": _storage(data.get("storage", {})),
        })

    @property
    def passages(self) -> int:
        return sum(s.live for s in self.segments)


_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(FileRecord))


def _file_record(source: str, r: Any) -> FileRecord:
    """One file's record from the manifest; ValueError naming the first field of the wrong type.

    A manifest lists every file (10,000 of them at a million passages), so the usual,
    well-formed record is checked in one expression; any other gets the field-by-field
    checks, for their message.
    """
    if type(r) is dict:
        root, sha, ids = r.get("root"), r.get("sha256"), r.get("chunk_ids")
        pages, profile, added = r.get("pages", 1), r.get("profile", "plain"), r.get("added", "")
        size, mtime_ns = r.get("size", -1), r.get("mtime_ns", -1)
        if (
            type(root) is str and type(sha) is str and type(ids) is list and len(ids) == 2
            and type(ids[0]) is int and type(ids[1]) is int and 0 <= ids[0] <= ids[1]
            and type(pages) is int and type(profile) is str and type(added) is str
            and type(size) is int and type(mtime_ns) is int
        ):
            return FileRecord(root, sha, range(ids[0], ids[1]), pages, profile, added, size, mtime_ns)
    _expect(r, dict, f"files[{source!r}]")
    for name, kind in (("root", str), ("sha256", str), ("chunk_ids", list), ("pages", int), ("profile", str)):
        if name in r or name in ("root", "sha256", "chunk_ids"):
            _expect(r.get(name), kind, f"files[{source!r}].{name}")
    added = r.get("added", "")  # not recorded by indexes written before it was
    _expect(added, str, f"files[{source!r}].added")
    for name in ("size", "mtime_ns"):
        _expect(r.get(name, -1), int, f"files[{source!r}].{name}")
    return FileRecord(
        r["root"], r["sha256"], _span(r["chunk_ids"], f"files[{source!r}].chunk_ids"),
        r.get("pages", 1), r.get("profile", "plain"), added=added, size=r.get("size", -1),
        mtime_ns=r.get("mtime_ns", -1),
    )


def _as_span(chunk_ids: Sequence[int]) -> list[int]:
    """A file's chunk ids as ``[first, stop)``: they are consecutive, so two numbers say them all."""
    if isinstance(chunk_ids, range) and chunk_ids.step == 1 and len(chunk_ids):
        return [chunk_ids.start, chunk_ids.stop]
    ids = range(0) if len(chunk_ids) == 0 else range(chunk_ids[0], chunk_ids[-1] + 1)
    if len(ids) != len(chunk_ids):
        raise ValueError(f"a file's chunk ids must be consecutive, not {list(chunk_ids)[:5]}…")
    return [ids.start, ids.stop]


def _span(value: list, name: str) -> range:
    if len(value) != 2:
        raise ValueError(f"{name} should be [first, stop], not a list of {len(value)}")
    for item in value:
        _expect(item, int, name)
    if not 0 <= value[0] <= value[1]:
        raise ValueError(f"{name} should be [first, stop] with 0 <= first <= stop, not {value}")
    return range(value[0], value[1])


def _storage(data: Any) -> StorageSettings:
    """Storage settings from the manifest, each field checked against its default's type."""
    _expect(data, dict, "storage")
    groups = {}
    for group in dataclasses.fields(StorageSettings):
        values = data.get(group.name, {})
        _expect(values, dict, f"storage.{group.name}")
        defaults = getattr(STORAGE, group.name)
        kwargs = {}
        for f in dataclasses.fields(defaults):
            if f.name in values:
                kind = type(getattr(defaults, f.name))
                value = values[f.name]
                if kind is float and isinstance(value, int) and not isinstance(value, bool):
                    value = float(value)
                _expect(value, kind, f"storage.{group.name}.{f.name}")
                if f.name != "seed" and (value < 0 or (value == 0 and f.name != "sentences_up_to")):
                    raise ValueError(f"storage.{group.name}.{f.name} should be positive, not {value}")
                kwargs[f.name] = value
        groups[group.name] = dataclasses.replace(defaults, **kwargs)
    return StorageSettings(**groups)


def _segment_entry(data: Any, number: int) -> SegmentEntry:
    name = f"segments[{number}]"
    _expect(data, dict, name)
    for key, kind in (("name", str), ("passages", int), ("first_id", int), ("last_id", int), ("deleted", list),
                      ("deleted_count", int)):
        _expect(data.get(key), kind, f"{name}.{key}")
    if not _SEGMENT_NAME.fullmatch(data["name"]):
        raise ValueError(f"{name}.name does not name a segment folder ({data['name'][:40]!r})")
    deleted = []
    for run in data["deleted"]:
        _expect(run, list, f"{name}.deleted")
        ids = _span(run, f"{name}.deleted")
        deleted.append((ids.start, ids.stop))
    if not 0 <= data["deleted_count"] <= data["passages"]:
        raise ValueError(f"{name}.deleted_count is out of range")
    return SegmentEntry(
        data["name"], data["passages"], data["first_id"], data["last_id"], tuple(deleted), data["deleted_count"]
    )


def _expect(value: Any, kind: type, name: str) -> None:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{name} should be {kind.__name__}, not {type(value).__name__}")


def _rebuild_hint(path: Path) -> str:
    return f"rebuild it: rag index PATH... --index {path} --rebuild"


def _faiss():
    return vector_index._faiss()


_VERSION_NAME = re.compile(r"v[0-9A-Za-z_-]+")
_SEGMENT_NAME = re.compile(r"s[0-9A-Za-z_-]+")


def live_version(path: Path) -> str | None:
    """The name of the live version folder of the index at ``path``, or None."""
    try:
        name = (path / _CURRENT).read_text().strip()
    except FileNotFoundError:
        # Version folders without CURRENT are builds that never went live: no index yet.
        return None
    except NotADirectoryError:
        raise IndexFormatError(_not_a_folder(path)) from None
    except IsADirectoryError:
        raise IndexFormatError(
            f"{path}: {_CURRENT} should be a file naming the live version but is a folder; move it out "
            f"of the index folder, then {_rebuild_hint(path)}"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise IndexFormatError(f"{path}: cannot read {_CURRENT} ({error}); {_rebuild_hint(path)}") from error
    if name and not _VERSION_NAME.fullmatch(name):
        raise IndexFormatError(f"{path}: {_CURRENT} does not name a version folder ({name[:40]!r}); {_rebuild_hint(path)}")
    return name or None


def _not_a_folder(path: Path) -> str:
    return (
        f"{path} is a file, not an index folder; pass the folder that holds the index "
        "(--index DIR), or the name of a new folder to build one in"
    )


def read_manifest(path: Path, version: str | None = None) -> Manifest | None:
    """The manifest of the live (or the given) version, or None if there is no index yet.

    Cheap: reads one JSON file, never the segments.
    """
    version = version or live_version(path)
    if version is None:
        return None
    return _manifest_from(path, _manifest_data(path, version))


def read_live(path: Path) -> tuple[str | None, Manifest | None]:
    """The live version's name and manifest (Nones if there is no index yet), for a writer:
    hold the write lock. An index of format 2 is converted first (``upgrade``), embedding
    nothing. The manifest is read and parsed once, to be passed along (``Index.open``)."""
    version = live_version(path)
    if version is None:
        return None, None
    data = _manifest_data(path, version)
    if data.get("format_version") == 2 and upgrade(path):
        version = live_version(path)
        data = _manifest_data(path, version)
    return version, _manifest_from(path, data)


def _manifest_data(path: Path, version: str) -> dict[str, Any]:
    try:
        data = json.loads((path / version / "manifest.json").read_text())
    except (OSError, ValueError) as error:
        raise IndexFormatError(f"{path}: cannot read the index manifest ({error}); {_rebuild_hint(path)}") from error
    if not isinstance(data, dict):
        raise IndexFormatError(f"{path}: the index manifest is not a JSON object; {_rebuild_hint(path)}")
    return data


def _manifest_from(path: Path, data: dict[str, Any]) -> Manifest:
    if data.get("format_version") == 2:
        raise IndexFormatError(
            f"{path}: the index is in format 2 (before segments); run `rag index PATH... --index {path}` once to "
            f"convert it (nothing is embedded again), or rebuild it: rag index PATH... --index {path} --rebuild"
        )
    if data.get("format_version") != FORMAT_VERSION:
        raise IndexFormatError(
            f"{path}: index format {data.get('format_version')} is not the format this version "
            f"reads ({FORMAT_VERSION}); {_rebuild_hint(path)}"
        )
    if data.get("chunker_version") != CHUNKER_VERSION:
        raise IndexFormatError(
            f"{path}: the index was chunked by chunker version {data.get('chunker_version')}, "
            f"this version chunks with {CHUNKER_VERSION}; {_rebuild_hint(path)}"
        )
    try:
        return Manifest.from_json(data)
    except ValueError as error:
        raise IndexFormatError(f"{path}: the index manifest is damaged ({error}); {_rebuild_hint(path)}") from error


@contextlib.contextmanager
def write_lock(path: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Serialise writers of one index, across threads and processes; ``on_wait`` is called
    first when another writer holds the lock."""
    if path.exists() and not path.is_dir():
        raise IndexFormatError(_not_a_folder(path))
    try:
        path.mkdir(parents=True, exist_ok=True)
        handle = open(path / "LOCK", "a")
    except OSError as error:
        raise IndexFormatError(
            f"cannot use {path} as an index folder ({error.strerror}: {error.filename}); choose another with --index DIR"
        ) from error
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- reading -------------------------------------------------------------------------------


class Index:
    """A snapshot of one index version: its segments, open; never changes after it is made.

    Opening maps files and reads the manifest, nothing more. Passages are read from the
    segments when asked for (``chunk``, ``entities``, ``vector``); what describes the whole
    corpus (BM25 statistics, the gazetteer, the dates) is combined from per-segment
    summaries the first time it is needed.
    """

    def __init__(self, path: Path, manifest: Manifest, segments: list[Segment], version: str | None = None) -> None:
        self.path = path
        self.version = version  # the version folder this snapshot was read from
        self.manifest = manifest
        self.segments = segments  # in the manifest's order
        # Each segment's live positions (None: none deleted), from the manifest's tombstones.
        self.live: list[np.ndarray | None] = [
            _live_mask(segment, entry) for segment, entry in zip(segments, manifest.segments)
        ]
        self.count = sum(s.size if m is None else int(np.count_nonzero(m)) for s, m in zip(segments, self.live))
        self.cache: dict[str, Any] = {}  # what search() derives from passages (normalised texts)
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls, path: str | Path, known: tuple[str, Manifest] | None = None, opened: Sequence[Segment] = ()
    ) -> "Index":
        """Open the live version of the index at ``path``.

        A writer (holding the write lock) that has just read or written the live version
        passes it as ``known`` (its name and manifest) and the segments it has open as
        ``opened`` (segments never change): neither is read again.
        """
        path = Path(path)
        reuse = {segment.name: segment for segment in opened}
        for attempt in range(3):
            if known is not None:
                name, manifest = known
            else:
                name = live_version(path)  # read once: a writer may swap it while we open
                if name is None:
                    raise IndexFormatError(f"no index at {path}; build one with: rag index PATH... --index {path}")
                manifest = read_manifest(path, name)
            try:
                segments = [
                    reuse.get(entry.name) or Segment(path / _SEGMENTS / entry.name, manifest.dimension)
                    for entry in manifest.segments
                ]
            except ValueError as error:
                # Two writes since we read CURRENT may have removed a segment of that version.
                if attempt < 2 and known is None and live_version(path) != name:
                    continue
                bad = next((e.name for e in manifest.segments if not _opens(path, e, manifest.dimension)), "?")
                raise IndexFormatError(
                    f"{path}: the index is damaged (segment {bad}: {error}); {_rebuild_hint(path)}"
                ) from error
            for segment, entry in zip(segments, manifest.segments):
                if segment.size != entry.passages:
                    raise IndexFormatError(
                        f"{path}: the index is damaged (segment {entry.name} holds {segment.size:,} passages, the "
                        f"manifest says {entry.passages:,}); {_rebuild_hint(path)}"
                    )
            return cls(path, manifest, segments, name)
        raise AssertionError("unreachable")

    # -- the corpus as a whole --------------------------------------------------------

    @property
    def model(self) -> str:
        return self.manifest.model

    @functools.cached_property
    def size_bytes(self) -> int:
        manifest = self.path / self.version / "manifest.json" if self.version else None
        own = manifest.stat().st_size if manifest is not None and manifest.exists() else 0
        return own + sum(segment.size_bytes() for segment in self.segments)

    def documents(self) -> dict[str, Path]:
        """Every indexed source, with the folder it was indexed from."""
        return {source: Path(record.root) for source, record in self.manifest.files.items()}

    def document_facts(self) -> list[DocumentFacts]:
        """Every indexed document, by name: its type, pages, passages, date range and when it was added.

        >>> [(d.source, d.passages, d.date_from) for d in open_index().document_facts()]   # doctest: +SKIP
        [('assad-in-moscow-as-it-happened.txt', 129, '2024-12-07')]
        """
        ranges = self._date_ranges()
        return [
            DocumentFacts(
                source=source,
                kind=PurePosixPath(source).suffix.lstrip(".").lower(),
                pages=record.pages,
                passages=len(record.chunk_ids),
                date_from=ranges[source][0] if source in ranges else None,
                date_to=ranges[source][1] if source in ranges else None,
                added=record.added,
                folder=record.root,
            )
            for source, record in sorted(self.manifest.files.items())
        ]

    def _date_ranges(self) -> dict[str, tuple[str, str]]:
        """The earliest and latest passage date of each source, from the segments' date arrays."""
        ranges: dict[str, tuple[int, int]] = {}
        for segment, live in zip(self.segments, self.live):
            keep = np.asarray(segment.dates) > 0
            if live is not None:
                keep &= live
            codes, dates = np.asarray(segment.source_codes)[keep], np.asarray(segment.dates)[keep]
            if not len(codes):
                continue
            low = np.full(len(segment.sources), np.iinfo("int32").max, dtype="int32")
            high = np.zeros(len(segment.sources), dtype="int32")
            np.minimum.at(low, codes, dates)
            np.maximum.at(high, codes, dates)
            for code in np.unique(codes):
                source = segment.sources[code]
                before = ranges.get(source, (low[code], high[code]))
                ranges[source] = (min(before[0], low[code]), max(before[1], high[code]))
        return {source: (_iso(a), _iso(b)) for source, (a, b) in ranges.items()}

    @functools.cached_property
    def known_dates(self) -> frozenset[str]:
        """Every date the passages carry, for reading days named without a year."""
        found: set[int] = set()
        for segment, live in zip(self.segments, self.live):
            dates = np.asarray(segment.dates) if live is None else np.asarray(segment.dates)[live]
            found.update(int(d) for d in np.unique(dates) if d)
        return frozenset(_iso(d) for d in found)

    @functools.cached_property
    def gazetteer(self) -> Gazetteer:
        """Every name the passages hold, for finding them in questions (summed from the segments' counts)."""
        counts: Counter[tuple[str, str]] = Counter()
        for segment, live in sorted(zip(self.segments, self.live), key=lambda pair: int(pair[0].ids[0]) if pair[0].size else 0):
            counts.update(segment.name_counts())
            if live is not None:  # names of deleted passages no longer count
                for chunk, entities in segment.rows(np.flatnonzero(~live)):
                    counts.subtract(name_counts((chunk.text[e.start : e.end], e.label) for e in entities))
        return Gazetteer.from_counts(Counter({key: n for key, n in counts.items() if n > 0}))

    @functools.cached_property
    def keyword(self):
        """BM25 over every live passage, with corpus-wide statistics (rag.lexical)."""
        from rag.lexical import Bm25

        return Bm25([(segment.postings, live) for segment, live in zip(self.segments, self.live)])

    # -- passages ---------------------------------------------------------------------

    def _locate(self, chunk_id: int) -> tuple[Segment, int]:
        """The segment and position of a live passage; KeyError when there is none."""
        chunk_id = int(chunk_id)
        for segment, live, entry in zip(self.segments, self.live, self.manifest.segments):
            if entry.first_id <= chunk_id <= entry.last_id:
                position = segment.position(chunk_id)
                if position is not None and (live is None or live[position]):
                    return segment, position
        raise KeyError(chunk_id)

    def chunk(self, chunk_id: int) -> Chunk:
        segment, position = self._locate(chunk_id)
        return self._read(lambda: segment.chunks([position])[0])

    def entities(self, chunk_id: int) -> tuple[Entity, ...]:
        """The named entities of a chunk, with offsets in its text."""
        segment, position = self._locate(chunk_id)
        return self._read(lambda: segment.rows([position])[0][1])

    def vector(self, chunk_id: int) -> np.ndarray:
        segment, position = self._locate(chunk_id)
        return segment.vectors_at([position])[0]

    def sentence_vectors(self, chunk_id: int) -> np.ndarray | None:
        """The stored vectors of a chunk's sentences (``rag.sentences.sentence_spans`` of its
        text, in order; float16), or None when its segment stored none."""
        segment, position = self._locate(chunk_id)
        return segment.sentence_vectors_at(position)

    def chunks_of(self, source: str) -> list[Chunk]:
        """The live passages of one source, by chunk id."""
        found: list[Chunk] = []
        for segment, live in zip(self.segments, self.live):
            if source not in segment.sources:
                continue
            keep = np.asarray(segment.source_codes) == segment.sources.index(source)
            if live is not None:
                keep &= live
            found.extend(self._read(lambda: segment.chunks(np.flatnonzero(keep))))
        return sorted(found, key=lambda c: c.chunk_id)

    def _read(self, read):
        try:
            return read()
        except ValueError as error:
            raise IndexFormatError(f"{self.path}: the index is damaged ({error}); {_rebuild_hint(self.path)}") from None

    @functools.cached_property
    def chunks(self) -> list[Chunk]:
        """Every live passage, by chunk id. Reads them all: for tests and small indexes,
        never on the search path."""
        found = [
            chunk
            for segment, live in zip(self.segments, self.live)
            for position, chunk, _ in self._read(lambda: list(segment.all_rows()))
            if live is None or live[position]
        ]
        return sorted(found, key=lambda c: c.chunk_id)

    @functools.cached_property
    def ids(self) -> np.ndarray:
        """Every live chunk id, ascending: position ``i`` of ``chunks`` has id ``ids[i]``."""
        parts = [np.asarray(s.ids) if m is None else np.asarray(s.ids)[m] for s, m in zip(self.segments, self.live)]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, "int64")

    def masks(
        self,
        date_from: str | None = None,
        date_to: str | None = None,
        source: str | None = None,
        chunk_ids: np.ndarray | None = None,
    ) -> list[np.ndarray | None]:
        """Each segment's positions that are live and pass the filters (None: all of them).

        Dates are ISO (inclusive; undated passages fail any date filter); ``source`` is a
        name or a glob; ``chunk_ids`` keeps only those passages.
        """
        import fnmatch

        masks: list[np.ndarray | None] = []
        for segment, live in zip(self.segments, self.live):
            keep = None if live is None else live.copy()
            if date_from is not None or date_to is not None:
                dates = np.asarray(segment.dates)
                dated = dates > 0
                if date_from is not None:
                    dated &= dates >= date_number(date_from)
                if date_to is not None:
                    dated &= dates <= date_number(date_to)
                keep = dated if keep is None else keep & dated
            if source is not None:
                wanted = np.array([fnmatch.fnmatchcase(s, source) for s in segment.sources] + [False])
                chosen = wanted[np.asarray(segment.source_codes)]
                keep = chosen if keep is None else keep & chosen
            if chunk_ids is not None:
                chosen = np.zeros(segment.size, dtype=bool)
                chosen[segment.positions(chunk_ids)] = True
                keep = chosen if keep is None else keep & chosen
            masks.append(keep)
        return masks

    @functools.cached_property
    def _source_ranks(self) -> list[np.ndarray]:
        """For each segment, the rank of each of its sources among all sources (by name)."""
        names = sorted({source for segment in self.segments for source in segment.sources})
        rank = {name: number for number, name in enumerate(names)}
        return [np.array([rank[s] for s in segment.sources] + [-1], dtype="int64") for segment in self.segments]

    def corpus_order(self, found: list[tuple[np.ndarray, np.ndarray]]) -> Ranked:
        """``found`` (scores, positions) per segment, as one list, best first.

        Equal scores are ordered by where the passages lie in the corpus (source name, page,
        start), not by chunk id: ids depend on the order files were indexed in, and the same
        passages must rank alike however the index was built.
        """
        parts = [
            (scores, np.asarray(segment.ids)[positions], ranks[np.asarray(segment.source_codes)[positions]],
             np.asarray(segment.pages)[positions], np.asarray(segment.starts)[positions])
            for segment, ranks, (scores, positions) in zip(self.segments, self._source_ranks, found)
        ]
        if not parts:
            return Ranked(*(np.zeros(0, t) for t in ("float32", "int64", "int64", "int32", "int64")))
        scores, ids, sources, pages, starts = (np.concatenate([p[i] for p in parts]) for i in range(5))
        order = np.lexsort((starts, pages, sources, -scores))
        return Ranked(scores[order], ids[order], sources[order], pages[order], starts[order])

    def dense_search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None, masks: list | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Inner-product top-k over every segment, ``(scores, chunk_ids)``, best first.

        ``allowed`` (chunk ids) or ``masks`` (from ``masks()``) restrict the search before the
        cut, so a filtered search still finds k hits when k exist.
        """
        ranked = self.dense_ranked(query, k, masks if masks is not None else (
            self.masks(chunk_ids=allowed) if allowed is not None else self.live))
        return ranked.scores, ranked.ids

    def dense_ranked(self, query: np.ndarray, k: int, masks: list) -> "Ranked":
        """The top-k of every segment merged (``corpus_order``), cut at k."""
        probes = self.manifest.storage.vectors.nprobe
        found = [_top_with_ties(s.vectors, query, k, m, probes) for s, m in zip(self.segments, masks)]
        return self.corpus_order(found)[:k]

    def info(self) -> IndexInfo:
        return IndexInfo(
            path=str(self.path),
            documents=len(self.manifest.files),
            chunks=self.count,
            model=self.manifest.model,
            dimension=self.manifest.dimension,
            size_bytes=self.size_bytes,
            updated=self.manifest.updated,
            sentence_vectors=sum(s.sentences_stored(live) for s, live in zip(self.segments, self.live)),
        )


_TIE_MARGIN = 16


def _top_with_ties(vectors, query: np.ndarray, k: int, mask, probes: int) -> tuple[np.ndarray, np.ndarray]:
    """A segment's top-k, plus every passage tied with its k-th: which of the tied ones
    make the global cut is decided by their place in the corpus, not by FAISS's order.
    (Identical texts have identical vectors; the hash model scores many passages 0.)"""
    want = k + _TIE_MARGIN
    while True:
        scores, positions = vector_index.search(vectors, query, want, mask, probes)
        if len(positions) < want or len(positions) <= k or scores[-1] < scores[k - 1]:
            break
        want *= 4
    if len(positions) > k:
        keep = scores >= scores[k - 1]
        scores, positions = scores[keep], positions[keep]
    return scores, positions


@dataclass(frozen=True)
class Ranked:
    """Passages ranked over all segments: aligned arrays, best first."""

    scores: np.ndarray
    ids: np.ndarray
    sources: np.ndarray  # rank of the source name among all sources
    pages: np.ndarray
    starts: np.ndarray

    def __getitem__(self, cut: slice) -> "Ranked":
        return Ranked(self.scores[cut], self.ids[cut], self.sources[cut], self.pages[cut], self.starts[cut])

    def keys(self) -> list[tuple[int, int, int]]:
        """Each passage's place in the corpus (source rank, page, start): orders equal scores."""
        return list(zip(self.sources.tolist(), self.pages.tolist(), self.starts.tolist()))


def _opens(path: Path, entry: SegmentEntry, dimension: int) -> bool:
    try:
        Segment(path / _SEGMENTS / entry.name, dimension)
    except ValueError:
        return False
    return True


def _live_mask(segment: Segment, entry: SegmentEntry) -> np.ndarray | None:
    if not entry.deleted:
        return None
    live = np.ones(segment.size, dtype=bool)
    ids = np.asarray(segment.ids)
    for start, stop in entry.deleted:
        live[np.searchsorted(ids, start) : np.searchsorted(ids, stop)] = False
    return live


def _iso(date: int) -> str:
    date = int(date)
    return f"{date // 10000:04d}-{date // 100 % 100:02d}-{date % 100:02d}"


# -- writing -------------------------------------------------------------------------------

Addition = tuple  # (source, FileRecord, chunks, vectors (n, d), entities per chunk, sentence vectors per chunk)
# What indexing a text gives: its vector, its entities, its sentences' vectors (or None).
Embedded = tuple


class Writer:
    """One change to an index: files added or replaced and files removed, written as new
    segments and tombstones, made live by one manifest swap (``commit``).

    Hold the index's ``write_lock`` while using one. Passages are written to a segment
    whenever ``SegmentSettings.max_passages`` of them are pending (whole files), so a
    writer's memory stays bounded however big the sync.
    """

    def __init__(self, path: Path, base: Index | None, manifest: Manifest) -> None:
        self.path = Path(path)
        self.base = base
        self.manifest = manifest
        self.settings = manifest.storage.segments
        self.vector_settings = manifest.storage.vectors
        self.files = dict(manifest.files)
        self.next_id = manifest.next_id
        self.entries = {e.name: e for e in manifest.segments}
        self.written: list[SegmentInfo] = []
        self._pending: list[Addition] = []
        self._pending_passages = 0

    def remove(self, source: str) -> int:
        """Drop ``source`` (tombstoning its passages); the number of passages it had."""
        record = self.files.pop(source, None)
        if record is None or len(record.chunk_ids) == 0:
            return 0
        start, stop = record.chunk_ids[0], record.chunk_ids[-1] + 1
        if self.base is not None:
            for segment, entry in zip(self.base.segments, self.base.manifest.segments):
                entry = self.entries[entry.name]
                if stop <= entry.first_id or start > entry.last_id:
                    continue
                ids = np.asarray(segment.ids)
                count = int(np.searchsorted(ids, stop) - np.searchsorted(ids, start))
                if count:
                    self.entries[entry.name] = dataclasses.replace(
                        entry, deleted=_merged_runs(entry.deleted + ((start, stop),)),
                        deleted_count=entry.deleted_count + count,
                    )
        return len(record.chunk_ids)

    def restat(self, source: str, size: int, mtime_ns: int) -> None:
        """Record a new size and time for an unchanged file (touched, same content)."""
        self.files[source] = dataclasses.replace(self.files[source], size=size, mtime_ns=mtime_ns)

    def add(
        self, source: str, record: FileRecord, chunks: list[Chunk], vectors: np.ndarray,
        entities: list[tuple[Entity, ...]], sentences: "list[np.ndarray | None] | None" = None,
    ) -> FileRecord:
        """Add one file's passages (their ids are given here, consecutive); its record as kept.

        ``sentences``: each passage's sentence vectors, or None (see ``write_segment``)."""
        if source in self.files:
            self.remove(source)
        ids = range(self.next_id, self.next_id + len(chunks))
        self.next_id += len(chunks)
        record = dataclasses.replace(record, chunk_ids=ids)
        self.files[source] = record
        if chunks:
            chunks = [dataclasses.replace(c, chunk_id=i) for c, i in zip(chunks, ids)]
            sentences = list(sentences) if sentences is not None else [None] * len(chunks)
            self._pending.append(
                (source, record, chunks, np.asarray(vectors, dtype="float32"), list(entities), sentences)
            )
            self._pending_passages += len(chunks)
            if self._pending_passages >= self.settings.max_passages:
                self.flush()
        return record

    def flush(self) -> None:
        """Write the pending passages as one segment."""
        if not self._pending:
            return
        chunks = [c for _, _, cs, _, _, _ in self._pending for c in cs]
        vectors = np.concatenate([v for _, _, _, v, _, _ in self._pending]).reshape(len(chunks), self.manifest.dimension)
        entities = [e for _, _, _, _, es, _ in self._pending for e in es]
        sentences = [f for *_, found in self._pending for f in found]
        self._pending, self._pending_passages = [], 0
        info = write_segment(self.path / _SEGMENTS, chunks, vectors, entities, self.manifest.dimension,
                             self.vector_settings, sentences)
        self.written.append(info)

    def locate(self, texts) -> dict[str, tuple[Segment, int]]:
        """Where each of ``texts`` is already indexed: a live passage of the base index
        holding that very text (segment, position)."""
        found: dict[str, tuple[Segment, int]] = {}
        if self.base is None:
            return found
        for segment, live in zip(self.base.segments, self.base.live):
            wanted = [text for text in texts if text not in found]
            if not wanted:
                break
            for text, position in segment.find_texts(wanted).items():
                if live is None or live[position]:
                    found[text] = (segment, position)
        return found

    @staticmethod
    def fetch(located: dict[str, tuple[Segment, int]]) -> dict[str, Embedded]:
        """The vector, entities and sentence vectors at each located passage (so that no text
        is embedded twice)."""
        by_segment: dict[int, tuple[Segment, list[tuple[int, int]]]] = {}
        for key, (segment, position) in located.items():
            by_segment.setdefault(id(segment), (segment, []))[1].append((key, position))
        found = {}
        for segment, wanted in by_segment.values():
            positions = [position for _, position in wanted]
            rows = segment.rows(positions)
            for (key, position), vector, (_, entities) in zip(wanted, segment.vectors_at(positions), rows):
                found[key] = (vector, entities, segment.sentence_vectors_at(position))
        return found

    def commit(self) -> Index:
        """Write what is pending, then make the new segments and tombstones live in one
        manifest swap; then merge segments if the policy asks. Returns the new snapshot."""
        self.flush()
        kept = [e for e in self.entries.values() if e.live > 0]  # a segment with nothing live is dropped
        segments = tuple(kept) + tuple(SegmentEntry(i.name, i.passages, i.first_id, i.last_id) for i in self.written)
        manifest = dataclasses.replace(
            self.manifest, files=self.files, next_id=self.next_id, segments=segments, updated=_now()
        )
        known = {self.base.version: self.base.manifest} if self.base is not None and self.base.version else {}
        name = write_version(self.path, manifest, known)
        return merge(Index.open(self.path, (name, manifest), self.base.segments if self.base is not None else ()))


def _merged_runs(runs: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    merged: list[list[int]] = []
    for start, stop in sorted(runs):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    return tuple((a, b) for a, b in merged)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _manifest_text(manifest: Manifest) -> str:
    """The manifest as JSON, one line per file and per segment: as readable as an indented
    dump, and written by the C encoder (an indented ``json.dump`` runs in Python: 0.3 s for
    the 10,000 files of a million passages)."""
    data = manifest.to_json()
    lines = []
    for key, value in data.items():
        if key in ("files", "segments") and value:
            items = value.items() if key == "files" else enumerate(value)
            inner = ",\n".join(
                ("  " + json.dumps(name) + ": " if key == "files" else "  ") + json.dumps(item) for name, item in items
            )
            lines.append(f" {json.dumps(key)}: {'{' if key == 'files' else '['}\n{inner}\n {'}' if key == 'files' else ']'}")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_version(path: Path, manifest: Manifest, known: dict[str, Manifest] | None = None) -> str:
    """Write ``manifest`` as a new version and make it the live one, atomically; clean up after.

    ``known``: manifests of other versions the caller has read (by version name), so that
    cleaning up does not read them again."""
    name = f"v{time.time_ns()}-{uuid.uuid4().hex[:6]}"
    staging = path / f".tmp-{name}"
    staging.mkdir(parents=True)
    try:
        with open(staging / "manifest.json", "w") as out:
            out.write(_manifest_text(manifest))
            out.flush()
            os.fsync(out.fileno())
        os.rename(staging, path / name)
        pointer = path / f".{_CURRENT}.tmp"
        with open(pointer, "w") as handle:
            handle.write(name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(pointer, path / _CURRENT)
        fsync_directory(path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(path / name, ignore_errors=True)  # renamed but never made live
        raise
    collect_garbage(path, live=name, known={**(known or {}), name: manifest})
    return name


def collect_garbage(path: Path, live: str, known: dict[str, Manifest] | None = None) -> None:
    """Remove old versions (keeping the one before the live one), the segments no kept
    version lists, and whatever a crashed writer left behind. ``known``: manifests already
    read, by version name (the others kept are read here)."""
    known = known or {}
    versions = sorted(p for p in path.glob("v*") if p.is_dir() and p.name != live)
    keep = [live] + [p.name for p in versions[-(_KEEP_VERSIONS - 1):]] if _KEEP_VERSIONS > 1 else [live]
    for old in versions[: max(0, len(versions) - (_KEEP_VERSIONS - 1))]:
        shutil.rmtree(old, ignore_errors=True)
    listed: set[str] = set()
    for name in keep:
        if name in known:
            listed.update(entry.name for entry in known[name].segments)
            continue
        try:
            listed.update(s["name"] for s in json.loads((path / name / "manifest.json").read_text())["segments"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # an unreadable old version keeps nothing alive
    folder = path / _SEGMENTS
    if folder.is_dir():
        for segment in folder.iterdir():
            if segment.name not in listed:
                shutil.rmtree(segment, ignore_errors=True)
    for staging in path.glob(".tmp-v*"):
        shutil.rmtree(staging, ignore_errors=True)
    (path / f".{_CURRENT}.tmp").unlink(missing_ok=True)


def upgrade(path: Path) -> bool:
    """Convert an index of format 2 (one folder per version: chunks.jsonl, entities.jsonl,
    vectors.faiss) into segments, embedding nothing; whether it did. Hold the write lock.

    Passages get new ids (in the order of the old ones); everything else is kept.
    """
    name = live_version(path)
    if name is None:
        return False
    version = path / name
    try:
        data = json.loads((version / "manifest.json").read_text())
    except (OSError, ValueError):
        return False  # read_manifest reports it
    if not isinstance(data, dict) or data.get("format_version") != 2 or data.get("chunker_version") != CHUNKER_VERSION:
        return False
    try:
        files = data.get("files")
        _expect(files, dict, "files")
        for record in files.values():
            _expect(record, dict, "files[…]")
            _expect(record.get("chunk_ids"), list, "files[…].chunk_ids")
            record["chunk_ids"] = _as_span(record["chunk_ids"])
        old = Manifest.from_json({**data, "format_version": FORMAT_VERSION, "segments": []})
        chunks = {c.chunk_id: c for c in (
            Chunk(**json.loads(line)) for line in (version / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
        )}
        lines = (version / "entities.jsonl").read_text(encoding="utf-8").splitlines()
        entities = {cid: tuple(Entity(*e) for e in json.loads(line)) for cid, line in zip(sorted(chunks), lines)}
        vectors = _faiss().read_index(str(version / "vectors.faiss"))
        writer = Writer(path, None, dataclasses.replace(old, files={}, next_id=0))
        for source, record in sorted(old.files.items(), key=lambda item: (list(item[1].chunk_ids) or [-1])[0]):
            ids = list(record.chunk_ids)
            found = np.stack([vectors.reconstruct(i) for i in ids]) if ids else np.zeros((0, old.dimension), "float32")
            writer.add(source, record, [chunks[i] for i in ids], found, [entities[i] for i in ids])
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as error:
        raise IndexFormatError(
            f"{path}: cannot convert the index from format 2 ({error}); {_rebuild_hint(path)}"
        ) from error
    writer.commit()
    log.info("converted %s to format %d (segments)", path, FORMAT_VERSION)
    return True


# -- merging -------------------------------------------------------------------------------


def merge_policy(entries: Sequence[SegmentEntry], settings: SegmentSettings = STORAGE.segments) -> list[list[str]]:
    """Which segments to merge, as groups of names (each group becomes one segment).

    Tiered, as Lucene's: a segment's tier is its size in powers of ``merge_factor`` above
    ``floor`` passages. Once a run of neighbouring segments (in id order, so that id ranges
    stay disjoint) of one tier or below holds ``merge_factor`` segments of that tier, it is
    merged (from the newest end, up to ``max_passages``). A segment with ``expunge_share``
    of its passages deleted is rewritten without them.
    """
    ordered = sorted(entries, key=lambda e: e.first_id)

    def tier(entry: SegmentEntry) -> int:
        size, level = entry.live, 0
        while size >= settings.floor * settings.merge_factor**level:
            level += 1
        return level

    groups: list[list[str]] = []
    taken: set[str] = set()
    for level in range(0, 1 + max((tier(e) for e in ordered), default=0)):
        run: list[SegmentEntry] = []
        for entry in ordered + [None]:
            if entry is not None and entry.name not in taken and tier(entry) <= level:
                run.append(entry)
                continue
            while sum(tier(e) == level for e in run) >= settings.merge_factor:
                # The longest stretch from the newest end that fits in one segment.
                group, total = [], 0
                for candidate in reversed(run):
                    if total + candidate.live > settings.max_passages:
                        break
                    group.append(candidate)
                    total += candidate.live
                if len(group) < 2:
                    break
                groups.append([e.name for e in reversed(group)])
                taken.update(e.name for e in group)
                run = run[: len(run) - len(group)]
            run = []
    for entry in ordered:
        if entry.name not in taken and entry.deleted_count and entry.deleted_count >= settings.expunge_share * entry.passages:
            groups.append([entry.name])
            taken.add(entry.name)
    return groups


def merge(index: Index) -> Index:
    """Merge the segments ``merge_policy`` picks, one group at a time, each ending in a
    manifest swap; the snapshot after the last one (``index`` itself when there is nothing to do)."""
    while True:
        groups = merge_policy(index.manifest.segments, index.manifest.storage.segments)
        if not groups:
            return index
        index = merge_group(index, groups[0])


def finish_merges(path: Path, version: str, manifest: Manifest) -> None:
    """Under the write lock of an unchanged sync (``manifest``: the live ``version``'s): clear
    what a crashed writer left, and do the merges the policy asks for (none, unless a crash
    interrupted one). Opens nothing when there is nothing to merge."""
    collect_garbage(path, live=version, known={version: manifest})
    if merge_policy(manifest.segments, manifest.storage.segments):
        merge(Index.open(path, (version, manifest)))


def merge_group(index: Index, names: list[str]) -> Index:
    """Write the live passages of the ``names`` segments as one, and swap it in for them."""
    chosen = [(s, live, e) for s, live, e in zip(index.segments, index.live, index.manifest.segments) if e.name in names]
    chunks: list[Chunk] = []
    entities: list[tuple[Entity, ...]] = []
    vectors: list[np.ndarray] = []
    sentences: list[np.ndarray | None] = []
    for segment, live, _ in sorted(chosen, key=lambda item: item[2].first_id):
        positions = np.arange(segment.size) if live is None else np.flatnonzero(live)
        for first in range(0, len(positions), 20_000):
            part = positions[first : first + 20_000]
            rows = segment.rows(part)
            chunks.extend(chunk for chunk, _ in rows)
            entities.extend(found for _, found in rows)
            vectors.append(segment.vectors_at(part))
            sentences.extend(segment.sentence_vectors_at(int(p)) for p in part)
    manifest = index.manifest
    position = min(i for i, e in enumerate(manifest.segments) if e.name in names)
    rest = [e for e in manifest.segments if e.name not in names]
    if chunks:
        order = np.argsort([c.chunk_id for c in chunks], kind="stable")
        chunks = [chunks[i] for i in order]
        entities = [entities[i] for i in order]
        stacked = np.concatenate(vectors)[order]
        sentences = [sentences[i] for i in order]
        info = write_segment(index.path / _SEGMENTS, chunks, stacked, entities, manifest.dimension,
                             manifest.storage.vectors, sentences)
        rest.insert(position, SegmentEntry(info.name, info.passages, info.first_id, info.last_id))
    log.info("merged %d segments (%d passages) of %s", len(names), len(chunks), index.path)
    merged = dataclasses.replace(manifest, segments=tuple(rest))
    name = write_version(index.path, merged, {index.version: manifest} if index.version else {})
    return Index.open(index.path, (name, merged), index.segments)


# -- checking -------------------------------------------------------------------------------


def verify(path: str | Path) -> list[str]:
    """What is damaged in the live version of the index at ``path``; [] when it is sound.

    Reads only, without the write lock: the manifest, and every segment it lists in full
    (every passage, vector count, postings), and that the manifest's files and the
    segments' passages are the same ones. ``rag info --check`` prints the result.
    """
    path = Path(path)
    try:
        name = live_version(path)
    except IndexFormatError as error:
        return [str(error)]
    if name is None:
        return [f"no index at {path} (no {_CURRENT} file)"]
    manifest_file = path / name / "manifest.json"
    if not manifest_file.is_file() or manifest_file.stat().st_size == 0:
        return [f"{name}/manifest.json is {'missing' if not manifest_file.is_file() else 'empty'}"]
    try:
        manifest = read_manifest(path, name)
    except IndexFormatError as error:
        return [str(error)]
    problems: list[str] = []
    live_ids: list[np.ndarray] = []
    for entry in manifest.segments:
        where = f"segments/{entry.name}"
        try:
            segment = Segment(path / _SEGMENTS / entry.name, manifest.dimension)
        except ValueError as error:
            problems.append(f"{where}: {error}")
            continue
        problems.extend(f"{where}: {p}" for p in _verify_segment(segment, entry))
        live = _live_mask(segment, entry)
        ids = np.asarray(segment.ids)
        live_ids.append(ids if live is None else ids[live])
        if live is not None and int(np.count_nonzero(~live)) != entry.deleted_count:
            problems.append(f"{where}: the manifest counts {entry.deleted_count:,} deleted passages, its tombstones "
                            f"cover {int(np.count_nonzero(~live)):,}")
    if problems:
        return problems
    found = np.concatenate(live_ids) if live_ids else np.zeros(0, "int64")
    if len(np.unique(found)) != len(found):
        problems.append("some passage ids are live in two segments")
    listed = np.array([i for record in manifest.files.values() for i in record.chunk_ids], dtype="int64")
    missing, orphans = np.setdiff1d(listed, found), np.setdiff1d(found, listed)
    if len(missing):
        problems.append(f"{len(missing):,} passages listed in the manifest are missing from the segments")
    if len(orphans):
        problems.append(f"{len(orphans):,} passages in the segments belong to no file of the manifest")
    if len(listed) != len(np.unique(listed)):
        problems.append("the manifest lists some passages under two files")
    if len(found) and int(found.max()) >= manifest.next_id:
        problems.append(f"passage id {int(found.max())} is not below the manifest's next_id {manifest.next_id}")
    return problems


def _verify_segment(segment: Segment, entry: SegmentEntry) -> list[str]:
    problems = []
    if segment.size != entry.passages:
        problems.append(f"holds {segment.size:,} passages, the manifest says {entry.passages:,}")
    try:
        check = segment._query("PRAGMA quick_check")  # reads every page of the file
    except ValueError as error:
        return problems + [str(error)]
    if check != [("ok",)]:
        return problems + [f"passages.sqlite is damaged ({check[0][0] if check else 'no answer'})"]
    ids = np.asarray(segment.ids)
    try:
        stored = [chunk.chunk_id for _, chunk, _ in segment.all_rows()]
    except ValueError as error:
        return problems + [str(error)]
    if stored != ids.tolist():
        problems.append("passages.sqlite and ids.npy list different passages")
    if np.any(np.diff(ids) <= 0):
        problems.append("ids.npy is not ascending")
    if segment.vectors.ntotal != segment.size:
        problems.append(f"vectors and passages disagree: {segment.vectors.ntotal:,} vectors for {segment.size:,} passages")
    if segment.has_sentences:
        starts = np.asarray(segment._sentence_starts)
        if int(starts[0]) != 0 or np.any(np.diff(starts) < 0):
            problems.append("sentence_starts.npy is not ascending from 0")
    postings = segment.postings
    if len(postings.positions) and (int(postings.positions.max()) >= segment.size or int(postings.positions.min()) < 0):
        problems.append("the keyword postings point past the segment's passages")
    return problems
