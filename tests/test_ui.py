"""The web app's handlers, called directly, and the launched app through gradio_client."""

import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import gradio as gr
import pytest

from rag import Answer, Citation, Hit, open_index
from ui import app
from ui.app import (
    add_documents,
    ask,
    ask_json,
    build_demo,
    render_answer,
    render_passages,
    render_report,
    safe_filename,
)

QUESTION = "who granted Assad asylum?"
XSS = '<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script>'


def hit(text: str, *, rank: int = 1, start: int = 100, date: str | None = "2024-12-08", page: int | None = None) -> Hit:
    return Hit(rank=rank, score=0.5 / rank, chunk_id=rank, source="doc.txt", text=text, start=start,
               end=start + len(text), page=page, date=date)


def cited(question: str, passage: Hit, quote: str) -> Answer:
    offset = passage.text.index(quote)
    citation = Citation(marker=1, hit=passage, quote=quote, start=passage.start + offset,
                        end=passage.start + offset + len(quote))
    return Answer(question=question, text=f"{quote} [1]", found=True, citations=(citation,), hits=(passage,))


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- asking ------------------------------------------------------------------------


@pytest.mark.integration
def test_ask_returns_the_cited_answer_with_its_passage_highlighted(corpus_index):
    answer_html, passages_html = ask(QUESTION, index=corpus_index)
    assert "Putin" in answer_html
    assert '<span class="rag-marker">[1]</span>' in answer_html
    card = re.search(r'<article class="rag-card" data-marker="1">(.*?)</article>', answer_html, re.S).group(1)
    assert re.search(r"<mark>[^<]*Putin[^<]*</mark>", card)
    assert re.search(r"2024-12-0[89]", card)
    assert "assad-in-moscow-as-it-happened.txt" in card
    assert passages_html.count('class="rag-card"') == 5
    assert "<mark>" in passages_html


@pytest.mark.integration
def test_ask_json_is_plain_data_with_dated_citations(corpus_index):
    result = ask_json(QUESTION, 3, index=corpus_index)
    assert result["found"] and "Putin" in result["text"]
    assert {"marker", "quote", "date", "source", "page", "score", "start", "end"} <= set(result["citations"][0])
    assert result["citations"][0]["date"] in {"2024-12-08", "2024-12-09"}
    assert [p["rank"] for p in result["passages"]] == [1, 2, 3]


@pytest.mark.integration
def test_date_filters_and_k_reach_the_library(corpus_index):
    result = ask_json("what happened in Syria?", 4, "2024-12-07", "2024-12-07", index=corpus_index)
    assert len(result["passages"]) == 4
    assert {p["date"] for p in result["passages"]} == {"2024-12-07"}


@pytest.mark.parametrize("question", ["", "   ", None])
def test_an_empty_question_is_a_user_error(question):
    with pytest.raises(gr.Error, match="Type a question"):
        ask(question, index="/nonexistent-index-never-opened")


@pytest.mark.parametrize(
    ("date_from", "date_to", "message"),
    [("yesterday", "", "From date 'yesterday' is not a date"), ("", "2024-13-45", "To date"),
     ("2024-12-09", "2024-12-07", "swap them")],
)
def test_a_bad_date_is_a_user_error(corpus_index, date_from, date_to, message):
    with pytest.raises(gr.Error) as caught:
        ask(QUESTION, 5, date_from, date_to, index=corpus_index)
    assert message in caught.value.message
    assert "YYYY-MM-DD" in caught.value.message or "swap" in caught.value.message


@pytest.mark.parametrize("k", [0, 21, 2.5, "five"])
def test_a_bad_number_of_passages_is_a_user_error(k):
    with pytest.raises(gr.Error, match="from 1 to 20"):
        ask(QUESTION, k, index="/nonexistent-index-never-opened")


def test_endpoint_errors_keep_their_wording():
    with pytest.raises(gr.Error) as caught:
        app.search_json("Assad", 0, index="/nonexistent-index-never-opened")
    assert caught.value.message == "The number of passages must be a whole number from 1 to 20."


def test_a_missing_index_is_a_user_error_that_says_how_to_build_it(tmp_path):
    with pytest.raises(gr.Error, match="rag index"):
        ask(QUESTION, index=tmp_path / "no-index")


