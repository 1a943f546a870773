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

import os

# Here, before any ui module imports gradio: no telemetry, no version check, nothing leaves this machine.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
