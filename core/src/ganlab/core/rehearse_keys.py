"""What the rehearsal derivation knows about each package's config keys: step-valued keys the generic rule misses,
evaluation counts, seed and row lists, clocks other than training steps, nested training configs, batch policy.
A package is named as its entry point (``multigan`` or ``multigan-boosting`` both work)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CLOCKS",
    "CLASS_MULTIPLE_KEYS",
    "COUNT_KEYS",
    "IMPLICIT_COUNTS",
    "NESTED",
    "PACKAGE_COUNT_KEYS",
    "PAPER_BATCH",
    "ROW_KEYS",
    "SCHEDULE_KEYS",
    "SEED_KEYS",
    "STEPS_FROM_CLOCK",
    "Clock",
    "package_key",
    "register_schedule_keys",
]

# package -> {key: None (a step count) | the key whose period it counts (a count of records)}
SCHEDULE_KEYS: dict[str, dict[str, str | None]] = {
    # Dia-GAN: phase 1 length and the record cadence are steps; the LDR window is a number of records
    "diagan": {"phase1_steps": None, "record_every": None, "window": "record_every"},
}
# evaluation sample counts (any package); ``n`` only inside a ``reference`` section
COUNT_KEYS = ("n_fake", "n_real", "n_samples", "num_samples", "samples_per_class", "manifold_samples")
# package -> its count keys that must stay a multiple of the dataset's classes (GOLD's class-balanced rejection bank)
CLASS_MULTIPLE_KEYS: dict[str, tuple[str, ...]] = {"gold": ("n_bank",)}
# package -> its own evaluation sizes (sample banks, generated sets, classifier test draws)
PACKAGE_COUNT_KEYS: dict[str, tuple[str, ...]] = {
    "diagan": ("cae_samples", "drs_batch_size", "drs_burn_in"),  # DRS: 50 burn-in batches of 256 fakes
    "icgan": ("best_n_fake", "n_prdc"),  # the best-checkpoint FID (50,000 fakes); the P/R/D/C reference
    "gold": ("n_bank", "n_stats", "fid_n", "figure_samples", "query_batch_size", "snapshot"),
    # the classifiers' held-out validation and test draws are evaluation sets too
    "multigan": ("fixed_size", "n_classify", "n_per_gan", "val_size", "test_size"),
}
# package -> {section: evaluation counts written as the rehearsal's count when the config leaves them at their
# defaults} (GOLD's 50,000-sample rejection bank and its statistics, scored whole by FID)
IMPLICIT_COUNTS: dict[str, dict[tuple[str, ...], tuple[str, ...]]] = {
    "gold": {("experiment",): ("n_bank", "n_stats", "fid_n")},
    "diagan": {("experiment",): ("drs_batch_size", "drs_burn_in")},
}
# seed lists (repetitions of the same code path) keep their first ``seeds`` entries
SEED_KEYS = ("seeds", "sample_seeds")
# package -> lists of table rows that run the same code path with another value: the first and last are kept
ROW_KEYS: dict[str, tuple[str, ...]] = {"gold": ("label_fractions", "ps"), "diagan": ("rhos",)}


@dataclass(frozen=True)
class Clock:
    """A time unit other than training steps (GOLD's epochs, a classifier's epochs): the key giving its length
    (a path suffix), the keys of points on it (ints, or lists of ints such as lr milestones), and the keys sizing
    one unit (items or iterations per epoch), which become ``unit`` times the rehearsal's batch or ``unit`` itself."""

    length: tuple[str, ...]
    points: tuple[tuple[str, ...], ...] = ()
    sizes: tuple[tuple[tuple[str, ...], str], ...] = ()
    rehearse: int = 4


# package -> its clocks; a key on a clock is not a step point
CLOCKS: dict[str, tuple[Clock, ...]] = {
    # the in-domain classifier behind ``classifier:auto`` embeddings and evaluation networks
    "instance_selection": (Clock(("classifier", "epochs"), rehearse=2),),
    # Dia-GAN's convolutional auto-encoder behind the reconstruction error (Table 5)
    "diagan": (Clock(("experiment", "cae_epochs"), rehearse=2),),
    "gold": (
        # training epochs of ``per_epoch`` items: re-weighting start, fitting-capacity and FID cadences
        Clock(
            ("method", "options", "epochs"),
            (("method", "options", "start_epoch"), ("method", "options", "eval_every"), ("experiment", "fid_every")),
            ((("method", "options", "per_epoch"), "batches:2"),),
        ),
        # active learning: epochs per round and the model-selection cadence
        Clock(("experiment", "active", "epochs"), (("experiment", "active", "eval_every"),)),
        # the fitting-capacity classifier: its epochs, lr step and evaluation cadence, samples per epoch
        Clock(
            ("capacity", "epochs"),
            (("capacity", "step_every"), ("capacity", "eval_every")),
            ((("capacity", "samples_per_epoch"), "n_eval"),),
            rehearse=2,
        ),
    ),
    "multigan": (
        # the classifiers: epochs, lr milestones, iterations per epoch
        Clock(
            ("classifier", "epochs"), (("classifier", "milestones"),), ((("classifier", "iters_per_epoch"), "2"),), 3
        ),
    ),
}
# packages whose rehearsal keeps the paper's batch: GOLD's epoch is the whole training stream when that exceeds
# ``per_epoch``, so a stand-in epoch is a few steps at the paper's 128 and hundreds at a batch of 4
PAPER_BATCH = ("gold",)
# packages whose train.steps is resolved from a clock when the run is built (1 is a placeholder in their configs)
STEPS_FROM_CLOCK = ("gold",)
# package -> sections naming a nested core training config (``config``) and its ``overrides`` list: the nested
# config's paper scale is rehearsed with the rest (its shrunk keys become overrides)
NESTED: dict[str, tuple[str, ...]] = {"multigan": ("gan",)}
_SUFFIXES = ("_steps", "_every", "_start")
_NAMES = ("steps", "every", "start")


def package_key(name: str | None) -> str | None:
    """A package's key in the tables here: an entry point may spell it with a hyphen or its full name."""
    if name is None:
        return None
    name = name.replace("-", "_")
    return {"multigan_boosting": "multigan"}.get(name, name)


def register_schedule_keys(package: str, steps: tuple[str, ...] = (), counts: dict[str, str] | None = None) -> None:
    """Declare a package's schedule keys whose names the generic rule misses: ``steps`` are step counts,
    ``counts`` map a key counting records to the key holding the record period."""
    table = SCHEDULE_KEYS.setdefault(package, {})
    table.update(dict.fromkeys(steps))
    table.update(counts or {})
