"""Datasets behind one protocol, a registry by name, and index samplers.

>>> from ganlab.core.data import get_dataset
>>> ds = get_dataset("colored_mnist", rho=0.95, resolution=32)
>>> batch = ds.get_batch([0, 1, 2])            # dict of stacked tensors: index, image, label, group
"""

from . import embedded, folder, hdf5, toy, vision  # noqa: F401  (each module registers its datasets)
from .base import GanDataset, SubsetDataset, TensorDataset, default_data_root, resize_images, subset
from .folder import FileImageDataset
from .hdf5 import HDF5Dataset, prepare_hdf5
from .registry import DATASETS, dataset_options, dataset_summary, get_dataset, list_datasets, register_dataset
from .samplers import InfiniteSampler, WeightedSampler

EMBEDDED = ("digits", "mnist5k", "colored_mnist", "gaussians25", "ring8", "gaussian_minor", "clusters6")

__all__ = [
    "DATASETS",
    "EMBEDDED",
    "FileImageDataset",
    "GanDataset",
    "HDF5Dataset",
    "InfiniteSampler",
    "SubsetDataset",
    "TensorDataset",
    "WeightedSampler",
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
