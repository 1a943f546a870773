import json
import subprocess
import sys

import numpy as np
import pytest

from rag import IndexFormatError, sync
from rag.store import FileRecord, Index, Manifest, Writer, read_manifest, verify, write_lock
from rag.types import Chunk
from tests.pdfs import text_pdf

PARAGRAPHS = {
    "alpha.txt": "Alpha station reported heavy snowfall across the northern valley on Monday.",
    "beta.txt": "Beta harbour reopened to fishing boats after the storm passed on Tuesday.",
    "gamma.md": "# Gamma\n\nGamma orchard expects a record apple harvest this autumn season.",
}


def make_corpus(root, files=PARAGRAPHS):
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def synthetic_index(tmp_path, n=200, d=16, seed=0):
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, d)).astype("float32")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = [Chunk(i, "s.txt", f"text {i}", i, i + 1) for i in range(n)]
    with write_lock(tmp_path):
        writer = Writer(tmp_path, None, Manifest(model="synthetic", dimension=d))
        writer.add("s.txt", FileRecord(str(tmp_path), "0", ()), chunks, vectors, [()] * len(chunks))
        return writer.commit(), vectors


def only_segment(path):
    """The folder of the one segment of a small index."""
    (segment,) = (path / "segments").iterdir()
    return segment


@pytest.mark.parametrize("restrict", [False, True])
def test_faiss_search_equals_brute_force(tmp_path, restrict):
    index, vectors = synthetic_index(tmp_path)
    rng = np.random.default_rng(1)
    allowed = np.sort(rng.choice(len(vectors), 50, replace=False)) if restrict else None
    for query in rng.normal(size=(10, vectors.shape[1])).astype("float32"):
        scores, ids = index.dense_search(query, 10, allowed)
        brute = vectors @ query
        if restrict:
            mask = np.full(len(brute), -np.inf)
            mask[allowed] = brute[allowed]
            brute = mask
        expected = np.argsort(-brute, kind="stable")[:10]
        assert ids.tolist() == expected.tolist()
        np.testing.assert_allclose(scores, brute[expected], rtol=1e-5)


def test_restricted_search_still_returns_k_hits(tmp_path):
    index, _ = synthetic_index(tmp_path)
    scores, ids = index.dense_search(np.ones(16, "float32"), 5, np.arange(100, 120))
    assert len(ids) == 5 and set(ids.tolist()) <= set(range(100, 120))


def test_sync_adds_changes_and_deletes_exactly_the_right_chunks(tmp_path):
    corpus, index_dir = make_corpus(tmp_path / "docs"), tmp_path / "index"
    first = sync([corpus], index_dir)
    assert sorted(first.added) == sorted(PARAGRAPHS)
    before = Index.open(index_dir)
    ids_before = {s: r.chunk_ids for s, r in before.manifest.files.items()}

    (corpus / "beta.txt").write_text("Beta harbour stays closed while divers inspect the damaged pier walls.")
    (corpus / "gamma.md").unlink()
    (corpus / "delta.txt").write_text("Delta airport added two daily flights to the coastal capital city.")
    second = sync([corpus], index_dir)
    assert (second.added, second.updated, second.removed, second.unchanged) == (
        ("delta.txt",), ("beta.txt",), ("gamma.md",), ("alpha.txt",)
    )
    assert second.chunks_embedded == 2  # only the new and the changed text

    after = Index.open(index_dir)
    assert sorted(after.manifest.files) == ["alpha.txt", "beta.txt", "delta.txt"]
    assert after.manifest.files["alpha.txt"].chunk_ids == ids_before["alpha.txt"]
    gone = set(ids_before["beta.txt"]) | set(ids_before["gamma.md"])
    assert not gone & {c.chunk_id for c in after.chunks}
    assert after.count == len(after.chunks) == 3 and verify(index_dir) == []
    assert "damaged pier" in after.chunk(after.manifest.files["beta.txt"].chunk_ids[0]).text


