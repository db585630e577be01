"""Datasets behind one protocol, a registry by name, and index samplers.

>>> from ganlab.core.data import get_dataset
>>> ds = get_dataset("colored_mnist", rho=0.95, resolution=32)
>>> batch = ds.get_batch([0, 1, 2])            # dict of stacked tensors: index, image, label, group

Dress rehearsals without the real data: ``write_standin(name, root)`` (``ganlab data stand-in NAME --root DIR``)
writes a small dataset in the real on-disk layout; read the checksummed ones inside ``skip_checksums()``.

Your own data: ``from_torch(any_map_style_dataset, name=...)`` or ``from_arrays(images, labels, name=...)``.
Names are imported on first use (the built-in datasets register themselves on the first registry lookup), so that
the ``ganlab`` command starts without loading torch.
"""

from ganlab.core.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "TorchDatasetAdapter": "adapters",
        "from_arrays": "adapters",
        "from_torch": "adapters",
        "GanDataset": "base",
        "SubsetDataset": "base",
        "TensorDataset": "base",
        "default_data_root": "base",
        "resize_images": "base",
        "subset": "base",
        "FileImageDataset": "folder",
        "HDF5Dataset": "hdf5",
        "skip_checksums": "checksums",
        "write_standin": "standin",
        "prepare_hdf5": "hdf5",
        "EMBEDDED": "presence",
        "dataset_present": "presence",
        "DATASETS": "catalog",
        "dataset_options": "catalog",
        "dataset_summary": "catalog",
        "get_dataset": "catalog",
        "list_datasets": "catalog",
        "register_dataset": "registry",
        "InfiniteSampler": "samplers",
        "WeightedSampler": "samplers",
    },
)
