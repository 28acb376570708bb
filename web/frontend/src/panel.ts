// Right-hand side panel: open-case count, latest cases, and the unrouted-events queue.

import { stateGroup, type CaseView, type UnroutedItem } from './api';
import {
  assigneeKindLabel,
  categoryLabel,
  eventTypeLabel,
  formatTime,
  priorityLabel,
  stateLabel,
  t,
} from './i18n';

export type Tab = 'cases' | 'unrouted';

export interface PanelCallbacks {
  onSelectCase(id: string): void;
  onSelectPoint(lon: number, lat: number): void;
}

type UnroutedView = { kind: 'loading' } | { kind: 'error' } | { kind: 'items'; items: UnroutedItem[] };

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export class Panel {
  private readonly tabButtons: Record<Tab, HTMLButtonElement>;
  private readonly tabLabels: Record<Tab, HTMLSpanElement>;
  private readonly tabBadges: Record<Tab, HTMLSpanElement>;
  private readonly panes: Record<Tab, HTMLElement>;
  private readonly openLabel = el('span', 'stat-label');
  private readonly openValue = el('span', 'stat-value');
  private readonly latestHeading = el('h2', 'list-heading');
  private readonly caseList = el('ul', 'case-list');
  private readonly unroutedHint = el('p', 'hint');
  private readonly unroutedList = el('ul', 'unrouted-list');

  private cases: CaseView[] = [];
  private openCount = 0;
  private unrouted: UnroutedView = { kind: 'loading' };

  constructor(
    root: HTMLElement,
    private readonly callbacks: PanelCallbacks,
  ) {
    root.classList.add('panel');
    const tabs = el('div', 'tabs');
    tabs.setAttribute('role', 'tablist');
    const makeTab = (tab: Tab) => {
      const button = el('button', 'tab');
      button.type = 'button';
      button.dataset['tab'] = tab;
      button.setAttribute('role', 'tab');
      const label = el('span');
      const badge = el('span', 'badge');
      button.append(label, badge);
      button.addEventListener('click', () => this.selectTab(tab));
      tabs.append(button);
      return { button, label, badge };
    };
    const casesTab = makeTab('cases');
    const unroutedTab = makeTab('unrouted');
    this.tabButtons = { cases: casesTab.button, unrouted: unroutedTab.button };
    this.tabLabels = { cases: casesTab.label, unrouted: unroutedTab.label };
    this.tabBadges = { cases: casesTab.badge, unrouted: unroutedTab.badge };

    const casesPane = el('section', 'pane');
    const stat = el('div', 'stat');
    stat.append(this.openLabel, this.openValue);
    casesPane.append(stat, this.latestHeading, this.caseList);

    const unroutedPane = el('section', 'pane');
    unroutedPane.append(this.unroutedHint, this.unroutedList);
    this.panes = { cases: casesPane, unrouted: unroutedPane };

    root.append(tabs, casesPane, unroutedPane);

    this.caseList.addEventListener('click', (e) => this.onCaseActivate(e));
    this.caseList.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') this.onCaseActivate(e);
    });
    this.unroutedList.addEventListener('click', (e) => this.onUnroutedActivate(e));
    this.unroutedList.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') this.onUnroutedActivate(e);
    });

    this.selectTab('cases');
    this.refreshLanguage();
  }

  selectTab(tab: Tab): void {
    for (const key of ['cases', 'unrouted'] as const) {
      const active = key === tab;
      this.tabButtons[key].classList.toggle('active', active);
      this.tabButtons[key].setAttribute('aria-selected', String(active));
      this.panes[key].hidden = !active;
    }
  }

  setCases(latest: CaseView[], openCount: number): void {
    this.cases = latest;
    this.openCount = openCount;
    this.renderCases();
  }

  setUnrouted(view: UnroutedView): void {
    // Keep showing the last good list if a refresh fails.
    if (view.kind === 'error' && this.unrouted.kind === 'items') return;
    this.unrouted = view;
    this.renderUnrouted();
  }

  refreshLanguage(): void {
    this.tabLabels.cases.textContent = t('tabCases');
    this.tabLabels.unrouted.textContent = t('tabUnrouted');
    this.openLabel.textContent = t('openCases');
    this.latestHeading.textContent = t('latestCases');
    this.unroutedHint.textContent = t('unroutedHint');
    this.renderCases();
    this.renderUnrouted();
  }

  private renderCases(): void {
    this.openValue.textContent = String(this.openCount);
    this.tabBadges.cases.textContent = String(this.openCount);
    if (this.cases.length === 0) {
      this.caseList.replaceChildren(el('li', 'empty', t('noCases')));
      return;
    }
    const now = Date.now();
    this.caseList.replaceChildren(...this.cases.map((c) => caseItem(c, now)));
  }

  private renderUnrouted(): void {
    const view = this.unrouted;
    if (view.kind !== 'items') {
      this.tabBadges.unrouted.textContent = '';
      this.unroutedList.replaceChildren(
        el('li', 'empty', view.kind === 'error' ? t('loadFailed') : '…'),
      );
      return;
    }
    this.tabBadges.unrouted.textContent = view.items.length ? String(view.items.length) : '';
    if (view.items.length === 0) {
      this.unroutedList.replaceChildren(el('li', 'empty', t('noUnrouted')));
      return;
    }
    const items = [...view.items].sort(
      (a, b) => Date.parse(b.received_at) - Date.parse(a.received_at),
    );
    this.unroutedList.replaceChildren(...items.map(unroutedItem));
  }

  private onCaseActivate(e: Event): void {
    const item = (e.target as Element).closest<HTMLElement>('[data-case-id]');
    const id = item?.dataset['caseId'];
    if (!id) return;
    e.preventDefault();
    this.callbacks.onSelectCase(id);
  }

  private onUnroutedActivate(e: Event): void {
    const item = (e.target as Element).closest<HTMLElement>('[data-lon]');
    if (!item) return;
    const lon = Number(item.dataset['lon']);
    const lat = Number(item.dataset['lat']);
    if (!Number.isFinite(lon) || !Number.isFinite(lat)) return;
    e.preventDefault();
    this.callbacks.onSelectPoint(lon, lat);
  }
}

