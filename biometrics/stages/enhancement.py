"""Enhanced image: ridges restored by oriented band-pass filtering, block by block in the frequency domain.

Each overlapping 32x32 block is windowed, transformed, multiplied by a filter that passes only the
block's ridge frequency and direction (the frequency-domain equivalent of a Gabor filter tuned to the
block), transformed back and overlap-added. All blocks are processed at once as one NumPy batch.
Positive output = valley, negative = ridge (the sign of the band-passed input, where ridges are dark).
"""

from __future__ import annotations

import cv2
import numpy as np

from biometrics.stages import grid
from biometrics.stages.frequency import RidgeFrequency
from biometrics.stages.orientation import OrientationField

BLOCK = 32
STEP = BLOCK // 2
# Radial pass band relative to the ridge frequency; angular band in radians, widened where the
# ridge direction is uncertain (low coherence: curved ridges near cores and deltas).
RADIAL_BANDWIDTH = 0.35
ANGULAR_SIGMA_MIN, ANGULAR_SIGMA_MAX = 0.15, 0.45
# Block orientation comes from gradient moments averaged over a whole block.
BLOCK_ORIENTATION_SIGMA = 6.0


def _sqrt_hann(n: int) -> np.ndarray:
    # The periodic Hann window sums to one at 50 % overlap; its square root is applied twice
    # (analysis and synthesis), so the overlap-added blocks reconstruct the image exactly.
    return np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)


_WINDOW = np.outer(_sqrt_hann(BLOCK), _sqrt_hann(BLOCK))


