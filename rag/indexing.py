"""Bring an index in line with files on disk, embedding only what is new or changed."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import logging
import os
import sqlite3
import time
from pathlib import Path
from collections import Counter
from typing import Callable, Iterator

import numpy as np

from rag.chunking import chunk_documents, document_profile
from rag.config import Limits, default_index_path, default_model, default_tagger
from rag.documents import Notice, SourceFile, find_files, load_documents
from rag.entities import get_tagger
from rag.errors import DocumentError, IndexFormatError
from rag.settings import CHUNKING, STORAGE, StorageSettings
from rag.store import (
    Embedded, FileRecord, Index, Manifest, Writer, finish_merges, live_version, read_live, read_manifest,
    write_lock,
)
from rag.types import Chunk, SyncReport

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

WARNINGS_SHOWN = 3  # of one kind, in a report; the rest are counted


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sync(
    paths: "list[str | Path] | str | Path",
    index: str | Path | None = None,
    *,
    model: str | None = None,
    tagger: str | None = None,
    rebuild: bool = False,
    progress: Progress | None = None,
    limits: Limits | None = None,
    storage: StorageSettings | None = None,
    ray: str | None = None,
) -> SyncReport:
    """Add or update the documents under ``paths`` in the index at ``index``.

    Files and directories (recursive) are accepted. Unchanged files are not read
    again; files deleted from a directory given here leave the index; a file that
    cannot be read, or is over one of the ``limits`` (default: ``Limits.from_env()``),
    is skipped with a warning and keeps its previous chunks, if any. An unchanged
    corpus returns without loading the model or the vectors. Warnings of one kind are
    listed up to three, then counted. Syncs of one index may run at once (threads or
    processes): each embeds before taking the index's write lock, and holds it only to
    write (``PREPARED_PASSAGES`` bounds what it embeds beforehand).

    ``model`` and ``tagger`` (named entities: "spacy", "rules" or "none") are chosen
    when an index is built and kept in its manifest; asking for others needs ``rebuild``.
    ``storage`` (segment sizes, merges, vector search) is kept in the manifest too, and
    applies to whatever is written from then on. ``ray`` reads, chunks, tags and embeds the
    changed files on a Ray cluster (rag.cluster): "local" starts one on this machine, an
    address joins one; it needs the ``cluster`` extra.

    >>> report = sync(["corpus/"], "my-index/")       # doctest: +SKIP
    >>> report.added, report.chunks_added             # doctest: +SKIP
    """
    report = _sync(
        paths, index, model=model, tagger=tagger, rebuild=rebuild, progress=progress, limits=limits, storage=storage,
        ray=ray,
    )
    # After the write lock, as embedding is before it: parses are keyed by their text, and
    # other syncs need not wait for them.
    _reconcile_parses(Path(index) if index is not None else default_index_path(),
                      changed=bool(report.added or report.updated or report.removed), progress=progress)
    return report


def _sync(paths, index, *, model, tagger, rebuild, progress, limits, storage, ray) -> SyncReport:
    """sync() up to the commit (see there for the arguments)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    index = Path(index) if index is not None else default_index_path()
    progress = _forward_only(progress or (lambda fraction, message: None))
    limits = limits or Limits.from_env()
    files, scanned_dirs, refused = find_files(paths)  # raises on a missing path, before any change

    # The slow part (reading, tagging, embedding) runs before the write lock, against the live
    # version of now, so that one big sync does not make every other sync wait for its model;
    # under the lock the plan is made again against the version then live, reusing that work.
    prepared = _Prepared() if ray is not None else _prepare(
        index, files, scanned_dirs, refused, rebuild=rebuild, model=model, tagger=tagger, limits=limits,
        progress=progress, storage=storage,
    )

    def waiting() -> None:
        progress(0.9, "waiting for another change to this index to finish")

    with write_lock(index, on_wait=waiting), contextlib.ExitStack() as cleanup:
        # Read once and passed along (versions never change: the one read before the lock, if
        # still live). An index written before segments is converted once, embedding nothing.
        if rebuild:
            version, manifest = None, None
        elif prepared.manifest is not None and live_version(index) == prepared.version:
            version, manifest = prepared.version, prepared.manifest
        else:
            version, manifest = read_live(index)
        model = model or (manifest.model if manifest else default_model())
        if manifest is not None and manifest.model != model:
            raise IndexFormatError(
                f"{index} was built with the model {manifest.model!r}, not {model!r}; "
                f"rebuild it with: rag index PATH... --index {index} --rebuild --model {model}"
            )
        tagger = _tagger_name(index, manifest, tagger)
        settings = manifest.chunking if manifest else CHUNKING
        known = manifest.files if manifest else {}
        plan = _plan(files, scanned_dirs, refused, known, prepared.hashed)
        changed, unchanged, restat, removed = plan.changed, plan.unchanged, plan.restat, plan.removed
        skipped, warnings = plan.skipped, plan.warnings

        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        if ray is not None and changed:
            from rag import cluster

            if cluster.start(ray):
                cleanup.callback(cluster.stop)  # whatever happens next, a Ray started here is shut down
            read = cluster.read_files([file for file, _, _ in changed], settings, limits, progress)
        else:
            read = (
                prepared.read.get((file.source, sha)) if settings == prepared.settings else None
                for file, sha, _ in changed
            )
            read = (outcome or _read_file(file, settings, limits) for (file, _, _), outcome in zip(changed, read))
        loaded: list[tuple[SourceFile, FileRecord, list[Chunk]]] = []
        for number, ((file, sha, stat), outcome) in enumerate(zip(changed, read)):
            progress(0.1 * number / max(1, len(changed)), f"reading {file.source}")
            if isinstance(outcome, Notice):
                warnings.append(outcome)
                skipped.append(file.source)
                continue
            pages, profile, chunks, file_warnings = outcome
            warnings.extend(file_warnings)
            record = FileRecord(
                root=str(file.root), sha256=sha, chunk_ids=(), pages=pages, profile=profile, added=now,
                **_trusted_stat(stat),
            )
            loaded.append((file, record, chunks))

        updated = [f.source for f, *_ in loaded if f.source in known]
        added = [f.source for f, *_ in loaded if f.source not in known]
        from rag.embedding import get_document_embedder, prepare_query_encoder

        # Nothing to write, unless a rebuild must replace the index: with no index yet and
        # nothing readable (every file refused), no empty index is built, nor the model loaded.
        if not (loaded or removed) and not rebuild:
            if manifest is not None:
                # A merge that a crash interrupted is finished here, and its debris cleared.
                finish_merges(index, version, manifest)
                # An index built before queries ran on onnxruntime gets its export here.
                prepare_query_encoder(model)
            return SyncReport(unchanged=tuple(unchanged), skipped=tuple(skipped), warnings=summarise(warnings))

        progress(0.1, "loading the embedding model")
        after = (manifest.passages if manifest else 0) + sum(len(chunks) for _, _, chunks in loaded)
        sentences = stores_sentences(storage or (manifest.storage if manifest else STORAGE), after)
        if ray is not None and loaded:  # only removals: no text to embed, nothing for Ray to do
            encoder = cluster.Encoder(model, tagger, sentences=sentences)
        else:
            encoder = LocalEncoder(get_document_embedder(model), get_tagger(tagger), sentences=sentences)
        opened = prepared.base.segments if prepared.base is not None else ()
        base = Index.open(index, (version, manifest), opened) if manifest is not None else None
        start = manifest or Manifest(model=model, dimension=encoder.dimension, tagger=tagger, chunking=settings)
        writer = Writer(index, base, dataclasses.replace(start, storage=storage) if storage else start)
        for source in removed + updated:
            writer.remove(source)
        for source, stat in restat.items():
            writer.restat(source, **_trusted_stat(stat))
        ready = prepared.embedded if (model, tagger) == (prepared.model, prepared.tagger) else {}
        embedded = _write_files(writer, loaded, encoder, progress, ready) + prepared.count
        progress(0.95, "writing the index")
        writer.commit()
        progress(0.97, "preparing the query encoder")
        prepare_query_encoder(model)  # exports once per model weights; the model is loaded already
        progress(1.0, "done")
        chunks_removed = sum(len(known[s].chunk_ids) for s in removed + updated)
        return SyncReport(
            added=tuple(added),
            updated=tuple(updated),
            removed=tuple(removed),
            unchanged=tuple(unchanged),
            skipped=tuple(skipped),
            chunks_added=sum(len(chunks) for _, _, chunks in loaded),
            chunks_removed=chunks_removed,
            chunks_embedded=embedded,
            warnings=summarise(warnings),
        )


