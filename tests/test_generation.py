"""Generated answers: the reply cut into cited sentences, each checked against its passage, and every
way a server can fail falling back to the quoted answer.

Pure functions are tested as they are; everything that talks to a server talks to a scripted
OpenAI-compatible one on 127.0.0.1 (tests/llm_server.py), over the real corpus index (the support
thresholds are calibrated for its model)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag import Answer, Hit, RagError, answer
from rag.cli import main
from rag.generation import Draft, LLMServer, server_for, stream_answer
from rag.generation.claims import split_claims
from rag.generation.prompt import build_messages
from rag.generation.settings import SUPPORT
from rag.generation.support import missing_facts, negation_differs, overstates, support, windows
from rag.generation.verify import check
from tests.llm_server import Drop, Raw, Reply, ScriptedServer, Status, closed_port_url

PROJECT = Path(__file__).resolve().parent.parent
PAIRS = PROJECT / "eval" / "support_pairs.jsonl"
QUESTION = "who granted Assad asylum?"
PUTIN = "Russian President Vladimir Putin was the one who granted"


def passage(text: str, *, date: str | None = "2024-12-09", start: int = 1000, chunk_id: int = 1) -> Hit:
    return Hit(rank=1, score=0.5, chunk_id=chunk_id, source="news.txt", text=text, start=start,
               end=start + len(text), date=date)


# -- the reply cut into sentences ------------------------------------------------------------


@pytest.mark.parametrize("reply, expected", [
    ("Putin granted asylum [1]. Assad is in Moscow. [2][3] Nothing else.",
     [("Putin granted asylum.", (1,)), ("Assad is in Moscow.", (2, 3)), ("Nothing else.", ())]),
    ("- **Assad** fled to Moscow [1, 2].\n- He got asylum [Passage 3].",
     [("Assad fled to Moscow.", (1, 2)), ("He got asylum.", (3,))]),
    ("It happened on 8 Dec. 2024 in the U.S. capital [1-3].", [("It happened on 8 Dec. 2024 in the U.S. capital.", (1, 2, 3))]),
    ("One claim.【2】 [4]", [("One claim.", (2, 4))]),
    ("", []),
])
def test_a_reply_is_cut_into_sentences_each_with_the_passages_it_cites(reply, expected):
    assert [(c.text, c.markers) for c in split_claims(reply)] == expected


# -- the checks that need no model ----------------------------------------------------------------

ASYLUM = passage("Russian President Vladimir Putin granted Bashar Assad asylum, Peskov said on Monday. "
                 "More than 47,000 applications are pending. There is no serious threat to the bases.")


@pytest.mark.parametrize("sentence, missing", [
    ("Putin granted Assad asylum.", []),
    ("Putin granted asylum to 12 members of the family.", ["12"]),
    ("More than 47 thousand applications are pending.", []),  # the same number, written in words
    ("Mishustin granted Assad asylum.", ["Mishustin"]),  # a name the passage never mentions, even first
    ("France granted Assad asylum.", ["France"]),
    ("On 9 December, Peskov said Putin granted asylum.", []),  # the passage's own date
    ("On 10 December, Peskov said Putin granted asylum.", ["10", "10 December"]),
    ("On Monday, Peskov spoke.", []),  # 2024-12-09 was a Monday
    ("On Tuesday, Peskov spoke.", ["Tuesday"]),
    ("President Putin granted asylum.", []),  # a title is not a name
])
def test_numbers_dates_and_names_must_stand_in_the_passage(sentence, missing):
    assert missing_facts(sentence, ASYLUM) == missing


def test_a_sentence_that_denies_what_the_passage_states_or_the_reverse_is_caught():
    assert negation_differs("Putin did not grant asylum.", "Putin granted asylum.")
    assert negation_differs("The bases face a serious threat.", "There is no serious threat to the bases.")
    assert not negation_differs("There is no serious threat to them.", "There is no serious threat to the bases.")
    # a negation of something else in the passage's sentence is not a contradiction
    assert not negation_differs("47,000 applications are pending.", "47,000 are pending; others won't be affected.")


def test_a_sentence_may_not_state_as_fact_what_its_passage_only_reports_as_possible():
    assert overstates("Hijab has been appointed head of the government.", "Hijab could become head of the government.")
    assert not overstates("Hijab could lead the government.", "Hijab could become head of the government.")
    assert not overstates("Le Figaro reported that Hijab may lead it.", "Hijab could become head of the government.")
    assert not overstates("Putin granted asylum.", "Putin granted asylum, Peskov said.")


class WordEncoder:
    """A stand-in encoder: bag of lower-case words, L2-normalised (same words, same vector)."""

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        vocabulary = sorted({w for t in texts for w in t.lower().replace(".", " ").replace(",", " ").split()})
        rows = np.array([[t.lower().replace(".", " ").replace(",", " ").split().count(w) for w in vocabulary]
                         for t in texts], dtype="float32")
        return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9)


def test_each_kept_sentence_points_at_its_best_sentence_and_only_at_passages_that_support_it():
    other = passage("The weather in Moscow was cold. Snow fell on Sunday.", chunk_id=2, start=5000)
    reply = ("Russian President Vladimir Putin granted Bashar Assad asylum, Peskov said [2][1]. "
             "Snow fell on the Kremlin [2]. Nobody knows [7].")
    first, second, third = check(reply, [ASYLUM, other], WordEncoder())
    assert first.kept and [s.hit.chunk_id for s in first.supports] == [1]  # [2] doesn't say it: dropped
    assert first.supports[0].quote == "Russian President Vladimir Putin granted Bashar Assad asylum, Peskov said on Monday."
    assert not second.kept and "Kremlin" in second.reason
    assert not third.kept and "only [1]–[2] were given" in third.reason


def test_windows_are_the_sentences_then_the_pairs_of_neighbours():
    hit = passage("One two. Three four. Five.")
    assert [hit.text[s:e] for s, e in windows(hit)] == [
        "One two.", "Three four.", "Five.", "One two. Three four.", "Three four. Five."]


# -- the labelled pairs, with the real model -------------------------------------------------------


def load_pairs() -> list[dict]:
    return [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_labelled_pairs_are_many_balanced_and_quote_the_corpus_exactly():
    from rag.documents import load_documents

    pairs = load_pairs()
    labels = [p["label"] for p in pairs]
    assert len(pairs) >= 60 and set(labels) == {"supported", "unsupported"}
    assert min(labels.count("supported"), labels.count("unsupported")) >= 30
    assert len({p["id"] for p in pairs}) == len(pairs)
    texts = {}
    for p in pairs:
        if p["source"] not in texts:
            texts[p["source"]] = load_documents(PROJECT / "corpus" / p["source"], p["source"])[0][0].text
        assert texts[p["source"]][p["start"] : p["start"] + len(p["passage"])] == p["passage"], p["id"]


@pytest.mark.integration
def test_on_the_labelled_pairs_kept_sentences_are_supported_and_most_supported_ones_are_kept(corpus_index):
    """The figures scripts/calibrate_support.py reports (precision 1.000, recall 0.758), held."""
    from rag.embedding import get_embedder

    pairs = load_pairs()
    encoder = get_embedder("all-MiniLM-L6-v2")
    hits = [passage(p["passage"], date=p["date"], start=p["start"]) for p in pairs]
    texts = sorted({p["sentence"] for p in pairs} | {h.text[s:e] for h in hits for s, e in windows(h)})
    vectors = dict(zip(texts, encoder.encode_documents(texts)))
    kept = [support(p["sentence"], h, vectors).holds(SUPPORT) for p, h in zip(pairs, hits)]
    truth = [p["label"] == "supported" for p in pairs]
    true_kept = sum(k and t for k, t in zip(kept, truth))
    assert true_kept / sum(kept) >= 0.98  # precision
    assert true_kept / sum(truth) >= 0.75  # recall
    hard = {"number", "name", "date", "negation", "other-passage"}
    assert not [p["id"] for p, k in zip(pairs, kept) if k and p["label"] == "unsupported" and p["kind"] in hard]


# -- against a scripted server ------------------------------------------------------------------


@pytest.fixture(scope="module")
def quoted(corpus_index) -> Answer:
    """The extractive answer to QUESTION: its passages are what the model is given."""
    return answer(QUESTION, index=corpus_index, mode="extract")


def number_of(result: Answer, words: str) -> int:
    """The [n] of the first passage holding ``words``."""
    return next(n for n, hit in enumerate(result.hits, start=1) if words in hit.text)


def ask(index, server: ScriptedServer, **settings) -> Answer:
    return answer(QUESTION, index=index, mode="generate", llm=LLMServer(server.url, "scripted", **settings))


@pytest.mark.integration
def test_supported_sentences_are_kept_with_the_quote_that_supports_them_and_invented_ones_removed(
        corpus_index, quoted):
    from rag.documents import load_documents

    n = number_of(quoted, PUTIN)
    reply = (f"Russian President Vladimir Putin granted Bashar Assad and his family asylum [{n}]. "
             f"Assad now lives in a palace in Sochi [{n}].")
    with ScriptedServer([Reply(reply)]) as server:
        result = ask(corpus_index, server)
    assert result.mode == "generate" and result.found
    assert result.text == "Russian President Vladimir Putin granted Bashar Assad and his family asylum. [1]"
    assert result.unsupported == ("Assad now lives in a palace in Sochi.",)
    assert "1 not supported by the sources removed" in result.note
    (citation,) = result.citations
    assert citation.marker == 1 and citation.hit.rank == n and citation.quote.startswith(PUTIN)
    doc = load_documents(PROJECT / "corpus" / citation.hit.source, citation.hit.source)[0][0].text
    assert doc[citation.start : citation.end] == citation.quote  # the app can highlight it
    assert result.hits == quoted.hits and result.question_used == quoted.question_used


@pytest.mark.integration
def test_the_prompt_numbers_the_passages_with_dates_and_sources_and_carries_the_conversation(corpus_index, quoted):
    earlier = Answer(question="where is Assad?", text="Assad is in Moscow. [1]", found=True)
    with ScriptedServer([Reply("Putin did it [1].")]) as server:
        llm = LLMServer(server.url, "scripted", api_key="secret-key", max_tokens=77)
        answer(QUESTION, index=corpus_index, mode="generate", llm=llm, history=[earlier])
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions"
    body = request["body"]
    assert (body["model"], body["max_tokens"], body["temperature"], body["stream"]) == ("scripted", 77, 0, False)
    assert request["headers"]["Authorization"] == "Bearer secret-key"
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert body["messages"][1]["content"] == "where is Assad?"
    assert body["messages"][2]["content"] == "Assad is in Moscow."  # its [1] meant another passage
    system = body["messages"][0]["content"]
    assert "using only the numbered passages" in system and "in square brackets, like [1]" in system
    assert "If the passages do not answer the question, reply with exactly: The documents don't answer this." in system
    prompt = body["messages"][-1]["content"]
    for number, hit in enumerate(quoted.hits, start=1):
        assert f"[{number}] ({hit.date}, {hit.source})\n{hit.text.strip()}" in prompt
    assert prompt.rstrip().endswith("with a [n] after every sentence.") and QUESTION in prompt


@pytest.mark.integration
def test_a_streamed_answer_shows_drafts_then_the_same_checked_answer(corpus_index, quoted):
    n = number_of(quoted, PUTIN)
    reply = f"Putin granted Assad and his family asylum [{n}]. He also gave him a yacht [{n}]."
    with ScriptedServer([Reply(reply)]) as server:
        llm = LLMServer(server.url, "scripted")
        items = list(stream_answer(QUESTION, index=corpus_index, llm=llm))
        whole = answer(QUESTION, index=corpus_index, llm=llm)  # mode "auto" with a server: generates
    drafts, final = items[:-1], items[-1]
    assert len(drafts) >= 5 and all(isinstance(d, Draft) for d in drafts)
    assert [len(d.text) for d in drafts] == sorted(len(d.text) for d in drafts)
    assert drafts[-1].text == reply
    assert isinstance(final, Answer) and final == whole
    assert final.mode == "generate" and final.unsupported == ("He also gave him a yacht.",)
    assert [r["body"]["stream"] for r in server.requests] == [True, False]


@pytest.mark.integration
def test_a_citation_to_a_passage_that_doesnt_say_it_is_dropped_and_one_to_none_removes_the_sentence(
        corpus_index, quoted):
    n = number_of(quoted, PUTIN)
    wrong = next(i for i in range(1, len(quoted.hits) + 1) if i != n and "Putin" not in quoted.hits[i - 1].text)
    reply = (f"Russian President Vladimir Putin granted Bashar Assad and his family asylum [{wrong}][{n}]. "
             f"Peskov said this was the decision of the head of state [{len(quoted.hits) + 3}].")
    with ScriptedServer([Reply(reply)]) as server:
        result = ask(corpus_index, server)
    assert [c.hit.rank for c in result.citations] == [n]
    assert result.text.endswith("asylum. [1]")
    assert result.unsupported == ("Peskov said this was the decision of the head of state.",)


@pytest.mark.integration
@pytest.mark.parametrize("reply, why", [
    ("Assad was flown to Moscow by the Russian Air Force on 7 December [1]. He bought a house [2].",
     "none of the 2 sentences scripted wrote is supported by the passage it cites"),
    ("Putin granted Assad asylum.", "none of the 1 sentence scripted wrote is supported by the passage it cites"),
    ("The documents don't answer this.", "scripted found no answer in the passages"),
])
def test_when_no_sentence_holds_the_quoted_answer_is_given_with_one_line_saying_why(
        corpus_index, quoted, reply, why):
    with ScriptedServer([Reply(reply)]) as server:
        result = ask(corpus_index, server)
    assert result.mode == "extract" and result.text == quoted.text and result.citations == quoted.citations
    assert result.note == f"{why[0].upper()}{why[1:]}; showing quotes from the documents instead."
    assert "\n" not in result.note
    assert bool(result.unsupported) == ("found no answer" not in why)


@pytest.mark.integration
@pytest.mark.parametrize("step, why", [
    (Status(500, '{"error": {"message": "out of memory"}}'), "answered HTTP 500: out of memory"),
    (Status(404), "answered HTTP 404: model not found; is"),
    (Status(401, "unauthorised"), "answered HTTP 401: unauthorised; check RAG_LLM_API_KEY"),
    (Raw("<html>It works!</html>", "text/html"), "sent something that is not JSON: <html>It works!</html>"),
    (Raw('{"object": "list", "data": []}'), "sent something that is not a chat completion"),
    (Raw('{"choices": [{"message": {"content": ""}}]}'), "returned an empty answer"),
    (Raw('{"error": "model is loading"}'), "reported an error: model is loading"),
    (Raw("data: {not json\n\n", "text/event-stream"), "sent a stream line that is not JSON"),
    (Raw("data: [DONE]\n\n", "text/event-stream"), "returned an empty answer"),
    (Drop(), "failed (Server disconnected"),
    (Reply("Putin granted Assad asylum [1].", delay=3), "did not answer within 1 s"),
])
@pytest.mark.parametrize("streamed", [False, True])
def test_a_server_error_garbage_or_slowness_falls_back_to_quotes_with_one_line(
        corpus_index, quoted, step, why, streamed):
    with ScriptedServer([step]) as server:
        llm = LLMServer(server.url, "scripted", timeout=1)
        result = (list(stream_answer(QUESTION, index=corpus_index, llm=llm))[-1] if streamed
                  else answer(QUESTION, index=corpus_index, llm=llm))
    assert isinstance(result, Answer) and result.mode == "extract" and result.text == quoted.text
    assert result.note.startswith("No generated answer: the ") and why in result.note
    assert result.note.endswith("; showing quotes from the documents instead.") and "\n" not in result.note


@pytest.mark.integration
def test_a_stream_that_trickles_past_the_timeout_is_cut_off(corpus_index, quoted):
    """Each piece comes well within the time allowed for one read; the answer as a whole doesn't."""
    with ScriptedServer([Reply("Putin granted Assad asylum, said the long answer [1].", piece_delay=0.3)]) as server:
        items = list(stream_answer(QUESTION, index=corpus_index, llm=LLMServer(server.url, "scripted", timeout=1)))
    assert any(isinstance(item, Draft) for item in items)  # shown while it came
    assert items[-1].mode == "extract" and "did not finish within 1 s" in items[-1].note


