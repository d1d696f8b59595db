"""Customer grading (ARC-4): grade schemes as data, rules over metrics, grades set by hand.

- A grade's ``rules`` are all-must-hold conditions ``{"metric", "op", "value"}`` over metrics from
  the registry below. Grades are tried from rank 1 (the highest) down; the first whose rules hold
  wins. A scheme's lowest grade without rules is the default for customers meeting no higher grade;
  other grades without rules are set by hand only; a scheme without any rules is not computed.
- Regrading is set-based: per scheme, one SELECT (a CASE WHEN over the rules, joined to the current
  grade) finds the customers whose grade changes, in keyset batches; each batch is written with
  bulk statements. Grades pinned by hand are never overridden by rules.
- Every change writes ``GradeChange`` with an explanation naming the rule, its inputs and numbers
  (PLT-10), in the active language; a downgrade publishes ``CustomerDowngraded``.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import (
    Case,
    DecimalField,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from kestrel.core import events
from kestrel.core.errors import NotFound, ValidationFailed
from kestrel.customers.models import Customer, CustomerGrade, CustomField, Grade, GradeChange, GradeScheme
from kestrel.jobs.scheduling import periodic_job

UNKNOWN_SCHEME = "unknown_grade_scheme"
UNKNOWN_GRADE = "unknown_grade"
REASON_REQUIRED = "grade_reason_required"
BAD_RULES = "bad_grade_rules"

BATCH = 2000
PREVIEW_LIMIT = 500
OPERATORS = {">=": "gte", ">": "gt", "<=": "lte", "<": "lt", "==": "exact", "!=": "exact"}
METRIC_KEY = re.compile(r"^(custom:[-a-zA-Z0-9_]+|[a-z][a-z0-9_]*)$")
NUMERIC_TEXT = r"^\s*-?[0-9]+(\.[0-9]+)?\s*$"
METRIC_VALUE = DecimalField(max_digits=30, decimal_places=6)


# --- Events ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerDowngraded(events.Event):
    """A customer's grade went down in one scheme (by rule or by hand); alerts and others react."""

    name = "customer.downgraded"

    customer_id: int
    scheme: str  # scheme code
    from_grade: str | None  # grade codes; None = no grade
    to_grade: str | None
    explanation: str
    from_name: str = ""
    to_name: str = ""
    source: str = GradeChange.Source.RULE
    change_id: int | None = None  # the GradeChange row that records it


