from rag.chunking import chunk_documents
from rag.types import Document

BLOG = """Assad in Moscow: As it happened

7 Dec, 2024 20:07 / Updated 2 days ago
The president has left the country

The summary paragraph says the capital fell to armed groups on Saturday evening.

09 December 2024

Mikhail Ulyanov, Russia’s envoy in Vienna, has confirmed the former president arrived in Moscow.

“Bashar Assad and his family are in Moscow,” the diplomat wrote on Telegram.

Qatar has condemned the seizure of land in the Golan Heights by the army.

08 December 2024

Russian President Vladimir Putin granted Assad asylum, Kremlin spokesman Dmitry Peskov said.
"""


def chunks_of(text, profile="news", **kwargs):
    document = Document("blog.txt", text)
    kwargs["profile"] = profile
    chunks = chunk_documents([document], **kwargs)
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
    return chunks


def test_live_blog_entries_get_the_date_of_the_header_above():
    chunks = chunks_of(BLOG)
    assert [(c.text.split()[0], c.date) for c in chunks] == [
        ("Assad", "2024-12-07"),  # title + dateline: the dateline dates the preamble
        ("The", "2024-12-07"),  # the summary takes the dateline's date
        ("Mikhail", "2024-12-09"),
        ("Qatar", "2024-12-09"),
        ("Russian", "2024-12-08"),
    ]


def test_a_quote_attributed_to_the_person_just_named_continues_the_entry():
    ulyanov = chunks_of(BLOG)[2]
    assert ulyanov.text.startswith("Mikhail Ulyanov")
    assert ulyanov.text.endswith("the diplomat wrote on Telegram.")
    assert ulyanov.start == BLOG.index("Mikhail Ulyanov")
    assert ulyanov.end == BLOG.index("Telegram.") + len("Telegram.")


def test_exact_offsets_of_every_chunk():
    chunks = chunks_of(BLOG)
    qatar = chunks[3]
    assert qatar.start == BLOG.index("Qatar has condemned")
    assert qatar.end == BLOG.index("army.") + len("army.")


def test_date_headers_are_not_passages():
    for chunk in chunks_of(BLOG):
        assert "December 2024\n" not in chunk.text


def test_undated_documents_stay_undated():
    chunks = chunks_of("A report about nothing in particular, long enough to be a passage.\n\nAnother paragraph of it, also long enough to stand alone.")
    assert [c.date for c in chunks] == [None, None]


def test_long_paragraphs_become_overlapping_windows_of_whole_sentences():
    sentences = [f"Sentence number {i} talks about topic {i} at some length here." for i in range(30)]
    text = " ".join(sentences)
    chunks = chunks_of(text, max_chars=300)
    assert len(chunks) > 3
    for chunk in chunks:
        assert len(chunk.text) <= 300
        assert chunk.text.startswith("Sentence number") and chunk.text.endswith("here.")
    for previous, following in zip(chunks, chunks[1:]):
        assert following.start < previous.end  # one sentence of overlap
    assert chunks[0].start == 0 and chunks[-1].end == len(text)


def test_pages_keep_their_numbers_and_carry_the_date():
    pages = [
        Document("r.pdf", "09 December 2024\n\nFirst page text that is long enough to be a passage.", page=1),
        Document("r.pdf", "Second page text that is long enough to be a passage of its own.", page=2),
    ]
    chunks = chunk_documents(pages)
    assert [(c.page, c.date) for c in chunks] == [(1, "2024-12-09"), (2, "2024-12-09")]
    assert pages[1].text[chunks[1].start : chunks[1].end] == chunks[1].text


def test_a_dateline_starts_a_new_entry_with_its_own_date():
    text = (
        "Officials met on Monday to discuss the budget for next year in detail.\n\n"
        "Monday, 9 December 2024 / Talks resumed after a short break with new proposals."
    )
    assert [c.date for c in chunks_of(text)] == [None, "2024-12-09"]


