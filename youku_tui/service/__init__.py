"""The uploads' owner: one process per state folder runs the engine; views attach to it.

``control.py`` is the one interface the TUI and the CLI drive (:class:`UploadControl`),
whether the engine runs in this process or in the per-user service behind a Unix socket.
Nothing here imports Textual.
"""
