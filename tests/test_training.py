"""Fitting the answer model and ablating it, on a tiny SQuAD-like folder, with the `hash`
stand-in model and the rules tagger: no torch, no spaCy."""

import json
import subprocess
import sys

import pytest

from rag.answering.candidates import FEATURES
from rag.answering.spans import SPAN_FEATURES
from rag.answering.training import (
    collect,
    collect_spans,
    fit,
    fit_short,
    held_out,
    short_held_out,
    span_reader,
    split_half,
    squad_questions,
)

PROJECT = __import__("pathlib").Path(__file__).resolve().parent.parent

FACTS = [
    ("Harbour", "The northern harbour reopened in {year} after repairs by engineer {name}.", "When did the northern harbour reopen?"),
    ("Bridge", "The river bridge was designed by architect {name} in {year}.", "Who designed the river bridge?"),
    ("Library", "The city library holds {count} books donated by {name}.", "How many books does the city library hold?"),
    ("Festival", "The autumn festival was founded in {year} by {name}.", "Who founded the autumn festival?"),
    ("Railway", "The coastal railway carried {count} passengers, said manager {name}.", "How many passengers did the coastal railway carry?"),
    ("Museum", "The glass museum opened in {year} under director {name}.", "When did the glass museum open?"),
]
NAMES = ["Ada Berg", "Omar Lind", "Ines Moll", "Kai Dorn", "Lea Roth", "Tom Falk", "Eva Sand", "Ben Holm"]


def squad_like(folder):
    """Documents of three sentences each; each question copies the words of one of them."""
    corpus, queries, answers, qrels = [], [], [], ["query-id\tcorpus-id\tscore"]
    for town in range(8):
        for number, (title, template, question) in enumerate(FACTS):
            name, year, count = NAMES[(town + number) % len(NAMES)], str(1900 + 7 * town + number), f"{(town + 2) * 1000 + number}"
            doc_id, query_id = f"t{town}-{title}", f"q{town}-{number}"
            fact = template.format(year=year, name=name, count=count)
            text = f"{fact} Visitors in Town {town} often mention the old {title.lower()} square. Its gardens were replanted last spring."
            corpus.append({"_id": doc_id, "title": f"{title} of Town {town}", "text": text})
            queries.append({"_id": query_id, "text": question.replace("?", f" in Town {town}?")})
            gold = year if "When" in question else name if "Who" in question else count
            answers.append({"_id": query_id, "answers": [gold]})
            qrels.append(f"{query_id}\t{doc_id}\t1")
    folder.mkdir()
    for name, rows in (("corpus.jsonl", corpus), ("queries.jsonl", queries), ("answers.jsonl", answers)):
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "qrels").mkdir()
    (folder / "qrels" / "test.tsv").write_text("\n".join(qrels) + "\n")
    return folder


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    return squad_like(tmp_path_factory.mktemp("squad-like") / "tiny")


@pytest.fixture(autouse=True)
def stand_ins(monkeypatch):
    monkeypatch.setenv("RAG_MODEL", "hash")
    monkeypatch.setenv("RAG_TAGGER", "rules")


def test_the_halves_split_paragraphs_not_questions():
    assert split_half("dev-Normans-0") == split_half("dev-Normans-0")
    halves = {split_half(f"paragraph-{i}") for i in range(20)}
    assert halves == {"tune", "held-out"}


def test_fitting_is_deterministic_and_measured_on_the_other_half(fixture, tmp_path):
    tune, index = squad_questions(fixture, "tune", workdir=tmp_path / "cache")
    held, _ = squad_questions(fixture, "held-out", workdir=tmp_path / "cache")
    assert tune and held
    assert not {p for *_, p in tune} & {p for *_, p in held}  # no paragraph in both
    runs = collect(tune, index)
    assert {r.hidden for r in runs} == {False, True}  # each question also without its paragraph
    first, second = fit(runs), fit(runs)
    assert first == second
    assert first.features == FEATURES and len(first.weights) == len(FEATURES)
    assert 0.0 <= first.threshold <= 1.0
    report = held_out(first, collect(held, index))
    assert report.questions == len(held)
    assert report.all_answered > 0.5  # the questions copy their sentence's words


def test_the_second_reading_of_spans_is_fitted_only_with_a_reader(fixture, tmp_path):
    tune, index = squad_questions(fixture, "tune", workdir=tmp_path / "cache")
    runs = collect_spans(tune, index, fit(collect(tune, index)))
    assert any(r.labels.any() for r in runs) and all(len(r.offsets) == len(r.texts) for r in runs)
    assert all(r.sentence[s:e] == t for r in runs for (s, e), t in zip(r.offsets, r.texts))
    plain = fit_short(runs)
    assert plain.fill_weights == (1.0, 0.0)  # nothing read again: the feature ranking stands
    read = span_reader(index)
    reread = fit_short(runs, read=read)
    assert reread == fit_short(runs, read=read)  # deterministic
    assert reread.fill_weights != (1.0, 0.0) and reread.weights == plain.weights
    report = short_held_out(reread, runs, read)
    assert 0.0 <= report.right <= report.shown <= 1.0 and report.best_span_right > 0.5