# -- rendering: untrusted text is escaped before markup is added -------------------


def test_passage_text_and_quote_are_escaped_before_highlighting():
    quote = f"The factory opened {XSS} in May."
    passage = hit(f"Intro & <b>bold</b>. {quote} Outro {{{{x}}}} ${{window.__xss=3}}.")
    answer_html = render_answer(cited("when?", passage, quote))
    passages_html = render_passages(cited("when?", passage, quote))
    for html_ in (answer_html, passages_html):
        assert "<img" not in html_ and "<script" not in html_ and "<b>" not in html_
        assert "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;" in html_
        assert "&lt;script&gt;window.__xss=2&lt;/script&gt;" in html_
        assert "Intro &amp; &lt;b&gt;bold&lt;/b&gt;." in html_
    assert "<mark>The factory opened &lt;img" in answer_html
    assert answer_html.count("<mark>") == 1
    # the answer line quotes the sentence, escaped too
    assert "<q>The factory opened &lt;img" in answer_html


def test_the_highlight_sits_exactly_on_the_quote():
    passage = hit("First sentence here. Second one < third. Last.")
    html_ = render_passages(cited("q", passage, "Second one < third."))
    assert "First sentence here. <mark>Second one &lt; third.</mark> Last." in html_


def test_a_not_found_answer_says_so_and_still_shows_the_closest_passages():
    hits = tuple(hit(f"Passage number {n} <i>.", rank=n) for n in range(1, 6))
    result = Answer(question="q", text="The indexed documents don't answer this.", found=False, hits=hits)
    html_ = render_answer(result)
    assert "The indexed documents don&#x27;t answer this." in html_
    assert "Closest passages" in html_
    assert html_.count('class="rag-card"') == 3 and "<mark>" not in html_ and "<i>" not in html_
    assert render_passages(result).count('class="rag-card"') == 5


def test_no_passage_at_all_points_at_the_filters():
    result = Answer(question="q", text="The indexed documents don't answer this.", found=False, hits=())
    assert "widen the date range" in render_answer(result)


def test_cards_show_page_numbers_and_undated_passages():
    html_ = render_passages(cited("q", hit("A quoted line here.", date=None, page=3), "A quoted line here."))
    assert "page 3" in html_ and "undated" in html_


# -- file names ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "saved"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\system.ini.txt", "system.ini.txt"),
        (".hidden.md", "hidden.md"),
        ("..", "document"),
        ("Zürich <notes>.md", "Zurich _notes_.md"),
        ("报告.pdf", "document.pdf"),
        ("report; rm -rf ~.txt", "report_ rm -rf _.txt"),
        ("  spaced   out .txt", "spaced out.txt"),
    ],
)
def test_safe_filename(name, saved):
    assert safe_filename(name) == saved
    assert re.fullmatch(r"[A-Za-z0-9._ -]+", saved) and not saved.startswith(".")


def test_an_upload_lands_inside_the_uploads_folder_whatever_its_name(writable_index, tmp_path):
    incoming = write(tmp_path / "incoming", "..évil <name>.txt", "The Brasko bridge opened on 2 June 2019.\n")
    uploads = tmp_path / "box" / "uploads"
    report = add_documents([str(incoming)], index=writable_index, uploads=uploads)
    assert report.added == ("evil _name_.txt",)
    assert sorted(p.name for p in uploads.iterdir()) == ["evil _name_.txt"]
    assert sorted(p.name for p in (tmp_path / "box").iterdir()) == ["uploads"]


# -- adding documents -------------------------------------------------------------------


@pytest.mark.integration
def test_uploaded_documents_are_searchable_at_once(writable_index, tmp_path):
    before = open_index(writable_index).info()
    files = [
        write(tmp_path, "zorbulon.txt", "The Zorbulon lighthouse was painted teal on 3 March 2021.\n"),
        write(tmp_path, "empty.md", ""),
    ]
    steps = []
    report = add_documents(files, index=writable_index, progress=lambda f, m: steps.append((f, m)))
    assert report.added == ("zorbulon.txt",) and report.skipped == ("empty.md",)
    assert any("empty" in w for w in report.warnings)
    assert steps and steps[-1][0] == 1.0
    # the default uploads folder is inside the index folder; the unreadable file was taken out again
    assert sorted(p.name for p in (writable_index / "uploads").iterdir()) == ["zorbulon.txt"]
    assert open_index(writable_index).info().documents == before.documents + 1

    result = ask_json("what colour was the Zorbulon lighthouse painted?", index=writable_index)
    assert result["found"] and "teal" in result["text"]
    assert result["citations"][0]["source"] == "zorbulon.txt"

    summary = render_report(report, ["zorbulon.txt", "empty.md"])
    assert "Added 1 file: zorbulon.txt." in summary and "Skipped 1 file" in summary
    again = add_documents([files[0]], index=writable_index)
    assert again.unchanged == ("zorbulon.txt",) and not again.added
    assert "Already indexed, unchanged: zorbulon.txt." in render_report(again, ["zorbulon.txt"])


