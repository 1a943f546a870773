"""Fuzzing the boundaries: every input gives a result or a clear error, never another exception.

"Clear error" means RagError or ValueError, the two the CLI and the app turn into a
message. The number of examples is bounded so CI stays fast, and the examples are the
same on every run; ``RAG_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py`` draws that many
fresh ones instead.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag import Hit, IndexFormatError, RagError, search, sync
from rag.dates import parse_date
from rag.documents import decode_text, load_documents
from rag.errors import DocumentError
from rag.store import Index, read_manifest
from tests.pdfs import text_pdf
from tests.test_store import saved_synthetic_index

FUZZ = settings(
    max_examples=int(os.environ.get("RAG_FUZZ_EXAMPLES", 60)),
    derandomize="RAG_FUZZ_EXAMPLES" not in os.environ,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

anything = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30), st.binary(max_size=30),
    st.lists(st.text(max_size=5), max_size=3), st.dates(), st.datetimes(),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory):
    docs = tmp_path_factory.mktemp("docs")
    (docs / "blog.txt").write_text(
        "09 December 2024\n\nThe harbour authority reopened the northern port to cargo ships.\n\n"
        "08 December 2024\n\nHeavy snow closed the mountain pass overnight.\n"
    )
    path = tmp_path_factory.mktemp("index")
    sync([docs], path)
    return path


def search_or_clear_error(index, query="harbour", k=5, **filters) -> None:
    try:
        hits = search(query, k, index=index, **filters)
    except (RagError, ValueError):
        return
    assert isinstance(hits, list) and all(isinstance(h, Hit) for h in hits)


# Text with lone surrogates: how Python hands over bytes that are not UTF-8 (a command-line argument).
undecodable = st.builds(
    lambda before, bad, after: before + bad + after,
    st.text(max_size=10), st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1), st.text(max_size=10),
)


@FUZZ
@given(st.one_of(st.text(), undecodable, anything))
def test_any_query_gives_hits_or_a_clear_error(tiny_index, query):
    search_or_clear_error(tiny_index, query)


@FUZZ
@given(st.one_of(st.integers(min_value=-3, max_value=10**12), anything))
def test_any_k_gives_hits_or_a_clear_error(tiny_index, k):
    search_or_clear_error(tiny_index, k=k)


@FUZZ
@given(anything, st.one_of(st.none(), st.text(max_size=12), st.dates()), st.one_of(st.text(max_size=8), anything))
def test_any_filters_give_hits_or_a_clear_error(tiny_index, date_from, date_to, source):
    search_or_clear_error(tiny_index, date_from=date_from, date_to=date_to, source=source)


@FUZZ
@given(anything)
def test_dates_parse_or_say_how(value):
    try:
        parsed = parse_date(value)
    except ValueError as error:
        assert "date" in str(error)
        return
    assert parsed is None or dt.date.fromisoformat(parsed)


@FUZZ
@given(st.text().filter(lambda s: not s.startswith("\ufeff")))
def test_valid_utf8_is_never_garbled(text):
    try:
        decoded, notices = decode_text(text.encode("utf-8"), "f.txt")
    except DocumentError:  # empty, or control characters that make it look binary
        return
    assert decoded == text.replace("\r\n", "\n").replace("\r", "\n") and notices == []


@FUZZ
@given(st.binary(max_size=2_000), st.sampled_from([".txt", ".md", ".pdf"]))
def test_any_file_bytes_load_or_give_a_clear_error(tmp_path, data, suffix):
    path = tmp_path / f"file{suffix}"
    path.write_bytes(data)
    try:
        documents, notices = load_documents(path, path.name)
    except DocumentError:
        return
    for document in documents:  # text that can be stored, embedded and shown
        document.text.encode("utf-8")


PDF = text_pdf(["The harbour authority reopened the northern port.", "Heavy snow closed the pass."])


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(PDF) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_damaged_pdfs_load_or_give_a_clear_error(tmp_path, changes):
    data = bytearray(PDF)
    for position, value in changes:
        data[position] = value
    path = tmp_path / "damaged.pdf"
    path.write_bytes(bytes(data))
    try:
        load_documents(path, "damaged.pdf")
    except DocumentError:
        pass


@FUZZ
@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries({}, optional={
            "model": json_values, "dimension": json_values, "files": json_values, "next_id": json_values,
            "updated": json_values,
        }),
        st.fixed_dictionaries({"files": st.dictionaries(st.text(max_size=5), json_values, max_size=3)}),
    )
)
def test_any_manifest_opens_or_is_a_clear_error(tmp_path_factory, change):
    path, version = saved_synthetic_index(tmp_path_factory.mktemp("fuzz"))
    manifest = json.loads((version / "manifest.json").read_text())
    data = {**manifest, **change} if isinstance(change, dict) else change
    (version / "manifest.json").write_text(json.dumps(data))
    try:
        read_manifest(path)
        Index.open(path).info()
    except IndexFormatError:
        pass