# --- Metrics --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """A number per customer that rules can compare: ``expression()`` is a Django expression over
    ``Customer`` (a column, or a Subquery other modules provide, e.g. commission contribution)."""

    key: str
    label: Callable[[], str]
    unit: str  # "yuan", "count" or "number": how values read in explanations
    expression: Callable[[], Any]


_metrics: dict[str, Metric] = {}


def metric_register(*, key: str, label: Any, unit: str, expression: Callable[[], Any]) -> Metric:
    """Add a metric (other modules call this in ``ready()``: commission, balance, volume, rating)."""
    if not METRIC_KEY.match(key) or key.startswith("custom:"):
        raise ValueError(f"bad metric key {key!r}")
    metric = Metric(key=key, label=lambda: str(label), unit=unit, expression=expression)
    _metrics[key] = metric
    return metric


def metric_unregister(key: str) -> None:
    _metrics.pop(key, None)


def metrics_available() -> list[Metric]:
    """The registered metrics and one per active numeric custom field (``custom:<key>``)."""
    numeric = CustomField.objects.filter(
        active=True, type__in=[CustomField.Type.NUMBER, CustomField.Type.DECIMAL]
    )
    return [*_metrics.values(), *(_custom_metric(f.key, f.label) for f in numeric)]


def _custom_metric(key: str, label: str) -> Metric:
    path = f"custom_fields__{key}"

    def expression() -> Any:
        # A value that is not a number (bad import, edited JSON) counts as missing, never an error.
        return Case(
            When(**{f"{path}__regex": NUMERIC_TEXT}, then=Cast(KT(path), METRIC_VALUE)),
            default=Value(None),
            output_field=METRIC_VALUE,
        )

    return Metric(key=f"custom:{key}", label=lambda: label, unit="number", expression=expression)


def _metrics_resolve(keys: Iterable[str]) -> tuple[dict[str, Metric], list[str]]:
    found: dict[str, Metric] = {}
    custom = {key.removeprefix("custom:") for key in keys if key.startswith("custom:")}
    fields = {
        f.key: f
        for f in CustomField.objects.filter(
            key__in=custom, active=True, type__in=[CustomField.Type.NUMBER, CustomField.Type.DECIMAL]
        )
    } if custom else {}  # fmt: skip
    missing = []
    for key in keys:
        if key.startswith("custom:") and key.removeprefix("custom:") in fields:
            found[key] = _custom_metric(
                key.removeprefix("custom:"), fields[key.removeprefix("custom:")].label
            )
        elif key in _metrics:
            found[key] = _metrics[key]
        else:
            missing.append(key)
    return found, missing


def _column(name: str) -> Callable[[], Any]:
    return lambda: F(name)


for _key, _label, _unit in (
    ("annual_sales", gettext_lazy("annual sales"), "yuan"),
    ("registered_capital", gettext_lazy("registered capital"), "yuan"),
    ("staff_count", gettext_lazy("staff count"), "count"),
    ("assets", gettext_lazy("assets"), "yuan"),
    ("credit_limit", gettext_lazy("credit limit"), "yuan"),
):
    metric_register(key=_key, label=_label, unit=_unit, expression=_column(_key))


# --- Rules ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    metric: str
    op: str
    value: Decimal


def rules_parse(rules: Any, *, field_name: str = "rules") -> list[Rule]:
    """Check and parse a grade's rules; a bad rule is a 422 naming the rule and what is wrong."""
    if not isinstance(rules, list):
        raise ValidationFailed(
            _("Rules must be a list of conditions."), code=BAD_RULES, details={field_name: [_("Not a list.")]}
        )
    parsed = []
    for index, rule in enumerate(rules):
        problems = []
        if not isinstance(rule, dict):
            problems.append(_("A rule is an object with metric, op and value."))
        else:
            if set(rule) - {"metric", "op", "value"}:
                problems.append(
                    _("Unknown keys: %s") % ", ".join(sorted(set(rule) - {"metric", "op", "value"}))
                )
            if not isinstance(rule.get("metric"), str) or not METRIC_KEY.match(rule["metric"]):
                problems.append(_("Unknown metric."))
            if rule.get("op") not in OPERATORS:
                problems.append(_("The operator must be one of %s.") % " ".join(OPERATORS))
            try:
                value = Decimal(str(rule.get("value")))
                if not value.is_finite() or isinstance(rule.get("value"), bool):
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                problems.append(_("The value must be a number."))
        if problems:
            raise ValidationFailed(
                _("Rule %(number)d is not valid.") % {"number": index + 1},
                code=BAD_RULES,
                details={field_name: problems, "rule": index + 1},
            )
        parsed.append(Rule(metric=rule["metric"], op=rule["op"], value=value))
    return parsed


@dataclass
class CompiledScheme:
    scheme: GradeScheme
    grades: list[Grade]  # by rank, 1 first
    rules: dict[int, list[Rule]]  # grade id → its rules
    default: Grade | None
    metrics: dict[str, Metric]
    missing: list[str]

    @property
    def computed(self) -> bool:
        return any(self.rules.values())

    def alias(self, key: str) -> str:
        return f"grading_metric_{sorted(self.metrics).index(key)}"

    def grade(self, pk: int | None) -> Grade | None:
        return next((g for g in self.grades if g.pk == pk), None)


