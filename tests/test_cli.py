import json

import pytest

from rag.cli import main

TEXT = (
    "09 December 2024\n\n"
    "The harbour authority reopened the northern port to cargo ships on Monday morning.\n\n"
    "08 December 2024\n\n"
    "Heavy snow closed the mountain pass and stranded dozens of trucks overnight.\n"
)


@pytest.fixture
def indexed(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "news.txt").write_text(TEXT)
    index = tmp_path / "index"
    assert main(["index", str(docs), "--index", str(index)]) == 0
    assert "added 1" in capsys.readouterr().out
    return docs, index


def test_reindexing_unchanged_files_embeds_nothing(indexed, capsys):
    docs, index = indexed
    assert main(["index", str(docs), "--index", str(index)]) == 0
    out = capsys.readouterr().out
    assert "unchanged 1" in out and "0 embedded" in out


def test_search_json_with_filters(indexed, capsys):
    _, index = indexed
    assert main(["search", "port reopened", "-k", "5", "--json", "--date-from", "2024-12-09", "--index", str(index)]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert [h["date"] for h in hits] == ["2024-12-09"]
    assert hits[0]["source"] == "news.txt" and hits[0]["rank"] == 1


def test_ask_prints_answer_then_citations(indexed, capsys):
    _, index = indexed
    assert main(["ask", "Which port reopened to cargo ships?", "--index", str(index)]) == 0
    out = capsys.readouterr().out
    assert "reopened the northern port" in out and "[1] 2024-12-09  news.txt" in out
    assert main(["ask", "Which port reopened to cargo ships?", "--json", "--index", str(index)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["found"] and data["citations"][0]["marker"] == 1


def test_info(indexed, capsys):
    _, index = indexed
    assert main(["info", "--json", "--index", str(index)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["documents"], info["chunks"], info["model"]) == (1, 2, "all-MiniLM-L6-v2")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["search", "port", "-k", "0"], "positive whole number"),
        (["search", "port", "--date-to", "someday"], "YYYY-MM-DD"),
        (["index", "/no/such/folder"], "no such file or directory"),
    ],
)
def test_user_mistakes_exit_2_with_a_message(indexed, capsys, argv, message):
    _, index = indexed
    assert main(argv + ["--index", str(index)]) == 2
    assert message in capsys.readouterr().err


def test_missing_index_says_how_to_build_one(tmp_path, capsys):
    assert main(["search", "port", "--index", str(tmp_path / "nothing")]) == 2
    assert "rag index PATH... --index" in capsys.readouterr().err


def test_index_with_the_hash_model(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "news.txt").write_text(TEXT)
    index = tmp_path / "index"
    assert main(["index", str(docs), "--index", str(index), "--model", "hash"]) == 0
    capsys.readouterr()
    assert main(["info", "--index", str(index), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "hash"
    assert main(["search", "harbour cargo ships", "--index", str(index), "--json"]) == 0
    assert "northern port" in json.loads(capsys.readouterr().out)[0]["text"]
