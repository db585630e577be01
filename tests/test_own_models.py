"""Dia-GAN and instance selection on a user's plain nn.Sequential G/D and a plain torch TensorDataset, inside the
ganlab trainer and from the user's own loop: both paths give the same numbers, and bad models fail before step 1."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ganlab.core.nn import ContractError, as_discriminator, as_generator
from ganlab.core.train import Trainer
from ganlab.core.train.config import load_experiment
from ganlab.diagan.ldr import LDRStatistics, compute_scores, evaluate_ldr, ldr_statistics
from ganlab.diagan.method import DiaGAN, DiaGANOptions
from ganlab.instance_selection.api import SelectionConfig, select_instances
from ganlab.instance_selection.methods import InstanceSelection
from ganlab.instance_selection.scoring import score_instances
from ganlab.instance_selection.selection import select

SHAPE = (1, 8, 8)


def plain_models(seed: int = 0) -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(seed)
    g = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 64), nn.Tanh(), nn.Unflatten(1, SHAPE))
    d = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
    return g, d


def data(n: int = 96) -> torch.utils.data.TensorDataset:
    g = torch.Generator().manual_seed(1)
    return torch.utils.data.TensorDataset(torch.rand(n, *SHAPE, generator=g) * 2 - 1, torch.arange(n) % 3)


def cfg(steps: int, *extra: str):
    return load_experiment(
        None, ["data.name=mine", f"train.steps={steps}", "train.batch_size=16", "train.progress=false", *extra]
    )


def test_diagan_on_plain_modules_and_the_same_scores_from_the_functions(tmp_path):
    g, d = plain_models()
    method = DiaGAN(DiaGANOptions(phase1_steps=8, window=3, record_every=2, k=1.0))
    trainer = Trainer(cfg(12), method, run_dir=tmp_path / "run", dataset=data(),
                      models=(as_generator(g, z_dim=16), as_discriminator(d)))  # fmt: skip
    trainer.fit()
    assert method.phase == 2 and trainer.cfg.model.backbone == "custom"
    assert np.isclose(method.probs.sum(), 1.0) and len(method.probs) == 96
    # the user's-loop path: the same records through the plain functions give the same scores
    steps, records = method.tracker.window_records(before=8)
    assert steps.tolist() == [2, 4, 6]
    ldrm, ldrv = ldr_statistics(records)
    own = compute_scores(LDRStatistics(ldrm, ldrv, records[-1].astype(np.float64), steps), k=1.0)
    np.testing.assert_array_equal(own.probs, method.probs)
    np.testing.assert_array_equal(own.score, method.scores.score)
    # LDRM is the mean of the recorded logits, and a record is D's raw logit of every instance
    np.testing.assert_allclose(ldrm, records.astype(np.float64).mean(0), rtol=1e-12)
    D = trainer.unwrap(trainer.D).eval()
    now = evaluate_ldr(lambda b: D(b["image"])["adv"], trainer.dataset, batch_size=40)
    with torch.no_grad():
        np.testing.assert_allclose(now, D(data().tensors[0])["adv"].numpy(), rtol=1e-5, atol=1e-6)
    scores = method.instance_scores(trainer)
    np.testing.assert_array_equal(scores["ldrm"], method.scores.ldrm)


def test_instance_selection_on_plain_modules_matches_the_functions(tmp_path):
    ds = data()
    images, labels = ds.tensors
    features = nn.functional.avg_pool2d(images, 2).flatten(1).numpy()  # 16-d stand-in embedding
    from ganlab.core.data import from_torch

    gds = from_torch(ds, name="mine")
    sel = select_instances(gds, SelectionConfig(scorer="gaussian", retention_ratio=50), features=features)
    own = select(score_instances(features, labels.numpy(), "gaussian"), labels.numpy(), retention_ratio=50)
    np.testing.assert_array_equal(np.sort(sel.indices), np.sort(own))
    g, d = plain_models()
    trainer = Trainer(cfg(3), InstanceSelection(selection=sel), run_dir=tmp_path / "run", dataset=gds,
                      models=(as_generator(g, z_dim=16), as_discriminator(d)))  # fmt: skip
    drawn = trainer.sampler_of("main").next_indices(200)
    assert set(np.asarray(drawn).tolist()) <= set(own.tolist())  # the GAN only ever sees kept instances
    trainer.fit()


def test_a_bad_user_model_fails_before_step_one_in_a_method_run(tmp_path):
    g, _ = plain_models()
    d_plain = nn.Sequential(nn.Flatten(), nn.Linear(64, 1), nn.Flatten(0))  # not wrapped: takes no y=/feat=
    with pytest.raises(ContractError, match=r"D: expected forward\(x, y=None, feat=None\).*as_discriminator") as info:
        Trainer(cfg(4), DiaGAN(DiaGANOptions(phase1_steps=2, window=2, record_every=1)), run_dir=tmp_path / "r",
                dataset=data(), models=(as_generator(g, z_dim=16), d_plain))  # fmt: skip
    assert "\n" not in str(info.value) and not (tmp_path / "r").exists()
    with pytest.raises(ContractError, match="z_dim"):
        Trainer(cfg(4), run_dir=tmp_path / "r", dataset=data(), models=plain_models())
    assert not (tmp_path / "r").exists()


# ------------------------------------------------------------------------ a run on your own modules rebuilds itself
USER_MODULE = """
import torch
from torch import nn


class UserG(nn.Module):
    def __init__(self, z_dim=16, num_classes=10, width=32):
        super().__init__()
        self.z_dim, self.num_classes, self.width = z_dim, num_classes, width
        self.embed = nn.Embedding(num_classes, z_dim)
        self.net = nn.Sequential(nn.Linear(z_dim, width), nn.ReLU(), nn.Linear(width, 1024), nn.Tanh())

    def forward(self, z, y):
        return self.net(z + self.embed(y)).view(-1, 1, 32, 32)


