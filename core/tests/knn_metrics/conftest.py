import pytest
import torch


@pytest.fixture(autouse=True)
def _single_thread():
    # The inputs here are tiny: thread start-up and spinning dominate on a shared 2-core runner.
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        import faiss

        prev_faiss = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
    except ImportError:
        faiss = None
    yield
    torch.set_num_threads(prev)
    if faiss is not None:
        faiss.omp_set_num_threads(prev_faiss)
