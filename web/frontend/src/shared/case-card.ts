// A compact case card for the phone pages: what, where, state, and the deadlines.

import { isOverdue, stateGroup, type CaseView } from './api';
import { el } from './dom';
import {
  assigneeKindLabel,
  categoryLabel,
  eventTypeLabel,
  formatDue,
  formatTime,
  priorityLabel,
  stateLabel,
  stepLabel,
  t,
} from './i18n';

export function caseCard(c: CaseView, now = Date.now()): HTMLElement {
  const card = el('article', `card case-card state-${stateGroup(c.state)}`);
  card.dataset['caseId'] = c.id;
  card.dataset['state'] = c.state;
  const head = el('div', 'item-head');
  head.append(el('span', 'dot'), el('span', 'item-title', `${categoryLabel(c.category)} · ${eventTypeLabel(c.event_type)}`));
  if (c.priority === 'high' || c.priority === 'urgent') {
    head.append(el('span', `tag prio-${c.priority}`, priorityLabel(c.priority)));
  }
  head.append(el('span', 'state', stateLabel(c.state)));
  card.append(head);
  if (c.description) card.append(el('div', 'item-desc', c.description));
  const where = [c.grid_name ?? t('noGrid'), c.township_name].filter(Boolean).join(' · ');
  card.append(el('div', 'item-line', where));
  if (c.assignee) {
    card.append(el('div', 'item-line', `${t('assignee')}: ${c.assignee.name} · ${assigneeKindLabel(c.assignee.kind)}`));
  }
  const due = el('div', 'item-meta deadlines');
  due.append(el('span', '', `${t('opened')} ${formatTime(c.opened_at)}`));
  if (c.step_due_at && stateGroup(c.state) !== 'finished') {
    const step = el('span', 'step-due', `${stepLabel(c.step ?? '')}: ${formatDue(c.step_due_at, now)}`);
    step.title = formatTime(c.step_due_at);
    due.append(step);
  }
  if (c.due_at && stateGroup(c.state) !== 'finished') {
    due.append(el('span', '', `${t('due')} ${formatTime(c.due_at)}`));
  }
  if (isOverdue(c, now)) due.append(el('span', 'tag overdue', t('overdue')));
  card.append(due);
  return card;
}