def test_text_without_sentence_ends_is_still_cut_to_size():
    text = " ".join(f"cell{i}" for i in range(600))  # a table flattened by PDF extraction
    chunks = chunks_of(text, max_chars=300)
    assert len(chunks) > 5
    assert all(len(c.text) <= 300 for c in chunks)
    assert all(not c.text.startswith(" ") and not c.text.endswith(" ") for c in chunks)


def test_an_entry_never_spans_a_date_header():
    text = (
        "09 December 2024\n\nThe council met to approve the new harbour budget today.\n\n"
        "08 December 2024\n\n“We will approve it,” the council said in a statement on Sunday."
    )
    chunks = chunks_of(text)
    assert [c.date for c in chunks] == ["2024-12-09", "2024-12-08"]
    assert chunks[1].text.startswith("“We will approve it,”")


def test_a_quote_attributed_through_a_possessive_continues_the_entry():
    text = (
        "The Northern Guard (NG) has issued an urgent warning to residents of several border villages.\n\n"
        "“Stay at home until further notice,” Col. Sami Haddad, the NG’s spokesman, announced on X.\n\n"
        "A storm closed the northern ferry route for the rest of the week.\n"
    )
    chunks = chunks_of(text)
    assert [c.text.split()[0] for c in chunks] == ["The", "A"]
    assert "Stay at home" in chunks[0].text


def test_a_contraction_in_the_attribution_names_nobody():
    text = (
        "Travellers waited for hours at the terminal. That is what residents of the town reported.\n\n"
        "“The airport is closed until further notice.” That’s the message travellers received on Monday, officials said.\n"
    )
    assert len(chunks_of(text)) == 2


# -- profiles: news rules only where a file reads as news ----------------------------

from rag.chunking import document_profile  # noqa: E402
from rag.sentences import sentence_spans  # noqa: E402

PDF_PAGE = (
    "Harbour Authority Quarterly Report\n"
    "12 March 2025\n"
    "The harbour reopened on Monday after three weeks of repairs to the northern pier.\n"
    "Ships queued outside the breakwater for most of the morning.\n"
    "Traffic\n"
    "Container traffic rose by a tenth on the quarter, the authority said.\n"
)


def test_a_file_with_several_date_lines_reads_as_news_and_others_as_plain():
    assert document_profile([Document("blog.txt", BLOG)]) == "news"
    assert document_profile([Document("r.pdf", PDF_PAGE, page=1)]) == "plain"
    assert document_profile([Document("notes.md", "Just notes.\n\nMore notes.")]) == "plain"


def test_a_pdf_page_gets_its_date_and_headings_stay_out_of_sentences():
    page = Document("r.pdf", PDF_PAGE, page=1)
    chunks = chunk_documents([page])
    assert all(c.date == "2025-03-12" for c in chunks)
    first = chunks[0].text  # the title joins the text under it, the date line between them
    assert first.startswith("Harbour Authority Quarterly Report")
    sentences = [first[s:e] for s, e in sentence_spans(first)]
    assert "The harbour reopened on Monday after three weeks of repairs to the northern pier." in sentences
    # a heading is joined to the text under it, never glued into a sentence of the text before
    traffic = next(c for c in chunks if "Container traffic" in c.text)
    assert traffic.text.startswith("Traffic\nContainer traffic")
    for chunk in chunks:
        assert PDF_PAGE[chunk.start : chunk.end] == chunk.text


def test_plain_documents_get_no_news_continuation():
    text = (
        "The Northern Guard has issued an urgent warning to residents of several villages.\n\n"
        "“Stay at home until further notice,” the Northern Guard spokesman announced on X.\n"
    )
    assert len(chunks_of(text, profile="plain")) == 2
    assert len(chunks_of(text, profile="news")) == 1


# A live blog as other sites print one: a dateline with a British time above each entry.
STAMPED_BLOG = """Syria live: rebels enter Damascus

Sun 8 Dec 2024 14.05 GMT

Crowds gathered in the main square on Sunday afternoon.

Sun 8 Dec 2024 12.30 GMT

The prime minister said he would stay in his home.

“I am here,” he said.

Sat 7 Dec 2024 23.10 GMT

Rebels said they had reached the suburbs of the capital.
"""


