"""Forms of the web shell, styled for Tabler (Bootstrap 5) without a form-rendering dependency."""

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# Django 6's blank-choice label has no Chinese in Django's own catalogue; naming it here keeps it in
# ours, where makemessages would otherwise drop it.
BLANK_CHOICE_LABEL = gettext_noop("- Select an option -")


class TablerFormMixin:
    """Puts Bootstrap's classes on every widget, and ``is-invalid`` on those with errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class LoginForm(TablerFormMixin, AuthenticationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(
            {"placeholder": _("Username"), "autocomplete": "username"}
        )
        self.fields["password"].widget.attrs.update(
            {"placeholder": _("Password"), "autocomplete": "current-password"}
        )


class PasswordForm(TablerFormMixin, PasswordChangeForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The form sits at the bottom of the profile page; focusing it would scroll past the profile.
        self.fields["old_password"].widget.attrs.pop("autofocus", None)
