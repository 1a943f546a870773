"""Ingestion on a Ray cluster: Ray Data workers read and chunk the files, then tag and embed
the passages, one model per worker; this process writes the segments.

``rag index PATH... --ray`` starts a Ray on this machine for the run (one worker per core);
``--ray ADDRESS`` joins a running cluster, started with ``ray start --head`` on one machine
and ``ray start --address=HEAD:6379`` on the others (each with this project installed,
``pip install -e '.[cluster]'``, and the documents at the same path). Ray is an extra: the
default path never imports it.

Two Ray Data pipelines run: files → passages (``map_batches`` over tasks), then, after this
process has set aside every text the index already holds, new texts → vectors and entities
(``map_batches`` over an actor pool, each actor loading the model once). Results stream back
in order (``preserve_order``), so the index comes out the same as a single-process sync's.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Iterator

import numpy as np

from rag.documents import Notice
from rag.errors import RagError
from rag.types import Chunk

log = logging.getLogger(__name__)

INSTALL_HINT = "indexing on Ray needs the cluster extra: pip install -e '.[cluster]'"
# Texts per batch sent to an embedding actor: sentence-transformers' own batches are 16, and
# a batch this size keeps each actor busy for ~1 s (MiniLM, one core) against ~ms of overhead.
EMBED_BATCH = 64
FILES_PER_BATCH = 4



def _ray():
    try:
        import ray
    except ImportError as error:
        raise RagError(INSTALL_HINT) from error
    return ray


def start(address: str, cpus: int | None = None) -> bool:
    """Start a local Ray (``address`` "local") or join the cluster at ``address``; whether
    this call connected (False: this process was connected already, and that Ray is used).

    Offline and quiet: no usage reporting, no dashboard. A local Ray gets ``cpus`` CPUs
    (default: one per core) and its workers import this very copy of the project.
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # never phone home
    ray = _ray()
    if ray.is_initialized():
        return False
    project = str(Path(__file__).resolve().parent.parent)
    options = dict(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False,
                   configure_logging=False)
    if address == "local":
        ray.init(num_cpus=cpus or os.cpu_count() or 1, runtime_env={"env_vars": {
            "PYTHONPATH": project, "RAY_USAGE_STATS_ENABLED": "0", "TOKENIZERS_PARALLELISM": "false"}}, **options)
    else:
        _check_reachable(address)
        try:
            ray.init(address=address, **options)
        except ConnectionError as error:
            raise RagError(f"cannot reach a Ray cluster at {address} ({error}); start one with `ray start --head`, "
                           "or pass --ray without an address for a local one") from error
    return True


def _data():
    """ray.data, set to give results in the order they were sent (the index must come out as
    a single process writes it) and to draw no progress bars over ours."""
    data = _ray().data
    context = data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    return data


def _check_reachable(address: str, seconds: float = 5.0) -> None:
    """Fail at once on a ``host:port`` nobody listens on: ray.init would retry for minutes."""
    import socket

    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():
        return  # "auto", ray:// and the like: left to Ray
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except OSError as error:
        raise RagError(f"cannot reach a Ray cluster at {address} ({error.strerror or error}); start one with "
                       "`ray start --head`, or pass --ray without an address for a local one") from error


def stop() -> None:
    """Disconnect from Ray: a local Ray ends with it, a cluster keeps running."""
    _ray().shutdown()


def workers() -> int:
    """How many workers to run: one per CPU the cluster has."""
    return max(1, int(_ray().cluster_resources().get("CPU", 1)))


# -- files → passages ---------------------------------------------------------------------------


def _read_batch(batch: dict, settings: dict, limits: dict) -> dict:
    """A Ray task: read and chunk a few files (the same code as a single-process sync)."""
    from rag.config import Limits
    from rag.documents import SourceFile
    from rag.indexing import _read_file
    from rag.settings import ChunkingSettings

    chunking, bounds = ChunkingSettings(**settings), Limits(**limits)
    results = []
    for path, root, source in zip(batch["path"], batch["root"], batch["source"]):
        outcome = _read_file(SourceFile(Path(path), Path(root), source), chunking, bounds)
        if isinstance(outcome, Notice):
            results.append(json.dumps({"refused": [outcome.kind, outcome.message]}))
        else:
            pages, profile, chunks, warnings = outcome
            results.append(json.dumps({
                "pages": pages, "profile": profile,
                "chunks": [[c.source, c.text, c.start, c.end, c.page, c.date] for c in chunks],
                "warnings": [[w.kind, w.message] for w in warnings],
            }, ensure_ascii=False))
    return {"result": np.array(results, dtype=object)}