def _reconcile_parses(index: Path, changed: bool, progress: Progress | None = None) -> None:
    """Parse the quotable sentences of the live index that have no stored parse, and drop
    the parses of sentences it no longer holds (rag.parsing), after a sync that changed
    something, or when the index has no complete set of parses (built before they were
    stored, by another spaCy, or a pass that failed). Never failing the sync: without
    stored parses, answers parse their sentence as needed."""
    from rag.answering.candidates import quotable_spans
    from rag.parsing import has_parses, parser_for, store_parses

    try:
        version, manifest = read_live(index)
        if manifest is None or parser_for(manifest.tagger) is None:
            return
        if not stores_sentences(manifest.storage, manifest.passages) or (not changed and has_parses(index)):
            return
        if progress is not None:
            progress(1.0, "parsing the sentences")
        chunks = Index.open(index, (version, manifest)).chunks
        store_parses(index, [c.text[s:e] for c in chunks for s, e, _ in quotable_spans(c.text)], manifest.tagger)
    except Exception as error:  # noqa: BLE001 - the documents are indexed; parses are a shortcut
        log.warning("the sentences' parses were not stored (%s); answers parse their sentence as needed", error)


# A file changed within this long after it was hashed could keep its size and time (file
# systems with coarse clocks): its time is not recorded, so the next sync reads it again.
_RACY_SECONDS = 2.0


