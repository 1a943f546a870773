import math
from pathlib import Path

import pytest

from rag.beir import evaluate_beir, format_beir, load_beir, mrr_at_k, ndcg_at_k, recall_at_k

TINY = Path(__file__).parent / "data" / "beir-tiny"


def test_ndcg_by_hand():
    relevant = {"a": 2, "b": 1}
    # ranked b, x, a: DCG = 1/log2(2) + 2/log2(4) = 2; ideal a, b: 2/1 + 1/log2(3)
    assert ndcg_at_k(["b", "x", "a"], relevant) == pytest.approx(2 / (2 + 1 / math.log2(3)))
    assert ndcg_at_k(["a", "b"], relevant) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "y"], relevant) == 0.0
    assert ndcg_at_k(["x"] * 10 + ["a"], relevant) == 0.0  # past the cut-off


def test_recall_and_mrr_by_hand():
    relevant = {"a": 1, "b": 1}
    assert recall_at_k(["a", "x"], relevant) == 0.5
    assert recall_at_k(["x"] * 100 + ["a"], relevant) == 0.0
    assert mrr_at_k(["x", "x", "b"], relevant) == pytest.approx(1 / 3)
    assert mrr_at_k(["x"] * 10 + ["a"], relevant) == 0.0


def test_loader_skips_the_header_and_reads_answers():
    data = load_beir(TINY)
    assert len(data.corpus) == 4 and data.corpus["d/4"].startswith("Tides\n\nOcean tides")
    assert data.qrels == {"q1": {"d2": 1}, "q2": {"d/4": 2}, "q3": {"d1": 1}}
    assert data.answers["q2"] == ["Moon"]


def test_loader_names_what_is_missing(tmp_path):
    with pytest.raises(ValueError, match="corpus.jsonl is missing"):
        load_beir(tmp_path)


@pytest.mark.integration
def test_evaluate_beir_end_to_end_through_the_real_index(tmp_path):
    report = evaluate_beir(TINY, workdir=tmp_path)
    assert (report.documents, report.queries) == (4, 3)  # q4 has no judgements
    by_mode = {m.mode: m for m in report.modes}
    assert by_mode["hybrid"].ndcg_at_10 == pytest.approx(1.0)
    assert by_mode["hybrid"].answer_in_top_1 == pytest.approx(1.0)
    assert "hybrid" in format_beir(report)
    # a second run reuses the index: no new version is written
    version = (tmp_path / "index" / "CURRENT").read_text()
    again = evaluate_beir(TINY, workdir=tmp_path)
    assert (tmp_path / "index" / "CURRENT").read_text() == version
    assert again.modes[2].ndcg_at_10 == report.modes[2].ndcg_at_10
