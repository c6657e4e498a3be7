"""Risk-grade colours: relative luminance and the greyscale distinguishability check.

DOMAIN.md §2: no standard fixes the RGB values of 红橙黄蓝, so the palette is configuration;
this module checks that a configured palette stays readable in greyscale, where red and blue
often collapse to the same grey.
"""

from __future__ import annotations

import itertools
import re

__all__ = [
    "GRADES",
    "GRADE_NAMES_ZH",
    "MIN_LUMINANCE_GAP",
    "relative_luminance",
    "luminance_conflicts",
    "contrast_ratio",
]

# grade 1..4 = 重大/较大/一般/低 (DOMAIN.md §2)
GRADES = (1, 2, 3, 4)
GRADE_NAMES_ZH = {1: "重大风险", 2: "较大风险", 3: "一般风险", 4: "低风险"}
# Pairwise gap in WCAG relative luminance the four grade fills must keep (Foundation issue);
# the defaults 0.128 / 0.364 / 0.751 / 0.269 have their smallest gap, 0.095, between orange and blue.
MIN_LUMINANCE_GAP = 0.08

_HEX = re.compile(r"^#([0-9a-fA-F]{6})$")


def _channel(c8: int) -> float:
    # sRGB transfer function, WCAG 2.x definition of relative luminance
    c = c8 / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(hex_colour: str) -> float:
    """WCAG relative luminance of a ``#RRGGBB`` colour, 0 (black) to 1 (white).

    Examples
    --------
    >>> round(relative_luminance("#C8102E"), 3)
    0.128
    """
    match = _HEX.match(hex_colour)
    if not match:
        raise ValueError(f"colour {hex_colour!r} is not of the form #RRGGBB (e.g. '#C8102E')")
    value = int(match.group(1), 16)
    r, g, b = (value >> 16) & 255, (value >> 8) & 255, value & 255
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio between two ``#RRGGBB`` colours (1 to 21)."""
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def luminance_conflicts(colours: dict[int, str], *, min_gap: float = MIN_LUMINANCE_GAP) -> list[tuple[int, int, float]]:
    """Pairs of grades whose fills are closer than ``min_gap`` in relative luminance.

    Returns ``[(grade_a, grade_b, gap), ...]``; an empty list means the palette passes.

    Examples
    --------
    >>> luminance_conflicts({1: "#C8102E", 2: "#FF7F00", 3: "#FFE100", 4: "#4A90E2"})
    []
    """
    lum = {grade: relative_luminance(colour) for grade, colour in colours.items()}
    return [
        (a, b, abs(lum[a] - lum[b]))
        for a, b in itertools.combinations(sorted(lum), 2)
        if abs(lum[a] - lum[b]) < min_gap
    ]
