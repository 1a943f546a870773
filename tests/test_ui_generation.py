"""The app with a language model: drafts shown as written, then the checked answer; removed sentences
struck through; the reason for quoting instead, in one line. Model text is escaped like document text."""

from __future__ import annotations

import gradio as gr
import pytest

from rag import Answer, Citation, Hit
from rag.generation import LLMServer
from tests.llm_server import Reply, ScriptedServer, closed_port_url
from ui.api import Endpoints
from ui.app import build_demo
from ui.conversation import Filters, Turn, stream_turn
from ui.render import DRAFT_NOTE, UNSUPPORTED_HEADING, chat_messages, plain_answer, render_sources, render_turn

QUESTION = "who granted Assad asylum?"
XSS = '<img src=x onerror="window.__xss=1">'
PASSAGE = Hit(rank=1, score=0.5, chunk_id=1, source="news.txt", start=100, end=150, date="2024-12-09",
              text="First sentence here. Putin granted Assad asylum. Last one.")
CITATION = Citation(marker=1, hit=PASSAGE, quote="Putin granted Assad asylum.", start=121, end=148)


def generated(**fields) -> Answer:
    values = dict(question=QUESTION, text="Putin gave Assad asylum. [1]", found=True, citations=(CITATION,),
                  hits=(PASSAGE,), mode="generate", unsupported=(f"He lives in a palace {XSS}.",),
                  note="Written by m; every sentence checked against the passage it cites; 1 not supported by the "
                       "sources removed.")
    values.update(fields)
    return Answer(**values)


def test_a_generated_answer_links_its_markers_and_strikes_through_what_was_removed():
    html = render_turn(Turn(QUESTION, Filters(), answer=generated()), 3)
    assert 'Putin gave Assad asylum. <a class="rag-cite" href="#rag-src-3-1">' in html
    assert "Checked</span> Written by m; every sentence checked" in html
    assert f"{UNSUPPORTED_HEADING}</p><ul><li><del>He lives in a palace &lt;img" in html
    assert "<img" not in html and "onerror=\"" not in html
    sources = render_sources([Turn(QUESTION, Filters(), answer=generated())])
    assert "<mark>Putin granted Assad asylum.</mark>" in sources  # the supporting sentence, highlighted
    copied = plain_answer(Turn(QUESTION, Filters(), answer=generated()))
    assert UNSUPPORTED_HEADING in copied and f"- He lives in a palace {XSS}." in copied


def test_a_marker_the_answer_has_no_citation_for_stays_plain_text():
    html = render_turn(Turn(QUESTION, Filters(), answer=generated(text="Putin gave Assad asylum. [1] [7]")), 1)
    assert html.count('class="rag-cite"') == 1 and "[7]" in html


def test_a_draft_is_shown_escaped_with_a_note_that_it_is_not_yet_checked():
    turn = Turn(QUESTION, Filters(), draft=f"Putin granted {XSS} asylum [1")
    html = render_turn(turn, 1)
    assert DRAFT_NOTE in html and "&lt;img src=x" in html and "<img" not in html and 'aria-busy="true"' in html
    assert "appear once the answer is checked" in render_sources([turn])


def test_the_reason_for_quoting_instead_is_one_line_above_the_quotes():
    quoted = Answer(question=QUESTION, text="Putin granted Assad asylum. [1]", found=True, citations=(CITATION,),
                    hits=(PASSAGE,), note="No generated answer: the server at x can't be reached; showing quotes "
                                          "from the documents instead.")
    html = render_turn(Turn(QUESTION, Filters(), answer=quoted), 1)
    assert '<p class="rag-llm-note">No generated answer: the server at x' in html
    assert html.index("rag-llm-note") < html.index("rag-answer-text")


def on_ask_of(demo: gr.Blocks):
    return next(fn.fn for fn in demo.fns.values() if fn.name == "on_ask")


