// Right-hand side panel: the case list with its filters, and the two queues a person resolves
// (unrouted events and dead letters: queues.ts).

import { isOverdue, stateGroup, type CaseView, type UnroutedItem } from '../../shared/api';
import { el, field, fillSelect } from '../../shared/dom';
import {
  STATE_CODES,
  assigneeKindLabel,
  categoryLabel,
  formatTime,
  majorOptions,
  minorOptions,
  priorityLabel,
  stateLabel,
  t,
} from '../../shared/i18n';
import { exportButtons } from './downloads';
import { NO_FILTERS, toQuery, type Filters } from './filters';
import { deadLetterPane, unroutedPane } from './queues';
import { tc } from './texts';

export type Tab = 'cases' | 'unrouted' | 'deadletter';
const TABS: Tab[] = ['cases', 'unrouted', 'deadletter'];
const TAB_LABEL = { cases: 'tabCases', unrouted: 'tabUnrouted', deadletter: 'tabDeadLetters' } as const;

export interface PanelCallbacks {
  onSelectCase(id: string): void;
  /** Show an unrouted event on the map. */
  onShowUnrouted(item: UnroutedItem): void;
  /** The waiting unrouted events changed (to draw them on the map). */
  onUnrouted(items: UnroutedItem[]): void;
  /** The user may not read the dead letters (403). */
  onDeadLettersForbidden(): void;
  onFilters(filters: Filters): void;
}

export class Panel {
  private readonly tabButtons = {} as Record<Tab, HTMLButtonElement>;
  private readonly tabLabels = {} as Record<Tab, HTMLSpanElement>;
  private readonly tabBadges = {} as Record<Tab, HTMLSpanElement>;
  private readonly panes = {} as Record<Tab, HTMLElement>;
  private readonly stats = el('div', 'stats');
  private readonly caseList = el('ul', 'case-list');
  readonly unrouted: ReturnType<typeof unroutedPane>;
  readonly deadLetters: ReturnType<typeof deadLetterPane>;
  private readonly filterForm = el('form', 'filters');
  private readonly controls = {
    q: el('input'),
    state: el('select'),
    categoryMajor: el('select'),
    category: el('select'),
    grid: el('input'),
    assignee: el('input'),
    from: el('input'),
    to: el('input'),
    overdue: el('input'),
    openOnly: el('input'),
  };
  private readonly clearButton = el('button', 'link clear-filters');

  private cases: CaseView[] = [];
  private counts = { open: 0, overdue: 0 };

