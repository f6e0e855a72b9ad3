"""``python setup.py develop`` for BasicSR users; the project's metadata lives in pyproject.toml."""
from setuptools import setup

setup()
