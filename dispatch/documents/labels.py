"""The Chinese words the exports and papers print for the product's codes (as the command centre shows them)."""

from __future__ import annotations

from core.categories import CategoryTable, major_of
from dispatch.registry.categories_store import seed_table

STATES = {
    "registered": "受理登记",
    "dispatched": "已转办",
    "accepted": "已接收",
    "returned": "已退回",
    "verified": "已核查",
    "in_progress": "处置中",
    "submitted": "已提交",
    "checked": "已验收",
    "closed": "已办结",
    "cancelled": "已撤销",
    "merged": "已合并",
}
EVENT_TYPES = {
    "patrol": "巡查",
    "incident": "事件",
    "enforcement_lead": "执法线索",
    "citizen_report": "群众诉求",
    "sensor_alert": "感知告警",
}
PARTY_KINDS = {"grid_member": "网格员", "team": "综合执法队", "agency": "派驻机构"}
PRIORITIES = {"low": "低", "normal": "一般", "high": "紧急", "urgent": "特急"}
STEPS = {
    "dispatch": "待分派",
    "accept": "待接收",
    "verify": "待核查",
    "handle": "处置",
    "check": "待验收",
    "close": "待办结",
    "done": "完成",
}
STAGES = {"file": "立案", "investigate": "调查取证", "decide": "审查决定", "serve": "送达执行", "archive": "结案归档"}
MEASURES = {
    "warning": "警告",
    "fine": "罚款",
    "confiscation": "没收违法所得、没收非法财物",
    "order_to_correct": "责令改正",
    "closure": "责令停产停业",
    "demolition": "限期拆除",
    "license_revocation": "吊销许可证件",
}
LOG_KINDS = {
    "registered": "受理登记",
    "dispatched": "分类转办",
    "accepted": "接收",
    "returned": "退回",
    "verified": "快速核查",
    "started": "开始处置",
    "submitted": "提交结果",
    "checked": "验收",
    "closed": "办结销号",
    "cancelled": "撤销",
    "reopened": "重新打开",
    "merged": "合并",
    "split": "拆分",
    "supervised": "督办",
    "extension_requested": "申请延期",
    "extension_decided": "延期审批",
    "stage": "执法环节",
    "review_requested": "申请法制审核",
    "reviewed": "法制审核",
    "transferred": "移交",
    "attached": "关联事件",
}
DIMENSIONS = {
    "township": "乡镇",
    "village": "村（社区）",
    "grid": "网格",
    "team": "执法队伍/机构",
    "person": "网格员",
    "major_category": "大类",
    "category": "小类",
}
SUPERVISION_LEVELS = {1: "乡镇督办", 2: "县级督办", 3: "县级再督办"}


def label(table: dict[str, str], code: object) -> str:
    """The Chinese word for a code, or the code itself when there is none."""
    if code is None:
        return ""
    return table.get(str(code), str(code))


def category_names(code: str | None, table: CategoryTable | None = None) -> tuple[str, str]:
    """A case's 大类 and 小类 in Chinese, from the table held (the shipped one when none is given)."""
    if not code:
        return "", ""
    table = table or seed_table()
    return table.name_zh(major_of(code)), table.name_zh(code)