def test_unchanged_resync_loads_neither_model_nor_vectors(tmp_path):
    corpus, index_dir = make_corpus(tmp_path / "docs"), tmp_path / "index"
    sync([corpus], index_dir)
    code = (
        "import sys, rag; r = rag.sync([sys.argv[1]], sys.argv[2]);"
        "print(r.changed, len(r.unchanged), 'torch' in sys.modules, 'faiss' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(corpus), str(index_dir)], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "3", "False", "False"]


def test_identical_text_is_never_embedded_twice(tmp_path):
    corpus, index_dir = make_corpus(tmp_path / "docs"), tmp_path / "index"
    sync([corpus], index_dir)
    (corpus / "copy-of-alpha.txt").write_text(PARAGRAPHS["alpha.txt"])
    assert sync([corpus], index_dir).chunks_embedded == 0


def test_interrupted_write_leaves_the_previous_index_readable(tmp_path, monkeypatch):
    corpus, index_dir = make_corpus(tmp_path / "docs"), tmp_path / "index"
    sync([corpus], index_dir)
    (corpus / "alpha.txt").write_text("Alpha station now reports sunshine and clear skies all week long.")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr("rag.store.os.replace", crash)
    with pytest.raises(KeyboardInterrupt):
        sync([corpus], index_dir)
    monkeypatch.undo()
    index = Index.open(index_dir)
    assert "heavy snowfall" in index.chunk(index.manifest.files["alpha.txt"].chunk_ids[0]).text
    assert not list(index_dir.glob(".tmp-*"))
    # and the next sync completes the change
    assert sync([corpus], index_dir).updated == ("alpha.txt",)


@pytest.mark.parametrize("crash_at", ["rag.store.os.replace", "faiss.write_index"])
def test_a_crash_at_any_step_of_a_write_leaves_the_old_index_and_no_debris(tmp_path, monkeypatch, crash_at):
    corpus, index_dir = make_corpus(tmp_path / "docs"), tmp_path / "index"
    sync([corpus], index_dir)
    before = sorted(p.name for p in index_dir.iterdir())
    (corpus / "delta.txt").write_text("Delta airport added two daily flights to the coastal capital city.")

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(crash_at, crash)
    with pytest.raises(OSError, match="disk full"):
        sync([corpus], index_dir)
    monkeypatch.undo()
    assert sorted(Index.open(index_dir).manifest.files) == sorted(PARAGRAPHS)
    assert not list(index_dir.glob(".tmp-*"))
    sync([corpus], index_dir)  # the next write cleans up whatever the crash left
    assert sorted(p.name for p in index_dir.iterdir() if not p.name.startswith("v")) == [
        n for n in before if not n.startswith("v")
    ]


def test_a_first_build_that_never_went_live_is_rebuilt(tmp_path, monkeypatch):
    corpus, index_dir = make_corpus(tmp_path / "docs"), tmp_path / "index"

    def crash(*args, **kwargs):
        raise OSError("power cut")

    monkeypatch.setattr("rag.store.os.replace", crash)
    with pytest.raises(OSError):
        sync([corpus], index_dir)
    monkeypatch.undo()
    assert read_manifest(index_dir) is None  # a version folder without CURRENT is not an index
    assert sorted(sync([corpus], index_dir).added) == sorted(PARAGRAPHS)


def test_a_name_taken_by_another_folder_is_refused_not_overwritten(tmp_path):
    first = make_corpus(tmp_path / "a", {"notes.txt": "Alpha notes describe the northern valley snowfall in detail."})
    second = make_corpus(tmp_path / "b", {"notes.txt": "Beta notes describe the southern harbour reopening in detail."})
    index_dir = tmp_path / "index"
    sync([first], index_dir)
    report = sync([second], index_dir)
    assert report.skipped == ("notes.txt",) and "already indexed from" in report.warnings[0]
    assert "northern valley" in Index.open(index_dir).chunks[0].text
    together = sync([first, second], tmp_path / "index2")
    assert together.added == ("notes.txt",) and "is taken by" in together.warnings[0]


def test_bad_files_are_skipped_with_a_reason_and_lose_nothing(tmp_path):
    corpus, index_dir = make_corpus(tmp_path / "docs"), tmp_path / "index"
    sync([corpus], index_dir)
    (corpus / "empty.txt").write_text("")
    (corpus / "blob.md").write_bytes(bytes(range(256)) * 8)
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    (corpus / "scan.pdf").write_bytes(text_pdf(["", ""]))
    (corpus / "alpha.txt").write_bytes(b"")  # a known file turned empty keeps its passages
    (corpus / "notes.docx").write_bytes(b"PK")
    report = sync([corpus], index_dir)
    assert sorted(report.skipped) == ["alpha.txt", "blob.md", "broken.pdf", "empty.txt", "notes.docx", "scan.pdf"]
    messages = "\n".join(report.warnings)
    for expected in ["empty.txt: the file is empty", "blob.md: looks like a binary", "broken.pdf: cannot read this PDF",
                     "scan.pdf: no extractable text — scanned?", "notes.docx: skipped, unsupported file type"]:
        assert expected in messages
    index = Index.open(index_dir)
    assert sorted(index.manifest.files) == sorted(PARAGRAPHS)
    assert any("heavy snowfall" in c.text for c in index.chunks)


def test_index_built_with_another_model_is_a_clear_error(tmp_path):
    corpus, index_dir = make_corpus(tmp_path / "docs"), tmp_path / "index"
    sync([corpus], index_dir)
    with pytest.raises(IndexFormatError, match="--rebuild"):
        sync([corpus], index_dir, model=str(tmp_path / "other-model"))


def test_index_of_another_format_is_a_clear_error(tmp_path):
    corpus, index_dir = make_corpus(tmp_path / "docs"), tmp_path / "index"
    sync([corpus], index_dir)
    version = index_dir / (index_dir / "CURRENT").read_text().strip()
    manifest = json.loads((version / "manifest.json").read_text())
    manifest["format_version"] = 999
    (version / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexFormatError, match="rag index PATH... --index .* --rebuild"):
        Index.open(index_dir)


def test_manifest_records_model_dimension_and_hashes(tmp_path):
    corpus, index_dir = make_corpus(tmp_path / "docs"), tmp_path / "index"
    sync([corpus], index_dir)
    manifest = read_manifest(index_dir)
    assert (manifest.model, manifest.dimension) == ("all-MiniLM-L6-v2", 384)
    import hashlib

    assert manifest.files["alpha.txt"].sha256 == hashlib.sha256((corpus / "alpha.txt").read_bytes()).hexdigest()


def saved_synthetic_index(tmp_path):
    path = tmp_path / "index"
    synthetic_index(path, n=5)
    return path, path / (path / "CURRENT").read_text().strip()


def test_an_index_path_that_is_a_file_is_a_clear_error(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("not an index")
    for attempt in (lambda: Index.open(readme), lambda: sync([readme], readme)):
        with pytest.raises(IndexFormatError, match="README.md is a file, not an index folder; pass the folder"):
            attempt()
    assert readme.read_text() == "not an index"


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda path, version: ((path / "CURRENT").unlink(), (path / "CURRENT").mkdir()),
         "CURRENT should be a file naming the live version but is a folder; move it out"),
        (lambda path, version: (path / "CURRENT").write_bytes(b"\xff\xfe garbage"), "cannot read CURRENT"),
        (lambda path, version: (path / "CURRENT").write_text("../../etc"), "CURRENT does not name a version folder"),
        (lambda path, version: (path / "CURRENT").write_text("v123-gone"), "cannot read the index manifest"),
    ],
)
def test_a_damaged_current_pointer_is_a_clear_error(tmp_path, damage, message):
    path, version = saved_synthetic_index(tmp_path)
    damage(path, version)
    with pytest.raises(IndexFormatError, match=message):
        Index.open(path)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"files": [1, 2]}, r"files should be dict, not list"),
        ({"model": 7}, r"model should be str, not int"),
        ({"dimension": "16"}, r"dimension should be int, not str"),
        ({"dimension": True}, r"dimension should be int, not bool"),
        ({"files": {"a.txt": [1]}}, r"files\['a.txt'\] should be dict, not list"),
        ({"files": {"a.txt": {"root": "/", "sha256": "0", "chunk_ids": "12"}}}, r"chunk_ids should be list, not str"),
        ({"files": {"a.txt": {"root": "/", "sha256": "0", "chunk_ids": [1.5, 2]}}}, r"chunk_ids should be int, not float"),
        ({"files": {"a.txt": {"root": "/", "sha256": "0", "chunk_ids": [1, 2, 3]}}}, r"chunk_ids should be \[first, stop\]"),
        ({"files": {"a.txt": {"root": "/", "sha256": "0", "chunk_ids": [5, 2]}}}, r"0 <= first <= stop"),
        ({"files": {"a.txt": {"root": "/", "sha256": "0"}}}, r"chunk_ids should be list, not NoneType"),
        ({"segments": {"s1": 1}}, r"segments should be list, not dict"),
        ({"segments": [{"name": "../../etc", "passages": 1, "first_id": 0, "last_id": 0, "deleted": [],
                        "deleted_count": 0}]}, r"does not name a segment folder"),
        ({"segments": [{"name": "s1", "passages": 1, "first_id": 0, "last_id": 0, "deleted": [[0]],
                        "deleted_count": 0}]}, r"segments\[0\].deleted should be \[first, stop\]"),
        ({"segments": [{"name": "s1", "passages": "1"}]}, r"segments\[0\].passages should be int, not str"),
        ({"unknown": 1, "model": 7}, r"model should be str"),  # unknown keys are ignored, wrong ones are not
    ],
)
def test_a_manifest_with_wrong_types_is_a_clear_error(tmp_path, change, message):
    path, version = saved_synthetic_index(tmp_path)
    manifest = json.loads((version / "manifest.json").read_text())
    (version / "manifest.json").write_text(json.dumps({**manifest, **change}))
    with pytest.raises(IndexFormatError, match="the index manifest is damaged .*" + message + r".*--rebuild"):
        read_manifest(path)


