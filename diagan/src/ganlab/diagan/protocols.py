"""Evaluation protocol facts of the Dia-GAN reproductions: which real images and how many samples each image metric
uses (the official evaluation: FID of 50k fakes against the statistics of every CelebA image, P&R on 10k real vs 10k
fake), and which data a run really trained on (Colored MNIST from full MNIST or the 5,000 bundled digits)."""

from __future__ import annotations

from typing import Any

from ganlab.core.errors import DatasetError


def data_provenance(ds: Any) -> dict[str, Any]:
    """Which data a run trained on (the source of Colored MNIST: full MNIST or the bundled 5,000 digits)."""
    ident = getattr(ds, "identity", {}) or {}
    out: dict[str, Any] = {"n_data": len(ds)}
    if "source" in ident:
        out["data_source"] = "mnist5k (bundled 5,000 digits)" if ident["source"] == "mnist5k" else "mnist"
    return out


def check_data_source(cfg: Any, scale: str) -> None:
    """Paper scale refuses Colored MNIST built from the bundled 5,000 digits (it would silently shrink)."""
    d = cfg.run.data
    if d.name != "colored_mnist" or scale != "paper":
        return
    from ganlab.core.data.vision import mnist_available

    src = d.options.get("source", "auto")
    full = src == "mnist" or (src == "auto" and (d.options.get("download") or mnist_available(d.root)))
    if not full:
        raise DatasetError(
            f"Colored MNIST at paper scale needs the full MNIST training set ({d.options.get('num_data', 10000)} "
            "images asked), but it is not under data.root, so the 5,000 bundled digits would be used: put the raw "
            "MNIST files (train-images-idx3-ubyte, train-labels-idx1-ubyte) in <data.root>/MNIST/raw (torchvision's "
            "layout, e.g. python -c \"import torchvision; torchvision.datasets.MNIST('<root>', download=True)\") "
            "and set run.data.root, or run --scale mini/smoke"
        )


def image_protocol(cfg: Any, n_train: int, n_reference: int) -> dict[str, Any]:
    """Sample counts and reference of the image metrics (FID, P&R), as recorded with every number."""
    p = cfg.experiment
    cap = lambda n, limit: limit if n is None else min(int(n), limit)
    return {
        "fid_reference_split": p.fid_reference_split or cfg.run.data.split,
        "fid_n_real": cap(p.fid_n_real, n_reference),
        "fid_n_fake": p.n_samples,
        "pr_n_real": cap(p.pr_n_real, n_train),
        "pr_n_fake": cap(p.pr_n_fake, p.n_samples),
        "pr_k": p.pr_k,
        "extractor": p.extractor,
        "resize": p.resize if p.resize == "extractor" else f"{p.resize}({p.resize_size})",
    }


def fid_reference(cfg: Any, train_ds: Any) -> Any:
    """The FID reference images: the training data, or the same dataset at ``fid_reference_split`` ("all")."""
    split = cfg.experiment.fid_reference_split
    d = cfg.run.data
    if split is None or split == d.split:
        return train_ds
    from ganlab.core.data import get_dataset

    return get_dataset(d.name, root=d.root, split=split, resolution=d.resolution, **d.options)