function caseItem(c: CaseView, now: number): HTMLLIElement {
  const li = el('li', `case-item state-${stateGroup(c.state)}`);
  li.dataset['caseId'] = c.id;
  li.tabIndex = 0;

  const head = el('div', 'item-head');
  head.append(el('span', 'dot'), el('span', 'item-title', categoryLabel(c.category)));
  if (c.priority === 'high' || c.priority === 'urgent') {
    head.append(el('span', `tag prio-${c.priority}`, priorityLabel(c.priority)));
  }
  head.append(el('span', 'state', stateLabel(c.state)));

  const grid = [c.grid_name ?? t('noGrid'), c.township_name].filter(Boolean).join(' · ');
  const assignee = c.assignee
    ? `${c.assignee.name} · ${assigneeKindLabel(c.assignee.kind)}`
    : t('unassigned');

  const foot = el('div', 'item-meta');
  foot.append(el('span', '', `${t('opened')} ${formatTime(c.opened_at)}`));
  const overdue =
    c.due_at !== null && stateGroup(c.state) !== 'finished' && Date.parse(c.due_at) < now;
  if (overdue) foot.append(el('span', 'tag overdue', t('overdue')));

  li.append(head, el('div', 'item-line', grid), el('div', 'item-line', assignee), foot);
  return li;
}

function unroutedItem(item: UnroutedItem): HTMLLIElement {
  const li = el('li', 'unrouted-item');
  li.dataset['eventId'] = item.event_id;
  const located = typeof item.lon === 'number' && typeof item.lat === 'number';
  if (located) {
    li.dataset['lon'] = String(item.lon);
    li.dataset['lat'] = String(item.lat);
    li.tabIndex = 0;
  }

  const head = el('div', 'item-head');
  head.append(
    el('span', 'item-title', eventTypeLabel(item.type)),
    el('span', 'state', categoryLabel(item.category)),
  );
  li.append(head, el('div', 'item-line', `${t('reason')}: ${item.reason}`));
  if (item.description) li.append(el('div', 'item-desc', item.description));
  const where = located ? ` · ${item.lon?.toFixed(5)}, ${item.lat?.toFixed(5)}` : '';
  li.append(el('div', 'item-meta', `${t('received')} ${formatTime(item.received_at)}${where}`));
  return li;
}