def test_a_manifest_that_is_not_an_object_is_a_clear_error(tmp_path):
    path, version = saved_synthetic_index(tmp_path)
    (version / "manifest.json").write_text("[1, 2]")
    with pytest.raises(IndexFormatError, match="the index manifest is not a JSON object"):
        Index.open(path)


def test_passages_of_wrong_types_cannot_be_stored_and_damaged_ones_are_a_clear_error(tmp_path):
    import sqlite3

    path, _ = saved_synthetic_index(tmp_path)
    database = sqlite3.connect(only_segment(path) / "passages.sqlite")
    with pytest.raises(sqlite3.IntegrityError, match="cannot store TEXT value in INTEGER column passages.start"):
        database.execute("UPDATE passages SET start = 'abc' WHERE position = 0")  # STRICT tables refuse it
    database.execute("UPDATE passages SET entities = '[[1, 2]' WHERE position = 0")
    database.commit()
    database.close()
    index = Index.open(path)  # reading passages is left to when they are needed
    with pytest.raises(IndexFormatError, match="the index is damaged .*passage 0 has damaged entities"):
        index.entities(0)
    assert any("damaged entities" in problem for problem in verify(path))


def cut(file, keep):
    data = file.read_bytes()
    file.write_bytes(data[: keep(len(data))])


