// Websocket client for /ws/live that reconnects by itself with capped exponential backoff.
// Every (re)connect starts with a snapshot of the open cases; the CaseStore merges it by version,
// so a reconnect catches up without gaps or duplicates.

import type { CaseView } from './api';

export type LiveMessage =
  | { type: 'snapshot'; cases: CaseView[] }
  | { type: 'case_changed'; change: string; case: CaseView }
  | { type: 'unrouted'; item: { event_id: string } }
  | { type: 'deadletter'; item: { id: string } };

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
    case 'unrouted':
      return { type: 'unrouted', item: msg['item'] as { event_id: string } };
    case 'deadletter':
      return { type: 'deadletter', item: msg['item'] as { id: string } };
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
  private delay = MIN_DELAY_MS;
  private timer: number | undefined;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly handlers: LiveHandlers,
  ) {}

  start(): void {
    this.stopped = false;
    this.handlers.onStatus('connecting');
    this.connect();
    // Back on the network: try at once instead of waiting out the backoff.
    window.addEventListener('online', () => {
      if (this.stopped || this.socket) return;
      window.clearTimeout(this.timer);
      this.delay = MIN_DELAY_MS;
      this.connect();
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

  private connect(): void {
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url);
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
      if (typeof event.data !== 'string') return;
      const message = parseLiveMessage(event.data);
      if (message) this.handlers.onMessage(message);
    });
    // 'error' is always followed by 'close', so reconnecting is handled there only.
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.handlers.onStatus('closed');
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const wait = this.delay;
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    this.timer = window.setTimeout(() => this.connect(), wait);
  }
}
