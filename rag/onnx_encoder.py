"""Queries and sentences encoded without torch: an ONNX export of the model, run by onnxruntime.

Importing sentence-transformers (and with it torch) takes 5-7 s and ~420 MB; onnxruntime
and tokenizers take ~0.2 s and ~50 MB and give the same vectors (to ~1e-7). The export
is made by the indexing process, which has the model loaded anyway, and kept in a cache
folder named by a hash of the model's files::

    <cache>/onnx/<weights key>/model.onnx       the transformer, token embeddings out
                              /tokenizer.json   the tokenizer sentence-transformers used
                              /encoder.json     how to use them, and how well they matched
    <cache>/onnx/sources/<path key>.json        a model folder's key, by its files' sizes and times

An export is written only after its vectors matched sentence-transformers' on probe
texts, so a model this can't reproduce (another pooling, a prompt, a dense layer) is
marked ``UNSUPPORTED`` and keeps using sentence-transformers.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import logging
import os
import shutil
import threading
import uuid
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple

import numpy as np

from rag.config import cache_path

log = logging.getLogger(__name__)

EXPORT_FORMAT = 2  # 2: attention fused by onnxruntime's BERT optimizer (1: as traced, still read)
_READABLE_FORMATS = (1, 2)
MIN_COSINE = 0.9999  # an fp32 export agrees to ~1e-7; less means it computes something else
_QUERY_CACHE_SIZE = 1024
# Small batches of similar length: padding a batch to its longest text costs more than
# the per-call overhead saves (answer sentences, 8-19 per question: 8 beat 32 and 1).
_BATCH = 8
# Texts an export must reproduce: short and long (past 256 tokens, so truncation is
# checked), accents, case, stray spaces and the empty string.
_PROBES = (
    "who granted Assad asylum?",
    "Russian President Vladimir Putin granted asylum to Bashar Assad and his family.",
    "  Türkiye's foreign minister met HTS leaders in Damascus on 8 December 2024.  ",
    "RUSSIA CLOSES ITS EMBASSY",
    " ".join(["The harbour reopened after the storm, and the ferries ran again."] * 40),
    "",
)


class ExportStatus(NamedTuple):
    """Where a model's ONNX export lies, or why there is none to use."""

    folder: Path
    usable: bool
    problem: str  # empty when usable
    final: bool = False  # True when exporting again would not help (the model is unsupported)
    outdated: bool = False  # usable, but the next `rag index` makes it again in the current format


