"""FID of Table 5 / Figure 6: the paper-scale configs use Inception (the paper's Appendix B), the minis the in-domain
LeNet-32; every FID record names its network; the FID equals an independent scipy computation on the same features."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from ganlab.core.features import extract_features, get_extractor
from ganlab.gold.evaluation import INDOMAIN, ExtractorFID, InDomainFID, build_fid
from ganlab.gold.repro import EXPERIMENTS, load_repro_config

FID_EXPERIMENTS = ["table3_mnist", "table3_fmnist", "table3_svhn", "table3_cifar10", "table3_stl10", "figure6"]


# LeNet features pass a ReLU: units that never fire make the covariances singular, which sqrtm warns about
pytestmark = pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")


def scipy_fid(a: np.ndarray, b: np.ndarray) -> float:
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


@pytest.mark.parametrize("name", FID_EXPERIMENTS)
def test_fid_network_is_inception_at_paper_scale_and_the_indomain_lenet_in_minis(name):
    cfg = {s: load_repro_config(EXPERIMENTS[name].config, s).experiment for s in ("smoke", "mini", "paper")}
    assert cfg["paper"].fid_extractor == "inception"  # Appendix B: "Fréchet Inception distance"
    assert cfg["mini"].fid_extractor == INDOMAIN and cfg["smoke"].fid_extractor == INDOMAIN
    assert cfg["paper"].fid or name == "figure6"  # figure6 measures FID by its kind (unstable)


def _digits(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 32, 32, generator=g) * 2 - 1, torch.randint(0, 10, (n,), generator=g).numpy()


def test_extractor_fid_equals_scipy_and_names_its_network():
    real, labels = _digits(300, 0)
    fake = (_digits(200, 1)[0] * 0.5).clamp(-1, 1)
    fid = build_fid("random:lenet", real, labels, 10, options={"seed": 3})
    assert isinstance(fid, ExtractorFID)
    out = fid(fake)
    ext = get_extractor("random:lenet", seed=3)
    fr = extract_features(ext, real, quantize=False, progress=False, device="cpu").astype(np.float64)
    ff = extract_features(ext, fake, quantize=True, progress=False, device="cpu").astype(np.float64)
    assert out["fid"] == pytest.approx(scipy_fid(fr, ff), rel=1e-6, abs=1e-8)
    assert out["fid_extractor"] == "random:lenet" and (out["fid_n_real"], out["fid_n_fake"]) == (300, 200)


def test_indomain_fid_equals_scipy_and_names_its_network(tmp_path):
    """The in-domain network (here a stored LeNet-32, so that nothing is trained) gives the FID of its 84-d features."""
    from ganlab.core.features import save_classifier
    from ganlab.core.nn.classifiers import build_classifier

    torch.manual_seed(0)
    lenet = build_classifier("lenet", num_classes=10, in_channels=1)
    save_classifier(lenet, tmp_path / "fid_lenet.pt", arch="lenet")
    real, labels = _digits(300, 0)
    fake = _digits(200, 2)[0] * 0.7
    fid = build_fid(INDOMAIN, real, labels, 10, cache_dir=tmp_path)
    assert isinstance(fid, InDomainFID) and fid.protocol["extractor"] == INDOMAIN
    out = fid(fake)
    with torch.no_grad():
        fr, ff = (lenet.eval().features(x).double().numpy() for x in (real, fake))
    assert fr.shape[1] == 84
    assert out["fid"] == pytest.approx(scipy_fid(fr, ff), rel=1e-6, abs=1e-8)
    assert out["fid_extractor"] == INDOMAIN