def scheme_compile(scheme: GradeScheme, *, rules_override: dict[str, Any] | None = None) -> CompiledScheme:
    """Load a scheme's grades and rules; ``rules_override`` (grade code → rules) previews a change
    of thresholds before it is saved (PLT-11)."""
    grades = list(Grade.objects.filter(scheme=scheme).order_by("rank"))
    override = rules_override or {}
    unknown = sorted(set(override) - {g.code for g in grades})
    if unknown:
        raise ValidationFailed(
            _("Unknown grade code: %s") % ", ".join(unknown), code=UNKNOWN_GRADE, details={"grades": unknown}
        )
    rules = {
        g.pk: rules_parse(override.get(g.code, g.rules), field_name=f"grades.{g.code}.rules") for g in grades
    }
    lowest = grades[-1] if grades else None
    default = lowest if lowest is not None and not rules[lowest.pk] else None
    metrics, missing = _metrics_resolve(sorted({r.metric for rs in rules.values() for r in rs}))
    return CompiledScheme(
        scheme=scheme, grades=grades, rules=rules, default=default, metrics=metrics, missing=missing
    )


def _condition(compiled: CompiledScheme, rules: list[Rule]) -> Q:
    condition = Q()
    for rule in rules:
        alias = compiled.alias(rule.metric)
        value = Value(rule.value, output_field=METRIC_VALUE)
        if rule.op == "!=":
            condition &= Q(**{f"{alias}__isnull": False}) & ~Q(**{alias: value})
        else:
            condition &= Q(**{f"{alias}__{OPERATORS[rule.op]}": value})
    return condition


def _target_expression(compiled: CompiledScheme) -> Case:
    whens = [
        When(_condition(compiled, compiled.rules[g.pk]), then=Value(g.pk))
        for g in compiled.grades
        if compiled.rules[g.pk]
    ]
    default = Value(compiled.default.pk if compiled.default else None)
    return Case(*whens, default=default, output_field=IntegerField())


# --- Explanations (PLT-10) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Phrases:
    """The translated pieces of explanations, looked up once per run in the active language (a
    regrade explains thousands of changes; gettext per row would dominate its time)."""

    rule: str
    missing: str
    wan: str
    yuan: str
    no_higher: str
    no_grade: str
    count_in_wan: bool
    labels: dict[str, str]

    @classmethod
    def for_scheme(cls, compiled: "CompiledScheme") -> "Phrases":
        return cls(
            rule=_("%(metric)s %(value)s %(op)s %(threshold)s"),
            missing=_("not recorded"),
            wan=_("%(amount)s ten-thousand yuan"),
            yuan=_("%(amount)s yuan"),
            no_higher=_("The conditions of no higher grade hold (%(why)s) → %(grade)s"),
            no_grade=_("No grade's conditions hold (%(why)s) → no grade"),
            # Chinese counts money in 万 (620 万元), English in full (6,200,000 yuan).
            count_in_wan=(get_language() or "").startswith("zh"),
            labels={key: metric.label() for key, metric in compiled.metrics.items()},
        )


