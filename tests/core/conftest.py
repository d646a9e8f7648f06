"""Trained tiny models shared by every core test module (trained once per test run)."""

import pytest

from dl_core import autoencoder as A
from dl_core.training import one_thread


@pytest.fixture(scope="session")
def tiny_ae():
    with one_thread():
        return A.train(A.AEConfig.tiny("ae"), device="cpu")


@pytest.fixture(scope="session")
def tiny_vae():
    with one_thread():
        return A.train(A.AEConfig.tiny("vae"), device="cpu")
