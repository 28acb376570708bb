// The case view: facts, the log as a timeline, photos and documents, the location, and the
// dispatcher's actions (assign, supervise, extension, check, close, merge, split, cancel,
// reopen), each sent to the API as the signed-in person. Photos and documents are fetched with the
// bearer header and shown through object URLs, released when the view moves to another case.

import {
  FINAL_STATES,
  api,
  describeError as describe,
  isOverdue,
  type Assignee,
  type CaseView,
  type CommandBody,
  type Device,
  type LogEntry,
  type Person,
} from '../../shared/api';
import { button, el, field, select } from '../../shared/dom';
import { MediaUrls } from '../../shared/media';
import type { User } from '../../shared/session';
import {
  assigneeKindLabel,
  categoryLabel,
  categoryPath,
  eventTypeLabel,
  fill,
  formatDue,
  formatTime,
  logKindLabel,
  priorityLabel,
  stageLabel,
  stateLabel,
  stepLabel,
  t,
} from '../../shared/i18n';
import { evidenceOf, reportsOf, type MediaItem } from './case-media';
import { describe as describeDevice } from './devices';
import { paperButtons } from './downloads';
import { tc } from './texts';
import { transferForm } from './transfer-form';

export interface CaseViewHost {
  /** The signed-in user, who acts as their registry person. */
  user: User;
  actorName(): string;
  lookup(id: string): CaseView | undefined;
  openCases(): CaseView[];
  flyTo(c: CaseView): void;
  /** The registered device of that id, if the map has it. */
  device(id: string): Device | undefined;
}

export class CaseDrawer {
  readonly root = el('aside', 'drawer');
  private caseId: string | null = null;
  private log: LogEntry[] = [];
  private loadSeq = 0;
  private readonly media = new MediaUrls();

  constructor(private readonly host: CaseViewHost) {
    this.root.hidden = true;
    this.root.setAttribute('aria-live', 'polite');
  }

  get openId(): string | null {
    return this.caseId;
  }

  async open(id: string): Promise<void> {
    if (id !== this.caseId) {
      this.media.release();
      this.log = [];
    }
    this.caseId = id;
    this.root.hidden = false;
    this.root.dataset['caseId'] = id;
    const seq = ++this.loadSeq;
    const held = this.host.lookup(id);
    if (held) this.render(held);
    else this.root.replaceChildren(el('p', 'empty', tc('loading')));
    try {
      const detail = await api.caseDetail(id);
      if (seq !== this.loadSeq) return;
      this.log = detail.log as unknown as LogEntry[];
      const newer = this.host.lookup(id);
      this.render(newer && newer.version > detail.case.version ? newer : detail.case);
    } catch (error) {
      if (seq === this.loadSeq) this.root.append(el('p', 'error', describe(error)));
    }
  }

  close(): void {
    this.media.release();
    this.log = [];
    this.caseId = null;
    this.root.hidden = true;
    delete this.root.dataset['caseId'];
  }

  /** A live change of the open case: reload its log (new entries) and redraw. */
  changed(c: CaseView): void {
    if (c.id === this.caseId) void this.open(c.id);
  }

  refreshLanguage(): void {
    const c = this.caseId ? this.host.lookup(this.caseId) : undefined;
    if (c) this.render(c);
  }

  private render(c: CaseView): void {
    const head = el('div', 'drawer-head');
    head.append(
      el('h2', 'drawer-title', `${categoryPath(c.category)} · ${stateLabel(c.state)}`),
      button('link drawer-close', tc('close'), () => this.close()),
    );
    const body = el('div', 'drawer-body');
    body.append(this.facts(c), paperButtons(c.id, this.log), this.photos(), this.timeline(), this.actions(c));
    // A live change redraws the view: keep what the dispatcher has opened and typed.
    const kept = this.formState();
    const scroll = this.root.querySelector('.drawer-body')?.scrollTop ?? 0;
    this.root.replaceChildren(head, body);
    this.restoreFormState(kept);
    body.scrollTop = scroll;
    this.root.dataset['state'] = c.state;
    this.root.dataset['version'] = String(c.version);
  }

  private formState(): Map<string, { open: boolean; values: Map<string, string> }> {
    const state = new Map<string, { open: boolean; values: Map<string, string> }>();
    for (const form of this.root.querySelectorAll<HTMLFormElement>('form[data-action]')) {
      const values = new Map<string, string>();
      for (const input of form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input[name], select[name]')) {
        values.set(input.name, input.value);
      }
      const open = form.querySelector('details')?.open ?? false;
      state.set(form.dataset['action'] ?? '', { open, values });
    }
    return state;
  }

