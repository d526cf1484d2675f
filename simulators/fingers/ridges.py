"""Ridge pattern growth: iterative Gabor filtering steered by the orientation and frequency maps.

Starting from a few random seeds, each pass filters the whole image with a small bank of Gabor
filters (orientations x ridge periods) and keeps, at each pixel, the responses of the filters nearest
the local orientation and period, blended linearly. Saturating the result after every pass makes the
seeds grow into ridges that fill the print; where two growth fronts meet out of phase, minutiae form,
much as SFinGe (Cappelli, Maio, Maltoni) describes. The bank is small so that OpenCV's filter2D does
the heavy lifting: one call per bank entry per pass.
"""

from __future__ import annotations

import cv2
import numpy as np

N_ORIENTATIONS = 12
PERIODS = (7.6, 10.6)  # ridge period range in master pixels (500 dpi: 0.39 .. 0.54 mm)


def _kernel(theta: float, period: float) -> np.ndarray:
    sigma = 0.5 * period
    gamma = 0.75  # elongated along the ridge: smoother, straighter growth
    half = int(np.ceil(2.6 * sigma / gamma))
    # cv2's theta is the normal to the stripes; our theta is the ridge direction.
    k = cv2.getGaborKernel(
        (2 * half + 1, 2 * half + 1), sigma, theta + np.pi / 2, period, gamma, 0.0, cv2.CV_32F
    )
    k -= k.mean()  # no DC: growth must not drift towards all-ridge or all-valley
    return (k / np.abs(k).sum() * 4.0).astype(np.float32)


def _bank_weights(orientation: np.ndarray, period: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(kernel, per-pixel weight) pairs; weights sum to 1 at every pixel."""
    step = np.pi / N_ORIENTATIONS
    pos = orientation / step
    lo = np.floor(pos).astype(np.int32) % N_ORIENTATIONS
    frac_o = (pos - np.floor(pos)).astype(np.float32)
    hi = (lo + 1) % N_ORIENTATIONS
    p = np.clip((period - PERIODS[0]) / (PERIODS[1] - PERIODS[0]), 0.0, 1.0).astype(np.float32)
    bank = []
    for o in range(N_ORIENTATIONS):
        w_o = np.where(lo == o, 1.0 - frac_o, 0.0) + np.where(hi == o, frac_o, 0.0)
        if not w_o.any():
            continue
        for j, per in enumerate(PERIODS):
            w = (w_o * (p if j else 1.0 - p)).astype(np.float32)
            if w.max() > 1e-4:
                bank.append((_kernel(o * step, per), w))
    return bank


def _spectrum(kernel: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The DFT of ``kernel`` placed with its centre at the origin of a ``shape`` array (circular)."""
    padded = np.zeros(shape, np.float32)
    kh, kw = kernel.shape
    padded[:kh, :kw] = kernel
    padded = np.roll(padded, (-(kh // 2), -(kw // 2)), axis=(0, 1))
    return cv2.dft(padded, flags=cv2.DFT_COMPLEX_OUTPUT)


def grow_ridges(
    orientation: np.ndarray,
    period: np.ndarray,
    rng: np.random.Generator,
    passes: int = 8,
    seeds_per_mpx: int = 2000,
) -> np.ndarray:
    """A ridge pattern in [-1, 1] (positive = ridge) following ``orientation`` and ``period``."""
    h, w = orientation.shape
    bank = _bank_weights(orientation, period)
    # Filtering in the frequency domain: one forward DFT per pass, one product and inverse per
    # kernel, about 3x faster than filter2D with kernels this size. The reflected margin keeps the
    # circular convolution from wrapping one edge of the print onto the other.
    margin = max(k.shape[0] for k, _ in bank) // 2 + 1
    fh = cv2.getOptimalDFTSize(h + 2 * margin)
    fw = cv2.getOptimalDFTSize(w + 2 * margin)
    spectra = [(_spectrum(k, (fh, fw)), weight) for k, weight in bank]
    img = np.zeros((h, w), np.float32)
    n = max(4, int(seeds_per_mpx * h * w / 1e6))
    ys = rng.integers(0, h, n)
    xs = rng.integers(0, w, n)
    img[ys, xs] = rng.choice(np.array([-1.0, 1.0], np.float32), n)
    img = cv2.GaussianBlur(img, (0, 0), 1.5) * 20.0
    for _ in range(passes):
        padded = cv2.copyMakeBorder(img, margin, fh - h - margin, margin, fw - w - margin, cv2.BORDER_REFLECT)
        spec = cv2.dft(padded, flags=cv2.DFT_COMPLEX_OUTPUT)
        acc = np.zeros_like(img)
        for kspec, weight in spectra:
            out = cv2.idft(cv2.mulSpectrums(spec, kspec, 0), flags=cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE)
            cv2.accumulateProduct(out[margin : margin + h, margin : margin + w], weight, acc)
        img = np.clip(acc * 2.5, -1.0, 1.0)
    return img
