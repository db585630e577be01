"""Every README table of reproduction (or demo suite) results states the evaluation protocol it was measured under.

For each such table the text between it and the table or heading before it must hold the words ``ganlab repro
show EXP --scale S`` prints (core's ``EvalProtocol.describe()`` of the experiment at that scale; for the demo table,
the suite setting's, followed by the methods whose protocol differs, e.g. GOLD rejection's class-sequential labels),
so the network, resize, N fake / N real and checkpoint rule; with a feature metric, the network's name and the number
of fakes are checked by name as well. Every table of a package README, of the root README and of the benchmarks
README is either listed here as results or as another kind of table, so a new results table without its protocol
line fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ganlab.core.evaluation.protocol import EvalProtocol
from ganlab.core.repro import all_experiments, describe_protocol

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("instance_selection", "multigan_boosting", "diagan", "gold", "icgan")
TABLE1 = tuple(f"multigan-boosting/table1_{c}" for c in (*"BCDEFG", *"IJKLMN", "baseline"))

CPU_MNIST = "| method | fid | precision | recall | density | coverage | acceptance |"
CPU_COLORED = "| method | fid | precision | recall | density | coverage | minority_share |"
# (README, the first row of a results table, the experiments it reports, their scale); "bench:SUITE/SETTING": a
# benchmark suite's setting
RESULTS = [
    ("instance_selection", "| arm | kept | FID ↓ | IS ↑ |", ("instance-selection/mini",), "mini"),
    ("instance_selection", "| arm | kept | halo share of kept |", ("instance-selection/mini_toy2d",), "mini"),
    ("multigan_boosting", "| column | source | report | best test |", TABLE1, "mini"),
    ("multigan_boosting", "| scheme | \\|G\\| | ensemble weights |", ("multigan-boosting/table3",), "mini"),
    ("multigan_boosting", "| source | FID ↓ | MS-SSIM ×100 |", ("multigan-boosting/mini_c",), "mini"),
    ("diagan", "| | modes covered (of 25) |", ("diagan/figure2",), "mini"),
    ("diagan", "| ρ = 0.99 | green occurrence (%) |", ("diagan/table5_colored_mnist",), "mini"),
    ("diagan", "| ρ = 0.95 | green occurrence (data: 5 %) |", ("diagan/table5_colored_mnist_rho95",), "mini"),
    ("diagan", "| ρ = 0.99 | green occurrence (data: 1 %) |", ("diagan/table5_colored_mnist_rho95",), "mini"),
    ("gold", "| | fitting capacity (%) | mean GOLD", ("gold/figure1",), "mini"),
    ("gold", "| labels | 4 | 5 | 6 | 7 | 8 |", ("gold/figure3",), "mini"),
    ("gold", "| | fitting capacity (%) | FID (in-domain LeNet) |", ("gold/table3_mnist",), "mini"),
    ("icgan", "| arm | FID ↓ | precision ↑ |", ("icgan/table1_imagenet64",), "mini"),
    ("icgan", "| k | stored | FID k-means |", ("icgan/figure4",), "mini"),
    (".", "| method | fid | precision | recall | coverage | classifier_accuracy |", ("bench:demo/mnist",), "demo"),
    (".", CPU_MNIST, ("bench:cpu/mnist",), "cpu"),
    (".", CPU_COLORED, ("bench:cpu/colored",), "cpu"),
    (".", "| method | modes_covered | high_quality |", ("bench:cpu/gauss",), "cpu"),
    ("benchmarks", CPU_MNIST, ("bench:cpu/mnist",), "cpu"),
    ("benchmarks", CPU_COLORED, ("bench:cpu/colored",), "cpu"),
    ("benchmarks", "| method | modes_covered | high_quality |", ("bench:cpu/gauss",), "cpu"),
]
# the other tables of the package READMEs (first rows): what is implemented, experiment lists, protocols, options,
# parameter counts, speed, rehearsals, and a results table that continues the one before it (same experiment)
OTHER = (
    "| piece | where | notes |",
    "| experiment | ",
    "| experiments | protocol",
    "| rows | network | resize to 299 |",
    "| classes | ganlab |",
    "| config | ",
    "| source | img/s |",
    "| | formula | function |",
    "| option | ",
    "| benchmark | ours |",
    "| | LDRM | LDRV | score",  # diagan (b): the phase-1 diagnosis of the table5_colored_mnist runs above it
    "| folder | distribution |",  # the root README's packages
    "| paper | experiment | config | status |",
    "| role | parts |",  # the benchmarks README's method parts and suites
    "| suite | settings |",
    "| method | vs |",  # a suite's paired differences: they continue the results table above them
)
HEADING = re.compile(r"^#{1,6} ")


def _readme(folder: str) -> str:
    return (ROOT / folder / "README.md").read_text()


def _tables(text: str) -> list[tuple[int, str]]:
    """(line index, first row) of every Markdown table outside code fences."""
    out, fence, before = [], False, ""
    for i, line in enumerate(text.splitlines()):
        if line.startswith("```"):
            fence = not fence
        elif not fence and line.startswith("|") and not before.startswith("|"):
            out.append((i, line))
        before = "" if fence else line
    return out


def block_before(text: str, first_row: str) -> str:
    """The text from the end of the table or heading before the table that starts with ``first_row`` to it."""
    lines = text.splitlines()
    starts = [i for i, row in _tables(text) if row.startswith(first_row)]
    assert len(starts) == 1, f"{len(starts)} tables start with {first_row!r}"
    fence, start = False, 0
    for i, line in enumerate(lines[: starts[0]]):
        if line.startswith("```"):
            fence = not fence
        elif not fence and (line.startswith("|") or HEADING.match(line)):
            start = i + 1
    return "\n".join(lines[start : starts[0]])


def _protocol(key: str, scale: str) -> tuple[str, object]:
    if key.startswith("bench:"):
        from ganlab.benchmarks.protocol import describe_methods
        from ganlab.benchmarks.suite import load_suite

        name, setting = key[len("bench:") :].split("/")
        suite = load_suite(name)
        proto, methods = suite.settings[setting].eval_protocol(), describe_methods(suite, setting)
        return " ".join([proto.describe(), *([methods] if methods else [])]), proto
    exp = all_experiments()[key]
    return describe_protocol(exp, scale), exp.protocol(scale)


def missing(block: str, key: str, scale: str) -> list[str]:
    """What of the protocol of ``key`` at ``scale`` the README ``block`` does not state."""
    words, proto = _protocol(key, scale)
    flat = " ".join(block.split())
    out = [] if " ".join(words.split()) in flat else [f"the protocol in words: {words}"]
    if isinstance(proto, EvalProtocol) and proto.metrics:
        if f"on {proto.network.name} features" not in flat:
            out.append(f"the network {proto.network.name}")
        if f"{proto.n_fake} fakes" not in flat:
            out.append(f"N fake {proto.n_fake}")
    return out


@pytest.mark.parametrize("folder, first_row, keys, scale", RESULTS, ids=[f"{r[0]}:{r[2][0]}" for r in RESULTS])
def test_a_results_table_states_its_protocol(folder, first_row, keys, scale):
    block = block_before(_readme(folder), first_row)
    for key in keys:
        assert not missing(block, key, scale), f"{folder}/README.md, table {first_row!r}: {key} lacks " + "; ".join(
            missing(block, key, scale)
        )


@pytest.mark.parametrize("folder, first_row, keys, scale", RESULTS, ids=[f"{r[0]}:{r[2][0]}" for r in RESULTS])
def test_the_check_fails_without_the_protocol_line(folder, first_row, keys, scale):
    words, _ = _protocol(keys[0], scale)
    text = _readme(folder)
    block = block_before(text, first_row)
    kept = "\n".join(line for line in block.splitlines() if " ".join(words.split()) not in " ".join(line.split()))
    assert kept != block, "the protocol is stated on one line of its own"
    assert missing(kept, keys[0], scale)


BENCH = [r for r in RESULTS if r[2][0].startswith("bench:")]


@pytest.mark.parametrize("folder, first_row, keys, scale", BENCH, ids=[f"{r[0]}:{r[2][0]}" for r in BENCH])
def test_the_check_fails_without_the_sentence_of_the_methods_that_draw_otherwise(folder, first_row, keys, scale):
    from ganlab.benchmarks.protocol import describe_methods
    from ganlab.benchmarks.suite import load_suite

    name, setting = keys[0][len("bench:") :].split("/")
    methods = describe_methods(load_suite(name), setting)
    if not methods:  # every method of the setting is evaluated as the setting says (25 Gaussians: no GOLD)
        assert "For " not in block_before(_readme(folder), first_row)
        return
    assert "gold_rejection" in methods and "labels in equal blocks per class, in class order" in methods
    block = block_before(_readme(folder), first_row)
    assert not missing(block, keys[0], scale)
    assert missing(" ".join(block.split()).replace(methods, ""), keys[0], scale)


def test_every_readme_table_is_listed_as_results_or_as_another_kind():
    listed = {(f, row) for f, row, *_ in RESULTS}
    for folder in (*PACKAGES, ".", "benchmarks"):
        for _, row in _tables(_readme(folder)):
            known = any(row.startswith(r) for f, r in listed if f == folder) or row.startswith(OTHER)
            assert known, f"{folder}/README.md: table {row[:60]!r} is neither a listed results table nor another kind"


def test_every_listed_experiment_and_scale_exists():
    exps = all_experiments()
    for _, _, keys, scale in RESULTS:
        for key in keys:
            assert key.startswith("bench:") or (key in exps and scale in exps[key].scales), key
