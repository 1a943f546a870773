import io
import json

import pytest

from rag.cli import ProgressLine, main

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


def test_ask_prints_the_short_answer_first(indexed, capsys):
    _, index = indexed
    assert main(["ask", "When did the harbour authority reopen the port?", "--index", str(index)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "9 December 2024" and lines[1] == ""
    assert lines[2].startswith("On 9 December 2024: The harbour authority reopened")


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


@pytest.mark.parametrize("command", [["search", "port"], ["ask", "which port?"], ["info"], ["index", "DOCS"]])
def test_an_index_path_that_is_a_file_exits_2_with_a_message(tmp_path, capsys, command):
    (tmp_path / "README.md").write_text("text")
    (tmp_path / "docs").mkdir()
    command = [str(tmp_path / "docs") if part == "DOCS" else part for part in command]
    assert main(command + ["--index", str(tmp_path / "README.md")]) == 2
    assert "README.md is a file, not an index folder" in capsys.readouterr().err


def test_a_query_with_undecodable_bytes_exits_2_with_a_message(indexed, capsys):
    _, index = indexed
    query = b"port \xff".decode("utf-8", "surrogateescape")  # how Python hands over such a command-line argument
    assert main(["search", query, "--index", str(index)]) == 2
    assert "the query holds bytes that are not valid text" in capsys.readouterr().err


def test_missing_index_says_how_to_build_one(tmp_path, capsys):
    assert main(["search", "port", "--index", str(tmp_path / "nothing")]) == 2
    assert "rag index PATH... --index" in capsys.readouterr().err


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def progress_lines(tty: bool, calls: list[tuple[float, float, str]]) -> str:
    now = [0.0]
    stream = Stream(tty)
    line = ProgressLine(stream, clock=lambda: now[0])
    for when, fraction, message in calls:
        now[0] = when
        line(fraction, message)
    line.close()
    return stream.getvalue()


CALLS = [
    (0.5, 0.1, "reading big.pdf"),  # a quick sync shows nothing
    (2.5, 0.5, "embedding 64/128 passages, 25/s, about 3 s left"),
    (2.6, 0.6, "embedding 80/128 passages, 26/s, about 2 s left"),  # too soon after the last
    (3.0, 0.95, "writing the index"),
    (13.0, 1.0, "done"),
]


def test_progress_on_a_terminal_rewrites_one_line_then_wipes_it():
    first, second, last = "[ 50%] embedding 64/128 passages, 25/s, about 3 s left", "[ 95%] writing the index", "[100%] done"
    assert progress_lines(True, CALLS) == (
        "\r" + first + "\r" + second.ljust(len(first)) + "\r" + last.ljust(len(second)) + "\r" + " " * len(last) + "\r"
    )


def test_progress_in_a_log_is_a_line_every_ten_seconds():
    assert progress_lines(False, CALLS) == (
        "[ 50%] embedding 64/128 passages, 25/s, about 3 s left\n[100%] done\n"
    )



def test_info_check_exits_0_on_a_sound_index_and_1_naming_the_damage(indexed, capsys):
    _, index = indexed
    assert main(["info", "--check", "--index", str(index)]) == 0
    assert capsys.readouterr().out == f"{index}: ok (1 documents, 2 passages, each with its vector)\n"
    (segment,) = (index / "segments").iterdir()
    (segment / "vectors.faiss").write_bytes((segment / "vectors.faiss").read_bytes()[:100])
    assert main(["info", "--check", "--index", str(index)]) == 1
    err = capsys.readouterr().err
    assert f"the index is damaged\n  - segments/{segment.name}: vectors.faiss is unreadable" in err and "--rebuild" in err
    assert main(["info", "--check", "--json", "--index", str(index)]) == 1
    assert json.loads(capsys.readouterr().out)["problems"] == [
        f"segments/{segment.name}: vectors.faiss is unreadable (cut short, or not a FAISS index)"
    ]


def test_info_check_without_an_index_says_how_to_build_one(tmp_path, capsys):
    assert main(["info", "--check", "--index", str(tmp_path / "nothing")]) == 2
    assert "no index at" in capsys.readouterr().err
    assert not (tmp_path / "nothing").exists()


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


@pytest.fixture
def hash_indexed(tmp_path, capsys):
    """``docs/news.txt`` and, from another folder, ``notes.txt``, indexed with the torch-free hash model."""
    docs, other = tmp_path / "docs", tmp_path / "other"
    docs.mkdir()
    other.mkdir()
    (docs / "news.txt").write_text(TEXT)
    (other / "notes.txt").write_text("The Vellum archive moved to Ghent in 1998.\n")
    index = tmp_path / "index"
    assert main(["index", str(docs), "--index", str(index), "--model", "hash", "--tagger", "none"]) == 0
    assert main(["index", str(other / "notes.txt"), "--index", str(index)]) == 0
    capsys.readouterr()
    return docs, index


@pytest.mark.parametrize("damage", ["cut vectors", "cut passages", "empty vectors"])
def test_index_rebuilds_a_damaged_index_and_says_so_instead_of_unchanged(hash_indexed, capsys, damage):
    docs, index = hash_indexed
    segment = sorted((index / "segments").iterdir())[0]
    file = segment / ("passages.sqlite" if "passages" in damage else "vectors.faiss")
    file.write_bytes(b"" if "empty" in damage else file.read_bytes()[: len(file.read_bytes()) // 2])
    assert main(["index", str(docs), "--index", str(index)]) == 0
    out, err = capsys.readouterr()
    assert f"warning: {index}: the index is damaged: " in err
    assert "rebuilding it from the paths given and the 2 file(s) or folder(s) it held" in err
    assert out.startswith("added 2, updated 0, removed 0, unchanged 0")
    assert main(["info", "--check", "--index", str(index)]) == 0
    assert "(2 documents, 3 passages" in capsys.readouterr().out
    assert main(["info", "--json", "--index", str(index)]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "hash"  # the damaged index's model, not the default
    assert main(["index", str(docs), "--index", str(index)]) == 0  # and sound from then on
    assert "unchanged 1" in capsys.readouterr().out


def test_index_over_an_unreadable_manifest_rebuilds_from_the_paths_given(hash_indexed, capsys):
    docs, index = hash_indexed
    version = index / (index / "CURRENT").read_text().strip()
    (version / "manifest.json").write_text("{not json")
    assert main(["index", str(docs), "--index", str(index), "--model", "hash"]) == 0
    out, err = capsys.readouterr()
    assert "cannot read the index manifest" in err and "rebuilding it from the paths given;" not in err
    # Its own line (progress lines may follow on a slow machine: they start after a delay).
    assert any(line.endswith("rebuilding it from the paths given") for line in err.splitlines())
    assert out.startswith("added 1,")
