"""Admin-defined custom fields of the master file (ARC-1): each value checked against its definition
(type, required, choices, validation) and stored in ``Customer.custom_fields`` in one shape, whoever
writes it — the form, the API or an import:

number → int (float when it has a fraction) · amount → decimal string, two places at most · date → ISO
date · yes/no → bool · choice → the choice · multiple choice → list of choices · text → str.

A definition's ``validation`` may set ``min`` / ``max`` (numbers, amounts), ``max_length`` and
``pattern`` (text, matched in full). A setting that is not usable — a typo by an administrator — is
ignored rather than refusing every value.
"""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kestrel.customers.models import CustomField

TEXT_MAX_LENGTH = 500  # when the definition sets no max_length
NUMBER_DIGITS = 18  # as the master file's amounts; also keeps a number finite in JSON
TRUE_WORDS = {"true", "1", "yes", "y", "是", "对", "有", "√"}
FALSE_WORDS = {"false", "0", "no", "n", "否", "不是", "无", "×"}


def custom_fields_active() -> dict[str, CustomField]:
    return {
        custom.key: custom for custom in CustomField.objects.filter(active=True).order_by("sort_order", "key")
    }


def custom_fields_clean(
    given: Any,
    *,
    current: dict[str, Any] | None,
    creating: bool,
    definitions: dict[str, CustomField] | None = None,
) -> dict[str, Any]:
    """The custom fields to store: ``current`` with ``given`` merged in (a key given as null or empty is
    removed), each given value checked and put in its stored shape. Keys nobody defined are refused
    unless already stored (values of fields since deactivated, ``merged_into``…); a value equal to
    the stored one is kept unchecked; a required field may not be emptied, and must be given when the
    customer is created.

    Raises ``ValidationError`` whose ``message_dict`` maps each bad key to its Chinese messages."""
    definitions = custom_fields_active() if definitions is None else definitions
    if not isinstance(given, dict):
        raise ValidationError({"custom_fields": [_("Custom fields must be an object of key and value.")]})
    stored = dict(current or {})
    errors: dict[str, list[str]] = {}
    for key, value in given.items():
        custom = definitions.get(key)
        empty = value is None or value == "" or value == []
        if custom is None:
            if key in stored or empty:  # kept as it is, or removed
                if empty:
                    stored.pop(key, None)
                else:
                    stored[key] = value
                continue
            errors[str(key)] = [_("No custom field with this key is defined.")]
            continue
        if not empty and key in stored and stored[key] == value:
            continue  # unchanged: a choice since retired or a limit since tightened does not block an edit
        if empty:
            if custom.required:
                errors[key] = [_("This field is required.")]
            stored.pop(key, None)
            continue
        try:
            stored[key] = custom_value_clean(custom, value)
        except ValidationError as error:
            errors[key] = list(error.messages)
    if creating:
        for key, custom in definitions.items():
            if custom.required and key not in stored and key not in errors:
                errors[key] = [_("This field is required.")]
    if errors:
        raise ValidationError(errors)
    return stored


def custom_value_clean(custom: CustomField, value: Any) -> Any:
    """One value of ``custom`` in its stored shape; ``ValidationError`` with a Chinese message."""
    validation = custom.validation if isinstance(custom.validation, dict) else {}
    kind = custom.type
    if kind in (CustomField.Type.NUMBER, CustomField.Type.DECIMAL):
        number = _number(value)
        if kind == CustomField.Type.DECIMAL and number.as_tuple().exponent < -2:  # type: ignore[operator]
            raise ValidationError(_("An amount has at most two decimal places."))
        low, high = validation_limit(validation, "min"), validation_limit(validation, "max")
        if low is not None and number < low:
            raise ValidationError(_("Must be at least %(limit)s.") % {"limit": low})
        if high is not None and number > high:
            raise ValidationError(_("Must be at most %(limit)s.") % {"limit": high})
        if kind == CustomField.Type.DECIMAL:
            return str(number)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == CustomField.Type.DATE:
        return _date(value).isoformat()
    if kind == CustomField.Type.BOOLEAN:
        return _yes_no(value)
    choices = [str(choice) for choice in (custom.choices or [])]
    not_a_choice = _("“%(value)s” is not one of the choices: %(choices)s.")
    if kind == CustomField.Type.CHOICE:
        text = _text(value)
        if text not in choices:
            raise ValidationError(
                _("“%(value)s” is not one of the choices: %(choices)s.") % _choice_args(text, choices)
            )
        return text
    if kind == CustomField.Type.MULTI_CHOICE:
        items = value if isinstance(value, list) else re.split(r"[;；,，、|]", _text(value))
        picked = [_text(item).strip() for item in items if _text(item).strip()]
        for item in picked:
            if item not in choices:
                raise ValidationError(not_a_choice % _choice_args(item, choices))
        return list(dict.fromkeys(picked))
    text = _text(value)
    max_length = validation_limit(validation, "max_length")
    limit = int(max_length) if max_length is not None and max_length >= 1 else TEXT_MAX_LENGTH
    if len(text) > limit:
        raise ValidationError(_("At most %(limit)s characters.") % {"limit": limit})
    pattern = validation.get("pattern")
    if isinstance(pattern, str) and pattern:
        try:
            matched = re.fullmatch(pattern, text)
        except re.error:  # a broken pattern checks nothing
            matched = True
        if not matched:
            raise ValidationError(_("The value does not have the required format."))
    return text


def _choice_args(value: str, choices: list[str]) -> dict[str, str]:
    return {"value": value[:50], "choices": "、".join(choices)}


def _text(value: Any) -> str:
    if isinstance(value, dict | list | tuple | set):
        raise ValidationError(_("Enter a single value."))
    text = str(value)
    if "\x00" in text:
        raise ValidationError(_("The value contains a NUL character."))
    return text


def _number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValidationError(_("Enter a number."))
    text = _text(value).strip().replace(",", "").replace("，", "")
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValidationError(_("Enter a number.")) from None
    if not number.is_finite() or len(number.as_tuple().digits) > NUMBER_DIGITS:
        raise ValidationError(_("Enter a number of at most %(digits)s digits.") % {"digits": NUMBER_DIGITS})
    return number


def validation_limit(validation: dict[str, Any], key: str) -> Decimal | None:
    """A number of a definition's ``validation`` settings, or None when it is missing or not a number."""
    raw = validation.get(key)
    if raw is None or isinstance(raw, bool):
        return None
    try:
        number = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value).strip().replace("/", "-").replace(".", "-")
    text = re.sub(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$", r"\1-\2-\3", text)
    try:
        year, month, day = (int(part) for part in text.split("-"))
        return date(year, month, day)
    except (ValueError, TypeError):
        raise ValidationError(_("Enter a valid date, e.g. 2026-03-31.")) from None


def _yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = _text(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValidationError(_("Answer yes or no (是 / 否)."))
