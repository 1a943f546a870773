"""The Gradio web app over the ``rag`` library (``ui.app``); importing this package is cheap.

    ui/app.py           layout and handlers: the module-level ``demo`` and ``serve()``
    ui/conversation.py  the turns of a conversation: ask, ask the last question again, restore
    ui/api.py           the named endpoints for scripts, and the sources panel's server functions
    ui/render.py        HTML for turns, source cards, documents, upload reports, document views
    ui/assets.py        the app's CSS and JavaScript (no external file of any kind)
    ui/uploads.py       adding uploaded files to the index, one by one, removing documents, recovery at start
    ui/viewer.py        the text around a passage and whole documents, read back from their files
    ui/errors.py        ``gr.Error`` messages for the person at the screen
"""

import importlib.abc
import importlib.util
import os
import sys

# Here, before any ui module imports gradio: no telemetry, no version check, nothing leaves this machine.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


class _NoStubWriting(importlib.abc.MetaPathFinder):
    """Stops gradio rewriting its own type stubs each time it is imported.

    Gradio's component metaclass calls ``create_or_modify_pyi`` for every component class
    it defines (81 at ``import gradio``): it reads and parses the class's source file,
    renders a Jinja template and compares, or rewrites, the ``.pyi`` file beside it in
    site-packages. That is a tool for gradio's developers (stubs for editors), with no
    effect on the running app, and it was 55-70% of ``import gradio`` here (5.4 s ->
    2.7 s without it). Gradio has no setting for it, so once its module is loaded the
    function is replaced by one that does nothing; gradio's files are not touched.
    """

    def find_spec(self, name, path=None, target=None):
        if name != "gradio.component_meta":
            return None
        sys.meta_path.remove(self)  # once is enough, and find_spec below must not find this finder
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            if callable(getattr(module, "create_or_modify_pyi", None)):
                module.create_or_modify_pyi = lambda *args, **kwargs: None

        spec.loader.exec_module = exec_module
        return spec


if "gradio.component_meta" not in sys.modules:
    sys.meta_path.insert(0, _NoStubWriting())
