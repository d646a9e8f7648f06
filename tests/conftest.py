"""Shared test settings: the repository root is on sys.path (pyproject: pythonpath)."""

import os
from pathlib import Path

import pytest
import torch

from dl_core.training import one_thread

ROOT = Path(__file__).resolve().parent.parent

# Two threads for a lone run; one per process when pytest-xdist runs two (README's command):
# two processes of two threads each only fight over the two cores.
torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else 2)


@pytest.fixture(scope="module")
def one_torch_thread():
    """One intra-op thread for a module of tiny models (as the app's server runs them):
    on a busy 2-core machine two threads only fight over every small op. Restored after."""
    with one_thread():
        yield