  private restoreFormState(state: Map<string, { open: boolean; values: Map<string, string> }>): void {
    for (const form of this.root.querySelectorAll<HTMLFormElement>('form[data-action]')) {
      const kept = state.get(form.dataset['action'] ?? '');
      if (!kept) continue;
      const details = form.querySelector('details');
      if (details) details.open = kept.open;
      for (const input of form.querySelectorAll<HTMLInputElement>('input[name]')) {
        const value = kept.values.get(input.name);
        if (value !== undefined) input.value = value;
      }
    }
  }

  private facts(c: CaseView): HTMLElement {
    const dl = el('dl', 'facts');
    const add = (label: string, value: string, cls = '') => {
      dl.append(el('dt', undefined, label), el('dd', cls, value));
    };
    const assignee = c.assignee ? `${c.assignee.name} · ${assigneeKindLabel(c.assignee.kind)}` : t('unassigned');
    add(tc('caseId'), c.id, 'mono');
    add(t('assignee'), assignee, 'assignee');
    add(t('grid'), [c.grid_name ?? t('noGrid'), c.township_name].filter(Boolean).join(' · '));
    add(t('priority'), priorityLabel(c.priority));
    add(t('opened'), formatTime(c.opened_at));
    add(t('due'), `${formatTime(c.due_at)} (${formatDue(c.due_at)})`);
    add(
      t('stepDue'),
      `${stepLabel(c.step ?? '')} ${formatTime(c.step_due_at)}${c.step_due_at ? ` (${formatDue(c.step_due_at)})` : ''}`,
      isOverdue(c) ? 'overdue-text' : '',
    );
    add(t('events'), String(c.event_count));
    if (c.extension_until) add(tc('extensionAsked'), formatTime(c.extension_until));
    if (c.stages_done?.length) add(tc('stages'), c.stages_done.map(stageLabel).join(' → '));
    const where = el('button', 'link', `${c.lon.toFixed(5)}, ${c.lat.toFixed(5)}`);
    where.type = 'button';
    where.addEventListener('click', () => this.host.flyTo(c));
    dl.append(el('dt', undefined, tc('location')), wrap('dd', where));
    const box = el('section', 'facts-box');
    box.append(dl);
    if (c.description) box.append(el('p', 'desc', c.description));
    const alerts = this.deviceAlerts(c);
    if (alerts) box.append(alerts);
    return box;
  }

  /** For a camera's or sensor's case: the device, its live view, and how many alerts folded in, the last when. */
  private deviceAlerts(c: CaseView): HTMLElement | null {
    const opening = this.log.find((e) => e.kind === 'registered');
    const source = opening?.payload['source'] as { device_id?: string | null } | undefined;
    const id = source?.device_id;
    if (!id) return null;
    const box = el('div', 'device-alerts');
    box.dataset['deviceId'] = id;
    const last = [...this.log].reverse().find((e) => e.kind === 'attached' || e.kind === 'registered');
    box.append(el('h3', undefined, tc('deviceAlerts')));
    const line = fill(tc('alertCount'), { n: c.event_count, at: formatTime(last?.at ?? c.opened_at) });
    box.append(el('p', 'alert-count', line));
    const device = this.host.device(id);
    box.append(device ? describeDevice(device) : el('p', 'muted', `${tc('deviceId')}: ${id}`));
    return box;
  }

  /** The reporters' photos, each group labelled by its report, beside the evidence of the handling. */
  private photos(): HTMLElement {
    const box = el('section', 'case-photos');
    box.append(el('h3', undefined, tc('reportPhotos')));
    const reports = reportsOf(this.log).filter((r) => r.media.length > 0);
    const reportBox = el('div', 'report-photos');
    for (const report of reports) {
      const group = el('figure', 'report-media');
      group.dataset['eventId'] = report.eventId;
      group.dataset['first'] = report.first ? '1' : '0';
      const label = [
        report.first ? tc('firstReport') : tc('laterReport'),
        eventTypeLabel(report.eventType),
        report.reporter,
        formatTime(report.reportedAt),
      ]
        .filter(Boolean)
        .join(' · ');
      const caption = el('figcaption', 'media-label', report.split ? `${label} (${tc('splitOff')})` : label);
      caption.title = report.description;
      group.append(caption, this.strip(report.media, label));
      reportBox.append(group);
    }
    if (reports.length === 0) reportBox.append(el('p', 'muted', tc('noReportPhotos')));
    box.append(reportBox);

    box.append(el('h3', undefined, tc('evidencePhotos')));
    const evidence = evidenceOf(this.log);
    const evidenceBox = el('div', 'evidence-photos');
    for (const entry of evidence) {
      const group = el('figure', 'report-media evidence-media');
      group.dataset['seq'] = String(entry.seq);
      const label = [logKindLabel(entry.kind), entry.stage ? stageLabel(entry.stage) : '', formatTime(entry.at)]
        .filter(Boolean)
        .join(' · ');
      group.append(el('figcaption', 'media-label', label), this.strip(entry.media, label));
      evidenceBox.append(group);
    }
    if (evidence.length === 0) evidenceBox.append(el('p', 'muted', tc('noEvidence')));
    box.append(evidenceBox);
    return box;
  }

