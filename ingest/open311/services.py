"""The service list and definitions: the category table's 小类 open to reports as Open311 services (Chinese with
English, grouped by their 大类), each taking the reporter's judgement of urgency as its one optional attribute."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.categories import CategoryTable, is_major, major_of
from core.vocabulary import Severity

SERVICE_TYPE = "batch"
"""A request is routed by the stream processors after the POST: the client gets a token, then its request's id."""

SEVERITY_ATTRIBUTE = "severity"
SEVERITY_NAMES = {
    Severity.LOW: "低 Low",
    Severity.NORMAL: "一般 Normal",
    Severity.HIGH: "紧急 High",
    Severity.URGENT: "特急 Urgent",
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


def catalogue(table: CategoryTable) -> dict[str, Service]:
    """Every service by its code: each 小类 a report may name, in the table's order."""
    services: dict[str, Service] = {}
    for entry in table.entries:
        if is_major(entry.code) or not table.reportable(entry.code):
            continue
        major = table.get(major_of(entry.code))
        group = f"{major.name_zh} {major.name_en}" if major else ""
        services[entry.code] = Service(entry.code, entry.name_zh, entry.name_en, group)
    return services
