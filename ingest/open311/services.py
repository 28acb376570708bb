"""The service list and definitions: the product's categories as Open311 services (Chinese with English), each
taking the reporter's judgement of urgency as its one optional attribute."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.vocabulary import Category, Severity

SERVICE_TYPE = "batch"
"""A request is routed by the stream processors after the POST: the client gets a token, then its request's id."""

SEVERITY_ATTRIBUTE = "severity"
SEVERITY_NAMES = {
    Severity.LOW: "低 Low",
    Severity.NORMAL: "一般 Normal",
    Severity.HIGH: "紧急 High",
    Severity.URGENT: "特急 Urgent",
}
NAMES = {
    Category.ENVIRONMENT: ("环境卫生", "Environment and sanitation"),
    Category.ROAD: ("道路设施", "Roads and street furniture"),
    Category.SAFETY: ("安全隐患", "Safety hazard"),
    Category.DISPUTE: ("矛盾纠纷", "Dispute"),
    Category.ILLEGAL_CONSTRUCTION: ("违法建设", "Illegal construction"),
    Category.MARKET: ("市场监管", "Market supervision"),
    Category.PUBLIC_ORDER: ("治安", "Public order"),
    Category.FIRE: ("消防", "Fire"),
    Category.FLOOD: ("防汛", "Flood"),
    Category.OTHER: ("其他", "Other"),
}


@dataclass(frozen=True)
class Service:
    """One request type a client may file."""

    code: str
    name_zh: str
    name_en: str
    group: str

    def listed(self) -> dict[str, Any]:
        """Its entry of GET services."""
        return {
            "service_code": self.code,
            "service_name": f"{self.name_zh} {self.name_en}",
            "description": f"{self.name_zh}问题 / {self.name_en} problems",
            "metadata": True,
            "type": SERVICE_TYPE,
            "keywords": f"{self.name_zh}, {self.name_en.lower()}",
            "group": self.group,
        }

    def definition(self) -> dict[str, Any]:
        """Its GET service definition."""
        values = [{"key": s.value, "name": name} for s, name in SEVERITY_NAMES.items()]
        return {
            "service_code": self.code,
            "attributes": [
                {
                    "variable": True,
                    "code": SEVERITY_ATTRIBUTE,
                    "datatype": "singlevaluelist",
                    "required": False,
                    "datatype_description": "紧急程度，默认一般 / how urgent; normal by default",
                    "order": 1,
                    "description": "紧急程度 Urgency",
                    "values": values,
                }
            ],
        }


def catalogue() -> dict[str, Service]:
    """Every service by its code."""
    return {c.value: Service(c.value, *NAMES[c], "群众诉求 Citizen requests") for c in Category}
