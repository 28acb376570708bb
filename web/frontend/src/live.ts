// Websocket client for /ws/live that reconnects by itself with capped exponential backoff.

import { parseLiveMessage, type LiveMessage } from './api';

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
