"""Classifiers and the auto-encoder used by the evaluation metrics.

- :class:`LeNet32`: GOLD's ``LeNet_32`` (fitting capacity, §2.7 of the GOLD notes): conv5x5(6) - pool - conv5x5(16) -
  pool - FC 400-120-84-classes, ReLU, on 32x32 inputs.
- :class:`ResNetCifar` / :func:`resnet20`: the CIFAR ResNet of He et al. with option-A (parameter-free) shortcuts,
  as in akamaster/pytorch_resnet_cifar10, with a ``width`` argument (16 = the standard ResNet-20, 64 = the wide
  classifier and feature map of multi-GAN boosting).
- :class:`CAE32`: Dia-GAN's convolutional auto-encoder for the reconstruction-error metric (Table 5).

Every classifier exposes ``features(x) -> (B, feat_dim)`` (the penultimate layer) and ``forward(x) -> logits``, so
a trained classifier doubles as an in-domain feature extractor (``classifier:<path>``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganlab.core.errors import ShapeError
from ganlab.core.registry import Registry

CLASSIFIERS: Registry = Registry("classifier")


def _check_input(x: torch.Tensor, channels: int, size: int | None, name: str) -> None:
    if x.ndim != 4 or x.shape[1] != channels or (size is not None and tuple(x.shape[-2:]) != (size, size)):
        want = f"(B, {channels}, {size}, {size})" if size else f"(B, {channels}, H, W)"
        raise ShapeError(
            f"{name} expects images of shape {want}, got {tuple(x.shape)}; "
            "load the dataset at the classifier's resolution (e.g. resolution=32) and channel count"
        )


# ------------------------------------------------------------------------------------------------------- LeNet
class LeNet32(nn.Module):
    """LeNet-5 for 32x32 inputs (GOLD's ``LeNet_32``); penultimate features are the 84-d FC output."""

    resolution = 32

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.feat_dim = 84
        self.conv1 = nn.Conv2d(in_channels, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 4 and tuple(x.shape[-2:]) == (28, 28):
            # 28 px digits are padded to 32 with the background value (-1), as LeNet-5 itself read MNIST
            x = F.pad(x, (2, 2, 2, 2), value=-1.0)
        _check_input(x, self.in_channels, 32, "LeNet32 (28 px inputs are padded to 32)")
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        h = F.relu(self.fc1(h.flatten(1)))
        return F.relu(self.fc2(h))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc3(self.features(x))


# -------------------------------------------------------------------------------------------- CIFAR ResNet
class _BasicBlock(nn.Module):
    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = 0
        self.downsample = stride != 1 or in_planes != planes
        if self.downsample:
            # option A: subsample by 2 and zero-pad the new channels (no parameters)
            self.pad = (planes - in_planes) // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample:
            x = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + x)


class ResNetCifar(nn.Module):
    """ResNet-(6n+2) for CIFAR with option-A shortcuts; stage widths (w, 2w, 4w); features = avg-pooled 4w."""

    def __init__(self, depth: int = 20, num_classes: int = 10, width: int = 16, in_channels: int = 3) -> None:
        super().__init__()
        if (depth - 2) % 6 != 0:
            raise ShapeError(f"CIFAR ResNet depth must be 6n+2 (20, 32, 44, 56, 110), got {depth}")
        if width % 4 != 0:
            raise ShapeError(f"width must be a multiple of 4 for option-A shortcuts, got {width}")
        n = (depth - 2) // 6
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.feat_dim = 4 * width
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        layers: list[nn.Module] = []
        in_planes = width
        for stage, planes in enumerate((width, 2 * width, 4 * width)):
            for i in range(n):
                stride = 2 if (stage > 0 and i == 0) else 1
                layers.append(_BasicBlock(in_planes, planes, stride))
                in_planes = planes
        self.layers = nn.Sequential(*layers)
        self.linear = nn.Linear(4 * width, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.in_channels, None, "ResNetCifar")
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.layers(h)
        return h.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.features(x))


@CLASSIFIERS.register("lenet")
def lenet(num_classes: int = 10, in_channels: int = 1) -> LeNet32:
    """GOLD's LeNet_32 (fitting capacity)."""
    return LeNet32(num_classes=num_classes, in_channels=in_channels)


@CLASSIFIERS.register("resnet20")
def resnet20(num_classes: int = 10, in_channels: int = 3, width: int = 16) -> ResNetCifar:
    """ResNet-20 for CIFAR (0.27M parameters at width 16)."""
    return ResNetCifar(20, num_classes=num_classes, width=width, in_channels=in_channels)


@CLASSIFIERS.register("resnet20_w64")
def resnet20_w64(num_classes: int = 10, in_channels: int = 3) -> ResNetCifar:
    """The wide ResNet-20 (width 64, 4.29M parameters) of multi-GAN boosting: filter net and 256-d feature map."""
    return ResNetCifar(20, num_classes=num_classes, width=64, in_channels=in_channels)


def build_classifier(arch: str, num_classes: int, in_channels: int, **options) -> nn.Module:
    """A classifier from :data:`CLASSIFIERS` by name (``lenet``, ``resnet20``, ``resnet20_w64``)."""
    return CLASSIFIERS.get(arch)(num_classes=num_classes, in_channels=in_channels, **options)


# --------------------------------------------------------------------------------------------- auto-encoder
class CAE32(nn.Module):
    """Dia-GAN's convolutional auto-encoder for 32x32 images (reconstruction error, Table 5).

    Encoder: conv3x3 stride 2 (nc->nf->2nf->4nf) with BN + ReLU, FC 4nf*4*4 -> latent, tanh.
    Decoder: FC latent -> 4nf*4*4, BN1d + ReLU, transposed conv3x3 stride 2 (4nf->2nf->nf->nc), BN + ReLU between,
    tanh output. With nf=64 the FC has 4096 inputs, as in the reference.
    """

    resolution = 32

    def __init__(self, in_channels: int = 1, nf: int = 64, latent_dim: int = 256) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.nf = nf
        self.latent_dim = latent_dim

        def down(i: int, o: int) -> list[nn.Module]:
            return [nn.Conv2d(i, o, 3, 2, 1), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]

        def up(i: int, o: int) -> list[nn.Module]:
            return [nn.ConvTranspose2d(i, o, 3, 2, 1, output_padding=1), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]

        self.encoder_conv = nn.Sequential(*down(in_channels, nf), *down(nf, 2 * nf), *down(2 * nf, 4 * nf))
        self.encoder_fc = nn.Linear(4 * nf * 16, latent_dim)
        self.decoder_fc = nn.Sequential(
            nn.Linear(latent_dim, 4 * nf * 16), nn.BatchNorm1d(4 * nf * 16), nn.ReLU(inplace=True)
        )
        self.decoder_conv = nn.Sequential(
            *up(4 * nf, 2 * nf),
            *up(2 * nf, nf),
            nn.ConvTranspose2d(nf, in_channels, 3, 2, 1, output_padding=1),
            nn.Tanh(),
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.in_channels, 32, "CAE32")
        return torch.tanh(self.encoder_fc(self.encoder_conv(x).flatten(1)))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h = self.decoder_fc(z).view(z.shape[0], 4 * self.nf, 4, 4)
        return self.decoder_conv(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))
