"""delete() and Index.document_facts(): removing documents and listing them."""

import re

import pytest

from rag import DocumentFacts, IndexFormatError, delete, open_index, search, sync
from rag.store import Index, read_manifest, verify
from tests.pdfs import text_pdf

NEWS = (
    "08 December 2024\n\n"
    "The harbour authority reopened the northern port to cargo ships on Monday morning.\n\n"
    "09 December 2024\n\n"
    "Heavy snow closed the mountain pass and stranded dozens of trucks overnight.\n"
)
NOTES = "Gamma orchard expects a record apple harvest this autumn season.\n"


@pytest.fixture
def indexed(tmp_path):
    docs = tmp_path / "docs"
    (docs / "reports").mkdir(parents=True)
    (docs / "news.txt").write_text(NEWS)
    (docs / "notes.md").write_text(NOTES)
    (docs / "reports" / "q1.pdf").write_bytes(
        text_pdf(["Quarterly figures show steady growth in exports.", "Imports fell slightly."])
    )
    index = tmp_path / "index"
    sync([docs], index)
    return docs, index


def test_document_facts_list_every_document_with_type_pages_passages_and_dates(indexed):
    docs, index = indexed
    facts = {d.source: d for d in Index.open(index).document_facts()}
    assert list(facts) == ["news.txt", "notes.md", "reports/q1.pdf"]  # by name
    news, notes, pdf = facts.values()
    assert (news.kind, news.pages, news.passages, news.date_from, news.date_to) == ("txt", 1, 2, "2024-12-08", "2024-12-09")
    assert (notes.kind, notes.passages, notes.date_from, notes.date_to) == ("md", 1, None, None)
    assert (pdf.kind, pdf.pages, pdf.passages) == ("pdf", 2, 2)
    assert all(isinstance(d, DocumentFacts) and d.folder == str(docs) for d in facts.values())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", news.added)
    assert sum(d.passages for d in facts.values()) == len(Index.open(index).chunks)


def test_an_updated_file_gets_a_new_added_time_and_an_unchanged_one_keeps_it(indexed, monkeypatch):
    docs, index = indexed
    before = {d.source: d.added for d in Index.open(index).document_facts()}
    manifest = read_manifest(index)
    (docs / "notes.md").write_text("Gamma orchard lost its apple harvest to an early frost.\n")

    import rag.indexing

    class Later(rag.indexing.dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return rag.indexing.dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=tz)

    monkeypatch.setattr(rag.indexing.dt, "datetime", Later)
    sync([docs], index)
    after = {d.source: d.added for d in Index.open(index).document_facts()}
    assert after["notes.md"] == "2030-01-02T03:04:05+00:00"
    assert after["news.txt"] == before["news.txt"] == manifest.files["news.txt"].added


def test_delete_removes_exactly_the_named_documents(indexed):
    docs, index = indexed
    before = Index.open(index)
    report = delete(["notes.md", "reports/q1.pdf"], index)
    assert report.removed == ("notes.md", "reports/q1.pdf") and report.chunks_removed == 3
    assert not (report.added or report.updated or report.skipped) and report.changed
    after = Index.open(index)
    assert [d.source for d in after.document_facts()] == ["news.txt"]
    assert after.count == len(after.chunks) == 2 and verify(index) == []
    assert [c.chunk_id for c in after.chunks] == list(before.manifest.files["news.txt"].chunk_ids)
    assert {h.source for h in search("apple harvest exports", 5, index=index)} == {"news.txt"}
    assert (docs / "notes.md").exists()  # the file itself is left alone
    # syncing its folder again adds it back
    assert sorted(sync([docs], index).added) == ["notes.md", "reports/q1.pdf"]


def test_delete_reaches_a_process_that_has_the_index_open(indexed):
    _, index = indexed
    assert len(open_index(index).document_facts()) == 3
    delete("news.txt", index)
    assert [d.source for d in open_index(index).document_facts()] == ["notes.md", "reports/q1.pdf"]


def test_deleting_an_unknown_name_changes_nothing_and_says_so(indexed):
    _, index = indexed
    version = (index / "CURRENT").read_text()
    with pytest.raises(ValueError, match=r"'nope.txt' is not in the index at .*nothing was removed"):
        delete(["news.txt", "nope.txt"], index)
    with pytest.raises(ValueError, match="no document named"):
        delete([], index)
    assert (index / "CURRENT").read_text() == version


def test_deleting_from_a_missing_index_creates_nothing(tmp_path):
    with pytest.raises(IndexFormatError, match="no index at .*rag index PATH"):
        delete("news.txt", tmp_path / "none")
    assert not (tmp_path / "none").exists()


def test_deleting_every_document_leaves_an_empty_index_that_answers_nothing(indexed):
    _, index = indexed
    delete(["news.txt", "notes.md", "reports/q1.pdf"], index)
    assert Index.open(index).document_facts() == []
    assert search("harbour", 5, index=index) == []


def test_an_added_time_of_the_wrong_type_is_a_damaged_index(indexed):
    import json

    _, index = indexed
    manifest_path = index / (index / "CURRENT").read_text().strip() / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["news.txt"]["added"] = 5
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexFormatError, match=r"added should be str, not int"):
        Index.open(index)
