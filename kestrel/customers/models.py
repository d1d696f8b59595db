"""The customer archive 客户档案 (SPEC §1, ARC-1 … ARC-14)."""

from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kestrel.core.models import TimeStampedModel
from kestrel.core.scope import ScopedQuerySet, reach_for
from kestrel.customers.validators import validate_credit_code, validate_phone, validate_postal_code

MONEY = {"max_digits": 18, "decimal_places": 2}


class Region(models.Model):
    """The administrative divisions of China (province → city → district), shipped as data."""

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("Province")
        CITY = 2, _("City")
        DISTRICT = 3, _("District")

    code = models.CharField(
        _("code"), max_length=12, unique=True, help_text=_("GB/T 2260 administrative code")
    )
    name = models.CharField(_("name"), max_length=50)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "name"], name="customers_region_level_name")]

    def __str__(self) -> str:
        return self.name


class Industry(models.Model):
    """Industries (GB/T 4754 sections by default), admin-editable."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("industry")
        verbose_name_plural = _("industries")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    """A free classification label (ARC-4 "tags"), shared by customers."""

    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class GradeScheme(TimeStampedModel):
    """A way of grading customers (ARC-4): 核心/重要/大客户/一般, 一级…五级, A/B/C, the futures classes…"""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    is_primary = models.BooleanField(
        _("primary scheme"),
        default=False,
        help_text=_(
            "The grade of the primary scheme is the customer's grade in lists, filters and policies."
        ),
    )

    class Meta:
        verbose_name = _("grade scheme")
        verbose_name_plural = _("grade schemes")
        ordering = ["-is_primary", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_primary"],
                condition=models.Q(is_primary=True),
                name="customers_one_primary_scheme",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Grade(models.Model):
    """One grade of a scheme; ``rank`` 1 is the highest (a move to a larger rank is a downgrade)."""

    scheme = models.ForeignKey(
        GradeScheme, on_delete=models.CASCADE, related_name="grades", verbose_name=_("scheme")
    )
    code = models.SlugField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=50)
    rank = models.PositiveSmallIntegerField(_("rank"), help_text=_("1 is the highest grade."))
    rules = models.JSONField(
        _("rules"),
        default=list,
        blank=True,
        help_text=_('All must hold, e.g. [{"metric": "annual_sales", "op": ">=", "value": "5000000"}].'),
    )
    requires_relationship_manager = models.BooleanField(
        _("requires a relationship manager"), default=False, help_text=_("ARC-5: core and important grades.")
    )
    min_holders = models.PositiveSmallIntegerField(
        _("minimum holders"),
        default=1,
        help_text=_("ARC-5: at least two employees hold every important customer."),
    )

    class Meta:
        verbose_name = _("grade")
        verbose_name_plural = _("grades")
        ordering = ["scheme", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "code"], name="customers_grade_code_in_scheme"),
            models.UniqueConstraint(fields=["scheme", "rank"], name="customers_grade_rank_in_scheme"),
        ]

    def __str__(self) -> str:
        return self.name


class CustomerQuerySet(ScopedQuerySet):
    page_in_two_steps = True  # kestrel.core.pagination.page_of: keys first, related rows prefetched

    def readable_by(self, user: Any) -> "CustomerQuerySet":
        """The archives ``user`` may read (ARC-6 on top of PLT-2), as one WHERE clause.

        - Holders (owner, co-owners, relationship manager) always read their customers.
        - Within the user's data scope: a department's managers (of it or any department above it)
          read its personal- and department-level archives; holders of
          ``customers.read_all_levels`` (marketing director, marketing VP, GM) read every level.
        - Anyone else needs an approved, unexpired access request — which also reaches beyond the
          data scope: that is what the request is for.
        """
        reach = reach_for(user)
        if reach.everything and user.is_superuser:
            return self
        if not reach.employee_id:
            return self.none()
        employee_id = reach.employee_id
        # One OR of indexed columns against short literal lists, so that both databases can answer each
        # arm from its own index (SQLite's MULTI-INDEX OR, PostgreSQL's BitmapOr) instead of testing
        # every row against a hashed sub-select (a filtered list at 1M on PostgreSQL: 426 → 66 ms,
        # benchmarks/RESULTS.md); the arms are kept for pagination, which reads a page arm by arm
        # (``ScopedQuerySet.with_page_branches``). The short lists — departments, co-owned and granted
        # customers — are read first.
        holders = [Q(owner_id=employee_id), Q(relationship_manager_id=employee_id)]
        co_owners = self.model.co_owners.through.objects
        co_owned_ids = (
            co_owners.filter(employee_id=employee_id).order_by().values_list("customer_id", flat=True)
        )
        granted_ids = (
            AccessRequest.objects.filter(
                requester_id=employee_id, status=AccessRequest.Status.APPROVED, valid_until__gt=timezone.now()
            )
            .order_by()
            .values_list("customer_id", flat=True)
        )
        short_list = 1000  # more than that (a rare holder), and the sub-selects stay
        held_ids = list(co_owned_ids.union(granted_ids)[: short_list + 1])
        if len(held_ids) > short_list:
            holders += [Q(pk__in=co_owned_ids), Q(pk__in=granted_ids)]
        elif held_ids:
            holders.append(Q(pk__in=sorted(held_ids)))
        # The data scope is the user's own records (already among the holders above: owner) or the
        # departments of their reach.
        scope_departments = reach.department_subquery()
        if reach.everything:
            scope_ids: set[int] | None = None
        elif scope_departments is None:
            scope_ids = set()
        else:
            scope_ids = set(scope_departments.values_list("pk", flat=True))
        if user.has_perm("customers.read_all_levels"):
            if scope_ids is None:  # every level, everywhere: nothing to filter
                return self
            in_scope = [Q(department_id__in=sorted(scope_ids))] if scope_ids else []
            return self.with_page_branches(in_scope + holders)
        department = apps.get_model("org", "Department")
        managed_paths = list(department.objects.filter(manager_id=employee_id).values_list("path", flat=True))
        in_scope = []
        if managed_paths:
            subtree = Q(pk__in=[])
            for path in managed_paths:
                subtree |= Q(path__startswith=path)
            managed_ids = set(department.objects.filter(subtree).values_list("pk", flat=True))
            if scope_ids is not None:
                managed_ids &= scope_ids
            if managed_ids:
                in_scope = [
                    Q(
                        confidentiality__in=[
                            Customer.Confidentiality.PERSONAL,
                            Customer.Confidentiality.DEPARTMENT,
                        ],
                        department_id__in=sorted(managed_ids),
                    )
                ]
        return self.with_page_branches(in_scope + holders)


class Customer(TimeStampedModel):
    """The customer master file (客户主文件, ARC-1).

    For data scope a customer belongs to its owner and the owner's department; ``department`` is
    kept on the row (moved with the owner) so the scope filter is one indexed column.
    """

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("Enterprise")
        INDIVIDUAL = "individual", _("Individual")
        DEALER = "dealer", _("Dealer / intermediary")
        MANUFACTURER = "manufacturer", _("Manufacturer")
        GROUP = "group", _("Group")
        FAMILY = "family", _("Family")
        VIP = "vip", _("VIP")

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("customer status", "Active")
        CREDIT_SUSPENDED = "credit_suspended", _("Credit suspended")
        BLACKLISTED = "blacklisted", _("Blacklisted")
        ARCHIVED = "archived", _("Archived")

    class Confidentiality(models.TextChoices):
        COMPANY = "company", _("Company level")
        DEPARTMENT = "department", _("Department level")
        PERSONAL = "personal", _("Personal level")

    class Lifecycle(models.TextChoices):
        ACQUISITION = "acquisition", _("Acquisition")
        GROWTH = "growth", _("Growth")
        MATURITY = "maturity", _("Maturity")
        DECLINE = "decline", _("Decline")
        EXIT = "exit", _("Exit")

    class TaxpayerType(models.TextChoices):
        GENERAL = "general", _("General taxpayer")
        SMALL = "small", _("Small-scale taxpayer")
        NONE = "", _("Not applicable")

    class Source(models.TextChoices):
        VISIT = "visit", _("Sales visit")
        REFERRAL = "referral", _("Referral")
        EXHIBITION = "exhibition", _("Exhibition")
        ADVERTISING = "advertising", _("Advertising")
        WEBSITE = "website", _("Website")
        PHONE = "phone", _("Inbound call")
        WALK_IN = "walk_in", _("Walk-in")
        SELF_SERVICE = "self_service", _("Self-service form")
        IMPORT = "import", _("Import")
        OTHER = "other", _("Other")

    # Identity
    code = models.CharField(_("customer code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200, db_index=True)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_credit_code],
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=Kind.choices, default=Kind.ENTERPRISE, db_index=True
    )
    industry = models.ForeignKey(
        Industry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("industry"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("tags"))

    # Where
    province = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("province")
    )
    city = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("city")
    )
    district = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("district")
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    postal_code = models.CharField(
        _("postal code"), max_length=6, blank=True, validators=[validate_postal_code]
    )

    # How to reach them
    phone = models.CharField(
        _("phone"), max_length=30, blank=True, db_index=True, validators=[validate_phone]
    )
    other_phones = models.JSONField(_("other phones"), default=list, blank=True)
    fax = models.CharField(_("fax"), max_length=30, blank=True, validators=[validate_phone])
    email = models.EmailField(_("email"), blank=True)
    website = models.URLField(_("website"), blank=True)

    # The company
    legal_representative = models.CharField(_("legal representative"), max_length=50, blank=True)
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    registered_capital = models.DecimalField(_("registered capital"), **MONEY, null=True, blank=True)
    organisation_form = models.CharField(_("organisation form"), max_length=50, blank=True)
    staff_count = models.PositiveIntegerField(_("staff count"), null=True, blank=True)
    annual_sales = models.DecimalField(_("annual sales"), **MONEY, null=True, blank=True)
    assets = models.DecimalField(_("assets"), **MONEY, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")

    # Tax, invoicing, terms
    taxpayer_type = models.CharField(
        _("taxpayer type"), max_length=10, choices=TaxpayerType.choices, blank=True, default=""
    )
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, null=True, blank=True)
    invoice_title = models.CharField(_("invoice title"), max_length=200, blank=True)
    invoice_address = models.CharField(_("invoice address and phone"), max_length=300, blank=True)
    payment_terms = models.CharField(_("payment terms"), max_length=200, blank=True)
    discount_terms = models.CharField(_("discount terms"), max_length=200, blank=True)
    credit_limit = models.DecimalField(_("credit limit"), **MONEY, default=Decimal("0"))
    sales_limit = models.DecimalField(_("sales limit"), **MONEY, null=True, blank=True)
    payment_credit_record = models.TextField(_("payment credit record"), blank=True)

    # Who holds the customer (ARC-5)
    owner = models.ForeignKey(
        "org.Employee", on_delete=models.PROTECT, related_name="owned_customers", verbose_name=_("owner")
    )
    department = models.ForeignKey(
        "org.Department", on_delete=models.PROTECT, related_name="customers", verbose_name=_("department")
    )
    co_owners = models.ManyToManyField(
        "org.Employee", blank=True, related_name="co_owned_customers", verbose_name=_("co-owners")
    )
    relationship_manager = models.ForeignKey(
        "org.Employee",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_relationships",
        verbose_name=_("relationship manager"),
    )
    commission_code = models.CharField(_("commission code"), max_length=50, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True, default="")
    referrer = models.CharField(_("referrer"), max_length=100, blank=True)

    # Classification and state
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=20, choices=Lifecycle.choices, default=Lifecycle.ACQUISITION
    )
    grade = models.ForeignKey(
        Grade, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("grade")
    )
    confidentiality = models.CharField(
        _("confidentiality"), max_length=20, choices=Confidentiality.choices, default=Confidentiality.COMPANY
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)

    # Freshness (ARC-7) and search (ARC-10), maintained by the services
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    archive_updated_at = models.DateTimeField(_("archive updated"), null=True, blank=True)
    name_pinyin = models.CharField(_("name in pinyin"), max_length=600, blank=True, editable=False)
    name_initials = models.CharField(_("pinyin initials"), max_length=200, blank=True, editable=False)

    objects = CustomerQuerySet.as_manager()

    scope_owner = "owner"
    scope_department = "department"

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-pk"]
        permissions = [
            ("read_all_levels", _("Read archives of every confidentiality level within one's data scope")),
            ("approve_access", _("Approve requests to read confidential archives")),
            ("view_sensitive", _("See sensitive fields unmasked (bank accounts, personal phones, amounts)")),
            ("import_customer", _("Import customers and contacts")),
            ("export_customer", _("Export customers and contacts")),
            ("handover_customer", _("Hand over a departing employee's customers")),
            ("merge_customer", _("Merge duplicate customers")),
            ("grade_customer", _("Set customer grades by hand")),
        ]
        indexes = [
            # The arms of ``readable_by``, each read newest first and counted from its own index
            # (kestrel/core/pagination.py), alone or with the region filter of a list. With a region,
            # the index also holds what the scope and the usual status filter test after it, so that
            # counting a region's customers reads the index alone (a branch's home province at 1M:
            # 14 → 1.5 ms on SQLite, 49 → 2.5 ms on PostgreSQL).
            models.Index(fields=["department", "-id"], name="customers_dept_recent"),
            models.Index(fields=["department", "confidentiality", "id"], name="customers_dept_level_id"),
            models.Index(
                fields=["department", "province", "-id", "status", "confidentiality"],
                name="customers_dept_prov_status",
            ),
            models.Index(fields=["owner", "-id"], name="customers_owner_recent"),
            models.Index(
                fields=["owner", "province", "-id", "status", "confidentiality", "department"],
                name="customers_owner_prov_status",
            ),
            # Most customers have no relationship manager: a partial index keeps the NULLs out of it
            # and out of SQLite's statistics, which otherwise rate "manager = x" as matching most rows.
            models.Index(
                fields=["relationship_manager", "-id"],
                condition=models.Q(relationship_manager__isnull=False),
                name="customers_rm_recent",
            ),
            models.Index(fields=["grade", "-id"], name="customers_grade_recent"),
            models.Index(fields=["status", "-id"], name="customers_status_recent"),
            models.Index(fields=["province", "city", "district"], name="customers_by_region"),
            # The list filtered by region and status: its page newest first and its capped count from
            # the index alone (without it PostgreSQL counted a big province by scanning the table).
            models.Index(fields=["province", "status", "-id"], name="customers_province_status"),
            # With the id, so that PostgreSQL reads a search's ids from the index alone (SQLite's
            # indexes hold the rowid anyway).
            models.Index(fields=["name_initials", "id"], name="customers_initials_id"),
        ]

    def __str__(self) -> str:
        return self.name


class CustomerCharacteristics(TimeStampedModel):
    """Characteristics and statistics (客户特征 / 统计分析资料, ARC-2), kept beside the master file
    so that lists of a million customers do not carry these long texts."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, primary_key=True, related_name="characteristics"
    )
    service_area = models.TextField(_("service area"), blank=True)
    sales_capability = models.TextField(_("sales capability"), blank=True)
    development_potential = models.TextField(_("development potential"), blank=True)
    business_philosophy = models.TextField(_("business philosophy and policy"), blank=True)
    management_traits = models.TextField(_("management traits"), blank=True)
    attitude_to_us = models.TextField(_("attitude and evaluation of us"), blank=True)
    contract_fulfilment = models.TextField(_("contract fulfilment"), blank=True)
    frictions = models.TextField(_("frictions"), blank=True)
    competitor_dealings = models.TextField(_("dealings with competitors"), blank=True)
    demand_traits = models.TextField(_("demand traits and potential"), blank=True)

    class Meta:
        verbose_name = _("customer characteristics")
        verbose_name_plural = _("customer characteristics")

    def __str__(self) -> str:
        return str(self.customer)