@pytest.mark.integration
def test_a_server_that_is_down_falls_back_at_once(corpus_index, quoted):
    url = closed_port_url()
    result = answer(QUESTION, index=corpus_index, llm=LLMServer(url, "scripted"))
    assert result.mode == "extract" and result.text == quoted.text
    assert result.note == (f"No generated answer: the language model server at {url} can't be reached (connection "
                           "refused: is the server running?); showing quotes from the documents instead.")


@pytest.mark.integration
def test_with_no_passage_to_write_from_the_server_is_not_asked_and_the_answer_says_so(corpus_index):
    with ScriptedServer([Reply("Putin granted Assad asylum [1].")]) as server:
        result = answer(QUESTION, index=corpus_index, date_from="2031-01-01", llm=LLMServer(server.url, "scripted"))
    assert not server.requests and not result.hits and not result.found
    assert (result.mode, result.note) == ("extract", "No passage matches, so scripted was not asked.")


@pytest.mark.integration
def test_only_the_configured_server_is_contacted_whatever_the_proxy_settings(corpus_index, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", closed_port_url().removesuffix("/v1"))
    monkeypatch.setenv("ALL_PROXY", closed_port_url().removesuffix("/v1"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    with ScriptedServer([Reply("The documents don't answer this.")]) as server:
        result = ask(corpus_index, server)
    assert len(server.requests) == 1 and "found no answer" in result.note


# -- configuration ---------------------------------------------------------------------------------


def test_nothing_is_configured_by_default_and_auto_then_quotes(hash_index):
    assert LLMServer.from_env() is None
    assert server_for("auto") is None and server_for("extract", LLMServer("http://h/v1", "m")) is None
    result = answer(QUESTION, index=hash_index)
    assert (result.mode, result.note, result.unsupported) == ("extract", "", ())


def test_configuration_mistakes_are_said_clearly(monkeypatch, hash_index):
    with pytest.raises(RagError, match="mode='generate' needs a language model server: set RAG_LLM_URL"):
        answer(QUESTION, index=hash_index, mode="generate")
    with pytest.raises(ValueError, match="mode must be one of 'auto', 'extract', 'generate', not 'quote'"):
        answer(QUESTION, index=hash_index, mode="quote")
    with pytest.raises(RagError, match="is not an http"):
        LLMServer("127.0.0.1:11434", "llama3.2")
    with pytest.raises(RagError, match="no language model named"):
        LLMServer("http://127.0.0.1:11434/v1", " ")
    monkeypatch.setenv("RAG_LLM_URL", "http://127.0.0.1:11434/v1")
    with pytest.raises(RagError, match="but no model: set RAG_LLM_MODEL"):
        answer(QUESTION, index=hash_index)
    monkeypatch.setenv("RAG_LLM_MODEL", "llama3.2")
    monkeypatch.setenv("RAG_LLM_TIMEOUT", "soon")
    with pytest.raises(RagError, match="RAG_LLM_TIMEOUT='soon' is not a positive number"):
        LLMServer.from_env()
    monkeypatch.setenv("RAG_LLM_TIMEOUT", "5")
    monkeypatch.setenv("RAG_LLM_API_KEY", "sk-secret")
    server = LLMServer.from_env()
    assert (server.url, server.model, server.timeout, server.api_key) == (
        "http://127.0.0.1:11434/v1", "llama3.2", 5.0, "sk-secret")
    assert "sk-secret" not in repr(server)
    assert LLMServer("http://h:1/v1/chat/completions/", "m").chat_url == "http://h:1/v1/chat/completions"


def test_the_prompt_without_history_is_instruction_then_passages_and_question():
    messages = build_messages("who?", [ASYLUM])
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "The documents don't answer this." in messages[0]["content"]
    assert messages[1]["content"].startswith("Passages:\n\n[1] (2024-12-09, news.txt)\nRussian President")


# -- the command line --------------------------------------------------------------------------------


@pytest.mark.integration
def test_rag_ask_takes_the_server_on_the_command_line(corpus_index, quoted, capsys):
    n = number_of(quoted, PUTIN)
    reply = f"Putin granted Assad and his family asylum [{n}]. Assad was given a palace [{n}]."
    with ScriptedServer([Reply(reply)]) as server:
        code = main(["ask", QUESTION, "--index", str(corpus_index), "--llm-url", server.url, "--llm-model", "m"])
        out = capsys.readouterr().out
        assert code == 0
        assert out.startswith("Putin granted Assad and his family asylum. [1]\n")
        assert "Not supported by the sources (removed):\n  - Assad was given a palace." in out
        assert main(["ask", QUESTION, "--index", str(corpus_index), "--llm-url", server.url, "--llm-model", "m",
                     "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert (data["mode"], data["unsupported"]) == ("generate", ["Assad was given a palace."])
        assert main(["ask", QUESTION, "--index", str(corpus_index), "--llm-url", server.url, "--llm-model", "m",
                     "--mode", "extract", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["mode"] == "extract"
        assert len(server.requests) == 2  # --mode extract contacted nothing


def test_rag_ask_generate_without_a_server_says_what_to_set(hash_index, capsys):
    assert main(["ask", QUESTION, "--index", str(hash_index), "--mode", "generate"]) == 2
    assert "needs a language model server: set RAG_LLM_URL" in capsys.readouterr().err
    assert main(["ask", QUESTION, "--index", str(hash_index), "--llm-url", "ftp://x", "--llm-model", "m"]) == 2
    assert "is not an http(s) address" in capsys.readouterr().err


def test_rag_serve_refuses_a_bad_server_before_loading_anything(capsys, monkeypatch):
    monkeypatch.setattr("rag.cli._warm_up", lambda index: pytest.fail("it started loading"))
    assert main(["serve", "--llm-url", "127.0.0.1:11434", "--llm-model", "llama3.2"]) == 2
    assert "is not an http(s) address" in capsys.readouterr().err
    monkeypatch.setenv("RAG_LLM_URL", "http://127.0.0.1:11434/v1")
    assert main(["serve"]) == 2
    assert "but no model: set RAG_LLM_MODEL" in capsys.readouterr().err