def mean_pool_normalise(token_embeddings: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """Mean of the unmasked token embeddings, L2-normalised: sentence-transformers'
    Pooling(mean) followed by Normalize, with the same epsilons."""
    mask = attention_mask[..., None].astype(token_embeddings.dtype)
    summed = (token_embeddings * mask).sum(axis=1)
    pooled = summed / np.clip(mask.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return np.ascontiguousarray(pooled / np.clip(norms, 1e-12, None), dtype="float32")


# -- finding an export -------------------------------------------------------------------


def _export_root() -> Path:
    return cache_path() / "onnx"


def _model_files(model_path: Path) -> list[Path]:
    return sorted(
        p for p in model_path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(model_path).parts)
    )


def weights_key(model_path: Path) -> str:
    """A hash of every file of the model folder (weights, config, tokenizer).

    Hashing ~90 MB takes a few hundred ms, so the key is remembered per folder with
    its files' sizes and modification times, and computed again only when they change.
    """
    files = _model_files(model_path)
    signature = [[str(f.relative_to(model_path)), f.stat().st_size, f.stat().st_mtime_ns] for f in files]
    memo = _export_root() / "sources" / (hashlib.sha256(str(model_path).encode()).hexdigest()[:24] + ".json")
    try:
        remembered = json.loads(memo.read_text())
        if remembered["files"] == signature:
            return remembered["key"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    digest = hashlib.sha256()
    for file, (name, _, _) in zip(files, signature):
        digest.update(name.encode() + b"\0")
        with open(file, "rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    key = digest.hexdigest()[:32]
    with contextlib.suppress(OSError):  # a read-only cache only costs the hashing next time
        _write_atomically(memo, json.dumps({"path": str(model_path), "files": signature, "key": key}))
    return key


def find_export(model_path: Path) -> ExportStatus:
    """The export of the model at ``model_path`` in the cache, if there is a usable one.

    Cheap: reads a small JSON file and stats the model's files; never loads the model.
    """
    folder = _export_root() / weights_key(model_path)
    for marker, final in (("UNSUPPORTED", True), ("BROKEN", False)):
        with contextlib.suppress(OSError):
            return ExportStatus(folder, False, (folder / marker).read_text().strip(), final)
    try:
        meta = json.loads((folder / "encoder.json").read_text())
    except FileNotFoundError:
        return ExportStatus(folder, False, f"there is no ONNX export of it in {folder.parent}")
    except (OSError, ValueError) as error:
        return ExportStatus(folder, False, f"{folder / 'encoder.json'} is unreadable ({error})")
    if meta.get("format") not in _READABLE_FORMATS:
        return ExportStatus(folder, False, f"the export in {folder} is of format {meta.get('format')}, not {EXPORT_FORMAT}")
    try:
        size = (folder / "model.onnx").stat().st_size
    except OSError as error:
        return ExportStatus(folder, False, f"{folder / 'model.onnx'} is missing ({error.strerror})")
    if size != meta.get("onnx_bytes"):
        return ExportStatus(folder, False, f"{folder / 'model.onnx'} has {size} bytes, not the {meta.get('onnx_bytes')} written")
    return ExportStatus(folder, True, "", outdated=meta["format"] != EXPORT_FORMAT)


def mark_broken(folder: Path, problem: str) -> None:
    """Remember that an export failed to load, so the next ``rag index`` makes it again."""
    with contextlib.suppress(OSError):
        (folder / "BROKEN").write_text(problem + "\n")


# -- encoding ----------------------------------------------------------------------------


def _new_session(folder: Path):
    """An onnxruntime session of the export in ``folder``."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # Two threads: a short query took 4.5-6.9 ms p50 against 7.5-10.1 ms with one on
    # this 2-core machine; more buy little for one short text.
    options.intra_op_num_threads = min(2, os.cpu_count() or 1)
    # No busy-waiting between operators: with another process busy on one of the two
    # cores, the spinning thread takes the time its partner needs; a dev-set question
    # took 18.1 ms p50 (session.run) against 9.1 ms without spinning, as with one thread.
    # On a quiet machine spinning saved ~0.5-1 ms (of ~5-6).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only: the library never prints
    return onnxruntime.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])


_loading_lock = threading.Lock()
_loading: dict[Path, Future] = {}  # sessions being built, by export folder


def load_session_soon(folder: Path) -> None:
    """Start building the session of the export in ``folder`` in a background thread.

    onnxruntime builds it (0.2-0.3 s) without holding the GIL, so the caller's own work
    meanwhile runs on another core. The next ``OnnxEncoder(folder)`` takes the session
    over, or raises the error building it raised.
    """
    import onnxruntime  # noqa: F401 - imported here, as importing holds the GIL the thread would share

    with _loading_lock:
        if folder not in _loading:
            _loading[folder] = _session_builder().submit(_new_session, folder)


@functools.lru_cache(maxsize=1)
def _session_builder() -> ThreadPoolExecutor:
    # Its thread is joined at exit: the interpreter must not unload onnxruntime while it builds.
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-onnx-session")


def _take_session(folder: Path):
    with _loading_lock:
        load = _loading.pop(folder, None)
    return _new_session(folder) if load is None else load.result()


class OnnxEncoder:
    """Encodes texts like sentence-transformers does (tokenize, transformer, mean pool,
    L2-normalise), with the transformer run by onnxruntime.

    >>> encoder = OnnxEncoder(find_export(path).folder, "all-MiniLM-L6-v2")   # doctest: +SKIP
    >>> encoder.encode_query("who granted Assad asylum?").shape               # doctest: +SKIP
    (1, 384)
    """

    def __init__(self, folder: Path, model_name: str) -> None:
        import tokenizers

        self.model_name = model_name
        self.folder = folder
        meta = json.loads((folder / "encoder.json").read_text())
        self.dimension = int(meta["dimension"])
        self._inputs = list(meta["inputs"])
        self._tokenizer = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
        # The tokenizer file pads every text to 128 tokens; unpadded, a short query
        # encoded 6x faster here (p50 55 vs 349 ms on a loaded machine). Batches are
        # padded to their longest text in _run instead.
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=int(meta["max_seq_length"]))
        self._session = _take_session(folder)
        output = self._session.get_outputs()[0].shape
        if len(output) != 3 or output[-1] != self.dimension:
            raise ValueError(f"the ONNX model gives shape {output}, not (batch, tokens, {self.dimension})")
        self.encode_query = functools.lru_cache(maxsize=_QUERY_CACHE_SIZE)(self._encode_query)

    def encode_documents(self, texts: list[str], batch_size: int = _BATCH) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype="float32")
        encodings = self._tokenizer.encode_batch(texts)
        # Texts of similar length share a batch, so little time goes into padding.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        vectors = np.empty((len(texts), self.dimension), dtype="float32")
        for first in range(0, len(order), batch_size):
            chosen = order[first : first + batch_size]
            vectors[chosen] = self._run([encodings[i] for i in chosen])
        return vectors

    def _encode_query(self, query: str) -> np.ndarray:
        vector = self._run([self._tokenizer.encode(query)])
        vector.setflags(write=False)  # cached: nobody may change it in place
        return vector

    def _run(self, encodings) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        arrays = {name: np.zeros((len(encodings), width), dtype="int64") for name in ("input_ids", "attention_mask", "token_type_ids")}
        for row, encoding in enumerate(encodings):
            n = len(encoding.ids)
            arrays["input_ids"][row, :n] = encoding.ids
            arrays["attention_mask"][row, :n] = encoding.attention_mask
            arrays["token_type_ids"][row, :n] = encoding.type_ids
        token_embeddings = self._session.run(None, {name: arrays[name] for name in self._inputs})[0]
        return mean_pool_normalise(token_embeddings, arrays["attention_mask"])


# -- exporting (index time, torch loaded) ------------------------------------------------


def ensure_export(model_path: Path, load_model: Callable[[], Any]) -> ExportStatus:
    """Export the model at ``model_path`` to ONNX unless a usable export exists.

    ``load_model`` gives the loaded SentenceTransformer; it is called only when an export
    is made. A failure is logged and returned, never raised: the index does not need it.
    """
    status = find_export(model_path)
    if (status.usable and not status.outdated) or status.final:
        return status
    root = _export_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        log.warning("cannot export the ONNX query encoder: %s is not writable (%s)", root, error.strerror)
        return status
    with _lock(root / f".{status.folder.name}.lock"):
        status = find_export(model_path)  # another process may have exported meanwhile
        if (status.usable and not status.outdated) or status.final:
            return status
        staging = root / f".tmp-{status.folder.name}-{uuid.uuid4().hex[:6]}"
        try:
            staging.mkdir()
            log.info("exporting the query encoder of %s to %s", model_path, status.folder)
            cosine = _export(load_model(), staging)
        except _Unsupported as error:
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()  # only the verdict is kept, so no later `rag index` tries again
            (staging / "UNSUPPORTED").write_text(f"{error}\n")
            log.warning("%s: queries keep using sentence-transformers, as %s", model_path, error)
        except Exception as error:  # noqa: BLE001 - the index is fine without the export
            shutil.rmtree(staging, ignore_errors=True)
            # torch wraps the missing onnx package in its own OnnxExporterError.
            missing = isinstance(error, ImportError) or isinstance(error.__cause__, ImportError)
            hint = "; pip install onnx" if missing else ""
            log.warning("could not export the ONNX query encoder of %s: %s%s", model_path, error, hint)
            return find_export(model_path)
        else:
            log.info("ONNX query encoder exported (cosine to sentence-transformers >= %.7f)", cosine)
        _replace_folder(staging, status.folder)
    return find_export(model_path)


class _Unsupported(Exception):
    """The model computes something this encoder does not reproduce."""


def _export(model, folder: Path) -> float:
    """Write model.onnx, tokenizer.json and encoder.json for ``model`` into ``folder``.

    Returns the lowest cosine between the export's vectors and the model's on the probes.
    """
    import torch

    prompts = getattr(model, "prompts", None) or {}
    if any(prompts.values()):
        raise _Unsupported(f"the model adds prompts {model.prompts!r}, which this encoder does not")
    transformer = model[0].auto_model
    dimension = int(model.get_embedding_dimension())
    inputs = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in model.tokenizer("probe")]

    class TokenEmbeddings(torch.nn.Module):
        # torch.onnx traces positional arguments; BERT's forward needs them by name.
        def __init__(self, transformer) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *arrays):
            return self.transformer(**dict(zip(inputs, arrays))).last_hidden_state

    sample = tuple(torch.ones((1, 8), dtype=torch.long) for _ in inputs)
    axes = {name: {0: "batch", 1: "tokens"} for name in [*inputs, "token_embeddings"]}
    # Traced with plain ("eager") attention, whose graph onnxruntime's BERT optimizer
    # fuses into Attention, SkipLayerNormalization and EmbedLayerNormalization operators
    # (669 nodes -> 46); the SDPA graph it cannot fuse. The document encoder gets its
    # attention back afterwards.
    attention = getattr(transformer.config, "_attn_implementation", None)
    if attention not in (None, "eager") and hasattr(transformer, "set_attn_implementation"):
        transformer.set_attn_implementation("eager")
    with warnings.catch_warnings(), contextlib.redirect_stdout(None), _attention_restored(transformer, attention):
        warnings.simplefilter("ignore")  # tracer warnings about Python control flow: shapes are dynamic
        torch.onnx.export(
            TokenEmbeddings(transformer).eval(),
            sample,
            str(folder / "model.onnx"),
            input_names=inputs,
            output_names=["token_embeddings"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,  # the TorchScript exporter: no onnxscript needed, and it is ~1.6 s
        )
    fused = _fuse(folder / "model.onnx", transformer.config)
    model.tokenizer.backend_tokenizer.save(str(folder / "tokenizer.json"))
    meta = {
        "format": EXPORT_FORMAT,
        "dimension": dimension,
        "max_seq_length": int(model.max_seq_length),
        "inputs": inputs,
        "pooling": "mean, L2-normalised",
        "onnx_bytes": (folder / "model.onnx").stat().st_size,
        "torch": torch.__version__,
        "fused": fused,
    }
    (folder / "encoder.json").write_text(json.dumps(meta, indent=1))
    expected = np.asarray(model.encode_document(list(_PROBES), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False))
    expected_query = np.asarray(model.encode_query([_PROBES[0]], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False))
    encoder = OnnxEncoder(folder, "probe")
    got = encoder.encode_documents(list(_PROBES))
    cosine = float(min((got * expected).sum(axis=1).min(), (encoder.encode_query(_PROBES[0]) * expected_query).sum()))
    if not cosine >= MIN_COSINE:
        raise _Unsupported(f"its ONNX vectors differ from sentence-transformers' (cosine {cosine:.4f} < {MIN_COSINE})")
    meta["min_cosine"] = round(cosine, 7)
    (folder / "encoder.json").write_text(json.dumps(meta, indent=1))
    return cosine


@contextlib.contextmanager
def _attention_restored(transformer, attention: str | None) -> Iterator[None]:
    try:
        yield
    finally:
        if attention is not None and getattr(transformer.config, "_attn_implementation", None) != attention:
            transformer.set_attn_implementation(attention)


def _fuse(path: Path, config) -> list[str]:
    """Rewrite the ONNX file at ``path`` with onnxruntime's transformer fusions, if they apply
    and give the traced graph's token embeddings (to 1e-4, padded rows included).

    A short query then runs ~10-20% faster on an idle machine. Returns the fused operators
    (empty when the graph is kept as traced); the probes check the vectors either way.
    """
    if getattr(config, "model_type", None) != "bert":
        return []
    fused_path = path.with_name("fused.onnx")
    try:
        import onnxruntime
        from onnxruntime.transformers.optimizer import optimize_model

        with warnings.catch_warnings(), contextlib.redirect_stdout(None):
            warnings.simplefilter("ignore")
            optimized = optimize_model(
                str(path), model_type="bert", num_heads=int(config.num_attention_heads),
                hidden_size=int(config.hidden_size), opt_level=0,
            )
        fused = sorted(name for name, count in optimized.get_fused_operator_statistics().items() if count)
        if "Attention" not in fused:
            return []
        optimized.save_model_to_file(str(fused_path))
        mask = np.ones((2, 24), dtype="int64")
        mask[1, 9:] = 0  # a padded row, as in a batch of documents
        feeds = {"input_ids": np.random.default_rng(0).integers(1000, 2000, (2, 24)) * mask,
                 "attention_mask": mask, "token_type_ids": np.zeros_like(mask)}
        outputs = []
        for candidate in (path, fused_path):
            session = onnxruntime.InferenceSession(str(candidate), providers=["CPUExecutionProvider"])
            outputs.append(session.run(None, {i.name: feeds[i.name] for i in session.get_inputs()})[0])
        kept = mask.astype(bool)
        if not np.allclose(outputs[0][kept], outputs[1][kept], atol=1e-4):
            log.info("the ONNX graph is kept unfused: the fused one computes other token embeddings")
            return []
    except Exception as error:  # noqa: BLE001 - the traced graph gives the same vectors
        log.info("the ONNX graph is kept unfused: %s: %s", type(error).__name__, error)
        return []
    else:
        os.replace(fused_path, path)
        return fused
    finally:
        fused_path.unlink(missing_ok=True)


# -- files -------------------------------------------------------------------------------


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """One exporter per model at a time, across processes."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}")
    temporary.write_text(text)
    os.replace(temporary, path)


def _replace_folder(new: Path, target: Path) -> None:
    """Put ``new`` at ``target``; a reader never sees a half-written folder (at worst none)."""
    if target.exists():
        old = target.with_name(f".old-{target.name}-{uuid.uuid4().hex[:6]}")
        os.rename(target, old)
        os.rename(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(new, target)
