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
