"""统一社会信用代码 (unified social credit code, USCC) validation, GB 32100-2015.

An enterprise's identity is its 18-character USCC:

====== ==================================================================
chars  meaning
====== ==================================================================
1      registration department (登记管理部门码), e.g. ``9`` = 市场监管 (工商)
2      entity type (机构类别码), e.g. ``1`` = enterprise
3–8    administrative division of the registering authority (GB/T 2260)
9–17   organisation code (组织机构代码, GB 11714): 8 body characters + check
18     check character over characters 1–17
====== ==================================================================

Both checks are verified: a code whose 18th character is right but whose organisation code is not
was not issued under GB 32100. Characters 1–8 are only checked against the alphabet.

Input handling: surrounding whitespace (including the full-width space) is trimmed and ASCII
lower-case letters are upper-cased before checking, because lower case is a transcription slip,
not a different code; store :func:`normalise_uscc` of the input, not the raw text.

Problem reasons, in the order they are checked (the first that applies is reported):

* ``"missing"`` — None, NaN or blank;
* ``"not_text"`` — not a string (e.g. a number read from Excel, which has lost digits);
* ``"length"`` — not 18 characters;
* ``"alphabet"`` — a character outside ``0-9 A-H J-N P-R T U W-Y`` (I, O, S, V, Z are never used);
* ``"org_code_check"`` — characters 9–17 fail the GB 11714 check;
* ``"check_digit"`` — the 18th character does not match characters 1–17.
"""

from __future__ import annotations

import string

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = [
    "USCC_ALPHABET",
    "USCC_LENGTH",
    "USCC_PROBLEM_REASONS",
    "is_valid_uscc",
    "make_uscc",
    "normalise_uscc",
    "random_valid_uscc",
    "uscc_problem",
    "uscc_problems",
]

USCC_LENGTH = 18
# GB 32100-2015 code character set; a character's value is its index (0..30).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_MODULUS = 31
_USCC_WEIGHTS = tuple(pow(3, i, _USCC_MODULUS) for i in range(USCC_LENGTH - 1))  # 3^i mod 31

# GB 11714 organisation code: characters 9-17 of the USCC (0-based 8..16), the last one the check.
_ORG_CODE_START = 8
_ORG_CODE_CHECK_INDEX = 16
_ORG_CODE_BODY_LENGTH = _ORG_CODE_CHECK_INDEX - _ORG_CODE_START
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CODE_MODULUS = 11
# GB 11714 values body letters by their place in the full Latin alphabet, A=10 .. Z=35 (not by the
# USCC alphabet index). Checked on public codes with letters in the organisation code, e.g.
# 91440300MA5H0HLK5U and 91310000MA1FW1BXX2: they pass with A=10..Z=35 and fail with the index.
_ORG_CODE_CHARS = string.digits + string.ascii_uppercase
# Check value c = 11 - (sum mod 11) is 1..11; 10 is written X and 11 is written 0.
_ORG_CODE_CHECK_CHARS = "?123456789X0"  # indexed by c; index 0 never occurs

_USCC_REGION_LENGTH = 6  # characters 3-8, a GB/T 2260 county code such as 340303
_DEMO_REGISTRATION_DEPARTMENT = "9"  # 市场监管 (工商)
_DEMO_ENTITY_TYPE = "1"  # enterprise
_DEMO_NEW_STYLE_ORG_PREFIX = "MA"  # organisation codes issued with USCCs since 2015 start MA

MISSING = "missing"
NOT_TEXT = "not_text"
LENGTH = "length"
ALPHABET = "alphabet"
ORG_CODE_CHECK = "org_code_check"
CHECK_DIGIT = "check_digit"
USCC_PROBLEM_REASONS = (MISSING, NOT_TEXT, LENGTH, ALPHABET, ORG_CODE_CHECK, CHECK_DIGIT)

_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def _byte_table(chars: str) -> NDArray[np.int64]:
    """Read-only lookup from an ASCII byte to the character's index in ``chars``, else -1."""
    table = np.full(256, -1, dtype=np.int64)
    for value, char in enumerate(chars):
        table[ord(char)] = value
    table.flags.writeable = False
    return table


_USCC_VALUE_OF_BYTE = _byte_table(USCC_ALPHABET)
_ORG_VALUE_OF_BYTE = _byte_table(_ORG_CODE_CHARS)
_ORG_CHECK_BYTE_OF_VALUE = np.frombuffer(_ORG_CODE_CHECK_CHARS.encode("ascii"), dtype=np.uint8)


def normalise_uscc(code: str) -> str:
    """Trim surrounding whitespace and upper-case ASCII letters; nothing else is changed.

    Examples
    --------
    >>> normalise_uscc(" 91330100799655058b\\u3000")
    '91330100799655058B'
    """
    return code.strip().translate(_ASCII_UPPER)


