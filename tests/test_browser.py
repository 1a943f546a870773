"""The app in a real Chromium: ask with Enter, click an example, upload and ask, no script injection.

Uses Debian's /usr/bin/chromium (``make browser`` installs it); never ``playwright install``.
Set RAG_SCREENSHOTS=docs to refresh docs/screenshot.png and docs/screenshot-mobile.png.
"""

import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect, sync_playwright

from ui.app import build_demo, corpus_examples

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's /usr/bin/chromium (make browser installs it)"),
]


@pytest.fixture(scope="module")
def app_url(corpus_index, launch_app, tmp_path_factory):
    """The app over a private copy of the corpus index, since these tests upload into it."""
    index = tmp_path_factory.mktemp("browser") / "index"
    shutil.copytree(corpus_index, index)
    return launch_app(build_demo(index, examples=corpus_examples()))


@pytest.fixture(scope="module")
def pristine_url(corpus_index, launch_app, tmp_path_factory):
    """The app over the corpus index as built (nothing uploaded), for the screenshots."""
    return launch_app(
        build_demo(corpus_index, uploads=tmp_path_factory.mktemp("unused-uploads"), examples=corpus_examples())
    )


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh page on the app; fails the test if it asked anything of a host other than the app's."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    app_host = urlparse(app_url).netloc
    elsewhere = []
    context.on(
        "request",
        lambda request: elsewhere.append(request.url)
        if urlparse(request.url).scheme in ("http", "https", "ws", "wss") and urlparse(request.url).netloc != app_host
        else None,
    )
    page = context.new_page()
    page.goto(app_url)
    page.wait_for_selector("#rag-facts dl")  # the index facts: the app is up and its index open
    yield page
    context.close()
    assert elsewhere == [], f"the app fetched from outside this machine: {elsewhere}"


def ask(page, question: str) -> None:
    """Type ``question``, press Enter, wait for the answer (on a page that has not asked yet)."""
    box = page.locator("#rag-question input, #rag-question textarea").first
    box.fill(question)
    box.press("Enter")
    page.wait_for_selector("#rag-answer .rag-answer")


def upload(page, *files: Path) -> str:
    page.locator("#rag-files input[type=file]").set_input_files([str(f) for f in files])
    for file in files:  # listed once uploaded to the server; only then may the button be pressed
        page.locator(f'#rag-files td.filename[aria-label="{file.name}"]').wait_for()
    page.click("#rag-add-button")
    page.wait_for_selector("#rag-report .rag-report")
    return page.inner_text("#rag-report")


def documents(page) -> int:
    """The number of documents the index facts panel shows."""
    return int(page.locator("#rag-facts dt:text-is('Documents') + dd").inner_text().replace(",", ""))


def test_enter_asks_and_shows_the_cited_answer(page):
    ask(page, "who granted Assad asylum?")
    assert "Putin" in page.inner_text("#rag-answer .rag-answer-text")
    card = page.locator("#rag-answer .rag-card").first
    assert "Putin" in card.locator("mark").inner_text()
    meta = card.locator(".rag-meta").inner_text()
    assert "[1]" in meta and ("2024-12-09" in meta or "2024-12-08" in meta)
    assert "assad-in-moscow-as-it-happened.txt" in meta
    page.click("#rag-passages-box >> text=All retrieved passages (5)")
    expect(page.locator("#rag-passages .rag-card")).to_have_count(5)


def test_clicking_an_example_asks_it(page):
    page.get_by_text("where is Assad now?", exact=True).click()
    page.wait_for_selector("#rag-answer .rag-answer")
    assert page.locator("#rag-question input, #rag-question textarea").first.input_value() == "where is Assad now?"
    assert "Moscow" in page.inner_text("#rag-answer .rag-answer-text")
    assert page.locator("#rag-answer .rag-card mark").count() >= 1


def test_an_empty_question_shows_a_message_not_a_traceback(page):
    page.locator("#rag-question input, #rag-question textarea").first.press("Enter")
    toast = page.locator("[data-testid=toast-body]").first
    toast.wait_for()
    assert "Type a question first" in toast.inner_text() and "Traceback" not in toast.inner_text()


def test_an_uploaded_document_answers_at_once(page, tmp_path):
    fact = tmp_path / "zorbulon.txt"
    fact.write_text("The Zorbulon lighthouse was painted teal on 3 March 2021.\n")
    before = documents(page)
    report = upload(page, fact)
    assert "Added 1 file: zorbulon.txt." in report
    assert documents(page) == before + 1
    ask(page, "what colour was the Zorbulon lighthouse painted?")
    assert "teal" in page.inner_text("#rag-answer .rag-answer-text")
    card = page.locator("#rag-answer .rag-card").first
    assert "zorbulon.txt" in card.locator(".rag-meta").inner_text()
    assert "Zorbulon lighthouse was painted teal" in card.locator("mark").inner_text()


def test_markup_in_a_document_shows_as_text_and_never_runs(page, tmp_path):
    image = '<img src=x onerror="window.__xss=1">'
    script = "<script>window.__xss=2</script>"
    hostile = tmp_path / "quarnix.txt"
    hostile.write_text(
        f"The Quarnix widget factory opened in Tallinn {image} {script} on 5 May 2020 "
        "${window.__xss=3} {{constructor.constructor('window.__xss=4')()}}.\n"
    )
    upload(page, hostile)
    ask(page, "when did the Quarnix widget factory open in Tallinn?")
    page.click("#rag-passages-box >> text=All retrieved passages")
    page.locator("#rag-passages .rag-card").first.wait_for()
    page.wait_for_timeout(300)  # give any injected handler the chance to fire
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    shown = page.inner_text("#rag-answer") + page.inner_text("#rag-passages")
    assert image in shown and script in shown
    assert "${window.__xss=3}" in shown and "{{constructor" in shown  # not evaluated by gradio's templates
    for area in ("#rag-answer", "#rag-passages"):
        assert page.locator(f"{area} img, {area} script").count() == 0


@pytest.mark.parametrize(
    ("name", "viewport"), [("screenshot.png", (1280, 800)), ("screenshot-mobile.png", (390, 844))]
)
def test_the_layout_fits_desktop_and_phone(browser, pristine_url, tmp_path, name, viewport):
    width, height = viewport
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(pristine_url)
    page.wait_for_selector("#rag-facts dl")
    ask(page, "who granted Assad asylum?")
    page.locator("#rag-answer mark").first.wait_for()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width  # no sideways scrolling
    box = page.locator("#rag-ask").bounding_box()
    assert box["x"] + box["width"] <= width
    page.wait_for_function(  # gradio fades an output in: wait until the answer is fully opaque
        """() => { for (let e = document.querySelector('#rag-answer .rag-answer'); e; e = e.parentElement)
                       if (getComputedStyle(e).opacity !== '1') return false;
                   return true; }"""
    )
    target = Path(os.environ["RAG_SCREENSHOTS"]) if os.environ.get("RAG_SCREENSHOTS") else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / name), full_page=width < 600)
    context.close()
