// The two queues a person resolves, in the side panel: unrouted events (the command centre of their area) and
// dead letters (administrators). Each waiting item can be sent again (an unrouted event routed again, a dead
// letter replayed to its topic) or dismissed with a note (a dialog); unrouted events with a location are
// shown on the map. Below the waiting items, the resolved ones: who, when, how and why. Both lists reload on
// the live channel's queue messages, after each resolution and when the tab is opened; errors are said in
// words (gone meanwhile, cannot be replayed, not allowed, no network).

import {
  ApiError,
  SignInRequired,
  api,
  describeError,
  type DeadLetter,
  type Resolution,
  type ResolvedDeadLetter,
  type ResolvedUnrouted,
  type UnroutedItem,
} from '../../shared/api';
import { button, el, toast } from '../../shared/dom';
import { categoryLabel, eventTypeLabel, formatTime, t } from '../../shared/i18n';
import { askNote } from './note-dialog';
import { tc } from './texts';

export type QueueName = 'unrouted' | 'deadletter';
type View<T> = { kind: 'loading' } | { kind: 'error'; text: string } | { kind: 'items'; items: T[] };

/** A failed queue request in words. */
export function queueError(error: unknown, queue: QueueName): string {
  if (error instanceof SignInRequired) return t('sessionExpired');
  if (error instanceof ApiError) {
    if (error.status === 404) return queue === 'unrouted' ? tc('unroutedGone') : tc('deadLetterGone');
    if (error.status === 409) return tc('cannotReplay');
    if (error.status === 403) return tc('queueNotAllowed');
    if (error.status === 422) return `${tc('badInput')}: ${error.detail}`;
    if (error.status === 429) return tc('tooFast');
    if (error.status >= 500) return `${tc('serverTrouble')} (${error.status})`;
    return describeError(error);
  }
  if (error instanceof TypeError) return t('serverUnreachable');
  return describeError(error);
}

/** One reload at a time; a request while one runs makes it run once more afterwards. */
function serial(load: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let again = false;
  const run = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await load();
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
  return run;
}

interface QueueSpec<Item, Done extends Resolution> {
  name: QueueName;
  load(): Promise<Item[]>;
  loadResolved(): Promise<Done[]>;
  hint(): string;
  empty(): string;
  item(item: Item, pane: QueuePane<Item, Done>): HTMLLIElement;
  resolved(done: Done): HTMLLIElement;
}

export interface QueueHost {
  /** The waiting items changed (count for the tab's badge). */
  onCount(count: number): void;
  /** The caller may not read this queue (403): hide it. */
  onForbidden(): void;
}

export class QueuePane<Item, Done extends Resolution> {
  readonly root: HTMLElement;
  private readonly hint = el('p', 'hint');
  private readonly list: HTMLUListElement;
  private readonly resolvedHead = el('h3', 'list-heading resolved-heading');
  private readonly resolvedList = el('ul', 'resolved-list');
  private waiting: View<Item> = { kind: 'loading' };
  private done: View<Done> = { kind: 'loading' };
  /** Items resolved here, with the number of loads started by then: a load started later shows the truth. */
  private readonly gone = new Map<string, number>();
  private loads = 0;
  readonly refresh: () => Promise<void>;

  constructor(
    private readonly spec: QueueSpec<Item, Done>,
    private readonly host: QueueHost,
    private readonly idOf: (item: Item) => string,
  ) {
    this.root = el('section', `pane queue-pane queue-${spec.name}`);
    this.root.dataset['queue'] = spec.name;
    this.list = el('ul', spec.name === 'unrouted' ? 'unrouted-list' : 'unrouted-list dead-list');
    this.root.append(this.hint, this.list, this.resolvedHead, this.resolvedList);
    this.refresh = serial(() => this.load());
    this.refreshLanguage();
  }

  refreshLanguage(): void {
    this.hint.textContent = this.spec.hint();
    this.resolvedHead.textContent = tc('resolvedHistory');
    this.render();
  }

  /** The waiting items as last loaded (less those resolved here since). */
  items(): Item[] {
    return this.waiting.kind === 'items' ? this.waiting.items.filter((i) => !this.gone.has(this.idOf(i))) : [];
  }

