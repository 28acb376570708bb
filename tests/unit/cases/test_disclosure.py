"""行政执法公示 as the public sees it: names, ID numbers and phone numbers masked, only what publication needs, and a
cursor that only this feed gives."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from dispatch.cases.disclosure import decode_cursor, encode_cursor, mask_id, mask_name, mask_text, public_decision
from dispatch.errors import Invalid

DECIDED_AT = datetime(2026, 3, 2, 17, 30, tzinfo=UTC)  # 3 March in Shanghai
CASE_ID = uuid.UUID("12345678-9abc-4def-8123-456789abcdef")


def row(**decision: object) -> dict[str, object]:
    """A decision's log row as the feed's query gives it."""
    return {
        "case_id": CASE_ID,
        "seq": 12,
        "at": DECIDED_AT,
        "category": "illegal_construction",
        "category_name": "违法建设/其他违法建设",
        "township_code": "510822100",
        "township_name": "乔庄镇",
        "village_name": "城郊村",
        "team_name": "乔庄镇综合行政执法队",
        "decision": {
            "party_kind": "person",
            "party_name": "王大山",
            "party_id_number": "510822198001011234",
            "violation": "未经批准擅自建设，住城郊村3组12号，联系电话13800001111",
            "legal_basis": "《中华人民共和国城乡规划法》第六十五条",
            "measures": ["demolition", "fine"],
            "fine_yuan": 5000,
            **decision,
        },
    }


@pytest.mark.parametrize(
    ("name", "masked"),
    [("王大山", "王*山"), ("张三", "张*"), ("欧阳小明", "欧**明"), ("李", "*"), (" 赵静 ", "赵*")],
)
def test_a_persons_name_keeps_its_first_and_last_character_only(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_id_and_phone_numbers_in_text_are_masked() -> None:
    text = "身份证510822198001011234，电话13800001111，旧证510822800101123"
    assert mask_text(text) == "身份证510*************34，电话138****1111，旧证510**********23"
    assert mask_id("12345") == "*****"


def test_a_person_is_published_masked_with_only_what_the_law_asks() -> None:
    shown = public_decision(row()).model_dump()
    assert shown == {
        "number": "510822100-2026-12345678-12",
        "decided_on": date(2026, 3, 3),
        "authority": "乔庄镇综合行政执法队",
        "township": "乔庄镇",
        "village": "城郊村",
        "category": "1099",
        "category_name": "违法建设/其他违法建设",
        "party_kind": "person",
        "party": "王*山",
        "party_id_number": "510*************34",
        "legal_basis": "《中华人民共和国城乡规划法》第六十五条",
        "measures": ("demolition", "fine"),
        "fine_yuan": 5000,
    }
    assert "13800001111" not in str(shown) and "3组12号" not in str(shown)


def test_an_organisation_is_published_by_name_and_credit_code() -> None:
    company = {"party_kind": "organisation", "party_name": "广元市某建材有限公司", "party_id_number": "91510800MA6"}
    shown = public_decision(row(**company))
    assert (shown.party, shown.party_id_number) == ("广元市某建材有限公司", "91510800MA6")


def test_a_cursor_names_the_position_after_a_decision() -> None:
    cursor = encode_cursor(DECIDED_AT, CASE_ID, 12)
    assert decode_cursor(cursor) == (DECIDED_AT, CASE_ID, 12)


@pytest.mark.parametrize("cursor", ["x", "bm90LWEtY3Vyc29y", encode_cursor(DECIDED_AT, CASE_ID, 12)[:-4]])
def test_a_cursor_this_feed_did_not_give_is_invalid(cursor: str) -> None:
    with pytest.raises(Invalid) as refused:
        decode_cursor(cursor)
    assert refused.value.loc == ("query", "cursor")
