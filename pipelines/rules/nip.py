"""NIP (Nomor Induk Pegawai) structure rules, Perka BKN 22/2007.

Layout of a civil servant (PNS) NIP, 18 digits::

    YYYYMMDD  YYYYMM  G  SSS
    birth     appoint sex sequence      e.g. 198503122010011001

PPPK (contract staff) layout accepted here, also 18 digits::

    YYYYMMDD  YYYY  21  G  SSS          e.g. 199001012022212001
    birth     year  literal '21' where the appointment month would be

A PPPK NIP is valid and flagged ``is_pppk``; its appointment year must be on/after the
year of the 18th birthday (there is no month to compare).

Excel mangles NIPs typed into numeric cells: it shows ``1.98503E+17`` or keeps only 15
significant digits (``198503122010011000``). Neither can be recovered, so both are rejected
with a reason that says so. Spaces inside a NIP (``19850312 201001 1 001``) are removed
before checking, because that is how NIPs are printed on official documents.

The rules are polars expressions (the data path runs over millions of rows);
``check_nip`` evaluates the very same expressions on one value for tests and messages.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

NIP_LENGTH = 18
PPPK_MONTH = "21"

_SCIENTIFIC = r"^[+-]?[0-9]+([.,][0-9]*)?[eE][+-]?[0-9]+$"


def clean_nip(value: pl.Expr) -> pl.Expr:
    """Trimmed NIP with inner spaces removed; empty -> null."""
    cleaned = value.str.strip_chars().str.replace_all(r"\s+", "")
    return pl.when(cleaned.str.len_chars() > 0).then(cleaned)


def is_pppk(value: pl.Expr) -> pl.Expr:
    """True when the (cleaned) NIP has the PPPK marker '21' in the appointment-month slot."""
    nip = clean_nip(value)
    return (nip.str.len_chars() == NIP_LENGTH) & (nip.str.slice(12, 2) == PPPK_MONTH)


def nip_reason(value: pl.Expr, label: str = "NIP") -> pl.Expr:
    """Readable reason why the NIP is invalid, or null when valid (null input -> null).

    The first failing rule wins, in the order a person would check them.
    """
    raw = value.str.strip_chars()
    nip = clean_nip(value)
    quoted = pl.lit(f"{label} '") + raw + pl.lit("'")
    n_digits = nip.str.len_chars()
    all_digits = nip.str.contains(r"^[0-9]+$")

    birth = nip.str.slice(0, 8).str.to_date("%Y%m%d", strict=False)
    birth_year = nip.str.slice(0, 4).cast(pl.Int32, strict=False)
    birth_month = nip.str.slice(4, 2).cast(pl.Int32, strict=False)
    appoint_year = nip.str.slice(8, 4).cast(pl.Int32, strict=False)
    appoint_month_text = nip.str.slice(12, 2)
    appoint_month = appoint_month_text.cast(pl.Int32, strict=False)
    gender = nip.str.slice(14, 1)
    sequence = nip.str.slice(15, 3)
    pppk = appoint_month_text == PPPK_MONTH
    adult_month = (birth_year + 18) * 12 + birth_month
    appointed_month = appoint_year * 12 + appoint_month

    return (
        pl.when(nip.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(nip.str.contains(_SCIENTIFIC))
        .then(
            quoted + " is in scientific notation: Excel rounded it and the digits cannot "
            "be recovered"
        )
        .when(~all_digits)
        .then(quoted + " contains characters other than digits")
        .when((n_digits == NIP_LENGTH) & (sequence == "000"))
        .then(
            quoted + " ends in '000' (sequence 000 is never issued): Excel kept only 15 "
            "significant digits and the last digits cannot be recovered"
        )
        .when(n_digits != NIP_LENGTH)
        .then(
            quoted
            + pl.lit(" has ")
            + n_digits.cast(pl.String)
            + pl.lit(f" digits, expected {NIP_LENGTH}")
        )
        .when(birth.is_null())
        .then(quoted + " has birth date " + nip.str.slice(0, 8) + " that is not a real date")
        .when(~pppk & ~appoint_month.is_between(1, 12))
        .then(
            quoted + " has appointment month '" + appoint_month_text + "' that is not a real month"
        )
        .when(pppk & (appoint_year < birth_year + 18))
        .then(
            quoted
            + " (PPPK) has appointment year "
            + nip.str.slice(8, 4)
            + " before the year of the 18th birthday"
        )
        .when(~pppk & (appointed_month < adult_month))
        .then(
            quoted
            + " has appointment "
            + nip.str.slice(8, 4)
            + "-"
            + appoint_month_text
            + " before the 18th birthday"
        )
        .when(~gender.is_in(["1", "2"]))
        .then(quoted + " has gender digit '" + gender + "': must be 1 (male) or 2 (female)")
        .otherwise(pl.lit(None, dtype=pl.String))
    )


@dataclass(frozen=True)
class NipCheck:
    valid: bool
    is_pppk: bool
    reason: str | None


def check_nip(value: str | None) -> NipCheck:
    """Check one NIP with the same expressions the data path uses."""
    frame = pl.DataFrame({"nip": [value]}, schema={"nip": pl.String}).select(
        reason=nip_reason(pl.col("nip")),
        pppk=is_pppk(pl.col("nip")),
        empty=clean_nip(pl.col("nip")).is_null(),
    )
    reason, pppk, empty = frame.row(0)
    if empty:
        return NipCheck(valid=False, is_pppk=False, reason="NIP is empty")
    return NipCheck(valid=reason is None, is_pppk=bool(pppk) and reason is None, reason=reason)
