"""The app's CSS and JavaScript, kept apart from its layout and handlers.

No web fonts, no external script: everything here is sent by the app itself.
"""

# Scoped to each gr.HTML that shows sources, documents and reports; gradio's variables keep dark mode
# readable. Gradio evaluates css_template as a JS template string: no backslashes, backticks or "${" here.
CARD_CSS = """
.rag-h { font-size: var(--text-md); font-weight: 600; margin: 0.2em 0 0.5em; color: var(--body-text-color); }
.rag-empty { color: var(--body-text-color-subdued); margin: 0.4em 0; }
.rag-note { margin: 0.3em 0 0.6em; color: var(--body-text-color-subdued); font-size: var(--text-sm); }
.rag-marker { font-weight: 700; color: var(--link-text-color); white-space: nowrap; }
.rag-cards { display: flex; flex-direction: column; gap: 0.6em; }
.rag-card { border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg); padding: 0.65em 0.9em;
  background: var(--block-background-fill); scroll-margin: 4em; transition: box-shadow 0.2s; }
.rag-card.rag-selected { border-color: var(--color-accent); box-shadow: 0 0 0 3px var(--color-accent); }
.rag-meta { display: flex; flex-wrap: wrap; gap: 0.25em 0.9em; align-items: baseline; font-size: var(--text-sm);
  color: var(--body-text-color-subdued); margin-bottom: 0.35em; }
.rag-meta .rag-marker, .rag-meta .rag-rank-no { font-size: var(--text-md); }
.rag-rank-no { font-weight: 600; color: var(--body-text-color); }
.rag-source { font-family: var(--font-mono); overflow-wrap: anywhere; }
.rag-passage { margin: 0; white-space: pre-wrap; line-height: 1.5; color: var(--body-text-color);
  overflow-wrap: anywhere; }
mark { background: #fde68a; color: #1c1917; border-radius: 3px; padding: 0.05em 0.15em; }
.rag-here { background: var(--background-fill-secondary); outline: 1px dashed var(--border-color-primary); }
.rag-tools { display: flex; flex-wrap: wrap; gap: 0.5em; margin-top: 0.5em; }
.rag-tools button, .rag-tabs button, .rag-doc-list button, .rag-doc-head button {
  min-height: 32px; min-width: 32px; padding: 0.25em 0.8em; border-radius: var(--radius-md); cursor: pointer;
  border: 1px solid var(--border-color-primary); background: var(--button-secondary-background-fill);
  color: var(--button-secondary-text-color); font: inherit; font-size: var(--text-sm); }
.rag-tools button:hover, .rag-tabs button:hover, .rag-doc-list button:hover, .rag-doc-head button:hover {
  background: var(--button-secondary-background-fill-hover); }
.rag-tabs { display: flex; flex-wrap: wrap; gap: 0.4em; align-items: center; margin-bottom: 0.6em;
  font-size: var(--text-sm); color: var(--body-text-color); }
.rag-tabs button[aria-pressed=true] { border-color: var(--color-accent); box-shadow: inset 0 0 0 1px var(--color-accent);
  font-weight: 600; }
.rag-context { margin-top: 0.5em; padding: 0.5em 0.7em; border-left: 3px solid var(--border-color-primary);
  font-size: var(--text-sm); }
.rag-all { margin-top: 0.8em; }
.rag-all > summary { cursor: pointer; padding: 0.35em 0; color: var(--body-text-color); font-weight: 600; }
.rag-all[open] > summary { margin-bottom: 0.5em; }
.rag-problem { color: var(--body-text-color); border-left: 4px solid var(--error-icon-color, #dc2626);
  padding: 0.2em 0 0.2em 0.7em; margin: 0.3em 0; }
.rag-facts { display: grid; grid-template-columns: auto 1fr; gap: 0.2em 0.8em; margin: 0 0 0.8em;
  font-size: var(--text-sm); }
.rag-facts dt { color: var(--body-text-color-subdued); }
.rag-facts dd { margin: 0; color: var(--body-text-color); overflow-wrap: anywhere; }
.rag-doc-list { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 0.5em; }
.rag-doc-list li { display: flex; flex-wrap: wrap; gap: 0.2em 0.8em; align-items: center; justify-content: space-between;
  border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg); padding: 0.5em 0.8em; }
.rag-doc-name { flex: 1 1 14em; min-width: 0; }
.rag-doc-name .rag-source { color: var(--body-text-color); font-weight: 600; display: block; }
.rag-doc-name span + span { display: block; font-size: var(--text-sm); color: var(--body-text-color-subdued); }
.rag-report { font-size: var(--text-sm); line-height: 1.5; color: var(--body-text-color); }
.rag-report ul { margin: 0.2em 0 0.4em; padding-left: 1.2em; }
.rag-report p { margin: 0.2em 0; }
.rag-ok-label { font-weight: 600; }
.rag-fail-label { font-weight: 600; color: var(--body-text-color); }
.rag-fail { list-style: none; margin-left: -1.2em; }
.rag-fail::before { content: "✗ "; color: var(--error-text-color, #b91c1c); font-weight: 700; }
.rag-ok { list-style: none; margin-left: -1.2em; }
.rag-ok::before { content: "✓ "; font-weight: 700; }
dialog.rag-doc { width: min(60em, 94vw); max-height: 88vh; padding: 0; border: 1px solid var(--border-color-primary);
  border-radius: var(--radius-lg); background: var(--background-fill-primary); color: var(--body-text-color); }
dialog.rag-doc::backdrop { background: rgba(0, 0, 0, 0.5); }
.rag-doc-head { display: flex; gap: 1em; justify-content: space-between; align-items: center; padding: 0.6em 1em;
  border-bottom: 1px solid var(--border-color-primary); position: sticky; top: 0;
  background: var(--background-fill-primary); }
.rag-doc-head h2 { font-size: var(--text-lg); margin: 0; overflow-wrap: anywhere; color: var(--body-text-color); }
.rag-doc-body { padding: 0.8em 1em; overflow: auto; max-height: calc(88vh - 4em); }
.rag-doc-body h3 { font-size: var(--text-md); margin: 1em 0 0.3em; color: var(--body-text-color); }
.rag-sr { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }
"""


