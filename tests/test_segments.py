"""Segments: round trips, tombstones, tiered merges, crashes at each step of a merge,
readers that keep their snapshot, and rankings that do not depend on how the corpus
was split into segments."""

from __future__ import annotations

import shutil
import threading

import numpy as np
import pytest

from rag import delete, search, sync
from rag.entities import Entity
from rag.search import rank
from rag.segments import Segment, content_key, write_segment
from rag.settings import SegmentSettings, StorageSettings
from rag.store import Index, SegmentEntry, merge_policy, read_manifest, verify
from rag.types import Chunk
from tests.conftest import CORPUS, DEVSET

# Tiny segments merge after three of a tier, so that a few syncs exercise every path.
SMALL = StorageSettings(segments=SegmentSettings(max_passages=60, merge_factor=3, floor=4, expunge_share=0.5))

NOTES = {
    "alpha.txt": "Alpha station reported heavy snowfall across the northern valley on Monday.",
    "beta.txt": "Beta harbour reopened to fishing boats after the storm passed on Tuesday.",
    "gamma.md": "# Gamma\n\nGamma orchard expects a record apple harvest this autumn season.",
    "delta.txt": "Delta airport added two daily flights to the coastal capital city.",
    "epsilon.txt": "Epsilon library extended its opening hours for students during exams.",
}


