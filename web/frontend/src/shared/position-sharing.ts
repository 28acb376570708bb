// "Share my position" (共享位置) on the phone pages: a switch, off by default and remembered per person on this
// phone. While it is on, navigator.geolocation.watchPosition feeds fixes, and a fix is sent
// (PUT /api/v1/positions/me) when the last one sent is 30 s old or the phone has moved more than 50 m since;
// otherwise it waits (the newest fix wins) for the next tick. A phone that stands still is asked for a fresh
// fix every 30 s, so the command centre does not fade it as stale. Switched off (or on signing out), the
// position is withdrawn (DELETE), retried until the server has it. Requests go one at a time, in order, so a
// late report never overtakes a withdrawal.

import { ApiError, SignInRequired, api } from './api';
import { el } from './dom';
import { dictionary, fill, formatTime, onLangChange } from './i18n';
import { onBeforeSignOut, onSession } from './session';

export const SEND_EVERY_MS = 30_000;
export const MOVED_M = 50;
const TICK_MS = 5_000;
const KEY = 'gridcmd.sharePosition.';

const tp = dictionary({
  share: { zh: '共享位置', en: 'Share my position' },
  shareHint: {
    zh: '开启后，指挥中心可在地图上看到您的位置',
    en: 'While on, the command centre sees where you are on its map',
  },
  off: { zh: '未共享', en: 'Not shared' },
  locating: { zh: '定位中…', en: 'Locating…' },
  sharedAt: { zh: '已共享 · {time}', en: 'Shared · {time}' },
  stopping: { zh: '正在停止共享…', en: 'Stopping…' },
  denied: { zh: '无法获取位置：请允许本页面使用定位', en: 'No position: allow this page to use your location' },
  unavailable: { zh: '暂时无法定位，稍后重试', en: 'No position fix yet, retrying' },
  offline: { zh: '网络不可用，联网后继续', en: 'No network: carries on when it is back' },
  signIn: { zh: '登录后继续', en: 'Carries on once you sign in' },
  refused: { zh: '服务器拒绝共享', en: 'The server refused' },
});

/** Where the phone was, how exactly (m), and when it was measured (ms since the epoch). */
export interface Fix {
  lon: number;
  lat: number;
  accuracy: number | null;
  at: number;
}

