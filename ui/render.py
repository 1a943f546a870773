"""HTML for the app: conversation turns, source cards, documents, upload reports, document views.

Document text is untrusted: every piece of it is HTML-escaped before any markup is added.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from rag import Answer, Citation, DocumentFacts, Hit, IndexInfo
from ui.conversation import Filters, Turn
from ui.uploads import UploadReport
from ui.viewer import Located, around

CLOSEST_WHEN_NOT_FOUND = 3
NOT_FOUND_NOTE = "None of the passages found says it; the closest are under Sources. Try other words, or widen the filters."
NO_PASSAGE_NOTE = "No passage matches these filters; widen the date range, or ask all documents."
SIGNALS = {
    "strong": ("Strong match", "The quotes answer the question directly."),
    "partial": ("Partial match", "The quotes may answer only part of it; check them against their sources."),
    "none": ("Not found", ""),
}
DRAFT_NOTE = "Writing… each sentence is checked against the passage it cites when the answer is complete."
UNSUPPORTED_HEADING = "Not supported by the sources (removed):"

def highlight(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` HTML-escaped, with the ``(start, end)`` spans wrapped in ``<mark>``."""
    parts, position = [], 0
    for start, end in sorted(spans):
        start, end = max(start, position), min(end, len(text))
        if start >= end:
            continue
        parts += [html.escape(text[position:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        position = end
    parts.append(html.escape(text[position:]))
    return "".join(parts)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


# -- a turn of the conversation, as the chat shows it ------------------------------


def chat_messages(turns: Sequence[Turn]) -> list[dict]:
    """The conversation in gr.Chatbot's messages format: the question, then the answer, per turn."""
    messages = []
    for number, turn in enumerate(turns, start=1):
        messages.append({"role": "user", "content": _e(turn.question)})
        messages.append({"role": "assistant", "content": render_turn(turn, number)})
    return messages


def _cite(number: int, marker: int) -> str:
    return (
        f'<a class="rag-cite" href="#rag-src-{number}-{marker}">'
        f'<span class="rag-sr">source </span>[{marker}]</a>'
    )


def _generated_text(result: Answer, number: int) -> str:
    """A generated answer's text, escaped, each [n] marker of one of its citations a link to its source card."""
    markers = {c.marker for c in result.citations}

    def link(match: re.Match) -> str:
        marker = int(match.group(1))
        return _cite(number, marker) if marker in markers else match.group()

    return re.sub(r"\[(\d+)\]", link, _e(result.text))


def _answer_text(result: Answer, number: int) -> str:
    """The answer's text, escaped, each quote in ``<q>`` and each [n] marker a link to its source card."""
    if result.mode == "generate":
        return _generated_text(result, number)
    text, parts, position = result.text, [], 0
    for citation in result.citations:
        marker = f" [{citation.marker}]"
        at = text.find(citation.quote + marker, position)
        if at < 0:  # the text is not the quotes we know: show it as it is
            return _e(text)
        parts.append(_e(text[position:at]))
        parts.append(f"<q{_own_marks(citation.quote)}>{_e(citation.quote)}</q>&nbsp;{_cite(number, citation.marker)}")
        position = at + len(citation.quote) + len(marker)
    parts.append(_e(text[position:]))
    return "".join(parts)


def _own_marks(quote: str) -> str:
    """The class of a quote that both opens and closes with quotation marks of its own (a
    statement quoted whole): the browser's marks around ``<q>`` would double them
    (``“““ … ””``). A quote with one mark at one end only ("“We will fight,” he said.")
    keeps the browser's, or its marks would no longer pair."""
    return ' class="rag-q-own"' if len(quote) > 1 and quote[0] in "“\"" and quote[-1] in "”\"" else ""


def _filters_note(filters: Filters) -> str:
    """The filters a turn was asked with, when any narrows it: "from 2024-12-08, in notes.txt"."""
    parts = []
    if filters.date_from and filters.date_to:
        parts.append(f"dated {filters.date_from} to {filters.date_to}")
    elif filters.date_from:
        parts.append(f"dated from {filters.date_from}")
    elif filters.date_to:
        parts.append(f"dated up to {filters.date_to}")
    if filters.source:
        parts.append(f"in {filters.source}")
    return ", ".join(parts)


def _unsupported(result: Answer) -> str:
    """The generated sentences removed because their sources don't say them, struck through."""
    if not result.unsupported:
        return ""
    items = "".join(f"<li><del>{_e(sentence)}</del></li>" for sentence in result.unsupported)
    return f'<div class="rag-unsupported"><p>{UNSUPPORTED_HEADING}</p><ul>{items}</ul></div>'


def render_turn(turn: Turn, number: int) -> str:
    """One answer as the chat shows it: the short answer in bold, the cited quotes, how strong a match.

    A generated answer shows its checked sentences, what was removed, and the line that says
    how it was made; while the model writes, its unchecked draft.
    """
    if turn.draft is not None:
        return (
            f'<div class="rag-turn rag-turn-draft" aria-busy="true"><p class="rag-answer-text">{_e(turn.draft)}</p>'
            f'<p class="rag-signal">{DRAFT_NOTE}</p></div>'
        )
    if turn.error is not None:
        return (
            f'<div class="rag-turn rag-turn-error"><p class="rag-problem"><strong>Can&#x27;t answer this.</strong> '
            f"{_e(turn.error)}</p></div>"
        )
    result = turn.answer
    parts = []
    used = (result.question_used or "").strip()
    if used and used != result.question.strip():
        parts.append(f'<p class="rag-searched">Searched for: “{_e(used)}”</p>')
    narrowed = _filters_note(turn.filters)
    if result.mode != "generate" and result.note:  # why the answer is quoted although a model was asked
        parts.append(f'<p class="rag-llm-note">{_e(result.note)}</p>')
    if result.found and result.mode == "generate":
        parts.append(f'<p class="rag-answer-text">{_answer_text(result, number)}</p>')
        parts.append(f'<p class="rag-signal"><span class="rag-badge rag-checked">Checked</span> {_e(result.note)}</p>')
        parts.append(_unsupported(result))
        parts.append(
            f'<p class="rag-turn-tools"><button type="button" class="rag-copy rag-copy-{number}">'
            f"Copy answer and sources</button></p>"
        )
    elif result.found:
        if result.short:
            parts.append(f'<p class="rag-short"><strong>{_e(result.short)}</strong></p>')
        parts.append(f'<p class="rag-answer-text">{_answer_text(result, number)}</p>')
        label, note = SIGNALS[result.strength]
        parts.append(f'<p class="rag-signal"><span class="rag-badge rag-{result.strength}">{label}</span> {note}</p>')
        parts.append(_unsupported(result))
        parts.append(
            f'<p class="rag-turn-tools"><button type="button" class="rag-copy rag-copy-{number}">'
            f"Copy answer and sources</button></p>"
        )
    else:
        parts.append(f'<p class="rag-answer-text">{_e(result.text)}</p>')
        parts.append(f'<p class="rag-signal">{NOT_FOUND_NOTE if result.hits else NO_PASSAGE_NOTE}</p>')
        parts.append(_unsupported(result))
    if narrowed:
        parts.append(f'<p class="rag-narrowed">Asked with filters: {_e(narrowed)}.</p>')
    return f'<div class="rag-turn rag-turn-{result.strength}">{"".join(parts)}</div>'


# -- sources: one card per citation, and every passage retrieved --------------------


def _quote_spans(citations: Iterable[Citation], hit: Hit) -> list[tuple[int, int]]:
    """Where the quotes of ``citations`` lie inside ``hit.text``."""
    spans = []
    for citation in citations:
        if citation.hit.chunk_id != hit.chunk_id:
            continue
        start, end = citation.start - hit.start, citation.end - hit.start
        if hit.text[start:end] != citation.quote:  # offsets are exact today; don't trust them blindly
            start = hit.text.find(citation.quote)
            end = start + len(citation.quote)
        if start >= 0:
            spans.append((start, end))
    return spans


def _card(hit: Hit, card_id: str, label: str, result: Answer, citations: Sequence[Citation] | None = None) -> str:
    """A passage's card, marking the quotes of ``citations`` (default: every quote of
    the answer) that lie in it."""
    spans = _quote_spans(result.citations if citations is None else citations, hit)
    quotes = " ".join(f"{hit.start + s}-{hit.start + e}" for s, e in spans)
    items = [label, f'<span class="rag-date">{_e(hit.date) if hit.date else "undated"}</span>']
    items.append(f'<span class="rag-source">{_e(hit.source)}</span>')
    if hit.page:
        items.append(f'<span class="rag-page">page {hit.page}</span>')
    items.append(f'<span class="rag-rank">passage {hit.rank} of {len(result.hits)} found</span>')
    return (
        f'<article class="rag-card" id="{card_id}" tabindex="-1" data-chunk="{hit.chunk_id}" data-quotes="{quotes}">'
        f'<div class="rag-meta">{"".join(items)}</div>'
        f'<p class="rag-passage">{highlight(hit.text, spans)}</p>'
        f'<div class="rag-tools"><button type="button" class="rag-around" aria-expanded="false">Text around</button>'
        f'<button type="button" class="rag-open" aria-haspopup="dialog">Whole document</button></div>'
        f'<div class="rag-around-text" hidden></div></article>'
    )


def plain_answer(turn: Turn) -> str:
    """A turn as plain text, for the copy button: question, answer, then each citation's place."""
    lines = [f"Q: {turn.question}"]
    result = turn.answer
    if result is None:
        return "\n".join([*lines, f"Can't answer this. {turn.error or ''}".strip()])
    if result.found and result.short:
        lines.append(result.short)
    lines.append(result.text)
    if result.note:
        lines.append(f"({result.note})")
    if result.unsupported:
        lines += [UNSUPPORTED_HEADING, *(f"- {sentence}" for sentence in result.unsupported)]
    lines.append("")
    for citation in result.citations:
        hit = citation.hit
        page = f", page {hit.page}" if hit.page else ""
        lines.append(f"[{citation.marker}] {hit.date or 'undated'}, {hit.source}{page}: “{citation.quote}”")
    return "\n".join(lines).strip()


def _turn_sources(turn: Turn, number: int, current: bool) -> str:
    hidden = "" if current else " hidden"
    heading = f'<h3 class="rag-h" id="rag-turn-{number}-h">Sources of answer {number}: “{_e(turn.question)}”</h3>'
    copy = f'<textarea class="rag-copy-text" id="rag-copy-{number}" hidden readonly>{_e(plain_answer(turn))}</textarea>'
    open_tag = f'<section class="rag-turn-sources" id="rag-turn-{number}" aria-labelledby="rag-turn-{number}-h"{hidden}>'
    if turn.draft is not None:
        body = '<p class="rag-empty">The sources appear once the answer is checked against them.</p>'
        return f"{open_tag}{heading}{body}</section>"
    if turn.answer is None:
        body = f'<p class="rag-problem">No sources: {_e(turn.error or "")}</p>'
        return f"{open_tag}{heading}{body}{copy}</section>"
    result = turn.answer
    if result.found:
        # Each citation's card marks its own quote: two quotes of one passage are two
        # cards, each showing where its [n] was taken from.
        cards = "".join(
            _card(c.hit, f"rag-src-{number}-{c.marker}", f'<span class="rag-marker">[{c.marker}]</span>', result, [c])
            for c in result.citations
        )
        body = f'<div class="rag-cards">{cards}</div>'
    elif result.hits:
        closest = result.hits[:CLOSEST_WHEN_NOT_FOUND]
        cards = "".join(
            _card(h, f"rag-close-{number}-{h.rank}", f'<span class="rag-rank-no">#{h.rank}</span>', result)
            for h in closest
        )
        body = f'<p class="rag-note">Not found; the closest passages:</p><div class="rag-cards">{cards}</div>'
    else:
        body = f'<p class="rag-empty">{NO_PASSAGE_NOTE}</p>'
    if result.hits:
        every = "".join(
            _card(h, f"rag-psg-{number}-{h.rank}", f'<span class="rag-rank-no">#{h.rank}</span>', result)
            for h in result.hits
        )
        body += (
            f'<details class="rag-all"><summary>All retrieved passages ({len(result.hits)})</summary>'
            f'<div class="rag-cards">{every}</div></details>'
        )
    return f"{open_tag}{heading}{body}{copy}</section>"


DIALOG = (
    '<dialog class="rag-doc" aria-labelledby="rag-doc-title"><div class="rag-doc-head">'
    '<h2 id="rag-doc-title">Document</h2><button type="button" class="rag-doc-close">Close</button></div>'
    '<div class="rag-doc-body" tabindex="0"></div></dialog>'
)


def render_sources(turns: Sequence[Turn], current: int | None = None) -> str:
    """The sources of every turn, those of ``current`` (1-based; default the last) shown, the rest hidden.

    Each turn's cards are there so that a click on an older answer's [n] can show them
    without asking the server; buttons above switch between answers.
    """
    if not turns:
        return f'<p class="rag-empty">The sources of each answer appear here.</p>{DIALOG}'
    current = current or len(turns)
    tabs = ""
    if len(turns) > 1:
        buttons = "".join(
            f'<button type="button" class="rag-tab" data-turn="{n}" aria-pressed="{str(n == current).lower()}" '
            f'title="{_e(turn.question)}">{n}</button>'
            for n, turn in enumerate(turns, start=1)
        )
        tabs = f'<div class="rag-tabs" role="group" aria-label="Show the sources of answer">Answer {buttons}</div>'
    sections = "".join(_turn_sources(turn, n, n == current) for n, turn in enumerate(turns, start=1))
    return f'<div class="rag-sources">{tabs}{sections}</div>{DIALOG}'


def render_problem(message: str) -> str:
    """A mistake shown inline where the result would be (plain text in, escaped here)."""
    return f'<p class="rag-problem">{_e(message)}</p>'


def render_done(message: str) -> str:
    """What an action did, in the status line (plain text in, escaped here)."""
    return f'<p class="rag-done">{_e(message)}</p>'


# -- the text around a passage, and the whole document ------------------------------


def _with_passage(text: str, start: int, end: int, quotes: Iterable[tuple[int, int]], anchor: bool = False) -> str:
    """``text`` escaped, ``[start, end)`` (the passage) marked out and the quotes inside it highlighted."""
    inner = [(s - start, e - start) for s, e in quotes if start <= s < e <= end]
    anchor_id = ' id="rag-doc-here"' if anchor else ""
    return (
        f"{_e(text[:start])}<span class=\"rag-here\"{anchor_id}>{highlight(text[start:end], inner)}</span>"
        f"{_e(text[end:])}"
    )


def render_around(located: Located, quotes: Iterable[tuple[int, int]]) -> str:
    """The passage with the passages before and after it (the text between included), under its card."""
    chunk, text = located.chunk, located.text
    left, right = around(text, chunk.start, chunk.end, located.before, located.after)
    shifted = [(s - left, e - left) for s, e in quotes]
    body = _with_passage(text[left:right], chunk.start - left, chunk.end - left, shifted)
    return (
        f'<p class="rag-passage rag-context">{"…" if left > 0 else ""}{body}{"…" if right < len(text) else ""}</p>'
    )


def render_document(located: Located, quotes: Iterable[tuple[int, int]]) -> str:
    """The whole document, the passage marked out and its quotes highlighted (pages headed, for a PDF)."""
    chunk, quotes = located.chunk, list(quotes)
    parts = []
    for page in located.pages:
        if page.page is not None:
            parts.append(f"<h3>Page {page.page}</h3>")
        if page.page == chunk.page:
            body = _with_passage(page.text, chunk.start, chunk.end, quotes, anchor=True)
        else:
            body = _e(page.text)
        parts.append(f'<p class="rag-passage">{body}</p>')
    return "".join(parts)


# -- documents, uploads and the index ----------------------------------------------------


def _dates(facts: DocumentFacts) -> str:
    if facts.date_from is None:
        return "undated"
    if facts.date_from == facts.date_to:
        return f"dated {facts.date_from}"
    return f"dated {facts.date_from} to {facts.date_to}"


def _added(timestamp: str) -> str:
    return timestamp[:16].replace("T", " ") + " UTC" if timestamp else "when: not recorded"


def render_documents(documents: Sequence[DocumentFacts], uploaded: Iterable[str] = ()) -> str:
    """The indexed documents, each with its facts and a Remove button (uploads: the file goes too)."""
    if not documents:
        return '<p class="rag-empty">No documents yet: add some below.</p>'
    uploaded = set(uploaded)
    rows = []
    for d in documents:
        facts = [d.kind.upper() or "file"]
        if d.kind == "pdf":
            facts.append(f"{d.pages} page{'s' * (d.pages != 1)}")
        facts += [f"{d.passages} passage{'s' * (d.passages != 1)}", _dates(d), f"added {_added(d.added)}"]
        if d.source in uploaded:
            facts.append("uploaded")
        rows.append(
            f'<li><span class="rag-doc-name"><span class="rag-source">{_e(d.source)}</span>'
            f"<span>{_e(' · '.join(facts))}</span></span>"
            f'<button type="button" class="rag-remove" data-source="{_e(d.source)}" '
            f'data-upload="{int(d.source in uploaded)}" aria-label="Remove {_e(d.source)}">Remove</button></li>'
        )
    return f'<ul class="rag-doc-list" aria-label="Indexed documents">{"".join(rows)}</ul>'


def render_upload_report(report: UploadReport) -> str:
    """Each file of an upload with what became of it, and the reason when it failed."""
    items = []
    for outcome in report.files:
        name = f'<span class="rag-source">{_e(outcome.name)}</span>'
        if outcome.status == "failed":
            items.append(f'<li class="rag-fail"><span class="rag-fail-label">Not added:</span> {name}: {_e(outcome.reason)}</li>')
        else:
            label = {"added": "Added", "updated": "Updated", "unchanged": "Already indexed, unchanged"}[outcome.status]
            items.append(f'<li class="rag-ok"><span class="rag-ok-label">{label}:</span> {name}</li>')
    note = ""
    if report.sync is not None and (report.sync.added or report.sync.updated):
        count = report.sync.chunks_added
        note = f"<p>{count} passage{'s' * (count != 1)} indexed; searchable now.</p>"
    return f'<div class="rag-report" role="status"><ul>{"".join(items)}</ul>{note}</div>'


def render_index_facts(info: IndexInfo) -> str:
    """Documents, passages, model and last update of the index, as HTML."""
    updated = info.updated.replace("T", " ").replace("+00:00", " UTC") if info.updated else "never"
    rows = [
        ("Documents", f"{info.documents:,}"),
        ("Passages", f"{info.chunks:,}"),
        ("Model", info.model),
        ("Updated", updated),
    ]
    cells = "".join(f"<dt>{name}</dt><dd>{_e(value)}</dd>" for name, value in rows)
    return f'<dl class="rag-facts">{cells}</dl>'


def render_no_index(error: Exception) -> str:
    """Why there is no index to describe, as HTML, and how to start one."""
    return (
        f'<p class="rag-empty">{_e(str(error))}</p>'
        '<p class="rag-empty">Add documents below to start an index here.</p>'
    )
