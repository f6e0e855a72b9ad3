"""The product's command-line tools: each runs as ``python scripts/<name>.py``.

A package only so that tests can import them as ``scripts.<name>``.
"""
