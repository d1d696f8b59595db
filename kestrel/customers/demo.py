"""A realistic Chinese customer base for the demo company (``kestrel seed-demo --customers N``, ARC-1).

Company names are a city, a trade name (字号), a line of business and a legal form (杭州华泰机械有限
公司). Trade names are mostly two characters from a pool of 266 used in real ones — 70,000
pairs, each in about a dozen of a million customers, as in a real customer base — and now and
then one of the 83 trade names of Faker's zh_CN provider; credit codes are valid GB 32100 codes whose
region part is the customer's district; regions come from the shipped GB/T 2260 table, mostly the
owner's branch city; owners are the demo sales reps and sales managers, so data scope is realistic;
annual sales follow a Pareto distribution (α≈1.16, the 80/20 rule) and the grade of the primary
scheme follows from its ``annual_sales`` rules; confidentiality is mostly department or personal.

Fast enough for a million customers: names, pinyin and contacts come from small cached pools, rows
go in with ``bulk_create`` in batches of ``BATCH`` (one transaction each), and on SQLite the search
index is filled per batch with one ``INSERT … SELECT`` instead of a trigger per row. Idempotent-ish:
demo customers have codes ``DEMO0000001`` …, and ``customers_demo_seed(count=N)`` tops up to N.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Permission
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils import timezone
from faker import Faker
from faker.providers.company.zh_CN import Provider as CompanyProvider

from kestrel.core.planner import planner_statistics_refresh
from kestrel.customers import search
from kestrel.customers.models import Contact, Customer, CustomerGrade, Grade, GradeScheme, Industry, Region
from kestrel.customers.pinyin import name_search_keys
from kestrel.customers.reference import reference_data_load
from kestrel.customers.validators import CREDIT_CODE_ALPHABET, credit_code_check_character
from kestrel.org.models import Employee, Role

CODE_PREFIX = "DEMO"
CODE_END = "DEMP"  # codes of demo customers are >= CODE_PREFIX and < CODE_END
BATCH = 5000
SEED = 20261124

# Branch code → (city code, area code) of the demo company's branches (kestrel/org/demo.py).
BRANCH_CITIES = {
    "B-SH": ("310100", "021"),
    "B-HZ": ("330100", "0571"),
    "B-BJ": ("110100", "010"),
    "B-TJ": ("120100", "022"),
    "B-GZ": ("440100", "020"),
    "B-SZ": ("440300", "0755"),
}
TRADES = [
    "科技", "贸易", "机械", "化工", "建材", "食品", "物流", "医药", "电子", "纺织", "汽车配件", "建筑工程",
    "环保", "能源", "农业", "传媒", "信息", "网络", "实业", "投资", "餐饮", "服饰", "钢铁", "家具", "包装",
    "印刷", "塑料", "五金", "电器", "光电", "新材料", "生物", "供应链", "商贸", "装饰", "物业", "酒店",
    "文化", "教育", "咨询", "软件", "通信", "仪器", "精密", "制药", "水务", "船舶", "航空", "矿业", "石化",
]  # fmt: skip
BRAND_CHARACTERS = "".join(
    dict.fromkeys(  # each character once, in this order (the demo is reproducible)
        "华泰通安鑫源盛达恒信德丰瑞祥隆昌兴宏博远嘉和正新天宇金银海润永康富民汇聚诚创星辰美佳利亚东方"
        "中联合众力凯旋威龙腾飞云峰山川明光彩虹华夏百川万通广厦科睿智慧立本原点晨曦锦绣长城世纪"
        "弘泽晟昊铭宸煜骏琪璟峻翔鹏跃卓越鸿运亨吉如意福禄寿喜宁顺旺发仁义礼智久远航帆舟浩瀚"
        "江河湖洋波涛澜泉溪林森松柏竹梅兰菊荣耀辉煌灿烂炜烨焱鼎鑫淼磊峥嵘屹岩石坤乾元亿万千"
        "佰仟禾苗穗麦丰谷粮茂茁盈满溢益增进达通畅捷迅速驰骋奔放展拓开启承继传统合力同心协"
        "和谐融汇贯通博雅儒商道德尚品优良精工匠艺巧技术能量宝玉珠翠琳琅珍奇俊秀英杰豪雄伟"
        "壮阔广大宽厚实坚固稳定安全保障卫护佑福泰来祺瑞麟凤鸾鹤鹰隼骐骥驹雁鸣声誉望"
    )
)
# 字号: how often a company has one of Faker's trade names instead of two characters of the pool. Each
# of Faker's 83 then recurs ≈ 110 times in a million customers; at the 30 % of earlier versions it
# was 3,400 times, which no real customer base shows.
FAKER_TRADE_NAME_SHARE = 0.01
LEGAL_FORMS = ["有限公司"] * 6 + ["有限责任公司", "股份有限公司", "集团有限公司", "厂", "商行"]
TITLES = [
    "总经理",
    "副总经理",
    "采购经理",
    "采购主管",
    "财务总监",
    "技术总监",
    "办公室主任",
    "销售经理",
    "董事长",
]
DEPARTMENTS = ["总经办", "采购部", "财务部", "技术部", "行政部", "生产部", "销售部"]
EDUCATION = ["本科", "硕士", "大专", "博士", ""]
MOBILE_PREFIXES = ["130", "131", "135", "136", "137", "138", "139", "150", "151", "155", "158", "159", "166",
                   "177", "180", "186", "189", "199"]  # fmt: skip
STREETS = ["人民路", "解放路", "中山路", "建设路", "工业园路", "科技大道"]
CONFIDENTIALITY = (
    [Customer.Confidentiality.DEPARTMENT] * 45
    + [Customer.Confidentiality.PERSONAL] * 35
    + [Customer.Confidentiality.COMPANY] * 20
)
STATUSES = (
    [Customer.Status.ACTIVE] * 90
    + [Customer.Status.CREDIT_SUSPENDED] * 5
    + [Customer.Status.ARCHIVED] * 3
    + [Customer.Status.BLACKLISTED] * 2
)
KINDS = (
    [Customer.Kind.ENTERPRISE] * 70
    + [Customer.Kind.DEALER] * 10
    + [Customer.Kind.MANUFACTURER] * 10
    + [Customer.Kind.GROUP] * 3
    + [Customer.Kind.INDIVIDUAL] * 5
    + [Customer.Kind.VIP] * 2
)
LIFECYCLE = list(Customer.Lifecycle.values)
DECISION_ROLES = list(Contact.DecisionRole.values)
SOURCES = [value for value in Customer.Source.values if value not in {"self_service", "import"}]
# The demo roles that work with customers, and the customer permissions they get.
ROLE_PERMISSIONS = {
    "公司管理层": ["view_customer", "read_all_levels", "approve_access", "view_sensitive", "export_customer"],
    "营销总监": [
        "view_customer", "add_customer", "change_customer", "read_all_levels", "approve_access",
        "view_sensitive", "export_customer", "import_customer", "handover_customer", "merge_customer",
        "grade_customer", "view_contact", "add_contact", "change_contact",
    ],
    "大区经理": ["view_customer", "change_customer", "approve_access", "view_contact", "export_customer"],
    "分支机构总经理": ["view_customer", "change_customer", "approve_access", "view_contact",
                "export_customer"],
    "销售经理": ["view_customer", "add_customer", "change_customer", "approve_access", "view_contact",
               "add_contact", "change_contact", "export_customer"],
    "销售代表": ["view_customer", "add_customer", "change_customer", "view_contact", "add_contact",
               "change_contact"],
    "华东客服": ["view_customer", "view_contact"],
    "财务": ["view_customer", "view_sensitive"],
}  # fmt: skip


@dataclass
class Owner:
    id: int
    department_id: int
    city_code: str
    area_code: str


def customers_demo_seed(*, count: int, progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Top the demo customers up to ``count`` (codes ``DEMO…``). Needs the demo company (seed-demo).

    Returns ``{"created": n, "total": demo customers now}``.
    """
    reference_data_load()
    demo_permissions_grant()
    existing = Customer.objects.filter(code__gte=CODE_PREFIX, code__lt=CODE_END).count()
    if existing >= count:
        return {"created": 0, "total": existing}
    last = (
        Customer.objects.filter(code__gte=CODE_PREFIX, code__lt=CODE_END)
        .order_by("-code")
        .values_list("code", flat=True)
        .first()
    )
    start = int(last.removeprefix(CODE_PREFIX)) if last else 0
    generator = _Generator()
    created = 0
    while existing + created < count:
        size = min(BATCH, count - existing - created)
        generator.batch_insert(first=start + created + 1, size=size)
        created += size
        if progress:
            progress(existing + created, count)
    # After a bulk load the query planners need fresh statistics to pick the indexes.
    planner_statistics_refresh(
        [Customer._meta.db_table, Contact._meta.db_table, CustomerGrade._meta.db_table]
    )
    return {"created": created, "total": existing + created}


