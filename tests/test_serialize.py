"""One JSON shape for answers and hits, shared by the CLI and the app's API."""

import json

from rag import Answer, Citation, DocumentFacts, Hit, SyncReport
from rag.serialize import answer_to_dict, document_to_dict, hit_to_dict, report_to_dict

HIT = Hit(rank=2, score=0.15, chunk_id=7, source="news.txt", text="Putin granted asylum. Later.", start=100,
          end=128, page=None, date="2024-12-09")
CITATION = Citation(marker=1, hit=HIT, quote="Putin granted asylum.", start=100, end=121)


def keys(data) -> set[str]:
    if isinstance(data, dict):
        return set(data) | {k for value in data.values() for k in keys(value)}
    if isinstance(data, list):
        return {k for value in data for k in keys(value)}
    return set()


def test_an_answer_is_plain_json_with_its_citations_and_passages():
    result = Answer(question="who granted asylum?", text="Putin granted asylum. [1]", found=True,
                    citations=(CITATION,), hits=(HIT,), short="Putin", question_used="who granted asylum?",
                    confidence=0.9)
    data = answer_to_dict(result)
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "question": "who granted asylum?", "question_used": "who granted asylum?",
        "text": "Putin granted asylum. [1]", "short": "Putin", "found": True, "strength": "strong",
        "confidence": 0.9, "mode": "extract", "unsupported": [], "note": "",
        "citations": [{"marker": 1, "quote": "Putin granted asylum.", "source": "news.txt", "page": None,
                       "date": "2024-12-09", "start": 100, "end": 121, "passage": 2}],
        "passages": [hit_to_dict(HIT)],
    }
    assert hit_to_dict(HIT) == {"rank": 2, "score": 0.15, "chunk_id": 7, "source": "news.txt", "page": None,
                                "date": "2024-12-09", "start": 100, "end": 128, "text": HIT.text}


def test_an_abstention_says_none_and_keeps_the_closest_passages():
    data = answer_to_dict(Answer(question="q", text="The indexed documents don't answer this.", found=False,
                                 hits=(HIT,)))
    assert (data["found"], data["strength"], data["short"], data["citations"]) == (False, "none", None, [])
    assert data["question_used"] == "q"  # never empty, even from an Answer made without it
    assert len(data["passages"]) == 1


def test_documents_and_reports_are_plain_json_without_a_path_key():
    facts = DocumentFacts("a.pdf", "pdf", 3, 9, "2024-01-01", "2024-02-01", "2024-03-01T00:00:00+00:00", "/docs")
    report = SyncReport(added=("a.pdf",), chunks_added=9, warnings=("b.txt: the file is empty",))
    for data in (document_to_dict(facts), report_to_dict(report), answer_to_dict(
            Answer(question="q", text="t [1]", found=True, citations=(CITATION,), hits=(HIT,)))):
        assert json.loads(json.dumps(data)) == data
        assert "path" not in keys(data)  # gradio_client would try to download it
    assert report_to_dict(report)["added"] == ["a.pdf"]
