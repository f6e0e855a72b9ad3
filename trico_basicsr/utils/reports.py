"""Benchmark reports: the command that made them, and their JSON and Markdown files, written whole."""
import json
import os
import sys
from os import path as osp

from .atomic import atomic_write


def command_line(root):
    """``python scripts/x.py --args`` as this process was started, the script relative to ``root``."""
    return ' '.join(['python', osp.relpath(osp.abspath(sys.argv[0]), root)] + sys.argv[1:])


def write_report(out, results, markdown):
    """Write ``out.json`` (``results``) and ``out.md`` (``markdown``), each whole or not at all; print the Markdown."""
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    atomic_write(out + '.json', lambda f: f.write(json.dumps(results, indent=1).encode()))
    atomic_write(out + '.md', lambda f: f.write(markdown.encode()))
    print(markdown)