def read_files(files: list, settings, limits, progress=None) -> Iterator:
    """Each file's (pages, profile, passages, warnings) or refusal Notice, in order, read on Ray."""
    import dataclasses

    data = _data()
    items = [{"path": str(f.path), "root": str(f.root), "source": f.source} for f in files]
    dataset = data.from_items(items, override_num_blocks=max(1, min(len(items), 4 * workers())))
    dataset = dataset.map_batches(
        _read_batch, batch_size=FILES_PER_BATCH, batch_format="numpy",
        fn_kwargs={"settings": dataclasses.asdict(settings), "limits": dataclasses.asdict(limits)},
    )
    for row in dataset.iter_rows():
        data = json.loads(row["result"])
        if "refused" in data:
            yield Notice(*data["refused"])
            continue
        chunks = [Chunk(0, *fields) for fields in data["chunks"]]
        yield data["pages"], data["profile"], chunks, [Notice(*w) for w in data["warnings"]]


# -- passages → vectors and entities --------------------------------------------------------------


class _Embed:
    """A Ray actor: the model and the tagger, loaded once, applied to batch after batch."""

    def __init__(self, model: str, tagger: str, sentences: bool = False) -> None:
        self.sentences = sentences
        try:
            import torch

            torch.set_num_threads(1)  # one core per actor: the actors are the parallelism
        except ImportError:
            pass
        from rag.embedding import get_document_embedder
        from rag.entities import get_tagger

        self.embedder, self.tagger = get_document_embedder(model), get_tagger(tagger)

    def __call__(self, batch: dict) -> dict:
        from rag.embedding import encode_passages, encode_sentences

        texts = [str(t) for t in batch["text"]]
        vectors = encode_passages(self.embedder, texts)
        entities = [json.dumps([[e.start, e.end, e.label] for e in found]) for found in self.tagger.tag(texts)]
        # Each text's sentence vectors as float16 bytes (empty: none), one cell per text.
        sentences = encode_sentences(self.embedder, texts, vectors) if self.sentences else [None] * len(texts)
        packed = np.array([b"" if found is None else found.tobytes() for found in sentences], dtype=object)
        return {"vector": np.asarray(vectors, dtype="float32"), "entities": np.array(entities, dtype=object),
                "sentences": packed}


class Encoder:
    """Tags and embeds texts on the cluster, streaming (vector, entities) back in order."""

    def __init__(self, model: str, tagger: str, sentences: bool = False) -> None:
        self.model, self.tagger, self.sentences = model, tagger, sentences

    @property
    def dimension(self) -> int:
        """The model's dimension, from one text embedded on the cluster (this process loads no model)."""
        return len(next(self.stream(["dimension"]))[0])

    def stream(self, texts: list[str]) -> Iterator[tuple[np.ndarray, tuple]]:
        from rag.entities import Entity

        if not texts:
            return
        count = workers()
        dataset = _data().from_items([{"text": t} for t in texts],
                                      override_num_blocks=max(1, min(len(texts) // EMBED_BATCH + 1, 8 * count)))
        dataset = dataset.map_batches(
            _Embed, fn_constructor_kwargs={"model": self.model, "tagger": self.tagger, "sentences": self.sentences},
            batch_size=EMBED_BATCH, batch_format="numpy", concurrency=min(count, -(-len(texts) // EMBED_BATCH)),
            num_cpus=1,
        )
        for batch in dataset.iter_batches(batch_size=EMBED_BATCH, batch_format="numpy", prefetch_batches=2):
            for vector, entities, sentences in zip(batch["vector"], batch["entities"], batch["sentences"]):
                vector = np.asarray(vector, dtype="float32")
                found = np.frombuffer(sentences, dtype="float16").reshape(-1, len(vector)) if len(sentences) else None
                yield vector, tuple(Entity(*e) for e in json.loads(entities)), found