def demo_permissions_grant() -> None:
    """Give the demo company's roles (found by name) the customer permissions of their job."""
    permissions = {
        p.codename: p
        for p in Permission.objects.filter(content_type__app_label="customers").select_related("content_type")
    }
    for role in Role.objects.filter(name__in=ROLE_PERMISSIONS):
        role.permissions.add(*[permissions[c] for c in ROLE_PERMISSIONS[role.name] if c in permissions])


class _Generator:
    def __init__(self) -> None:
        self.owners = _owners()
        if not self.owners:
            raise RuntimeError("No demo sales staff: run `kestrel seed-demo` without --customers first.")
        districts = list(
            Region.objects.filter(level=Region.Level.DISTRICT)
            .select_related("parent")
            .values_list("pk", "code", "parent_id", "parent__parent_id", "parent__code", "parent__name")
        )
        self.districts = districts
        self.districts_by_city: dict[str, list[tuple]] = {}
        for row in districts:
            self.districts_by_city.setdefault(row[4], []).append(row)
        self.city_words = sorted({_city_word(row[5]) for row in districts if _city_word(row[5])})
        self.industries = list(Industry.objects.values_list("pk", flat=True))
        self.grading = _grading()
        fake = Faker("zh_CN")
        fake.seed_instance(SEED)
        self.person_names = [fake.name() for _ in range(5000)]
        self.pinyin: dict[str, tuple[str, str]] = {}

    def keys(self, part: str) -> tuple[str, str]:
        cached = self.pinyin.get(part)
        if cached is None:
            cached = self.pinyin[part] = name_search_keys(part)
        return cached

    def batch_insert(self, *, first: int, size: int) -> None:
        rng = random.Random(SEED * 1_000_003 + first)  # noqa: S311 — demo data, reproducible
        now = timezone.now()
        today = now.date()
        customers = [self.customer(rng, number, now, today) for number in range(first, first + size)]
        contacts = [contact for customer in customers for contact in self.contacts(rng, customer)]
        with transaction.atomic():
            last_id = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            for customer, pk in zip(customers, _ids_reserve(Customer, size, last_id), strict=True):
                customer["id"] = pk
            for contact in contacts:
                contact["customer_id"] = contact.pop("customer")["id"]
            search.search_triggers(enabled=False)
            rows_insert(Customer, customers)
            search.search_triggers(enabled=True)
            search.search_index_rebuild(after_id=last_id)
            rows_insert(Contact, contacts)
            if self.grading is not None:
                rows_insert(
                    CustomerGrade,
                    [
                        {"customer_id": c["id"], "scheme_id": self.grading[0], "grade_id": c["grade_id"],
                         "source": "rule", "pinned": False, "updated_at": now}
                        for c in customers
                        if c["grade_id"]
                    ],
                )  # fmt: skip

    def customer(self, rng: random.Random, number: int, now, today: date) -> dict[str, Any]:
        owner = rng.choice(self.owners)
        if rng.random() < 0.7 and owner.city_code in self.districts_by_city:
            district = rng.choice(self.districts_by_city[owner.city_code])
            area_code = owner.area_code
        else:
            district = rng.choice(self.districts)
            area_code = "0" + str(rng.randint(10, 999))
        district_id, district_code, city_id, province_id, _city_code, city_name = district
        kind = rng.choice(KINDS)
        if kind == Customer.Kind.INDIVIDUAL:
            parts = [rng.choice(self.person_names)]
            short_name = ""
        else:
            if rng.random() < FAKER_TRADE_NAME_SHARE:
                trade_name = rng.choice(CompanyProvider.company_prefixes)
            else:
                trade_name = rng.choice(BRAND_CHARACTERS) + rng.choice(BRAND_CHARACTERS)
            place = _city_word(city_name) or rng.choice(self.city_words)
            parts = [place, trade_name, rng.choice(TRADES), rng.choice(LEGAL_FORMS)]
            short_name = trade_name if rng.random() < 0.6 else ""
        name = "".join(parts)
        name_pinyin = "".join(self.keys(part)[0] for part in parts)[:600]
        name_initials = "".join(self.keys(part)[1] for part in parts)[:200]
        sales = Decimal(int(200_000 / (1.0 - rng.random()) ** (1 / 1.16)))  # Pareto: xm 20万, α 1.16
        grade_id = _grade_for(self.grading, sales)
        if rng.random() < 0.6:
            phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        else:
            phone = f"{area_code}-{rng.randint(2, 8)}{rng.randrange(10**7):07d}"
        founded = today - timedelta(days=rng.randint(365, 365 * 30))
        return dict(
            code=f"{CODE_PREFIX}{number:07d}",
            name=name,
            short_name=short_name,
            credit_code=_credit_code(number, district_code, kind),
            kind=kind,
            industry_id=rng.choice(self.industries) if self.industries else None,
            province_id=province_id,
            city_id=city_id,
            district_id=district_id,
            address=f"{city_name}{rng.choice(STREETS)}{rng.randint(1, 999)}号",
            phone=phone,
            legal_representative=rng.choice(self.person_names),
            founded_on=founded,
            registered_capital=Decimal(rng.choice([50, 100, 200, 500, 1000, 5000, 10000])) * 10_000,
            staff_count=rng.randint(3, 5000),
            annual_sales=sales,
            taxpayer_type=Customer.TaxpayerType.GENERAL if sales > 5_000_000 else Customer.TaxpayerType.SMALL,
            tax_rate=Decimal("13.00") if sales > 5_000_000 else Decimal("3.00"),
            credit_limit=(sales / 10).quantize(Decimal("1000")),
            owner_id=owner.id,
            department_id=owner.department_id,
            source=rng.choice(SOURCES),
            lifecycle_stage=rng.choice(LIFECYCLE),
            grade_id=grade_id,
            confidentiality=rng.choice(CONFIDENTIALITY),
            status=rng.choice(STATUSES),
            last_contact_at=now - timedelta(days=rng.randint(0, 400)),
            archive_updated_at=now - timedelta(days=rng.randint(0, 400)),
            name_pinyin=name_pinyin,
            name_initials=name_initials,
            created_at=now,
            updated_at=now,
        )

    def contacts(self, rng: random.Random, customer: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            dict(
                customer=customer,
                name=rng.choice(self.person_names),
                title=rng.choice(TITLES),
                department=rng.choice(DEPARTMENTS),
                mobile=rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}",
                birthday=date(rng.randint(1960, 1998), rng.randint(1, 12), rng.randint(1, 28))
                if rng.random() < 0.5
                else None,
                gender=rng.choice(["male", "female"]),
                education=rng.choice(EDUCATION),
                decision_role=rng.choice(DECISION_ROLES),
                is_primary=index == 0,
                created_at=customer["created_at"],
                updated_at=customer["created_at"],
            )
            for index in range(rng.choice([1, 1, 2, 2, 3]))
        ]