class UserD(nn.Module):
    def __init__(self, num_classes=10, width=32):
        super().__init__()
        self.num_classes, self.width = num_classes, width
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(1024, width), nn.LeakyReLU(0.2))
        self.adv, self.cls = nn.Linear(width, 1), nn.Linear(width, num_classes)

    def forward(self, x):
        h = self.body(x)
        return self.adv(h), self.cls(h)
"""

FRESH = """
import json, sys
from ganlab.core.cli import main
run, out = sys.argv[1], sys.argv[2]
commands = {
    "sample": ["sample", run, "--out-file", out + "/s.npz", "-n", "20"],
    "drs": ["sample", run, "--out-file", out + "/drs.npz", "-n", "20", "--drs", "--drs-burn-in", "2",
            "--batch-size", "64"],
    "eval": ["eval", run, "--dataset", "digits", "--resolution", "32", "--metrics", "fid",
             "--extractor", "random:lenet", "--n-fake", "40", "--n-real", "40", "--out-dir", out + "/ev",
             "--no-cache", "--quiet"],
    "gold scores": ["gold", "scores", run],
    "gold rejection": ["gold", "rejection", run, "-n", "20", "--n-stats", "200", "--out-dir", out + "/rej"],
}
if len(sys.argv) > 3:
    commands["diagan scores"] = ["diagan", "scores", run, "-n", "8", "--n-hist", "8"]
print(json.dumps({name: main(argv) for name, argv in commands.items()}))
"""


def _user_run(tmp_path, *, ema: bool, diagan: bool):
    import importlib
    import sys

    pkg = tmp_path / "userpkg"
    pkg.mkdir(exist_ok=True)
    (pkg / "user_models_mod.py").write_text(USER_MODULE)
    sys.path.insert(0, str(pkg))
    try:
        mod = importlib.import_module("user_models_mod")
        G = as_generator(mod.UserG(width=24), z_dim=16, num_classes=10)
        D = as_discriminator(mod.UserD(width=24), heads=("adv", "cls"), num_classes=10)
        extra = ["data.name=digits", "data.resolution=32", f"ema.enabled={str(ema).lower()}", "train.batch_size=32"]
        c = load_experiment(None, ["train.steps=4", "train.progress=false", "train.sample_every=0", *extra])
        method = DiaGAN(DiaGANOptions(phase1_steps=3, window=2, record_every=1)) if diagan else None
        Trainer(c, method, run_dir=tmp_path / "run", models=(G, D)).fit()
    finally:
        sys.path.remove(str(pkg))
        sys.modules.pop("user_models_mod", None)
    return pkg, tmp_path / "run"


def _fresh(script: str, *args, pythonpath: str):
    import os
    import subprocess
    import sys

    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": pythonpath}
    return subprocess.run([sys.executable, "-c", script, *map(str, args)], env=env, capture_output=True, text=True,
                          timeout=300, cwd=args[1])  # fmt: skip


@pytest.mark.slow  # ~30 s: a training run, then every command in a fresh Python
@pytest.mark.parametrize("ema", [False, True], ids=["no_ema", "ema"])
def test_a_run_on_your_own_modules_rebuilds_itself_in_a_fresh_process(tmp_path, ema):
    import json
    import os

    pkg, run = _user_run(tmp_path, ema=ema, diagan=ema)  # the EMA run is a Dia-GAN run (its score command)
    record = (run / "config.yaml").read_text()
    assert "user_models_mod:UserG" in record and "width: 24" in record  # the class and its real arguments
    out = tmp_path / "out"
    out.mkdir()
    proc = _fresh(FRESH, run, out, *(["diagan"] if ema else []),
                  pythonpath=os.pathsep.join([str(pkg), os.environ.get("PYTHONPATH", "")]))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    codes = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(codes.values()) == {0}, (codes, proc.stderr)
    with np.load(out / "s.npz") as z:
        assert z[z.files[0]].shape[0] == 20
    assert (out / "drs.npz").is_file() and (out / "ev" / "metrics.jsonl").is_file()
    assert (run / "scores" / "scores.npz").is_file() and any((out / "rej").iterdir())
    # the same weights as in the checkpoint: G_ema when the run kept one, else G
    import sys

    from ganlab.core.train.checkpoint import latest_checkpoint, load_models, read_checkpoint

    sys.path.insert(0, str(pkg))
    try:
        G, _, _, _ = load_models(latest_checkpoint(run), critic="__none__")
        state = read_checkpoint(latest_checkpoint(run))
        want = state["ema"]["model"] if ema else state["models"]["G"]
        assert state.get("ema") is not None if ema else state.get("ema") is None
        for k, v in G.state_dict().items():
            torch.testing.assert_close(v, want[k], rtol=0, atol=0)
    finally:
        sys.path.remove(str(pkg))
        sys.modules.pop("user_models_mod", None)
    # elsewhere, without the user's module on the path: one clear line that names the fix, and no G_ema.pt advice
    proc = _fresh("import sys; from ganlab.core.cli import main; sys.exit(main(['sample', sys.argv[1], '--out-file', "
                  "sys.argv[2] + '/x.png']))", run, out, pythonpath=os.environ.get("PYTHONPATH", ""))  # fmt: skip
    assert proc.returncode == 2 and "user_models_mod" in proc.stderr and "PYTHONPATH" in proc.stderr, proc.stderr
    assert "G_ema.pt" not in proc.stderr and "Delete" not in proc.stderr and "Traceback" not in proc.stderr
