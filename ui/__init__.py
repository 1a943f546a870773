"""The Gradio web app over the ``rag`` library (``ui.app``); importing this package is cheap.

    ui/app.py      layout and handlers: the module-level ``demo`` and ``serve()``
    ui/render.py   HTML for answers, citation cards, passages, upload reports, index facts
    ui/uploads.py  checking uploaded files and adding them to the index
    ui/errors.py   ``gr.Error`` messages for the person at the screen
"""

import os

# Here, before any ui module imports gradio: no telemetry, no version check, nothing leaves this machine.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
