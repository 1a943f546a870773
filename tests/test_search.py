import pytest

from rag import search, sync
from rag.evaluation import evaluate_retrieval, load_devset
from rag.search import rank
from rag.store import Index
from tests.conftest import DEVSET


@pytest.fixture(scope="module")
def small_index(tmp_path_factory):
    """Three dated entries, an undated file, and a duplicate of one entry in another file."""
    root = tmp_path_factory.mktemp("docs")
    (root / "blog.txt").write_text(
        "09 December 2024\n\n"
        "The harbour authority reopened the northern port to cargo ships on Monday morning.\n\n"
        "08 December 2024\n\n"
        "Heavy snow closed the mountain pass and stranded dozens of trucks overnight.\n\n"
        "07 December 2024\n\n"
        "The city council approved a new budget for public libraries and parks.\n"
    )
    (root / "notes.md").write_text("An undated note says the harbour will need dredging next spring.\n")
    (root / "copy.txt").write_text("Heavy snow closed the mountain pass and stranded dozens of trucks overnight.\n")
    path = tmp_path_factory.mktemp("index")
    sync([root], path)
    return path


def test_hits_carry_rank_source_date_and_exact_offsets(small_index):
    hits = search("harbour port reopened for ships", k=3, index=small_index)
    assert [h.rank for h in hits] == [1, 2, 3]
    top = hits[0]
    assert (top.source, top.date, top.page) == ("blog.txt", "2024-12-09", None)
    assert top.text.startswith("The harbour authority")
    text = (Index.open(small_index).manifest.files["blog.txt"].root + "/blog.txt")
    assert open(text, encoding="utf-8").read()[top.start : top.end] == top.text
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))


def test_date_filters_apply_before_the_cut(small_index):
    hits = search("harbour", k=5, index=small_index, date_from="2024-12-07", date_to="2024-12-08")
    assert {h.date for h in hits} == {"2024-12-07", "2024-12-08"}
    assert len(hits) == 2  # every dated passage in range, though 'harbour' matches others better
    assert search("harbour", k=5, index=small_index, date_from="2024-12-10") == []


def test_source_filter_takes_names_and_globs(small_index):
    assert {h.source for h in search("harbour", k=5, index=small_index, source="notes.md")} == {"notes.md"}
    assert {h.source for h in search("harbour", k=5, index=small_index, source="*.md")} == {"notes.md"}


def test_the_same_text_in_two_files_is_shown_once(small_index):
    hits = search("snow closed the mountain pass", k=5, index=small_index)
    assert sum("Heavy snow" in h.text for h in hits) == 1


def test_k_larger_than_the_index_returns_everything_once(small_index):
    hits = search("harbour", k=50, index=small_index)
    assert len(hits) == len({h.chunk_id for h in hits}) == 4  # 5 passages, one duplicate


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"query": "  "}, "query is empty"),
        ({"query": "harbour", "k": 0}, "positive whole number"),
        ({"query": "harbour", "k": -3}, "positive whole number"),
        ({"query": "harbour", "date_from": "last week"}, "YYYY-MM-DD"),
        ({"query": "harbour", "date_from": "2024-12-09", "date_to": "2024-12-01"}, "swap them"),
        ({"query": 123}, "the query must be a string, not int"),
        ({"query": ["harbour"]}, "the query must be a string, not list"),
        ({"query": b"harbour"}, r"the query is bytes, not text; decode it first"),
        ({"query": "caf\udcff"}, r"the query holds bytes that are not valid text \(character 4\)"),
        ({"query": "lone \ud800 surrogate"}, "not valid text"),
        ({"query": "harbour", "k": "5"}, "positive whole number"),
        ({"query": "harbour", "k": True}, "positive whole number"),
        ({"query": "harbour", "date_from": 20241208}, "date_from must be a date like '2024-12-08' .* not int"),
        ({"query": "harbour", "date_to": ["2024-12-08"]}, "date_to must be a date .* not list"),
        ({"query": "harbour", "source": 5}, "source must be a file name or a glob"),
    ],
)
def test_bad_arguments_are_clear_value_errors(small_index, kwargs, message):
    with pytest.raises(ValueError, match=message):
        search(index=small_index, **kwargs)


def test_each_retriever_alone_and_fused(small_index):
    store = Index.open(small_index)
    # No shared word at all: keyword search finds nothing, the embedding connects books to libraries.
    assert rank(store, "funding for reading rooms and books", 1, mode="keyword") == []
    assert "libraries" in rank(store, "funding for reading rooms and books", 1, mode="dense")[0].text
    # A rare exact word: keyword search ranks only the passages that hold it.
    assert [h.text for h in rank(store, "dredging", 5, mode="keyword")] == [
        "An undated note says the harbour will need dredging next spring."
    ]
    # Fusion keeps what each found.
    assert "libraries" in rank(store, "funding for reading rooms and books", 1)[0].text
    assert "dredging" in rank(store, "dredging", 1)[0].text


@pytest.mark.integration
def test_putin_entry_ranks_first_for_who_granted_asylum(corpus_index):
    top = search("who granted Assad asylum?", k=5, index=corpus_index)[0]
    assert "Putin was the one who granted" in top.text
    assert top.date == "2024-12-09"


@pytest.mark.integration
def test_dev_set_recall_at_5(corpus_index):
    report = evaluate_retrieval(load_devset(DEVSET), index=corpus_index)
    assert report.questions >= 30
    assert report.recall_at_5 >= 0.95, report


def test_keywords_match_without_diacritics(tmp_path_factory):
    root = tmp_path_factory.mktemp("accents")
    (root / "a.txt").write_text("Türkiye hosts the talks in São Paulo next week.\n", encoding="utf-8")
    (root / "b.txt").write_text("The committee will publish its report on Friday.\n", encoding="utf-8")
    path = tmp_path_factory.mktemp("accents-index")
    sync([root], path)
    hits = rank(Index.open(path), "Turkiye Sao", 5, mode="keyword")
    assert [h.source for h in hits] == ["a.txt"]


def test_answer_checks_its_question_the_same_way(small_index):
    from rag import answer

    with pytest.raises(ValueError, match="must be a string, not int"):
        answer(123, index=small_index)
    with pytest.raises(ValueError, match="index must be a folder"):
        search("harbour", index=5)


def test_large_indexes_rank_dense_in_a_second_thread_with_the_same_hits(small_index, monkeypatch):
    import dataclasses
    import importlib
    import threading

    module = importlib.import_module("rag.search")  # rag.search is also the function
    queries = ["harbour port reopened for ships", "snow", "budget for libraries", "dredging next spring"]
    sequential = [search(q, k=5, index=small_index) for q in queries]
    threads = []
    dense_ranked = module._dense_ranked

    def recording(*args):
        threads.append(threading.current_thread().name)
        return dense_ranked(*args)

    monkeypatch.setattr(module, "_dense_ranked", recording)
    monkeypatch.setattr(module, "RETRIEVAL", dataclasses.replace(module.RETRIEVAL, parallel_from=1))
    assert [search(q, k=5, index=small_index) for q in queries] == sequential
    assert len(threads) == len(queries) and all(name.startswith("rag-dense") for name in threads)
    import faiss  # imported by the searches above, in this thread: the workers keep to one thread too

    assert module._dense_pool().submit(faiss.omp_get_max_threads).result() == 1
