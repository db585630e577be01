"""The draws an evaluation protocol names, vectorised and seeded through ``np.random.default_rng``.

- :func:`reference_indices`: which real images form the reference (``all``, ``random``, ``class_balanced``,
  ``first``);
- :func:`draw_labels`: the labels fed to a class-conditional generator (``uniform``, ``train_distribution``);
- :func:`draw_instances`: the stored instances fed to an instance-conditioned generator (``uniform`` over the
  stored instances, ``class_balanced``: a class uniformly then an instance of it uniformly, ``long_tail``: classes in
  the proportions of given target counts, e.g. a long-tailed reference, then an instance of it uniformly).
"""

from __future__ import annotations

import numpy as np

from ganlab.core.errors import ConfigError

__all__ = ["draw_instances", "draw_labels", "reference_indices"]


def _labels(labels: np.ndarray | None, what: str) -> np.ndarray:
    if labels is None:
        raise ConfigError(f"{what} needs class labels, and the data has none")
    labels = np.asarray(labels).astype(np.int64, copy=False)
    if labels.ndim != 1 or (labels.size and labels.min() < 0):
        raise ConfigError(f"{what}: labels must be a 1-d array of non-negative class indices")
    return labels


def reference_indices(
    n_total: int, draw: str = "all", n: int | None = None, seed: int = 0, labels: np.ndarray | None = None
) -> np.ndarray:
    """Sorted dataset positions of the reference: ``n`` of ``n_total`` images drawn as ``draw`` says.

    ``random`` takes the first ``n`` of ``default_rng(seed).permutation(n_total)`` (the subset
    :func:`ganlab.core.metrics.evaluate.evaluate` draws for ``n_real``); ``class_balanced`` takes ``n // C`` images
    of each of the C classes (the ``n % C`` left over go to classes chosen at random), each class's images drawn at
    random; ``first`` the first ``n`` in dataset order.
    """
    if draw == "all":
        return np.arange(n_total)
    if n is None:
        raise ConfigError(f"reference draw {draw!r} needs a number of images")
    if n > n_total:
        raise ConfigError(f"the reference asks for {n} images but the split has {n_total}")
    if draw == "first":
        return np.arange(n)
    rng = np.random.default_rng(seed)
    if draw == "random":
        return np.sort(rng.permutation(n_total)[:n])
    if draw != "class_balanced":
        raise ConfigError(f"unknown reference draw {draw!r}; choose all, random, class_balanced or first")
    labels = _labels(labels, "a class-balanced reference")
    if len(labels) != n_total:
        raise ConfigError(f"{len(labels)} labels for {n_total} images")
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    quota = np.full(len(classes), n // len(classes))
    quota[rng.permutation(len(classes))[: n % len(classes)]] += 1
    short = np.flatnonzero(counts < quota)
    if short.size:
        c = short[0]
        raise ConfigError(f"class {classes[c]} has {counts[c]} images, fewer than its share {quota[c]} of {n}")
    order = np.lexsort((rng.random(n_total), inverse))  # by class, at random within a class
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(n_total, dtype=np.int64)
    rank[order] = np.arange(n_total) - starts[inverse[order]]
    return np.flatnonzero(rank < quota[inverse])


def draw_labels(
    n: int, mode: str = "uniform", seed: int = 0, num_classes: int = 0, train_labels: np.ndarray | None = None
) -> np.ndarray:
    """``n`` class labels for a class-conditional generator: ``uniform`` over ``num_classes``,
    ``train_distribution`` (each class with its frequency among ``train_labels``) or ``class_sequential`` (no
    draw: ``n / num_classes`` of each class in class order; ``n`` a multiple of ``num_classes``)."""
    if num_classes < 1:
        raise ConfigError("drawing labels needs a class-conditional generator (num_classes >= 1)")
    rng = np.random.default_rng(seed)
    if mode == "uniform":
        return rng.integers(0, num_classes, size=n)
    if mode == "class_sequential":
        if n % num_classes:
            raise ConfigError(f"{n} class-sequential labels cannot be split evenly over {num_classes} classes")
        return np.repeat(np.arange(num_classes), n // num_classes)
    if mode != "train_distribution":
        raise ConfigError(f"unknown label draw {mode!r}; choose uniform, train_distribution or class_sequential")
    counts = np.bincount(_labels(train_labels, "the train_distribution label draw"), minlength=num_classes)
    if len(counts) > num_classes:
        raise ConfigError(f"training labels reach {len(counts) - 1} but the generator has {num_classes} classes")
    return rng.choice(num_classes, size=n, p=counts / counts.sum())


def draw_instances(
    n: int,
    mode: str = "uniform",
    seed: int = 0,
    n_instances: int | None = None,
    instance_labels: np.ndarray | None = None,
    target_counts: np.ndarray | None = None,
) -> np.ndarray:
    """Positions (into the stored instances) of ``n`` conditioning instances.

    ``uniform``: every stored instance equally likely (``n_instances`` or ``len(instance_labels)`` of them);
    ``class_balanced``: a class uniformly among the stored instances' classes, then one of its instances uniformly;
    ``long_tail``: class ``c`` with probability ``target_counts[c] / sum``, then one of its instances uniformly.
    """
    rng = np.random.default_rng(seed)
    if mode == "uniform":
        total = n_instances if n_instances is not None else len(_labels(instance_labels, "the instance draw"))
        if total < 1:
            raise ConfigError("no stored instances to draw from")
        return rng.integers(0, total, size=n)
    if mode not in ("class_balanced", "long_tail"):
        raise ConfigError(f"unknown instance draw {mode!r}; choose uniform, class_balanced or long_tail")
    labels = _labels(instance_labels, f"the {mode} instance draw")
    classes, counts = np.unique(labels, return_counts=True)
    if mode == "class_balanced":
        which = rng.integers(0, len(classes), size=n)
    else:
        if target_counts is None:
            raise ConfigError("the long_tail instance draw needs target class counts (e.g. the reference's)")
        target = np.asarray(target_counts, dtype=np.float64)
        if target.ndim != 1 or (target < 0).any() or target.sum() <= 0:
            raise ConfigError("target class counts must be a 1-d array of non-negative counts, not all zero")
        weights = np.zeros(len(classes))
        inside = classes < len(target)
        weights[inside] = target[classes[inside]]
        missing = np.setdiff1d(np.flatnonzero(target), classes)
        if missing.size:
            raise ConfigError(f"the target counts name classes {missing[:5].tolist()} with no stored instance")
        which = rng.choice(len(classes), size=n, p=weights / weights.sum())
    order = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    offset = np.floor(rng.random(n) * counts[which]).astype(np.int64)
    return order[starts[which] + offset]