def _number(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')).normalize():,f}"


def _amount(phrases: Phrases, value: Decimal | None, unit: str) -> str:
    if value is None:
        return phrases.missing
    if unit == "yuan":
        if phrases.count_in_wan and abs(value) >= 10000:
            return phrases.wan % {"amount": _number(value / 10000).replace(",", "")}
        return phrases.yuan % {"amount": _number(value)}
    return _number(value)


SYMBOLS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠"}
NEGATED = {">=": "<", ">": "≤", "<=": ">", "<": "≥", "==": "≠", "!=": "="}
NOT_COMPARABLE = {">=": "≱", ">": "≯", "<=": "≰", "<": "≮", "==": "≠", "!=": "="}


def _rule_text(
    compiled: CompiledScheme,
    phrases: Phrases,
    rule: Rule,
    values: dict[str, Decimal | None],
    *,
    negated=False,
) -> str:
    unit = compiled.metrics[rule.metric].unit
    value = values.get(rule.metric)
    symbols = SYMBOLS if not negated else NEGATED if value is not None else NOT_COMPARABLE
    symbol = symbols[rule.op]
    return phrases.rule % {
        "metric": phrases.labels[rule.metric],
        "value": _amount(phrases, value, unit),
        "op": symbol,
        "threshold": _amount(phrases, rule.value, unit),
    }


def _holds(rule: Rule, value: Decimal | None) -> bool:
    if value is None:
        return False
    return {
        ">=": value >= rule.value,
        ">": value > rule.value,
        "<=": value <= rule.value,
        "<": value < rule.value,
        "==": value == rule.value,
        "!=": value != rule.value,
    }[rule.op]


def explain(
    compiled: CompiledScheme,
    target: Grade | None,
    values: dict[str, Decimal | None],
    phrases: Phrases | None = None,
) -> str:
    """年销售额 620 万元 ≥ 500 万元 → 重要客户; for the default grade, why the grade above failed."""
    phrases = phrases or Phrases.for_scheme(compiled)
    if target is not None and compiled.rules[target.pk]:
        because = "; ".join(_rule_text(compiled, phrases, r, values) for r in compiled.rules[target.pk])
        return f"{because} → {target.name}"
    above = [g for g in compiled.grades if compiled.rules[g.pk] and (target is None or g.rank < target.rank)]
    failing = []
    for grade in above[-1:]:
        broken = [r for r in compiled.rules[grade.pk] if not _holds(r, values.get(r.metric))]
        if broken:
            failing.append(f"{grade.name}: {_rule_text(compiled, phrases, broken[0], values, negated=True)}")
    if target is None:
        return phrases.no_grade % {"why": "; ".join(failing) or "-"}
    return phrases.no_higher % {
        "why": "; ".join(failing) or "-",
        "grade": target.name,
    }


# --- Regrading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradeChangePreview:
    customer_id: int
    customer_name: str
    from_grade: str | None
    to_grade: str | None
    downgrade: bool
    explanation: str


@dataclass
class SchemeRegrade:
    scheme: str
    changed: int = 0
    downgraded: int = 0
    skipped: str = ""
    changes: list[GradeChangePreview] = field(default_factory=list)


@dataclass
class RegradeReport:
    dry_run: bool
    schemes: list[SchemeRegrade] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "schemes": [
                {"scheme": s.scheme, "changed": s.changed, "downgraded": s.downgraded, "skipped": s.skipped}
                for s in self.schemes
            ],
        }


def customers_regrade(
    *,
    actor: AbstractBaseUser | None,
    schemes: Iterable[GradeScheme] | None = None,
    customer_ids: Iterable[int] | None = None,
    dry_run: bool = False,
    rules_override: dict[str, Any] | None = None,
    preview_limit: int = PREVIEW_LIMIT,
) -> RegradeReport:
    """Recompute grades by rules for every computed scheme (or ``schemes``), for every customer not
    archived (or ``customer_ids``). ``dry_run`` writes nothing and returns who would change (PLT-11);
    ``rules_override`` (one scheme only) previews new thresholds. Pinned grades are left alone."""
    schemes = list(schemes) if schemes is not None else list(GradeScheme.objects.order_by("code"))
    if rules_override and len(schemes) != 1:
        raise ValidationFailed(
            _("Name one scheme to preview changed rules."), code=UNKNOWN_SCHEME, details={"scheme": []}
        )
    ids = None if customer_ids is None else sorted(set(customer_ids))
    report = RegradeReport(dry_run=dry_run)
    for scheme in schemes:
        compiled = scheme_compile(scheme, rules_override=rules_override)
        result = SchemeRegrade(scheme=scheme.code)
        report.schemes.append(result)
        if compiled.missing:
            result.skipped = _("Metrics not available yet: %s") % ", ".join(compiled.missing)
            continue
        if not compiled.computed:
            result.skipped = _("Graded by hand only.")
            continue
        _scheme_regrade(compiled, result, actor=actor, ids=ids, dry_run=dry_run, preview_limit=preview_limit)
    if not dry_run and customer_ids is None and any(s.is_primary for s in schemes):
        primary_grade_sync()
    return report


def primary_grade_sync() -> int:
    """``Customer.grade`` follows the grade in the primary scheme, in one UPDATE: after another
    scheme was made primary, or grades were written around the services (imports, fixes)."""
    primary = GradeScheme.objects.filter(is_primary=True).first()
    if primary is None:
        return Customer.objects.filter(grade__isnull=False).update(grade=None)
    current = Subquery(
        CustomerGrade.objects.filter(customer=OuterRef("pk"), scheme=primary).values("grade_id")[:1]
    )
    differs = (
        Q(grade__isnull=True, primary_grade__isnull=False)
        | Q(grade__isnull=False, primary_grade__isnull=True)
        | (Q(grade__isnull=False, primary_grade__isnull=False) & ~Q(grade_id=F("primary_grade")))
    )
    stale = Customer.objects.annotate(primary_grade=current).filter(differs).values("pk")
    return Customer.objects.filter(pk__in=stale).update(grade_id=current)


