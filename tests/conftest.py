"""Shared fixtures: the real model and a real index of the default corpus, built once;
the same index built with the torch-free ``hash`` model, for tests of everything else."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# A developer's own language model server ($RAG_LLM_URL …) must not change what the tests see:
# answers are quoted unless a test points them at a server of its own. Cleared at import,
# before test modules import the app (which reads them).
for _name in ("RAG_LLM_URL", "RAG_LLM_MODEL", "RAG_LLM_API_KEY", "RAG_LLM_TIMEOUT", "RAG_LLM_MAX_TOKENS"):
    os.environ.pop(_name, None)

PROJECT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT / "corpus"
DEVSET = PROJECT / "eval" / "devset.jsonl"


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory) -> Path:
    """A private model cache ($RAG_CACHE, inherited by subprocesses): the session's first
    index with the real model exports the ONNX query encoder into it; the user's cache is
    neither read nor written."""
    path = tmp_path_factory.mktemp("model-cache")
    previous = os.environ.get("RAG_CACHE")
    os.environ["RAG_CACHE"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("RAG_CACHE", None)
    else:
        os.environ["RAG_CACHE"] = previous


@pytest.fixture(scope="session")
def hash_index(tmp_path_factory) -> Path:
    """An index of the default corpus built with the ``hash`` stand-in model: no torch,
    about a second. For unit tests of chunking, storage, search and answers that need
    real passages but not a semantic embedding.

    >>> hits = search("who granted Assad asylum?", index=hash_index)   # doctest: +SKIP
    """
    from rag import sync

    path = tmp_path_factory.mktemp("hash-index")
    sync([CORPUS], path, model="hash")
    return path


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory) -> Path:
    """An index of the default corpus built with the real model (once per session)."""
    from rag import sync

    path = tmp_path_factory.mktemp("index")
    sync([CORPUS], path)
    return path


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A private, writable copy of the default corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture
def writable_index(tmp_path, corpus_index) -> Path:
    """A private copy of the corpus index, for tests that add documents to it."""
    target = tmp_path / "index"
    shutil.copytree(corpus_index, target)
    return target


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def launch_app():
    """Start Gradio apps on free loopback ports; every one is closed after the module.

    >>> url = launch_app(build_demo(index))    # doctest: +SKIP
    """
    started = []

    def launch(demo) -> str:
        for attempt in range(5):  # another process may take the free port before we do
            try:
                _, url, _ = demo.launch(
                    prevent_thread_lock=True, server_name="127.0.0.1", server_port=_free_port(), quiet=True
                )
                break
            except OSError:
                if attempt == 4:
                    raise
        started.append(demo)
        return url

    yield launch
    for demo in started:
        demo.close()