  constructor(
    root: HTMLElement,
    private readonly callbacks: PanelCallbacks,
  ) {
    root.classList.add('panel');
    // (The panes draw before the tabs exist: their first counts are of nothing loaded yet.)
    const badge = (tab: Tab) => (count: number) => {
      const node = this.tabBadges[tab] as HTMLSpanElement | undefined;
      if (node) node.textContent = count ? String(count) : '';
    };
    this.unrouted = unroutedPane({
      onCount: (count) => {
        badge('unrouted')(count);
        if (this.unrouted) callbacks.onUnrouted(this.unrouted.items());
      },
      onForbidden: () => undefined, // every command-centre role reads its area's unrouted events
      showOnMap: (item) => callbacks.onShowUnrouted(item),
    });
    this.deadLetters = deadLetterPane({
      onCount: badge('deadletter'),
      onForbidden: () => {
        this.hideTab('deadletter');
        callbacks.onDeadLettersForbidden();
      },
    });
    const tabs = el('div', 'tabs');
    tabs.setAttribute('role', 'tablist');
    for (const tab of TABS) {
      const b = el('button', 'tab');
      b.type = 'button';
      b.dataset['tab'] = tab;
      b.setAttribute('role', 'tab');
      const label = el('span');
      const badge = el('span', 'badge');
      b.append(label, badge);
      b.addEventListener('click', () => this.selectTab(tab));
      tabs.append(b);
      this.tabButtons[tab] = b;
      this.tabLabels[tab] = label;
      this.tabBadges[tab] = badge;
    }

    this.buildFilters();
    const casesPane = el('section', 'pane cases-pane');
    casesPane.append(this.filterForm, this.stats, this.caseList);
    this.panes.cases = casesPane;
    this.panes.unrouted = this.unrouted.root;
    this.panes.deadletter = this.deadLetters.root;
    root.append(tabs, casesPane, this.unrouted.root, this.deadLetters.root);

    const activate = (list: HTMLElement, handler: (e: Event) => void) => {
      list.addEventListener('click', handler);
      list.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') handler(e);
      });
    };
    activate(this.caseList, (e) => this.onCaseActivate(e));
    // A click on a located unrouted event (not on its buttons) shows it on the map.
    this.unrouted.root.addEventListener('click', (e) => {
      const target = e.target as Element;
      if (target.closest('button')) return;
      const id = target.closest<HTMLElement>('.unrouted-item[data-lon]')?.dataset['eventId'];
      const item = this.unrouted.items().find((i) => i.event_id === id);
      if (item) callbacks.onShowUnrouted(item);
    });

    this.selectTab('cases');
    this.refreshLanguage();
  }

  private buildFilters(): void {
    const c = this.controls;
    c.q.type = 'search';
    c.q.name = 'q';
    c.q.className = 'search';
    c.state.name = 'state';
    c.categoryMajor.name = 'category_major';
    c.category.name = 'category';
    c.categoryMajor.addEventListener('change', () => this.fillMinors(''));
    c.grid.name = 'grid';
    c.grid.inputMode = 'numeric';
    c.grid.placeholder = '510822100001001';
    c.assignee.name = 'assignee';
    c.assignee.placeholder = 'enf-510822100';
    c.from.type = 'date';
    c.from.name = 'from';
    c.to.type = 'date';
    c.to.name = 'to';
    c.overdue.type = 'checkbox';
    c.overdue.name = 'overdue';
    c.openOnly.type = 'checkbox';
    c.openOnly.name = 'openOnly';
    this.clearButton.type = 'button';
    this.clearButton.addEventListener('click', () => {
      this.setFilters(NO_FILTERS);
      this.callbacks.onFilters(this.filters());
    });
    let timer: number | undefined;
    const changed = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => this.callbacks.onFilters(this.filters()), 250);
    };
    this.filterForm.addEventListener('input', changed);
    this.filterForm.addEventListener('change', changed);
    this.filterForm.addEventListener('submit', (e) => e.preventDefault());
  }

  private layoutFilters(): void {
    const c = this.controls;
    const check = (input: HTMLInputElement, text: string) => {
      const label = el('label', 'check');
      label.append(input, document.createTextNode(text));
      return label;
    };
    const grid2 = el('div', 'filter-grid');
    grid2.append(
      field(tc('filterState'), c.state),
      field(t('categoryMajor'), c.categoryMajor),
      field(t('categoryMinor'), c.category),
      field(tc('filterGrid'), c.grid),
      field(tc('filterAssignee'), c.assignee),
      field(tc('filterFrom'), c.from),
      field(tc('filterTo'), c.to),
    );
    const checks = el('div', 'filter-checks');
    const exports = exportButtons('/api/v1/cases/export', () => exportQuery(this.filters()), tc('tabCases'));
    checks.append(check(c.openOnly, tc('filterOpen')), check(c.overdue, tc('filterOverdue')), this.clearButton, exports);
    this.filterForm.replaceChildren(c.q, grid2, checks);
  }

  filters(): Filters {
    const c = this.controls;
    return {
      q: c.q.value,
      state: c.state.value,
      categoryMajor: c.categoryMajor.value,
      category: c.category.value,
      grid: c.grid.value.trim(),
      assignee: c.assignee.value.trim(),
      from: c.from.value,
      to: c.to.value,
      overdue: c.overdue.checked,
      openOnly: c.openOnly.checked,
    };
  }

  setFilters(f: Filters): void {
    const c = this.controls;
    c.q.value = f.q;
    c.state.value = f.state;
    c.categoryMajor.value = f.categoryMajor;
    this.fillMinors(f.category);
    c.grid.value = f.grid;
    c.assignee.value = f.assignee;
    c.from.value = f.from;
    c.to.value = f.to;
    c.overdue.checked = f.overdue;
    c.openOnly.checked = f.openOnly;
  }

  /** The 小类 of the chosen 大类 (none chosen: only "any"). */
  private fillMinors(value: string): void {
    const major = this.controls.categoryMajor.value;
    fillSelect(this.controls.category, [['', tc('any')], ...(major ? minorOptions(major) : [])], value);
    this.controls.category.disabled = !major;
  }

  /** Removes a tab the user may not use (dead letters are for administrators). */
  hideTab(tab: Tab): void {
    this.tabButtons[tab].hidden = true;
    this.panes[tab].hidden = true;
    if (this.tabButtons[tab].classList.contains('active')) this.selectTab('cases');
  }

  selectTab(tab: Tab): void {
    for (const key of TABS) {
      const active = key === tab;
      this.tabButtons[key].classList.toggle('active', active);
      this.tabButtons[key].setAttribute('aria-selected', String(active));
      this.panes[key].hidden = !active || this.tabButtons[key].hidden;
    }
    // Resolutions by others are not announced live: opening a queue reads it afresh.
    if (tab === 'unrouted') void this.unrouted.refresh();
    if (tab === 'deadletter' && !this.tabButtons.deadletter.hidden) void this.deadLetters.refresh();
  }

  /** Reads the open queue afresh (others' resolutions are not announced live). */
  refreshOpenQueue(): void {
    if (!this.panes.unrouted.hidden) void this.unrouted.refresh();
    if (!this.panes.deadletter.hidden) void this.deadLetters.refresh();
  }

  setCases(shown: CaseView[], counts: { open: number; overdue: number }): void {
    this.cases = shown;
    this.counts = counts;
    this.renderCases();
  }

  refreshLanguage(): void {
    for (const tab of TABS) this.tabLabels[tab].textContent = tc(TAB_LABEL[tab]);
    const c = this.controls;
    c.q.placeholder = tc('search');
    fillSelect(c.state, [['', tc('any')], ...STATE_CODES.map((s): [string, string] => [s, stateLabel(s)])]);
    fillSelect(c.categoryMajor, [['', tc('any')], ...majorOptions()]);
    this.fillMinors(c.category.value);
    this.clearButton.textContent = tc('clear');
    this.layoutFilters();
    this.renderCases();
    this.unrouted.refreshLanguage();
    this.deadLetters.refreshLanguage();
  }

  private renderCases(): void {
    const stat = (label: string, value: number, cls: string) => {
      const box = el('div', `stat ${cls}`);
      box.append(el('span', 'stat-value', String(value)), el('span', 'stat-label', label));
      return box;
    };
    this.stats.replaceChildren(
      stat(tc('openCases'), this.counts.open, 'stat-open'),
      stat(tc('overdueCases'), this.counts.overdue, 'stat-overdue'),
      stat(tc('shown'), this.cases.length, 'stat-shown'),
    );
    this.tabBadges.cases.textContent = String(this.counts.open);
    if (this.cases.length === 0) {
      this.caseList.replaceChildren(el('li', 'empty', tc('noCases')));
      return;
    }
    const now = Date.now();
    this.caseList.replaceChildren(...this.cases.map((c) => caseItem(c, now)));
  }

  private onCaseActivate(e: Event): void {
    const item = (e.target as Element).closest<HTMLElement>('[data-case-id]');
    const id = item?.dataset['caseId'];
    if (!id) return;
    e.preventDefault();
    this.callbacks.onSelectCase(id);
  }
}

