"""The category contract: codes, legacy aliases, which rule category takes in which case category, the shipped table."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from core.categories import (
    LEGACY_MAJORS,
    CategoryCode,
    CategoryEntry,
    CategoryScope,
    CategoryTable,
    covers,
    is_major,
    major_of,
    specificity,
)
from core.events import EVENT_ADAPTER
from dispatch.registry.categories_store import seed_table
from tests.unit.factories import event_body

EVENT_CATEGORY = TypeAdapter(CategoryCode)
RULE_CATEGORY = TypeAdapter(CategoryScope)


def test_a_legacy_value_files_an_event_under_its_major_general_minor_and_names_a_whole_major_in_a_rule() -> None:
    assert EVENT_CATEGORY.validate_python("market") == "0999"
    assert EVENT_CATEGORY.validate_python("environment") == "0199"
    assert EVENT_CATEGORY.validate_python("0102") == "0102"
    assert EVENT_CATEGORY.validate_python("09") == "0999", "a bare 大类 files under its general 小类"
    assert RULE_CATEGORY.validate_python("market") == "09"
    assert RULE_CATEGORY.validate_python("0102") == "0102"
    assert RULE_CATEGORY.validate_python("01") == "01"


@pytest.mark.parametrize("bad", ["forest", "123", "01020", "", "０１０２"])
def test_anything_else_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        EVENT_CATEGORY.validate_python(bad)
    with pytest.raises(ValidationError):
        RULE_CATEGORY.validate_python(bad)


def test_an_old_phone_and_a_new_one_both_post_a_valid_event() -> None:
    old = EVENT_ADAPTER.validate_python(event_body(category="road"))
    new = EVENT_ADAPTER.validate_python(event_body(category="1402"))
    bare = EVENT_ADAPTER.validate_python({k: v for k, v in event_body().items() if k != "category"})
    assert (old.category, new.category, bare.category) == ("1499", "1402", "0699")
    assert major_of(old.category) == major_of(new.category) == "14"


def test_a_major_takes_in_its_minors_a_minor_only_itself() -> None:
    assert covers(None, "0102")
    assert covers("01", "0102") and covers("01", "0199")
    assert not covers("01", "0201")
    assert covers("0102", "0102") and not covers("0102", "0103")
    assert specificity(None) < specificity("01") < specificity("0102")


def test_the_shipped_table_has_every_legacy_major_and_its_general_minor() -> None:
    table = seed_table()
    for old, major in LEGACY_MAJORS.items():
        assert table.get(major) is not None and is_major(major), old
        assert table.reportable(major + "99"), f"{old} files under {major}99"
    for entry in table.entries:
        assert table.get(entry.major) is not None, f"{entry.code} has its 大类"
    names = {e.name_zh for e in table.entries if is_major(e.code)}
    assert {"市容环境", "宣传广告", "施工管理", "街面秩序", "突发事件", "其他", "矛盾纠纷", "安全隐患"} <= names
    assert table.path_zh("0102") == "市容环境/暴露垃圾"


def test_a_retired_minor_or_a_minor_of_a_retired_major_is_not_reportable_but_still_known() -> None:
    table = CategoryTable(
        [
            CategoryEntry("01", "市容环境", "Environment"),
            CategoryEntry("0101", "私搭乱建", "Sheds"),
            CategoryEntry("0102", "暴露垃圾", "Rubbish", active=False),
            CategoryEntry("02", "宣传广告", "Ads", active=False),
            CategoryEntry("0201", "非法小广告", "Flyers"),
        ]
    )
    assert table.reportable("0101")
    assert not table.reportable("0102") and table.knows("0102")
    assert not table.reportable("0201") and table.knows("0201")
    assert not table.reportable("01"), "a report names a 小类"
    assert not table.reportable("0999") and not table.knows("0999")