# Page-wide: the chat's answers (gr.Chatbot content is not a gr.HTML, so its CSS lives here), focus
# rings on every control, and tap targets of at least 24 px.
LAYOUT_CSS = """
#rag-header h1 { margin-bottom: 0.1em; }
#rag-header p { margin-top: 0; color: var(--body-text-color-subdued); }
#rag-question textarea, #rag-question input { font-size: var(--text-lg); padding: 0.6em 0.8em; }
#rag-upload-note p { margin: 0; font-size: var(--text-sm); color: var(--body-text-color-subdued); }
#rag-status:not(:has(p)) { display: none; }
#rag-status .rag-problem { color: var(--body-text-color); border-left: 4px solid var(--error-icon-color, #dc2626);
  padding: 0.2em 0 0.2em 0.7em; margin: 0.3em 0; }
#rag-chat [role=log] { padding-top: 2.4em; }  /* clear of the bin icon in the corner */
#rag-chat .rag-turn p { margin: 0.25em 0; }
#rag-chat .rag-short { font-size: var(--text-lg); }
#rag-chat .rag-answer-text { line-height: 1.55; overflow-wrap: anywhere; }
#rag-chat q.rag-q-own::before { content: no-open-quote; }  /* the quote has its own marks */
#rag-chat q.rag-q-own::after { content: no-close-quote; }
#rag-chat .rag-searched, #rag-chat .rag-narrowed, #rag-chat .rag-signal { font-size: var(--text-sm);
  color: var(--body-text-color-subdued); }
#rag-chat a.rag-cite { font-weight: 700; color: var(--link-text-color); text-decoration: underline;
  white-space: nowrap; display: inline-block; min-width: 24px; min-height: 24px; text-align: center; }
#rag-chat .rag-badge { font-weight: 600; color: var(--body-text-color); }
#rag-chat .rag-badge.rag-strong::before { content: "● "; color: var(--color-green-600, #16a34a); }
#rag-chat .rag-badge.rag-partial::before { content: "◐ "; color: var(--color-yellow-600, #ca8a04); }
#rag-chat .rag-badge.rag-checked::before { content: "✓ "; color: var(--color-green-600, #16a34a); }
#rag-chat .rag-llm-note { font-size: var(--text-sm); color: var(--body-text-color-subdued);
  border-left: 4px solid var(--color-yellow-600, #ca8a04); padding-left: 0.7em; }
#rag-chat .rag-unsupported { font-size: var(--text-sm); color: var(--body-text-color-subdued); }
#rag-chat .rag-unsupported ul { margin: 0.2em 0 0.2em 1.2em; padding: 0; }
#rag-chat .rag-turn-draft .rag-answer-text { color: var(--body-text-color-subdued); }
#rag-chat .rag-problem { border-left: 4px solid var(--error-icon-color, #dc2626); padding-left: 0.7em; }
#rag-chat button.rag-copy { min-height: 32px; padding: 0.25em 0.8em; border-radius: var(--radius-md); cursor: pointer;
  border: 1px solid var(--border-color-primary); background: var(--button-secondary-background-fill);
  color: var(--button-secondary-text-color); font-size: var(--text-sm); }
#rag-chat .rag-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0, 0, 0, 0);
  white-space: nowrap; }
:is(a, button, input, textarea, select, summary, [tabindex], .wrap-inner):focus-visible {
  outline: 3px solid var(--color-accent) !important; outline-offset: 2px !important; }
#rag-question:focus-within, #rag-filters input:focus { box-shadow: 0 0 0 3px var(--color-accent) !important; }
/* Tap targets of at least 24 px, gradio's own controls included. */
.label-wrap { min-height: 32px; }
.reset-button, .icon-button, footer a, footer button { min-height: 24px; min-width: 24px; }
#rag-k input[type=number] { min-height: 28px; }
#rag-k input[type=range] { min-height: 24px; }
#rag-source input { min-height: 24px; }
input[type=range]:focus-visible { outline: 3px solid var(--color-accent) !important; outline-offset: 4px !important; }
"""

