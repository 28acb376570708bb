// A modal dialog that asks for a note before an action (dismissing or retrying a queue item), runs the
// action, and keeps the dialog open with the error in words when the server refuses.

import { el } from '../../shared/dom';
import { t } from '../../shared/i18n';
import { tc } from './texts';

export interface NoteRequest {
  /** What is about to happen, e.g. "忽略该事件". */
  title: string;
  /** The item, in one or two lines. */
  summary: string;
  confirm: string;
  danger?: boolean;
  /** A note is required (dismissing); otherwise it is optional. */
  noteRequired: boolean;
  /** Does the action; throws to keep the dialog open. */
  run(note: string): Promise<void>;
  /** The error in words. */
  describe(error: unknown): string;
  /** Marks the dialog for tests (data-action). */
  action: string;
}

/** Shows the dialog; resolves true once the action succeeded, false when cancelled. */
export function askNote(request: NoteRequest): Promise<boolean> {
  const dialog = el('dialog', 'note-dialog');
  dialog.dataset['action'] = request.action;
  const form = el('form');
  form.method = 'dialog';
  form.noValidate = true; // the note's absence is said in words below, not by the browser's bubble
  const note = el('textarea');
  note.name = 'note';
  note.rows = 3;
  note.maxLength = 500;
  note.required = request.noteRequired;
  note.placeholder = request.noteRequired ? tc('noteRequired') : tc('noteOptional');
  const error = el('p', 'error dialog-error');
  error.setAttribute('role', 'alert');
  const confirm = el('button', request.danger ? 'danger confirm' : 'primary confirm', request.confirm);
  confirm.type = 'submit';
  const cancel = el('button', 'secondary cancel', t('cancel'));
  cancel.type = 'button';
  const buttons = el('div', 'dialog-buttons');
  buttons.append(cancel, confirm);
  const label = el('label', 'field');
  label.append(el('span', 'field-label', request.noteRequired ? `${t('note')} *` : t('note')), note);
  form.append(el('h3', 'dialog-title', request.title), el('p', 'dialog-summary', request.summary), label, error, buttons);
  dialog.append(form);
  document.body.append(dialog);

  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    cancel.addEventListener('click', () => finish(false));
    note.addEventListener('input', () => {
      if (note.value.trim()) error.textContent = '';
    });
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      if (!confirm.disabled) finish(false);
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = note.value.trim();
      if (request.noteRequired && !text) {
        error.textContent = tc('noteRequired');
        note.focus();
        return;
      }
      confirm.disabled = true;
      cancel.disabled = true;
      error.textContent = '';
      dialog.dataset['busy'] = '1';
      void request
        .run(text)
        .then(() => finish(true))
        .catch((failure: unknown) => {
          error.textContent = request.describe(failure);
          dialog.dataset['error'] = '1';
        })
        .finally(() => {
          confirm.disabled = false;
          cancel.disabled = false;
          delete dialog.dataset['busy'];
        });
    });
    dialog.showModal();
    note.focus();
  });
}
