"""``kestrel seed-demo --customers N`` (ARC-1, ARC-10): a realistic, valid, searchable demo customer base."""

import itertools
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from faker.providers.company.zh_CN import Provider as CompanyProvider

from kestrel.customers import selectors
from kestrel.customers.demo import CODE_PREFIX, customers_demo_seed
from kestrel.customers.models import Contact, Customer, CustomerGrade, GradeScheme
from kestrel.customers.validators import validate_credit_code, validate_phone
from kestrel.org.demo import demo_company_seed
from kestrel.org.models import Employee


@pytest.fixture
def demo_company(db):
    demo_company_seed()


def test_arc1_seed_demo_customers_are_valid_and_realistic(demo_company):
    assert customers_demo_seed(count=400) == {"created": 400, "total": 400}
    customers = list(Customer.objects.filter(code__startswith=CODE_PREFIX))
    assert len(customers) == 400
    for customer in customers[:100]:
        if customer.credit_code:
            validate_credit_code(customer.credit_code)
            assert customer.credit_code[2:8] == customer.district.code
        validate_phone(customer.phone)
        assert customer.department_id == customer.owner.department_id
        assert customer.owner.position.code in {"sales_rep", "branch_sales_manager"}
        assert customer.district.parent_id == customer.city_id
        assert customer.city.parent_id == customer.province_id
        assert customer.name_initials and customer.name_pinyin
    per_customer = Contact.objects.values("customer").annotate(n=Count("pk")).values_list("n", flat=True)
    assert set(per_customer) <= {1, 2, 3} and len(per_customer) == 400
    assert len({c.owner_id for c in customers}) > 5
    assert {c.confidentiality for c in customers} == set(Customer.Confidentiality.values)


def test_arc1_seed_demo_company_names_seldom_repeat_a_trade_name(demo_company):
    """In a real customer base a trade name (字号) recurs a few times, not in a share of all names: a
    search for one finds a handful, as a user's search would (the benchmark's searches, ARC-10)."""
    customers_demo_seed(count=2000)
    names = list(Customer.objects.exclude(kind=Customer.Kind.INDIVIDUAL).values_list("name", flat=True))
    faker_trade_names = [
        name for name in names if any(trade in name for trade in CompanyProvider.company_prefixes)
    ]
    assert len(faker_trade_names) < 0.05 * len(names)
    # The benchmark's substring texts: three characters from the middle of a name (the trade name).
    middles = Counter(name[2:5] for name in names)
    assert middles.most_common(1)[0][1] <= 5, middles.most_common(3)


def test_arc4_seed_demo_grades_follow_sales(demo_company):
    customers_demo_seed(count=400)
    scheme = GradeScheme.objects.filter(is_primary=True).first()
    if scheme is None:
        assert not Customer.objects.filter(grade__isnull=False).exists()
        return
    graded = Customer.objects.filter(grade__isnull=False).select_related("grade")
    assert graded.count() == 400
    assert CustomerGrade.objects.filter(scheme=scheme).count() == 400
    by_rank: dict[int, list] = {}
    for customer in graded:
        by_rank.setdefault(customer.grade.rank, []).append(customer.annual_sales)
    ranks = sorted(by_rank)
    assert len(by_rank[ranks[-1]]) > 200  # Pareto: most customers are in the lowest grade
    for higher, lower in itertools.pairwise(ranks):
        assert min(by_rank[higher]) >= max(by_rank[lower])


def test_arc1_seed_demo_tops_up_and_is_searchable(demo_company):
    call_command("seed_demo", "--customers", "150", stdout=StringIO())
    call_command("seed_demo", "--customers", "150", stdout=StringIO())
    assert Customer.objects.count() == 150
    call_command("seed_demo", "--customers", "200", stdout=StringIO())
    assert Customer.objects.count() == 200
    assert Customer.objects.order_by("-code").first().code == f"{CODE_PREFIX}0000200"
    customer = Customer.objects.exclude(kind=Customer.Kind.INDIVIDUAL).order_by("pk")[57]
    director = Employee.objects.get(user__username="director").user
    for text in (customer.name_initials, customer.name[2:5], customer.code, customer.phone):
        found = selectors.customer_list(actor=director, filters=selectors.CustomerFilter(q=text))
        assert customer in found, text
