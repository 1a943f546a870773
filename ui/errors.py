"""User-facing errors: a ``gr.Error`` the app shows as a toast, with no traceback in the log."""

import html

import gradio as gr


def mistake(message: str, title: str = "Can't do that") -> gr.Error:
    """A ``gr.Error`` for a user's mistake: shown in the app, no traceback in the server log."""
    return gr.Error(message, title=title, print_exception=False)


def user_error(error: Exception) -> gr.Error:
    """A library error as a message for the person at the screen (escaped: toasts render HTML)."""
    if isinstance(error, gr.Error):  # a ValueError too, and already worded for the user
        return error
    message = str(error)
    for name, label in (("date_from=", "From date "), ("date_to=", "To date ")):
        message = message.replace(name, label)
    message = message[:1].upper() + message[1:]
    return mistake(html.escape(message, quote=False), "Can't do that")


def plain(error: gr.Error) -> str:
    """A ``gr.Error``'s message as plain text (it is kept escaped, for toasts), to be escaped where it is shown."""
    return html.unescape(error.message)
