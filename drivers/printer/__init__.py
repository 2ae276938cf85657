"""ESC/POS receipt printing for Japanese receipts.

The modules callers use:

- ``document``: the printer-independent receipt (Text, Columns, Rule, QrCode, Feed, Cut).
- ``render``: ``render(document, paper_width_mm=80, profile=...) -> bytes``, one whole job.
- ``profile``: ``printer_profile(name, kanji=True)`` and the 58/80 mm ``Paper`` sizes.
- ``connection``: ``open_printer(url)``, ``send(url_or_connection, job)``, ``read_status(...)``.
- ``status``: ``PrinterStatus`` (ok, problem with causes, unknown).
- ``emulator``: ``PrinterEmulator``, a loopback network printer that decodes what it receives.
- ``testpage``: the technician's test page and ``print_test_main(argv)``.
- ``errors``: the exception tree, rooted at ``PrinterError``.

Nothing here imports Qt.
"""
