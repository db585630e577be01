"""Sampling from a trained IC-GAN: conditionings from stored instances, sample sheets, class/instance swaps.

Every sample is ``G(z, y, h)`` with z ~ N(0, I), h a stored instance drawn uniformly with replacement and, for a
class-conditional G, y the label of a random neighbour of that instance (as in training) unless labels are given.
All randomness comes from one seeded generator, so a seed fixes the samples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ganlab.core.errors import ShapeError
from ganlab.icgan.instances import StoredInstances


def _class_input(G: Any) -> bool:
    uses = getattr(G, "uses_class_input", None)
    return bool(uses) if uses is not None else bool(getattr(G, "num_classes", 0))


def check_generator(G: Any, stored: StoredInstances) -> None:
    feat_dim = int(getattr(G, "feat_dim", 0) or 0)
    if feat_dim != stored.dim:
        raise ShapeError(
            f"the generator takes {feat_dim}-d instance features but the stored instances are {stored.dim}-d; "
            "use features from the extractor the model was trained with"
        )


class Sampler:
    """``sampler(k) -> images``: successive batches of IC-GAN samples for one seed (streams into metrics)."""

    def __init__(
        self,
        G: torch.nn.Module,
        stored: StoredInstances,
        *,
        seed: int = 0,
        device: Any = "cpu",
        labels: Sequence[int] | np.ndarray | None = None,
        z_var: float = 1.0,
    ) -> None:
        check_generator(G, stored)
        self.G, self.stored, self.device = G.eval(), stored, torch.device(device)
        self.rng = np.random.default_rng(seed)
        self.gen = torch.Generator().manual_seed(int(seed))
        self.cc = _class_input(G)
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        self.z_std = float(np.sqrt(z_var))
        self.drawn = 0
        self.last: dict[str, np.ndarray] = {}

    @torch.no_grad()
    def __call__(self, k: int) -> torch.Tensor:
        pos, nb_labels = self.stored.draw(k, self.rng)
        z = (torch.randn(k, self.G.z_dim, generator=self.gen) * self.z_std).to(self.device)
        y = None
        if self.cc:
            if self.labels is not None:
                lab = self.labels[(self.drawn + np.arange(k)) % len(self.labels)]
            elif nb_labels is not None:
                lab = nb_labels
            else:
                raise ShapeError("a class-conditional G needs labels or stored instances with neighbour labels")
            y = torch.from_numpy(lab).to(self.device)
            self.last["label"] = lab
        self.last["instance"] = pos
        self.drawn += k
        return self.G(z, y=y, feat=self.stored.conditioning(pos, self.device)).float().clamp(-1, 1)


def generate(
    G: torch.nn.Module,
    stored: StoredInstances,
    n: int,
    *,
    seed: int = 0,
    batch_size: int = 256,
    device: Any = "cpu",
    labels: Sequence[int] | np.ndarray | None = None,
) -> dict[str, torch.Tensor]:
    """``n`` samples ``{"image", "instance"(, "label")}`` with conditionings drawn from ``stored``."""
    s = Sampler(G, stored, seed=seed, device=device, labels=labels)
    images, inst, lab = [], [], []
    for i in range(0, n, batch_size):
        images.append(s(min(batch_size, n - i)).cpu())
        inst.append(s.last["instance"])
        if "label" in s.last:
            lab.append(s.last["label"])
    out = {"image": torch.cat(images), "instance": torch.from_numpy(np.concatenate(inst))}
    if lab:
        out["label"] = torch.from_numpy(np.concatenate(lab))
    return out


@torch.no_grad()
def conditioned_samples(
    G: torch.nn.Module,
    features: torch.Tensor,
    per_instance: int,
    *,
    labels: torch.Tensor | None = None,
    seed: int = 0,
    device: Any = "cpu",
) -> torch.Tensor:
    """(M * per_instance) samples, ``per_instance`` different z for each of the M feature rows (row-major)."""
    features = torch.as_tensor(features, dtype=torch.float32)
    m = features.shape[0]
    gen = torch.Generator().manual_seed(int(seed))
    z = torch.randn(m * per_instance, G.z_dim, generator=gen).to(device)
    h = features.repeat_interleave(per_instance, 0).to(device)
    y = None
    if _class_input(G):
        if labels is None:
            raise ShapeError("a class-conditional G needs one label per conditioning row")
        y = torch.as_tensor(labels).long().repeat_interleave(per_instance, 0).to(device)
    out = [
        G(z[i : i + 256], y=None if y is None else y[i : i + 256], feat=h[i : i + 256]) for i in range(0, len(z), 256)
    ]
    return torch.cat(out).float().clamp(-1, 1).cpu()


def _fit_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    if images.shape[1] == channels:
        return images
    if images.shape[1] == 1:
        return images.expand(-1, channels, -1, -1)
    return images.mean(1, keepdim=True).expand(-1, channels, -1, -1)


def _fit_size(images: torch.Tensor, size: int) -> torch.Tensor:
    if images.shape[-1] == size:
        return images
    return torch.nn.functional.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)


def instance_sheet(
    G: torch.nn.Module,
    features: torch.Tensor,
    instance_images: torch.Tensor | None,
    per_instance: int = 3,
    *,
    labels: torch.Tensor | None = None,
    seed: int = 0,
    device: Any = "cpu",
) -> torch.Tensor:
    """Figure 1 layout: one row per conditioning instance, its image first (when given), then samples.

    Returns the sheet's images (rows * (1 + per_instance), C, H, W) in row order; write with ``images_to_png``.
    """
    samples = conditioned_samples(G, features, per_instance, labels=labels, seed=seed, device=device)
    m = features.shape[0]
    samples = samples.view(m, per_instance, *samples.shape[1:])
    if instance_images is None:
        return samples.reshape(-1, *samples.shape[2:])
    first = _fit_size(_fit_channels(torch.as_tensor(instance_images).float(), samples.shape[2]), samples.shape[-1])
    return torch.cat([first[:, None], samples], 1).reshape(-1, *samples.shape[2:])


def class_swap_sheet(
    G: torch.nn.Module,
    features: torch.Tensor,
    classes: Sequence[int],
    *,
    seed: int = 0,
    device: Any = "cpu",
) -> torch.Tensor:
    """Figure 1b: each row one instance, each column one class (same z per column), for a class-conditional G."""
    features = torch.as_tensor(features, dtype=torch.float32)
    m, c = features.shape[0], len(classes)
    gen = torch.Generator().manual_seed(int(seed))
    z = torch.randn(1, c, G.z_dim, generator=gen).expand(m, c, G.z_dim).reshape(m * c, -1).to(device)
    h = features.repeat_interleave(c, 0).to(device)
    y = torch.as_tensor(list(classes)).long().repeat(m).to(device)
    with torch.no_grad():
        return G(z, y=y, feat=h).float().clamp(-1, 1).cpu()


def images_png(images: torch.Tensor, per_row: int) -> bytes:
    from ganlab.core.images import images_to_png

    return images_to_png(images, nrow=per_row)


SampleFn = Callable[[int], torch.Tensor]


def sample_fn(
    G: torch.nn.Module, stored: Any, seed: int, device: Any, labels: np.ndarray | None = None, label_p: Any = None
) -> Callable[[int], torch.Tensor]:
    """Image batches of a trained generator: an IC-GAN (``feat_dim``) from stored instances; a BigGAN baseline from
    its own labels (given ``labels`` in turn, else drawn uniformly or with probabilities ``label_p``)."""
    if stored is not None:
        return Sampler(G, stored, seed=seed, device=device, labels=labels)
    gen = torch.Generator().manual_seed(int(seed))
    drawn = [0]
    probs = None if label_p is None else torch.as_tensor(np.asarray(label_p), dtype=torch.float64)

    @torch.no_grad()
    def fn(k: int) -> torch.Tensor:
        z = torch.randn(k, G.z_dim, generator=gen).to(device)
        y = None
        if G.num_classes:
            if labels is not None:
                y = torch.from_numpy(labels[(drawn[0] + np.arange(k)) % len(labels)]).to(device)
            elif probs is not None:
                y = torch.multinomial(probs, k, replacement=True, generator=gen).to(device)
            else:
                y = torch.randint(0, G.num_classes, (k,), generator=gen).to(device)
        drawn[0] += k
        return G(z, y=y).float().clamp(-1, 1)

    return fn
