"""What the adapters send: an SMS provider's body with the idempotency key as out_id, a group robot's text message."""

from __future__ import annotations

import uuid

import httpx

from dispatch.delivery.adapters import GroupRobot, SmsGateway
from dispatch.delivery.outbox import Claimed

ITEM = Claimed(
    id=1,
    channel="sms",
    target="13800000000",
    idempotency_key=uuid.UUID("00000000-0000-4000-8000-000000000001"),
    attempts=1,
    case_id=uuid.UUID("12345678-0000-4000-8000-000000000000"),
    kind="supervised",
    text_zh="督办（乡镇级）：村口垃圾堆放",
    person_id="gm-1",
    person_name="王伟",
    webhook_url=None,
)


def test_an_sms_names_the_phone_sign_template_and_carries_the_key_as_out_id() -> None:
    gateway = SmsGateway(httpx.AsyncClient(), "http://sms.invalid/send", "key", "某某镇", "SMS_1")
    body = gateway.body(ITEM)
    assert body == {
        "phone": "13800000000",
        "sign": "某某镇",
        "template_id": "SMS_1",
        "params": {"kind": "督办", "case": "12345678", "text": "督办（乡镇级）：村口垃圾堆放"},
        "out_id": "00000000-0000-4000-8000-000000000001",
    }


def test_a_robot_gets_a_text_message_naming_the_kind_and_the_person() -> None:
    assert GroupRobot.body(ITEM) == {
        "msgtype": "text",
        "text": {"content": "【督办】督办（乡镇级）：村口垃圾堆放（王伟）"},
    }
