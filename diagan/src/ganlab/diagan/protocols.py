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


def check_data_source(run_cfg: Any, scale: str) -> None:
    """Paper scale refuses Colored MNIST built from the bundled 5,000 digits (it would silently shrink)."""
    d = run_cfg.data
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


def image_protocol(protocol: Any, n_train: int, n_reference: int, n_fake: int) -> dict[str, Any]:
    """Sample counts and reference of the image metrics (FID, P&R) under an
    :class:`~ganlab.core.evaluation.EvalProtocol`, as recorded with every number."""
    p = protocol
    cap = lambda n, limit: limit if n is None else min(int(n), limit)
    return {
        "fid_reference_split": p.reference.split,
        "fid_n_real": cap(p.reference.n, n_reference),
        "fid_n_fake": n_fake,
        "pr_n_real": cap(p.prdc.n_real, n_train),
        "pr_n_fake": cap(p.prdc.n_fake, n_fake),
        "pr_k": p.prdc.k,
        "extractor": p.network.name,
        "resize": resize_name(p),
    }


def resize_name(protocol: Any) -> str:
    """The ``resize`` column: the TF graph's resize and its size, or the extractor's own."""
    r = protocol.resize
    return f"tf_bilinear({r.size})" if r.method == "tf_bilinear" else "extractor"


def fid_reference(protocol: Any, data: Any, train_ds: Any) -> Any:
    """The FID reference images: the training data (``data``: its config), or the same dataset at the protocol's
    reference split ("all": every CelebA image)."""
    split = protocol.reference.split
    if split == data.split:
        return train_ds
    from ganlab.core.data import get_dataset

    return get_dataset(data.name, root=data.root, split=split, resolution=data.resolution, **data.options)


def describe(config: Any) -> Any:
    """The protocol in words: core's description for the image metrics, with the Dia-GAN analyses' own words."""
    from ganlab.core.config import from_dict, read_yaml, select_scale
    from ganlab.core.repro import protocol_from_config
    from ganlab.diagan.options import DiaOptions

    table = protocol_from_config(config)

    def words(scale: str) -> str:
        data = select_scale(read_yaml(config), scale)
        e = from_dict(DiaOptions, data.get("experiment") or {}, where="experiment")
        p = table(scale)
        s = [p.describe()] if p.metrics else []
        if e.kind == "gaussians":
            s.append(
                f"{p.n_fake} generated 2-D points (no evaluation network) of the last generator: a mode is covered "
                f"with at least {e.min_count} high-quality samples (nearest mode, within 4 sigma); per-mode mean LDRM."
            )
        if "partial_recall" in e.metrics or e.kind == "attributes":
            real = "all real images" if e.n_real is None else f"the first {e.n_real} real images"
            net = "the 2-D points themselves" if p.network.name == "points" else p.describe_network()
            s.append(
                f"Partial recall (k = {p.prdc.k}) of each group or attribute: {real} with it against {p.n_fake} "
                f"fakes of the last generator, on {net}."
            )
        if "re" in e.metrics:
            s.append(
                f"Reconstruction error of the minor training images under a CAE (nf {e.cae_nf}) trained "
                f"{e.cae_epochs} epochs on {e.cae_samples} generated samples."
            )
        if e.kind in ("minority", "attributes") and "ldrv" in e.metrics:
            s.append("LDRM, LDRV and score of the training images by group from the run's recorded window.")
        s.append(f"Variants {', '.join(e.variants)}; DRS burn-in {e.drs_burn_in} batches of {e.drs_batch_size}.")
        notes = data.get("notes")
        return " ".join(s + ([notes] if notes else []))

    return words
