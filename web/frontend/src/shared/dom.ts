// Small DOM helpers. Text from data always goes in as text nodes, never as HTML.

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function button(className: string, text: string, onClick: (e: MouseEvent) => void): HTMLButtonElement {
  const b = el('button', className, text);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

/** A <select> of [value, label] options. */
export function select(
  className: string,
  options: Array<[string, string]>,
  value = '',
): HTMLSelectElement {
  const s = el('select', className);
  fillSelect(s, options, value);
  return s;
}

export function fillSelect(s: HTMLSelectElement, options: Array<[string, string]>, value = s.value): void {
  s.replaceChildren(
    ...options.map(([v, label]) => {
      const o = el('option', undefined, label);
      o.value = v;
      return o;
    }),
  );
  s.value = options.some(([v]) => v === value) ? value : (options[0]?.[0] ?? '');
}

/** A labelled form field: <label><span>text</span>control</label>. */
export function field(labelText: string, control: HTMLElement, className = 'field'): HTMLLabelElement {
  const label = el('label', className);
  const span = el('span', 'field-label', labelText);
  label.append(span, control);
  return label;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A short message at the bottom of the screen. */
export function toast(text: string, kind: 'ok' | 'error' = 'ok', ms = 3000): void {
  let box = document.querySelector<HTMLElement>('.toast-box');
  if (!box) {
    box = el('div', 'toast-box');
    box.setAttribute('role', 'status');
    document.body.append(box);
  }
  const item = el('div', `toast-item ${kind}`, text);
  box.append(item);
  setTimeout(() => item.remove(), ms);
}
