"""Markup is blanked where the model and the keyword index read a passage, never where it is quoted."""

import numpy as np
import pytest

from rag.markup import readable


@pytest.mark.parametrize(
    "text, reads",
    [
        ("[orjson.dumps()](https://github.com/ijl/orjson#serialize) is 10x as fast", "orjson.dumps() is 10x as fast"),
        ("See https://example.com/a_b?x=1 for more.", "See for more."),
        ("Call `loads()` with **bytes**, not <em>str</em>.", "Call loads() with bytes , not str ."),
        ("## Install\nRun it.", "Install Run it."),
        ('![logo](logo.png "The logo") [Docs](<https://docs.example.com>)', "logo Docs"),
        # Prose keeps what only looks like markup: a lone asterisk, a hashtag, comparisons.
        ("Prices rose 5 * 3 times, #Syria trended, and x < y > z.", "Prices rose 5 * 3 times, #Syria trended, and x < y > z."),
    ],
)
def test_readable_text_keeps_the_words_and_every_offset(text, reads):
    blanked = readable(text)
    assert len(blanked) == len(text)
    assert " ".join(blanked.split()) == reads
    # Every character kept is where it was: offsets into the passage hold in both.
    assert all(b == " " or b == t for b, t in zip(blanked, text))


def test_keywords_are_not_read_from_link_addresses():
    from rag.lexical import tokenize

    assert tokenize(["[the docs](https://github.com/ijl/orjson) say `json` is slower"]) == [
        ["doc", "say", "json", "slower"]
    ]


def test_passages_are_embedded_as_read():
    from rag.embedding import encode_passages, get_document_embedder

    embedder = get_document_embedder("hash")
    linked, plain = encode_passages(embedder, ["See [the manual](https://example.com/manual) now.", "See the manual now."])
    assert np.allclose(linked, plain)
    # Only the reading changes: what is embedded without it differs.
    assert not np.allclose(embedder.encode_documents(["See [the manual](https://example.com/manual) now."])[0], plain)
