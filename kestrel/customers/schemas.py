from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kestrel.customers import masking
from kestrel.customers.models import Contact, Customer

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


def choice(choices: type) -> Any:
    """Django choices as an inline enum: several models have a ``Kind`` or ``Status``, and OpenAPI
    components are named after the class, so the enums would collide."""
    return Literal[tuple(choices.values)]


CustomerKind = choice(Customer.Kind)
CustomerStatus = choice(Customer.Status)
Confidentiality = choice(Customer.Confidentiality)
Lifecycle = choice(Customer.Lifecycle)
TaxpayerType = choice(Customer.TaxpayerType)
CustomerSource = choice(Customer.Source)
ContactGender = choice(Contact.Gender)
DecisionRole = choice(Contact.DecisionRole)
Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]
Text50 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)]
Text100 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Text300 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
LongText = Annotated[str, StringConstraints(max_length=5000)]
SearchText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]


class StrictIn(Schema):
    model_config = ConfigDict(extra="forbid")


class CharacteristicsIn(StrictIn):
    service_area: LongText = ""
    sales_capability: LongText = ""
    development_potential: LongText = ""
    business_philosophy: LongText = ""
    management_traits: LongText = ""
    attitude_to_us: LongText = ""
    contract_fulfilment: LongText = ""
    frictions: LongText = ""
    competitor_dealings: LongText = ""
    demand_traits: LongText = ""


class CustomerFields(StrictIn):
    """Everything a caller may write; ids refer to regions, industries and employees."""

    short_name: Text100 | None = None
    credit_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=18)] | None = None
    kind: CustomerKind | None = None
    industry_id: Id | None = None
    tags: list[Text50] | None = Field(None, max_length=50)
    province_id: Id | None = None
    city_id: Id | None = None
    district_id: Id | None = None
    address: Text300 | None = None
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=6)] | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] | None = None
    other_phones: list[Annotated[str, StringConstraints(max_length=30)]] | None = Field(None, max_length=10)
    fax: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] | None = None
    website: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    legal_representative: Text50 | None = None
    founded_on: date | None = None
    registered_capital: Money | None = None
    organisation_form: Text50 | None = None
    staff_count: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    annual_sales: Money | None = None
    assets: Money | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    taxpayer_type: TaxpayerType | None = None
    tax_rate: Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)] | None = None
    invoice_title: Text200 | None = None
    invoice_address: Text300 | None = None
    payment_terms: Text200 | None = None
    discount_terms: Text200 | None = None
    credit_limit: Money | None = None
    sales_limit: Money | None = None
    payment_credit_record: LongText | None = None
    relationship_manager_id: Id | None = None
    co_owner_ids: list[Id] | None = Field(None, max_length=50)
    commission_code: Text50 | None = None
    source: CustomerSource | None = None
    referrer: Text100 | None = None
    lifecycle_stage: Lifecycle | None = None
    confidentiality: Confidentiality | None = None
    status: CustomerStatus | None = None
    custom_fields: dict[str, Any] | None = None
    characteristics: CharacteristicsIn | None = None


class CustomerIn(CustomerFields):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    owner_id: Id | None = Field(None, description="default: the caller")


class CustomerPatch(CustomerFields):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)] | None = None
    owner_id: Id | None = None


class CustomerOut(BaseModel):
    """A row of the customer list (SPEC §9), built as a dict by ``selectors.customer_rows`` (names of
    relations joined in, amounts masked) and validated by pydantic alone: ninja's attribute getter
    cost as much per row as the query."""

    id: int
    code: str
    name: str
    short_name: str
    credit_code: str | None
    kind: str
    grade: str | None
    grade_id: int | None
    region: str
    province_id: int | None
    city_id: int | None
    district_id: int | None
    industry_id: int | None
    owner_id: int
    owner_name: str
    department_id: int
    confidentiality: str
    status: str
    lifecycle_stage: str
    phone: str
    credit_limit: Decimal | str | None
    annual_sales: Decimal | str | None
    tags: list[str]
    last_contact_at: datetime | None
    archive_updated_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CustomerDetailOut(CustomerOut, Schema):
    """One archive (detail, 360°, writes), read from the model: the list row's fields resolved from
    its relations, and the rest of the master file."""

    address: str
    postal_code: str
    other_phones: list
    fax: str
    email: str
    website: str
    legal_representative: str
    founded_on: date | None
    registered_capital: Decimal | str | None
    organisation_form: str
    staff_count: int | None
    assets: Decimal | str | None
    currency: str
    taxpayer_type: str
    tax_rate: Decimal | None
    invoice_title: str
    invoice_address: str
    payment_terms: str
    discount_terms: str
    sales_limit: Decimal | str | None
    payment_credit_record: str
    relationship_manager_id: int | None
    co_owner_ids: list[int]
    commission_code: str
    source: str
    referrer: str
    custom_fields: dict

    @staticmethod
    def resolve_grade(customer) -> str | None:
        return customer.grade.name if customer.grade_id else None

    @staticmethod
    def resolve_region(customer) -> str:
        return "".join(r.name for r in (customer.province, customer.city, customer.district) if r is not None)

    @staticmethod
    def resolve_tags(customer) -> list[str]:
        return sorted(tag.name for tag in customer.tags.all())

    @staticmethod
    def resolve_owner_name(customer) -> str:
        return customer.owner.name

    @staticmethod
    def resolve_credit_limit(customer, context) -> Any:
        return masking.customer_value(context["request"].user, "credit_limit", customer.credit_limit)

    @staticmethod
    def resolve_annual_sales(customer, context) -> Any:
        return masking.customer_value(context["request"].user, "annual_sales", customer.annual_sales)

    @staticmethod
    def resolve_co_owner_ids(customer) -> list[int]:
        return sorted(e.pk for e in customer.co_owners.all())

    @staticmethod
    def resolve_registered_capital(customer, context) -> Any:
        return masking.customer_value(
            context["request"].user, "registered_capital", customer.registered_capital
        )

    @staticmethod
    def resolve_assets(customer, context) -> Any:
        return masking.customer_value(context["request"].user, "assets", customer.assets)

    @staticmethod
    def resolve_sales_limit(customer, context) -> Any:
        return masking.customer_value(context["request"].user, "sales_limit", customer.sales_limit)


class ContactFields(StrictIn):
    title: Text50 | None = None
    department: Text50 | None = None
    mobile: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] | None = None
    wechat: Text50 | None = None
    birthday: date | None = None
    gender: ContactGender | None = None
    education: Text50 | None = None
    hobbies: LongText | None = None
    family_notes: LongText | None = None
    decision_role: DecisionRole | None = None
    is_primary: bool | None = None
    consent_contact: bool | None = None
    consent_marketing: bool | None = None
    active: bool | None = None


class ContactIn(ContactFields):
    customer_id: Id
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class ContactPatch(ContactFields):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)] | None = None


class ContactMoveIn(StrictIn):
    customer_id: Id
    title: Text50 = ""


class ContactOut(Schema):
    id: int
    customer_id: int
    name: str
    title: str
    department: str
    phone: str
    mobile: str
    email: str
    wechat: str
    birthday: date | None
    gender: str
    decision_role: str
    is_primary: bool
    consent_contact: bool
    consent_marketing: bool
    active: bool

    @staticmethod
    def resolve_mobile(contact, context) -> str:
        return masking.contact_value(context["request"].user, "mobile", contact.mobile)

    @staticmethod
    def resolve_wechat(contact, context) -> str:
        return masking.contact_value(context["request"].user, "wechat", contact.wechat)