def test_the_fit_script_writes_the_same_file_twice_without_torch(fixture, tmp_path):
    outputs = []
    for attempt in range(2):
        output = tmp_path / f"model-{attempt}.json"
        code = (
            "import runpy, sys; sys.argv = ['fit', '--beir', sys.argv[1], '--output', sys.argv[2], '--workdir', sys.argv[3]];"
            "runpy.run_path('scripts/fit_answer_model.py', run_name='__main__');"
            "print('torch' in sys.modules, file=sys.stderr)"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, str(fixture), str(output), str(tmp_path / "cache")],
            cwd=PROJECT, capture_output=True, text=True, timeout=600,
        )
        assert done.returncode == 0, done.stderr
        assert done.stderr.strip().splitlines()[-1] == "False"
        outputs.append(output.read_bytes())
    assert outputs[0] == outputs[1]
    fitted = json.loads(outputs[0])
    assert fitted["produced_by"] == "scripts/fit_answer_model.py"
    assert fitted["fitted"]["features"] == list(FEATURES)
    assert fitted["fitted"]["short"]["features"] == list(SPAN_FEATURES)
    assert len(fitted["fitted"]["short"]["fill_weights"]) == 2
    assert 0.0 <= fitted["held_out"]["short_holds_gold"] <= fitted["held_out"]["short_shown"] <= 1.0


def test_the_ablation_script_reports_every_feature_and_rule(fixture, tmp_path):
    done = subprocess.run(
        [sys.executable, "scripts/answer_ablation.py", "--beir", str(fixture), "--workdir", str(tmp_path / "cache")],
        cwd=PROJECT, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr
    rows = [line.split()[0:3] for line in done.stdout.splitlines()]
    names = done.stdout
    for feature in FEATURES:
        assert f"no {feature} " in names
    for feature in SPAN_FEATURES:
        assert f"no span {feature} " in names
    for rule in ("neighbour", "lean_back", "qualification", "dispute", "list_items"):
        assert f"no {rule} rule" in names
    assert "no unmentioned-name gate" in names and "no corroborating runner-up" in names and rows
    assert "confidence without length" in names


def test_a_runner_up_naming_the_same_answer_corroborates_rather_than_competes():
    import dataclasses

    from rag.answering.model import load_model

    model = dataclasses.replace(load_model(), corroboration=True)
    putin, assad = frozenset({"putin"}), frozenset({"assad"})
    assert model.runner_up([3.0, 2.5, 1.0], [putin, putin | assad, assad]) == 1.0
    assert model.runner_up([3.0, 2.5], [putin, putin]) is None  # none competes: the full lead
    assert model.runner_up([3.0, 2.5], [frozenset(), frozenset()]) == 2.5  # no answer named: the next one
    assert model.runner_up([3.0], [putin]) is None
    thames = frozenset({"river thames"})
    assert model.runner_up([3.0, 2.5, 1.0], [thames, frozenset({"thames"}), frozenset({"london"})]) == 1.0
    assert model.runner_up([3.0, 2.5], [thames, frozenset({"river seine"})]) == 2.5  # a word in common is not a name
    alone = dataclasses.replace(model, corroboration=False)
    assert alone.runner_up([3.0, 2.5, 1.0], [putin, putin, assad]) == 2.5
    features = (0.5,) * len(model.features)
    agreeing = model.runner_up([3.0, 2.5, 1.0], [putin, putin, assad])
    assert model.confidence(3.0, agreeing, features) > model.confidence(3.0, 2.5, features)
    assert type(model).from_json(model.to_json()) == model


def test_the_fitted_confidence_passes_over_agreeing_runners_up_only_when_asked(fixture, tmp_path):
    tune, index = squad_questions(fixture, "tune", workdir=tmp_path / "cache")
    runs = collect(tune, index)
    assert any(any(keys) for r in runs for keys in r.keys)  # candidates name answers of the asked type
    assert fit(runs).corroboration and not fit(runs, corroboration=False).corroboration


def test_the_confidence_reads_the_best_sentences_length(fixture, tmp_path):
    import dataclasses

    tune, index = squad_questions(fixture, "tune", workdir=tmp_path / "cache")
    runs = collect(tune, index)
    model = fit(runs)
    assert model.confidence_features == ("length",) and len(model.confidence_weights) == 3
    assert type(model).from_json(model.to_json()).to_json() == model.to_json()  # saved and read back
    plain = fit(runs, confidence_features=())
    assert plain.confidence_features == () and len(plain.confidence_weights) == 2
    # The length's weight moves the confidence of the same score and lead.
    at = FEATURES.index("length")
    short, long = [0.0] * len(FEATURES), [0.0] * len(FEATURES)
    short[at], long[at] = 0.1, 0.9
    weighted = dataclasses.replace(model, confidence_weights=(*model.confidence_weights[:2], 1.0))
    assert weighted.confidence(1.0, 0.0, tuple(long)) > weighted.confidence(1.0, 0.0, tuple(short))
    assert plain.confidence(1.0, 0.0, tuple(long)) == plain.confidence(1.0, 0.0, tuple(short))
