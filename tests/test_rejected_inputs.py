"""Every rejected input is one clear line on stderr, exit status 2, and leaves the working folder exactly as it was
(no empty runs/<name>/, samples/ or out/ folders, no config.yaml of a run that never started)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from ganlab.core.cli import main

TOY = ["train", "toy_mlp_gaussians25", "--scale", "smoke", "train.progress=false"]

BAD = {
    # train
    "unknown config": (["train", "demoo"], "did you mean 'demo'"),
    "unknown key": ([*TOY, "train.stpes=3"], "train.stpes"),
    "wrong type": ([*TOY, "train.steps=many"], "train.steps"),
    "zero steps": ([*TOY, "train.steps=0"], "train.steps must be >= 1"),
    "negative checkpoint interval": ([*TOY, "train.checkpoint_every=-1"], "train.checkpoint_every must be >= 0"),
    "negative log interval": ([*TOY, "train.log_every=-5"], "train.log_every must be >= 0"),
    "keep no checkpoint": ([*TOY, "train.keep_last=0"], "train.keep_last must be >= 1"),
    "batch larger than the dataset": ([*TOY, "train.batch_size=1000000"], "is larger than the dataset"),
    "batch not divisible": ([*TOY, "optim.d_accum=3"], "divisible"),
    "unknown backbone": ([*TOY, "model.backbone=dcgna"], "did you mean"),
    "unknown dataset": ([*TOY, "data.name=gaussians52"], "did you mean 'gaussians25'"),
    "dataset not on disk": ([*TOY, "data.name=cifar10"], "not on disk"),
    "model does not fit data": ([*TOY, "model.backbone=dcgan"], "expected samples of shape"),
    "resume a run that does not exist": ([*TOY, "--resume"], "nothing to resume"),
    "resume from a missing file": ([*TOY, "--resume-from", "nope.pt"], "no such checkpoint"),
    "stop-at zero": ([*TOY, "--stop-at", "0"], "--stop-at must be"),
    "unknown method": ([*TOY, "method.name=diagna"], "unknown method"),
    "Dia-GAN window cannot fit": (
        [*TOY, "train.steps=30", "method.name=diagan", "method.options.phase1_steps=20", "method.options.window=50"],
        "gives 0 LDR records and the window",
    ),
    "Dia-GAN bad k": ([*TOY, "method.name=diagan", "method.options.k=-1"], "k"),
    # sample
    "sample zero": (["sample", "runs/nothing", "--out-file", "x.png", "-n", "0"], "-n/--num must be >= 1"),
    "sample negative": (["sample", "runs/nothing", "--out-file", "x.png", "-n", "-3"], "-n/--num must be >= 1"),
    "sample batch zero": (
        ["sample", "runs/nothing", "--out-file", "x.png", "--batch-size", "0"],
        "--batch-size must be",
    ),
    "sample a missing run": (["sample", "runs/nothing", "--out-file", "x.png"], "does not exist"),
    # eval
    "eval a missing run": (["eval", "runs/nothing", "--dataset", "mnist5k"], "does not exist"),
    "eval unknown metric": (["eval", "runs", "--dataset", "mnist5k", "--metrics", "fdi"], "did you mean 'fid'"),
    # data, features, repro
    "data show unknown": (["data", "show", "mnist_5k"], "did you mean 'mnist5k'"),
    "data show bad option": (["data", "show", "colored_mnist", "-o", "rho=2"], "rho=2.0 is outside"),
    "features unknown extractor": (
        ["features", "extract", "--dataset", "digits", "--extractor", "incepton", "--out-file", "f.npy"],
        "did you mean",
    ),
    "repro unknown": (["repro", "run", "diagan/figure3"], "unknown experiment"),
    "repro nothing named": (["repro", "run"], "name experiments"),
    "repro unknown, near a name": (["repro", "run", "diagan/tabel2"], "unknown experiment"),
    "diagan train wrong method": (["diagan", "train", "demo", "--scale", "smoke", "method.name=vanilla"], "diagan"),
    # instance selection
    "select unknown scorer": (["instance-selection", "select", "digits", "--scorer", "gauss"], "did you mean"),
    "select bad retention": (["instance-selection", "select", "digits", "--retention-ratio", "0"], "retention"),
    "select unknown dataset": (["instance-selection", "select", "digitz", "--scorer", "uniform"], "did you mean"),
    "show a missing index": (["instance-selection", "show", "nope.npz"], "nope.npz"),
}


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize(("argv", "message"), list(BAD.values()), ids=list(BAD))
def test_rejected_input_is_one_line_and_writes_nothing(argv, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GANLAB_CACHE_DIR", str(tmp_path.parent / f"{tmp_path.name}_cache"))
    monkeypatch.setenv("GANLAB_DATA", str(tmp_path / "data"))
    (tmp_path / "runs").mkdir()
    before = listing(tmp_path)
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(argv)
    text = err.getvalue()
    assert code == 2, text
    assert message in text, text
    assert "Traceback" not in text and len(text.strip().splitlines()) == 1, text
    assert listing(tmp_path) == before
