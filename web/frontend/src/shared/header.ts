// Top bar of every page: title, who is signed in, sign-out, live-connection indicator, language switch.

import { el } from './dom';
import { t, toggleLang } from './i18n';
import type { LiveStatus } from './live';

const STATUS_TEXT = { open: 'wsOpen', connecting: 'wsConnecting', closed: 'wsClosed' } as const;

export class Header {
  private readonly title = el('h1', 'title');
  private readonly person = el('span', 'person');
  private readonly signOutButton = el('button', 'sign-out');
  private readonly status = el('span', 'conn');
  private readonly langButton = el('button', 'lang-switch');
  private current: LiveStatus = 'connecting';
  private personText: (() => string) | null = null;

  constructor(
    root: HTMLElement,
    private readonly titleText: () => string,
  ) {
    root.classList.add('topbar');
    this.status.setAttribute('role', 'status');
    this.langButton.type = 'button';
    this.langButton.addEventListener('click', toggleLang);
    this.signOutButton.type = 'button';
    this.signOutButton.hidden = true;
    this.person.hidden = true;
    root.append(this.title, el('div', 'spacer'), this.person, this.signOutButton, this.status, this.langButton);
    this.refreshLanguage();
  }

  /** The page's title in the current language. */
  get pageTitle(): string {
    return this.titleText();
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

  /** Puts a control (the inbox button) in the bar, before the connection indicator. */
  addTool(node: HTMLElement): void {
    this.status.before(node);
  }

  /** Shows the sign-out button, which calls `onSignOut`. */
  enableSignOut(onSignOut: () => void): void {
    this.signOutButton.hidden = false;
    this.signOutButton.onclick = onSignOut;
  }

  refreshLanguage(): void {
    this.title.textContent = this.titleText();
    document.title = this.titleText();
    this.langButton.textContent = t('langSwitch');
    this.langButton.title = t('langSwitchHint');
    this.signOutButton.textContent = t('signOut');
    if (this.personText) this.person.textContent = this.personText();
    this.setStatus(this.current);
  }
}
