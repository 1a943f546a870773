"""A conversation: the turns of one browser session, each a question, its filters and its answer.

Plain data and the few moves the app makes on it (ask, re-run the last question, re-run
all); every answer comes from ``rag.answer``, given the earlier answers as ``history``.
Mistakes a person can make (an unreadable date, a bad number of passages) end up in
the turn as ``error``, worded for the reader, so the page shows them where the answer
would be and never leaves an older answer looking current.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from rag import Answer, RagError, answer
from rag.dates import parse_date
from rag.generation import Draft, LLMServer, stream_answer
from ui.errors import mistake, plain, user_error

DEFAULT_K = 5
MAX_K = 20
# Turns a reload restores (each is answered again) and earlier questions the /ask API takes.
MAX_TURNS = 20


@dataclass(frozen=True)
class Filters:
    """What every question of a turn is asked with."""

    k: int = DEFAULT_K
    date_from: str | None = None
    date_to: str | None = None
    source: str | None = None  # one document's name, or a glob such as "*.pdf"


@dataclass(frozen=True)
class Turn:
    """One question of the conversation and what came of it: an answer, or why there is none."""

    question: str
    filters: Filters
    answer: Answer | None = None
    error: str | None = None
    draft: str | None = None  # what the language model has written so far, not yet checked


def parse_k(k: Any) -> int:
    try:
        value = int(k)
        whole = float(k) == value and not isinstance(k, bool)
    except (TypeError, ValueError, OverflowError):
        whole = False
    if not whole or not 1 <= value <= MAX_K:
        raise mistake(f"The number of passages must be a whole number from 1 to {MAX_K}.")
    return value


def parse_filters(k: Any = DEFAULT_K, date_from: Any = "", date_to: Any = "", source: Any = "") -> Filters:
    """The filters as the form gives them, checked; a ``gr.Error`` says what is wrong and how to fix it."""
    try:
        start = parse_date((date_from or "").strip() or None, name="date_from")
        end = parse_date((date_to or "").strip() or None, name="date_to")
    except ValueError as error:
        raise user_error(error) from None
    if start and end and start > end:
        raise mistake(f"The From date ({start}) is after the To date ({end}); swap them.")
    return Filters(parse_k(k), start, end, (source or "").strip() or None)


def history(turns: Sequence[Turn]) -> list[Answer]:
    """The answers of ``turns``, oldest first, as ``rag.answer(history=...)`` takes them."""
    return [turn.answer for turn in turns if turn.answer is not None]


def _mode(llm: LLMServer | None) -> str:
    return "generate" if llm is not None else "extract"


def answer_turn(
    question: str, filters: Filters, earlier: Sequence[Turn] = (), *, index=None, llm: LLMServer | None = None
) -> Turn:
    """Answer ``question`` after ``earlier`` turns (written by ``llm`` when given, each sentence checked;
    else quoted); a mistake in it becomes the turn's ``error``."""
    try:
        result = answer(
            question,
            filters.k,
            index=index,
            date_from=filters.date_from,
            date_to=filters.date_to,
            source=filters.source,
            history=history(earlier),
            mode=_mode(llm),
            llm=llm,
        )
    except (ValueError, RagError) as error:
        return failed_turn(question, filters, user_error(error))
    return Turn(question, filters, answer=result)


def stream_turn(
    question: str, filters: Filters, earlier: Sequence[Turn] = (), *, index=None, llm: LLMServer | None = None
) -> Iterator[Turn]:
    """Like ``answer_turn``, but first a turn with the ``draft`` so far each time the model writes more."""
    try:
        for item in stream_answer(
            question, filters.k, index=index, date_from=filters.date_from, date_to=filters.date_to,
            source=filters.source, history=history(earlier), mode=_mode(llm), llm=llm,
        ):
            if isinstance(item, Draft):
                yield Turn(question, filters, draft=item.text)
            else:
                yield Turn(question, filters, answer=item)
    except (ValueError, RagError) as error:
        yield failed_turn(question, filters, user_error(error))


