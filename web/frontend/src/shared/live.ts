// Websocket client for /ws/live that reconnects by itself with capped exponential backoff.
// Every (re)connect starts with a snapshot of the open cases; the CaseStore merges it by version,
// so a reconnect catches up without gaps or duplicates. The access token travels as a subprotocol
// ("bearer.<token>"): the server closes with 4401 when it is missing, bad or expired (it closes at
// expiry), and the client then refreshes the token and reconnects at once.

import type { CaseView, LivePosition, Notice } from './api';
import { SignInRequired, freshAccessToken, onSession, refresh } from './session';

export type LiveMessage =
  | { type: 'snapshot'; cases: CaseView[] }
  | { type: 'case_changed'; change: string; case: CaseView }
  | { type: 'case_removed'; case_id: string; version: number }
  | { type: 'unrouted'; item: { event_id: string } }
  | { type: 'deadletter'; item: { id: string } }
  | { type: 'position'; position: LivePosition }
  | { type: 'position_gone'; person_id: string }
  | { type: 'notice'; notice: Notice }
  | { type: 'registry_changed'; part: string };

/** The subprotocol the server speaks, and the close code of a refused token. */
export const PROTOCOL = 'grid.live';
export const UNAUTHORIZED = 4401;

function isCaseView(value: unknown): value is CaseView {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Partial<CaseView>;
  return (
    typeof c.id === 'string' &&
    typeof c.version === 'number' &&
    typeof c.state === 'string' &&
    typeof c.lon === 'number' &&
    typeof c.lat === 'number'
  );
}

function isNotice(value: unknown): value is Notice {
  if (typeof value !== 'object' || value === null) return false;
  const n = value as Partial<Notice>;
  return (
    typeof n.id === 'number' &&
    typeof n.case_id === 'string' &&
    typeof n.kind === 'string' &&
    typeof n.text_zh === 'string' &&
    typeof n.text_en === 'string'
  );
}

function isPosition(value: unknown): value is LivePosition {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Partial<LivePosition>;
  return (
    typeof p.person_id === 'string' &&
    typeof p.role === 'string' &&
    typeof p.lon === 'number' &&
    typeof p.lat === 'number' &&
    typeof p.at === 'string'
  );
}

/** Parses one websocket frame; returns null for anything this page does not understand. */
export function parseLiveMessage(raw: string): LiveMessage | null {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null) return null;
  const msg = data as Record<string, unknown>;
  switch (msg['type']) {
    case 'snapshot': {
      const cases = msg['cases'];
      if (!Array.isArray(cases)) return null;
      return { type: 'snapshot', cases: cases.filter(isCaseView) };
    }
    case 'case_changed':
      return isCaseView(msg['case'])
        ? { type: 'case_changed', change: String(msg['change'] ?? ''), case: msg['case'] }
        : null;
    case 'case_removed': {
      const id = msg['case_id'];
      const version = msg['version'];
      return typeof id === 'string' && typeof version === 'number'
        ? { type: 'case_removed', case_id: id, version }
        : null;
    }
    case 'unrouted':
      return { type: 'unrouted', item: msg['item'] as { event_id: string } };
    case 'deadletter':
      return { type: 'deadletter', item: msg['item'] as { id: string } };
    case 'position':
      return isPosition(msg['position']) ? { type: 'position', position: msg['position'] } : null;
    case 'position_gone': {
      const id = msg['person_id'];
      return typeof id === 'string' ? { type: 'position_gone', person_id: id } : null;
    }
    case 'notice':
      return isNotice(msg['notice']) ? { type: 'notice', notice: msg['notice'] } : null;
    case 'registry_changed':
      return { type: 'registry_changed', part: String(msg['part'] ?? '') };
    default:
      return null;
  }
}

export type LiveStatus = 'connecting' | 'open' | 'closed';

export interface LiveHandlers {
  onMessage(message: LiveMessage): void;
  onStatus(status: LiveStatus): void;
}

const MIN_DELAY_MS = 1_000;
const MAX_DELAY_MS = 10_000;

