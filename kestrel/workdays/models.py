"""The working-day calendar (工作日历, PLT-4): the admin-edited table that overrides `chinese-calendar`."""

from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from kestrel.core.models import TimeStampedModel


class CalendarDay(TimeStampedModel):
    """One date whose status differs from the default: a statutory holiday or an adjusted workday (调休).

    Rows here win over the `chinese-calendar` package, and are the only source for years it does not
    cover (e.g. 2027 once the State Council publishes its schedule).
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday")
        WORKDAY = "workday", _("Adjusted workday")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True, help_text=_("e.g. 国庆节, 春节调休"))

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()} {self.name}".strip()


class WorkingHours(models.Model):
    """The company's working hours for working-hour deadlines; one row (default 09:00–18:00)."""

    start = models.TimeField(_("start"), default=time(9, 0))
    end = models.TimeField(_("end"), default=time(18, 0))
    break_start = models.TimeField(_("break start"), null=True, blank=True)
    break_end = models.TimeField(_("break end"), null=True, blank=True)

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")

    def __str__(self) -> str:
        text = f"{self.start:%H:%M}–{self.end:%H:%M}"
        if self.break_start and self.break_end:
            text += f" ({_('break')} {self.break_start:%H:%M}–{self.break_end:%H:%M})"
        return text

    def clean(self) -> None:
        if self.start >= self.end:
            raise ValidationError({"end": _("The end must be after the start.")})
        if (self.break_start is None) != (self.break_end is None):
            raise ValidationError({"break_end": _("Give both ends of the break, or neither.")})
        if self.break_start and not (self.start < self.break_start < self.break_end < self.end):
            raise ValidationError({"break_start": _("The break must lie inside the working hours.")})


class MissingYearWarning(models.Model):
    """A year the calendar has no holiday data for: counted as plain Mon–Fri until an admin adds it."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    first_needed_at = models.DateTimeField(_("first needed at"), auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    class Meta:
        verbose_name = _("missing calendar year")
        verbose_name_plural = _("missing calendar years")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(_("No holiday data for %(year)d: Monday–Friday assumed") % {"year": self.year})