@pytest.mark.integration
def test_an_unreadable_new_version_keeps_the_old_one(writable_index, tmp_path):
    add_documents([write(tmp_path / "v1", "notes.txt", "The Vellum archive moved to Ghent in 1998.\n")],
                  index=writable_index)
    report = add_documents([write(tmp_path / "v2", "notes.txt", "\x00\x01binary\x00" * 50)], index=writable_index)
    assert report.skipped == ("notes.txt",) and not report.updated
    assert (writable_index / "uploads" / "notes.txt").read_text() == "The Vellum archive moved to Ghent in 1998.\n"
    assert not [p for p in (writable_index / "uploads").iterdir() if p.name.startswith(".")]
    assert "Ghent" in ask_json("where did the Vellum archive move?", index=writable_index)["text"]


@pytest.mark.parametrize(
    ("name", "message"),
    [("notes.docx", ".docx files can't be indexed"), ("README", "Files without an extension"),
     ("data.pdf.exe", ".exe files")],
)
def test_an_unsupported_file_type_is_refused_and_nothing_is_written(tmp_path, name, message):
    index = tmp_path / "index"
    good = write(tmp_path / "in", "fine.txt", "Fine text.\n")
    bad = write(tmp_path / "in", name, "whatever\n")
    with pytest.raises(gr.Error, match=re.escape(message)):
        add_documents([good, bad], index=index)
    assert not index.exists()


def test_a_file_over_the_size_limit_is_refused(tmp_path):
    index = tmp_path / "index"
    big = write(tmp_path / "in", "big.txt", "x" * 3000)
    with pytest.raises(gr.Error, match=r"big.txt is 0.0 MB, over the 0.002 MB limit"):
        add_documents([big], index=index, max_upload_mb=0.002)
    assert not index.exists()


def test_no_files_and_duplicate_names_are_user_errors(tmp_path):
    with pytest.raises(gr.Error, match="Choose one or more"):
        add_documents([], index=tmp_path / "index")
    one = write(tmp_path / "a", "same.txt", "one\n")
    two = write(tmp_path / "b", "same.txt", "two\n")
    with pytest.raises(gr.Error, match="both be saved as same.txt"):
        add_documents([one, two], index=tmp_path / "index")


@pytest.mark.integration
def test_an_upload_may_not_replace_a_corpus_document(writable_index, tmp_path):
    version = (writable_index / "CURRENT").read_text()
    impostor = write(tmp_path, "assad-in-moscow-as-it-happened.txt", "Nothing happened.\n")
    with pytest.raises(gr.Error, match="already indexed from another folder"):
        add_documents([impostor], index=writable_index)
    assert (writable_index / "CURRENT").read_text() == version
    assert not (writable_index / "uploads" / impostor.name).exists()


@pytest.mark.integration
def test_a_document_with_markup_is_shown_as_text(writable_index, tmp_path):
    text = f"The Quarnix widget factory opened in Tallinn {XSS} on 5 May 2020.\n"
    add_documents([write(tmp_path, "widgets.txt", text)], index=writable_index)
    answer_html, passages_html = ask("when did the Quarnix widget factory open?", index=writable_index)
    for html_ in (answer_html, passages_html):
        assert "Quarnix" in html_
        assert "<img" not in html_ and "<script" not in html_
        assert "&lt;script&gt;window.__xss=2&lt;/script&gt;" in html_


# -- the app as a whole -----------------------------------------------------------------