  /** Resolves an item through the note dialog; the lists reload after it. */
  async resolve(
    item: Item,
    options: {
      title: string;
      summary: string;
      confirm: string;
      danger?: boolean;
      noteRequired: boolean;
      action: string;
      done: string;
      send(note: string): Promise<unknown>;
    },
  ): Promise<void> {
    const id = this.idOf(item);
    const ok = await askNote({
      title: options.title,
      summary: options.summary,
      confirm: options.confirm,
      noteRequired: options.noteRequired,
      action: options.action,
      ...(options.danger ? { danger: true } : {}),
      describe: (error) => queueError(error, this.spec.name),
      run: async (note) => {
        try {
          await options.send(note);
        } catch (error) {
          // Gone meanwhile (resolved by someone else): the lists are stale.
          if (error instanceof ApiError && error.status === 404) void this.refresh();
          throw error;
        }
      },
    });
    if (!ok) return;
    toast(options.done);
    this.gone.set(id, this.loads);
    this.render();
    await this.refresh();
  }

  private async load(): Promise<void> {
    const started = ++this.loads;
    const [waiting, done] = await Promise.allSettled([this.spec.load(), this.spec.loadResolved()]);
    for (const result of [waiting, done]) {
      if (result.status === 'rejected' && result.reason instanceof ApiError && result.reason.status === 403) {
        this.host.onForbidden();
        return;
      }
    }
    if (waiting.status === 'fulfilled') {
      // A load started after a resolution is the truth: what it lists again (a retried event that still
      // found no route) is waiting again.
      for (const [id, at] of [...this.gone]) if (at < started) this.gone.delete(id);
      this.waiting = { kind: 'items', items: waiting.value };
    } else if (this.waiting.kind !== 'items') {
      this.waiting = { kind: 'error', text: queueError(waiting.reason, this.spec.name) };
    }
    if (done.status === 'fulfilled') this.done = { kind: 'items', items: done.value };
    else if (this.done.kind !== 'items') this.done = { kind: 'error', text: queueError(done.reason, this.spec.name) };
    this.render();
  }

  private render(): void {
    const waiting = this.waiting;
    if (waiting.kind !== 'items') {
      this.host.onCount(0);
      const failed = waiting.kind === 'error';
      this.list.replaceChildren(el('li', failed ? 'empty error' : 'empty', failed ? waiting.text : '…'));
    } else {
      const items = this.items();
      this.host.onCount(items.length);
      this.list.replaceChildren(
        ...(items.length ? items.map((i) => this.spec.item(i, this)) : [el('li', 'empty', this.spec.empty())]),
      );
    }
    const done = this.done;
    if (done.kind !== 'items') {
      this.resolvedList.replaceChildren(el('li', 'empty', done.kind === 'error' ? done.text : '…'));
    } else {
      this.resolvedList.replaceChildren(
        ...(done.items.length ? done.items.map((d) => this.spec.resolved(d)) : [el('li', 'empty', tc('noResolved'))]),
      );
    }
    this.root.dataset['waiting'] = String(this.list.querySelectorAll('[data-item-id]').length);
  }
}

// ---- the two queues ----

const AGAIN = {
  retry: { label: 'retry', title: 'retryTitle', done: 'retried' },
  replay: { label: 'replay', title: 'replayTitle', done: 'replayed' },
} as const;

/** An item's two decisions: publish it again (retry or replay), or dismiss it with a note. */
function resolveButtons<Item, Done extends Resolution, Again extends 'retry' | 'replay'>(
  pane: QueuePane<Item, Done>,
  item: Item,
  summary: string,
  again: Again,
  dismissTitle: string,
  send: (action: Again | 'dismiss', note: string) => Promise<unknown>,
): HTMLElement {
  const texts = AGAIN[again];
  const actions = el('div', 'queue-actions');
  actions.append(
    button(`primary ${again}`, tc(texts.label), () =>
      void pane.resolve(item, {
        title: tc(texts.title),
        summary,
        confirm: tc(texts.label),
        noteRequired: false,
        action: again,
        done: tc(texts.done),
        send: (note) => send(again, note),
      }),
    ),
    button('danger dismiss', tc('dismiss'), () =>
      void pane.resolve(item, {
        title: dismissTitle,
        summary,
        confirm: tc('dismiss'),
        danger: true,
        noteRequired: true,
        action: 'dismiss',
        done: tc('dismissed'),
        send: (note) => send('dismiss', note),
      }),
    ),
  );
  return actions;
}

const RESOLUTION_LABEL = { retried: 'resRetried', replayed: 'resReplayed', dismissed: 'resDismissed' } as const;

function resolutionLine(done: Resolution): HTMLElement {
  const line = el('div', 'item-meta resolution');
  line.append(
    el('span', `tag res-${done.resolution}`, tc(RESOLUTION_LABEL[done.resolution] ?? 'resDismissed')),
    el('span', '', `${done.resolved_by} · ${formatTime(done.resolved_at)}`),
  );
  return line;
}

