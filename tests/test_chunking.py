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


def chunks_of(text, **kwargs):
    document = Document("blog.txt", text)
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


def test_date_headers_are_not_passages_and_never_merge_across_sections():
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
