"""Forms of the notification UI (PLT-7): the inbox filter and the channel preferences on the profile."""

from typing import Any

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kestrel.core.errors import ValidationFailed
from kestrel.notify.models import Channel
from kestrel.notify.services import channel_preference_set, channel_preferences
from kestrel.org.models import Employee


class InboxFilterForm(forms.Form):
    unread = forms.BooleanField(required=False)
    page = forms.IntegerField(required=False, min_value=1)

    def values(self) -> tuple[bool, int]:
        if not self.is_valid():
            return False, 1
        return self.cleaned_data["unread"], self.cleaned_data["page"] or 1

    def query(self, *, page: int | None = None) -> str:
        """``?unread=1&page=2``: the same view of the inbox, for redirects after a POST."""
        unread, current = self.values()
        parts = ["unread=1"] if unread else []
        number = page if page is not None else current
        if number > 1:
            parts.append(f"page={number}")
        return f"?{'&'.join(parts)}" if parts else ""


class ChannelPreferencesForm(forms.Form):
    """Which channels reach the employee besides the inbox. The in-app switch is shown on and disabled;
    its hidden field sends "on", and the service refuses anything else."""

    in_app = forms.BooleanField(label=_("In-app inbox"), required=False)
    email = forms.BooleanField(label=_("Email"), required=False)
    sms = forms.BooleanField(label=_("SMS"), required=False)

    def __init__(self, *args: Any, employee: Employee, **kwargs: Any) -> None:
        kwargs.setdefault("initial", channel_preferences(employee=employee))
        super().__init__(*args, **kwargs)
        self.employee = employee
        # Without an address there is nothing to switch: the stored choice stays as it is.
        self.fields["email"].disabled = not employee.email
        self.fields["sms"].disabled = not employee.mobile

    def save(self) -> bool:
        """Store the choices through the service; its refusals become form errors. True if saved."""
        if not self.is_valid():
            return False
        channel = ""
        try:
            # All or nothing: a refused switch leaves the others as they were.
            with transaction.atomic():
                for channel in (Channel.IN_APP, Channel.EMAIL, Channel.SMS):
                    if channel != Channel.IN_APP and self.fields[channel].disabled:
                        continue
                    channel_preference_set(
                        employee=self.employee, channel=channel, enabled=self.cleaned_data[channel]
                    )
        except ValidationFailed as error:
            self.add_error(channel if channel in self.fields else None, error.message)
            return False
        return True