class BankAccount(models.Model):
    """A bank account of the customer; the account number is a sensitive field (ARC-14)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="bank_accounts")
    bank_name = models.CharField(_("bank"), max_length=100)
    account_name = models.CharField(_("account name"), max_length=200)
    account_number = models.CharField(_("account number"), max_length=40)
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        verbose_name = _("bank account")
        verbose_name_plural = _("bank accounts")

    def __str__(self) -> str:
        return f"{self.bank_name} {self.account_number[-4:]}"


class DeliveryAddress(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="delivery_addresses")
    label = models.CharField(_("label"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=300)
    receiver = models.CharField(_("receiver"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        verbose_name = _("delivery address")
        verbose_name_plural = _("delivery addresses")

    def __str__(self) -> str:
        return self.label or self.address


class MajorEvent(models.Model):
    """重大变动事项 (ARC-2): a dated entry on the customer's timeline."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="major_events")
    occurred_on = models.DateField(_("date"))
    title = models.CharField(_("event"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    recorded_by = models.ForeignKey(
        "org.Employee",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("major event")
        verbose_name_plural = _("major events")
        ordering = ["-occurred_on", "-pk"]

    def __str__(self) -> str:
        return self.title


class GradeChange(models.Model):
    """Grade history (ARC-4): every change, by hand with a reason or by a rule with its explanation."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Set by hand")
        RULE = "rule", _("Computed by rule")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="grade_changes")
    scheme = models.ForeignKey(GradeScheme, on_delete=models.CASCADE, related_name="+")
    from_grade = models.ForeignKey(Grade, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    to_grade = models.ForeignKey(Grade, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    reason = models.TextField(_("reason / explanation"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("grade change")
        verbose_name_plural = _("grade changes")
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["customer", "scheme", "-changed_at"], name="customers_grade_history")]

    def __str__(self) -> str:
        return f"{self.customer}: {self.from_grade} → {self.to_grade}"

    @property
    def is_downgrade(self) -> bool:
        if self.from_grade is None or self.to_grade is None:
            return self.to_grade is None and self.from_grade is not None
        return self.to_grade.rank > self.from_grade.rank


class CustomerGrade(models.Model):
    """The current grade of a customer in each scheme (the primary one is also on ``Customer.grade``)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="grades")
    scheme = models.ForeignKey(GradeScheme, on_delete=models.CASCADE, related_name="+")
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=10, choices=GradeChange.Source.choices)
    pinned = models.BooleanField(
        _("set by hand"), default=False, help_text=_("Rules do not override a grade set by hand.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "scheme"], name="customers_one_grade_per_scheme"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.grade}"


class Contact(TimeStampedModel):
    """联系人 (ARC-3). Personal data: phones and birthday are masked for roles without the field
    permission (ARC-14); consent flags follow PIPL."""

    class Gender(models.TextChoices):
        UNKNOWN = "", _("Unknown")
        MALE = "male", _("Male")
        FEMALE = "female", _("Female")

    class DecisionRole(models.TextChoices):
        DECISION_MAKER = "decision_maker", _("Decision maker")
        INFLUENCER = "influencer", _("Influencer")
        USER = "user", _("User")
        PURCHASER = "purchaser", _("Purchaser")
        GATEKEEPER = "gatekeeper", _("Gatekeeper")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50, db_index=True)
    title = models.CharField(pgettext_lazy("job", "title"), max_length=50, blank=True)
    department = models.CharField(_("department"), max_length=50, blank=True)
    mobile = models.CharField(
        _("mobile"), max_length=30, blank=True, db_index=True, validators=[validate_phone]
    )
    phone = models.CharField(_("office phone"), max_length=30, blank=True, validators=[validate_phone])
    email = models.EmailField(_("email"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=50, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True, default="")
    education = models.CharField(_("education"), max_length=50, blank=True)
    hobbies = models.TextField(_("hobbies and personality"), blank=True)
    family_notes = models.TextField(_("family notes"), blank=True)
    decision_role = models.CharField(
        _("decision role"), max_length=20, choices=DecisionRole.choices, blank=True, default=""
    )
    is_primary = models.BooleanField(_("primary contact"), default=False)
    consent_contact = models.BooleanField(_("consents to being contacted"), default=False)
    consent_marketing = models.BooleanField(_("consents to marketing"), default=False)
    consent_recorded_at = models.DateTimeField(_("consent recorded at"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "name", "pk"]

    def __str__(self) -> str:
        return self.name


class ContactMove(models.Model):
    """A contact moved from one customer to another (ARC-3): the history stays."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="moves")
    from_customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    to_customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    from_title = models.CharField(_("former title"), max_length=50, blank=True)
    moved_at = models.DateTimeField(_("moved at"), auto_now_add=True)
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("contact move")
        verbose_name_plural = _("contact moves")
        ordering = ["-moved_at"]

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.from_customer_id} → {self.to_customer_id}"


class AccessRequest(TimeStampedModel):
    """查阅档案审批 (ARC-6): asking to read a confidential archive; a grant is time-limited."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("access request status", "Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="access_requests")
    requester = models.ForeignKey("org.Employee", on_delete=models.CASCADE, related_name="access_requests")
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        "org.Employee", on_delete=models.SET_NULL, null=True, blank=True, related_name="access_decisions"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["requester", "customer", "status", "valid_until"], name="customers_access_grant"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.requester} → {self.customer}"


class ArchiveView(models.Model):
    """Every read of a confidential archive, and every refused attempt (ARC-6, PLT-5). Append-only."""

    class Outcome(models.TextChoices):
        READ = "read", _("Read")
        DENIED = "denied", _("Denied")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="views")
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("viewer"),
    )
    channel = models.CharField(_("channel"), max_length=20, help_text=_("detail, 360, api, export, search…"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    viewed_at = models.DateTimeField(_("viewed at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("archive view")
        verbose_name_plural = _("archive view log")
        ordering = ["-viewed_at"]

    def __str__(self) -> str:
        return f"{self.viewer_id} {self.outcome} {self.customer_id} ({self.channel})"


class CustomField(TimeStampedModel):
    """An admin-defined field of the master file (ARC-1): values live in ``Customer.custom_fields``."""

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DECIMAL = "decimal", _("Amount")
        DATE = "date", _("Date")
        BOOLEAN = "boolean", _("Yes / no")
        CHOICE = "choice", _("Choice")
        MULTI_CHOICE = "multi_choice", _("Multiple choice")

    key = models.SlugField(_("key"), max_length=50, unique=True)
    label = models.CharField(_("label"), max_length=100)
    type = models.CharField(_("type"), max_length=20, choices=Type.choices, default=Type.TEXT)
    required = models.BooleanField(_("required"), default=False)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    validation = models.JSONField(
        _("validation"),
        default=dict,
        blank=True,
        help_text=_('e.g. {"max_length": 50, "pattern": "^[A-Z]+$", "min": 0, "max": 100}'),
    )
    sort_order = models.IntegerField(_("sort order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["sort_order", "key"]

    def __str__(self) -> str:
        return self.label


class ImportJob(TimeStampedModel):
    """One import of customers or contacts (ARC-11): its options, progress and row-by-row report."""

    class Kind(models.TextChoices):
        CUSTOMERS = "customers", _("Customers")
        CONTACTS = "contacts", _("Contacts")

    class Mode(models.TextChoices):
        CREATE = "create", _("Create only")
        UPDATE = "update", _("Update on match")
        UPSERT = "upsert", _("Create or update")

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        CHECKING = "checking", _("Checking")
        CHECKED = "checked", _("Checked")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.CUSTOMERS)
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices, default=Mode.CREATE)
    match_key = models.CharField(_("match key"), max_length=30, blank=True)
    skip_invalid = models.BooleanField(_("skip bad rows"), default=False)
    dry_run = models.BooleanField(_("dry run"), default=True)
    file_name = models.CharField(_("file name"), max_length=200)
    file_path = models.CharField(_("stored file"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("processed"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    error_count = models.PositiveIntegerField(_("bad rows"), default=0)
    report = models.JSONField(_("report"), default=list, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("by")
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


class SelfServiceInvitation(TimeStampedModel):
    """客户资料表 (ARC-12): a tokenised link where a customer fills in their own data; staff review
    the submission before it is merged into the archive."""

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        SUBMITTED = "submitted", _("Submitted, to review")
        MERGED = "merged", _("Merged")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")

    token_hash = models.CharField(max_length=64, unique=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="self_service_invitations"
    )
    invited_by = models.ForeignKey("org.Employee", on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField(_("expires at"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SENT)
    submitted_data = models.JSONField(_("submitted data"), default=dict, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        "org.Employee", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("self-service form")
        verbose_name_plural = _("self-service forms")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.customer or '-'} ({self.get_status_display()})"


class Handover(TimeStampedModel):
    """交接 (ARC-8): a departing employee's customers (and later their opportunities, tasks,
    complaints, visit plans) moved to named successors in one reviewed operation."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved and done")
        CANCELLED = "cancelled", _("Cancelled")

    departing = models.ForeignKey("org.Employee", on_delete=models.PROTECT, related_name="handovers_out")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    plan = models.JSONField(
        _("plan"),
        default=dict,
        blank=True,
        help_text=_("customer id → successor employee id, and other items"),
    )
    note = models.TextField(_("note"), blank=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.departing} ({self.get_status_display()})"


class DuplicateCandidate(models.Model):
    """A likely duplicate pair (ARC-9): similar name or the same phone; reviewed, then merged or kept."""

    class Status(models.TextChoices):
        OPEN = "open", _("To review")
        MERGED = "merged", _("Merged")
        DISMISSED = "dismissed", _("Not a duplicate")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=200)
    score = models.DecimalField(_("similarity"), max_digits=4, decimal_places=3)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    found_at = models.DateTimeField(_("found at"), auto_now_add=True)

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        ordering = ["-score", "-found_at"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "other"], name="customers_duplicate_pair_once"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} ~ {self.other_id} ({self.score})"


class CustomerMerge(models.Model):
    """The record of a merge (ARC-9): what was folded into what, and everything that moved."""

    kept = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges")
    merged_code = models.CharField(_("merged customer code"), max_length=40)
    merged_name = models.CharField(_("merged customer name"), max_length=200)
    moved = models.JSONField(_("moved records"), default=dict)
    snapshot = models.JSONField(_("merged customer as it was"), default=dict)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    merged_at = models.DateTimeField(_("merged at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")
        ordering = ["-merged_at"]

    def __str__(self) -> str:
        return f"{self.merged_code} → {self.kept_id}"