def _forward_only(progress: Progress) -> Progress:
    """``progress`` that never goes back: the locked part of a sync re-reports steps done before it."""
    furthest = 0.0

    def report(fraction: float, message: str) -> None:
        nonlocal furthest
        furthest = max(furthest, fraction)
        progress(furthest, message)

    return report


def _trusted_stat(stat: os.stat_result) -> dict[str, int]:
    """The size and time to record for a file just hashed (-1s when its time is too recent to trust)."""
    if time.time_ns() - stat.st_mtime_ns < _RACY_SECONDS * 1e9:
        return {"size": -1, "mtime_ns": -1}
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _tagger_name(index: Path, manifest, asked: str | None) -> str:
    """The index's tagger: the one it was built with, or the one asked for a new index."""
    if manifest is None:
        return get_tagger(asked or default_tagger()).name
    if asked is not None and get_tagger(asked).name != manifest.tagger:
        raise IndexFormatError(
            f"{index} was tagged with {manifest.tagger!r}, not {asked!r}; "
            f"rebuild it with: rag index PATH... --index {index} --rebuild --tagger {asked}"
        )
    return manifest.tagger


@dataclasses.dataclass
class _Plan:
    """What a sync has to do, against one version of the index."""

    changed: list[tuple[SourceFile, str, os.stat_result]]  # file, its sha256, its stat
    unchanged: list[str]
    restat: dict[str, os.stat_result]  # unchanged files touched since: their new size and time
    removed: list[str]
    skipped: list[str]
    warnings: list[Notice]


