"""Sessions: tests, isolated (one per package), lint, demo, repro_smoke, rehearse, bench, gpu.

The two commands of the README: ``pip install nox && nox -s tests`` (every package in one venv, all tests not
marked slow) and ``pip install nox && nox -s demo`` (the main job: every method compared on embedded data, CPU,
``runs/demo/``).

torch is installed once, into ``.nox/_shared_torch``, and every session's venv sees it through a ``.pth`` file, so
the sessions share one copy instead of one each. Environment variables:
GANLAB_NOX_SYSTEM_TORCH=1 uses the torch already installed for the interpreter that runs nox (no download at all);
GANLAB_NOX_TORCH=cpu|cuda chooses the build (default: cuda when the machine has an NVIDIA driver, else cpu);
GANLAB_NOX_TORCH_INDEX=URL installs torch from that index. The CPU build comes from the PyTorch CPU index
(about 10x smaller than the CUDA build); where that index cannot be reached, pip resolves torch as it is set up.
"""

from __future__ import annotations

import glob
import os
import urllib.request

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.error_on_missing_interpreters = False

PYTHON = None  # the interpreter nox runs under; CI and users have one Python >= 3.10
SYSTEM_TORCH = os.environ.get("GANLAB_NOX_SYSTEM_TORCH", "") not in ("", "0")
VENV_PARAMS = ["--system-site-packages"] if SYSTEM_TORCH else []
SHARED_TORCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".nox", "_shared_torch")
TORCH = ["torch>=2.3", "torchvision>=0.18"]
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
METHODS = ["instance_selection", "multigan_boosting", "diagan", "gold", "icgan"]
PACKAGES = ["core", *METHODS, "benchmarks"]
TEST_DEPS = ["pytest>=8", "prdc>=0.2", "pytorch-msssim>=1.0", "lpips>=0.1.4"]


def _shared_torch(session: nox.Session) -> None:
    """Make torch importable in this session's venv from the one shared copy (installed the first time)."""
    if SYSTEM_TORCH:
        return
    marker = os.path.join(SHARED_TORCH, ".complete")
    if not os.path.exists(marker):
        extra = _torch_index_args(session)
        # unpinned: pip resolves the build that fits the machine (local wheels, CUDA or CPU index)
        session.run("python", "-m", "pip", "install", "--upgrade", "--target", SHARED_TORCH, *extra, *TORCH)
        with open(marker, "w") as f:
            f.write("ok\n")
    site = session.run("python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", silent=True).strip()
    with open(os.path.join(site, "_ganlab_shared_torch.pth"), "w") as f:
        f.write(SHARED_TORCH + "\n")


def _has_cuda() -> bool:
    """An NVIDIA driver on this machine (what the CUDA build of torch needs)."""
    return os.path.exists("/proc/driver/nvidia/version") or any(
        os.access(os.path.join(d, "nvidia-smi"), os.X_OK) for d in os.environ.get("PATH", "").split(os.pathsep)
    )


