"""HTML for the app: answers with citation cards, passages, upload reports and index facts.

Document text is untrusted: every piece of it is HTML-escaped before any markup is added.
"""

import html
from collections.abc import Iterable

from rag import Answer, Hit, IndexInfo, SyncReport

CLOSEST_WHEN_NOT_FOUND = 3

# Scoped to each gr.HTML that shows answers or passages; gradio's variables keep dark mode readable.
# Gradio evaluates css_template as a JS template string: no backslashes, backticks or "${" here.
CARD_CSS = """
.rag-h { font-size: var(--text-md); font-weight: 600; margin: 1.1em 0 0.45em; color: var(--body-text-color); }
.rag-empty { color: var(--body-text-color-subdued); margin: 0.4em 0; }
.rag-answer { border: 1px solid var(--border-color-accent-subdued, var(--color-accent));
  border-left: 4px solid var(--color-accent); border-radius: var(--radius-lg); padding: 0.8em 1em;
  background: var(--block-background-fill); }
.rag-answer.rag-not-found { border-color: var(--border-color-primary);
  border-left-color: var(--body-text-color-subdued); }
.rag-answer-text { font-size: var(--text-lg); line-height: 1.55; margin: 0; color: var(--body-text-color);
  overflow-wrap: anywhere; }
.rag-note { margin: 0.5em 0 0; color: var(--body-text-color-subdued); font-size: var(--text-sm); }
.rag-marker { font-weight: 600; color: var(--color-accent); white-space: nowrap; }
.rag-cards { display: flex; flex-direction: column; gap: 0.6em; }
.rag-card { border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg); padding: 0.65em 0.9em;
  background: var(--block-background-fill); }
.rag-meta { display: flex; flex-wrap: wrap; gap: 0.25em 0.9em; align-items: baseline; font-size: var(--text-sm);
  color: var(--body-text-color-subdued); margin-bottom: 0.35em; }
.rag-meta .rag-marker, .rag-meta .rag-rank { font-size: var(--text-md); }
.rag-rank { font-weight: 600; color: var(--body-text-color); }
.rag-source { font-family: var(--font-mono); overflow-wrap: anywhere; }
.rag-passage { margin: 0; white-space: pre-wrap; line-height: 1.5; color: var(--body-text-color);
  overflow-wrap: anywhere; }
.rag-passage mark { background: #fde68a; color: #1c1917; border-radius: 3px; padding: 0.05em 0.15em; }
.rag-facts { display: grid; grid-template-columns: auto 1fr; gap: 0.2em 0.8em; margin: 0; font-size: var(--text-sm); }
.rag-facts dt { color: var(--body-text-color-subdued); }
.rag-facts dd { margin: 0; color: var(--body-text-color); overflow-wrap: anywhere; }
.rag-report { font-size: var(--text-sm); line-height: 1.5; color: var(--body-text-color); }
.rag-report p { margin: 0.2em 0; }
.rag-report ul { margin: 0.3em 0 0 1.2em; padding: 0; }
.rag-report .rag-warn { color: var(--color-red-600, #b45309); }
"""


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


def _quote_spans(result: Answer, hit: Hit) -> list[tuple[int, int]]:
    """Where the answer's quotes lie inside ``hit.text``."""
    spans = []
    for citation in result.citations:
        if citation.hit.chunk_id != hit.chunk_id:
            continue
        start, end = citation.start - hit.start, citation.end - hit.start
        if hit.text[start:end] != citation.quote:  # offsets are exact today; don't trust them blindly
            start = hit.text.find(citation.quote)
            end = start + len(citation.quote)
        if start >= 0:
            spans.append((start, end))
    return spans


def _meta(hit: Hit, label: str) -> str:
    items = [label, f'<span class="rag-date">{html.escape(hit.date) if hit.date else "undated"}</span>']
    items.append(f'<span class="rag-source">{html.escape(hit.source)}</span>')
    if hit.page:
        items.append(f'<span class="rag-page">page {hit.page}</span>')
    items.append(f'<span class="rag-score">score {hit.score:.3f}</span>')
    return f'<div class="rag-meta">{"".join(items)}</div>'


def _card(hit: Hit, label: str, spans: list[tuple[int, int]], marker: int | None = None) -> str:
    data = f' data-marker="{marker}"' if marker is not None else ""
    return (
        f'<article class="rag-card"{data}>{_meta(hit, label)}'
        f'<p class="rag-passage">{highlight(hit.text, spans)}</p></article>'
    )


def _answer_text(result: Answer) -> str:
    """The answer's text, escaped, with each quote in ``<q>`` and each [n] marker styled."""
    text, parts, position = result.text, [], 0
    for citation in result.citations:
        marker = f" [{citation.marker}]"
        at = text.find(citation.quote + marker, position)
        if at < 0:  # the text is not the quotes we know: show it as it is
            return html.escape(text)
        parts.append(html.escape(text[position:at]))
        parts.append(
            f'<q>{html.escape(citation.quote)}</q>&nbsp;<span class="rag-marker">[{citation.marker}]</span>'
        )
        position = at + len(citation.quote) + len(marker)
    parts.append(html.escape(text[position:]))
    return "".join(parts)


