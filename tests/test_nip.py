"""NIP structure: valid PNS and PPPK layouts, and each way a NIP can be broken."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.rules.nip import check_nip, is_pppk, nip_reason


def test_valid_pns_nip() -> None:
    result = check_nip("198503122010011001")
    assert result.valid and not result.is_pppk and result.reason is None


def test_valid_pppk_nip_is_flagged() -> None:
    # born 1990-01-01, appointed 2022, literal 21, female, sequence 001
    result = check_nip("199001012022212001")
    assert result.valid and result.is_pppk and result.reason is None


def test_spaces_as_printed_on_documents_are_accepted() -> None:
    assert check_nip(" 19850312 201001 1 001 ").valid


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "1.98503E+17",
            "NIP '1.98503E+17' is in scientific notation: Excel rounded it and the digits "
            "cannot be recovered",
        ),
        (
            "1.98503122010011e+17",
            "NIP '1.98503122010011e+17' is in scientific notation: Excel rounded it and the "
            "digits cannot be recovered",
        ),
        (
            "198503122010011000",
            "NIP '198503122010011000' ends in '000' (sequence 000 is never issued): Excel kept "
            "only 15 significant digits and the last digits cannot be recovered",
        ),
        (
            "198513122010011001",
            "NIP '198513122010011001' has birth date 19851312 that is not a real date",
        ),
        (
            "198502302010011001",
            "NIP '198502302010011001' has birth date 19850230 that is not a real date",
        ),
        (
            "198503122010131001",
            "NIP '198503122010131001' has appointment month '13' that is not a real month",
        ),
        (
            # 18th birthday is 2003-03: an appointment in 2003-02 is one month too early
            "198503122003021001",
            "NIP '198503122003021001' has appointment 2003-02 before the 18th birthday",
        ),
        (
            "198503122010013001",
            "NIP '198503122010013001' has gender digit '3': must be 1 (male) or 2 (female)",
        ),
        ("19850312201001100", "NIP '19850312201001100' has 17 digits, expected 18"),
        ("1985031220100110011", "NIP '1985031220100110011' has 19 digits, expected 18"),
        (
            "19850312201001100A",
            "NIP '19850312201001100A' contains characters other than digits",
        ),
        (
            "199001012007212001",
            "NIP '199001012007212001' (PPPK) has appointment year 2007 before the year of "
            "the 18th birthday",
        ),
    ],
)
def test_invalid_nips_have_readable_reasons(value: str, expected: str) -> None:
    result = check_nip(value)
    assert not result.valid and not result.is_pppk
    assert result.reason == expected


def test_appointment_in_the_18th_birthday_month_is_valid() -> None:
    assert check_nip("198503122003031001").valid


def test_empty_nip() -> None:
    assert check_nip("   ") == check_nip(None)
    assert check_nip(None).reason == "NIP is empty"


def test_expressions_agree_with_scalar_check_on_a_column() -> None:
    values = ["198503122010011001", "199001012022212001", "1.98503E+17", None]
    frame = pl.DataFrame({"nip": values}).select(
        reason=nip_reason(pl.col("nip")), pppk=is_pppk(pl.col("nip"))
    )
    assert frame["reason"].to_list() == [check_nip(v).reason if v else None for v in values]
    assert frame["pppk"].to_list() == [False, True, False, None]
