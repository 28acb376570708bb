// Chinese first, English on request. Every label on the page goes through here.

export type Lang = 'zh' | 'en';

type Entry = Readonly<Record<Lang, string>>;

const UI = {
  title: { zh: '镇村治理指挥调度中心', en: 'Township Command Centre' },
  langSwitch: { zh: 'EN', en: '中文' },
  langSwitchHint: { zh: 'Switch to English', en: '切换到中文' },
  wsOpen: { zh: '已连接', en: 'Live' },
  wsConnecting: { zh: '连接中…', en: 'Connecting…' },
  wsClosed: { zh: '连接中断，重连中…', en: 'Offline, reconnecting…' },
  tabCases: { zh: '案件', en: 'Cases' },
  tabUnrouted: { zh: '未定位', en: 'Unrouted' },
  openCases: { zh: '在办案件', en: 'Open cases' },
  latestCases: { zh: '最新案件', en: 'Latest cases' },
  noCases: { zh: '暂无案件', en: 'No cases yet' },
  noUnrouted: { zh: '暂无未定位事件', en: 'No unrouted events' },
  unroutedHint: {
    zh: '未能落入任何网格或无法确定责任单位的事件',
    en: 'Events outside every grid or without a responsible unit',
  },
  loadFailed: { zh: '加载失败，稍后重试', en: 'Loading failed, retrying' },
  unassigned: { zh: '未分派', en: 'Unassigned' },
  noGrid: { zh: '网格外', en: 'Outside grids' },
  overdue: { zh: '超期', en: 'Overdue' },
  opened: { zh: '受理', en: 'Opened' },
  due: { zh: '时限', en: 'Due' },
  received: { zh: '接收', en: 'Received' },
  reason: { zh: '原因', en: 'Reason' },
  events: { zh: '关联事件', en: 'Events' },
  assignee: { zh: '承办', en: 'Assignee' },
  priority: { zh: '紧急程度', en: 'Priority' },
  grid: { zh: '网格', en: 'Grid' },
  gridCode: { zh: '网格编码', en: 'Grid code' },
  village: { zh: '村（社区）', en: 'Village' },
  township: { zh: '乡镇', en: 'Township' },
  member: { zh: '网格员', en: 'Grid member' },
  syntheticBoundary: { zh: '合成边界', en: 'Synthetic boundary' },
  attribution: { zh: '合成网格 synthetic grids', en: '合成网格 synthetic grids' },
} as const satisfies Record<string, Entry>;

export type UiKey = keyof typeof UI;

const STATES: Record<string, Entry> = {
  registered: { zh: '受理登记', en: 'Registered' },
  dispatched: { zh: '已转办', en: 'Dispatched' },
  accepted: { zh: '已接收', en: 'Accepted' },
  returned: { zh: '已退回', en: 'Returned' },
  verified: { zh: '已核查', en: 'Verified' },
  in_progress: { zh: '处置中', en: 'In progress' },
  submitted: { zh: '已提交', en: 'Submitted' },
  closed: { zh: '已办结', en: 'Closed' },
  cancelled: { zh: '已撤销', en: 'Cancelled' },
};

const CATEGORIES: Record<string, Entry> = {
  environment: { zh: '环境卫生', en: 'Environment & sanitation' },
  road: { zh: '道路设施', en: 'Roads & facilities' },
  safety: { zh: '安全隐患', en: 'Safety hazard' },
  dispute: { zh: '矛盾纠纷', en: 'Dispute' },
  illegal_construction: { zh: '违法建设', en: 'Illegal construction' },
  market: { zh: '市场监管', en: 'Market regulation' },
  public_order: { zh: '治安', en: 'Public order' },
  fire: { zh: '消防', en: 'Fire' },
  flood: { zh: '防汛', en: 'Flood control' },
  other: { zh: '其他', en: 'Other' },
};

const EVENT_TYPES: Record<string, Entry> = {
  patrol: { zh: '巡查', en: 'Patrol' },
  incident: { zh: '事件', en: 'Incident' },
  enforcement_lead: { zh: '执法线索', en: 'Enforcement lead' },
  citizen_report: { zh: '群众诉求', en: 'Citizen report' },
  sensor_alert: { zh: '感知告警', en: 'Sensor alert' },
};

const ASSIGNEE_KINDS: Record<string, Entry> = {
  grid_member: { zh: '网格员', en: 'Grid member' },
  team: { zh: '综合执法队', en: 'Enforcement team' },
  agency: { zh: '派驻机构', en: 'Agency' },
};

const PRIORITIES: Record<string, Entry> = {
  low: { zh: '低', en: 'Low' },
  normal: { zh: '一般', en: 'Normal' },
  high: { zh: '紧急', en: 'High' },
  urgent: { zh: '特急', en: 'Urgent' },
};

const STORAGE_KEY = 'gridcmd.lang';

function initialLang(): Lang {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'zh';
  } catch {
    return 'zh';
  }
}

let current: Lang = initialLang();
const listeners = new Set<(lang: Lang) => void>();

export function getLang(): Lang {
  return current;
}

export function setLang(lang: Lang): void {
  if (lang === current) return;
  current = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // storage may be unavailable (private mode); the choice then lasts for this page only
  }
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  for (const listener of listeners) listener(lang);
}

export function toggleLang(): void {
  setLang(current === 'zh' ? 'en' : 'zh');
}

export function onLangChange(listener: (lang: Lang) => void): void {
  listeners.add(listener);
}

export function t(key: UiKey): string {
  return UI[key][current];
}

function lookup(table: Record<string, Entry>, code: string): string {
  return table[code]?.[current] ?? code;
}

export const stateLabel = (code: string): string => lookup(STATES, code);
export const categoryLabel = (code: string): string => lookup(CATEGORIES, code);
export const eventTypeLabel = (code: string): string => lookup(EVENT_TYPES, code);
export const assigneeKindLabel = (code: string): string => lookup(ASSIGNEE_KINDS, code);
export const priorityLabel = (code: string): string => lookup(PRIORITIES, code);

const formatters = new Map<Lang, Intl.DateTimeFormat>();

/** Times are stored in UTC and always shown in Asia/Shanghai. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  let fmt = formatters.get(current);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat(current === 'zh' ? 'zh-CN' : 'en-GB', {
      timeZone: 'Asia/Shanghai',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
    });
    formatters.set(current, fmt);
  }
  return fmt.format(date);
}

document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
