// The assignee's moves on a case, shared by the phone pages (a grid worker's own cases, an officer's team's):
// accept, or return with a reason (also after accepting, until the result is submitted); verify with the finding and photos; start; submit the result with photos;
// ask for more time. Each goes to POST /api/v1/cases/{id}/commands as the signed-in person; what the server
// refuses is shown in words. Pages add their own forms for an in-progress case (the officer's enforcement
// stages) through `inProgress`.

import { api, describeError, type CaseView, type CommandBody, type Evidence } from './api';
import { button, el, field, toast } from './dom';
import { dictionary, fill, formatDue, formatTime, getLang, shanghaiDay, stepLabel, t } from './i18n';

export const ta = dictionary({
  act: { zh: '办理', en: 'Act' },
  accept: { zh: '接收', en: 'Accept' },
  return: { zh: '退回', en: 'Return' },
  returnReason: { zh: '退回原因（如：不属于本人/本队职责）', en: 'Why (e.g. not ours)' },
  verify: { zh: '核查', en: 'Verify' },
  finding: { zh: '核查情况', en: 'Finding' },
  start: { zh: '开始处置', en: 'Start handling' },
  evidence: { zh: '证据（照片、文书）', en: 'Evidence (photos, documents)' },
  photos: { zh: '现场照片', en: 'Photos' },
  uploading: { zh: '上传中…', en: 'Uploading…' },
  waitUploads: { zh: '请等待上传完成', en: 'Wait for the uploads to finish' },
  needPhoto: { zh: '请至少上传一张照片', en: 'Add at least one photo' },
  submit: { zh: '提交办理结果', en: 'Submit result' },
  summary: { zh: '办理结果', en: 'Result' },
  extension: { zh: '申请延期', en: 'Ask for more time' },
  until: { zh: '延期至', en: 'Until' },
  currentDue: { zh: '当前办结时限', en: 'Current deadline' },
  extensionPending: { zh: '已申请延期至 {until}，待审批', en: 'More time asked until {until}, awaiting a decision' },
  laterThanDue: { zh: '延期时间须晚于当前办结时限', en: 'Pick a time after the current deadline' },
  waitingCheck: { zh: '已提交，等待验收', en: 'Submitted: waiting to be checked' },
});

/** States in which the assignee has a move to make. */
export const ACTIONABLE = new Set(['dispatched', 'accepted', 'verified', 'in_progress']);
/** States in which the case is the assignee's to work on (after accepting, before it is closed). */
export const IN_HAND = new Set(['accepted', 'verified', 'in_progress', 'submitted', 'checked']);

/** Sends a command as the signed-in person; says the outcome in a toast (and `out`). */
export async function runCommand(c: CaseView, body: CommandBody, out?: HTMLElement): Promise<boolean> {
  try {
    await api.command(c.id, body);
    toast(t('done'));
    if (out) out.textContent = '';
    return true;
  } catch (error) {
    const text = describeError(error);
    if (out) out.textContent = text;
    toast(text, 'error', 6000);
    return false;
  }
}

export interface EvidencePicker {
  box: HTMLElement;
  value(): Evidence[];
  busy(): boolean;
}

/** A file input whose files are uploaded at once (POST /api/v1/media); `value()` lists the stored evidence. */
export function evidencePicker(label: string = ta('evidence'), accept = 'image/*,application/pdf'): EvidencePicker {
  const input = el('input');
  input.type = 'file';
  input.name = 'evidence';
  input.accept = accept;
  input.setAttribute('capture', 'environment');
  input.multiple = true;
  const list = el('div', 'photos evidence-list');
  const items: Evidence[] = [];
  let uploading = 0;
  input.addEventListener('change', () => {
    for (const file of [...(input.files ?? [])]) {
      uploading++;
      const chip = el('span', 'chip', `${file.name} · ${ta('uploading')}`);
      list.append(chip);
      void api
        .uploadMedia(file)
        .then((stored) => {
          items.push({ sha256: stored.sha256, kind: stored.kind, caption: file.name.slice(0, 200) });
          chip.textContent = `${stored.kind === 'document' ? t('document') : t('photo')} · ${file.name}`;
          chip.dataset['sha256'] = stored.sha256;
        })
        .catch((error: unknown) => {
          chip.textContent = `${file.name}: ${describeError(error)}`;
          chip.classList.add('error');
        })
        .finally(() => uploading--);
    }
    input.value = '';
  });
  const box = el('div');
  box.append(field(label, input), list);
  return { box, value: () => [...items], busy: () => uploading > 0 };
}