def failed_turn(question: str, filters: Filters, error: gr.Error) -> Turn:
    """A turn that could not be answered; ``error`` is kept as plain text (gr.Error's is escaped HTML)."""
    return Turn(question, filters, error=plain(error))


def rerun_last(
    turns: Sequence[Turn], filters: Filters | gr.Error, *, index=None, llm: LLMServer | None = None
) -> list[Turn]:
    """The conversation with its last question asked again with ``filters`` (or failed with the error)."""
    if not turns:
        return []
    *earlier, last = turns
    if isinstance(filters, gr.Error):
        return [*earlier, failed_turn(last.question, last.filters, filters)]
    return [*earlier, answer_turn(last.question, filters, earlier, index=index, llm=llm)]


def rerun_all(turns: Sequence[Turn], *, index=None, llm: LLMServer | None = None) -> list[Turn]:
    """Every question asked again, in order, each with its own filters: after the index changed.

    Only the last is written by ``llm``: asking a language model again for every earlier
    turn would keep the page waiting for minutes; the earlier ones are quoted.
    """
    fresh: list[Turn] = []
    for number, turn in enumerate(turns, start=1):
        model = llm if number == len(turns) else None
        fresh.append(answer_turn(turn.question, turn.filters, fresh, index=index, llm=model))
    return fresh


def to_storage(turns: Sequence[Turn]) -> list[dict]:
    """What the browser keeps of a conversation (questions and filters) so a reload can restore it."""
    return [{"question": t.question, **dataclasses.asdict(t.filters)} for t in turns[-MAX_TURNS:]]


def from_storage(stored: Any, *, index=None, llm: LLMServer | None = None) -> list[Turn]:
    """The conversation the browser kept, answered again (only the last by ``llm``); anything unreadable is dropped."""
    readable = [
        item for item in (stored if isinstance(stored, list) else [])
        if isinstance(item, dict) and isinstance(item.get("question"), str) and item["question"].strip()
    ]
    turns: list[Turn] = []
    for number, item in enumerate(readable, start=1):
        try:
            filters = parse_filters(item.get("k", DEFAULT_K), item.get("date_from"), item.get("date_to"),
                                    item.get("source"))
        except gr.Error:
            filters = Filters()
        model = llm if number == len(readable) else None
        turns.append(answer_turn(item["question"].strip(), filters, turns, index=index, llm=model))
    return turns[-MAX_TURNS:]


def restore(turns: list[Turn], stored: Any, *, index=None) -> list[Turn]:
    """A session's conversation: the server's copy (``turns``), else the browser's (``stored``), answered again.

    The server keeps the state of its last $RAG_MAX_SESSIONS sessions only; a session it
    dropped arrives with no turns while its browser still holds the conversation.
    """
    return turns if turns else from_storage(stored, index=index)


def answers_for(
    questions: Sequence[str], question: str, filters: Filters, *, index=None, llm: LLMServer | None = None
) -> Answer:
    """The API's conversation: ``questions`` answered in order (quoted), then ``question`` with them as
    history (written by ``llm`` when given).

    Raises ``gr.Error`` for a mistake in any of them, naming which.
    """
    if len(questions) > MAX_TURNS:
        raise mistake(f"history holds {len(questions)} questions; send at most the last {MAX_TURNS}.")
    asked = [*questions, question]
    for number, earlier in enumerate(asked, start=1):
        if not isinstance(earlier, str) or not earlier.strip():
            which = "the question" if number == len(asked) else f"history item {number}"
            raise mistake(f"{which} is empty; every question must be text.", "No question")
    turns: list[Turn] = []
    for number, earlier in enumerate(asked, start=1):
        turn = answer_turn(earlier.strip(), filters, turns, index=index, llm=llm if number == len(asked) else None)
        if turn.error:
            raise mistake(html.escape(turn.error, quote=False))
        turns.append(turn)
    return turns[-1].answer
