"""What a delivery sends: an SMS through an HTTP gateway as Chinese SMS providers take it, and a text message to a
group robot's webhook (企业微信 and 钉钉 both accept `{"msgtype": "text", "text": {"content": ...}}`).

Every request carries the delivery's idempotency key (header `Idempotency-Key`, and `out_id` in the SMS body, the
field providers echo and deduplicate by), so a repeat after a lost answer is recognisable as the same message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from dispatch.delivery.outbox import Claimed

KIND_ZH = {
    "dispatched": "派遣",
    "returned": "退回",
    "supervised": "督办",
    "review_requested": "法制审核",
    "extension_requested": "延期申请",
    "extension_decided": "延期决定",
    "deadline": "即将超时",
}


class Failed(Exception):
    """The receiver did not take the message; `permanent` when trying again cannot help (a refused request)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Adapter(Protocol):
    """Sends one claimed delivery, or raises Failed."""

    async def send(self, item: Claimed) -> None: ...


def _headers(item: Claimed) -> dict[str, str]:
    return {"Idempotency-Key": str(item.idempotency_key)}


async def _post(http: httpx.AsyncClient, url: str, item: Claimed, **kwargs: Any) -> httpx.Response:
    """POST and classify the answer: 2xx is taken; 408, 429 and 5xx are worth another try; other 4xx are not."""
    try:
        answer = await http.post(url, **kwargs)
    except httpx.HTTPError as exc:
        raise Failed(f"{type(exc).__name__}: {exc}") from exc
    if answer.is_success:
        return answer
    retry = answer.status_code in (408, 429) or answer.status_code >= 500
    raise Failed(f"HTTP {answer.status_code}: {answer.text[:200]}", permanent=not retry)


@dataclass
class SmsGateway:
    """An SMS provider's HTTP API: JSON with phone, sign, template and its parameters, the API key in a header."""

    http: httpx.AsyncClient
    url: str
    api_key: str
    sign: str
    template: str

    def body(self, item: Claimed) -> dict[str, Any]:
        """The provider's request body."""
        return {
            "phone": item.target,
            "sign": self.sign,
            "template_id": self.template,
            "params": {"kind": KIND_ZH.get(item.kind, item.kind), "case": str(item.case_id)[:8], "text": item.text_zh},
            "out_id": str(item.idempotency_key),
        }

    async def send(self, item: Claimed) -> None:
        """Send one SMS; a provider's own refusal code in a 200 answer counts as failed."""
        headers = {**_headers(item), "X-Api-Key": self.api_key}
        answer = await _post(self.http, self.url, item, json=self.body(item), headers=headers)
        code = _provider_code(answer)
        if code not in (None, "OK", "0", 0):
            raise Failed(f"gateway refused: {code}")


def _provider_code(answer: httpx.Response) -> Any:
    """The provider's result code (`code`, as Aliyun's `OK` or Tencent-style `0`), if the answer has one."""
    try:
        data = answer.json()
    except ValueError:
        return None
    return data.get("code") if isinstance(data, dict) else None


@dataclass
class GroupRobot:
    """A 企业微信 or 钉钉 group robot: the URL is the robot's (with its key), kept per township or team as data."""

    http: httpx.AsyncClient

    @staticmethod
    def body(item: Claimed) -> dict[str, Any]:
        """The robot's text message, naming who the notice is for."""
        whom = f"（{item.person_name}）" if item.person_name else ""
        return {"msgtype": "text", "text": {"content": f"【{KIND_ZH.get(item.kind, item.kind)}】{item.text_zh}{whom}"}}

    async def send(self, item: Claimed) -> None:
        """Post to the robot; a robot's `errcode` other than 0 counts as failed."""
        if not item.webhook_url:
            raise Failed("the webhook was switched off", permanent=True)
        answer = await _post(self.http, item.webhook_url, item, json=self.body(item), headers=_headers(item))
        try:
            data = answer.json()
        except ValueError:
            return
        if isinstance(data, dict) and data.get("errcode") not in (None, 0):
            raise Failed(f"robot refused: {data.get('errcode')} {data.get('errmsg', '')}")
