"""Datasets behind one protocol, a registry by name, and index samplers.

>>> from ganlab.core.data import get_dataset
>>> ds = get_dataset("colored_mnist", rho=0.95, resolution=32)
>>> batch = ds.get_batch([0, 1, 2])            # dict of stacked tensors: index, image, label, group
"""

from . import embedded, folder, hdf5, toy, vision  # noqa: F401  (each module registers its datasets)
from .adapters import TorchDatasetAdapter, from_arrays, from_torch
from .base import GanDataset, SubsetDataset, TensorDataset, default_data_root, resize_images, subset
from .folder import FileImageDataset
from .hdf5 import HDF5Dataset, prepare_hdf5
from .presence import EMBEDDED, dataset_present
from .registry import DATASETS, dataset_options, dataset_summary, get_dataset, list_datasets, register_dataset
from .samplers import InfiniteSampler, WeightedSampler

__all__ = [
    "DATASETS",
    "EMBEDDED",
    "FileImageDataset",
    "GanDataset",
    "HDF5Dataset",
    "InfiniteSampler",
    "SubsetDataset",
    "TensorDataset",
    "TorchDatasetAdapter",
    "WeightedSampler",
    "dataset_present",
    "from_arrays",
    "from_torch",
    "dataset_options",
    "dataset_summary",
    "default_data_root",
    "get_dataset",
    "list_datasets",
    "prepare_hdf5",
    "register_dataset",
    "resize_images",
    "subset",
]