export interface AssigneeActionsOptions {
  /** Whether the case is dispatched to the signed-in person (or their team). */
  mine(c: CaseView): boolean;
  /** Draw the page again (a panel opened or closed). */
  redraw(): void;
  /** The forms of an in-progress case; by default, submitting the result. */
  inProgress?(c: CaseView): HTMLElement[];
  /** Extra state the open panel depends on, so it is rebuilt when it changes. */
  panelKey?(c: CaseView): string;
  /** A card was touched (e.g. to stop highlighting it). */
  touched?(id: string): void;
}

/** The buttons and the action panel of the assignee's case cards. */
export class AssigneeActions {
  /** The case whose action panel is open. */
  expanded: string | null = null;
  /** The open panel survives redraws (its typed text and uploaded photos) while the case's step is the same. */
  private cache: { id: string; key: string; node: HTMLElement } | null = null;

  constructor(private readonly options: AssigneeActionsOptions) {}

  /** Adds the case's moves to its card, if it is the person's to act on. */
  decorate(card: HTMLElement, c: CaseView): void {
    card.classList.toggle('expanded', this.expanded === c.id);
    if (!this.options.mine(c) || !ACTIONABLE.has(c.state)) {
      if (this.options.mine(c) && c.state === 'submitted') card.append(el('p', 'muted', ta('waitingCheck')));
      return;
    }
    const actions = el('div', 'card-actions');
    if (c.state === 'dispatched') {
      actions.append(
        button('primary accept', ta('accept'), () => void runCommand(c, { kind: 'accept' })),
        button('danger return-open', ta('return'), () => this.toggle(c.id)),
      );
    } else {
      actions.append(button('secondary more', `${ta('act')} ▾`, () => this.toggle(c.id)));
    }
    card.append(actions);
    card.addEventListener('click', () => this.options.touched?.(c.id), { once: true });
    if (this.expanded === c.id) card.append(this.panel(c));
  }

  toggle(id: string): void {
    this.expanded = this.expanded === id ? null : id;
    this.options.touched?.(id);
    this.options.redraw();
  }

  /** A case left the page: forget its panel. */
  forget(id: string): void {
    if (this.expanded === id) this.expanded = null;
    if (this.cache?.id === id) this.cache = null;
  }

  private panel(c: CaseView): HTMLElement {
    const key = [
      c.state,
      c.stages_done?.length ?? 0,
      c.extension_until ?? '',
      c.review_status ?? '',
      getLang(),
      this.options.panelKey?.(c) ?? '',
    ].join(':');
    if (this.cache?.id !== c.id || this.cache.key !== key) this.cache = { id: c.id, key, node: this.panelFor(c) };
    return this.cache.node;
  }

  /** The forms of the case's next moves, under its step deadline. */
  private panelFor(c: CaseView): HTMLElement {
    const panel = el('div', 'case-panel');
    if (c.step_due_at) {
      const due = `${formatTime(c.step_due_at)} (${formatDue(c.step_due_at)})`;
      panel.append(el('p', 'step-deadline', `${stepLabel(c.step ?? '')} · ${t('stepDue')}: ${due}`));
    }
    if (c.state === 'accepted') panel.append(verifyForm(c));
    if (c.state === 'verified') {
      panel.append(button('primary wide start', ta('start'), () => void runCommand(c, { kind: 'start', note: '' })));
    }
    if (c.state === 'in_progress') panel.append(...(this.options.inProgress?.(c) ?? [submitForm(c)]));
    if (['accepted', 'verified', 'in_progress'].includes(c.state)) panel.append(extensionForm(c));
    if (['dispatched', 'accepted', 'verified', 'in_progress'].includes(c.state)) panel.append(returnForm(c));
    return panel;
  }
}

