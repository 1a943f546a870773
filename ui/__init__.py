"""The Gradio web app over the ``rag`` library (``ui.app``); importing this package is cheap."""
