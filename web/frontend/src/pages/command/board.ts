// The 督办 board: per township of my area, the open cases at each supervision level and those overdue not yet
// supervised (GET /api/v1/supervision/board), then each township's cases most urgent first. It reads the board
// again when a live case message comes (coalesced) and every half minute while shown, since time makes cases
// overdue too. A click on a case opens the case view.

import { api, type SupervisionBoard, type BoardCase, type BoardTownship } from '../../shared/api';
import { button, el } from '../../shared/dom';
import { fill, formatTime, getLang, priorityLabel, stepLabel, t } from '../../shared/i18n';
import { tc } from './texts';

const COALESCE_MS = 2000;
const REFRESH_MS = 30_000;
const LEVEL_KEYS = ['level3', 'level2', 'level1', 'unsupervised'] as const;
const CASE_COLUMNS = [
  'caseId',
  'boardTitle',
  'boardStep',
  'boardDue',
  'boardLate',
  'boardLevel',
  'filterAssignee',
] as const;

/** The minutes past a deadline as 2天3小时 / 3小时5分 / 12分钟 / 不到1分钟 (d h, h min, min, < 1 min). */
export function overdueSpan(minutes: number, zh: boolean): string {
  if (minutes < 1) return zh ? '不到1分钟' : '< 1 min';
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0) return zh ? `${days}天${hours}小时` : `${days} d ${hours} h`;
  if (hours > 0) return zh ? `${hours}小时${mins}分` : `${hours} h ${mins} min`;
  return zh ? `${mins}分钟` : `${mins} min`;
}

function levelCount(row: BoardTownship, key: (typeof LEVEL_KEYS)[number]): number {
  switch (key) {
    case 'level3':
      return row.level_3 ?? 0;
    case 'level2':
      return row.level_2 ?? 0;
    case 'level1':
      return row.level_1 ?? 0;
    case 'unsupervised':
      return row.overdue_unsupervised ?? 0;
  }
}

export class SupervisionBoardView {
  readonly root = el('section', 'board-view');
  private readonly status = el('p', 'muted');
  private readonly body = el('div', 'board-body');
  private board: SupervisionBoard | null = null;
  private loading = 0;
  private queued: number | null = null;
  private timer: number | null = null;

  constructor(
    private readonly onClose: () => void,
    private readonly onOpenCase: (id: string) => void,
  ) {
    this.root.hidden = true;
    this.render();
  }

  get visible(): boolean {
    return !this.root.hidden;
  }

  show(): void {
    this.root.hidden = false;
    void this.load();
    this.timer ??= window.setInterval(() => void this.load(), REFRESH_MS);
  }

  hide(): void {
    this.root.hidden = true;
    if (this.timer !== null) window.clearInterval(this.timer);
    this.timer = null;
  }

  /** A case changed somewhere in my area: read the board again soon (one read for a burst of changes). */
  caseChanged(): void {
    if (!this.visible || this.queued !== null) return;
    this.queued = window.setTimeout(() => {
      this.queued = null;
      void this.load();
    }, COALESCE_MS);
  }

  refreshLanguage(): void {
    this.render();
  }

  /** What the board shows (window.__app.board() for tests). */
  cases(): BoardCase[] {
    return this.board?.townships.flatMap((row) => row.cases ?? []) ?? [];
  }

  private async load(): Promise<void> {
    const seq = ++this.loading;
    try {
      const board = await api.supervisionBoard();
      if (seq !== this.loading) return;
      this.board = board;
      this.render();
    } catch (error) {
      if (seq === this.loading) this.status.textContent = `${t('loadFailed')}: ${String(error)}`;
    }
  }

  private render(): void {
    const head = el('div', 'metrics-head');
    head.append(
      el('h2', undefined, tc('board')),
      this.status,
      button('link board-close', tc('close'), this.onClose),
    );
    this.status.textContent = this.board ? fill(tc('boardAt'), { at: formatTime(this.board.at) }) : tc('loading');
    this.body.replaceChildren(this.summary(), ...this.townshipLists());
    this.root.dataset['cases'] = String(this.cases().length);
    this.root.replaceChildren(head, this.body);
  }

  private summary(): HTMLElement {
    const table = el('table', 'metrics-table board-summary');
    const head = el('tr');
    for (const label of [tc('byTownship'), ...LEVEL_KEYS.map((k) => tc(k)), tc('boardTotal')]) {
      head.append(el('th', undefined, label));
    }
    const thead = el('thead');
    thead.append(head);
    const tbody = el('tbody');
    for (const row of this.board?.townships ?? []) {
      const tr = el('tr');
      tr.dataset['township'] = row.township_code;
      tr.append(el('td', undefined, row.township_name));
      let total = 0;
      for (const key of LEVEL_KEYS) {
        const n = levelCount(row, key);
        total += n;
        tr.append(el('td', n > 0 ? `count ${key}` : 'count', String(n)));
      }
      tr.append(el('td', 'count', String(total)));
      tbody.append(tr);
    }
    if (!tbody.childElementCount) {
      const tr = el('tr');
      const td = el('td', 'empty', t('empty'));
      td.colSpan = LEVEL_KEYS.length + 2;
      tr.append(td);
      tbody.append(tr);
    }
    table.append(thead, tbody);
    return table;
  }

  private townshipLists(): HTMLElement[] {
    const zh = getLang() === 'zh';
    return (this.board?.townships ?? [])
      .filter((row) => (row.cases ?? []).length > 0)
      .map((row) => {
        const box = el('section', 'board-township');
        box.dataset['township'] = row.township_code;
        box.append(el('h3', undefined, row.township_name));
        const list = el('table', 'metrics-table board-cases');
        const head = el('tr');
        for (const key of CASE_COLUMNS) head.append(el('th', undefined, tc(key)));
        const thead = el('thead');
        thead.append(head);
        const tbody = el('tbody');
        for (const c of row.cases ?? []) tbody.append(this.caseRow(c, zh));
        list.append(thead, tbody);
        box.append(list);
        return box;
      });
  }

  private caseRow(c: BoardCase, zh: boolean): HTMLTableRowElement {
    const tr = el('tr', `board-case level-${c.level}`);
    tr.dataset['caseId'] = c.id;
    tr.dataset['level'] = String(c.level);
    tr.tabIndex = 0;
    tr.title = tc('openCase');
    const late = c.overdue_minutes ?? null;
    const level = c.level > 0 ? fill(tc('levelN'), { n: c.level }) : tc('unsupervised');
    for (const [cls, text] of [
      ['code', c.id.slice(0, 8)],
      ['title', `${c.title} · ${priorityLabel(c.priority)}`],
      ['step', stepLabel(c.step)],
      ['due', formatTime(c.step_due_at)],
      ['late', late === null ? tc('onTime') : overdueSpan(late, zh)],
      ['level', level],
      ['assignee', c.assignee?.name ?? '—'],
    ] as const) {
      tr.append(el('td', cls, text));
    }
    const open = () => this.onOpenCase(c.id);
    tr.addEventListener('click', open);
    tr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') open();
    });
    return tr;
  }
}
