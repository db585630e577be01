import io

import numpy as np
import pytest
import torch

from ganlab.core.cli import main
from ganlab.core.errors import ConfigError
from ganlab.core.features import extract_features, get_extractor, load_classifier
from ganlab.core.metrics.evaluate import evaluate
from ganlab.core.metrics.sources import ArrayImages
from ganlab.core.results import RunDir


def test_features_list(capsys):
    assert main(["features", "list"]) == 0
    out = capsys.readouterr().out
    assert "inception_torchvision" in out and "classifier:<path>" in out and "random:<arch>" in out


@pytest.fixture(scope="module")
def lenet_ckpt(tmp_path_factory):
    torch.set_num_threads(1)
    path = tmp_path_factory.mktemp("clf") / "lenet_digits.pt"
    rc = main(
        [
            "features",
            "train-classifier",
            "--dataset",
            "digits",
            "--resolution",
            "32",
            "--arch",
            "lenet",
            "--epochs",
            "3",
            "--out",
            str(path),
            "--quiet",
        ]
    )
    assert rc == 0
    return path


def test_train_classifier_writes_a_usable_checkpoint(lenet_ckpt):
    model, info = load_classifier(lenet_ckpt)
    assert info["arch"] == "lenet" and info["num_classes"] == 10 and info["in_channels"] == 1
    assert "holdout" in info["test"]  # digits has no test split: a seeded held-out part is used
    assert info["accuracy"] > 0.5  # 3 epochs on 1,617 digits, far above chance (0.1)
    ext = get_extractor(f"classifier:{lenet_ckpt}")
    assert ext.dim == 84 and len(ext.weights_sha256) == 64
    x = torch.rand(5, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        np.testing.assert_allclose(extract_features(ext, x, progress=False), model.features(x).numpy(), atol=1e-6)
    logits = get_extractor(f"classifier:{lenet_ckpt}", output="logits")
    assert logits.dim == 10


def _digits_uint8(n=None):
    from ganlab.core.data import get_dataset

    ds = get_dataset("digits", resolution=32)
    x = ds.get_batch(np.arange(len(ds) if n is None else n))
    u = torch.floor((x["image"] + 1) * 127.5 + 0.5).clamp(0, 255).to(torch.uint8)
    return u.permute(0, 2, 3, 1).numpy(), x["label"].numpy()


def test_eval_npz_records_metrics_with_their_protocol(tmp_path, lenet_ckpt, capsys):
    imgs, labels = _digits_uint8()
    npz = tmp_path / "real.npz"
    buf = io.BytesIO()
    np.savez(buf, images=imgs, labels=labels)
    npz.write_bytes(buf.getvalue())
    noise = tmp_path / "noise.npz"
    np.savez(noise, images=np.random.default_rng(0).integers(0, 256, imgs.shape).astype(np.uint8))
    out = tmp_path / "eval"
    args = [
        "--dataset",
        "digits",
        "--resolution",
        "32",
        "--metrics",
        "fid,kid,prdc",
        "--extractor",
        f"classifier:{lenet_ckpt}",
        "--k",
        "3",
        "--batch-size",
        "100",
        "--quiet",
        "--n-real",
        "800",
        "--n-fake",
        "800",
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    assert main(["eval", str(npz), *args, "--out-dir", str(out)]) == 0
    recs = RunDir(out).read_metrics()
    by = {r["metric"]: r for r in recs}
    assert set(by) == {"fid", "kid", "precision", "recall", "density", "coverage"}
    for r in recs:
        for key in ("extractor", "weights_sha256", "resize", "ref_split", "n_real", "n_fake", "seed", "dataset"):
            assert key in r, key
        assert r["n_real"] == r["n_fake"] == 800 and r["ref_split"] == "train"
    assert by["precision"]["k"] == 3
    assert (out / "results.json").exists() and (out / "summary.md").exists()
    # the same images (up to uint8 rounding) are near-identical in distribution; noise is far
    args[args.index("fid,kid,prdc")] = "fid"
    assert main(["eval", str(noise), *args, "--out-dir", str(tmp_path / "eval_noise")]) == 0
    noise_fid = {r["metric"]: r for r in RunDir(tmp_path / "eval_noise").read_metrics()}["fid"]["value"]
    assert by["fid"]["value"] < 0.05 * noise_fid
    assert by["recall"]["value"] > 0.9


def test_eval_unknown_metric_is_a_clear_cli_error(tmp_path, capsys):
    np.savez(tmp_path / "a.npz", images=np.zeros((4, 32, 32, 1), np.uint8))
    rc = main(
        ["eval", str(tmp_path / "a.npz"), "--dataset", "digits", "--metrics", "fdi", "--out-dir", str(tmp_path / "o")]
    )
    assert rc == 2
    assert "did you mean 'fid'" in capsys.readouterr().err


class LabelCopyG(torch.nn.Module):
    """A stand-in conditional "generator" that returns real images of the requested classes."""

    z_dim = 8
    num_classes = 10

    def __init__(self, images, labels):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        from ganlab.core.features.classifier import label_sampler

        self.sample = label_sampler(images, labels, seed=0)

    def forward(self, z, y=None):
        if y is None:
            y = torch.randint(0, 10, (len(z),))
        return self.sample(y)


def test_evaluate_generator_fitting_capacity_and_re(tmp_path):
    from ganlab.core.data import get_dataset

    ds = get_dataset("digits", resolution=32)
    b = ds.get_batch(np.arange(len(ds)))
    G = LabelCopyG(b["image"], b["label"].numpy())
    run = RunDir(tmp_path / "run")
    recs = evaluate(
        G,
        "digits",
        metrics=["fitting_capacity", "re", "fid"],
        resolution=32,
        extractor="random:lenet",
        n_fake=300,
        n_real=300,
        capacity_options={"epochs": 2, "samples_per_epoch": 1000},
        re_options={"n_fake": 256, "epochs": 1, "nf": 8, "latent_dim": 16},
        run_dir=run,
        progress=False,
    )
    by = {r["metric"]: r for r in recs}
    assert by["fitting_capacity"]["value"] > 0.5 and by["fitting_capacity"]["classifier"] == "lenet"
    assert by["fid"]["n_fake"] == 300 and by["fid"]["n_real"] == 300 and by["fid"]["quantize_fakes"] is True
    assert by["re"]["n_fake"] == 256 and by["re"]["value"] > 0
    assert len(run.read_metrics()) == len(recs)


def test_evaluate_rejects_unlabelled_stored_images_for_capacity(tmp_path):
    src = ArrayImages(np.zeros((8, 1, 32, 32), np.uint8), None, "x")
    with pytest.raises(ConfigError, match="labels"):
        evaluate(src, "digits", metrics=["fitting_capacity"], resolution=32, progress=False)


def test_eval_generator_export_file(tmp_path):
    """A G_ema.pt export (config + state dict) is rebuilt through the backbone registry and evaluated."""
    from ganlab.core.config import to_dict
    from ganlab.core.nn import build_backbone
    from ganlab.core.train.config import ExperimentConfig

    cfg = ExperimentConfig()
    cfg.model.backbone = "acgan_mnist_gold"
    torch.manual_seed(0)
    G, _ = build_backbone("acgan_mnist_gold")
    torch.save({"config": to_dict(cfg), "step": 7, "G": G.state_dict()}, tmp_path / "G_ema.pt")
    out = tmp_path / "eval"
    rc = main(
        [
            "eval",
            str(tmp_path / "G_ema.pt"),
            "--dataset",
            "digits",
            "--resolution",
            "32",
            "--metrics",
            "fid,is",
            "--extractor",
            "random:lenet",
            "--n-fake",
            "200",
            "--n-real",
            "200",
            "--quiet",
            "--no-cache",
            "--out-dir",
            str(out),
        ]
    )
    assert rc == 0
    recs = {r["metric"]: r for r in RunDir(out).read_metrics()}
    assert recs["fid"]["step"] == 7 and recs["fid"]["checkpoint"].endswith("G_ema.pt")
    assert recs["fid"]["n_fake"] == 200 and recs["fid"]["value"] > 0
    assert recs["is"]["splits"] == 10 and recs["is"]["dim"] == 10 and 1.0 <= recs["is"]["value"] <= 10.0