def write(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def split_corpus(folder, parts=9):
    """The default corpus cut into ``parts`` files of consecutive paragraphs."""
    paragraphs = (CORPUS / "assad-in-moscow-as-it-happened.txt").read_text(encoding="utf-8").split("\n\n")
    size = -(-len(paragraphs) // parts)
    files = {f"part-{n:02d}.txt": "\n\n".join(paragraphs[n * size : (n + 1) * size]) for n in range(parts)}
    return write(folder, {name: text for name, text in files.items() if text.strip()})


def by_place(hits):
    return [(h.source, h.page, h.start, h.end, h.score) for h in hits]


# -- one segment ----------------------------------------------------------------------------


def test_a_segment_gives_back_its_passages_vectors_entities_and_names(tmp_path):
    chunks = [
        Chunk(3, "a.txt", "Putin met Erdogan in Moscow.", 0, 28, None, "2024-12-08"),
        Chunk(7, "b.pdf", "Snow closed the pass.", 10, 31, 2, None),
        Chunk(9, "a.txt", "Putin spoke again.", 30, 48, None, "2024-12-09"),
    ]
    entities = [(Entity(0, 5, "PERSON"), Entity(10, 17, "PERSON"), Entity(21, 27, "GPE")), (), (Entity(0, 5, "PERSON"),)]
    vectors = np.random.default_rng(0).normal(size=(3, 8)).astype("float32")
    info = write_segment(tmp_path, chunks, vectors, entities, 8)
    assert (info.passages, info.first_id, info.last_id) == (3, 3, 9)
    assert not list(tmp_path.glob(".tmp-*"))
    segment = Segment(tmp_path / info.name, 8)
    assert [(c, e) for c, e in segment.rows([2, 0, 1])] == [(chunks[2], entities[2]), (chunks[0], entities[0]),
                                                             (chunks[1], entities[1])]
    assert segment.position(7) == 1 and segment.position(8) is None
    np.testing.assert_array_equal(segment.vectors_at([0, 1, 2]), vectors)
    assert segment.find_texts(["Snow closed the pass.", "Snow closed the road."]) == {"Snow closed the pass.": 1}
    assert segment.name_counts() == {("putin", "PERSON"): 2, ("erdogan", "PERSON"): 1, ("moscow", "GPE"): 1}
    assert segment.sources == ["a.txt", "b.pdf"] and np.asarray(segment.dates).tolist() == [20241208, 0, 20241209]


def test_a_segment_refuses_ids_out_of_order_and_counts_that_disagree(tmp_path):
    chunks = [Chunk(2, "a.txt", "one", 0, 3), Chunk(1, "a.txt", "two", 4, 7)]
    with pytest.raises(ValueError, match="ascending"):
        write_segment(tmp_path, chunks, np.zeros((2, 4), "float32"), [(), ()], 4)
    with pytest.raises(ValueError, match="disagree"):
        write_segment(tmp_path, chunks[:1], np.zeros((2, 4), "float32"), [()], 4)
    assert not list(tmp_path.iterdir())  # nothing half-written is left


def test_the_content_key_is_the_same_in_every_process():
    assert content_key("Beta harbour reopened.") == content_key("Beta harbour reopened.") == 9222653238503315275


# -- syncs, tombstones and merges -----------------------------------------------------------


def test_a_sync_writes_only_a_small_segment_and_tombstones_what_it_replaced(tmp_path):
    docs, path = write(tmp_path / "docs", NOTES), tmp_path / "index"
    sync([docs], path, model="hash", tagger="rules")
    first = Index.open(path)
    (old,) = first.manifest.segments
    beta = first.manifest.files["beta.txt"].chunk_ids
    (docs / "beta.txt").write_text("Beta harbour stays closed while divers inspect the damaged pier walls.")
    sync([docs], path)
    after = Index.open(path)
    kept, new = after.manifest.segments
    assert kept.name == old.name and kept.deleted == ((beta[0], beta[-1] + 1),) and kept.deleted_count == 1
    assert (new.passages, new.live) == (1, 1)  # the new segment holds the changed file only
    assert after.count == 5 and verify(path) == []
    with pytest.raises(KeyError):
        after.chunk(beta[0])  # a tombstoned passage is gone from this snapshot
    assert first.chunk(beta[0]).text.startswith("Beta harbour reopened")  # and still there in the old one
    assert [h.text for h in search("Beta harbour", 5, index=path) if h.source == "beta.txt"] == [
        "Beta harbour stays closed while divers inspect the damaged pier walls."
    ]


def test_merge_policy_merges_a_full_tier_of_neighbours_within_the_size_cap():
    settings = SMALL.segments

    def entry(name, passages, first, deleted=0):
        return SegmentEntry(name, passages, first, first + passages - 1, ((first, first + deleted),) if deleted else (), deleted)

    tiny = [entry(f"s{n}", 2, 100 + 10 * n) for n in range(3)]
    assert merge_policy(tiny, settings) == [["s0", "s1", "s2"]]
    assert merge_policy(tiny[:2], settings) == []  # not yet a full tier
    big = entry("sbig", 40, 0)
    assert merge_policy(tiny[:2] + [entry("sbig", 40, 105)] + tiny[2:], settings) == []  # only neighbours merge
    assert merge_policy([big] + tiny, settings) == [["s0", "s1", "s2"]]  # the big one is of another tier
    near_full = [entry(f"m{n}", 25, 10 * n) for n in range(3)]  # tier 2, but three make 75 > 60
    assert merge_policy(near_full, settings) == [["m1", "m2"]]
    assert merge_policy([entry("sdel", 40, 0, deleted=20)], settings) == [["sdel"]]  # half deleted: rewritten
    assert merge_policy([entry("sdel", 40, 0, deleted=19)], settings) == []


def test_syncing_file_by_file_merges_segments_and_keeps_every_passage_vector_and_entity(tmp_path):
    docs = split_corpus(tmp_path / "docs")
    whole = tmp_path / "whole"
    sync([docs], whole, model="hash", tagger="rules")
    path = tmp_path / "index"
    names = sorted(p.name for p in docs.iterdir())
    for number in range(1, len(names) + 1):
        sync([docs / name for name in names[:number]], path, model="hash", tagger="rules", storage=SMALL)
    manifest = read_manifest(path)
    assert len(manifest.segments) < len(names)  # merged along the way
    assert max(s.passages for s in manifest.segments) <= SMALL.segments.max_passages
    assert verify(path) == []
    one, many = Index.open(whole), Index.open(path)

    def contents(index):
        return {
            (c.source, c.page, c.start): (c.text, c.date, index.entities(c.chunk_id), index.vector(c.chunk_id).tolist())
            for c in index.chunks
        }

    assert contents(one) == contents(many)
    assert one.gazetteer.labels == many.gazetteer.labels and one.known_dates == many.known_dates
    assert [(d.source, d.passages, d.date_from, d.date_to) for d in one.document_facts()] == [
        (d.source, d.passages, d.date_from, d.date_to) for d in many.document_facts()
    ]


def test_ranking_is_unchanged_when_the_corpus_is_reindexed_one_file_at_a_time(tmp_path):
    """The default corpus (in nine files) indexed at once, and one file at a time with
    merges, a changed and restored file (tombstones) and a deleted and re-added one:
    every dev question gets the same passages with the same scores, in the same order."""
    from rag.evaluation import load_devset

    docs = split_corpus(tmp_path / "docs")
    at_once, by_file = tmp_path / "at-once", tmp_path / "by-file"
    sync([docs], at_once, model="hash", tagger="rules")
    names = sorted(p.name for p in docs.iterdir())
    for name in names:
        sync([docs / name], by_file, model="hash", tagger="rules", storage=SMALL)
    original = (docs / names[3]).read_text()
    (docs / names[3]).write_text("A paragraph that replaced the whole file for a while.")
    sync([docs / names[3]], by_file)
    (docs / names[3]).write_text(original)
    sync([docs / names[3]], by_file)
    delete(names[5], by_file)
    sync([docs / names[5]], by_file)
    segments = read_manifest(by_file).segments
    assert len(segments) > 1 and any(s.deleted for s in segments)  # really split, with tombstones
    a, b = Index.open(at_once), Index.open(by_file)
    assert sorted(a.manifest.files[n].chunk_ids[0] for n in names) != sorted(b.manifest.files[n].chunk_ids[0] for n in names)
    for question in load_devset(DEVSET):
        assert by_place(search(question.question, 10, index=a)) == by_place(search(question.question, 10, index=b)), question.question
        for mode in ("dense", "keyword"):
            assert by_place(rank(a, question.question, 20, mode=mode)) == by_place(rank(b, question.question, 20, mode=mode))
    filtered = dict(date_from="2024-12-08", date_to="2024-12-08", source="part-0*")
    assert by_place(search("Assad Moscow", 10, index=a, **filtered)) == by_place(search("Assad Moscow", 10, index=b, **filtered))


# -- crashes and concurrent readers ---------------------------------------------------------


def three_syncs(tmp_path):
    """An index whose third sync triggers a merge (three tiny segments)."""
    docs, path = tmp_path / "docs", tmp_path / "index"
    names = list(NOTES)[:3]
    for number, name in enumerate(names):
        write(docs, {name: NOTES[name]})
        if number < 2:
            sync([docs], path, model="hash", tagger="rules", storage=SMALL)
    return docs, path


def call_fails(target, monkeypatch, on_call):
    """Make ``target`` raise on its ``on_call``-th call (the earlier ones work)."""
    import importlib

    owner_name, attribute = target.rsplit(".", 1)
    parts = owner_name.split(".")
    for cut in range(len(parts), 0, -1):  # the longest importable prefix, then attributes
        try:
            owner = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            owner = getattr(owner, name)
        break
    module = owner
    real = getattr(module, attribute)
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == on_call:
            raise OSError("power cut")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, attribute, failing)
    return calls


# Each step of a sync that merges, and which call of it belongs to the merge: the sync's own
# segment and manifest come first.
MERGE_STEPS = {
    "reading the segments to merge": ("rag.segments.Segment.rows", 1),
    "building the merged vectors": ("rag.vectors.build", 2),
    "writing the merged vectors": ("faiss.write_index", 2),
    "writing the merged postings": ("rag.lexical.Postings.save", 2),
    # os.rename: the sync's segment (1) and version folder (2), then the merge's (3, 4)
    "renaming the merged segment into place": ("os.rename", 3),
    "writing the merged manifest": ("rag.store._manifest_text", 2),
    "renaming the merged manifest's folder": ("os.rename", 4),
    "swapping CURRENT to the merged manifest": ("rag.store.os.replace", 2),
}


@pytest.mark.parametrize("target, on_call", MERGE_STEPS.values(), ids=MERGE_STEPS.keys())
def test_a_crash_at_any_step_of_a_merge_leaves_the_last_good_manifest_live(tmp_path, monkeypatch, target, on_call):
    docs, path = three_syncs(tmp_path)
    calls = call_fails(target, monkeypatch, on_call)
    with pytest.raises(OSError, match="power cut"):
        sync([docs], path)
    monkeypatch.undo()
    assert len(calls) == on_call  # it crashed where meant to
    live = read_manifest(path)
    assert sorted(live.files) == sorted(list(NOTES)[:3])  # the sync itself went live before its merge
    assert len(live.segments) == 3 and verify(path) == []
    expected = by_place(search("harbour snowfall orchard", 5, index=path))
    assert len(expected) == 3
    report = sync([docs], path)  # nothing changed: the next sync only finishes the merge and cleans up
    assert not report.changed
    after = read_manifest(path)
    assert len(after.segments) == 1 and verify(path) == []
    assert sorted(p.name for p in (path / "segments").iterdir()) == sorted(s.name for s in after.segments + live.segments)
    assert not list(path.glob(".tmp-*")) and not list((path / "segments").glob(".tmp-*"))
    assert by_place(search("harbour snowfall orchard", 5, index=path)) == expected


def test_a_crash_while_writing_a_sync_segment_changes_nothing(tmp_path, monkeypatch):
    docs, path = three_syncs(tmp_path)
    version = (path / "CURRENT").read_text()
    call_fails("rag.lexical.Postings.save", monkeypatch, 1)
    with pytest.raises(OSError, match="power cut"):
        sync([docs], path)
    monkeypatch.undo()
    assert (path / "CURRENT").read_text() == version and verify(path) == []
    assert sorted(read_manifest(path).files) == sorted(list(NOTES)[:2])
    assert not list((path / "segments").glob(".tmp-*"))  # the staging folder was removed
    assert sync([docs], path).added == ("gamma.md",)


def test_a_reader_keeps_its_snapshot_after_merges_delete_its_segments(tmp_path):
    docs, path = three_syncs(tmp_path)
    sync([docs], path)  # merged into one
    reader = Index.open(path)
    before = by_place(rank(reader, "harbour snowfall orchard", 5))
    folders = [path / "segments" / s.name for s in reader.manifest.segments]
    for name in ("delta.txt", "epsilon.txt"):
        write(docs, {name: NOTES[name]})
        sync([docs], path)
    (docs / "alpha.txt").write_text("Alpha station now reports sunshine and clear skies all week long.")
    sync([docs], path)
    for _ in range(3):  # enough writes for the reader's version to be collected
        (docs / "beta.txt").write_text((docs / "beta.txt").read_text() + " More.")
        sync([docs], path)
    assert not any(folder.exists() for folder in folders)  # its files are gone from the folder…
    assert by_place(rank(reader, "harbour snowfall orchard", 5)) == before  # …and it still reads them
    assert reader.chunk(reader.manifest.files["alpha.txt"].chunk_ids[0]).text.startswith("Alpha station reported")


def test_readers_search_undisturbed_while_a_writer_syncs_and_merges(tmp_path):
    docs, path = three_syncs(tmp_path)
    sync([docs], path)
    failures: list[BaseException] = []
    stop = threading.Event()

    def read():
        try:
            while not stop.is_set():
                hits = search("heavy snowfall northern valley", 3, index=path)
                assert hits[0].source == "alpha.txt", hits
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    try:
        for number in range(12):  # each sync adds a file: a segment, and a merge every third
            write(docs, {f"extra-{number:02d}.txt": f"Extra report {number} about the harbour and its fishing boats."})
            sync([docs], path)
    finally:
        stop.set()
        for thread in readers:
            thread.join()
    assert not failures, failures[0]
    assert len(read_manifest(path).segments) < 12 and verify(path) == []
    assert len(list((path / "segments").iterdir())) <= 2 * len(read_manifest(path).segments) + 3


def test_deleting_every_passage_of_a_segment_drops_it(tmp_path):
    docs, path = three_syncs(tmp_path)
    (segment_before,) = [s.name for s in read_manifest(path).segments if s.first_id == 0]
    delete("alpha.txt", path)
    assert segment_before not in [s.name for s in read_manifest(path).segments]
    assert verify(path) == [] and Index.open(path).count == 1


def test_an_index_copied_elsewhere_opens_there(tmp_path):
    docs, path = three_syncs(tmp_path)
    shutil.copytree(path, tmp_path / "copy")
    assert by_place(search("harbour", 3, index=tmp_path / "copy")) == by_place(search("harbour", 3, index=path))