def test_datelines_with_a_time_date_their_entries():
    document = Document("blog.txt", STAMPED_BLOG)
    from rag.chunking import document_profile

    assert document_profile([document]) == "news"
    chunks = chunks_of(STAMPED_BLOG)
    assert [(c.text.split("\n")[-1][:12], c.date) for c in chunks] == [
        ("Crowds gathe", "2024-12-08"),
        ("“I am here,”", "2024-12-08"),
        ("Rebels said ", "2024-12-07"),
    ]


def test_a_short_quote_goes_on_with_the_entry_before_it_not_the_next():
    prime_minister = chunks_of(STAMPED_BLOG)[1]
    assert prime_minister.text.startswith("Sun 8 Dec 2024 12.30 GMT")
    assert prime_minister.text.endswith("“I am here,” he said.")


def test_a_quote_of_an_unnamed_spokeswoman_goes_on_with_the_entry():
    text = (
        "09 December 2024\n\nAll ferries were cancelled on Tuesday afternoon, the operator said.\n\n"
        "\"Safety comes first,\" a spokeswoman said.\n\n"
        "The weather service raised its warning to amber for the whole region.\n"
    )
    assert [c.text.split()[0] for c in chunks_of(text)] == ["All", "The"]


def test_a_header_without_its_year_takes_the_year_of_the_pages_stamp():
    text = (
        "Election night live\n\nUpdated 3 Nov 2026 23:50\n\nWednesday 4 November\n\n"
        "Results came in overnight from the coastal districts.\n\nTuesday 3 November\n\n"
        "Polls opened at seven across the state.\n"
    )
    document = Document("night.txt", text)
    from rag.chunking import document_profile

    assert document_profile([document]) == "news"
    dated = [(c.text.split()[0], c.date) for c in chunks_of(text) if c.date]
    assert dated == [("Results", "2026-11-04"), ("Polls", "2026-11-03")]


def test_a_paragraph_ending_in_a_colon_joins_what_it_announces():
    text = (
        "When there is a choice between different APIs, the library will prefer APIs that:\n\n"
        "1. Have a per-thread pool.\n2. Only affect the current thread.\n\n"
        "Another paragraph follows, about something else entirely, long enough to stand alone.\n"
    )
    chunks = chunks_of(text, profile="plain")
    assert [c.text.split("\n")[0] for c in chunks] == [
        "When there is a choice between different APIs, the library will prefer APIs that:",
        "Another paragraph follows, about something else entirely, long enough to stand alone.",
    ]
    assert chunks[0].text.endswith("Only affect the current thread.")


def test_a_question_heading_and_a_datelines_short_lead_still_head_what_follows():
    text = (
        "09 December 2024\n\nRebels entered Damascus overnight and the president fled the country.\n\n"
        "Who is the rebel leader?\n\nThe rebel leader was born in Riyadh in 1982 and fought in Iraq.\n\n"
        "Sun 8 Dec 2024 05:00\n\nThe president has left, rebels say.\n\n"
        "Rebel commanders told state television that he boarded a plane before dawn.\n"
    )
    starts = [c.text.split("\n")[0] for c in chunks_of(text)]
    assert starts == [
        "Rebels entered Damascus overnight and the president fled the country.",
        "Who is the rebel leader?",
        "Sun 8 Dec 2024 05:00",
    ]
    assert chunks_of(text)[2].text.endswith("before dawn.")


def test_what_a_colon_announces_is_not_looked_for_past_the_next_dateline():
    text = (
        "Sun 8 Dec 2024 14.05 GMT\n\nCrowds gathered in the main square on Sunday afternoon.\n\n"
        "The foreign ministry in Moscow posted a statement on its Telegram channel:\n\n"
        "Sat 7 Dec 2024 23.10 GMT\n\nRebels said they had reached the suburbs of the capital.\n"
    )
    assert [(c.text.split("\n")[0][:24], c.date) for c in chunks_of(text)] == [
        ("Sun 8 Dec 2024 14.05 GMT", "2024-12-08"),
        ("The foreign ministry in ", "2024-12-08"),
        ("Sat 7 Dec 2024 23.10 GMT", "2024-12-07"),
    ]
