"""Shared test settings: the repository root is on sys.path (pyproject: pythonpath)."""

from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent

torch.set_num_threads(2)