def uscc_problem(code: object) -> str | None:
    """Return why ``code`` is not a valid USCC, or None if it is valid.

    Parameters
    ----------
    code : str
        The code as entered; anything else is reported as ``"missing"`` or ``"not_text"``.

    Returns
    -------
    str or None
        One of ``USCC_PROBLEM_REASONS`` (see the module docstring), None when valid.

    Examples
    --------
    >>> uscc_problem("91330100799655058B") is None
    True
    >>> uscc_problem("91330100799655058C"), uscc_problem("9133010079965505"), uscc_problem(None)
    ('check_digit', 'length', 'missing')
    """
    values = np.empty(1, dtype=object)
    values[0] = code  # assigned, so a list-like code is not unpacked by numpy
    return _problems_of(values)[0]


def is_valid_uscc(code: object) -> bool:
    """True if ``code`` passes every check of :func:`uscc_problem`.

    Examples
    --------
    >>> is_valid_uscc("91440300708461136T"), is_valid_uscc("91440300708461136S")
    (True, False)
    """
    return uscc_problem(code) is None


def uscc_problems(codes: pd.Series) -> pd.Series:
    """Check a column of codes at once: the reason per row, None where the code is valid.

    Parameters
    ----------
    codes : pandas.Series
        Codes as entered (strings; missing and non-string values are reported, not raised).

    Returns
    -------
    pandas.Series
        Object dtype, named ``"uscc_problem"``, on the input's index.

    Examples
    --------
    >>> uscc_problems(pd.Series(["91110000802100433B", "91110000802100434B", None])).tolist()
    [None, 'org_code_check', 'missing']
    """
    values = codes.to_numpy(dtype=object)
    plain = _plain_ascii(codes)
    if plain is None:
        reasons = _problems_of(values)
    else:  # letters and digits only: normalising is upper-casing, done for the whole column
        reasons = np.full(len(values), None, dtype=object)
        reasons[~plain] = _problems_of(values[~plain])
        reasons[plain] = _checked(
            codes[plain].str.upper().to_numpy(dtype=object), np.full(int(plain.sum()), None, dtype=object)
        )
    return pd.Series(reasons, index=codes.index, dtype=object, name="uscc_problem")


def _plain_ascii(codes: pd.Series) -> NDArray[np.bool_] | None:
    """Which codes are non-empty ASCII letters and digits (nothing to trim), when the column is
    text; None otherwise."""
    if not pd.api.types.is_string_dtype(codes.dtype) or codes.dtype == object:
        return None
    return codes.str.fullmatch("[0-9A-Za-z]+").fillna(False).to_numpy(dtype=bool)


def make_uscc(body17: str) -> str:
    """Append the GB 32100 check character to the first 17 characters of a code.

    The organisation-code check inside ``body17`` (character 17) is not computed here: pass a
    body whose characters 9–17 are already a valid GB 11714 code, as :func:`random_valid_uscc`
    does, or the result fails with ``"org_code_check"``.

    Parameters
    ----------
    body17 : str
        17 characters of the USCC alphabet, upper case.

    Returns
    -------
    str
        The 18-character code.

    Raises
    ------
    ValueError
        If ``body17`` is not 17 characters of the USCC alphabet.

    Examples
    --------
    >>> make_uscc("91330100799655058")
    '91330100799655058B'
    """
    if len(body17) != USCC_LENGTH - 1 or any(char not in USCC_ALPHABET for char in body17):
        raise ValueError(
            f"body17 must be {USCC_LENGTH - 1} characters of {USCC_ALPHABET!r}, "
            f"got {body17!r}; upper-case it and drop I, O, S, V and Z"
        )
    values = [USCC_ALPHABET.index(char) for char in body17]
    total = sum(v * w for v, w in zip(values, _USCC_WEIGHTS, strict=True))
    return body17 + USCC_ALPHABET[-total % _USCC_MODULUS]


def random_valid_uscc(rng: np.random.Generator, region_prefix: str = "340303") -> str:
    """Generate a synthetic enterprise USCC that passes both checks (for demo data only).

    The code is ``9`` (市场监管) + ``1`` (enterprise) + ``region_prefix`` + a 9-character
    organisation code + the check character. Half of the organisation codes are old style
    (8 digits), half new style (``MA`` + 6 characters of the USCC alphabet), as in real lists.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness; the same seed gives the same code.
    region_prefix : str, default "340303"
        Six-digit GB/T 2260 code of the registering authority (340303 = 蚌山区).

    Returns
    -------
    str
        An 18-character code for which :func:`uscc_problem` returns None.

    Raises
    ------
    ValueError
        If ``region_prefix`` is not six digits.

    Examples
    --------
    >>> code = random_valid_uscc(np.random.default_rng(7))
    >>> code[:8], is_valid_uscc(code)
    ('91340303', True)
    """
    if len(region_prefix) != _USCC_REGION_LENGTH or not region_prefix.isdigit():
        raise ValueError(
            f"region_prefix must be a {_USCC_REGION_LENGTH}-digit GB/T 2260 code such as "
            f"'340303', got {region_prefix!r}"
        )
    org_body = _random_org_code_body(rng)
    org_code = org_body + _org_code_check_char(org_body)
    return make_uscc(_DEMO_REGISTRATION_DEPARTMENT + _DEMO_ENTITY_TYPE + region_prefix + org_code)


