// The case list's filters: the same predicate runs on the server (GET /api/v1/cases) and on
// live changes in the page, so a filtered list stays right as cases change.

import { FINAL_STATES, isOverdue, type CasesQuery, type CaseView } from '../../shared/api';
import { shanghaiMidnight } from '../../shared/i18n';

export interface Filters {
  state: string;
  /** A 大类 code: every case of its 小类. */
  categoryMajor: string;
  /** A 小类 code (narrows the 大类). */
  category: string;
  grid: string;
  assignee: string;
  overdue: boolean;
  openOnly: boolean;
  /** Shanghai days, YYYY-MM-DD; `to` is inclusive. */
  from: string;
  to: string;
  q: string;
}

export const NO_FILTERS: Filters = {
  state: '',
  categoryMajor: '',
  category: '',
  grid: '',
  assignee: '',
  overdue: false,
  openOnly: false,
  from: '',
  to: '',
  q: '',
};

export function isEmpty(f: Filters): boolean {
  return (Object.keys(NO_FILTERS) as Array<keyof Filters>).every((k) => f[k] === NO_FILTERS[k]);
}

function dayAfter(day: string): Date {
  return new Date(shanghaiMidnight(day).getTime() + 86_400_000);
}

export function toQuery(f: Filters): CasesQuery {
  const query: CasesQuery = { limit: 500 };
  if (f.state) query.state = f.state as NonNullable<CasesQuery['state']>;
  const category = f.category || f.categoryMajor;
  if (category) query.category = category;
  if (/^[0-9]{15}$/.test(f.grid)) query.grid = f.grid;
  else if (/^[0-9]{9}$/.test(f.grid)) query.township = f.grid;
  if (f.assignee) query.assignee = f.assignee;
  if (f.overdue) query.overdue = true;
  if (f.openOnly) query.open_only = true;
  if (f.from) query.from = shanghaiMidnight(f.from).toISOString();
  if (f.to) query.to = dayAfter(f.to).toISOString();
  if (f.q.trim()) query.q = f.q.trim();
  return query;
}

export function matches(f: Filters, c: CaseView, now = Date.now()): boolean {
  if (f.state && c.state !== f.state) return false;
  const category = f.category || f.categoryMajor;
  if (category && c.category !== category && !(category.length === 2 && c.category.startsWith(category))) {
    return false;
  }
  if (f.grid && !(c.grid_code ?? '').startsWith(f.grid)) return false;
  if (f.assignee && c.assignee?.id !== f.assignee) return false;
  if (f.overdue && !isOverdue(c, now)) return false;
  if (f.openOnly && FINAL_STATES.has(c.state)) return false;
  const opened = Date.parse(c.opened_at);
  if (f.from && opened < shanghaiMidnight(f.from).getTime()) return false;
  if (f.to && opened >= dayAfter(f.to).getTime()) return false;
  const q = f.q.trim();
  if (q && !c.description.includes(q) && c.grid_name !== q && c.id !== q) return false;
  return true;
}
