"""A column's mean and standard deviation from exact sums, the same whatever the order.

Floating-point sums depend on the order they are added in: a file profiled in one pass
and the same file profiled in parts (one per row group, on a cluster's workers) would
give means a few units in the last place apart. So the profile keeps the count, the sum
and the sum of squares exactly, as integers: every float64 is an integer `M` (53 bits)
times a power of two, and the integers are added per power of two with `np.bincount`,
whose float64 sums stay exact while they stay under 2**53 (hence the limbs and the
chunks below). Parts merge by adding their integers; the mean and the variance are
rounded once, at the end, and are the correctly rounded values of the exact ones.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

# float64 values are M·2**s with |M| < 2**53 and -1126 <= s <= 971; shifting s by this
# makes every bucket index, and every power of two below, non-negative.
_LOW = 1126
# Rows per bincount: limbs of a sum are < 2**27, those of the squares < 2**37, so this
# many of them add up to less than 2**53, exactly.
_FLOAT_CHUNK = 1 << 25
_SQUARE_CHUNK = 1 << 16
_MASK18 = (1 << 18) - 1
_MASK26 = (1 << 26) - 1
_MASK52 = (1 << 52) - 1
# Dekker's exact square needs |x| well inside float64's range at both ends.
_SPLIT_MAX = 2.0**500
_SPLIT_MIN = 2.0**-400
_VELTKAMP = 2.0**27 + 1.0


class Moments:
    """Count, sum and sum of squares of a column's finite values, kept exactly."""

    def __init__(self):
        self.count = 0
        self.sum = 0  # Σx · 2**_LOW
        self.squares = 0  # Σx² · 2**(2·_LOW)
        self.finite = True

    def add(self, values: np.ndarray) -> None:
        """Add the float64 `values` (missing ones already left out)."""
        if not len(values):
            return
        if not np.isfinite(values).all():
            self.finite = False  # the mean and spread of ±inf or NaN are not shown
            values = values[np.isfinite(values)]
        self.count += len(values)
        total, squares = _exact_sums(values)
        self.sum += total
        self.squares += squares

    def merge(self, other: Moments) -> None:
        self.count += other.count
        self.sum += other.sum
        self.squares += other.squares
        self.finite = self.finite and other.finite

    def mean(self) -> float | None:
        if not self.finite or not self.count:
            return None
        return float(Fraction(self.sum, self.count << _LOW))

    def std(self) -> float | None:
        """The sample standard deviation (n - 1), 0.0 for one value."""
        if not self.finite or not self.count:
            return None
        if self.count == 1:
            return 0.0
        n = self.count
        # n·Σx² - (Σx)², both scaled by 2**(2·_LOW): exact, and never negative.
        spread = n * self.squares - self.sum * self.sum
        try:
            return math.sqrt(Fraction(spread, (n * (n - 1)) << (2 * _LOW)))
        except OverflowError:
            return None


def _exact_sums(values: np.ndarray) -> tuple[int, int]:
    """Σx·2**_LOW and Σx²·2**(2·_LOW) of finite float64 values, exactly."""
    if not len(values):
        return 0, 0
    size = np.abs(values)
    if size.max() < _SPLIT_MAX and size[size > 0].min(initial=1.0) > _SPLIT_MIN:
        # x² = p + e exactly, p the rounded square and e its rounding error (Dekker's
        # product with Veltkamp's split): three exact sums of floats, no wider integers.
        split = values * _VELTKAMP
        high = split - (split - values)
        low = values - high
        square = values * values
        error = ((high * high - square) + 2.0 * high * low) + low * low
        return _float_sum(values), (_float_sum(square) + _float_sum(error)) << _LOW
    # Values so large that a square overflows, or so small that its error underflows.
    return _float_sum(values), _integer_squares(values)


def _float_sum(values: np.ndarray) -> int:
    """Σx·2**_LOW of finite float64 values, exactly."""
    total = 0
    for start in range(0, len(values), _FLOAT_CHUNK):
        m, power = _integers(values[start : start + _FLOAT_CHUNK])
        hi = m >> 26
        lo = m & _MASK26
        total += _collect(power, ((hi.astype(np.float64), 26), (lo.astype(np.float64), 0)))
    return total


def _integer_squares(values: np.ndarray) -> int:
    """Σx²·2**(2·_LOW) from the integers themselves, in limbs of 18 bits (the slow way)."""
    total = 0
    for start in range(0, len(values), _SQUARE_CHUNK):
        m, power = _integers(values[start : start + _SQUARE_CHUNK])
        a = np.abs(m)
        top, mid, low = a >> 36, (a >> 18) & _MASK18, a & _MASK18
        total += _collect(
            2 * power,
            (
                ((top * top).astype(np.float64), 72),
                ((2 * top * mid).astype(np.float64), 54),
                ((mid * mid + 2 * top * low).astype(np.float64), 36),
                ((2 * mid * low).astype(np.float64), 18),
                ((low * low).astype(np.float64), 0),
            ),
        )
    return total


def _integers(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`m` and `power` with x = m · 2**(power - _LOW), |m| < 2**53, power >= 0.

    Read from the float's bits (np.frexp is several times slower): the 52 stored bits of
    the significand, its implicit leading one unless subnormal, the biased exponent.
    """
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    biased = (bits >> 52) & 0x7FF
    m = (bits & _MASK52) | (np.minimum(biased, 1) << 52)
    sign = bits >> 63  # -1 for a negative float, else 0: (m ^ -1) + 1 is -m
    m ^= sign
    m -= sign
    # A normal float is m·2**(biased - 1075), a subnormal one m·2**-1074.
    power = np.maximum(biased, 1) + (_LOW - 1075)
    return m, power


def _collect(power: np.ndarray, limbs) -> int:
    """Σ limb · 2**(shift + power) over every row and limb, as an exact integer."""
    least = int(power.min())
    index = power - least
    total = 0
    for limb, shift in limbs:
        sums = np.bincount(index, weights=limb)
        for p in np.flatnonzero(sums).tolist():
            total += int(sums[p]) << (shift + p + least)
    return total