# ============================================================================================
# Private helpers
# ============================================================================================


def _problems_of(values: NDArray[np.object_]) -> NDArray[np.object_]:
    """Reason (or None) per value: text checks per element, then all checksums as arrays."""
    reasons = np.full(len(values), None, dtype=object)
    texts = np.full(len(values), None, dtype=object)
    for i, value in enumerate(values):
        texts[i], reasons[i] = _clean(value)
    return _checked(texts, reasons)


def _checked(texts: NDArray[np.object_], reasons: NDArray[np.object_]) -> NDArray[np.object_]:
    """``reasons`` completed with the length and checksum checks of the normalised ``texts``
    (None where a reason is already known)."""
    lengths = np.array([-1 if text is None else len(text) for text in texts], dtype=np.int64)
    reasons[(lengths >= 0) & (lengths != USCC_LENGTH)] = LENGTH
    full_length = lengths == USCC_LENGTH
    reasons[full_length] = _checksum_problems(_byte_matrix(texts[full_length]))
    return reasons


def _clean(value: object) -> tuple[str | None, str | None]:
    """The normalised text, or None and the reason it cannot be checked."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None, MISSING
    if not isinstance(value, str):
        return None, NOT_TEXT
    text = normalise_uscc(value)
    return (text, None) if text else (None, MISSING)


def _byte_matrix(texts: NDArray[np.object_]) -> NDArray[np.uint8]:
    """One row of 18 bytes per code; a non-ASCII character becomes '?', outside the alphabet."""
    encoded = [text.encode("ascii", errors="replace") for text in texts]
    as_bytes = np.array(encoded, dtype=f"S{USCC_LENGTH}")
    return as_bytes.view(np.uint8).reshape(-1, USCC_LENGTH)


def _checksum_problems(chars: NDArray[np.uint8]) -> NDArray[np.object_]:
    """Alphabet, GB 11714 and GB 32100 checks on an (n, 18) byte matrix, first failure wins."""
    values = _USCC_VALUE_OF_BYTE[chars]
    bad_alphabet = (values < 0).any(axis=1)
    org_body = _ORG_VALUE_OF_BYTE[chars[:, _ORG_CODE_START:_ORG_CODE_CHECK_INDEX]]
    org_check = _ORG_CODE_MODULUS - (org_body @ np.array(_ORG_CODE_WEIGHTS)) % _ORG_CODE_MODULUS
    bad_org = _ORG_CHECK_BYTE_OF_VALUE[org_check] != chars[:, _ORG_CODE_CHECK_INDEX]
    uscc_check = -(values[:, :-1] @ np.array(_USCC_WEIGHTS)) % _USCC_MODULUS
    bad_check = uscc_check != values[:, -1]
    # Rows with a bad character carry -1 values into the sums; the alphabet reason masks them.
    reasons = np.full(len(chars), None, dtype=object)
    reasons[bad_check] = CHECK_DIGIT
    reasons[bad_org] = ORG_CODE_CHECK
    reasons[bad_alphabet] = ALPHABET
    return reasons


def _org_code_check_char(body8: str) -> str:
    """GB 11714 check character for an 8-character organisation-code body."""
    values = [_ORG_CODE_CHARS.index(char) for char in body8]
    total = sum(v * w for v, w in zip(values, _ORG_CODE_WEIGHTS, strict=True))
    return _ORG_CODE_CHECK_CHARS[_ORG_CODE_MODULUS - total % _ORG_CODE_MODULUS]


def _random_org_code_body(rng: np.random.Generator) -> str:
    """Eight organisation-code body characters, old style (digits) or new style (MA...)."""
    if rng.random() < 0.5:
        return "".join(rng.choice(list(string.digits), size=_ORG_CODE_BODY_LENGTH))
    tail_length = _ORG_CODE_BODY_LENGTH - len(_DEMO_NEW_STYLE_ORG_PREFIX)
    tail = rng.choice(list(USCC_ALPHABET), size=tail_length)
    return _DEMO_NEW_STYLE_ORG_PREFIX + "".join(tail)