function returnForm(c: CaseView): HTMLElement {
  const form = el('form', 'act-form form-return');
  const reason = el('input');
  reason.name = 'reason';
  reason.required = true;
  reason.maxLength = 500;
  const out = el('p', 'error');
  const go = el('button', 'danger', ta('return'));
  go.type = 'submit';
  form.append(field(ta('returnReason'), reason), go, out);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = reason.value.trim();
    if (text) void runCommand(c, { kind: 'return', reason: text }, out);
  });
  return form;
}

function verifyForm(c: CaseView): HTMLElement {
  const form = el('form', 'act-form form-verify');
  const finding = el('input');
  finding.name = 'finding';
  finding.required = true;
  finding.maxLength = 500;
  const evidence = evidencePicker(ta('photos'));
  const out = el('p', 'error');
  const go = el('button', 'primary', ta('verify'));
  go.type = 'submit';
  form.append(field(ta('finding'), finding), evidence.box, go, out);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = finding.value.trim();
    if (!text) return;
    if (evidence.busy()) {
      out.textContent = ta('waitUploads');
      return;
    }
    void runCommand(c, { kind: 'verify', finding: text, evidence: evidence.value() }, out);
  });
  return form;
}

/** Submitting the result, with at least one photo or document. */
export function submitForm(c: CaseView): HTMLElement {
  const form = el('form', 'act-form form-submit');
  const summary = el('input');
  summary.name = 'summary';
  summary.required = true;
  summary.maxLength = 500;
  const evidence = evidencePicker();
  const out = el('p', 'error');
  const go = el('button', 'primary wide', ta('submit'));
  go.type = 'submit';
  form.append(field(ta('summary'), summary), evidence.box, go, out);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = summary.value.trim();
    if (!text) return;
    if (evidence.busy()) {
      out.textContent = ta('waitUploads');
      return;
    }
    const items = evidence.value();
    if (items.length === 0) {
      out.textContent = ta('needPhoto');
      return;
    }
    void runCommand(c, { kind: 'submit', summary: text, evidence: items }, out);
  });
  return form;
}

/** "YYYY-MM-DDTHH:MM" of a moment in Asia/Shanghai (for datetime-local inputs). */
function shanghaiLocal(iso: string): string {
  const date = new Date(iso);
  const time = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Asia/Shanghai',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(date);
  return `${shanghaiDay(date)}T${time}`;
}

function extensionForm(c: CaseView): HTMLElement {
  const form = el('details', 'act-form form-extension');
  form.append(el('summary', undefined, ta('extension')));
  if (c.extension_until) {
    form.append(el('p', 'muted', fill(ta('extensionPending'), { until: formatTime(c.extension_until) })));
    return form;
  }
  if (c.due_at) form.append(el('p', 'muted', `${ta('currentDue')}: ${formatTime(c.due_at)} (${formatDue(c.due_at)})`));
  const until = el('input');
  until.type = 'datetime-local';
  until.name = 'until';
  if (c.due_at) until.min = shanghaiLocal(c.due_at);
  const reason = el('input');
  reason.name = 'reason';
  reason.maxLength = 500;
  const out = el('p', 'error');
  const go = button('secondary', ta('extension'), () => {
    if (!until.value || !reason.value.trim()) return;
    const moment = new Date(`${until.value}:00+08:00`);
    if (c.due_at && moment.getTime() <= Date.parse(c.due_at)) {
      out.textContent = ta('laterThanDue');
      return;
    }
    void runCommand(c, { kind: 'request_extension', until: moment.toISOString(), reason: reason.value.trim() }, out);
  });
  form.append(field(ta('until'), until), field(t('reason'), reason), go, out);
  return form;
}
