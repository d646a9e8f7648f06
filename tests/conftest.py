"""Shared test settings: the repository root is on sys.path (pyproject: pythonpath)."""

from pathlib import Path

import pytest
import torch

from dl_core.training import one_thread

ROOT = Path(__file__).resolve().parent.parent

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def one_torch_thread():
    """One intra-op thread for a module of tiny models (as the app's server runs them):
    on a busy 2-core machine two threads only fight over every small op. Restored after."""
    with one_thread():
        yield
