"""Starting the app after a server was killed mid-upload or mid-removal (ui.uploads.recover_uploads).

The index is built with the torch-free ``hash`` model: what is tested is which files end up
in the folder and the index, not how well they are found.
"""

import logging
from pathlib import Path

import pytest

from rag import open_index, sync
from ui.app import recover
from ui.uploads import STAGING_PREFIX, add_documents, recover_uploads


@pytest.fixture
def index(tmp_path) -> Path:
    """An index of one corpus document and one upload, ``kept.txt``, built with the hash model."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "corpus.txt").write_text("The Brasko bridge opened on 2 June 2019.\n")
    path = tmp_path / "index"
    sync([corpus], path, model="hash", tagger="none")
    upload = tmp_path / "kept.txt"
    upload.write_text("The Vellum archive moved to Ghent in 1998.\n")
    assert add_documents([upload], index=path).files[0].status == "added"
    return path


def held(index: Path) -> list[str]:
    return sorted(open_index(index).documents())


def test_nothing_to_recover_changes_nothing(index):
    before = open_index(index).version
    recovery = recover_uploads(index=index)
    assert recovery.messages() == [] and recovery.sync is None
    assert open_index(index).version == before


def test_a_file_saved_but_never_indexed_is_indexed_at_start(index):
    uploads = index / "uploads"
    (uploads / "orphan.txt").write_text("The Zorbulon lighthouse was painted teal.\n")
    staging = uploads / f"{STAGING_PREFIX}abc123"  # the server died while syncing this upload
    staging.mkdir()
    (staging / "orphan.txt.new").write_text("The Zorbulon light")
    recovery = recover_uploads(index=index)
    assert recovery.cleared == (staging.name,) and recovery.sync.added == ("orphan.txt",)
    assert held(index) == ["corpus.txt", "kept.txt", "orphan.txt"]
    assert sorted(p.name for p in uploads.iterdir()) == ["kept.txt", "orphan.txt"]
    assert recovery.messages() == [
        "removed 1 staging folder(s) left by an interrupted upload or removal",
        "indexed 1 upload(s) the index did not hold as they are: orphan.txt",
    ]
    assert recover_uploads(index=index).messages() == []  # and once only


def test_an_upload_moved_aside_for_its_new_version_is_put_back(index):
    uploads = index / "uploads"
    staging = uploads / f"{STAGING_PREFIX}x"
    staging.mkdir()
    (uploads / "kept.txt").rename(staging / "kept.txt")  # killed before the new version was saved
    (staging / "kept.txt.new").write_text("half a new ver")
    recovery = recover_uploads(index=index)
    assert recovery.restored == ("kept.txt",) and recovery.sync is None
    assert (uploads / "kept.txt").read_text() == "The Vellum archive moved to Ghent in 1998.\n"
    assert sorted(p.name for p in uploads.iterdir()) == ["kept.txt"]


def test_an_interrupted_removal_is_undone_when_the_index_still_holds_the_document(index):
    uploads = index / "uploads"
    staging = uploads / f"{STAGING_PREFIX}y"
    staging.mkdir()
    (uploads / "kept.txt").rename(staging / "kept.txt")  # parked; the delete never reached the index
    assert recover_uploads(index=index).restored == ("kept.txt",)
    assert held(index) == ["corpus.txt", "kept.txt"] and (uploads / "kept.txt").is_file()


def test_a_removal_that_reached_the_index_is_finished(index):
    from rag import delete

    uploads = index / "uploads"
    staging = uploads / f"{STAGING_PREFIX}z"
    staging.mkdir()
    (uploads / "kept.txt").rename(staging / "kept.txt")
    delete(["kept.txt"], index)  # the index changed; the server died before removing the staging folder
    recovery = recover_uploads(index=index)
    assert recovery.restored == () and recovery.cleared == (staging.name,)
    assert held(index) == ["corpus.txt"] and list(uploads.iterdir()) == []


def test_an_unreadable_leftover_is_reported_and_left_alone(index):
    uploads = index / "uploads"
    (uploads / "broken.txt").write_bytes(b"\x00\x01binary\x00" * 50)
    recovery = recover_uploads(index=index)
    lines = recovery.messages()
    assert lines[0].startswith("could not index 1 file(s) in the uploads folder: broken.txt; fix or delete them")
    assert "binary" in lines[1]
    assert held(index) == ["corpus.txt", "kept.txt"] and (uploads / "broken.txt").exists()


def test_the_server_says_what_it_recovered_in_its_log(index, caplog):
    (index / "uploads" / "orphan.md").write_text("# Notes\n\nThe Quarnix factory opened in Tallinn.\n")
    with caplog.at_level(logging.WARNING, logger="ui.app"):
        recover(index)
    assert "at start: indexed 1 upload(s) the index did not hold as they are: orphan.md" in caplog.text


def test_no_uploads_folder_is_nothing_to_recover(tmp_path):
    assert recover_uploads(index=tmp_path / "index").messages() == []
    assert not (tmp_path / "index").exists()
