"""Tests for geo.uscc: 统一社会信用代码 validation (GB 32100-2015 with the GB 11714 check)."""

from __future__ import annotations

import string

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.uscc import (
    USCC_ALPHABET,
    USCC_PROBLEM_REASONS,
    is_valid_uscc,
    make_uscc,
    normalise_uscc,
    random_valid_uscc,
    uscc_problem,
    uscc_problems,
)

# DOMAIN.md §4: public codes that pass both checks (organisation codes all digits).
PUBLIC_CODES = [
    "91330100799655058B",
    "91440300708461136T",
    "914403001922038216",
    "91110000802100433B",
]
# Public codes whose organisation code contains letters (new-style MA... codes): they pin the
# GB 11714 letter values A=10..Z=35; with the USCC alphabet's index (J=18 ...) all four fail.
PUBLIC_CODES_WITH_LETTERS = [
    "91310000MA1FW1BXX2",
    "91310000MA1K32MN7F",
    "91440300MA5H0HLK5U",
    "91133100MA0D8N1J7G",
]
FORBIDDEN_LETTERS = "IOSVZ"

ORG_CODE_BODY_POSITIONS = range(8, 16)  # 0-based: characters 9-16
ORG_CODE_CHECK_POSITION = 16  # character 17


def _gb11714_value(char: str) -> int:
    """GB 11714 character value, written out independently of the module: 0-9, A=10 .. Z=35."""
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


def _expected_reason(original: str, position: int, replacement: str) -> str:
    """Which check a single substitution must trip first, from the two standards."""
    if replacement not in USCC_ALPHABET:
        return "alphabet"
    if position == ORG_CODE_CHECK_POSITION:
        return "org_code_check"
    if position in ORG_CODE_BODY_POSITIONS:
        # Every GB 11714 weight is nonzero mod the prime 11, so the organisation check misses a
        # substitution exactly when the two values are congruent mod 11 (e.g. 0 and B = 11).
        delta = _gb11714_value(replacement) - _gb11714_value(original[position])
        if delta % 11 != 0:
            return "org_code_check"
    # Every USCC weight 3^i is nonzero mod the prime 31 and alphabet values are distinct mod 31,
    # so the 18th character always catches a single substitution.
    return "check_digit"


# --- valid codes ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", PUBLIC_CODES + PUBLIC_CODES_WITH_LETTERS)
def test_public_codes_are_valid(code):
    assert uscc_problem(code) is None
    assert is_valid_uscc(code)


@pytest.mark.parametrize("code", PUBLIC_CODES + PUBLIC_CODES_WITH_LETTERS)
def test_make_uscc_reproduces_public_check_characters(code):
    assert make_uscc(code[:17]) == code


# --- single-character corruptions -----------------------------------------------------------


@pytest.mark.parametrize("position", range(18))
@pytest.mark.parametrize("code", PUBLIC_CODES + PUBLIC_CODES_WITH_LETTERS)
def test_every_single_substitution_is_invalid_with_the_right_reason(code, position):
    for replacement in USCC_ALPHABET + FORBIDDEN_LETTERS:
        if replacement == code[position]:
            continue
        corrupted = code[:position] + replacement + code[position + 1 :]
        assert uscc_problem(corrupted) == _expected_reason(code, position, replacement), corrupted


def test_substitution_invisible_to_the_org_check_is_caught_by_the_check_digit():
    code = PUBLIC_CODES[2]  # 91440300 192203821 6: character 13 is '0'
    # '0' -> 'B': GB 11714 values 0 and 11 are congruent mod 11, so only the USCC check sees it.
    assert uscc_problem(code[:12] + "B" + code[13:]) == "check_digit"
    # '0' -> '1' changes the organisation-code sum, and that check is reported first.
    assert uscc_problem(code[:12] + "1" + code[13:]) == "org_code_check"


# --- shape of the input -----------------------------------------------------------------------


@pytest.mark.parametrize("code", ["9133010079965505", "91330100799655058", "91330100799655058BB", "9"])
def test_wrong_length(code):
    assert uscc_problem(code) == "length"


@pytest.mark.parametrize("letter", FORBIDDEN_LETTERS + FORBIDDEN_LETTERS.lower())
def test_forbidden_letters(letter):
    code = PUBLIC_CODES[0]
    for position in range(18):
        assert uscc_problem(code[:position] + letter + code[position + 1 :]) == "alphabet"


@pytest.mark.parametrize("character", ["?", "-", "０", "Ａ", "ß", "\x00"])
def test_non_alphabet_characters(character):
    assert uscc_problem(PUBLIC_CODES[0][:17] + character) == "alphabet"


def test_lowercase_is_accepted_after_upper_casing():
    code = PUBLIC_CODES[0]  # ends in B
    assert uscc_problem(code.lower()) is None
    assert normalise_uscc(code.lower()) == code
    assert uscc_problem(PUBLIC_CODES_WITH_LETTERS[0].lower()) is None


