"""The ISO 4217 currencies IPL knows, with their minor units: the one table (spec §4, §9, §19).

Money is rounded to its currency's minor unit (USD, EUR: 2 digits after the point; JPY: 0;
KWD: 3; CLF: 4). Every module that needs a currency's digits, or whether a code exists, reads
this table and no other. Receives nothing; emits nothing.
"""

from __future__ import annotations

# Active codes of the ISO 4217 list (funds codes included; precious metals, testing and
# "no currency" codes are not currencies a partner is paid in, so they are left out).
_BY_DIGITS: dict[int, str] = {
    0: "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF",
    3: "BHD IQD JOD KWD LYD OMR TND",
    4: "CLF UYW",
    2: "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP "
       "BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR "
       "FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW "
       "KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN "
       "NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD "
       "SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU "
       "UZS VED VES WST XCD XCG YER ZAR ZMW ZWG ZWL",
}

MINOR_UNITS: dict[str, int] = {code: digits for digits, codes in _BY_DIGITS.items() for code in codes.split()}


def minor_units(currency: str | None) -> int:
    """Digits after the point for a currency (USD, EUR, GBP, CHF: 2; JPY: 0; KWD: 3; CLF: 4);
    a code not in the table counts as 2."""
    return MINOR_UNITS.get(currency or "", 2)


def is_known(code: str) -> bool:
    """Whether `code` is an ISO 4217 currency of the table."""
    return code in MINOR_UNITS