/** Great-circle distance in metres. */
export function metersBetween(a: { lon: number; lat: number }, b: { lon: number; lat: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Whether a fix goes out now, given the last one sent: at most every 30 s, or at once after moving > 50 m. */
export function worthSending(last: { fix: Fix; sentAt: number } | null, fix: Fix, now: number): boolean {
  if (!last) return true;
  return now - last.sentAt >= SEND_EVERY_MS || metersBetween(last.fix, fix) > MOVED_M;
}

type Wanted = 'on' | 'off' | 'stopping';
type Problem = 'denied' | 'unavailable' | 'offline' | 'signIn' | 'refused' | null;

export class PositionSharing {
  readonly root = el('div', 'share-bar');
  private readonly input = el('input');
  private readonly label = el('span', 'switch-label');
  private readonly status = el('span', 'share-status');
  private watchId: number | null = null;
  private last: { fix: Fix; sentAt: number } | null = null;
  /** The newest fix not sent yet. */
  private latest: Fix | null = null;
  private chain: Promise<void> = Promise.resolve();
  private busy = false;
  /** A report or a withdrawal is queued (not yet started). */
  private sending = false;
  private withdrawing = false;
  private asking = false;
  private failedAt = 0;
  private problem: Problem = null;
  private signedIn = true;
  /** Reports the server took (for tests: `data-sent`). */
  sent = 0;

  constructor(private readonly personId: string) {
    this.input.type = 'checkbox';
    this.input.name = 'share_position';
    this.input.setAttribute('role', 'switch');
    const toggle = el('label', 'switch');
    toggle.append(this.input, el('span', 'slider'), this.label);
    this.root.append(toggle, this.status);
    this.input.addEventListener('change', () => this.set(this.input.checked));
    window.addEventListener('online', () => this.tick());
    // A page being closed may see its geolocation watch end as "denied": that is no answer of the person's.
    window.addEventListener('pagehide', () => (this.leaving = true));
    window.setInterval(() => this.tick(), TICK_MS);
    onLangChange(() => this.render());
    onSession((event) => {
      this.signedIn = event === 'signed-in';
      if (this.signedIn) {
        this.problem = null;
        this.tick();
      }
      this.render();
    });
    // Signing out withdraws the position while the tokens still hold; the switch stays as it was.
    onBeforeSignOut(() => (this.wanted === 'on' ? this.enqueue(() => api.stopSharingPosition()) : Promise.resolve()));
    const wanted = this.wanted;
    this.input.checked = wanted === 'on';
    if (wanted === 'on') this.startWatching();
    else if (wanted === 'stopping') this.withdraw();
    this.render();
  }

  get on(): boolean {
    return this.wanted === 'on';
  }

  /** Turns sharing on or off, as the switch does. */
  set(on: boolean): void {
    this.input.checked = on;
    this.problem = null;
    if (on) {
      this.wanted = 'on';
      this.startWatching();
    } else {
      this.wanted = 'stopping';
      this.stopWatching();
      this.withdraw();
    }
    this.render();
  }

  private get wanted(): Wanted {
    try {
      const value = localStorage.getItem(KEY + this.personId);
      return value === 'on' || value === 'stopping' ? value : 'off';
    } catch {
      return this.memory;
    }
  }

  private memory: Wanted = 'off';
  /** The page is being closed (pagehide): the switch keeps what the person chose. */
  private leaving = false;

  private set wanted(value: Wanted) {
    this.memory = value;
    try {
      if (value === 'off') localStorage.removeItem(KEY + this.personId);
      else localStorage.setItem(KEY + this.personId, value);
    } catch {
      // kept for this page only
    }
  }

  private startWatching(): void {
    if (this.watchId !== null) return;
    if (!('geolocation' in navigator)) {
      this.problem = 'unavailable';
      return;
    }
    this.watchId = navigator.geolocation.watchPosition(
      (p) => this.onFix(p),
      (e) => this.onError(e),
      { enableHighAccuracy: true, maximumAge: 10_000, timeout: 60_000 },
    );
  }

  private stopWatching(): void {
    if (this.watchId !== null) navigator.geolocation.clearWatch(this.watchId);
    this.watchId = null;
    this.latest = null;
  }

  private onFix(p: GeolocationPosition): void {
    if (!this.on) return;
    const fix: Fix = {
      lon: p.coords.longitude,
      lat: p.coords.latitude,
      accuracy: Number.isFinite(p.coords.accuracy) ? Math.min(p.coords.accuracy, 100_000) : null,
      at: p.timestamp || Date.now(),
    };
    if (this.problem === 'denied' || this.problem === 'unavailable') this.problem = null;
    this.latest = fix;
    // While a report is on its way, a new fix waits for the next tick (judged against the report just sent).
    if (navigator.onLine && !this.busy && worthSending(this.last, fix, Date.now())) this.sendLatest();
    this.render();
  }

  private onError(error: GeolocationPositionError): void {
    if (this.leaving) return;
    if (error.code === error.PERMISSION_DENIED) {
      // Nothing can be shared: switch off (withdrawing what an earlier permission let through).
      this.set(false);
      this.problem = 'denied';
    } else {
      this.problem = 'unavailable';
    }
    this.render();
  }

  /** Every few seconds: send a held-back fix once it is due, ask a still phone for a fresh one, retry a withdrawal. */
  private tick(): void {
    const now = Date.now();
    if (this.busy || !this.signedIn || !navigator.onLine || now - this.failedAt < SEND_EVERY_MS / 2) return;
    if (this.wanted === 'stopping') {
      this.withdraw();
      return;
    }
    if (!this.on) return;
    if (this.latest && worthSending(this.last, this.latest, now)) {
      this.sendLatest();
      return;
    }
    if (this.last && now - this.last.sentAt >= SEND_EVERY_MS && !this.asking && 'geolocation' in navigator) {
      this.asking = true;
      navigator.geolocation.getCurrentPosition(
        (p) => {
          this.asking = false;
          this.onFix(p);
        },
        () => {
          this.asking = false;
        },
        { enableHighAccuracy: false, maximumAge: SEND_EVERY_MS / 2, timeout: 20_000 },
      );
    }
  }

  private enqueue(work: () => Promise<unknown>): Promise<void> {
    const run = this.chain.then(async () => {
      this.busy = true;
      try {
        await work();
      } finally {
        this.busy = false;
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private sendLatest(): void {
    if (!this.latest || this.sending || !this.signedIn) return;
    this.sending = true;
    void this.enqueue(async () => {
      this.sending = false;
      const fix = this.latest;
      if (!fix || !this.on) return; // switched off meanwhile
      try {
        await api.sharePosition({
          lon: fix.lon,
          lat: fix.lat,
          accuracy_m: fix.accuracy,
          at: new Date(fix.at).toISOString(),
        });
        this.last = { fix, sentAt: Date.now() };
        if (this.latest === fix) this.latest = null;
        this.sent++;
        this.problem = null;
      } catch (error) {
        this.failed(error);
      }
      this.render();
    });
  }

  private withdraw(): void {
    if (this.withdrawing) return;
    this.withdrawing = true;
    void this.enqueue(async () => {
      this.withdrawing = false;
      if (this.wanted !== 'stopping') return; // switched on again meanwhile
      try {
        await api.stopSharingPosition();
        this.wanted = 'off';
        this.last = null;
      } catch (error) {
        this.failed(error);
      }
      this.render();
    });
  }

  private failed(error: unknown): void {
    this.failedAt = Date.now();
    if (error instanceof SignInRequired) this.problem = 'signIn';
    else if (error instanceof ApiError) this.problem = 'refused';
    else this.problem = 'offline';
    if (this.problem !== 'offline') console.warn('position sharing', error);
  }

  private render(): void {
    const wanted = this.wanted;
    this.label.textContent = tp('share');
    this.root.title = tp('shareHint');
    this.root.dataset['sharing'] = wanted;
    this.root.dataset['sent'] = String(this.sent);
    document.body.dataset['sharing'] = wanted;
    let text: string;
    if (this.problem) text = tp(this.problem);
    else if (wanted === 'stopping') text = tp('stopping');
    else if (wanted === 'off') text = tp('off');
    else if (this.last) {
      text = fill(tp('sharedAt'), { time: formatTime(new Date(this.last.sentAt).toISOString(), false) });
    }
    else text = tp('locating');
    this.status.textContent = text;
    this.status.classList.toggle('error', this.problem !== null);
  }
}