def test_only_ascii_letters_are_upper_cased():
    # 'ﬀ'.upper() is 'FF': a naive upper() would turn 17 characters into a valid 18.
    org_body = "MAFF1234"
    weighted = sum(_gb11714_value(c) * w for c, w in zip(org_body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    org_check = {10: "X", 11: "0"}.get(11 - weighted % 11, str(11 - weighted % 11))
    code = make_uscc("91340303" + org_body + org_check)
    assert is_valid_uscc(code)
    with_ligature = code.replace("FF", "ﬀ")
    assert normalise_uscc(with_ligature) == with_ligature
    assert uscc_problem(with_ligature) == "length"


def test_surrounding_whitespace_is_trimmed():
    assert uscc_problem(f"  {PUBLIC_CODES[1]}\t\u3000") is None
    assert uscc_problem(PUBLIC_CODES[1][:9] + " " + PUBLIC_CODES[1][10:]) == "alphabet"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "missing"),
        (float("nan"), "missing"),
        (pd.NA, "missing"),
        ("", "missing"),
        ("  ", "missing"),
        (914403001922038216, "not_text"),  # an all-digit code read as a number
        (9.14403001922038e17, "not_text"),  # ... and as Excel's float, digits already lost
        (["9"], "not_text"),
    ],
)
def test_missing_and_non_text(value, reason):
    assert uscc_problem(value) == reason
    assert not is_valid_uscc(value)


# --- vectorised -------------------------------------------------------------------------------


def test_uscc_problems_keeps_index_and_reports_every_row():
    codes = pd.Series(
        [
            PUBLIC_CODES[0],
            "91330100799655058C",
            "9133",
            None,
            "91330100799655O58B",
            PUBLIC_CODES[3].lower(),
        ],
        index=[10, 20, 30, 40, 50, 60],
    )
    problems = uscc_problems(codes)
    assert problems.index.tolist() == [10, 20, 30, 40, 50, 60]
    assert problems.name == "uscc_problem"
    assert problems.dtype == object
    assert problems.tolist() == [None, "check_digit", "length", "missing", "alphabet", None]


def test_uscc_problems_accepts_string_dtype_and_empty_series():
    problems = uscc_problems(pd.Series([PUBLIC_CODES[0], None], dtype="string"))
    assert problems.tolist() == [None, "missing"]
    assert uscc_problems(pd.Series([], dtype=object)).empty


def test_uscc_problems_does_not_modify_input():
    codes = pd.Series([" 91330100799655058b "])
    uscc_problems(codes)
    assert codes.iloc[0] == " 91330100799655058b "


code_like_text = st.text(alphabet=USCC_ALPHABET + "IOSVZabc -", min_size=0, max_size=20)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(code_like_text, st.none(), st.integers()), max_size=30))
def test_uscc_problems_agrees_with_uscc_problem(values):
    problems = uscc_problems(pd.Series(values, dtype=object))
    assert problems.tolist() == [uscc_problem(value) for value in values]
    assert set(problems.dropna()) <= set(USCC_PROBLEM_REASONS)


# Text columns as a loader reads them (Arrow-backed strings): plain codes take the vectorised path.
text_cell = st.text(alphabet=USCC_ALPHABET + "IOSVZabcß０ \u3000\t\n-", min_size=0, max_size=20)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(text_cell, st.sampled_from(PUBLIC_CODES), st.none()), max_size=30))
def test_uscc_problems_on_text_columns_agrees_with_uscc_problem(values):
    for dtype in ("str", "string"):
        problems = uscc_problems(pd.Series(values, dtype=dtype))
        assert problems.tolist() == [uscc_problem(value) for value in values], dtype


# --- generating codes -------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    region=st.text(alphabet=string.digits, min_size=6, max_size=6),
)
def test_random_valid_uscc_is_always_valid(seed, region):
    code = random_valid_uscc(np.random.default_rng(seed), region)
    assert uscc_problem(code) is None
    assert code.startswith("91" + region)
    assert len(code) == 18


def test_random_valid_uscc_default_region_and_both_styles():
    rng = np.random.default_rng(0)
    codes = [random_valid_uscc(rng) for _ in range(200)]
    assert all(code.startswith("91340303") for code in codes)
    assert all(is_valid_uscc(code) for code in codes)
    assert any(code[8:10] == "MA" for code in codes)
    assert any(code[8:16].isdigit() for code in codes)


def test_random_valid_uscc_is_reproducible():
    first = random_valid_uscc(np.random.default_rng(42))
    assert random_valid_uscc(np.random.default_rng(42)) == first


@pytest.mark.parametrize("region", ["34030", "3403031", "34O303", ""])
def test_random_valid_uscc_rejects_bad_region(region):
    with pytest.raises(ValueError, match="region_prefix"):
        random_valid_uscc(np.random.default_rng(0), region)


@pytest.mark.parametrize("body", ["9133010079965505", "913301007996550581", "9133010079965505I", "91330100799655o58"])
def test_make_uscc_rejects_bad_body(body):
    with pytest.raises(ValueError, match="body17"):
        make_uscc(body)