  /** Photos as thumbnails, documents and videos as links, fetched with the bearer header. */
  private strip(items: MediaItem[], label: string): HTMLElement {
    const strip = el('div', 'photos');
    for (const item of items) {
      if (item.kind !== 'photo') {
        const name = item.kind === 'document' ? t('document') : tc('video');
        const a = el('a', 'doc', `${name} · ${item.caption || item.sha256.slice(0, 10)}`);
        a.target = '_blank';
        a.dataset['sha256'] = item.sha256;
        this.media.show(item.sha256, null, a);
        strip.append(a);
      } else {
        const a = el('a');
        a.target = '_blank';
        const img = el('img');
        img.alt = item.caption || `${t('photo')} · ${label}`;
        img.title = img.alt;
        img.dataset['sha256'] = item.sha256;
        a.append(img);
        this.media.show(item.sha256, img, a);
        strip.append(a);
      }
    }
    return strip;
  }

  private timeline(): HTMLElement {
    const box = el('section', 'timeline-box');
    box.append(el('h3', undefined, tc('timeline')));
    const ol = el('ol', 'timeline');
    for (const entry of this.log) {
      const li = el('li', `tl-${entry.kind}`);
      li.dataset['kind'] = entry.kind;
      const head = el('div', 'tl-head');
      head.append(
        el('span', 'tl-kind', logKindLabel(entry.kind)),
        el('span', 'tl-time', formatTime(entry.at)),
      );
      li.append(head, el('div', 'tl-actor', entry.actor_id));
      const summary = summarize(entry);
      if (summary) li.append(el('div', 'tl-text', summary));
      ol.append(li);
    }
    box.append(ol);
    return box;
  }

  private actions(c: CaseView): HTMLElement {
    const box = el('section', 'actions');
    box.append(el('h3', undefined, tc('actions')));
    const actor = this.host.user.person_id;
    if (!actor) {
      box.append(el('p', 'muted acting', t('noPersonActions')));
      return box;
    }
    const who = el('p', 'muted acting', `${tc('actAs')}: ${this.host.actorName()} (${actor})`);
    box.append(who);
    const forms: HTMLElement[] = [];
    const s = c.state;
    if (!FINAL_STATES.has(s)) forms.push(this.assignForm(c), transferForm(c, this.shell('transfer', tc('transfer'))));
    if (!FINAL_STATES.has(s)) forms.push(this.reasonForm('supervise', tc('supervise'), c));
    if (c.extension_until && !FINAL_STATES.has(s)) forms.push(this.extensionForm(c));
    if (s === 'submitted') forms.push(this.checkForm(c));
    if (s === 'checked') forms.push(this.simpleForm('close', tc('closeCase'), c));
    if (!FINAL_STATES.has(s)) forms.push(this.mergeForm(c));
    const attached = this.log.filter((e) => e.kind === 'attached');
    if (!FINAL_STATES.has(s) && attached.length) forms.push(this.splitForm(c, attached));
    if (!FINAL_STATES.has(s)) forms.push(this.reasonForm('cancel', tc('cancelCase'), c, 'danger'));
    if (s === 'closed' || s === 'cancelled') forms.push(this.reasonForm('reopen', tc('reopen'), c));
    box.append(...forms);
    return box;
  }

  /** Sends a command and shows its outcome in `form`. */
  private async send(form: HTMLElement, c: CaseView, body: CommandBody): Promise<void> {
    const out = form.querySelector<HTMLElement>('.outcome') ?? el('p', 'outcome');
    form.append(out);
    for (const b of form.querySelectorAll('button')) b.disabled = true;
    out.className = 'outcome';
    out.textContent = '…';
    try {
      await api.command(c.id, body);
      out.textContent = tc('applied');
      out.classList.add('ok');
      form.dataset['outcome'] = 'applied';
    } catch (error) {
      out.textContent = describe(error);
      out.classList.add('error');
      form.dataset['outcome'] = 'refused';
    } finally {
      for (const b of form.querySelectorAll('button')) b.disabled = false;
    }
  }