def _reachable(url: str, timeout: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except OSError:
        return False


def _torch_index_args(session: nox.Session) -> list[str]:
    """pip arguments that pick the torch build: the CPU build on machines without CUDA (issue: 6 GB saved)."""
    index = os.environ.get("GANLAB_NOX_TORCH_INDEX")
    if index:
        return ["--index-url", index]
    build = os.environ.get("GANLAB_NOX_TORCH") or ("cuda" if _has_cuda() else "cpu")
    if build not in ("cpu", "cuda"):
        session.error(f"GANLAB_NOX_TORCH must be 'cpu' or 'cuda', got {build!r}")
    if build == "cuda":
        return []
    if _reachable(CPU_INDEX + "/torch/"):
        session.log(f"no CUDA here: installing the CPU build of torch from {CPU_INDEX}")
        return ["--index-url", CPU_INDEX, "--extra-index-url", "https://pypi.org/simple"]
    session.log(f"no CUDA here, but {CPU_INDEX} cannot be reached: pip resolves torch as it is set up")
    return []


def _install(session: nox.Session, *packages: str) -> None:
    _shared_torch(session)
    session.install(*TORCH)  # satisfied by the shared (or system) copy: nothing is downloaded twice
    session.install(*TEST_DEPS)
    session.install(*[arg for p in packages for arg in ("-e", f"./{p}")])


@nox.session(python=PYTHON, venv_params=VENV_PARAMS)
def tests(session: nox.Session) -> None:
    """Every package in one virtual environment; all tests not marked slow."""
    _install(session, *PACKAGES)
    session.run("pytest", "-m", "not slow", *session.posargs, env={"OMP_NUM_THREADS": "2"})


@nox.session(python=PYTHON, venv_params=VENV_PARAMS)
@nox.parametrize("package", PACKAGES)
def isolated(session: nox.Session, package: str) -> None:
    """One package and core alone in a fresh venv, its own tests: proves that installing one method works."""
    deps = ["core"] if package == "core" else (PACKAGES[:-1] if package == "benchmarks" else ["core", package])
    _install(session, *deps, *([package] if package == "benchmarks" else []))
    session.run("pytest", "-m", "not slow", f"{package}/tests", *session.posargs)


@nox.session(python=PYTHON, venv_params=VENV_PARAMS)
def lint(session: nox.Session) -> None:
    session.install("ruff==0.17.6")  # pinned: format rules change between releases
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON, venv_params=VENV_PARAMS)
def demo(session: nox.Session) -> None:
    """The main job: every method on the bundled MNIST (the demo suite), its table, plots and sheets in runs/demo."""
    _install(session, *PACKAGES)
    out = session.posargs[0] if session.posargs else os.path.join("runs", "demo")
    workers = str(min(2, os.cpu_count() or 1))  # two cells side by side, one thread each, on a 2-core machine
    session.run("ganlab", "bench", "run", "demo", "--workers", workers, "--out-dir", out, env={"OMP_NUM_THREADS": "1"})


@nox.session(python=PYTHON, venv_params=VENV_PARAMS)
def repro_smoke(session: nox.Session) -> None:
    """Every shipped reproduction config at smoke scale."""
    _install(session, *PACKAGES)
    session.run("ganlab", "repro", "run", "--all", "--scale", "smoke", "--out-dir", "runs/repro_smoke")


@nox.session(python=PYTHON, venv_params=VENV_PARAMS)
def rehearse(session: nox.Session) -> None:
    """Dress rehearsal of every paper config, in one process and under torchrun with two (``ganlab repro rehearse
    --all --modes 1proc,2proc``, at most an hour per config and mode): the paper's code path on a shrunk schedule,
    stand-in data and stand-in weights; then the table (the committed one with this machine's records, printed, not
    written). Extra arguments replace the defaults (e.g. ``-- --modes 1proc,2proc,kill_resume --timeout 600``)."""
    _install(session, *PACKAGES)
    args = session.posargs or ["--modes", "1proc,2proc", "--timeout", "3600"]
    try:
        session.run("ganlab", "repro", "rehearse", "--all", *args)
    finally:  # the table also when a rehearsal failed (the session still fails)
        session.run("python", os.path.join("benchmarks", "results", "rehearsal", "make_table.py"), "--print-only")


@nox.session(python=PYTHON, venv_params=VENV_PARAMS)
def bench(session: nox.Session) -> None:
    """Speed and memory benchmarks; each script prints its numbers and writes JSON under runs/bench/."""
    _install(session, *PACKAGES)
    scripts = sorted(glob.glob(os.path.join("benchmarks", "speed", "bench_*.py")))
    if session.posargs:
        scripts = [s for s in scripts if any(p in s for p in session.posargs)]
    for script in scripts:
        session.run("python", script)


@nox.session(python=PYTHON, venv_params=VENV_PARAMS)
def gpu(session: nox.Session) -> None:
    """Every paper config's trainer step on this machine's GPU, AMP off and on: runs/bench/gpu_paper.{json,md}.

    ``nox -s gpu -- --dry-run --only gold/figure3`` passes its arguments on (see benchmarks/gpu/paper_speed.py).
    """
    _install(session, *PACKAGES)
    session.run("python", os.path.join("benchmarks", "gpu", "paper_speed.py"), *session.posargs)
