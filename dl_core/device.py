"""The one place that chooses where tensors live.

Rule: ``pick()`` returns CUDA when a GPU is present, else CPU. Trainers whose
work is too small to benefit from a GPU (2-D optimisation, a few hundred
parameters) call ``pick(small=True)`` and stay on the CPU: a CUDA launch costs
about 11 us, more than the whole arithmetic of such a step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def pick(small: bool = False) -> torch.device:
    """CUDA if available (unless the workload is ``small``), else CPU."""
    if not small and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


@dataclass(frozen=True)
class DeviceInfo:
    kind: str  # "cuda" or "cpu"
    name: str  # GPU name, or "CPU"
    threads: int  # torch intra-op threads
    torch_version: str

    @property
    def label(self) -> str:
        if self.kind == "cuda":
            return f"CUDA GPU: {self.name}"
        return f"CPU, {self.threads} thread{'s' if self.threads != 1 else ''}"


def info() -> DeviceInfo:
    """Describe the device ``pick()`` chooses, for the sidebar and the bench."""
    dev = pick()
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "CPU"
    return DeviceInfo(dev.type, name, torch.get_num_threads(), torch.__version__)
