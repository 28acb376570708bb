// In-memory case state fed by the live feed: one entry per case id, newest version wins.

import { FINAL_STATES, type CaseView } from './api';

export class CaseStore {
  /** Exposed to tests as window.__app.cases. */
  readonly byId = new Map<string, CaseView>();
  private readonly listeners = new Set<(changed: CaseView[]) => void>();

  /**
   * Merges a (re)connect's snapshot of the open cases: each case keeps the newer of what we hold
   * and what the snapshot says; an open case we hold that the snapshot lacks has been finished
   * (or moved out of scope) while we were away, so it is dropped. Finished cases we hold stay.
   */
  mergeSnapshot(cases: readonly CaseView[]): void {
    const inSnapshot = new Set(cases.map((c) => c.id));
    for (const [id, held] of this.byId) {
      if (!inSnapshot.has(id) && !FINAL_STATES.has(held.state)) this.byId.delete(id);
    }
    const changed = cases.filter((c) => this.keepNewest(c));
    this.notify(changed);
  }

  /** Applies a change only if it is newer than what we hold (snapshot and stream overlap). */
  apply(change: CaseView): boolean {
    if (!this.keepNewest(change)) return false;
    this.notify([change]);
    return true;
  }

  /** Adds cases read over HTTP (lists), with the same newest-wins rule. */
  addAll(cases: readonly CaseView[]): void {
    const changed = cases.filter((c) => this.keepNewest(c));
    if (changed.length) this.notify(changed);
  }

  get(id: string): CaseView | undefined {
    return this.byId.get(id);
  }

  all(): CaseView[] {
    return [...this.byId.values()];
  }

  openCount(): number {
    let n = 0;
    for (const c of this.byId.values()) if (!FINAL_STATES.has(c.state)) n++;
    return n;
  }

  /** Newest opened first. */
  latest(limit: number, keep: (c: CaseView) => boolean = () => true): CaseView[] {
    return [...this.byId.values()]
      .filter(keep)
      .sort((a, b) => Date.parse(b.opened_at) - Date.parse(a.opened_at) || b.id.localeCompare(a.id))
      .slice(0, limit);
  }

  /** Called with the cases that changed (empty after a snapshot that changed nothing). */
  onChange(listener: (changed: CaseView[]) => void): void {
    this.listeners.add(listener);
  }

  private keepNewest(c: CaseView): boolean {
    const held = this.byId.get(c.id);
    if (held && held.version >= c.version) return false;
    this.byId.set(c.id, c);
    return true;
  }

  private notify(changed: CaseView[]): void {
    for (const listener of this.listeners) listener(changed);
  }
}
