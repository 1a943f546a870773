"""The index on disk: FAISS vectors, chunk metadata and a manifest, swapped in atomically.

Layout of an index directory::

    CURRENT            name of the live version folder, replaced atomically
    LOCK               held while a writer builds a new version
    v<time>-<id>/      manifest.json, chunks.jsonl, entities.jsonl, vectors.faiss

A writer builds a complete new version folder and only then points CURRENT at it,
so a crash mid-build leaves the previous version live and readable.
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
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

import numpy as np

from rag.chunking import CHUNKER_VERSION
from rag.entities import Entity, Gazetteer
from rag.errors import IndexFormatError
from rag.settings import CHUNKING, ChunkingSettings
from rag.types import Chunk, DocumentFacts, IndexInfo

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: entities.jsonl beside the chunks; tagger and chunking settings in the manifest
_CURRENT = "CURRENT"
_KEEP_VERSIONS = 2  # the live one and the one before, for readers still holding it


@dataclass(frozen=True)
class FileRecord:
    """What the manifest remembers about one indexed source file."""

    root: str
    sha256: str
    chunk_ids: tuple[int, ...]
    pages: int = 1
    profile: str = "plain"  # how it was chunked: "news" or "plain" (rag.chunking)
    added: str = ""  # ISO timestamp of when this version of the file was indexed; "" in older indexes


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

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["files"] = {s: dataclasses.asdict(r) for s, r in sorted(self.files.items())}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Manifest":
        """The manifest in ``data``; ValueError naming the first field of the wrong type."""
        _expect(data, dict, "the manifest")
        for name, kind in (("model", str), ("dimension", int), ("next_id", int), ("updated", str), ("files", dict)):
            if name in data:
                _expect(data[name], kind, name)
        files = {}
        for source, r in data.get("files", {}).items():
            _expect(r, dict, f"files[{source!r}]")
            for name, kind in (("root", str), ("sha256", str), ("chunk_ids", list), ("pages", int), ("profile", str)):
                if name in r or name in ("root", "sha256", "chunk_ids"):
                    _expect(r.get(name), kind, f"files[{source!r}].{name}")
            for chunk_id in r["chunk_ids"]:
                _expect(chunk_id, int, f"files[{source!r}].chunk_ids")
            added = r.get("added", "")  # not recorded by indexes written before it was
            _expect(added, str, f"files[{source!r}].added")
            files[source] = FileRecord(
                r["root"], r["sha256"], tuple(r["chunk_ids"]), r.get("pages", 1), r.get("profile", "plain"), added=added
            )
        chunking = data.get("chunking", {})
        _expect(chunking, dict, "chunking")
        try:
            settings = ChunkingSettings(**chunking)
        except TypeError as error:
            raise ValueError(f"chunking: {error}") from None
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{**{k: v for k, v in data.items() if k in known}, "files": files, "chunking": settings})


def _expect(value: Any, kind: type, name: str) -> None:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{name} should be {kind.__name__}, not {type(value).__name__}")


def _rebuild_hint(path: Path) -> str:
    return f"rebuild it: rag index PATH... --index {path} --rebuild"


@functools.lru_cache(maxsize=1)
def _faiss():
    """faiss, imported on first use and kept to one thread.

    One query against a flat index gains nothing from threads, and faiss's OpenMP
    threads keep spinning after each search, starving torch's threads that encode the
    next query: on 2 cores this alone nearly doubled search() time (10 → 18 ms p50).
    """
    import faiss

    faiss.omp_set_num_threads(1)
    return faiss


_VERSION_NAME = re.compile(r"v[0-9A-Za-z_-]+")


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

    Cheap: reads one small JSON file, never the vectors.
    """
    version = version or live_version(path)
    if version is None:
        return None
    try:
        data = json.loads((path / version / "manifest.json").read_text())
    except (OSError, ValueError) as error:
        raise IndexFormatError(f"{path}: cannot read the index manifest ({error}); {_rebuild_hint(path)}") from error
    if not isinstance(data, dict):
        raise IndexFormatError(f"{path}: the index manifest is not a JSON object; {_rebuild_hint(path)}")
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
def write_lock(path: Path) -> Iterator[None]:
    """Serialise writers of one index, across threads and processes."""
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
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Index:
    """An in-memory snapshot of one index version; never changes after it is made."""

    def __init__(
        self,
        path: Path,
        manifest: Manifest,
        chunks: list[Chunk],
        vectors: Any,
        version: str | None = None,
        entities: list[tuple[Entity, ...]] | None = None,
    ) -> None:
        self.path = path
        self.version = version  # the version folder this snapshot was read from, if any
        self.size_bytes = _folder_size(path / version) if version else 0
        self.manifest = manifest
        self.chunks = chunks  # ordered by chunk_id
        self.vectors = vectors  # faiss.IndexIDMap2 over inner product
        # Named entities of each chunk, offsets in its text; aligned with ``chunks``.
        self.chunk_entities = entities if entities is not None else [() for _ in chunks]
        self._position = {chunk.chunk_id: i for i, chunk in enumerate(chunks)}
        self.ids = np.array([c.chunk_id for c in chunks], dtype="int64")
        self.dates = np.array([c.date or "" for c in chunks], dtype=object)
        self.sources = np.array([c.source for c in chunks], dtype=object)
        self.cache: dict[str, Any] = {}  # derived structures (BM25), built on demand

    # -- reading ---------------------------------------------------------------

    @classmethod
    def empty(
        cls, path: Path, model: str, dimension: int, tagger: str = "none", chunking: ChunkingSettings = CHUNKING
    ) -> "Index":
        faiss = _faiss()

        vectors = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        manifest = Manifest(model=model, dimension=dimension, tagger=tagger, chunking=chunking)
        return cls(path, manifest, [], vectors)

    @classmethod
    def open(cls, path: str | Path) -> "Index":
        """Load the live version of the index at ``path``."""
        faiss = _faiss()

        path = Path(path)
        name = live_version(path)  # read once: a writer may swap it while we load
        if name is None:
            raise IndexFormatError(f"no index at {path}; build one with: rag index PATH... --index {path}")
        manifest = read_manifest(path, name)
        version = path / name
        try:
            chunks = [
                _chunk(json.loads(line))
                for line in (version / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
            ]
            entities = [
                tuple(Entity(*e) for e in json.loads(line))
                for line in (version / "entities.jsonl").read_text(encoding="utf-8").splitlines()
            ]
            vectors = faiss.read_index(str(version / "vectors.faiss"))
        except (OSError, ValueError, TypeError, RuntimeError) as error:
            raise IndexFormatError(f"{path}: the index is damaged ({error}); {_rebuild_hint(path)}") from error
        if vectors.ntotal != len(chunks) or vectors.d != manifest.dimension or len(entities) != len(chunks):
            raise IndexFormatError(
                f"{path}: vectors, chunks and entities disagree ({vectors.ntotal}, {len(chunks)}, {len(entities)}); "
                f"{_rebuild_hint(path)}"
            )
        return cls(path, manifest, chunks, vectors, name, entities)

    def documents(self) -> dict[str, Path]:
        """Every indexed source, with the folder it was indexed from."""
        return {source: Path(record.root) for source, record in self.manifest.files.items()}

    def document_facts(self) -> list[DocumentFacts]:
        """Every indexed document, by name: its type, pages, passages, date range and when it was added.

        >>> [(d.source, d.passages, d.date_from) for d in open_index().document_facts()]   # doctest: +SKIP
        [('assad-in-moscow-as-it-happened.txt', 129, '2024-12-07')]
        """
        dates: dict[str, list[str]] = {}
        for chunk in self.chunks:
            if chunk.date:
                dates.setdefault(chunk.source, []).append(chunk.date)
        return [
            DocumentFacts(
                source=source,
                kind=PurePosixPath(source).suffix.lstrip(".").lower(),
                pages=record.pages,
                passages=len(record.chunk_ids),
                date_from=min(dates[source]) if source in dates else None,
                date_to=max(dates[source]) if source in dates else None,
                added=record.added,
                folder=record.root,
            )
            for source, record in sorted(self.manifest.files.items())
        ]

    def chunk(self, chunk_id: int) -> Chunk:
        return self.chunks[self._position[chunk_id]]

    def entities(self, chunk_id: int) -> tuple[Entity, ...]:
        """The named entities of a chunk, with offsets in its text."""
        return self.chunk_entities[self._position[chunk_id]]

    @functools.cached_property
    def known_dates(self) -> frozenset[str]:
        """Every date the passages carry, for reading days named without a year."""
        return frozenset(c.date for c in self.chunks if c.date)

    @functools.cached_property
    def gazetteer(self) -> Gazetteer:
        """Every name the passages hold, for finding them in questions."""
        return Gazetteer(
            (chunk.text[e.start : e.end], e.label)
            for chunk, entities in zip(self.chunks, self.chunk_entities)
            for e in entities
        )

    def vector(self, chunk_id: int) -> np.ndarray:
        return self.vectors.reconstruct(int(chunk_id))

    def dense_search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Inner-product top-k as FAISS returns it, ``(scores, chunk_ids)``, padding dropped.

        ``allowed`` (chunk ids) restricts the search before the cut, so a filtered
        search still finds k hits when k exist.
        """
        faiss = _faiss()

        query = np.ascontiguousarray(query.reshape(1, -1), dtype="float32")
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                return np.zeros(0, "float32"), np.zeros(0, "int64")
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, "int64")))
        k = min(k, self.vectors.ntotal)
        if k <= 0:
            return np.zeros(0, "float32"), np.zeros(0, "int64")
        scores, ids = self.vectors.search(query, k, params=params)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def info(self) -> IndexInfo:
        return IndexInfo(
            path=str(self.path),
            documents=len(self.manifest.files),
            chunks=len(self.chunks),
            model=self.manifest.model,
            dimension=self.manifest.dimension,
            size_bytes=self.size_bytes,
            updated=self.manifest.updated,
        )

    # -- writing ---------------------------------------------------------------

    def replace_files(
        self,
        removed: list[str],
        added: list[tuple[str, FileRecord, list[Chunk], np.ndarray, list[tuple[Entity, ...]]]],
    ) -> "Index":
        """A new Index with the chunks of ``removed`` sources dropped and ``added`` ones in.

        Each added entry is ``(source, record, chunks, vectors, entities)``; the chunks get
        fresh ids here. This snapshot is left untouched: readers keep using it meanwhile.
        """
        faiss = _faiss()

        vectors = faiss.clone_index(self.vectors)
        files = dict(self.manifest.files)
        dropped: set[int] = set()
        for source in removed:
            record = files.pop(source, None)
            if record is not None:
                dropped.update(record.chunk_ids)
        if dropped:
            vectors.remove_ids(np.array(sorted(dropped), dtype="int64"))
        kept = [i for i, c in enumerate(self.chunks) if c.chunk_id not in dropped]
        chunks = [self.chunks[i] for i in kept]
        entities = [self.chunk_entities[i] for i in kept]
        next_id = self.manifest.next_id
        for source, record, new_chunks, new_vectors, new_entities in added:
            ids = np.arange(next_id, next_id + len(new_chunks), dtype="int64")
            next_id += len(new_chunks)
            if len(new_chunks):
                vectors.add_with_ids(np.ascontiguousarray(new_vectors, dtype="float32"), ids)
            chunks.extend(dataclasses.replace(c, chunk_id=int(i)) for c, i in zip(new_chunks, ids))
            entities.extend(new_entities)
            files[source] = dataclasses.replace(record, chunk_ids=tuple(int(i) for i in ids))
        manifest = dataclasses.replace(
            self.manifest,
            files=files,
            next_id=next_id,
            updated=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        )
        return Index(self.path, manifest, chunks, vectors, self.version, entities)

    def save(self) -> "Index":
        """Write this snapshot as a new version and make it the live one, atomically."""
        faiss = _faiss()

        self.path.mkdir(parents=True, exist_ok=True)
        name = f"v{time.time_ns()}-{uuid.uuid4().hex[:6]}"
        staging = self.path / f".tmp-{name}"
        staging.mkdir()
        try:
            with open(staging / "chunks.jsonl", "w", encoding="utf-8") as out:
                for chunk in self.chunks:
                    out.write(json.dumps(dataclasses.asdict(chunk), ensure_ascii=False) + "\n")
            with open(staging / "entities.jsonl", "w", encoding="utf-8") as out:
                for entities in self.chunk_entities:
                    out.write(json.dumps([[e.start, e.end, e.label] for e in entities]) + "\n")
            faiss.write_index(self.vectors, str(staging / "vectors.faiss"))
            # BM25 is built here, where bm25s is cheap to import, so opening never has to.
            from rag.lexical import KeywordIndex

            keyword = KeywordIndex.build([chunk.text for chunk in self.chunks])
            keyword.save(staging, self.ids)
            # The manifest goes last: a version folder with a manifest is complete.
            (staging / "manifest.json").write_text(json.dumps(self.manifest.to_json(), indent=1))
            for file in staging.iterdir():
                with open(file, "rb") as handle:
                    os.fsync(handle.fileno())
            os.rename(staging, self.path / name)
            pointer = self.path / f".{_CURRENT}.tmp"
            with open(pointer, "w") as handle:
                handle.write(name + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(pointer, self.path / _CURRENT)
            _fsync_directory(self.path)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._collect_garbage(live=name)
        self.version, self.size_bytes = name, _folder_size(self.path / name)
        self.cache["keyword"] = keyword
        return self

    def _collect_garbage(self, live: str) -> None:
        """Remove old versions (keeping the one before the live one) and failed builds."""
        versions = sorted(p for p in self.path.glob("v*") if p.is_dir() and p.name != live)
        for old in versions[: max(0, len(versions) - (_KEEP_VERSIONS - 1))]:
            shutil.rmtree(old, ignore_errors=True)
        for staging in self.path.glob(".tmp-v*"):
            shutil.rmtree(staging, ignore_errors=True)
        (self.path / f".{_CURRENT}.tmp").unlink(missing_ok=True)


def _chunk(data: Any) -> Chunk:
    """A Chunk from one line of chunks.jsonl; ValueError or TypeError when it is not one."""
    chunk = Chunk(**data)
    for name, kind in (("chunk_id", int), ("source", str), ("text", str), ("start", int), ("end", int)):
        _expect(getattr(chunk, name), kind, f"chunk {name}")
    for name, kind in (("page", int), ("date", str)):
        if getattr(chunk, name) is not None:
            _expect(getattr(chunk, name), kind, f"chunk {name}")
    return chunk


def _folder_size(folder: Path) -> int:
    try:
        return sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    except FileNotFoundError:  # removed by a writer's clean-up meanwhile
        return 0


def _fsync_directory(path: Path) -> None:
    """Make a rename inside ``path`` durable, so a power cut cannot undo it."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def verify(path: str | Path) -> list[str]:
    """What is damaged in the live version of the index at ``path``; [] when it is sound.

    Reads only, without the write lock: checks that the manifest, chunks.jsonl and
    vectors.faiss are there and readable, and that the passages of the manifest, the
    chunks and the vectors are the same ones. ``rag info --check`` prints the result.
    """
    path = Path(path)
    try:
        name = live_version(path)
    except IndexFormatError as error:
        return [str(error)]
    if name is None:
        return [f"no index at {path} (no {_CURRENT} file)"]
    version = path / name
    problems = [
        f"{name}/{file} is {'missing' if not (version / file).is_file() else 'empty'}"
        for file in ("manifest.json", "chunks.jsonl", "vectors.faiss")
        if not (version / file).is_file() or (version / file).stat().st_size == 0
    ]
    if problems and len(problems) == 3:  # not even a version folder
        return problems
    try:
        manifest = read_manifest(path, name)
    except IndexFormatError as error:
        problems.append(str(error))
        manifest = None
    chunk_ids = _verify_chunks(version / "chunks.jsonl", problems)
    vector_ids = _verify_vectors(version / "vectors.faiss", manifest, problems)
    if chunk_ids is not None and vector_ids is not None and set(chunk_ids) != set(vector_ids):
        problems.append(
            f"vectors and passages disagree: {len(vector_ids):,} vectors for {len(chunk_ids):,} passages "
            f"({len(set(chunk_ids) ^ set(vector_ids)):,} ids are in one and not the other)"
        )
    if manifest is not None and chunk_ids is not None:
        listed = [i for record in manifest.files.values() for i in record.chunk_ids]
        missing, orphans = set(listed) - set(chunk_ids), set(chunk_ids) - set(listed)
        if missing:
            problems.append(f"{len(missing):,} passages listed in the manifest are missing from chunks.jsonl")
        if orphans:
            problems.append(f"{len(orphans):,} passages in chunks.jsonl belong to no file of the manifest")
        if len(listed) != len(set(listed)):
            problems.append("the manifest lists some passages under two files")
        if chunk_ids and max(chunk_ids) >= manifest.next_id:
            problems.append(f"passage id {max(chunk_ids)} is not below the manifest's next_id {manifest.next_id}")
    return problems


def _verify_chunks(file: Path, problems: list[str]) -> list[int] | None:
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        problems.append(f"cannot read chunks.jsonl ({error})")
        return None
    ids: list[int] = []
    bad = []
    for number, line in enumerate(lines, start=1):
        try:
            ids.append(_chunk(json.loads(line)).chunk_id)
        except (ValueError, TypeError) as error:
            bad.append(f"line {number} ({error})")
    if bad:
        more = f" and {len(bad) - 3:,} more" if len(bad) > 3 else ""
        problems.append(f"chunks.jsonl has lines that are not passages: {', '.join(bad[:3])}{more}")
    if len(ids) != len(set(ids)):
        problems.append("chunks.jsonl holds some passage ids twice")
    return ids


def _verify_vectors(file: Path, manifest: Manifest | None, problems: list[str]) -> list[int] | None:
    faiss = _faiss()
    try:
        vectors = faiss.read_index(str(file))
        ids = faiss.vector_to_array(vectors.id_map).tolist()
    except (RuntimeError, AttributeError, OSError):
        if file.is_file() and file.stat().st_size:  # a missing or empty file is reported already
            problems.append("vectors.faiss is unreadable (cut short, or not a FAISS index with ids)")
        return None
    if manifest is not None and vectors.d != manifest.dimension:
        problems.append(f"vectors have {vectors.d} dimensions, the manifest says {manifest.dimension}")
    return ids