def _changes_query(compiled: CompiledScheme, ids: list[int] | None):
    customers = Customer.objects.exclude(status=Customer.Status.ARCHIVED)
    if ids is not None:
        customers = customers.filter(pk__in=ids)
    customers = customers.annotate(
        **{
            compiled.alias(key): Cast(metric.expression(), METRIC_VALUE)
            for key, metric in compiled.metrics.items()
        },
        current=FilteredRelation("grades", condition=Q(grades__scheme=compiled.scheme)),
    ).annotate(target_id=_target_expression(compiled), current_id=F("current__grade_id"))
    not_pinned = Q(current__pk__isnull=True) | Q(current__pinned=False)
    changed = (
        Q(target_id__isnull=False, current_id__isnull=True)
        | Q(target_id__isnull=True, current_id__isnull=False)
        | (Q(target_id__isnull=False, current_id__isnull=False) & ~Q(target_id=F("current_id")))
    )
    fields = ["pk", "name", "current_id", "target_id", *(compiled.alias(k) for k in compiled.metrics)]
    return customers.filter(not_pinned & changed).order_by("pk").values(*fields)


def _scheme_regrade(
    compiled: CompiledScheme,
    result: SchemeRegrade,
    *,
    actor: AbstractBaseUser | None,
    ids: list[int] | None,
    dry_run: bool,
    preview_limit: int,
) -> None:
    query = _changes_query(compiled, ids)
    last = 0
    while True:
        rows = list(query.filter(pk__gt=last)[:BATCH])
        if not rows:
            return
        last = rows[-1]["pk"]
        with transaction.atomic():
            _batch_apply(compiled, result, rows, actor=actor, dry_run=dry_run, preview_limit=preview_limit)
        if len(rows) < BATCH:
            return


def _batch_apply(compiled, result, rows, *, actor, dry_run, preview_limit) -> None:
    now = timezone.now()
    if not dry_run:
        # A grade pinned by hand since the SELECT wins: re-read the pins under a row lock.
        pinned = set(
            CustomerGrade.objects.select_for_update()
            .filter(scheme=compiled.scheme, customer_id__in=[row["pk"] for row in rows], pinned=True)
            .values_list("customer_id", flat=True)
        )
        rows = [row for row in rows if row["pk"] not in pinned]
    changes: list[GradeChange] = []
    upserts: list[CustomerGrade] = []
    cleared: list[int] = []
    by_target: dict[int | None, list[int]] = defaultdict(list)
    downgrades: list[CustomerDowngraded] = []
    phrases = Phrases.for_scheme(compiled)
    for row in rows:
        values = {key: row[compiled.alias(key)] for key in compiled.metrics}
        current, target = compiled.grade(row["current_id"]), compiled.grade(row["target_id"])
        explanation = explain(compiled, target, values, phrases)
        downgrade = current is not None and (target is None or target.rank > current.rank)
        result.changed += 1
        result.downgraded += downgrade
        if len(result.changes) < preview_limit:
            result.changes.append(
                GradeChangePreview(
                    customer_id=row["pk"],
                    customer_name=row["name"],
                    from_grade=current.name if current else None,
                    to_grade=target.name if target else None,
                    downgrade=downgrade,
                    explanation=explanation,
                )
            )
        changes.append(
            GradeChange(
                customer_id=row["pk"],
                scheme=compiled.scheme,
                from_grade=current,
                to_grade=target,
                source=GradeChange.Source.RULE,
                reason=explanation,
                changed_by=actor if actor is not None and actor.is_authenticated else None,
            )
        )
        if target is None:
            cleared.append(row["pk"])
        else:
            upserts.append(
                CustomerGrade(
                    customer_id=row["pk"],
                    scheme=compiled.scheme,
                    grade=target,
                    source=GradeChange.Source.RULE,
                    pinned=False,
                    updated_at=now,
                )
            )
        by_target[target.pk if target else None].append(row["pk"])
        if downgrade:
            downgrades.append(
                CustomerDowngraded(
                    customer_id=row["pk"],
                    scheme=compiled.scheme.code,
                    from_grade=current.code,
                    to_grade=target.code if target else None,
                    from_name=current.name,
                    to_name=target.name if target else "",
                    explanation=explanation,
                )
            )
    if dry_run:
        return
    CustomerGrade.objects.bulk_create(
        upserts,
        update_conflicts=True,
        unique_fields=["customer", "scheme"],
        update_fields=["grade", "source", "pinned", "updated_at"],
    )
    if cleared:
        CustomerGrade.objects.filter(scheme=compiled.scheme, customer_id__in=cleared, pinned=False).delete()
    GradeChange.objects.bulk_create(changes)
    change_ids = {change.customer_id: change.pk for change in changes}
    if compiled.scheme.is_primary:
        for grade_id, customer_ids in by_target.items():
            Customer.objects.filter(pk__in=customer_ids).update(grade_id=grade_id)
    for event in downgrades:
        events.publish(replace(event, change_id=change_ids.get(event.customer_id)))


