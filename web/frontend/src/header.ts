// Top bar: product title, live-connection indicator, language switch.

import { t } from './i18n';
import type { LiveStatus } from './live';

const STATUS_TEXT = { open: 'wsOpen', connecting: 'wsConnecting', closed: 'wsClosed' } as const;

export class Header {
  private readonly title = document.createElement('h1');
  private readonly status = document.createElement('span');
  private readonly langButton = document.createElement('button');
  private current: LiveStatus = 'connecting';

  constructor(root: HTMLElement, onToggleLang: () => void) {
    root.classList.add('topbar');
    this.title.className = 'title';
    this.status.className = 'conn';
    this.status.setAttribute('role', 'status');
    this.langButton.className = 'lang-switch';
    this.langButton.type = 'button';
    this.langButton.addEventListener('click', onToggleLang);
    const spacer = document.createElement('div');
    spacer.className = 'spacer';
    root.append(this.title, spacer, this.status, this.langButton);
    this.refreshLanguage();
  }

  setStatus(status: LiveStatus): void {
    this.current = status;
    this.status.dataset['status'] = status;
    this.status.textContent = t(STATUS_TEXT[status]);
  }

  refreshLanguage(): void {
    this.title.textContent = t('title');
    document.title = t('title');
    this.langButton.textContent = t('langSwitch');
    this.langButton.title = t('langSwitchHint');
    this.setStatus(this.current);
  }
}
