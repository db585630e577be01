"""GAN-side evaluations of Slim (2020) for the reproductions: Table 2, Table 4, the Appendix A.2 FID list, Figures 1-2.

:mod:`ganlab.multigan_boosting.repro` runs them through core's harness, one arm per source, on the very filter net
and GAN sequences Table 1 / Table 3 use (:mod:`~ganlab.multigan_boosting.sequences`).

* ``gan_metrics`` (Tables 2, 4, A.2): for each source — the real data, one GAN of a scheme's sequence, or an
  ensemble of several, optionally with truncated z — intra-class MS-SSIM (×100; 200 pairs per class) and the "5k"
  FID (:mod:`ganlab.multigan_boosting.gan_eval`) with the protocol's network, counts and batch size.
* ``figures``: Figure 1 (t-SNE of filter-net features, real vs generated; with ``psi`` also Appendix B.1) and
  Figure 2 / B.2 (t-SNE of one class's real features coloured by Algorithm 1's weights against the base GAN).

Evaluation network of the FID: ``inception`` (paper) or ``filter`` (the shared filter net's pooled features; mini and
smoke, where the Inception weights are not bundled — such FIDs are in-domain and not comparable with the report).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ganlab.core.errors import ConfigError
from ganlab.core.evaluation.protocol import EvalProtocol


def extractor(protocol: EvalProtocol, filt: Any) -> Any:
    """The FID's evaluation network: the filter net (``network.name: filter``) or a registered extractor."""
    from ganlab.core.features import get_extractor
    from ganlab.core.features.extractors import ClassifierExtractor

    if protocol.conditioning.labels != "class_sequential":
        raise ConfigError("the 5k FID samples class-sequentially: set protocol.conditioning.labels: class_sequential")
    if protocol.network.name == "filter":
        return ClassifierExtractor(filt, "filter_net", None)
    return get_extractor(protocol.network.name, **protocol.extractor_options())


def train_subset(n_train: int, n: int, seed: int) -> Any:
    """``n`` seeded random indices of the training split (a split may be stored class by class: its first ``n``
    images would hold a few classes only)."""
    import torch

    return torch.randperm(n_train, generator=torch.Generator().manual_seed(int(seed)))[: min(n, n_train)]


def msssim_fields(m: dict[str, Any]) -> dict[str, Any]:
    """One source's MS-SSIM in a record: the mean over classes and the spread *across classes* (the report's ±).
    The key is not ``ms_ssim_std``: over seeds, the aggregate's ``ms_ssim_std`` is the spread across seeds."""
    return {"ms_ssim": m["value"], "ms_ssim_class_std": m["std"], "ms_ssim_protocol": m["protocol"]}


def gan_metrics(
    e: Any, p: EvalProtocol, splits: Any, src: Any, gens: list[Any] | None, ext: Any, seed: int
) -> dict[str, Any]:
    """MS-SSIM (``e.ms_ssim``) and the 5k FID (``"fid" in p.metrics``) of one source: ``gens`` (None: real data)."""
    import torch

    from ganlab.core.features import extract_features
    from ganlab.core.metrics.fid import fid_from_features
    from ganlab.multigan_boosting.gan_eval import class_sequential_samples, fid_5k, intra_class_msssim

    test_x = splits.test[0]
    train_x, train_y = splits.train
    rec: dict[str, Any] = {}
    if e.ms_ssim:
        if gens is None:
            images, labels = train_x, train_y
        else:
            per = e.n_msssim // splits.num_classes
            images, labels, _ = class_sequential_samples(
                gens, e.n_msssim, batch_size=min(p.batch_size, per), weights=src.weights, psi=src.psi, seed=seed
            )
        rec.update(msssim_fields(intra_class_msssim(images, labels, n_pairs=e.n_pairs, seed=seed)))
    if "fid" in p.metrics:
        n_test = int(p.reference.n or len(test_x))
        n_fake = p.fake_count(n_test)
        if gens is None:  # the report's 10.31: training vs test set
            pick = train_subset(len(train_x), n_fake, seed)
            with torch.no_grad():
                a = extract_features(ext, train_x[pick], progress=False)
                b = extract_features(ext, test_x[:n_test], progress=False)
            protocol = f"train (random {len(pick)} of {len(train_x)}) vs test ({n_test})"
            f = {"value": float(fid_from_features(b, a)), "protocol": protocol}
        else:
            f = fid_5k(
                gens, test_x, ext, n=n_fake, n_test=n_test, batch_size=p.batch_size, weights=src.weights,
                psi=src.psi, seed=seed,
            )  # fmt: skip
        rec.update({"fid": f["value"], "fid_protocol": f["protocol"]})
    return rec


def figures(e: Any, splits: Any, filt: Any, G: Any, seed: int, folder: Any) -> list[dict[str, Any]]:
    """Figure 1 (and B.1 with ``e.figure_psi``) and Figure 2 / B.2 of one seed; one record per sheet and transform."""
    import torch

    from ganlab.multigan_boosting.boost import synthetic_features
    from ganlab.multigan_boosting.gan_eval import class_sequential_samples, tsne_samples_figure, tsne_weights_figure
    from ganlab.multigan_boosting.weights import extract_features, sample_weights

    train_x, train_y = splits.train
    k = splits.num_classes
    records = []
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(train_y), min(e.n_tsne, len(train_y)), replace=False))
    real_f = extract_features(filt, train_x[pick])
    n_fake = (e.n_tsne // k) * k
    for psi, fig in ((None, "figure1"), (e.figure_psi, "figureB1")):
        if fig == "figureB1" and psi is None:
            continue
        x, y, _ = class_sequential_samples(G, n_fake, batch_size=n_fake // k, psi=psi, seed=seed)
        path = folder / f"{fig}_seed{seed}.png"
        tsne_samples_figure(real_f.numpy(), train_y[pick].numpy(), extract_features(filt, x).numpy(), y.numpy(),
                            path, seed=seed, title=f"filter-net features: real vs BigGAN (psi={psi})")  # fmt: skip
        records.append({"figure": fig, "psi": psi, "png": str(path), "n_per_panel": int(n_fake)})
    # Algorithm 1 against the base GAN: phi of the real set and of D_G once, then each transform
    all_real_f = extract_features(filt, train_x)
    fake_f, fake_y = synthetic_features([G], filt, len(train_y), n_per_gan=e.n_per_gan, seed=seed)
    cls = (train_y == e.figure_class).numpy()
    panels, summaries = {}, {}
    for t, label in (("A_mu", "A_mu (threshold mu)"), ("C", "C (no threshold)"), ("B", "B (sigmoid, App. B.2)")):
        res = sample_weights(all_real_f, train_y, fake_f, fake_y, t, equalize_class_mass=e.equalize_class_mass)
        panels[label], summaries[t] = res.weights[cls], res.summary()
    feats = all_real_f[torch.from_numpy(cls)].numpy()
    path = folder / f"figure2_seed{seed}.png"
    tsne_weights_figure(feats, panels, path, seed=seed, title=f"class {e.figure_class}: Algorithm 1 weights")
    for t, s in summaries.items():
        records.append({
            "figure": "figure2", "transform": t, "class": e.figure_class, "png": str(path),
            "zero_weight_fraction": s["zero_weight_fraction"], "effective_sample_size": s["effective_sample_size"],
            "n_real": s["n_real"],
        })  # fmt: skip
    return records
