// The dispatcher's transfer (移交) of an open case, in any open state, to another grid of the township: the grid's
// member takes it over where it stands (its state and its clock are kept). POST /api/v1/cases/{id}/transfer; the
// assignee's name comes from the registry.

import { api, describeError, type CaseView } from '../../shared/api';
import { el, field, select } from '../../shared/dom';
import { t } from '../../shared/i18n';
import { tc } from './texts';

/** Fills `form` (a collapsed action shell) with the grid picker and the reason, and sends the transfer. */
export function transferForm(c: CaseView, form: HTMLFormElement): HTMLFormElement {
  const target = select('transfer-grid', [['', '…']]);
  target.name = 'grid_code';
  const reason = el('input');
  reason.name = 'reason';
  reason.required = true;
  reason.maxLength = 500;
  const go = el('button', 'primary', tc('transfer'));
  go.type = 'submit';
  const out = el('p', 'outcome');
  const body = form.querySelector('details') as HTMLElement;
  body.append(field(tc('transferGrid'), target), field(t('reason'), reason), go, out);
  if (c.township_code) {
    void api.people({ unit: c.township_code, role: 'grid_member', limit: 500 }).then((members) => {
      const options = members.flatMap((m) =>
        m.posts
          .filter((p) => p.valid_to === null)
          .map((p) => {
            const o = el('option', undefined, `${p.grid_code} · ${m.name}`);
            o.value = p.grid_code;
            return o;
          }),
      );
      target.replaceChildren(...options);
      if (c.grid_code) target.value = c.grid_code;
    });
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!target.value) return;
    go.disabled = true;
    out.className = 'outcome';
    out.textContent = '…';
    api
      .transfer(c.id, { grid_code: target.value, reason: reason.value.trim() })
      .then(() => {
        out.textContent = tc('applied');
        out.classList.add('ok');
        form.dataset['outcome'] = 'applied';
      })
      .catch((error: unknown) => {
        out.textContent = describeError(error);
        out.classList.add('error');
        form.dataset['outcome'] = 'refused';
      })
      .finally(() => (go.disabled = false));
  });
  return form;
}