  private shell(kind: string, title: string): HTMLFormElement {
    const form = el('form', 'act-form');
    form.dataset['action'] = kind;
    const details = el('details');
    const summary = el('summary', undefined, title);
    details.append(summary);
    form.append(details);
    return form;
  }

  private body(form: HTMLFormElement): HTMLElement {
    return form.querySelector('details') as HTMLElement;
  }

  private simpleForm(kind: 'close', title: string, c: CaseView): HTMLElement {
    const form = this.shell(kind, title);
    const note = el('input');
    note.name = 'note';
    const go = el('button', 'primary', title);
    go.type = 'submit';
    this.body(form).append(field(t('note'), note), go);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.send(form, c, { kind, note: note.value });
    });
    return form;
  }

  private reasonForm(
    kind: 'supervise' | 'cancel' | 'reopen',
    title: string,
    c: CaseView,
    style = 'primary',
  ): HTMLElement {
    const form = this.shell(kind, title);
    const reason = el('input');
    reason.name = 'reason';
    reason.required = true;
    reason.maxLength = 500;
    const go = el('button', style, title);
    go.type = 'submit';
    this.body(form).append(field(t('reason'), reason), go);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.send(form, c, { kind, reason: reason.value.trim() });
    });
    return form;
  }

  private assignForm(c: CaseView): HTMLElement {
    const form = this.shell('assign', tc('assign'));
    const target = select('assignee-select', [['', '…']]);
    target.name = 'assignee';
    const reason = el('input');
    reason.name = 'reason';
    reason.required = true;
    const go = el('button', 'primary', tc('assign'));
    go.type = 'submit';
    this.body(form).append(field(t('assignee'), target), field(t('reason'), reason), go);
    const options = new Map<string, Assignee>();
    void Promise.all([
      c.township_code ? api.teams(c.township_code) : Promise.resolve([]),
      c.grid_code ? api.people({ unit: c.grid_code, role: 'grid_member' }) : Promise.resolve([] as Person[]),
    ]).then(([teams, members]) => {
      for (const m of members) options.set(m.id, { kind: 'grid_member', id: m.id, name: m.name });
      for (const team of teams) {
        options.set(team.id, { kind: team.kind === 'enforcement' ? 'team' : 'agency', id: team.id, name: team.name });
      }
      target.replaceChildren(
        ...[...options.values()].map((a) => {
          const o = el('option', undefined, `${a.name} · ${assigneeKindLabel(a.kind)}`);
          o.value = a.id;
          return o;
        }),
      );
      if (c.assignee && options.has(c.assignee.id)) target.value = c.assignee.id;
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const assignee = options.get(target.value);
      if (!assignee) return;
      void this.send(form, c, {
        kind: 'assign',
        assignee: { kind: assignee.kind, id: assignee.id },
        reason: reason.value.trim(),
      });
    });
    return form;
  }

  private extensionForm(c: CaseView): HTMLElement {
    const form = this.shell('decide_extension', tc('decideExtension'));
    const note = el('input');
    note.name = 'note';
    const grant = button('primary', tc('grant'), () =>
      void this.send(form, c, { kind: 'decide_extension', granted: true, note: note.value }),
    );
    const refuse = button('danger', tc('refuse'), () =>
      void this.send(form, c, { kind: 'decide_extension', granted: false, note: note.value }),
    );
    const row = el('div', 'row');
    row.append(grant, refuse);
    this.body(form).append(
      el('p', 'muted', `${tc('extensionAsked')} ${formatTime(c.extension_until)}`),
      field(t('note'), note),
      row,
    );
    form.addEventListener('submit', (e) => e.preventDefault());
    return form;
  }

  private checkForm(c: CaseView): HTMLElement {
    const form = this.shell('check', tc('check'));
    const note = el('input');
    note.name = 'note';
    const pass = button('primary', tc('passed'), () =>
      void this.send(form, c, { kind: 'check', passed: true, note: note.value }),
    );
    const rework = button('danger', tc('rework'), () =>
      void this.send(form, c, { kind: 'check', passed: false, note: note.value }),
    );
    const row = el('div', 'row');
    row.append(pass, rework);
    this.body(form).append(field(t('note'), note), row);
    form.addEventListener('submit', (e) => e.preventDefault());
    return form;
  }

  private mergeForm(c: CaseView): HTMLElement {
    const form = this.shell('merge', tc('merge'));
    const others = this.host
      .openCases()
      .filter((o) => o.id !== c.id && o.township_code === c.township_code)
      .sort((a, b) => distance(a, c) - distance(b, c))
      .slice(0, 30);
    const into = select(
      'merge-select',
      others.map((o): [string, string] => [
        o.id,
        `${categoryLabel(o.category)} · ${o.grid_name ?? ''} · ${formatTime(o.opened_at)} · ${o.id.slice(0, 8)}`,
      ]),
    );
    into.name = 'into';
    const reason = el('input');
    reason.name = 'reason';
    const go = el('button', 'primary', tc('merge'));
    go.type = 'submit';
    this.body(form).append(field(tc('caseId'), into), field(t('reason'), reason), go);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!into.value) return;
      void this.send(form, c, { kind: 'merge', into: into.value, reason: reason.value });
    });
    return form;
  }

  private splitForm(c: CaseView, attached: LogEntry[]): HTMLElement {
    const form = this.shell('split', tc('split'));
    const events = attached.map((e): [string, string] => {
      const source = (e.payload['source'] ?? {}) as Record<string, unknown>;
      const id = String(source['event_id'] ?? '');
      return [id, `${eventTypeLabel(String(source['event_type'] ?? ''))} · ${String(source['description'] ?? '')} · ${id.slice(0, 8)}`];
    });
    const which = select('split-select', events);
    which.name = 'event';
    const reason = el('input');
    reason.name = 'reason';
    const go = el('button', 'primary', tc('split'));
    go.type = 'submit';
    this.body(form).append(field(tc('eventId'), which), field(t('reason'), reason), go);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!which.value) return;
      void this.send(form, c, { kind: 'split', event_id: which.value, reason: reason.value });
    });
    return form;
  }
}

