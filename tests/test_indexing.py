"""sync() under heavy input: limits, repeated passages, and reports that stay short."""

from rag import sync
from rag.config import Limits
from rag.documents import Notice
from rag.indexing import summarise
from rag.store import Index
from tests.pdfs import text_pdf

NOTES = "Alpha station reported heavy snowfall across the northern valley on Monday."


def test_summarise_shows_three_of_a_kind_then_counts_the_rest():
    notices = [Notice("pages with no extractable text", f"a.pdf: page {n} has no text") for n in range(1, 30_001)]
    notices.insert(1, Notice("files of an unsupported type", "x.png: skipped"))
    assert summarise(notices) == (
        "a.pdf: page 1 has no text",
        "a.pdf: page 2 has no text",
        "a.pdf: page 3 has no text",
        "… and 29,997 more pages with no extractable text",
        "x.png: skipped",
    )


def test_a_report_lists_a_few_warnings_of_one_kind_plus_a_count(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "report.pdf").write_bytes(text_pdf([NOTES] + [""] * 6))
    for n in range(10):
        (docs / f"image{n}.png").write_bytes(b"\x89PNG")
    report = sync([docs], tmp_path / "index")
    assert report.added == ("report.pdf",) and len(report.skipped) == 10
    assert report.warnings == (
        "image0.png: skipped, unsupported file type '.png'; supported: .markdown, .md, .pdf, .txt",
        "image1.png: skipped, unsupported file type '.png'; supported: .markdown, .md, .pdf, .txt",
        "image2.png: skipped, unsupported file type '.png'; supported: .markdown, .md, .pdf, .txt",
        "… and 7 more files of an unsupported type",
        "report.pdf: page 2 has no extractable text — scanned?",
        "report.pdf: page 3 has no extractable text — scanned?",
        "report.pdf: page 4 has no extractable text — scanned?",
        "… and 3 more pages with no extractable text",
    )


def test_identical_passages_in_a_file_or_a_batch_are_embedded_once(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "copies.pdf").write_bytes(text_pdf([NOTES] * 5))
    (docs / "notes.txt").write_text(NOTES)
    (docs / "other.txt").write_text("Beta harbour reopened to fishing boats after the storm passed.")
    report = sync([docs], tmp_path / "index")
    assert (report.chunks_added, report.chunks_embedded) == (7, 2)
    index = Index.open(tmp_path / "index")
    pages = [c for c in index.chunks if c.source == "copies.pdf"]
    assert [c.page for c in pages] == [1, 2, 3, 4, 5]  # every page is still found, with its page number
    assert all((index.vector(c.chunk_id) == index.vector(pages[0].chunk_id)).all() for c in pages)


def test_a_file_over_a_limit_is_refused_and_keeps_what_was_indexed(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.txt").write_text(NOTES)
    sync([docs], tmp_path / "index")
    (docs / "notes.txt").write_text(NOTES + " More text." * 100)
    report = sync([docs], tmp_path / "index", limits=Limits(max_chars=len(NOTES) + 100))
    assert report.skipped == ("notes.txt",) and not report.changed
    assert report.warnings == (
        "notes.txt: 1,175 bytes of text (at least 293 characters), over the limit of 175 characters per file; "
        "split the file, or raise the limit (RAG_MAX_CHARS)",
    )
    assert [c.text for c in Index.open(tmp_path / "index").chunks] == [NOTES]


def test_refusing_every_file_builds_no_empty_index(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "huge.txt").write_text("x" * 5_000)
    report = sync([docs], tmp_path / "index", limits=Limits(max_chars=1_000))
    assert report.skipped == ("huge.txt",) and not report.changed
    assert not (tmp_path / "index" / "CURRENT").exists()


def test_a_file_with_the_size_and_time_it_was_indexed_with_is_not_read_again(tmp_path, monkeypatch):
    import os

    import rag.indexing

    docs = tmp_path / "docs"
    docs.mkdir()
    notes, fresh = docs / "notes.txt", docs / "fresh.txt"
    notes.write_text(NOTES)
    hour_ago = notes.stat().st_mtime_ns - 3600 * 10**9
    os.utime(notes, ns=(hour_ago, hour_ago))
    fresh.write_text("Beta harbour reopened to fishing boats after the storm passed.")  # modified just now
    sync([docs], tmp_path / "index")
    hashed = []
    real = rag.indexing._sha256
    monkeypatch.setattr(rag.indexing, "_sha256", lambda path: hashed.append(path.name) or real(path))
    assert sync([docs], tmp_path / "index").unchanged == ("fresh.txt", "notes.txt")
    # A file changed less than two seconds before it was hashed could keep its size and time
    # through a later change (coarse clocks): only such a file is read again.
    assert hashed == ["fresh.txt"]
    os.utime(notes, ns=(hour_ago + 10**9, hour_ago + 10**9))  # touched, same content: read, unchanged
    assert not sync([docs], tmp_path / "index").changed and hashed[-1] == "notes.txt"
    notes.write_text(NOTES.replace("Monday", "Friday"))  # same size, new time: read, updated
    assert sync([docs], tmp_path / "index").updated == ("notes.txt",)


# -- syncs side by side: the embedding runs before the write lock --------------------------


def _sync_in_thread(paths, index, progress):
    import threading

    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("report", sync(paths, index, model="hash", progress=progress)))
    thread.start()
    return thread, outcome


