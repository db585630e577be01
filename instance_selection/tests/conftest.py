import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def digits():
    from ganlab.core.data import get_dataset

    return get_dataset("digits", resolution=32)
