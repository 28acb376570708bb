// In-memory case state fed by the live feed: one entry per case id, newest version wins.

import { FINAL_STATES, type CaseView } from './api';

export class CaseStore {
  /** Exposed to tests as window.__app.cases. */
  readonly byId = new Map<string, CaseView>();
  private readonly listeners = new Set<() => void>();

  /** A snapshot replaces everything: it is the server's whole truth at (re)connect. */
  replaceAll(cases: readonly CaseView[]): void {
    this.byId.clear();
    for (const c of cases) this.keepNewest(c);
    this.notify();
  }

  /** Applies a change only if it is newer than what we hold (snapshot and stream overlap). */
  apply(change: CaseView): boolean {
    if (!this.keepNewest(change)) return false;
    this.notify();
    return true;
  }

  get(id: string): CaseView | undefined {
    return this.byId.get(id);
  }

  openCount(): number {
    let n = 0;
    for (const c of this.byId.values()) if (!FINAL_STATES.has(c.state)) n++;
    return n;
  }

  /** Newest opened first. */
  latest(limit: number): CaseView[] {
    return [...this.byId.values()]
      .sort((a, b) => Date.parse(b.opened_at) - Date.parse(a.opened_at) || b.id.localeCompare(a.id))
      .slice(0, limit);
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  private keepNewest(c: CaseView): boolean {
    const held = this.byId.get(c.id);
    if (held && held.version >= c.version) return false;
    this.byId.set(c.id, c);
    return true;
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
