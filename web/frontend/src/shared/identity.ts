// Who is using the page. There is no sign-in yet: the person id comes from `?as=<id>` or an
// earlier choice kept in localStorage, else from a small picker. Commands carry it as X-Actor.

import { api, type Person } from './api';
import { el } from './dom';
import { t } from './i18n';

const KEY = 'gridcmd.person';

function stored(page: string): string | null {
  const asked = new URLSearchParams(location.search).get('as');
  if (asked) return asked;
  try {
    return localStorage.getItem(`${KEY}.${page}`);
  } catch {
    return null;
  }
}

function remember(page: string, id: string): void {
  try {
    localStorage.setItem(`${KEY}.${page}`, id);
  } catch {
    // private mode: asked again next time
  }
}

export function forget(page: string): void {
  try {
    localStorage.removeItem(`${KEY}.${page}`);
  } catch {
    // nothing kept
  }
  const url = new URL(location.href);
  url.searchParams.delete('as');
  location.href = url.toString();
}

/**
 * The person using `page` ('worker', 'officer', 'command'), loaded from the API. Shows a picker
 * in `root` until a known person is chosen. `suggest` lists people to pick from.
 */
export async function whoAmI(
  page: string,
  root: HTMLElement,
  suggest: () => Promise<Person[]>,
): Promise<Person> {
  const id = stored(page);
  if (id) {
    try {
      const person = await api.person(id);
      remember(page, person.id);
      return person;
    } catch {
      // fall through to the picker
    }
  }
  return pick(page, root, suggest, id);
}

function pick(
  page: string,
  root: HTMLElement,
  suggest: () => Promise<Person[]>,
  tried: string | null,
): Promise<Person> {
  return new Promise((resolve) => {
    const form = el('form', 'picker');
    const heading = el('h2', undefined, t('pickPerson'));
    const input = el('input');
    input.name = 'person';
    input.placeholder = t('personId');
    input.autocomplete = 'off';
    input.value = tried ?? '';
    input.setAttribute('list', 'picker-people');
    const list = el('datalist');
    list.id = 'picker-people';
    const error = el('p', 'error');
    const go = el('button', 'primary', t('use'));
    go.type = 'submit';
    const choices = el('ul', 'picker-list');
    form.append(heading, input, list, go, error, choices);
    root.replaceChildren(form);

    const choose = async (id: string) => {
      try {
        const person = await api.person(id.trim());
        remember(page, person.id);
        form.remove();
        resolve(person);
      } catch {
        error.textContent = `${t('unknownPerson')}: ${id}`;
      }
    };
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (input.value.trim()) void choose(input.value);
    });
    void suggest()
      .then((people) => {
        for (const p of people) {
          const option = el('option');
          option.value = p.id;
          option.label = p.name;
          list.append(option);
          const li = el('li');
          const b = el('button', 'link', `${p.name} · ${p.id}`);
          b.type = 'button';
          b.dataset['personId'] = p.id;
          b.addEventListener('click', () => void choose(p.id));
          li.append(b);
          choices.append(li);
        }
      })
      .catch(() => undefined);
  });
}
