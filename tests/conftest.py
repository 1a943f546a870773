"""Shared fixtures: the real model and a real index of the default corpus, built once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT / "corpus"
DEVSET = PROJECT / "eval" / "devset.jsonl"


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