def drop_last_passage(segment):
    import sqlite3

    database = sqlite3.connect(segment / "passages.sqlite")
    database.execute("DELETE FROM passages WHERE position = (SELECT max(position) FROM passages)")
    database.commit()
    database.close()


DAMAGE = {
    "vectors emptied": (lambda v, s: cut(s / "vectors.faiss", lambda n: 0), "vectors.faiss is empty"),
    "vectors cut in half": (lambda v, s: cut(s / "vectors.faiss", lambda n: n // 2), "vectors.faiss is unreadable"),
    "vectors' last bytes cut": (lambda v, s: cut(s / "vectors.faiss", lambda n: n - 8), "vectors.faiss is unreadable"),
    "vectors deleted": (lambda v, s: (s / "vectors.faiss").unlink(), "vectors.faiss is missing"),
    "passages emptied": (lambda v, s: cut(s / "passages.sqlite", lambda n: 0), "passages.sqlite holds no passages table"),
    "passages cut in half": (lambda v, s: cut(s / "passages.sqlite", lambda n: n // 2), "passages.sqlite is cut short"),
    "passages overwritten": (lambda v, s: (s / "passages.sqlite").write_bytes(b"not a database" * 100),
                             "passages.sqlite is not an SQLite database"),
    "last passage dropped": (lambda v, s: drop_last_passage(s), "passages.sqlite holds 4 passages, not 5"),
    "ids deleted": (lambda v, s: (s / "ids.npy").unlink(), "cannot read the passage arrays"),
    "keyword postings cut": (lambda v, s: cut(s / "keyword.positions.npy", lambda n: n - 4), "cannot read the keyword arrays"),
    "keyword vocabulary deleted": (lambda v, s: (s / "keyword.sqlite").unlink(), "keyword.sqlite is missing"),
    "segment deleted": (lambda v, s: __import__("shutil").rmtree(s), "cannot read segment.json"),
    "manifest cut": (lambda v, s: cut(v / "manifest.json", lambda n: n // 2), "cannot read the index manifest"),
}


@pytest.mark.parametrize("damage, expected", DAMAGE.values(), ids=DAMAGE.keys())
def test_verify_names_what_is_damaged_and_changes_nothing(tmp_path, damage, expected):
    path, version = saved_synthetic_index(tmp_path)
    assert verify(path) == []
    damage(version, only_segment(path))
    before = {f: (f.read_bytes(), f.stat().st_mtime_ns) for f in path.rglob("*") if f.is_file()}
    problems = verify(path)
    assert any(expected in problem for problem in problems), problems
    assert {f: (f.read_bytes(), f.stat().st_mtime_ns) for f in path.rglob("*") if f.is_file()} == before
    with pytest.raises(IndexFormatError):  # what verify calls damaged, opening refuses too
        Index.open(path)


def test_verify_finds_vectors_and_passages_that_disagree(tmp_path):
    import faiss

    path, _ = saved_synthetic_index(tmp_path)
    four = faiss.IndexFlatIP(16)
    four.add(np.eye(16, dtype="float32")[:4])
    faiss.write_index(four, str(only_segment(path) / "vectors.faiss"))
    assert verify(path) == [f"segments/{only_segment(path).name}: vectors and passages disagree: 4 vectors for 5 passages"]


def format_2_copy(source, target):
    """The index at ``source`` as the version before segments wrote it (format 2)."""
    import dataclasses

    import faiss

    index = Index.open(source)
    version = target / "v1-before-segments"
    version.mkdir(parents=True)
    manifest = index.manifest.to_json()
    manifest["format_version"] = 2
    del manifest["segments"], manifest["storage"]
    for record in manifest["files"].values():
        record["chunk_ids"] = list(range(*record["chunk_ids"]))
    (version / "manifest.json").write_text(json.dumps(manifest))
    chunks = index.chunks
    (version / "chunks.jsonl").write_text("".join(json.dumps(dataclasses.asdict(c)) + "\n" for c in chunks))
    (version / "entities.jsonl").write_text(
        "".join(json.dumps([[e.start, e.end, e.label] for e in index.entities(c.chunk_id)]) + "\n" for c in chunks)
    )
    vectors = faiss.IndexIDMap2(faiss.IndexFlatIP(index.manifest.dimension))
    vectors.add_with_ids(np.stack([index.vector(c.chunk_id) for c in chunks]), np.array([c.chunk_id for c in chunks]))
    faiss.write_index(vectors, str(version / "vectors.faiss"))
    (target / "CURRENT").write_text(version.name + "\n")
    return target


def test_an_index_written_before_segments_is_converted_by_the_next_sync_without_embedding(hash_index, tmp_path):
    from tests.conftest import CORPUS

    from rag import search

    old = format_2_copy(hash_index, tmp_path / "old")
    with pytest.raises(IndexFormatError, match=r"format 2 \(before segments\); run `rag index PATH... --index .*` once"):
        search("who granted Assad asylum?", index=old)
    report = sync([CORPUS], old)
    assert report.unchanged == ("assad-in-moscow-as-it-happened.txt",) and not report.changed
    assert verify(old) == []
    converted, original = Index.open(old), Index.open(hash_index)
    assert converted.chunks == original.chunks
    assert all(converted.entities(c.chunk_id) == original.entities(c.chunk_id) for c in original.chunks)
    assert all((converted.vector(c.chunk_id) == original.vector(c.chunk_id)).all() for c in original.chunks)
    assert search("who granted Assad asylum?", index=old) == search("who granted Assad asylum?", index=hash_index)
