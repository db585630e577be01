"""Offline-first resolution of pretrained weight files.

Search order for a file name: an explicit ``path`` (a file, or a folder holding it), then ``$GANLAB_WEIGHTS_DIR``,
then the torch hub checkpoint cache; only then a download, and only when allowed (``download=True`` or
``GANLAB_ALLOW_DOWNLOAD=1``). A file whose sha256 does not match the pinned value is rejected.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ganlab.core.errors import CheckpointError, WeightsNotFoundError

WEIGHTS_ENV = "GANLAB_WEIGHTS_DIR"
DOWNLOAD_ENV = "GANLAB_ALLOW_DOWNLOAD"

_HASH_CACHE: dict[tuple[str, int, float], str] = {}

# The files of the pretrained extractors (any one of the names will do), for cheap presence checks.
PRETRAINED_FILES = {
    "inception": ["inception-2015-12-05.pt"],
    "inception_torchvision": ["inception_v3_google-0cc3c7bd.pth"],
    "resnet50": ["resnet50-0676ba61.pth", "resnet50-19c8e357.pth"],
    "swav": ["swav_800ep_pretrain.pth.tar"],
    "vgg16": ["vgg16-397923af.pth"],
}


def weights_present(extractor: str) -> bool:
    """Whether a pretrained extractor's weights are on disk (True for extractors that need none)."""
    base = extractor.split(":", 1)[0]
    if base not in PRETRAINED_FILES:
        return True
    if ":" in extractor and extractor.split(":", 1)[1] == "random":
        return True
    return any(f.is_file() for f in _candidates(PRETRAINED_FILES[base], None))


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, memoised on (path, size, mtime) since weight files are hundreds of MB."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime)
    if key not in _HASH_CACHE:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _HASH_CACHE[key] = h.hexdigest()
    return _HASH_CACHE[key]


def download_allowed(download: bool | None = None) -> bool:
    if download is not None:
        return download
    return os.environ.get(DOWNLOAD_ENV, "").strip().lower() in ("1", "true", "yes")


def _candidates(filenames: list[str], path: str | Path | None) -> list[Path]:
    dirs: list[Path] = []
    out: list[Path] = []
    if path is not None:
        p = Path(path).expanduser()
        if p.is_file():
            return [p]
        dirs.append(p)
    env = os.environ.get(WEIGHTS_ENV)
    if env:
        dirs.append(Path(env).expanduser())
    try:
        import torch

        dirs.append(Path(torch.hub.get_dir()) / "checkpoints")
    except Exception:  # torch hub dir is only a convenience location
        pass
    for d in dirs:
        out.extend(d / name for name in filenames)
    return out


def check_sha256(file: Path, sha256: str | None) -> str:
    """The file's sha256; raises CheckpointError when ``sha256`` (a full hash or a prefix) does not match."""
    digest = sha256_file(file)
    if sha256 and not digest.startswith(sha256.lower()):
        raise CheckpointError(
            f"weights file {file} has sha256 {digest}, expected {sha256}...; the file is corrupt or a different "
            "version: delete it and place the right file there"
        )
    return digest


def resolve_weights(
    filenames: str | list[str],
    *,
    url: str | None = None,
    sha256: str | None = None,
    path: str | Path | None = None,
    download: bool | None = None,
    what: str = "weights",
) -> tuple[Path, str]:
    """Find (or, when allowed, download) a weights file; returns ``(path, sha256)``.

    ``filenames`` lists accepted names (the first is the download name). ``sha256`` may be a prefix (torchvision
    file names carry the first 8 hex digits of their hash).
    """
    names = [filenames] if isinstance(filenames, str) else list(filenames)
    if path is not None and Path(path).expanduser().is_file():
        f = Path(path).expanduser()
        return f, check_sha256(f, sha256)
    for f in _candidates(names, path):
        if f.is_file():
            return f, check_sha256(f, sha256)
    if url is not None and download_allowed(download):
        target_dir = Path(path) if path is not None else Path(os.environ.get(WEIGHTS_ENV, "") or _hub_dir())
        target = target_dir / names[0]
        _download(url, target)
        return target, check_sha256(target, sha256)
    where = os.environ.get(WEIGHTS_ENV) or "<a folder of your choice>"
    source = f" (download it from {url})" if url else ""
    raise WeightsNotFoundError(
        f"{what} not found: put the file {names[0]!r}{source} into {where} and set {WEIGHTS_ENV} to that folder, "
        f"or pass its path explicitly (weights_path=...); set {DOWNLOAD_ENV}=1 to let ganlab download it. "
        f"Searched: {', '.join(str(c) for c in _candidates(names, path)) or 'nothing'}"
    )


def _hub_dir() -> str:
    import torch

    return str(Path(torch.hub.get_dir()) / "checkpoints")


def _download(url: str, target: Path) -> None:
    import urllib.request

    from ganlab.core.results import atomic_write_bytes

    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
    except OSError as exc:
        raise WeightsNotFoundError(
            f"could not download {url} ({exc}); place the file {target.name!r} into ${WEIGHTS_ENV} by hand"
        ) from None
    atomic_write_bytes(target, data)