def _ccs_frequencies(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (fx, fy) of each element of OpenCV's packed (CCS) spectrum of a real n x n block.

    Inner columns 2j-1, 2j hold Re/Im of Y[ky=row, kx=j]; the first and last columns hold the kx=0 and
    kx=n/2 columns, packed down the rows as Y0, Re/Im Y1, ..., Y(n/2).
    """
    rows, cols = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    kx = (cols + 1) // 2
    ky = rows.copy()
    edge = (cols == 0) | (cols == n - 1)
    kx[cols == n - 1] = n // 2
    ky[edge] = (rows[edge] + 1) // 2
    ky[edge & (rows == n - 1)] = n // 2
    freq = np.fft.fftfreq(n).astype(np.float32)
    return freq[kx], freq[ky]


_FX, _FY = _ccs_frequencies(BLOCK)
_RHO = np.hypot(_FX, _FY)
_PSI = np.arctan2(_FY, _FX)
_COS2PSI, _SIN2PSI = np.cos(2 * _PSI), np.sin(2 * _PSI)

# The real and imaginary parts of one frequency sit side by side in the packed spectrum (inner column
# pairs 2j-1, 2j; row pairs 2k-1, 2k of the edge columns) and share one gain, so the gain is computed
# once per distinct frequency: inner columns at the odd positions, then each edge column's own rows.
_EDGE_ROWS = np.r_[0, 1:BLOCK:2]  # 0, 1, 3, ..., n-1
_INNER = BLOCK * (BLOCK // 2 - 1)


def _distinct(table: np.ndarray) -> np.ndarray:
    return np.concatenate([table[:, 1 : BLOCK - 1 : 2].ravel(), table[_EDGE_ROWS, 0], table[_EDGE_ROWS, BLOCK - 1]])


_D_RHO, _D_COS2PSI, _D_SIN2PSI = _distinct(_RHO), _distinct(_COS2PSI), _distinct(_SIN2PSI)


def enhanced_image(
    band: np.ndarray,
    contrast: np.ndarray,
    orientation: OrientationField,
    frequency: RidgeFrequency,
    mask: np.ndarray,
) -> np.ndarray:
    h, w = band.shape
    # Equalise contrast so faint areas (dry skin, light pressure) are filtered like strong ones.
    signal = band / (contrast + 4.0)
    pad_y = STEP + (-(h + 2 * STEP) % STEP)
    pad_x = STEP + (-(w + 2 * STEP) % STEP)
    padded = cv2.copyMakeBorder(signal * mask, STEP, pad_y, STEP, pad_x, cv2.BORDER_CONSTANT, value=0)
    grid_blocks = np.lib.stride_tricks.sliding_window_view(padded, (BLOCK, BLOCK))[::STEP, ::STEP]
    ny, nx = grid_blocks.shape[:2]
    # Only blocks that overlap the finger are worth filtering. A block is four STEP x STEP cells.
    padded_mask = cv2.copyMakeBorder(mask.view(np.uint8), STEP, pad_y, STEP, pad_x, cv2.BORDER_CONSTANT, value=0)
    cell_any = padded_mask.reshape(ny + 1, STEP, nx + 1, STEP).any(axis=(1, 3))
    covered = cell_any[:-1, :-1] | cell_any[:-1, 1:] | cell_any[1:, :-1] | cell_any[1:, 1:]
    by, bx = np.nonzero(covered)
    blocks = grid_blocks[by, bx]
    blocks *= _WINDOW

    # Per-block filter parameters sampled at block centres (shifted back by the padding).
    cy = np.clip(by * STEP + BLOCK // 2 - STEP, 0, h - 1)
    cx = np.clip(bx * STEP + BLOCK // 2 - STEP, 0, w - 1)
    cos2, sin2, coherence = _block_orientation(orientation, cy, cx)
    f0 = frequency.frequency[cy, cx][:, None]
    sigma = ANGULAR_SIGMA_MIN + (ANGULAR_SIGMA_MAX - ANGULAR_SIGMA_MIN) * (1 - coherence)
    # Angular term as a von Mises in the doubled angle: exp((cos 2d - 1) / (4 sigma^2)) ~ exp(-d^2 / 2 sigma^2)
    # for a small difference d between a frequency's direction and the ridge normal, periodic in pi.
    # Evaluated in place, one distinct frequency per column (see _distinct).
    gain = _D_COS2PSI * cos2[:, None]
    gain += _D_SIN2PSI * sin2[:, None]
    gain -= 1
    gain *= (0.25 / sigma**2)[:, None]
    radial = _D_RHO - f0
    np.square(radial, out=radial)
    radial /= 2 * (RADIAL_BANDWIDTH * f0) ** 2
    gain -= radial
    np.exp(gain, out=gain)
    gain *= np.float32(1 / (BLOCK * BLOCK))
    filtered = _filter_blocks(blocks, gain)
    filtered *= _WINDOW

    cells = np.zeros((ny + 1, nx + 1, STEP, STEP), np.float32)
    for a in (0, 1):
        for b in (0, 1):
            # Within one quadrant every target cell is distinct, so a plain indexed add is exact.
            cells[by + a, bx + b] += filtered[:, a * STEP : (a + 1) * STEP, b * STEP : (b + 1) * STEP]
    out = cells.transpose(0, 2, 1, 3).reshape((ny + 1) * STEP, (nx + 1) * STEP)
    return np.multiply(out[STEP : STEP + h, STEP : STEP + w], mask)


def _filter_blocks(blocks: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Multiply each block's spectrum by its real, point-symmetric gain (so the result stays real).

    One small OpenCV DFT per block in its packed real format beats NumPy's batched FFT several times
    over at this size. (OpenCV's batched row transforms reproduce the 2-D result bit for bit, but its
    complex row transforms for the column pass cost more than the per-block calls they replace.)
    ``gain`` has one column per distinct frequency (see _distinct); each applies to both the real and
    the imaginary part of its frequency.
    """
    spectra = np.empty_like(blocks)
    dft = cv2.dft
    for block, spectrum in zip(blocks, spectra, strict=True):
        dft(block, dst=spectrum)
    half = BLOCK // 2
    inner = gain[:, :_INNER].reshape(len(blocks), BLOCK, half - 1)
    spectra[:, :, 1 : BLOCK - 1 : 2] *= inner
    spectra[:, :, 2 : BLOCK - 1 : 2] *= inner
    for k, col in enumerate((0, BLOCK - 1)):
        edge = gain[:, _INNER + k * (half + 1) : _INNER + (k + 1) * (half + 1)]
        spectra[:, 0, col] *= edge[:, 0]
        spectra[:, 1 : BLOCK - 1 : 2, col] *= edge[:, 1:half]
        spectra[:, 2 : BLOCK - 1 : 2, col] *= edge[:, 1:half]
        spectra[:, BLOCK - 1, col] *= edge[:, half]
    out = np.empty_like(blocks)
    inverse = cv2.DFT_INVERSE | cv2.DFT_REAL_OUTPUT
    for spectrum, result in zip(spectra, out, strict=True):
        dft(spectrum, dst=result, flags=inverse)
    return out


def _block_orientation(orientation: OrientationField, cy: np.ndarray, cx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cos and sin of twice the normal direction averaged over each block, and its coherence."""
    if orientation.doubled_cells is None:
        doubled = 2 * orientation.normal
        c, s = grid.to_cells(np.cos(doubled) * orientation.coherence), grid.to_cells(np.sin(doubled) * orientation.coherence)
    else:
        c, s = orientation.doubled_cells
    c, s = grid.smooth_cells(c, BLOCK_ORIENTATION_SIGMA), grid.smooth_cells(s, BLOCK_ORIENTATION_SIGMA)
    iy, ix = np.minimum(cy // grid.CELL, c.shape[0] - 1), np.minimum(cx // grid.CELL, c.shape[1] - 1)
    c, s = c[iy, ix], s[iy, ix]
    strength = np.hypot(c, s) + 1e-6
    return c / strength, s / strength, np.clip(strength, 0, 1)
