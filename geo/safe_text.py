"""Text safety for spreadsheets: neutralise cells Excel/WPS would run as formulas.

A text cell beginning with ``=``, ``+``, ``-``, ``@``, tab or carriage return is a formula
(or DDE) to a spreadsheet (CSV injection); it gets a leading apostrophe. Numbers stay numbers.
"""

from __future__ import annotations

__all__ = ["FORMULA_PREFIXES", "escape_markdown", "neutralise_formula", "restore_neutralised"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: object) -> object:
    """``'=cmd|…'`` → ``"'=cmd|…"``; numbers, dates and None pass through unchanged.

    Examples
    --------
    >>> neutralise_formula("=1+1"), neutralise_formula(-5), neutralise_formula("-5")
    ("'=1+1", -5, "'-5")
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def restore_neutralised(value: str) -> str:
    """Undo :func:`neutralise_formula` on text read back from a report the product wrote."""
    if len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


_MARKDOWN_SPECIALS = frozenset("\\`*_{}[]()#+-.!|<>~$:&\"'=")


def escape_markdown(value: object) -> str:
    """Text from data, safe inside Streamlit markdown (headers, labels, page links): every
    ASCII punctuation character that markdown, HTML, emoji shortcodes (``:x:``) or LaTeX
    (``$``) could interpret is backslash-escaped (CommonMark allows escaping any of them),
    and line breaks become spaces so a value cannot start a block of its own.

    Examples
    --------
    >>> escape_markdown("![x](http://e/a.png) <b>*甲*</b>")
    '\\\\!\\\\[x\\\\]\\\\(http\\\\://e/a\\\\.png\\\\) \\\\<b\\\\>\\\\*甲\\\\*\\\\</b\\\\>'
    """
    text = " ".join(str(value).split()) if value is not None else ""
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIALS else ch for ch in text)