def render_answer(result: Answer) -> str:
    """The answer and one card per citation, the quoted sentence highlighted in its passage."""
    if result.found:
        cards = "".join(
            _card(c.hit, f'<span class="rag-marker">[{c.marker}]</span>', _quote_spans(result, c.hit), c.marker)
            for c in result.citations
        )
        return (
            f'<section class="rag-answer" aria-live="polite">'
            f'<p class="rag-answer-text">{_answer_text(result)}</p></section>'
            f'<h3 class="rag-h">Sources</h3><div class="rag-cards">{cards}</div>'
        )
    if not result.hits:
        note = "No passage matches these filters; widen the date range or clear it."
        return (
            f'<section class="rag-answer rag-not-found" aria-live="polite"><p class="rag-answer-text">'
            f"{html.escape(result.text)}</p><p class=\"rag-note\">{note}</p></section>"
        )
    closest = result.hits[:CLOSEST_WHEN_NOT_FOUND]
    cards = "".join(_card(hit, f'<span class="rag-rank">#{hit.rank}</span>', []) for hit in closest)
    return (
        f'<section class="rag-answer rag-not-found" aria-live="polite"><p class="rag-answer-text">'
        f'{html.escape(result.text)}</p><p class="rag-note">None of the passages found says it; '
        f"the closest are below. Try other words, or another date range.</p></section>"
        f'<h3 class="rag-h">Closest passages</h3><div class="rag-cards">{cards}</div>'
    )


def render_passages(result: Answer) -> str:
    """Every passage the answer was drawn from, best first, quoted sentences highlighted."""
    if not result.hits:
        return '<p class="rag-empty">No passages.</p>'
    cards = "".join(
        _card(hit, f'<span class="rag-rank">#{hit.rank}</span>', _quote_spans(result, hit)) for hit in result.hits
    )
    return f'<div class="rag-cards">{cards}</div>'


def render_report(report: SyncReport, uploaded: Iterable[str] = ()) -> str:
    """What an upload did, as HTML: files added, updated, unchanged, skipped; passages; warnings.

    ``uploaded`` names the files of this upload, so that files uploaded earlier and
    still unchanged are not listed again.
    """

    def names(items: Iterable[str]) -> str:
        return ", ".join(html.escape(item) for item in items)

    def files(count: int) -> str:
        return f"{count} file{'s' * (count != 1)}"

    uploaded = set(uploaded)
    unchanged = [name for name in report.unchanged if name in uploaded]
    lines = []
    if report.added:
        lines.append(f"Added {files(len(report.added))}: {names(report.added)}.")
    if report.updated:
        lines.append(f"Updated {files(len(report.updated))}: {names(report.updated)}.")
    if unchanged:
        lines.append(f"Already indexed, unchanged: {names(unchanged)}.")
    if report.removed:
        lines.append(f"Removed {files(len(report.removed))} no longer in the uploads folder: {names(report.removed)}.")
    if report.skipped:
        lines.append(
            f'<span class="rag-warn">Skipped {files(len(report.skipped))}, not indexed: {names(report.skipped)}.</span>'
        )
    if report.added or report.updated:
        lines.append(
            f"{report.chunks_added} passage{'s' * (report.chunks_added != 1)} indexed "
            f"({report.chunks_embedded} newly embedded); searchable now."
        )
    elif not (lines or report.skipped):
        lines.append("Nothing new: these files are already indexed.")
    body = "".join(f"<p>{line}</p>" for line in lines)
    if report.warnings:
        body += "<ul>" + "".join(f'<li class="rag-warn">{html.escape(w)}</li>' for w in report.warnings) + "</ul>"
    return f'<div class="rag-report">{body}</div>'


def render_index_facts(info: IndexInfo) -> str:
    """Documents, passages, model and last update of the index, as HTML."""
    updated = info.updated.replace("T", " ").replace("+00:00", " UTC") if info.updated else "never"
    rows = [
        ("Documents", f"{info.documents:,}"),
        ("Passages", f"{info.chunks:,}"),
        ("Model", info.model),
        ("Updated", updated),
    ]
    cells = "".join(f"<dt>{name}</dt><dd>{html.escape(value)}</dd>" for name, value in rows)
    return f'<dl class="rag-facts">{cells}</dl>'


def render_no_index(error: Exception) -> str:
    """Why there is no index to describe, as HTML, and how to start one."""
    return (
        f'<p class="rag-empty">{html.escape(str(error))}</p>'
        '<p class="rag-empty">Add documents below to start an index here.</p>'
    )
