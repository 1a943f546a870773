from rag.sentences import sentence_spans


def sentences(text):
    return [text[s:e] for s, e in sentence_spans(text)]


def test_splits_on_terminal_punctuation_and_keeps_quotes_whole():
    text = "Putin granted asylum, Peskov said. “Of course, this is his decision,” he said. It ended."
    assert sentences(text) == [
        "Putin granted asylum, Peskov said.",
        "“Of course, this is his decision,” he said.",
        "It ended.",
    ]


def test_abbreviations_and_initials_do_not_end_sentences():
    text = "Col. Avichay Adraee spoke to the U.S. envoy. J. Smith agreed."
    assert sentences(text) == ["Col. Avichay Adraee spoke to the U.S. envoy.", "J. Smith agreed."]


def test_paragraph_breaks_and_short_title_lines_end_sentences():
    text = "A Title Without Stop\nThe body starts here. Second one\n\nNew paragraph"
    assert sentences(text) == ["A Title Without Stop", "The body starts here.", "Second one", "New paragraph"]


def test_spans_are_exact_offsets():
    text = "  First one.   Second one?\n\n Third!  "
    for start, end in sentence_spans(text):
        assert text[start:end] == text[start:end].strip()
        assert text[start:end]
    assert sentences(text) == ["First one.", "Second one?", "Third!"]


def test_lowercase_after_ellipsis_continues_the_sentence():
    assert sentences("People can seize a… historic opportunity. Yes.") == [
        "People can seize a… historic opportunity.",
        "Yes.",
    ]