@pytest.mark.integration
def test_the_app_streams_drafts_then_replaces_them_with_the_checked_answer(corpus_index):
    reply = ("Russian President Vladimir Putin granted Bashar Assad and his family asylum [1]. "
             "Assad now lives in a palace in Sochi [1].")
    with ScriptedServer([Reply(reply, piece_delay=0.03)]) as server:
        demo = build_demo(corpus_index, llm=LLMServer(server.url, "scripted"))
        outputs = list(on_ask_of(demo)(QUESTION, 5, "", "", "", []))
    drafts, (chat, sources, turns, stored, question, status, _) = outputs[:-1], outputs[-1]
    assert drafts, "nothing was shown while the model wrote"
    for draft in drafts:  # only the chat changes while the model writes
        assert DRAFT_NOTE in draft[0][-1]["content"] and all(isinstance(o, dict) for o in draft[1:4])
    assert "Putin granted Bashar" in drafts[-1][0][-1]["content"]
    answer = turns[-1].answer
    assert answer.mode == "generate" and answer.unsupported == ("Assad now lives in a palace in Sochi.",)
    assert "<del>Assad now lives in a palace in Sochi.</del>" in chat[-1]["content"]
    assert "<mark>Russian President Vladimir Putin was the one who granted" in sources
    assert stored == [{"question": QUESTION, "k": 5, "date_from": None, "date_to": None, "source": None}]
    assert (question, status) == ("", "")


@pytest.mark.integration
def test_the_app_quotes_with_a_reason_when_the_server_is_down(corpus_index):
    demo = build_demo(corpus_index, llm=LLMServer(closed_port_url(), "scripted"))
    *_, (chat, sources, turns, *_rest) = on_ask_of(demo)(QUESTION, 5, "", "", "", [])
    assert turns[-1].answer.mode == "extract" and turns[-1].answer.found
    assert "can&#x27;t be reached" in chat[-1]["content"] and "showing quotes from the documents instead" in chat[-1][
        "content"]


@pytest.mark.integration
def test_only_the_last_turn_of_a_rerun_conversation_is_generated(corpus_index):
    from ui.conversation import rerun_all

    with ScriptedServer([Reply("The documents don't answer this.")]) as server:
        llm = LLMServer(server.url, "scripted")
        turns = [Turn("where is Assad now?", Filters()), Turn(QUESTION, Filters())]
        fresh = rerun_all(turns, index=corpus_index, llm=llm)
        streamed = list(stream_turn(QUESTION, Filters(), fresh[:1], index=corpus_index, llm=llm))
    assert len(server.requests) == 2  # one for the rerun's last turn, one for the streamed turn
    assert [t.answer.note != "" for t in fresh] == [False, True]
    assert streamed[-1].answer is not None and streamed[-1].draft is None


@pytest.mark.integration
def test_the_ask_endpoint_returns_the_generated_answer_and_what_was_removed(corpus_index):
    reply = "Russian President Vladimir Putin granted Bashar Assad and his family asylum [1]. Assad paid him [1]."
    with ScriptedServer([Reply(reply)]) as server:
        result = Endpoints(corpus_index, llm=LLMServer(server.url, "scripted")).ask(
            QUESTION, 5, "", "", ["where is Assad now?"], "")
        (request,) = server.requests  # the history's question was quoted, not generated
    assert result["mode"] == "generate" and result["unsupported"] == ["Assad paid him."]
    assert result["citations"][0]["quote"].startswith("Russian President Vladimir Putin was the one who granted")
    assert request["body"]["messages"][1] == {"role": "user", "content": "where is Assad now?"}


def test_without_a_server_the_app_quotes_and_says_so_in_its_header(hash_index):
    demo = build_demo(hash_index)
    outputs = list(on_ask_of(demo)(QUESTION, 5, "", "", "", []))
    assert len(outputs) == 1 and outputs[0][2][-1].answer.mode == "extract"
    assert "Answers are sentences quoted" in str(demo.config)
    with ScriptedServer([Reply("x")]) as server:
        assert "Answers are written by llama-test" in str(build_demo(hash_index, llm=LLMServer(server.url, "llama-test")).config)
    assert chat_messages([])  == []
