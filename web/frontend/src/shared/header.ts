// Top bar of every page: title, who is signed in, live-connection indicator, language switch.

import { el } from './dom';
import { t, toggleLang } from './i18n';
import type { LiveStatus } from './live';

const STATUS_TEXT = { open: 'wsOpen', connecting: 'wsConnecting', closed: 'wsClosed' } as const;

export class Header {
  private readonly title = el('h1', 'title');
  private readonly person = el('span', 'person');
  private readonly status = el('span', 'conn');
  private readonly langButton = el('button', 'lang-switch');
  private current: LiveStatus = 'connecting';
  private personText: (() => string) | null = null;

  constructor(
    root: HTMLElement,
    private readonly titleText: () => string,
    onPersonClick?: () => void,
  ) {
    root.classList.add('topbar');
    this.status.setAttribute('role', 'status');
    this.langButton.type = 'button';
    this.langButton.addEventListener('click', toggleLang);
    if (onPersonClick) {
      this.person.tabIndex = 0;
      this.person.addEventListener('click', onPersonClick);
    }
    this.person.hidden = true;
    root.append(this.title, el('div', 'spacer'), this.person, this.status, this.langButton);
    this.refreshLanguage();
  }

  setStatus(status: LiveStatus): void {
    this.current = status;
    this.status.dataset['status'] = status;
    this.status.textContent = t(STATUS_TEXT[status]);
    document.body.dataset['ws'] = status === 'open' ? 'open' : 'closed';
  }

  setPerson(text: () => string): void {
    this.personText = text;
    this.person.hidden = false;
    this.person.textContent = text();
  }

  refreshLanguage(): void {
    this.title.textContent = this.titleText();
    document.title = this.titleText();
    this.langButton.textContent = t('langSwitch');
    this.langButton.title = t('langSwitchHint');
    if (this.personText) this.person.textContent = this.personText();
    this.setStatus(this.current);
  }
}