function wrap<K extends keyof HTMLElementTagNameMap>(tag: K, child: HTMLElement): HTMLElementTagNameMap[K] {
  const node = el(tag);
  node.append(child);
  return node;
}

function distance(a: CaseView, b: CaseView): number {
  return Math.hypot(a.lon - b.lon, a.lat - b.lat);
}


function text(value: unknown): string {
  return typeof value === 'string' ? value : value === null || value === undefined ? '' : JSON.stringify(value);
}

/** One line on what a log entry says, in the page's language. */
export function summarize(entry: LogEntry): string {
  const p = entry.payload;
  switch (entry.kind) {
    case 'registered':
    case 'attached': {
      const s = (p['source'] ?? {}) as Record<string, unknown>;
      return [eventTypeLabel(text(s['event_type'])), text(s['description']), text(s['reporter_id'])]
        .filter(Boolean)
        .join(' · ');
    }
    case 'dispatched': {
      const a = p['assignee'] as Assignee | undefined;
      return [a ? `→ ${a.name}` : '', text(p['reason'])].filter(Boolean).join(' · ');
    }
    case 'verified':
      return p['basis'] === 'reporter_report' ? tc('selfReportVerified') : text(p['finding']);
    case 'submitted':
      return text(p['summary']);
    case 'checked':
      return `${p['passed'] ? tc('passed') : tc('rework')} ${text(p['note'])}`.trim();
    case 'supervised':
      return `L${text(p['level'])} ${text(p['reason'])}`;
    case 'extension_requested':
      return `${formatTime(text(p['until']))} · ${text(p['reason'])}`;
    case 'extension_decided':
      return `${p['granted'] ? tc('grant') : tc('refuse')} ${text(p['note'])}`.trim();
    case 'stage':
      return `${stageLabel(text(p['stage']))} · ${((p['officers'] ?? []) as string[]).join(', ')} ${text(p['note'])}`.trim();
    case 'reviewed':
      return `${p['approved'] ? '✔' : '✘'} ${text(p['opinion'])}`;
    case 'merged':
      return `→ ${text(p['into']).slice(0, 8)} ${text(p['reason'])}`.trim();
    case 'split':
      return `${text(p['event_id']).slice(0, 8)} ${text(p['reason'])}`.trim();
    case 'returned':
    case 'cancelled':
    case 'reopened':
    case 'transferred':
      return text(p['reason']);
    case 'closed':
    case 'started':
      return text(p['note']);
    default:
      return '';
  }
}
