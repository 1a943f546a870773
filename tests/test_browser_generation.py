"""The app with a language model, in a real Chromium: the draft appears while the (scripted) model
writes, then the checked answer replaces it, removed sentences struck through, text escaped."""

from __future__ import annotations

import pytest

from rag.generation import LLMServer
from tests.llm_server import Reply, ScriptedServer
from tests.test_browser import CHROMIUM, CONTRAST_JS, QUESTION_BOX, browser, open_app  # noqa: F401 - fixture
from ui.app import build_demo

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's /usr/bin/chromium (make browser installs it)"),
]

REPLY = ("Russian President Vladimir Putin granted Bashar Assad and his family asylum [1]. "
         'Assad now lives in a palace in Sochi <img src=x onerror="window.pwned=1"> [1].')


@pytest.fixture(scope="module")
def llm_app(corpus_index, launch_app):
    with ScriptedServer([Reply(REPLY, piece_delay=0.15)]) as server:
        yield launch_app(build_demo(corpus_index, llm=LLMServer(server.url, "scripted-model")))


def test_the_draft_shows_while_written_then_the_checked_answer_replaces_it(browser, llm_app):  # noqa: F811
    context, page = open_app(browser, llm_app)
    try:
        assert "written by scripted-model" in page.inner_text("#rag-header")
        box = page.locator(QUESTION_BOX).first
        box.fill("who granted Assad asylum?")
        box.press("Enter")
        draft = page.locator("#rag-chat .rag-turn-draft")
        draft.wait_for()  # shown before the model has finished
        assert "checked against the passage it cites when the answer is complete" in draft.inner_text()
        checked = page.locator("#rag-chat .rag-turn:not(.rag-turn-draft)").last
        checked.locator(".rag-checked").wait_for()
        assert page.locator("#rag-chat .rag-turn-draft").count() == 0
        text = checked.inner_text()
        assert "Russian President Vladimir Putin granted Bashar Assad and his family asylum." in text
        assert "Not supported by the sources (removed):" in text
        removed = checked.locator(".rag-unsupported del")
        assert removed.count() == 1 and 'Sochi <img src=x onerror="window.pwned=1">.' in removed.inner_text()
        assert page.evaluate("window.pwned") is None
        checked.locator("a.rag-cite").first.click()  # its card, with the supporting sentence marked
        card = page.locator("#rag-sources .rag-card.rag-selected")
        card.wait_for()
        assert card.locator("mark").inner_text().startswith("Russian President Vladimir Putin was the one who")
        contrast = page.evaluate(CONTRAST_JS)
        assert contrast["failures"] == [], contrast["failures"]
        assert page.elsewhere == []
    finally:
        context.close()
