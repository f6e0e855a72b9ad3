import os
import shutil
import uuid

import pytest

import trico_basicsr  # noqa: F401  (apply the compat fixes before any basicsr import in tests)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))


@pytest.fixture
def root(tmp_path):
    """A throw-away root path for BasicSR runs (experiments/ and results/ land here)."""
    return str(tmp_path)


@pytest.fixture
def experiment_name():
    """A unique experiment name for runs in the project root; its folders are removed afterwards."""
    name = f'pytest_{uuid.uuid4().hex[:8]}'
    yield name
    for folder in ('experiments', 'tb_logger', 'results'):
        shutil.rmtree(os.path.join(ROOT, folder, name), ignore_errors=True)