# --- Grades set by hand ---------------------------------------------------------------------------


def scheme_get(*, code: str) -> GradeScheme:
    scheme = GradeScheme.objects.filter(code=code).first()
    if scheme is None:
        raise NotFound(_("No such grade scheme."), code=UNKNOWN_SCHEME, details={"scheme": code})
    return scheme


def customer_grade_set(
    *, actor: AbstractBaseUser | None, customer: Customer, scheme: GradeScheme, grade_code: str, reason: str
) -> CustomerGrade:
    """Set a grade by hand with a reason (ARC-4): it is pinned, so rules no longer override it.
    Writes the history; a downgrade publishes ``CustomerDowngraded``; the primary scheme's grade is
    also the customer's ``grade``."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Give a reason for setting the grade by hand."),
            code=REASON_REQUIRED,
            details={"reason": [_("This field is required.")]},
        )
    grade = Grade.objects.filter(scheme=scheme, code=grade_code).first()
    if grade is None:
        raise ValidationFailed(
            _("No such grade in this scheme."),
            code=UNKNOWN_GRADE,
            details={"grade_code": [_("No such grade in this scheme.")], "known": _grade_codes(scheme)},
        )
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        row = CustomerGrade.objects.select_related("grade").filter(customer=customer, scheme=scheme).first()
        previous = row.grade if row else None
        if row is None:
            row = CustomerGrade(customer=customer, scheme=scheme)
        row.grade, row.source, row.pinned = grade, GradeChange.Source.MANUAL, True
        row.save()
        change = GradeChange.objects.create(
            customer=customer,
            scheme=scheme,
            from_grade=previous,
            to_grade=grade,
            source=GradeChange.Source.MANUAL,
            reason=reason,
            changed_by=actor if actor is not None and actor.is_authenticated else None,
        )
        if scheme.is_primary:
            Customer.objects.filter(pk=customer.pk).update(grade=grade)
        if previous is not None and grade.rank > previous.rank:
            events.publish(
                CustomerDowngraded(
                    customer_id=customer.pk,
                    scheme=scheme.code,
                    from_grade=previous.code,
                    to_grade=grade.code,
                    from_name=previous.name,
                    to_name=grade.name,
                    explanation=reason,
                    source=GradeChange.Source.MANUAL,
                    change_id=change.pk,
                )
            )
    return row


def customer_grade_unpin(
    *, actor: AbstractBaseUser | None, customer: Customer, scheme: GradeScheme
) -> CustomerGrade | None:
    """Hand a grade back to the rules and recompute it now; returns the grade that results."""
    with transaction.atomic():
        CustomerGrade.objects.filter(customer=customer, scheme=scheme).update(
            pinned=False, source=GradeChange.Source.RULE
        )
        customers_regrade(actor=actor, schemes=[scheme], customer_ids=[customer.pk])
    return CustomerGrade.objects.select_related("grade").filter(customer=customer, scheme=scheme).first()


def _grade_codes(scheme: GradeScheme) -> list[str]:
    return list(Grade.objects.filter(scheme=scheme).order_by("rank").values_list("code", flat=True))


# --- Reads ----------------------------------------------------------------------------------------


def customer_grades(*, customer: Customer) -> list[dict[str, Any]]:
    """The customer's grade in every scheme (None where it has none)."""
    current = {
        row.scheme_id: row for row in CustomerGrade.objects.filter(customer=customer).select_related("grade")
    }
    result = []
    for scheme in GradeScheme.objects.order_by("-is_primary", "code"):
        row = current.get(scheme.pk)
        result.append({"scheme": scheme, "row": row})
    return result


