// The worker's outbox: every report is first put in IndexedDB under its event id, then sent when
// the network allows (at once, when `online` fires, every half minute, or on request). An item
// leaves the outbox only when the server has it: 202 (accepted, also for a resend of the same
// event) or 409 (this event id is already there). The server is idempotent by event id, so a send
// interrupted after the server took it is harmless when repeated; one flush runs at a time
// (a Web Lock across tabs), so no two sends of one item race.
//
// Sends carry the signed-in person's token. A token that expired while the phone was offline is
// refreshed before the first send (and a 401 refreshes once and resends, see shared/session.ts).
// If the refresh is refused, the item stays pending, marked as waiting for a sign-in, and the flush
// stops; signing in again flushes. An item is sent only while the person who queued it is signed in
// (the server takes a person's report only from that person).

import { ApiError, SignInRequired, api, type EventBody, type MediaRef } from '../../shared/api';
import { onSession } from '../../shared/session';

const DB_NAME = 'gridcmd-worker';
const DB_VERSION = 1;
const OUTBOX = 'outbox';
const SENT = 'sent';
const RETRY_MS = 30_000;
/** The error of a send that never reached the server. */
export const NETWORK_ERROR = 'network';
/** The error of a send that needs the person to sign in again first. */
export const SIGN_IN_ERROR = 'sign-in';

export interface OutboxItem {
  event_id: string;
  /** The event without its media: those are uploaded first, then added. */
  event: EventBody;
  /** Photos not uploaded yet, and the references of those that are. */
  photos: Blob[];
  media: MediaRef[];
  /** The person who queued it (the reporter); sent only while they are signed in. */
  actor: string;
  queued_at: string;
  attempts: number;
  /** pending: will be sent; rejected: the server refused it (4xx), kept for the person to see. */
  status: 'pending' | 'rejected';
  error: string | null;
}

export interface SentItem {
  event_id: string;
  sent_at: string;
  http_status: number;
  description: string;
  type: string;
}

function promised<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

function openDb(): Promise<IDBDatabase> {
  const request = indexedDB.open(DB_NAME, DB_VERSION);
  request.onupgradeneeded = () => {
    const db = request.result;
    if (!db.objectStoreNames.contains(OUTBOX)) db.createObjectStore(OUTBOX, { keyPath: 'event_id' });
    if (!db.objectStoreNames.contains(SENT)) db.createObjectStore(SENT, { keyPath: 'event_id' });
  };
  return promised(request);
}

export type OutboxListener = (state: { items: OutboxItem[]; sent: SentItem[]; sending: boolean }) => void;

export class Outbox {
  private readonly db: Promise<IDBDatabase> = openDb();
  private readonly listeners = new Set<OutboxListener>();
  private flushing: Promise<void> | null = null;
  /** Counts of HTTP sends per event id made by this page (tests read it). */
  readonly sends = new Map<string, number>();

  /** `me` is the signed-in person's id (null when nobody is). */
  constructor(private readonly me: () => string | null) {
    window.addEventListener('online', () => void this.flush());
    window.setInterval(() => {
      if (navigator.onLine) void this.flush();
    }, RETRY_MS);
    onSession((event) => {
      if (event === 'signed-in') void this.flush();
    });
  }

  onChange(listener: OutboxListener): void {
    this.listeners.add(listener);
  }

  async add(item: Omit<OutboxItem, 'attempts' | 'status' | 'error' | 'queued_at' | 'media'>): Promise<void> {
    const full: OutboxItem = {
      ...item,
      media: [],
      queued_at: new Date().toISOString(),
      attempts: 0,
      status: 'pending',
      error: null,
    };
    await this.put(full);
    await this.notify();
  }

  async items(): Promise<OutboxItem[]> {
    const db = await this.db;
    const all = await promised(db.transaction(OUTBOX).objectStore(OUTBOX).getAll() as IDBRequest<OutboxItem[]>);
    return all.sort((a, b) => a.queued_at.localeCompare(b.queued_at));
  }

  async sent(): Promise<SentItem[]> {
    const db = await this.db;
    const all = await promised(db.transaction(SENT).objectStore(SENT).getAll() as IDBRequest<SentItem[]>);
    return all.sort((a, b) => b.sent_at.localeCompare(a.sent_at));
  }

  async remove(eventId: string): Promise<void> {
    const db = await this.db;
    const tx = db.transaction(OUTBOX, 'readwrite');
    tx.objectStore(OUTBOX).delete(eventId);
    await done(tx);
    await this.notify();
  }

  /** Sends what is pending, oldest first; one flush at a time, across tabs too. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    const run = async () => {
      await this.notify(true);
      const locks = navigator.locks;
      if (locks) await locks.request('gridcmd-outbox', () => this.sendAll());
      else await this.sendAll();
    };
    this.flushing = run().finally(() => {
      this.flushing = null;
      void this.notify();
    });
    return this.flushing;
  }

  private async sendAll(): Promise<void> {
    for (const item of await this.items()) {
      if (item.status !== 'pending' || item.actor !== this.me()) continue;
      const outcome = await this.sendOne(item);
      if (outcome === 'offline') return; // the rest waits for the network
    }
  }

  private async sendOne(item: OutboxItem): Promise<'sent' | 'rejected' | 'offline'> {
    item.attempts++;
    try {
      // Photos first: each upload is idempotent by content, and its reference is kept so a
      // retry does not upload it again.
      while (item.photos.length > 0) {
        const photo = item.photos[0] as Blob;
        const stored = await api.uploadMedia(photo);
        item.media.push({ sha256: stored.sha256, content_type: stored.content_type, size: stored.size });
        item.photos.shift();
        await this.put(item);
      }
      const event = { ...item.event, media: item.media } as EventBody;
      this.sends.set(item.event_id, (this.sends.get(item.event_id) ?? 0) + 1);
      await api.postEvent(event);
      await this.markSent(item, 202);
      return 'sent';
    } catch (error) {
      if (error instanceof SignInRequired || (error instanceof ApiError && error.status === 401)) {
        // The session is over: kept as it is until the person signs in again (which flushes).
        item.error = SIGN_IN_ERROR;
        await this.put(item);
        return 'offline';
      }
      if (error instanceof ApiError && error.status === 409) {
        await this.markSent(item, 409); // the server has this event id already
        return 'sent';
      }
      if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429) {
        item.status = 'rejected';
        item.error = `${error.status}: ${error.detail}`;
        await this.put(item);
        return 'rejected';
      }
      // No network, a timeout, or the server unavailable: try again later.
      item.error = error instanceof ApiError ? `${error.status}: ${error.detail}` : NETWORK_ERROR;
      await this.put(item);
      return 'offline';
    }
  }

  private async markSent(item: OutboxItem, status: number): Promise<void> {
    const db = await this.db;
    const tx = db.transaction([OUTBOX, SENT], 'readwrite');
    tx.objectStore(OUTBOX).delete(item.event_id);
    const sent: SentItem = {
      event_id: item.event_id,
      sent_at: new Date().toISOString(),
      http_status: status,
      description: item.event.description ?? '',
      type: item.event.type,
    };
    tx.objectStore(SENT).put(sent);
    await done(tx);
    await this.notify();
  }

  private async put(item: OutboxItem): Promise<void> {
    const db = await this.db;
    const tx = db.transaction(OUTBOX, 'readwrite');
    tx.objectStore(OUTBOX).put(item);
    await done(tx);
  }

  private async notify(sending = this.flushing !== null): Promise<void> {
    const [items, sent] = await Promise.all([this.items(), this.sent()]);
    for (const listener of this.listeners) listener({ items, sent, sending });
  }
}
