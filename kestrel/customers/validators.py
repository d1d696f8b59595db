"""Validators for Chinese identifiers in the archive (ARC-1)."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015: 18 characters from this alphabet (no I, O, Z, S, V); the last is a check character.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
CREDIT_CODE_PATTERN = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_PATTERN = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
POSTAL_CODE_PATTERN = re.compile(r"^\d{6}$")


def credit_code_check_character(first17: str) -> str:
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def normalise_credit_code(value: str) -> str:
    return (value or "").strip().upper()


def validate_credit_code(value: str) -> None:
    """统一社会信用代码 with its GB 32100 check character."""
    code = normalise_credit_code(value)
    if not CREDIT_CODE_PATTERN.match(code):
        raise ValidationError(
            _("A unified social credit code has 18 characters: digits and capitals except I, O, Z, S, V."),
            code="credit_code_format",
        )
    if credit_code_check_character(code[:17]) != code[17]:
        raise ValidationError(
            _("The check character of this credit code is wrong."), code="credit_code_check"
        )


def validate_phone(value: str) -> None:
    """A mainland mobile number (11 digits) or a landline with its area code (010-12345678)."""
    number = re.sub(r"[\s()（）]", "", value or "")
    number = number.removeprefix("+86").removeprefix("0086")
    if not (MOBILE_PATTERN.match(number) or LANDLINE_PATTERN.match(number)):
        raise ValidationError(
            _("Enter a mainland mobile number (11 digits) or a landline such as 010-12345678."), code="phone"
        )


def normalise_phone(value: str) -> str:
    number = re.sub(r"[\s()（）]", "", value or "")
    return number.removeprefix("+86").removeprefix("0086")


def validate_postal_code(value: str) -> None:
    if not POSTAL_CODE_PATTERN.match(value or ""):
        raise ValidationError(_("A postal code has 6 digits."), code="postal_code")