def _plan(files: list[SourceFile], scanned_dirs: list[Path], refused: dict[str, Notice],
          known: dict[str, FileRecord], hashed: dict[tuple, str] | None = None) -> _Plan:
    """Which of ``files`` changed against the indexed ``known`` records, and which records left
    their scanned folders. Only changed-looking files (size or time) are hashed, and each
    once: ``hashed`` keeps the digests by path and stat for a second plan."""
    plan = _Plan([], [], {}, [], list(refused), list(refused.values()))
    hashed = {} if hashed is None else hashed
    for file in files:
        record = known.get(file.source)
        if (
            record is not None and record.root != str(file.root)  # as kept: no Path made per file
            and Path(record.root) != file.root and Path(record.root).exists()
        ):
            plan.warnings.append(Notice(
                "files already indexed from another folder",
                f"{file.path}: skipped, {file.source!r} is already indexed from {record.root}; "
                "rename one, or rebuild the index from their common parent folder (--rebuild)",
            ))
            plan.skipped.append(file.source)
            continue
        try:
            stat = file.path.stat()
            if record is not None and (record.size, record.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                plan.unchanged.append(file.source)  # as git does: same size and time, same file
                continue
            # The same stat as when hashed a moment ago, change time included: the same content
            # (what a file still changing keeps from it is decided by _trusted_stat, as ever).
            key = (str(file.path), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
            sha = hashed[key] if key in hashed else hashed.setdefault(key, _sha256(file.path))
        except OSError as error:  # deleted or locked since it was listed
            plan.warnings.append(Notice(
                "files that could not be read", f"{file.source}: skipped, cannot read it ({error.strerror}); try again"
            ))
            plan.skipped.append(file.source)
            continue
        if record is not None and record.sha256 == sha:
            plan.unchanged.append(file.source)
            plan.restat[file.source] = stat
        else:
            plan.changed.append((file, sha, stat))
    found = {file.source for file in files} | set(plan.skipped)  # skipped files keep their passages
    under_scanned = {}  # per root, whether it is a scanned folder or under one
    for record in known.values():
        if record.root not in under_scanned:
            root = Path(record.root)
            under_scanned[record.root] = any(root == d or d in root.parents for d in scanned_dirs)
    plan.removed = [source for source, record in known.items()
                    if source not in found and under_scanned[record.root]]
    return plan


# The most passages a sync embeds before taking the write lock: their vectors and entities are
# held in memory until it has the lock (about 1.6 kB each, so ~80 MB at most). A bigger sync
# embeds the rest under the lock, writing segments as it goes, as a sync always did.
PREPARED_PASSAGES = 50_000


@dataclasses.dataclass
class _Prepared:
    """Work a sync did before taking the write lock, for the locked part to reuse."""

    model: str | None = None
    tagger: str | None = None
    settings: object = None  # the chunking settings the files were read with
    version: str | None = None  # the live version it was done against, with its manifest and segments
    manifest: Manifest | None = None
    base: Index | None = None
    hashed: dict[tuple, str] = dataclasses.field(default_factory=dict)  # see _plan
    read: dict[tuple[str, str], object] = dataclasses.field(default_factory=dict)  # (source, sha256) -> _read_file's
    embedded: dict[str, Embedded] = dataclasses.field(default_factory=dict)  # text -> (vector, entities, sentences)
    count: int = 0  # texts embedded


def _prepare(index: Path, files, scanned_dirs, refused, *, rebuild: bool, model: str | None,
             tagger: str | None, limits: Limits, progress: Progress,
             storage: StorageSettings | None = None) -> _Prepared:
    """Read, tag and embed the changed files against the live version, holding no lock.

    Only an optimisation: the locked part of the sync plans again and checks everything, so
    whatever goes wrong here (the index changes underneath, a version is damaged) just leaves
    that work to it.
    """
    try:
        version = None if rebuild else live_version(index)
        manifest = read_manifest(index, version) if version is not None else None
    except (IndexFormatError, OSError, ValueError) as error:
        log.debug("no work before the write lock: %s", error)
        return _Prepared()
    model = model or (manifest.model if manifest else default_model())
    try:
        if manifest is not None and manifest.model != model:
            return _Prepared()
        tagger = _tagger_name(index, manifest, tagger)
    except IndexFormatError:
        return _Prepared()  # a mismatch the locked part reports, with what to do
    settings = manifest.chunking if manifest else CHUNKING
    hashed: dict[tuple, str] = {}
    plan = _plan(files, scanned_dirs, refused, manifest.files if manifest else {}, hashed)
    prepared = _Prepared(model, tagger, settings, version, manifest, hashed=hashed)
    if not plan.changed:
        return prepared  # an unchanged corpus opens no vectors and loads no model
    texts: dict[str, None] = {}
    for number, (file, sha, _) in enumerate(plan.changed):
        progress(0.1 * number / len(plan.changed), f"reading {file.source}")
        outcome = prepared.read[(file.source, sha)] = _read_file(file, settings, limits)
        if not isinstance(outcome, Notice):
            texts.update(dict.fromkeys(chunk.text for chunk in outcome[2]))
    try:
        base = prepared.base = Index.open(index, (version, manifest)) if manifest is not None else None
        located = Writer(index, base, manifest).locate(list(texts)) if base is not None else {}
    except (IndexFormatError, OSError, ValueError, sqlite3.Error) as error:  # a merge removed a segment
        log.debug("not checking which passages are indexed already: %s", error)
        located = {}
    fresh = [text for text in texts if text not in located][:PREPARED_PASSAGES]
    if fresh:
        from rag.embedding import get_document_embedder

        progress(0.1, "loading the embedding model")
        after = (manifest.passages if manifest else 0) + len(texts)
        encoder = LocalEncoder(get_document_embedder(model), get_tagger(tagger),
                               sentences=stores_sentences(storage or (manifest.storage if manifest else STORAGE), after))
        started = time.monotonic()
        progress(0.1, embedding_message(0, len(fresh), 0.0))
        for done, (text, result) in enumerate(zip(fresh, encoder.stream(fresh)), 1):
            prepared.embedded[text] = result
            if done % 64 == 0 or done == len(fresh):
                progress(0.1 + 0.8 * done / len(fresh), embedding_message(done, len(fresh), time.monotonic() - started))
        prepared.count = len(fresh)
    return prepared


def delete(sources: "list[str] | str", index: str | Path | None = None) -> SyncReport:
    """Remove documents (by source name, as ``Hit.source`` gives it) from the index at ``index``.

    Only the index changes: the files stay where they are, and syncing their folder
    again adds them back. A name the index does not hold is a ``ValueError`` and
    changes nothing. The model is never loaded.

    >>> delete(["notes.txt"], "my-index/").removed        # doctest: +SKIP
    ('notes.txt',)
    """
    if isinstance(sources, str):
        sources = [sources]
    sources = list(dict.fromkeys(sources))
    index = Path(index) if index is not None else default_index_path()
    if not sources:
        raise ValueError("no document named; pass source names as search() hits give them, e.g. ['notes.txt']")
    no_index = IndexFormatError(f"no index at {index}; build one with: rag index PATH... --index {index}")
    if live_version(index) is None:  # before the lock, which would create the folder
        raise no_index
    with write_lock(index):
        version, manifest = read_live(index)
        if manifest is None:
            raise no_index
        unknown = [source for source in sources if source not in manifest.files]
        if unknown:
            raise ValueError(
                f"{', '.join(map(repr, unknown))} {'is' if len(unknown) == 1 else 'are'} not in the index at {index}; "
                "nothing was removed (Index.document_facts() lists the names it holds)"
            )
        writer = Writer(index, Index.open(index, (version, manifest)), manifest)
        for source in sources:
            writer.remove(source)
        writer.commit()
    return SyncReport(
        removed=tuple(sources), chunks_removed=sum(len(manifest.files[source].chunk_ids) for source in sources)
    )


# Passages tagged and embedded per round: bounds the memory a big sync holds beyond its
# passages' text (vectors are handed to the writer, which writes a segment every 250,000).
SLICE_PASSAGES = 8192


def _read_file(file: SourceFile, settings, limits: Limits):
    """A file's (pages, profile, passages, warnings), or the Notice saying why it can't be read."""
    try:
        documents, warnings = load_documents(file.path, file.source, limits)
    except DocumentError as error:
        return Notice(error.kind, str(error))
    profile = document_profile(documents, settings)
    return len(documents), profile, chunk_documents(documents, profile=profile, settings=settings), warnings


class LocalEncoder:
    """Tags and embeds texts in this process, in batches, as a stream."""

    def __init__(self, embedder, tagger, batch: int = 64, sentences: bool = False) -> None:
        self.embedder, self.tagger, self.batch, self.sentences = embedder, tagger, batch, sentences

    @property
    def dimension(self) -> int:
        return self.embedder.dimension

    def stream(self, texts: list[str]) -> Iterator[tuple[np.ndarray, tuple, np.ndarray | None]]:
        """(vector, entities, sentence vectors or None) of each text, in order."""
        from rag.embedding import encode_passages, encode_sentences

        for first in range(0, len(texts), self.batch):
            part = texts[first : first + self.batch]
            vectors = encode_passages(self.embedder, part)
            sentences = encode_sentences(self.embedder, part, vectors) if self.sentences else [None] * len(part)
            yield from zip(vectors, self.tagger.tag(part), sentences)


def stores_sentences(storage: StorageSettings, passages: int) -> bool:
    """Whether a sync that leaves the index with about ``passages`` passages stores the
    vectors of their sentences (see ``VectorSettings.sentences_up_to``)."""
    return passages <= storage.vectors.sentences_up_to


def _write_files(writer: Writer, loaded: list, encoder, progress: Progress, ready: dict | None = None) -> int:
    """Tag, embed and hand to ``writer`` the passages of ``loaded`` files; how many texts were embedded.

    Each distinct text is tagged and embedded once, whether it recurs within this sync or
    is already in the index (then its vector and entities are copied from there) or in
    ``ready`` (text -> vector and entities, embedded before the write lock was taken). The
    encoder streams the new texts' results in order, while files are written slice by slice.
    """
    ready = ready or {}
    texts = list(dict.fromkeys(c.text for _, _, chunks in loaded for c in chunks))
    located = writer.locate([text for text in texts if text not in ready])
    fresh = [text for text in texts if text not in located and text not in ready]
    encoded = encoder.stream(fresh)
    uses = Counter(c.text for _, _, chunks in loaded for c in chunks)
    kept: dict[str, Embedded] = {}  # embedded here, and needed again by a later slice
    started, done = time.monotonic(), 0
    if fresh:
        progress(0.1, embedding_message(0, len(fresh), 0.0))
    for files in _slices(loaded):
        wanted = list(dict.fromkeys(c.text for _, _, chunks in files for c in chunks))
        found = dict(kept)
        found.update((text, ready[text]) for text in wanted if text in ready)
        for text in wanted:
            if text not in located and text not in found:  # the next one the encoder streams
                found[text] = next(encoded)
                done += 1
                if done % 64 == 0 or done == len(fresh):
                    progress(0.1 + 0.85 * done / max(1, len(fresh)),
                             embedding_message(done, len(fresh), time.monotonic() - started))
        found.update(writer.fetch({text: located[text] for text in wanted if text in located}))
        for file, record, chunks in files:
            vectors = (
                np.stack([found[c.text][0] for c in chunks]) if chunks
                else np.zeros((0, writer.manifest.dimension), "float32")
            )
            writer.add(file.source, record, chunks, vectors, [found[c.text][1] for c in chunks],
                       [found[c.text][2] for c in chunks])
            uses.subtract(c.text for c in chunks)
        kept = {text: found[text] for text in found if text not in located and text not in ready and uses[text] > 0}
    return len(fresh)


def _slices(files: list) -> Iterator[list]:
    """Consecutive files, about ``SLICE_PASSAGES`` passages at a time (a file is never split)."""
    batch, passages = [], 0
    for item in files:
        batch.append(item)
        passages += len(item[2])
        if passages >= SLICE_PASSAGES:
            yield batch
            batch, passages = [], 0
    if batch:
        yield batch


def summarise(notices: list[Notice], shown: int = WARNINGS_SHOWN) -> tuple[str, ...]:
    """The first ``shown`` warnings of each kind, then "… and N more <kind>".

    >>> summarise([Notice("pages with no extractable text", f"a.pdf: page {n} …") for n in range(1, 6)], 2)
    ('a.pdf: page 1 …', 'a.pdf: page 2 …', '… and 3 more pages with no extractable text')
    """
    by_kind: dict[str, list[str]] = {}
    for notice in notices:
        by_kind.setdefault(notice.kind, []).append(notice.message)
    lines: list[str] = []
    for kind, messages in by_kind.items():
        lines.extend(messages[:shown])
        if len(messages) > shown:
            lines.append(f"… and {len(messages) - shown:,} more {kind}")
    return tuple(lines)


def embedding_message(done: int, total: int, seconds: float) -> str:
    """``embedding 1,280/5,000 passages, 42/s, about 1 min 29 s left``.

    >>> embedding_message(1280, 5000, 30.0)
    'embedding 1,280/5,000 passages, 43/s, about 1 min 27 s left'
    """
    message = f"embedding {done:,}/{total:,} passages"
    if done and seconds > 0:
        rate = done / seconds
        message += f", {rate:,.0f}/s"
        if done < total:
            message += f", about {_duration((total - done) / rate)} left"
    return message


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
