"""Ingestion on Ray: a local Ray with two workers indexes a folder exactly as one process does."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ray", reason="the cluster extra is not installed: pip install -e '.[cluster]'")

from rag import sync  # noqa: E402
from rag.store import Index, verify  # noqa: E402
from tests.conftest import CORPUS  # noqa: E402
from tests.pdfs import text_pdf  # noqa: E402

pytestmark = pytest.mark.cluster


@pytest.fixture
def folder(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    paragraphs = (CORPUS / "assad-in-moscow-as-it-happened.txt").read_text(encoding="utf-8").split("\n\n")
    for number in range(4):
        (docs / f"part-{number}.txt").write_text("\n\n".join(paragraphs[number * 45 : (number + 1) * 45]))
    (docs / "report.pdf").write_bytes(text_pdf(["Quarterly figures show steady growth in exports.", ""]))
    (docs / "copy.txt").write_text(paragraphs[3])  # a text already in part-0: embedded once
    (docs / "empty.txt").write_text("")  # refused, with the same warning
    return docs


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray of two workers for the module (starting one takes seconds); a sync given
    ray="local" uses the Ray this process is already connected to, and leaves it running."""
    from rag import cluster

    cluster.start("local", cpus=2)
    yield cluster
    cluster.stop()


def contents(path):
    index = Index.open(path)
    return [
        (c, index.entities(c.chunk_id), index.vector(c.chunk_id).tolist(), index.sentence_vectors(c.chunk_id).tolist())
        for c in index.chunks
    ]


def test_a_local_ray_with_two_workers_indexes_as_one_process_does(local_ray, folder, tmp_path):
    assert local_ray.workers() == 2
    single = sync([folder], tmp_path / "single", model="hash", tagger="rules")
    on_ray = sync([folder], tmp_path / "ray", model="hash", tagger="rules", ray="local")
    assert on_ray == single and on_ray.chunks_embedded < on_ray.chunks_added
    assert contents(tmp_path / "ray") == contents(tmp_path / "single")  # same ids, passages, entities, vectors, sentences
    assert verify(tmp_path / "ray") == []

    (folder / "part-2.txt").write_text("A new paragraph about the harbour reopening to fishing boats.")
    (folder / "part-3.txt").unlink()
    assert sync([folder], tmp_path / "ray", ray="local") == sync([folder], tmp_path / "single")
    assert contents(tmp_path / "ray") == contents(tmp_path / "single")

    (folder / "part-1.txt").unlink()  # only a removal: nothing for Ray to embed
    assert sync([folder], tmp_path / "ray", ray="local") == sync([folder], tmp_path / "single")
    assert contents(tmp_path / "ray") == contents(tmp_path / "single")


def test_a_ray_started_by_a_sync_is_shut_down_after_it(tmp_path):
    import ray

    from rag import cluster

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.txt").write_text("The ferry to the island runs twice a day in summer.")
    cluster.stop()  # the module's Ray, if a test before started one
    assert sync([docs], tmp_path / "index", model="hash", tagger="rules", ray="local").added == ("note.txt",)
    assert not ray.is_initialized()


def test_an_unreachable_cluster_is_a_clear_error(folder, tmp_path):
    from rag import RagError

    with pytest.raises(RagError, match="cannot reach a Ray cluster at 127.0.0.1:1 .*ray start --head"):
        sync([folder], tmp_path / "index", model="hash", ray="127.0.0.1:1")
    assert not (tmp_path / "index" / "CURRENT").exists()
