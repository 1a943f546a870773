"""Properties of the package as a whole: cheap import, no network."""

import os
import subprocess
import sys
import textwrap

from tests.conftest import CORPUS


def run_python(code: str, **env) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_rag_loads_no_heavy_library():
    out = run_python("""
        import sys, rag
        heavy = ("torch", "faiss", "gradio", "sentence_transformers", "transformers", "onnxruntime", "bm25s", "ui")
        print(sorted(m for m in heavy if m in sys.modules))
    """)
    assert out.strip() == "[]"


def test_the_library_never_imports_the_web_app():
    out = run_python("""
        import sys, rag, rag.answering, rag.cli, rag.evaluation, rag.beir, rag.indexing, rag.search
        print(sorted(m for m in ("ui", "gradio") if m in sys.modules))
    """)
    assert out.strip() == "[]"


def test_serve_without_gradio_says_how_to_install_it(tmp_path):
    # A None entry in sys.modules makes `import gradio` fail as if it were not installed.
    result = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['gradio'] = None; from rag.cli import main; sys.exit(main(sys.argv[1:]))",
         "serve", "--index", str(tmp_path / "none")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert "needs gradio" in result.stderr and "pip install -e '.[app]'" in result.stderr


def test_gradio_is_an_extra_not_a_dependency():
    import tomllib

    project = tomllib.loads((CORPUS.parent / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith("gradio")]
    assert any(d.startswith("gradio") for d in project["optional-dependencies"]["app"])
    assert "rag-offline[app]" in project["optional-dependencies"]["test"]


def test_index_and_search_work_with_the_network_cut_off(tmp_path):
    out = run_python(f"""
        import socket
        def refuse(*args, **kwargs):
            raise OSError("network access attempted")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        import rag
        rag.sync([{str(CORPUS)!r}], {str(tmp_path / "index")!r})
        print(rag.search("who granted Assad asylum?", index={str(tmp_path / "index")!r})[0].date)
    """, HF_HUB_OFFLINE="1")
    assert out.strip() == "2024-12-09"


def test_a_script_that_only_searches_loads_neither_answers_nor_indexing(hash_index):
    out = run_python(f"""
        import sys
        from rag import search
        hits = search("who granted Assad asylum?", index={str(hash_index)!r})
        print(len(hits), sorted(m for m in ("rag.answering", "rag.indexing") if m in sys.modules))
        import rag
        from rag import answer, delete, sync
        import rag.answering, rag.indexing
        print(answer is rag.answering.answer, sync is rag.indexing.sync, delete is rag.indexing.delete,
              {{"answer", "sync", "delete"}} <= set(dir(rag)))
    """)
    assert out.splitlines()[:2] == ["5 []", "True True True True"]


def test_setup_refuses_to_start_on_a_full_disk_and_says_why():
    root = CORPUS.parent
    short = subprocess.run(["make", "--no-print-directory", "-C", str(root), "check-disk", "NEEDED_MB=999999999"],
                           capture_output=True, text=True, timeout=60)
    assert short.returncode != 0
    assert "setup needs about 999999999 MB" in short.stderr and "free some space" in short.stderr
    enough = subprocess.run(["make", "--no-print-directory", "-C", str(root), "check-disk", "NEEDED_MB=1"],
                            capture_output=True, text=True, timeout=60)
    assert enough.returncode == 0, enough.stderr
