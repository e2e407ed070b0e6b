"""Mid/side coding shared by the processors that offer ``mode: mid | side``.

M = (L + R) / 2 and S = (L - R) / 2, decoded by L = M + S and R = M - S: the pair is exact
(decode(encode(x)) == x to rounding) and a mono signal is all mid, so processing only the mid
leaves a centred source's balance to the side alone and vice versa.
"""

from __future__ import annotations

import numpy as np


def encode(x: np.ndarray) -> np.ndarray:
    """(2, n) left/right -> (2, n) mid/side."""
    return np.stack([0.5 * (x[0] + x[1]), 0.5 * (x[0] - x[1])])


def decode(ms: np.ndarray) -> np.ndarray:
    """(2, n) mid/side -> (2, n) left/right."""
    return np.stack([ms[0] + ms[1], ms[0] - ms[1]])