def customer_grade_history(*, customer: Customer, scheme: GradeScheme | None = None):
    changes = GradeChange.objects.filter(customer=customer).select_related(
        "scheme", "from_grade", "to_grade", "changed_by"
    )
    if scheme is not None:
        changes = changes.filter(scheme=scheme)
    return changes.order_by("-changed_at", "-pk")


# --- Presets (PLT-9) ------------------------------------------------------------------------------


def grade_schemes_install(*, data: dict[str, Any], scheme_model=GradeScheme, grade_model=Grade) -> list[str]:
    """Install the schemes of a preset that do not exist yet (by code); existing schemes are never
    overwritten (changing a live system is a reviewed diff). The first shipped primary scheme becomes
    primary only if no scheme is. Used by the data migration with historical models."""
    installed = []
    has_primary = scheme_model.objects.filter(is_primary=True).exists()
    for spec in data["schemes"]:
        if scheme_model.objects.filter(code=spec["code"]).exists():
            continue
        primary = bool(spec.get("is_primary")) and not has_primary
        has_primary = has_primary or primary
        scheme = scheme_model.objects.create(
            code=spec["code"], name=spec["name"], description=spec.get("description", ""), is_primary=primary
        )
        for grade in spec["grades"]:
            rules_parse(grade.get("rules", []))
            grade_model.objects.create(
                scheme=scheme,
                code=grade["code"],
                name=grade["name"],
                rank=grade["rank"],
                rules=grade.get("rules", []),
                requires_relationship_manager=grade.get("requires_relationship_manager", False),
                min_holders=grade.get("min_holders", 1),
            )
        installed.append(spec["code"])
    return installed


# --- Subscribers and jobs -------------------------------------------------------------------------


def downgrade_notify_holders(event: CustomerDowngraded) -> None:
    """The owner and the relationship manager hear of a downgrade (kind ``customer.downgraded``)."""
    from kestrel.notify.services import notify

    customer = (
        Customer.objects.select_related("owner", "relationship_manager").filter(pk=event.customer_id).first()
    )
    if customer is None:
        return
    recipients = [e for e in (customer.owner, customer.relationship_manager) if e is not None]
    notify(
        # One notification per recorded change: a repeated delivery of the event adds nothing.
        event_key=f"customer:{customer.pk}:downgraded:{event.change_id or timezone.now().isoformat()}",
        kind=CustomerDowngraded.name,
        recipients=recipients,
        title=_("%(customer)s downgraded: %(from)s → %(to)s")
        % {"customer": customer.name, "from": event.from_name, "to": event.to_name or _("no grade")},
        body=event.explanation,
        link=f"/customers/{customer.pk}/",
        data={
            "customer_id": customer.pk,
            "scheme": event.scheme,
            "from": event.from_grade,
            "to": event.to_grade,
        },
    )


def subscribers_register() -> None:
    """Called from ``CustomersConfig.ready``."""
    events.subscribe(CustomerDowngraded, downgrade_notify_holders)


@periodic_job(hour="1", minute="30")
def customers_regrade_nightly() -> dict:
    """Nightly at 01:30 Beijing time: grades follow the rules and the latest figures (ARC-4)."""
    return customers_regrade(actor=None).as_dict()
