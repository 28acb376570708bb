// In-memory case state fed by the live feed: one entry per case id, newest version wins.

import { FINAL_STATES, type CaseView } from './api';

export type CaseListener = (changed: CaseView[], removed: string[]) => void;

export class CaseStore {
  /** Exposed to tests as window.__app.cases. */
  readonly byId = new Map<string, CaseView>();
  /** Cases that left the user's reach, with the version at which they left (older news of them is ignored). */
  private readonly gone = new Map<string, number>();
  private readonly listeners = new Set<CaseListener>();

  /**
   * Merges a (re)connect's snapshot of the open cases: each case keeps the newer of what we hold
   * and what the snapshot says; an open case we hold that the snapshot lacks has been finished
   * (or moved out of scope) while we were away, so it is dropped. Finished cases we hold stay.
   */
  mergeSnapshot(cases: readonly CaseView[]): void {
    const inSnapshot = new Set(cases.map((c) => c.id));
    const removed: string[] = [];
    for (const [id, held] of this.byId) {
      if (!inSnapshot.has(id) && !FINAL_STATES.has(held.state)) {
        this.byId.delete(id);
        removed.push(id);
      }
    }
    const changed = cases.filter((c) => this.keepNewest(c));
    this.notify(changed, removed);
  }

  /** A case left the user's reach (`case_removed`): dropped, unless we hold a newer version of it. */
  remove(id: string, version: number): boolean {
    this.gone.set(id, Math.max(version, this.gone.get(id) ?? 0));
    const held = this.byId.get(id);
    if (!held || held.version > version) return false;
    this.byId.delete(id);
    this.notify([], [id]);
    return true;
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

  /** Called with the cases that changed and the ids that were dropped (both empty after a snapshot that changed nothing). */
  onChange(listener: CaseListener): void {
    this.listeners.add(listener);
  }

  private keepNewest(c: CaseView): boolean {
    const left = this.gone.get(c.id);
    if (left !== undefined) {
      if (c.version <= left) return false;
      this.gone.delete(c.id); // back within reach, at a newer version
    }
    const held = this.byId.get(c.id);
    if (held && held.version >= c.version) return false;
    this.byId.set(c.id, c);
    return true;
  }

  private notify(changed: CaseView[], removed: string[] = []): void {
    for (const listener of this.listeners) listener(changed, removed);
  }
}