def test_a_sync_embeds_while_another_writer_holds_the_index(tmp_path):
    import threading

    from rag.store import write_lock

    docs, index = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    (docs / "notes.txt").write_text(NOTES + "\n")
    sync([docs], index, model="hash")
    (docs / "later.txt").write_text("Beta station measured a record low of minus forty degrees.\n")
    seen, waiting = [], threading.Event()

    def progress(fraction, message):
        seen.append(message)
        if message.startswith("waiting"):
            waiting.set()

    with write_lock(index):  # a long sync of someone else's, writing
        thread, outcome = _sync_in_thread([docs], index, progress)
        assert waiting.wait(30)
        before = seen[: seen.index("waiting for another change to this index to finish")]
        assert any(message.startswith("embedding 1/1 passages") for message in before)
        assert thread.is_alive()
    thread.join(30)
    report = outcome["report"]
    assert report.added == ("later.txt",) and report.chunks_embedded == 1
    assert sorted(Index.open(index).documents()) == ["later.txt", "notes.txt"]


def test_what_another_sync_wrote_meanwhile_is_not_written_twice(tmp_path, monkeypatch):
    import rag.indexing

    docs, index = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    (docs / "notes.txt").write_text(NOTES + "\n")
    real_prepare = rag.indexing._prepare
    others = []

    def prepare_then_another_sync(*args, **kwargs):
        prepared = real_prepare(*args, **kwargs)
        if not others:  # the other sync, between this one's embedding and its write lock
            others.append(None)
            others[0] = sync([docs / "notes.txt"], index, model="hash")
        return prepared

    monkeypatch.setattr(rag.indexing, "_prepare", prepare_then_another_sync)
    report = sync([docs], index, model="hash")
    assert others[0].added == ("notes.txt",)
    assert report.added == () and report.unchanged == ("notes.txt",)
    assert [c.text for c in Index.open(index).chunks] == [NOTES]


def test_a_file_changed_after_it_was_embedded_is_indexed_as_it_is_at_the_write(tmp_path, monkeypatch):
    import rag.indexing

    docs, index = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    (docs / "notes.txt").write_text(NOTES + "\n")
    real_prepare = rag.indexing._prepare
    changed = "Gamma station closed its road for the winter."

    def prepare_then_edit(*args, **kwargs):
        prepared = real_prepare(*args, **kwargs)
        (docs / "notes.txt").write_text(changed + "\n")
        return prepared

    monkeypatch.setattr(rag.indexing, "_prepare", prepare_then_edit)
    report = sync([docs], index, model="hash")
    assert report.added == ("notes.txt",) and report.chunks_embedded == 2  # the old text was embedded for nothing
    assert [c.text for c in Index.open(index).chunks] == [changed]
    monkeypatch.undo()
    assert sync([docs], index, model="hash").changed is False


def test_past_the_budget_the_rest_is_embedded_under_the_lock(tmp_path, monkeypatch):
    import numpy as np

    import rag.indexing
    from rag.embedding import get_document_embedder

    monkeypatch.setattr(rag.indexing, "PREPARED_PASSAGES", 1)
    docs, index = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    texts = [NOTES, "Beta station measured a record low of minus forty degrees.", "Gamma station closed its road."]
    (docs / "notes.txt").write_text("\n\n".join(texts) + "\n")
    report = sync([docs], index, model="hash")
    store = Index.open(index)
    passages = [c.text for c in store.chunks]
    assert report.chunks_embedded == len(passages) >= 2  # one before the lock, the others under it
    expected = get_document_embedder("hash").encode_documents(passages)
    assert np.allclose([store.vector(c.chunk_id) for c in store.chunks], expected)