def rows_insert(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (attname → value; every other column gets the field's default) without the
    per-value cost of ``bulk_create``'s SQL compiler: ``COPY`` on PostgreSQL, ``executemany`` on SQLite."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.attname not in rows[0])]
    template = model()
    defaults = {f.attname: getattr(template, f.attname) for f in fields}
    typed = {
        f.attname: f
        for f in fields
        if isinstance(f, models.DateField | models.DecimalField | models.JSONField)  # DateTimeField too
    }

    db = connections[DEFAULT_DB_ALIAS]  # the connection itself, not the thread-local proxy
    memo: dict[tuple[str, Any], Any] = {}  # dates and times repeat: adapt each once

    def prepared(row: dict[str, Any]) -> tuple:
        values = []
        for f in fields:
            value = row.get(f.attname, defaults[f.attname])
            if value is not None and f.attname in typed:
                if isinstance(value, date):
                    key = (f.attname, value)
                    if key not in memo:
                        memo[key] = f.get_db_prep_save(value, db)
                    value = memo[key]
                else:
                    value = f.get_db_prep_save(value, db)
            values.append(value)
        return tuple(values)

    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(prepared(row))
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 — names from the model
            cursor.executemany(sql, [prepared(row) for row in rows])


def _ids_reserve(model: type[models.Model], count: int, last_id: int) -> list[int]:
    """Primary keys for rows inserted with explicit ids: from the sequence on PostgreSQL (safe with
    concurrent inserts); on SQLite the write lock of the transaction is held, so the next ids are free."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [model._meta.db_table, count],
            )
            return [row[0] for row in cursor.fetchall()]
    return list(range(last_id + 1, last_id + count + 1))


def _owners() -> list[Owner]:
    """Sales reps (weight 3) and sales managers (weight 1) of the demo branches."""
    owners = []
    employees = Employee.objects.filter(
        status=Employee.Status.ACTIVE, position__code__in=["sales_rep", "branch_sales_manager"]
    ).values_list("pk", "department_id", "department__parent__code", "position__code")
    for pk, department_id, branch_code, position in employees:
        city_code, area_code = BRANCH_CITIES.get(branch_code or "", ("", "021"))
        owner = Owner(pk, department_id, city_code, area_code)
        owners += [owner] * (3 if position == "sales_rep" else 1)
    return owners


def _city_word(city_name: str) -> str:
    """杭州市 → 杭州; names that do not shorten well are left out."""
    for suffix in ("市", "地区", "盟"):
        if city_name.endswith(suffix) and len(city_name) - len(suffix) >= 2:
            return city_name.removesuffix(suffix)
    return ""


def _credit_code(number: int, district_code: str, kind: str) -> str | None:
    """A valid 统一社会信用代码: 9 (industry and commerce) 1 (enterprise) + district + a 9-character
    organisation code unique per demo number + the GB 32100 check character."""
    if kind == Customer.Kind.INDIVIDUAL:
        return None
    value = (number * 2_654_435_761 + 987_654_321) % 31**9  # a bijection on 0 … 31⁹−1
    organisation = ""
    for _ in range(9):
        value, digit = divmod(value, 31)
        organisation = CREDIT_CODE_ALPHABET[digit] + organisation
    first17 = f"91{district_code}{organisation}"
    return first17 + credit_code_check_character(first17)


def _grading() -> tuple[int, list[tuple[int, Decimal | None]]] | None:
    """The primary scheme's grades as (grade id, minimum annual sales), best first; None without a
    primary scheme. Grades whose rules use other metrics are skipped; one without rules is the rest."""
    scheme = GradeScheme.objects.filter(is_primary=True).first()
    if scheme is None:
        return None
    ladder: list[tuple[int, Decimal | None]] = []
    for grade in Grade.objects.filter(scheme=scheme).order_by("rank"):
        rules = grade.rules or []
        if not rules:
            ladder.append((grade.pk, None))
        elif all(r.get("metric") == "annual_sales" and r.get("op") in (">=", ">") for r in rules):
            ladder.append((grade.pk, max(Decimal(str(r["value"])) for r in rules)))
    return (scheme.pk, ladder) if ladder else None


def _grade_for(grading: Any, sales: Decimal) -> int | None:
    if grading is None:
        return None
    for grade_id, minimum in grading[1]:
        if minimum is None or sales >= minimum:
            return grade_id
    return None
