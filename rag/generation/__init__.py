"""Answers written by the user's own language model, every sentence held to the passage it cites.

The extractive answer is made first (it retrieves the passages, and it is the answer
whenever generation fails). Then, in stages that each live in their own module:

1. ``prompt``: the passages numbered [1]…[k] with their dates and sources, the
   conversation so far, and the instruction to answer only from them, citing [n];
2. ``client``: one OpenAI-compatible chat request (streamed for the app) to the
   configured server, and only to it;
3. ``claims``: the reply cut into sentences, each with the passages it cites;
4. ``verify`` and ``support``: each sentence checked against the passages it cites;
   unsupported ones are removed, and kept ones cite the sentence that supports them;
5. here: the Answer, or the extractive answer with one line saying why.

    >>> from rag import answer
    >>> answer("who granted Assad asylum?", mode="generate",
    ...        llm=LLMServer("http://127.0.0.1:11434/v1", "llama3.2"))    # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from rag.errors import RagError
from rag.generation.client import LLMError, chat
from rag.generation.prompt import build_messages
from rag.generation.settings import SUPPORT, LLMServer, SupportSettings
from rag.generation.verify import Checked, check
from rag.types import Answer, Citation

__all__ = ["Draft", "LLMError", "LLMServer", "Mode", "generate", "server_for", "stream_answer"]

log = logging.getLogger(__name__)

Mode = Literal["auto", "extract", "generate"]
MODES = ("auto", "extract", "generate")
QUOTING_INSTEAD = "showing quotes from the documents instead"


@dataclass(frozen=True)
class Draft:
    """The generated text so far, unchecked: for showing while the model writes."""

    text: str


def server_for(mode: str, llm: LLMServer | None = None) -> LLMServer | None:
    """The server an answer in ``mode`` uses: ``llm``, else $RAG_LLM_URL/$RAG_LLM_MODEL; None to quote.

    "extract" never uses one; "generate" requires one.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, MODES))}, not {mode!r}")
    if mode == "extract":
        return None
    if llm is not None and not isinstance(llm, LLMServer):
        raise ValueError(f"llm must be an LLMServer (url, model), not {type(llm).__name__}")
    server = llm or LLMServer.from_env()
    if server is None and mode == "generate":
        raise RagError(
            "mode='generate' needs a language model server: set RAG_LLM_URL and RAG_LLM_MODEL "
            "(e.g. http://127.0.0.1:11434/v1 and llama3.2 for Ollama), or pass --llm-url and --llm-model"
        )
    return server


def generate(
    extracted: Answer, server: LLMServer, *, history: Sequence[Answer] | None = None, index=None,
    settings: SupportSettings = SUPPORT,
) -> Answer:
    """The answer ``server`` writes from the passages of ``extracted``, checked; else ``extracted`` with a note."""
    result = extracted
    for result in _run(extracted, server, history or (), index, settings, stream=False):
        pass
    return result


def stream_answer(
    question: str,
    k: int = 5,
    *,
    index=None,
    date_from=None,
    date_to=None,
    source: str | None = None,
    history: Sequence[Answer] | None = None,
    mode: Mode = "auto",
    llm: LLMServer | None = None,
    settings: SupportSettings = SUPPORT,
) -> Iterator[Draft | Answer]:
    """Like ``answer()``, but yields a ``Draft`` each time the model writes more, then the checked Answer.

    Without a server (mode "extract", or "auto" with none configured) it yields the Answer alone.

    >>> for item in stream_answer("who granted Assad asylum?"):     # doctest: +SKIP
    ...     print(item.text)
    """
    from rag.answering import answer

    server = server_for(mode, llm)
    extracted = answer(question, k, index=index, date_from=date_from, date_to=date_to, source=source,
                       history=history, mode="extract")
    if server is None:
        yield extracted
        return
    yield from _run(extracted, server, history or (), index, settings, stream=True)


def _run(
    extracted: Answer, server: LLMServer, history: Sequence[Answer], index, settings: SupportSettings, *, stream: bool
) -> Iterator[Draft | Answer]:
    if not extracted.hits:  # nothing to write from, and nothing a sentence could be checked against
        yield dataclasses.replace(extracted, note=f"No passage matches, so {server.model} was not asked.")
        return
    from rag.embedding import get_embedder
    from rag.search import open_index

    messages = build_messages(extracted.question_used or extracted.question, extracted.hits, history)
    pieces: list[str] = []
    try:
        for piece in chat(server, messages, stream=stream):
            pieces.append(piece)
            if stream:
                yield Draft("".join(pieces))
    except LLMError as error:
        log.warning("no generated answer: %s", error)
        yield _fallback(extracted, f"No generated answer: {error}")
        return
    generated = "".join(pieces)
    encoder = get_embedder(open_index(index).manifest.model)
    checked = check(generated, extracted.hits, encoder, settings)
    yield compose(extracted, checked, server)


def compose(extracted: Answer, checked: Sequence[Checked], server: LLMServer) -> Answer:
    """The checked sentences with their repaired citations, or the extractive answer when none holds."""
    kept = [c for c in checked if c.kept]
    unsupported = tuple(c.claim.text for c in checked if not c.kept and not c.declines)
    if not kept:
        if unsupported:
            count = f"{len(unsupported)} sentence{'s' * (len(unsupported) != 1)}"
            reason = f"none of the {count} {server.model} wrote is supported by the passage it cites"
        elif checked:
            reason = f"{server.model} found no answer in the passages"
        else:
            reason = f"{server.model} wrote nothing"
        return _fallback(dataclasses.replace(extracted, unsupported=unsupported), reason[0].upper() + reason[1:])
    citations: dict[tuple[int, int], Citation] = {}
    parts = []
    for sentence in kept:
        markers = []
        for found in sentence.supports:
            place = (found.hit.chunk_id, found.start)
            if place not in citations:
                citations[place] = Citation(
                    marker=len(citations) + 1, hit=found.hit, quote=found.quote,
                    start=found.hit.start + found.start, end=found.hit.start + found.end,
                )
            markers.append(citations[place].marker)
        parts.append(sentence.claim.text + " " + "".join(f"[{m}]" for m in dict.fromkeys(markers)))
    note = f"Written by {server.model}; every sentence checked against the passage it cites"
    if unsupported:
        note += f"; {len(unsupported)} not supported by the sources removed"
    return Answer(
        question=extracted.question,
        text=" ".join(parts),
        found=True,
        citations=tuple(citations.values()),
        hits=extracted.hits,
        short=None,
        question_used=extracted.question_used,
        confidence=extracted.confidence,
        mode="generate",
        unsupported=unsupported,
        note=note + ".",
    )


def _fallback(extracted: Answer, reason: str) -> Answer:
    return dataclasses.replace(extracted, mode="extract", note=f"{reason}; {QUOTING_INSTEAD}.")