function located(item: UnroutedItem): item is UnroutedItem & { lon: number; lat: number } {
  return typeof item.lon === 'number' && typeof item.lat === 'number';
}

export function unroutedPane(
  host: QueueHost & { showOnMap(item: UnroutedItem): void },
): QueuePane<UnroutedItem, ResolvedUnrouted> {
  return new QueuePane<UnroutedItem, ResolvedUnrouted>(
    {
      name: 'unrouted',
      load: () => api.unrouted(),
      loadResolved: () => api.unroutedResolved(),
      hint: () => tc('unroutedHint'),
      empty: () => tc('noUnrouted'),
      item: (item, pane) => {
        const li = el('li', 'unrouted-item');
        li.dataset['eventId'] = item.event_id;
        li.dataset['itemId'] = item.event_id;
        const head = el('div', 'item-head');
        head.append(el('span', 'item-title', eventTypeLabel(item.type)), el('span', 'state', categoryLabel(item.category)));
        li.append(head, el('div', 'item-line', `${t('reason')}: ${item.reason}`));
        if (item.description) li.append(el('div', 'item-desc', item.description));
        const where = located(item) ? ` · ${item.lon.toFixed(5)}, ${item.lat.toFixed(5)}` : '';
        li.append(el('div', 'item-meta', `${tc('received')} ${formatTime(item.received_at)}${where}`));
        const summary = `${eventTypeLabel(item.type)} · ${categoryLabel(item.category)} · ${item.description || item.reason}`;
        const actions = resolveButtons(pane, item, summary, 'retry', tc('dismissTitle'), (action, note) =>
          api.resolveUnrouted(item.event_id, { action, note }),
        );
        if (located(item)) {
          li.dataset['lon'] = String(item.lon);
          li.dataset['lat'] = String(item.lat);
          actions.append(button('link show-on-map', tc('showOnMap'), () => host.showOnMap(item)));
        }
        li.append(actions);
        return li;
      },
      resolved: (done) => {
        const li = el('li', 'resolved-item');
        li.dataset['eventId'] = done.event_id;
        li.dataset['resolution'] = done.resolution;
        const head = el('div', 'item-head');
        head.append(el('span', 'item-title', eventTypeLabel(done.type)), el('span', 'state', categoryLabel(done.category)));
        li.append(head, resolutionLine(done));
        if (done.note) li.append(el('div', 'item-desc note', done.note));
        li.append(el('div', 'item-meta', `${tc('received')} ${formatTime(done.received_at)} · ${done.reason}`));
        return li;
      },
    },
    host,
    (item) => item.event_id,
  );
}

export function deadLetterPane(host: QueueHost): QueuePane<DeadLetter, ResolvedDeadLetter> {
  return new QueuePane<DeadLetter, ResolvedDeadLetter>(
    {
      name: 'deadletter',
      load: () => api.deadLetters(),
      loadResolved: () => api.deadLettersResolved(),
      hint: () => tc('deadLetterHint'),
      empty: () => tc('noDeadLetters'),
      item: (item, pane) => {
        const li = el('li', 'unrouted-item dead-item');
        li.dataset['deadId'] = String(item.id);
        li.dataset['itemId'] = String(item.id);
        const head = el('div', 'item-head');
        head.append(el('span', 'item-title', item.source_topic), el('span', 'state', `#${item.offset}`));
        li.append(head, el('div', 'item-line', `${t('reason')}: ${item.reason}`));
        const raw = el('pre', 'raw', item.raw.length > 300 ? `${item.raw.slice(0, 300)}…` : item.raw);
        li.append(raw, el('div', 'item-meta', `${tc('received')} ${formatTime(item.received_at)}`));
        const summary = `${item.source_topic} #${item.offset} · ${item.reason}`;
        const actions = resolveButtons(pane, item, summary, 'replay', tc('dismissDeadTitle'), (action, note) =>
          api.resolveDeadLetter(item.id, { action, note }),
        );
        li.append(actions);
        return li;
      },
      resolved: (done) => {
        const li = el('li', 'resolved-item');
        li.dataset['deadId'] = String(done.id);
        li.dataset['resolution'] = done.resolution;
        const head = el('div', 'item-head');
        head.append(el('span', 'item-title', done.source_topic), el('span', 'state', `#${done.offset}`));
        li.append(head, resolutionLine(done));
        if (done.note) li.append(el('div', 'item-desc note', done.note));
        li.append(el('div', 'item-meta', `${tc('received')} ${formatTime(done.received_at)} · ${done.reason}`));
        return li;
      },
    },
    host,
    (item) => String(item.id),
  );
}