function caseItem(c: CaseView, now: number): HTMLLIElement {
  const li = el('li', `case-item state-${stateGroup(c.state)}`);
  li.dataset['caseId'] = c.id;
  li.dataset['state'] = c.state;
  li.tabIndex = 0;

  const head = el('div', 'item-head');
  head.append(el('span', 'dot'), el('span', 'item-title', categoryLabel(c.category)));
  if (c.priority === 'high' || c.priority === 'urgent') {
    head.append(el('span', `tag prio-${c.priority}`, priorityLabel(c.priority)));
  }
  head.append(el('span', 'state', stateLabel(c.state)));

  const grid = [c.grid_name ?? t('noGrid'), c.township_name].filter(Boolean).join(' · ');
  const assignee = c.assignee ? `${c.assignee.name} · ${assigneeKindLabel(c.assignee.kind)}` : t('unassigned');

  const foot = el('div', 'item-meta');
  foot.append(el('span', '', `${t('opened')} ${formatTime(c.opened_at)}`));
  if (c.step_due_at) foot.append(el('span', '', `${t('stepDue')} ${formatTime(c.step_due_at)}`));
  if (isOverdue(c, now)) foot.append(el('span', 'tag overdue', t('overdue')));

  li.append(head, el('div', 'item-line', grid), el('div', 'item-line', assignee));
  if (c.description) li.append(el('div', 'item-desc', c.description));
  li.append(foot);
  return li;
}

/** The list's filters as the export's query: the same parameters, without the list's page size. */
function exportQuery(f: Filters): Record<string, string | number | boolean | null | undefined> {
  const { limit: _limit, ...query } = toQuery(f);
  return query;
}
