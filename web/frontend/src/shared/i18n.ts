// Chinese first, English on request. Every label on every page goes through here: the shared
// words below, plus each page's own dictionary made with `dictionary()`.

export type Lang = 'zh' | 'en';
export type Entry = Readonly<Record<Lang, string>>;

const STORAGE_KEY = 'gridcmd.lang';

function initialLang(): Lang {
  const asked = new URLSearchParams(location.search).get('lang');
  if (asked === 'en' || asked === 'zh') return asked;
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

/** Calls `listener` after every language switch; returns the unsubscribe. */
export function onLangChange(listener: (lang: Lang) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** A text with `{name}` placeholders filled in. */
export function fill(text: string, values: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

/** A page's dictionary: `const t = dictionary({...})`, then `t('key')` in the current language. */
export function dictionary<K extends string>(table: Readonly<Record<K, Entry>>): (key: K) => string {
  return (key) => table[key][current];
}

const COMMON = {
  langSwitch: { zh: 'EN', en: '中文' },
  langSwitchHint: { zh: 'Switch to English', en: '切换到中文' },
  wsOpen: { zh: '已连接', en: 'Live' },
  wsConnecting: { zh: '连接中…', en: 'Connecting…' },
  wsClosed: { zh: '连接中断，重连中…', en: 'Offline, reconnecting…' },
  loadFailed: { zh: '加载失败，稍后重试', en: 'Loading failed, retrying' },
  unassigned: { zh: '未分派', en: 'Unassigned' },
  noGrid: { zh: '网格外', en: 'Outside grids' },
  overdue: { zh: '超期', en: 'Overdue' },
  opened: { zh: '受理', en: 'Opened' },
  due: { zh: '办结时限', en: 'Due' },
  stepDue: { zh: '本环节时限', en: 'Step due' },
  events: { zh: '关联事件', en: 'Events' },
  assignee: { zh: '承办', en: 'Assignee' },
  priority: { zh: '紧急程度', en: 'Priority' },
  grid: { zh: '网格', en: 'Grid' },
  gridCode: { zh: '网格编码', en: 'Grid code' },
  village: { zh: '村（社区）', en: 'Village' },
  township: { zh: '乡镇', en: 'Township' },
  member: { zh: '网格员', en: 'Grid member' },
  gridKind: { zh: '网格类型', en: 'Grid kind' },
  households: { zh: '户数', en: 'Households' },
  population: { zh: '人口', en: 'Population' },
  kindUrban: { zh: '城镇网格', en: 'Urban' },
  kindRural: { zh: '农村网格', en: 'Rural' },
  kindSpecial: { zh: '专属网格', en: 'Dedicated' },
  kindResidential: { zh: '社区网格', en: 'Residential' },
  kindCommercial: { zh: '商业网格', en: 'Commercial' },
  state: { zh: '状态', en: 'State' },
  category: { zh: '类别', en: 'Category' },
  categoryMajor: { zh: '大类', en: 'Class' },
  categoryMinor: { zh: '小类', en: 'Subclass' },
  description: { zh: '描述', en: 'Description' },
  whoAmI: { zh: '当前人员', en: 'Signed in as' },
  signInTitle: { zh: '登录', en: 'Sign in' },
  username: { zh: '用户名', en: 'Username' },
  password: { zh: '密码', en: 'Password' },
  signIn: { zh: '登录', en: 'Sign in' },
  signingIn: { zh: '登录中…', en: 'Signing in…' },
  signOut: { zh: '退出登录', en: 'Sign out' },
  wrongCredentials: { zh: '用户名或密码错误', en: 'Wrong username or password' },
  accountLocked: {
    zh: '连续输错密码，账号已临时锁定，请{n}分钟后再试',
    en: 'Too many wrong passwords: the account is locked, try again in {n} min',
  },
  tooManyAttempts: { zh: '尝试过于频繁，请{n}秒后再试', en: 'Too many attempts: try again in {n} s' },
  serverUnreachable: { zh: '无法连接服务器，请检查网络后重试', en: 'Cannot reach the server: check the network' },
  signInFailed: { zh: '登录失败', en: 'Sign-in failed' },
  fillBoth: { zh: '请输入用户名和密码', en: 'Enter your username and password' },
  sessionExpired: { zh: '登录已过期，请重新登录', en: 'Your session has ended: sign in again' },
  signedOut: { zh: '已退出登录', en: 'Signed out' },
  wrongRole: { zh: '当前账号不能使用此页面', en: 'This account cannot use this page' },
  yourRole: { zh: '当前账号', en: 'Signed in as' },
  pageIsFor: { zh: '本页面供以下角色使用', en: 'This page is for' },
  switchAccount: { zh: '换一个账号登录', en: 'Sign in with another account' },
  goToOwnPage: { zh: '前往本账号适用的页面', en: 'Go to the page for this account' },
  listSeparator: { zh: '、', en: ', ' },
  noPersonActions: {
    zh: '该账号不对应任何在岗人员，不能办理案件',
    en: 'This account acts for no serving person, so it cannot act on cases',
  },
  send: { zh: '提交', en: 'Send' },
  cancel: { zh: '取消', en: 'Cancel' },
  reason: { zh: '原因', en: 'Reason' },
  note: { zh: '说明', en: 'Note' },
  done: { zh: '已完成', en: 'Done' },
  failed: { zh: '失败', en: 'Failed' },
  empty: { zh: '暂无', en: 'Nothing yet' },
  photo: { zh: '照片', en: 'Photo' },
  document: { zh: '文书', en: 'Document' },
  syntheticBoundary: { zh: '合成边界', en: 'Synthetic boundary' },
  attribution: { zh: '合成网格 synthetic grids', en: '合成网格 synthetic grids' },
  minutesLeft: { zh: '剩余', en: 'left' },
  overdueBy: { zh: '已超期', en: 'overdue by' },
} as const satisfies Record<string, Entry>;

export type CommonKey = keyof typeof COMMON;
export const t = dictionary(COMMON);

const STATES: Record<string, Entry> = {
  registered: { zh: '受理登记', en: 'Registered' },
  dispatched: { zh: '已转办', en: 'Dispatched' },
  accepted: { zh: '已接收', en: 'Accepted' },
  returned: { zh: '已退回', en: 'Returned' },
  verified: { zh: '已核查', en: 'Verified' },
  in_progress: { zh: '处置中', en: 'In progress' },
  submitted: { zh: '已提交', en: 'Submitted' },
  checked: { zh: '已验收', en: 'Checked' },
  closed: { zh: '已办结', en: 'Closed' },
  cancelled: { zh: '已撤销', en: 'Cancelled' },
  merged: { zh: '已合并', en: 'Merged' },
};

/** One 大类 or 小类 as the category table names it. */
interface CategoryNames {
  code: string;
  name_zh: string;
  name_en: string;
  active: boolean;
}
interface CategoryTable {
  majors: Array<CategoryNames & { minors: CategoryNames[] }>;
}

const categoryNames = new Map<string, CategoryNames>();
let categoryTable: CategoryTable = { majors: [] };

/** Holds the category table the labels and pickers read (shared/categories.ts loads it). */
export function setCategoryTable(table: CategoryTable): void {
  categoryTable = table;
  categoryNames.clear();
  for (const major of table.majors) {
    categoryNames.set(major.code, major);
    for (const minor of major.minors) categoryNames.set(minor.code, minor);
  }
}

function categoryName(code: string): string {
  const found = categoryNames.get(code);
  return found ? (current === 'zh' ? found.name_zh : found.name_en) : code;
}

/** The 大类 of a category code (the first two digits). */
export const majorOf = (code: string): string => code.slice(0, 2);

/** A case's category as a title reads it: the 小类's name (a 大类 code: its own name). */
export const categoryLabel = (code: string): string => categoryName(code);

/** A case's category in full: 大类 / 小类. */
export function categoryPath(code: string): string {
  return code.length > 2 ? `${categoryName(majorOf(code))} / ${categoryName(code)}` : categoryName(code);
}

/** The 大类 a picker offers (open to reports), as [code, name]. */
export function majorOptions(): Array<[string, string]> {
  return categoryTable.majors.filter((m) => m.active).map((m): [string, string] => [m.code, categoryName(m.code)]);
}

/** The 小类 of a 大类 a picker offers (open to reports), as [code, name]. */
export function minorOptions(major: string): Array<[string, string]> {
  const found = categoryTable.majors.find((m) => m.code === major);
  return (found?.minors ?? []).filter((m) => m.active).map((m): [string, string] => [m.code, categoryName(m.code)]);
}

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

const STEPS: Record<string, Entry> = {
  dispatch: { zh: '待分派', en: 'To dispatch' },
  accept: { zh: '待接收', en: 'To accept' },
  verify: { zh: '待核查', en: 'To verify' },
  handle: { zh: '处置', en: 'Handling' },
  check: { zh: '待验收', en: 'To check' },
  close: { zh: '待办结', en: 'To close' },
  done: { zh: '完成', en: 'Done' },
};

const STAGES: Record<string, Entry> = {
  file: { zh: '立案', en: 'File' },
  investigate: { zh: '调查取证', en: 'Investigate' },
  decide: { zh: '审查决定', en: 'Decide' },
  serve: { zh: '送达执行', en: 'Serve' },
  archive: { zh: '结案归档', en: 'Archive' },
};

const LOG_KINDS: Record<string, Entry> = {
  registered: { zh: '受理登记', en: 'Registered' },
  dispatched: { zh: '分类转办', en: 'Dispatched' },
  accepted: { zh: '接收', en: 'Accepted' },
  returned: { zh: '退回', en: 'Returned' },
  verified: { zh: '快速核查', en: 'Verified' },
  started: { zh: '开始处置', en: 'Handling started' },
  submitted: { zh: '提交结果', en: 'Result submitted' },
  checked: { zh: '验收', en: 'Checked' },
  closed: { zh: '办结销号', en: 'Closed' },
  cancelled: { zh: '撤销', en: 'Cancelled' },
  reopened: { zh: '重新打开', en: 'Reopened' },
  merged: { zh: '合并', en: 'Merged' },
  attached: { zh: '关联事件', en: 'Event attached' },
  split: { zh: '拆分', en: 'Split off' },
  supervised: { zh: '督办', en: 'Supervised' },
  extension_requested: { zh: '申请延期', en: 'Extension asked' },
  extension_decided: { zh: '延期审批', en: 'Extension decided' },
  stage: { zh: '执法环节', en: 'Enforcement stage' },
  review_requested: { zh: '申请法制审核', en: 'Legal review asked' },
  reviewed: { zh: '法制审核', en: 'Legal review' },
  transferred: { zh: '移交', en: 'Transferred' },
};

const ROLES: Record<string, Entry> = {
  system: { zh: '系统接入', en: 'System gateway' },
  grid_member: { zh: '网格员', en: 'Grid member' },
  duty: { zh: '值班人员', en: 'Duty officer' },
  officer: { zh: '执法队员', en: 'Enforcement officer' },
  legal_reviewer: { zh: '法制审核员', en: 'Legal reviewer' },
  agency_staff: { zh: '派驻机构人员', en: 'Agency staff' },
  dispatcher: { zh: '调度员', en: 'Dispatcher' },
  township_leader: { zh: '乡镇领导', en: 'Township leader' },
  county_supervisor: { zh: '县级督导', en: 'County supervisor' },
  admin: { zh: '系统管理员', en: 'Administrator' },
};

function lookup(table: Record<string, Entry>, code: string): string {
  return table[code]?.[current] ?? code;
}

export const stateLabel = (code: string): string => lookup(STATES, code);
export const eventTypeLabel = (code: string): string => lookup(EVENT_TYPES, code);
export const assigneeKindLabel = (code: string): string => lookup(ASSIGNEE_KINDS, code);
export const priorityLabel = (code: string): string => lookup(PRIORITIES, code);
export const stepLabel = (code: string): string => lookup(STEPS, code);
export const stageLabel = (code: string): string => lookup(STAGES, code);
export const logKindLabel = (code: string): string => lookup(LOG_KINDS, code);
export const roleLabel = (code: string): string => lookup(ROLES, code);
export const STATE_CODES = Object.keys(STATES);

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(withDate: boolean): Intl.DateTimeFormat {
  const key = `${current}:${withDate}`;
  let fmt = formatters.get(key);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat(current === 'zh' ? 'zh-CN' : 'en-GB', {
      timeZone: 'Asia/Shanghai',
      ...(withDate ? { month: '2-digit', day: '2-digit' } : {}),
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
    });
    formatters.set(key, fmt);
  }
  return fmt;
}

/** Times are stored in UTC and always shown in Asia/Shanghai. */
export function formatTime(iso: string | null | undefined, withDate = true): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return formatter(withDate).format(date);
}

/** "2 h 5 min left" / "overdue by 12 min". */
export function formatDue(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const ms = Date.parse(iso) - now;
  if (Number.isNaN(ms)) return iso;
  const minutes = Math.round(Math.abs(ms) / 60_000);
  const span =
    minutes >= 60 * 24
      ? `${Math.floor(minutes / 1440)}${current === 'zh' ? '天' : ' d'}${Math.floor((minutes % 1440) / 60)}${current === 'zh' ? '小时' : ' h'}`
      : minutes >= 60
        ? `${Math.floor(minutes / 60)}${current === 'zh' ? '小时' : ' h'}${minutes % 60}${current === 'zh' ? '分' : ' min'}`
        : `${minutes}${current === 'zh' ? '分钟' : ' min'}`;
  if (ms < 0) return current === 'zh' ? `${t('overdueBy')}${span}` : `${t('overdueBy')} ${span}`;
  return current === 'zh' ? `${t('minutesLeft')}${span}` : `${span} ${t('minutesLeft')}`;
}

/** How long ago a moment was: "刚刚" / "5分钟前" / "2小时前" ("just now", "5 min ago", "2 h ago"). */
export function formatAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const ms = now - Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  const zh = current === 'zh';
  if (minutes < 1) return zh ? '刚刚' : 'just now';
  if (minutes < 60) return zh ? `${minutes}分钟前` : `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return zh ? `${hours}小时前` : `${hours} h ago`;
  const days = Math.floor(hours / 24);
  return zh ? `${days}天前` : `${days} d ago`;
}

/** "YYYY-MM-DD" of a moment in Asia/Shanghai (for date inputs). */
export function shanghaiDay(date: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(date);
}

/** Midnight of a Shanghai day ("YYYY-MM-DD") as an instant. */
export function shanghaiMidnight(day: string): Date {
  return new Date(`${day}T00:00:00+08:00`);
}

document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
