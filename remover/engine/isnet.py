"""IS-Net (Qin et al., "Highly Accurate Dichotomous Image Segmentation", ECCV 2022).

The network is a U^2-Net style encoder/decoder built from Residual U-blocks (RSU).
Module and parameter names follow the published model so that converted weights load
with strict key matching. BatchNorm is folded into each convolution of the released
weights, so every ``ConvReLU`` here is a biased 3x3 convolution followed by ReLU.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def upsample_like(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Bilinear resize of ``x`` (N, C, h, w) to the spatial size of ``like`` (half-pixel centres)."""
    return F.interpolate(x, size=like.shape[2:], mode="bilinear", align_corners=False)


class ConvReLU(nn.Module):
    """3x3 convolution (BatchNorm folded in) and ReLU; ``dilation`` keeps the spatial size."""

    def __init__(self, in_ch: int, out_ch: int, dilation: int = 1) -> None:
        super().__init__()
        self.conv_s1 = nn.Conv2d(in_ch, out_ch, 3, padding=dilation, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv_s1(x), inplace=True)


def _pool() -> nn.MaxPool2d:
    return nn.MaxPool2d(2, stride=2, ceil_mode=True)


class RSU(nn.Module):
    """Residual U-block of height ``height`` (RSU-7 ... RSU-4).

    The encoder halves the resolution ``height - 2`` times with max-pooling, the bottom
    layer is a dilated convolution, and the decoder upsamples back, concatenating the
    encoder feature of the same scale. Output: (N, out_ch, H, W), same H, W as the input.
    """

    def __init__(self, height: int, in_ch: int, mid_ch: int, out_ch: int) -> None:
        super().__init__()
        self.height = height
        self.rebnconvin = ConvReLU(in_ch, out_ch)
        self.rebnconv1 = ConvReLU(out_ch, mid_ch)
        for i in range(1, height - 1):
            setattr(self, f"pool{i}", _pool())
            setattr(self, f"rebnconv{i + 1}", ConvReLU(mid_ch, mid_ch))
        setattr(self, f"rebnconv{height}", ConvReLU(mid_ch, mid_ch, dilation=2))
        for i in range(height - 1, 1, -1):
            setattr(self, f"rebnconv{i}d", ConvReLU(2 * mid_ch, mid_ch))
        self.rebnconv1d = ConvReLU(2 * mid_ch, out_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hxin = self.rebnconvin(x)
        encoded = [self.rebnconv1(hxin)]
        for i in range(1, self.height - 1):
            pooled = getattr(self, f"pool{i}")(encoded[-1])
            encoded.append(getattr(self, f"rebnconv{i + 1}")(pooled))
        hx = getattr(self, f"rebnconv{self.height}")(encoded[-1])
        for i in range(self.height - 1, 0, -1):
            skip = encoded[i - 1]
            if hx.shape[2:] != skip.shape[2:]:
                hx = upsample_like(hx, skip)
            hx = getattr(self, f"rebnconv{i}d")(torch.cat((hx, skip), 1))
        return hx + hxin


class RSU4F(nn.Module):
    """Residual U-block without pooling: dilations 1, 2, 4, 8 keep the full resolution.

    Used at the two coarsest scales, where further downsampling would lose the context.
    """

    def __init__(self, in_ch: int, mid_ch: int, out_ch: int) -> None:
        super().__init__()
        self.rebnconvin = ConvReLU(in_ch, out_ch)
        self.rebnconv1 = ConvReLU(out_ch, mid_ch, dilation=1)
        self.rebnconv2 = ConvReLU(mid_ch, mid_ch, dilation=2)
        self.rebnconv3 = ConvReLU(mid_ch, mid_ch, dilation=4)
        self.rebnconv4 = ConvReLU(mid_ch, mid_ch, dilation=8)
        self.rebnconv3d = ConvReLU(2 * mid_ch, mid_ch, dilation=4)
        self.rebnconv2d = ConvReLU(2 * mid_ch, mid_ch, dilation=2)
        self.rebnconv1d = ConvReLU(2 * mid_ch, out_ch, dilation=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hxin = self.rebnconvin(x)
        hx1 = self.rebnconv1(hxin)
        hx2 = self.rebnconv2(hx1)
        hx3 = self.rebnconv3(hx2)
        hx4 = self.rebnconv4(hx3)
        hx3d = self.rebnconv3d(torch.cat((hx4, hx3), 1))
        hx2d = self.rebnconv2d(torch.cat((hx3d, hx2), 1))
        hx1d = self.rebnconv1d(torch.cat((hx2d, hx1), 1))
        return hx1d + hxin


class ISNet(nn.Module):
    """IS-Net general-use segmentation network.

    Input: (N, 3, H, W) RGB, scaled to [0, 1] then shifted by -0.5 (std 1.0); the released
    weights were trained at H = W = 1024. A stride-2 stem, six encoder stages (RSU-7, 6, 5,
    4, 4F, 4F) with max-pooling between them, five decoder stages, and a 3x3 side head per
    decoder scale. Output: the list of six side predictions, each (N, 1, H, W) probabilities
    in [0, 1], finest first; the first is the prediction to use.
    """

    def __init__(self, in_ch: int = 3, out_ch: int = 1) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(in_ch, 64, 3, stride=2, padding=1)

        self.stage1 = RSU(7, 64, 32, 64)
        self.pool12 = _pool()
        self.stage2 = RSU(6, 64, 32, 128)
        self.pool23 = _pool()
        self.stage3 = RSU(5, 128, 64, 256)
        self.pool34 = _pool()
        self.stage4 = RSU(4, 256, 128, 512)
        self.pool45 = _pool()
        self.stage5 = RSU4F(512, 256, 512)
        self.pool56 = _pool()
        self.stage6 = RSU4F(512, 256, 512)

        self.stage5d = RSU4F(1024, 256, 512)
        self.stage4d = RSU(4, 1024, 128, 256)
        self.stage3d = RSU(5, 512, 64, 128)
        self.stage2d = RSU(6, 256, 32, 64)
        self.stage1d = RSU(7, 128, 16, 64)

        self.side1 = nn.Conv2d(64, out_ch, 3, padding=1)
        self.side2 = nn.Conv2d(64, out_ch, 3, padding=1)
        self.side3 = nn.Conv2d(128, out_ch, 3, padding=1)
        self.side4 = nn.Conv2d(256, out_ch, 3, padding=1)
        self.side5 = nn.Conv2d(512, out_ch, 3, padding=1)
        self.side6 = nn.Conv2d(512, out_ch, 3, padding=1)

    def forward(self, x: torch.Tensor, side_outputs: bool = True) -> list[torch.Tensor]:
        hx1 = self.stage1(self.conv_in(x))
        hx2 = self.stage2(self.pool12(hx1))
        hx3 = self.stage3(self.pool23(hx2))
        hx4 = self.stage4(self.pool34(hx3))
        hx5 = self.stage5(self.pool45(hx4))
        hx6 = self.stage6(self.pool56(hx5))

        hx5d = self.stage5d(torch.cat((upsample_like(hx6, hx5), hx5), 1))
        hx4d = self.stage4d(torch.cat((upsample_like(hx5d, hx4), hx4), 1))
        hx3d = self.stage3d(torch.cat((upsample_like(hx4d, hx3), hx3), 1))
        hx2d = self.stage2d(torch.cat((upsample_like(hx3d, hx2), hx2), 1))
        hx1d = self.stage1d(torch.cat((upsample_like(hx2d, hx1), hx1), 1))

        d1 = torch.sigmoid(upsample_like(self.side1(hx1d), x))
        if not side_outputs:
            return [d1]
        sides = [
            self.side2(hx2d), self.side3(hx3d), self.side4(hx4d), self.side5(hx5d), self.side6(hx6),
        ]
        return [d1] + [torch.sigmoid(upsample_like(s, x)) for s in sides]
