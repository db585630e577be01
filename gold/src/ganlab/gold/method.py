"""The ``gold`` training method: the official semi-supervised ACGAN trainer with GOLD example re-weighting (eq. 5).

Per D step (n_dis = 1 in the paper), with real items from one stream of labelled items and the unlabelled pool:

- ``BCE(D(x_real), 1)`` on every real item, ``CE(C(x_real), y)`` on the labelled ones only;
- ``mean(w * BCE(D(x_fake), 0))`` and ``lambda_c * mean(w * CE(C(x_fake), y_fake))`` on generated samples, where
  ``w = d(G(z, c), c)^beta_d`` (eq. 5; eq. 3's generated branch, detached) once re-weighting is on and 1 before.
  As the official code, the fake class loss is taken at the batch positions of the labelled *real* items
  (``fake_class_mask: official``; with full labels that is every sample).

Per G step: ``BCE(D(G(z, c)), 1) + s * CE(C(G(z, c)), c)``, weighted by ``d^beta_g`` (beta_g = 0: none), with
``s = g_class_weight`` (``g_class_loss: official``, the default: 1, the official code leaves G's class loss unscaled)
or ``s = lambda_c`` (``g_class_loss: paper``: eq. 1 scales the class loss by lambda_c).

Deviations from the official code, each on purpose:
- weights are per sample (``weighting: per_sample``); the official ``(B, 1) * (B,)`` broadcast, which makes the
  adversarial fake term ``mean(loss) * mean(w)``, is ``weighting: official_batch_mean``;
- the GOLD of the weights comes from D's outputs of the loss forward itself, detached (``gold_forward: shared``: D in
  train mode on the same fake batch, as the official no-grad forward, but without a second forward; ``train`` is the
  official second forward, ``eval`` one in eval mode);
- the G step draws its own z and c (the trainer's); the official G step reuses the D step's;
- the official ``random_crop`` transform (resize to 1.1 x the size, random crop back) is applied to each real batch
  from the stored copy at the training resolution rather than from the native pixels.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from ganlab.core.errors import ConfigError, DatasetError
from ganlab.core.train.method import METHODS, Batch, Method
from ganlab.gold.estimator import (
    RunningBalance,
    check_labels,
    conditional_term,
    d_heads,
    sample_weights,
    weighted_mean,
)
from ganlab.gold.options import GoldOptions
from ganlab.gold.split import Split, class_balanced_split, epoch_layout, load_split, save_split

if TYPE_CHECKING:  # pragma: no cover
    from ganlab.core.train.trainer import Trainer

log = logging.getLogger(__name__)

__all__ = ["Gold", "GoldOptions", "check_inputs", "make_split", "random_crop", "resolve_steps", "stream_indices"]


# ---------------------------------------------------------------------------------------------- data helpers
def random_crop(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """The official ``random_crop`` transform, batched: resize to ``int(1.1 * size)``, crop a random ``size`` square."""
    b, _, h, w = x.shape
    base = int(h * 1.1)
    up = F.interpolate(x, size=(base, int(w * 1.1)), mode="bilinear", align_corners=False)
    oy = torch.randint(0, base - h + 1, (b,), generator=generator).to(x.device)
    ox = torch.randint(0, int(w * 1.1) - w + 1, (b,), generator=generator).to(x.device)
    rows = (oy[:, None] + torch.arange(h, device=x.device))[:, :, None]
    cols = (ox[:, None] + torch.arange(w, device=x.device))[:, None, :]
    out = up[torch.arange(b, device=x.device)[:, None, None], :, rows, cols]  # (B, h, w, C)
    return out.permute(0, 3, 1, 2).contiguous()


def _holdout(n: int, k: int, seed: int) -> np.ndarray:
    if k >= n:
        raise ConfigError(f"method.options.holdout={k} leaves no training items of {n}")
    return np.sort(np.random.default_rng([seed, 17]).permutation(n)[:k]) if k else np.zeros(0, dtype=np.int64)


def make_split(dataset: Any, options: GoldOptions, seed: int) -> tuple[Split, np.ndarray]:
    """(labelled / val / pool split, held-out test positions) of a training set under ``options``."""
    n = len(dataset)
    num_classes = int(getattr(dataset, "num_classes", 0) or 0)
    held = _holdout(n, options.holdout, seed)
    cand = np.setdiff1d(np.arange(n), held)
    if options.split_file:
        split = load_split(options.split_file)
        split.check(n)
        if np.isin(held, np.concatenate([split.labelled, split.val, split.pool])).any():
            raise DatasetError("the split file overlaps the held-out test items")
        return split, held
    if options.num_labelled is None and (options.label_fraction is None or options.label_fraction >= 1.0):
        return Split(cand, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)), held
    size = options.num_labelled if options.num_labelled is not None else int(options.label_fraction * cand.size)
    split = class_balanced_split(dataset.labels, num_classes, size, options.val_size, seed, candidates=cand)
    return split, held


def _split_seed(seed: int, options: GoldOptions) -> int:
    return int(seed if options.split_seed is None else options.split_seed)


def stream_indices(split: Split, options: GoldOptions) -> np.ndarray:
    """The dataset positions GAN training draws from: labelled items, plus the pool when it is used."""
    parts = [split.labelled, split.pool] if options.use_unlabelled else [split.labelled]
    return np.sort(np.concatenate(parts))


def _options_and_layout(cfg: Any, dataset: Any) -> tuple[GoldOptions, Any]:
    opts = cfg.method.options if isinstance(cfg.method.options, GoldOptions) else None
    if opts is None:
        from ganlab.core.config import from_dict

        opts = from_dict(GoldOptions, dict(cfg.method.options), where="method.options")
    if opts.epochs is None and opts.start_epoch is None:
        return opts, None
    if dataset is None:
        from ganlab.core.data import get_dataset

        d = cfg.data
        dataset = get_dataset(d.name, root=d.root, split=d.split, resolution=d.resolution, **d.options)
    split, _ = make_split(dataset, opts, _split_seed(cfg.seed, opts))
    return opts, epoch_layout(stream_indices(split, opts).size, cfg.train.batch_size, opts.per_epoch)


def resolve_steps(cfg: Any, dataset: Any = None) -> int:
    """``train.steps`` for ``method.options.epochs`` epochs: epochs x ceil(epoch items / batch size)."""
    opts, layout = _options_and_layout(cfg, dataset)
    return int(cfg.train.steps) if opts.epochs is None else opts.epochs * layout.steps


def reweight_start_step(cfg: Any, dataset: Any = None) -> int:
    """The step at which re-weighting starts: ``start_epoch`` (default: half the epochs) x steps per epoch."""
    opts, layout = _options_and_layout(cfg, dataset)
    start = opts.start_epoch if opts.start_epoch is not None else (opts.epochs or 0) // 2
    return 0 if layout is None else start * layout.steps


def check_inputs(
    cfg: Any, dataset: Any, G: torch.nn.Module, D: torch.nn.Module, options: GoldOptions, device: Any = "cpu"
) -> tuple[Split, np.ndarray]:
    """Every input check of a gold run, before any training: NS loss, a class-conditional G, a labelled dataset with
    labels in [0, num_classes), a D with a class head of that size (one eval-mode forward of two items). Returns the
    (split, held-out positions) of the run."""
    if cfg.loss.name != "ns":
        raise ConfigError(
            f"GOLD's marginal term is the logit log D/(1 - D) of a non-saturating D; set loss.name: ns "
            f"(got {cfg.loss.name!r})"
        )
    num_classes = int(getattr(G, "num_classes", 0) or 0)
    if not num_classes:
        raise ConfigError("GOLD needs a class-conditional generator (num_classes > 0) and a labelled dataset")
    if not int(getattr(dataset, "num_classes", 0) or 0):
        raise DatasetError(f"GOLD needs class labels, but dataset {getattr(dataset, 'name', '?')!r} is unlabelled")
    split, held = make_split(dataset, options, _split_seed(cfg.seed, options))
    check_labels(dataset.labels[split.labelled], num_classes, "labels of the labelled training items")
    batch = dataset.get_batch(split.labelled[:2])
    was = D.training
    D.eval()
    try:
        with torch.no_grad():
            x = batch["image"].to(device)
            d_heads(D(x, y=batch["label"].to(device)), num_classes)
    finally:
        D.train(was)
    return split, held


def _run_path(run: Any) -> Path | None:
    rd = getattr(run, "run_dir", None)
    return None if rd is None else Path(getattr(rd, "path", rd))


def _is_main(run: Any) -> bool:
    acc = getattr(run, "accelerator", None)
    return True if acc is None else bool(acc.is_main_process)


# ------------------------------------------------------------------------------------------------- the method
@METHODS.register("gold")
class Gold(Method):
    """Semi-supervised ACGAN with GOLD re-weighting (Mo et al. 2019, §3.2 eq. 5); ``reweight: false`` = baseline."""

    name = "gold"
    Options = GoldOptions

    def __init__(self, options: GoldOptions | None = None) -> None:
        super().__init__(options)
        self.options.validate()
        self.balance = RunningBalance()
        self.split: Split | None = None
        self.held: np.ndarray | None = None
        self.labelled_mask: torch.Tensor | None = None
        self.steps_per_epoch = 1
        self.start_step = 0
        self.best: dict[str, Any] | None = None
        self.history: list[dict[str, Any]] = []
        self._tests: dict[str, tuple[torch.Tensor, np.ndarray]] | None = None

    # ------------------------------------------------------------------------------------------------ set-up
    def setup(self, run: Trainer) -> None:
        opts = self.options
        ds = run.dataset
        self.split, self.held = check_inputs(run.cfg, ds, run.unwrap(run.G), run.unwrap(run.D), opts, run.device)
        mask = np.zeros(len(ds), dtype=bool)
        mask[self.split.labelled] = True
        self.labelled_mask = torch.from_numpy(mask).to(run.device)
        self.stream = stream_indices(self.split, opts)
        layout = epoch_layout(self.stream.size, run.cfg.train.batch_size, opts.per_epoch)
        self.steps_per_epoch = layout.steps
        total = run.cfg.train.steps
        if opts.epochs is not None and total != opts.epochs * layout.steps:
            raise ConfigError(
                f"method.options.epochs={opts.epochs} at {layout.steps} steps per epoch ({layout.items} items, batch "
                f"{run.cfg.train.batch_size}) needs train.steps={opts.epochs * layout.steps}, not {total}; "
                "`ganlab gold train` and ganlab.gold.train() set it for you (ganlab.gold.resolve_steps)"
            )
        if opts.start_epoch is not None:
            self.start_step = opts.start_epoch * layout.steps
        elif opts.epochs is not None:
            self.start_step = (opts.epochs // 2) * layout.steps  # official: plain loss for epochs 1 .. epochs // 2
        else:
            self.start_step = total // 2  # a run counted in steps: re-weight its second half
        if opts.reweight and self.start_step >= total:
            raise ConfigError(
                f"re-weighting would start at step {self.start_step}, at or beyond the last step ({total}): set "
                "method.options.start_epoch below the number of epochs, or reweight: false for the baseline"
            )
        if opts.eval_every or opts.select_best:
            self._tests = self._test_sets(run)
        path = _run_path(run)
        if path is not None and _is_main(run):
            save_split(self.split, path / "split.npz")

    def _test_sets(self, run: Trainer) -> dict[str, tuple[torch.Tensor, np.ndarray]]:
        ds = run.dataset
        tests: dict[str, tuple[torch.Tensor, np.ndarray]] = {}
        if self.held.size:
            b = ds.get_batch(self.held)
            tests["test"] = (b["image"], b["label"].numpy())
        elif self.options.test_split:
            from ganlab.core.data import get_dataset

            d = run.cfg.data
            test = get_dataset(d.name, root=d.root, split=self.options.test_split, resolution=d.resolution, **d.options)
            b = test.get_batch(np.arange(len(test)))
            tests["test"] = (b["image"], b["label"].numpy())
        if self.split.val.size:
            b = ds.get_batch(self.split.val)
            tests["val"] = (b["image"], b["label"].numpy())
        if self.options.select_best and "val" not in tests:
            raise ConfigError(
                "method.options.select_best needs a validation set (a semi-supervised split, val_size > 0)"
            )
        if not tests:
            raise ConfigError("fitting capacity during training needs a test set: set test_split or holdout")
        return tests

    def sampler(self, run: Trainer):
        from ganlab.core.data.samplers import InfiniteSampler

        return InfiniteSampler(
            len(run.dataset), seed=run.cfg.seed, rank=run.rank, world_size=run.world_size, indices=self.stream
        )

    # --------------------------------------------------------------------------------------------------- data
    def reweighting(self, run: Trainer) -> bool:
        """Whether the step being taken uses the eq.-5 weights (after ``start_epoch`` plain epochs)."""
        return bool(self.options.reweight) and run.step >= self.start_step

    def next_real(self, run: Trainer) -> Batch:
        batch = run.next_batch("main")
        if self.options.transform == "random_crop" and batch["image"].ndim == 4:
            batch["image"] = random_crop(batch["image"])
        batch["labelled"] = self.labelled_mask[batch["index"].to(self.labelled_mask.device)].to(run.device)
        return batch

    # ------------------------------------------------------------------------------------------------- losses
    def _gold_heads(self, run: Trainer, fake_x: torch.Tensor, adv: torch.Tensor, cls: torch.Tensor, y: torch.Tensor):
        mode = self.options.gold_forward
        if mode == "shared" or not self.reweighting(run):  # unweighted steps only log GOLD: no second forward
            return adv.detach(), cls.detach()
        d = run.D
        with torch.no_grad():
            if mode == "train":
                return d_heads(d(fake_x, y=y), run.num_classes)
            module = run.unwrap(d)
            was = module.training
            module.eval()
            try:
                return d_heads(module(fake_x, y=y), run.num_classes)
            finally:
                module.train(was)

    def gold_of(
        self, run: Trainer, adv: torch.Tensor, cls: torch.Tensor, y: torch.Tensor, update: bool = True
    ) -> dict[str, torch.Tensor]:
        """Marginal and conditional terms and the estimator (eq. 3, or eq. 4 with the running sigma ratio, which D's
        fake batches update)."""
        marg = adv.float()
        cond = conditional_term(cls, y, eps=self.options.log_eps)
        ratio = 1.0
        if self.options.estimator == "balanced":
            if update:
                if getattr(run, "world_size", 1) > 1:  # the moments of the global batch, in rank order, on every rank
                    self.balance.update(run.accelerator.gather(marg.detach()), run.accelerator.gather(cond.detach()))
                else:
                    self.balance.update(marg, cond)
            ratio = self.balance.ratio
        return {"marginal": marg, "conditional": cond, "gold": marg + ratio * cond}

    def d_loss(self, run: Trainer, real: Batch, fake: Batch) -> tuple[torch.Tensor, dict[str, Any]]:
        opts = self.options
        fake_x = fake["image"].detach()
        y_f = fake["label"]
        adv_r, cls_r = d_heads(self.d_forward(run, real), run.num_classes)
        adv_f, cls_f = d_heads(self.d_forward(run, {**fake, "image": fake_x}), run.num_classes)
        mask = real["labelled"]
        loss_real = run.loss.d_real(adv_r).mean()
        n_lab = mask.sum()
        y_r = torch.where(mask, real["label"], torch.zeros_like(real["label"]))  # pool labels are never read
        ce_real = F.cross_entropy(cls_r.float(), y_r, reduction="none")
        loss_c_real = (ce_real * mask).sum() / n_lab.clamp(min=1)

        g_adv, g_cls = self._gold_heads(run, fake_x, adv_f, cls_f, y_f)
        terms = self.gold_of(run, g_adv, g_cls, y_f)
        on = self.reweighting(run)
        w = sample_weights(terms["gold"], opts.beta_d) if on else torch.ones_like(terms["gold"])
        loss_fake = weighted_mean(run.loss.d_fake(adv_f), w, opts.weighting)
        ce_fake = F.cross_entropy(cls_f.float(), y_f, reduction="none") * w
        if opts.fake_class_mask == "official":
            loss_c_fake = (ce_fake * mask).sum() / n_lab.clamp(min=1)
        else:
            loss_c_fake = ce_fake.mean()
        loss = loss_real + loss_fake + loss_c_real + opts.lambda_c * loss_c_fake
        logs = {
            "d_loss_real": loss_real.detach(),
            "d_loss_fake": loss_fake.detach(),
            "c_loss_real": loss_c_real.detach(),
            "c_loss_fake": loss_c_fake.detach(),
            "gold_mean": terms["gold"].mean(),
            "gold_marginal": terms["marginal"].mean(),
            "gold_conditional": terms["conditional"].mean(),
            "weight_mean": w.mean(),
            "reweighting": float(on),
        }
        return loss, logs

    def g_loss(self, run: Trainer, fake: Batch) -> tuple[torch.Tensor, dict[str, Any]]:
        opts = self.options
        adv, cls = d_heads(self.d_forward(run, fake), run.num_classes)
        y = fake["label"]
        loss_adv = run.loss.g(adv)
        loss_cls = F.cross_entropy(cls.float(), y, reduction="none")
        if opts.beta_g > 0 and self.reweighting(run):
            w = sample_weights(self.gold_of(run, adv.detach(), cls.detach(), y, update=False)["gold"], opts.beta_g)
            la, lc = weighted_mean(loss_adv, w, opts.weighting), weighted_mean(loss_cls, w, "per_sample")
        else:
            la, lc = loss_adv.mean(), loss_cls.mean()
        loss = la + opts.g_class_scale * lc
        return loss, {"g_loss_adv": la.detach(), "g_loss_cls": lc.detach()}

    # ---------------------------------------------------------------------------------------------- schedule
    def on_step_end(self, run: Trainer) -> None:
        every = self.options.eval_every
        spe = self.steps_per_epoch
        if every and run.step % spe == 0 and (run.step // spe) % every == 0:
            self.evaluate(run, epoch=run.step // spe)

    def evaluate(self, run: Trainer, epoch: int) -> dict[str, Any] | None:
        """Fitting capacity of the current G on the test (and validation) set; keeps the best G/D if asked."""
        if not _is_main(run) or self._tests is None:
            return None
        from ganlab.gold.capacity import fitting_capacity_multi, generator_sampler

        G = run.G_ema
        sampler = generator_sampler(G, seed=run.cfg.seed * 1009 + epoch, device=run.device)
        rec = fitting_capacity_multi(
            sampler,
            self._tests,
            num_classes=run.num_classes,
            device=run.device,
            seed=run.cfg.seed,
            **dict(self.options.capacity),
        )
        protocol = rec.pop("protocol")
        rec = {"epoch": epoch, "step": run.step, **rec}
        self.history.append(rec)
        run.run_dir.log_metrics({"event": "capacity", **rec, "protocol": protocol})
        if (
            self.options.select_best
            and "cap_val" in rec
            and (self.best is None or rec["cap_val"] >= self.best["cap_val"])
        ):
            # deep copies: a state_dict shares storage with the live parameters (the official "best" model is, in
            # effect, the final one for that reason)
            self.best = {
                "epoch": epoch,
                "cap_val": rec["cap_val"],
                "cap_test": rec.get("cap_test"),
                "G": copy.deepcopy(run.unwrap(run.G).state_dict()),
                "D": copy.deepcopy(run.unwrap(run.D).state_dict()),
            }
        return rec

    def restore_best(self, run: Trainer) -> dict[str, Any] | None:
        """Load the best (validation fitting capacity) G and D into the run; returns the best record (or None)."""
        if self.best is None:
            return None
        run.unwrap(run.G).load_state_dict(self.best["G"])
        run.unwrap(run.D).load_state_dict(self.best["D"])
        if run.ema is not None:
            run.ema.update(run.unwrap(run.G), -1)
        return {k: v for k, v in self.best.items() if k not in ("G", "D")}

    # ------------------------------------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {"balance": self.balance.state_dict(), "best": self.best, "history": list(self.history)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "balance" in state:
            self.balance.load_state_dict(state["balance"])
        self.best = state.get("best")
        self.history = list(state.get("history", []))

    # ------------------------------------------------------------------------------------------------ scores
    def instance_scores(self, run: Trainer) -> dict[str, np.ndarray]:
        """GOLD of every training item under the final D (eval mode): eq. 3's real branch with the dataset's labels
        (``gold_real``), eq. 8 (``gold_unlabelled``) and the two terms (``marginal``, ``conditional``)."""
        from ganlab.gold.scoring import score_real

        s = score_real(run.unwrap(run.D), run.dataset, device=run.device, num_classes=run.num_classes)
        keys = ("gold_real", "gold_unlabelled", "marginal", "conditional", "entropy")
        return {k: s[k] for k in keys if k in s}
