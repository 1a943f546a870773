"""Shared fixtures: the real model and a real index of the default corpus, built once;
the same index built with the torch-free ``hash`` model, for tests of everything else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT / "corpus"
DEVSET = PROJECT / "eval" / "devset.jsonl"


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