export function liveUrl(path = '/ws/live'): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${path}`;
}

export class LiveClient {
  private socket: WebSocket | null = null;
  /** A connect is under way (waiting for a token), so no second one starts. */
  private connecting = false;
  private delay = MIN_DELAY_MS;
  private timer: number | undefined;
  private stopped = false;
  /** Signed out or the session ended: no connect until someone signs in. */
  private waitingForSignIn = false;
  /** Refused tokens in a row (a fresh token refused again backs off instead of looping). */
  private refusals = 0;
  private started = false;

  constructor(
    private readonly url: string,
    private readonly handlers: LiveHandlers,
  ) {}

  start(): void {
    this.stopped = false;
    this.handlers.onStatus('connecting');
    this.connect();
    if (this.started) return;
    this.started = true;
    // Back on the network: try at once instead of waiting out the backoff.
    window.addEventListener('online', () => {
      if (this.stopped || this.socket || this.connecting || this.waitingForSignIn) return;
      this.reconnectNow();
    });
    onSession((event) => {
      if (this.stopped) return;
      if (event === 'signed-in') {
        this.waitingForSignIn = false;
        if (!this.socket && !this.connecting) this.reconnectNow();
      } else {
        // Signed out, or the session ended: stop showing this user's feed.
        this.waitingForSignIn = true;
        window.clearTimeout(this.timer);
        const socket = this.socket;
        this.socket = null;
        socket?.close(1000, 'signed out');
        this.handlers.onStatus('closed');
      }
    });
  }

  /** Drops the connection as a network failure would (test hook): the client reconnects by itself. */
  drop(): void {
    this.socket?.close(4000, 'dropped by the page');
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.socket?.close();
    this.socket = null;
  }

  private reconnectNow(): void {
    window.clearTimeout(this.timer);
    this.delay = MIN_DELAY_MS;
    this.connect();
  }

  private connect(): void {
    if (this.connecting || this.socket || this.stopped) return;
    this.connecting = true;
    void freshAccessToken()
      .then((token) => {
        this.connecting = false;
        if (!this.stopped && !this.socket && !this.waitingForSignIn) this.open(token);
      })
      .catch((error: unknown) => {
        this.connecting = false;
        this.failed(error);
      });
  }

  /** A token could not be had: wait for a sign-in, or (no network, server trouble) back off. */
  private failed(error: unknown): void {
    this.handlers.onStatus('closed');
    if (error instanceof SignInRequired) {
      this.waitingForSignIn = true;
      return;
    }
    this.scheduleReconnect();
  }

  private open(token: string): void {
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url, [PROTOCOL, `bearer.${token}`]);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;

    socket.addEventListener('open', () => this.handlers.onStatus('open'));
    socket.addEventListener('message', (event: MessageEvent) => {
      // Back off afresh only once the server has actually talked to us, so a server that
      // accepts and drops at once is not hammered every second.
      this.delay = MIN_DELAY_MS;
      this.refusals = 0;
      if (typeof event.data !== 'string') return;
      const message = parseLiveMessage(event.data);
      if (message) this.handlers.onMessage(message);
    });
    // 'error' is always followed by 'close', so reconnecting is handled there only.
    socket.addEventListener('close', (event: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.handlers.onStatus('closed');
      if (event.code === UNAUTHORIZED) this.reauthenticate(token);
      else this.scheduleReconnect();
    });
  }

  /** The server refused or expired `used`: refresh it and reconnect at once (once; then with backoff). */
  private reauthenticate(used: string): void {
    this.refusals++;
    this.connecting = true;
    void refresh(used)
      .then(() => {
        this.connecting = false;
        if (this.refusals <= 1) this.connect();
        else this.scheduleReconnect();
      })
      .catch((error: unknown) => {
        this.connecting = false;
        this.failed(error);
      });
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.waitingForSignIn) return;
    window.clearTimeout(this.timer);
    const wait = this.delay;
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    this.timer = window.setTimeout(() => this.connect(), wait);
  }
}