# Citations in the chat ([n] links, copy buttons) and the cards' tools. Runs once, when the
# sources panel first renders; the clicks are delegated, so re-rendered HTML needs nothing new.
SOURCES_JS = """
const panel = () => document.getElementById('rag-sources');
const smooth = !window.matchMedia('(prefers-reduced-motion: reduce)').matches;
const escape = (text) => { const d = document.createElement('div'); d.textContent = text; return d.innerHTML; };
function showTurn(turn) {
  panel().querySelectorAll('.rag-turn-sources').forEach((s) => { s.hidden = s.id !== 'rag-turn-' + turn; });
  panel().querySelectorAll('.rag-tab').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.turn === String(turn))));
}
function select(card) {
  panel().querySelectorAll('.rag-card.rag-selected').forEach((c) => c.classList.remove('rag-selected'));
  card.classList.add('rag-selected');
  card.scrollIntoView({ block: 'center', behavior: smooth ? 'smooth' : 'auto' });
  card.focus({ preventScroll: true });
}
const quotes = (card) => (card.dataset.quotes || '').split(' ').filter(Boolean).map((q) => q.split('-').map(Number));
async function copyText(text) {
  try { await navigator.clipboard.writeText(text); return true; } catch (error) { /* not a secure context */ }
  const area = document.createElement('textarea');
  area.value = text; area.setAttribute('readonly', ''); area.style.position = 'fixed'; area.style.opacity = '0';
  document.body.appendChild(area); area.select();
  let done = false;
  try { done = document.execCommand('copy'); } catch (error) { done = false; }
  area.remove();
  return done;
}
if (!window.__ragCitations) {
  window.__ragCitations = true;
  document.addEventListener('click', async (event) => {
    const cite = event.target.closest('a.rag-cite');
    if (cite && panel()) {
      const id = (cite.getAttribute('href') || '').slice(1);
      const card = document.getElementById(id);
      if (!card) return;
      event.preventDefault();
      showTurn(id.split('-')[2]);
      select(card);
      return;
    }
    const copy = event.target.closest('button.rag-copy');
    if (copy && panel()) {
      const turn = [...copy.classList].map((c) => c.match(/^rag-copy-(\\d+)$/)).find(Boolean);
      const text = turn && document.getElementById('rag-copy-' + turn[1]);
      if (!text) return;
      const done = await copyText(text.value);
      const label = copy.textContent;
      copy.textContent = done ? 'Copied' : 'Copy failed: select the text instead';
      window.__ragCopied = done ? text.value : null;
      setTimeout(() => { copy.textContent = label; }, 2000);
    }
  });
}
element.addEventListener('click', async (event) => {
  const tab = event.target.closest('.rag-tab');
  if (tab) { showTurn(tab.dataset.turn); return; }
  const card = event.target.closest('.rag-card');
  const button = event.target.closest('button');
  if (!button) return;
  if (button.classList.contains('rag-doc-close')) { button.closest('dialog').close(); return; }
  if (!card) return;
  if (button.classList.contains('rag-around')) {
    const box = card.querySelector('.rag-around-text');
    if (!box.hidden) { box.hidden = true; button.setAttribute('aria-expanded', 'false'); button.textContent = 'Text around'; return; }
    if (!box.dataset.loaded) {
      button.disabled = true;
      try { box.innerHTML = (await server.passage_context([Number(card.dataset.chunk), quotes(card)])).html; box.dataset.loaded = '1'; }
      catch (error) { box.innerHTML = '<p class="rag-problem">' + escape('Could not load the text: ' + error) + '</p>'; }
      button.disabled = false;
    }
    box.hidden = false; button.setAttribute('aria-expanded', 'true'); button.textContent = 'Hide text around';
    return;
  }
  if (button.classList.contains('rag-open')) {
    const dialog = element.querySelector('dialog.rag-doc');
    const body = dialog.querySelector('.rag-doc-body');
    button.disabled = true;
    try {
      const view = await server.document_view([Number(card.dataset.chunk), quotes(card)]);
      dialog.querySelector('h2').textContent = view.title;
      body.innerHTML = view.html;
    } catch (error) {
      dialog.querySelector('h2').textContent = 'Document';
      body.innerHTML = '<p class="rag-problem">' + escape('Could not load the document: ' + error) + '</p>';
    }
    button.disabled = false;
    dialog.showModal();
    const here = body.querySelector('#rag-doc-here mark') || body.querySelector('#rag-doc-here');
    if (here) here.scrollIntoView({ block: 'center' });
  }
});
"""

DOCUMENTS_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button.rag-remove');
  if (!button) return;
  const source = button.dataset.source;
  const what = button.dataset.upload === '1' ? ' Its uploaded file is deleted too.' : ' The file itself stays where it is.';
  if (window.confirm('Remove ' + source + ' from the index?' + what)) {
    button.disabled = true;
    trigger('select', { source: source });
  }
});
"""

# A live region that stays in the page: its content changes, the element never does.
STATUS_JS = "element.setAttribute('role', 'status'); element.setAttribute('aria-live', 'polite');"
