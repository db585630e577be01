"""The one switch that lets torchvision's readers accept files whose checksums are not the published ones.

torchvision's CIFAR, SVHN, STL-10 and CelebA readers compare every file's MD5 with the real release's; a stand-in
(``ganlab data stand-in``) has the real layout but other bytes, so a dress rehearsal on stand-ins turns the
comparison off here, and only here: inside ``with skip_checksums():`` (or with ``GANLAB_SKIP_CHECKSUMS=1`` in the
environment, for subprocesses) a file passes when it exists. Everything else the readers check still applies.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

__all__ = ["CHECKSUMMED", "ENV_VAR", "checksums_skipped", "skip_checksums", "torchvision_checks"]

ENV_VAR = "GANLAB_SKIP_CHECKSUMS"
# the datasets whose torchvision reader compares MD5 sums (their stand-ins are read with checksums skipped)
CHECKSUMMED = ("cifar10", "cifar100", "svhn", "stl10", "celeba")
_depth = 0


@contextmanager
def skip_checksums() -> Iterator[None]:
    """Within the block, torchvision readers built through ganlab check that files exist, not their MD5."""
    global _depth
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1


def checksums_skipped() -> bool:
    """Whether checksum comparison is off (inside :func:`skip_checksums`, or ``GANLAB_SKIP_CHECKSUMS`` set non-0)."""
    return _depth > 0 or os.environ.get(ENV_VAR, "") not in ("", "0")


def _exists_only(fpath: str, md5: str | None = None) -> bool:
    return os.path.isfile(fpath)


@contextmanager
def torchvision_checks(cls: type) -> Iterator[Any]:
    """Around the construction of torchvision dataset ``cls``: its module's ``check_integrity`` checks existence
    only while checksums are skipped; otherwise nothing changes."""
    if not checksums_skipped():
        yield
        return
    module = sys.modules[cls.__module__]
    with mock.patch.object(module, "check_integrity", _exists_only):
        yield