def test_importing_the_app_opens_no_index_and_loads_no_model():
    code = """
        import sys
        import ui.app
        assert isinstance(ui.app.demo, __import__("gradio").Blocks)
        print(sorted(m for m in ("torch", "faiss", "sentence_transformers") if m in sys.modules))
        print(sys.modules["rag.search"]._open_indexes)
    """
    env = {**os.environ, "RAG_INDEX": "/nonexistent/never-built", "PYTHONPATH": str(Path(__file__).parent.parent)}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         env=env, timeout=120, cwd=Path(__file__).parent.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["[]", "{}"]
    assert not Path("/nonexistent/never-built").exists()


def test_upload_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("RAG_MAX_UPLOAD_MB", "7.5")
    assert app.max_upload_mb_from_env() == 7.5
    assert build_demo("/nonexistent").launch_defaults["max_file_size"] == "7500000b"
    monkeypatch.setenv("RAG_MAX_UPLOAD_MB", "lots")
    assert app.max_upload_mb_from_env() == 50
    assert build_demo("/nonexistent", max_upload_mb=2).launch_defaults["max_file_size"] == "2000000b"


def test_the_app_binds_to_loopback_and_sends_no_analytics():
    import inspect

    assert inspect.signature(app.serve).parameters["host"].default == "127.0.0.1"
    assert app.demo.analytics_enabled is False
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    theme = app.demo.launch_defaults["theme"]
    assert theme.font.startswith("system-ui") and not theme._font_css and not theme._stylesheets  # no web font


@pytest.fixture(scope="module")
def live_url(corpus_index, launch_app, tmp_path_factory):
    return launch_app(build_demo(corpus_index, uploads=tmp_path_factory.mktemp("uploads")))


@pytest.mark.integration
def test_the_ask_endpoint_answers_scripts(live_url):
    from gradio_client import Client

    assert live_url.startswith("http://127.0.0.1:")
    client = Client(live_url, verbose=False)
    result = client.predict(QUESTION, api_name="/ask")
    assert "Putin" in result["text"] and result["found"] is True
    assert result["citations"][0]["date"] in {"2024-12-08", "2024-12-09"}
    assert result["citations"][0]["source"] == "assad-in-moscow-as-it-happened.txt"
    assert client.predict("Assad asylum", 2, api_name="/search")[0]["rank"] == 1
    assert client.predict(api_name="/info")["documents"] == 1
    with pytest.raises(Exception, match="Type a question"):
        client.predict("  ", api_name="/ask")
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/ask", "/search", "/info", "/add_documents"} <= set(endpoints)


@pytest.mark.integration
def test_scripts_can_add_documents(corpus_index, launch_app, tmp_path):
    from gradio_client import Client, handle_file

    index = tmp_path / "index"
    shutil.copytree(corpus_index, index)
    client = Client(launch_app(build_demo(index)), verbose=False)
    fact = write(tmp_path / "in", "zorbulon.txt", "The Zorbulon lighthouse was painted teal on 3 March 2021.\n")
    summary, facts, _ = client.predict([handle_file(str(fact))], api_name="/add_documents")
    assert "Added 1 file: zorbulon.txt." in summary and "<dd>2</dd>" in facts
    assert "teal" in client.predict("what colour was the Zorbulon lighthouse painted?", api_name="/ask")["text"]
    assert (index / "uploads" / "zorbulon.txt").exists()


@pytest.mark.integration
def test_ten_simultaneous_questions_all_get_answers(live_url):
    from gradio_client import Client

    client = Client(live_url, verbose=False)
    examples = app.corpus_examples()
    questions = [examples[n % len(examples)] for n in range(10)]
    start = threading.Barrier(len(questions), timeout=30)

    def ask_one(question: str) -> dict:
        start.wait()
        return client.predict(question, api_name="/ask")

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(questions)) as pool:
        futures = [pool.submit(ask_one, q) for q in questions]
        results = [future.result(timeout=120) for future in futures]
    assert all(r["found"] and r["citations"] for r in results)
    assert [r["question"] for r in results] == questions


def test_example_questions_belong_to_the_default_corpus_only(tmp_path):
    assert "who granted Assad asylum?" in app.corpus_examples()
    # another index gets no examples about a corpus it does not hold
    assert "who granted Assad asylum?" not in str(build_demo(tmp_path / "other-index").config)
    assert "who granted Assad asylum?" in str(build_demo().config)
