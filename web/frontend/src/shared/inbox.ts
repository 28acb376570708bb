// The inbox of every page: a 消息 button with the unread count in the top bar, and a list of the
// notices addressed to me (dispatches, returns, 督办, review requests, extension decisions, deadlines
// about to pass), newest first. New notices arrive live (`receive`); the list is read again whenever
// the live channel reconnects and whenever the page comes back from the background, so a notice that
// arrived meanwhile is there when the person looks. Opening a notice marks it read.

import { api, type Notice } from './api';
import { button, el } from './dom';
import { dictionary, getLang } from './i18n';

const ti = dictionary({
  inbox: { zh: '消息', en: 'Inbox' },
  inboxTitle: { zh: '我的消息', en: 'My notices' },
  markAllRead: { zh: '全部已读', en: 'Mark all read' },
  noNotices: { zh: '暂无消息', en: 'No notices' },
  unreadCount: { zh: '{n}条未读', en: '{n} unread' },
  close: { zh: '关闭', en: 'Close' },
  loadFailed: { zh: '消息加载失败', en: 'Could not load notices' },
});

const KIND: Record<string, { zh: string; en: string }> = {
  dispatched: { zh: '派遣', en: 'Dispatch' },
  returned: { zh: '退回', en: 'Return' },
  supervised: { zh: '督办', en: 'Supervision' },
  review_requested: { zh: '法制审核', en: 'Legal review' },
  extension_requested: { zh: '延期申请', en: 'Extension asked' },
  extension_decided: { zh: '延期决定', en: 'Extension decided' },
  deadline: { zh: '即将超时', en: 'Deadline near' },
};

const PAGE = 50;

export interface InboxOptions {
  /** Called when a notice is opened, with its case (the page shows the case). */
  onOpen?: (notice: Notice) => void;
  /** Called when a notice arrives live (the page may cue the person). */
  onArrive?: (notice: Notice) => void;
}

export class InboxButton {
  readonly root = el('div', 'inbox');
  private readonly toggle = el('button', 'inbox-button');
  private readonly label = el('span', 'inbox-label');
  private readonly badge = el('span', 'inbox-badge');
  private readonly panel = el('div', 'inbox-panel');
  private readonly list = el('ol', 'inbox-list');
  private readonly heading = el('h3', 'inbox-heading');
  private readonly allRead: HTMLButtonElement;
  private readonly closeButton: HTMLButtonElement;
  private notices: Notice[] = [];
  private unread = 0;
  private failed = false;

  constructor(private readonly options: InboxOptions = {}) {
    this.toggle.type = 'button';
    this.toggle.append(this.label, this.badge);
    this.toggle.addEventListener('click', () => this.setOpen(this.panel.hidden !== false));
    this.allRead = button('inbox-all-read', '', () => void this.markAll());
    this.closeButton = button('inbox-close', '', () => this.setOpen(false));
    const bar = el('div', 'inbox-bar');
    bar.append(this.heading, this.allRead, this.closeButton);
    this.panel.append(bar, this.list);
    this.panel.hidden = true;
    this.panel.setAttribute('role', 'dialog');
    this.root.append(this.toggle, this.panel);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') void this.reload();
    });
    this.render();
  }

  /** Reads my notices again (at start, after a reconnect, back from the background). */
  async reload(): Promise<void> {
    try {
      const page = await api.inbox({ limit: PAGE });
      this.notices = page.items;
      this.unread = page.unread;
      this.failed = false;
    } catch {
      this.failed = true;
    }
    this.render();
  }

  /** A notice that arrived on the live channel. */
  receive(notice: Notice): void {
    if (this.notices.some((n) => n.id === notice.id)) return;
    this.notices = [notice, ...this.notices].sort((a, b) => b.id - a.id).slice(0, PAGE);
    if (!notice.read_at) this.unread++;
    this.render();
    this.options.onArrive?.(notice);
  }

  /** The texts again in the current language. */
  refreshLanguage(): void {
    this.render();
  }

  private setOpen(open: boolean): void {
    this.panel.hidden = !open;
    this.toggle.setAttribute('aria-expanded', String(open));
    if (open) void this.reload();
  }

  private async open(notice: Notice): Promise<void> {
    this.options.onOpen?.(notice);
    if (notice.read_at) return;
    try {
      const marked = await api.markRead({ ids: [notice.id] });
      this.notices = this.notices.map((n) => (n.id === notice.id ? { ...n, read_at: new Date().toISOString() } : n));
      this.unread = marked.unread;
    } catch {
      return;
    }
    this.render();
  }

  private async markAll(): Promise<void> {
    try {
      const marked = await api.markRead({ all: true });
      const now = new Date().toISOString();
      this.notices = this.notices.map((n) => (n.read_at ? n : { ...n, read_at: now }));
      this.unread = marked.unread;
    } catch {
      return;
    }
    this.render();
  }

  private render(): void {
    const zh = getLang() === 'zh';
    this.label.textContent = ti('inbox');
    this.badge.textContent = this.unread > 99 ? '99+' : String(this.unread);
    this.badge.hidden = this.unread === 0;
    this.toggle.dataset['unread'] = String(this.unread);
    this.toggle.title = ti('unreadCount').replace('{n}', String(this.unread));
    this.heading.textContent = ti('inboxTitle');
    this.allRead.textContent = ti('markAllRead');
    this.allRead.disabled = this.unread === 0;
    this.closeButton.textContent = ti('close');
    document.body.dataset['unread'] = String(this.unread);
    if (this.failed && !this.notices.length) {
      this.list.replaceChildren(el('li', 'inbox-empty error', ti('loadFailed')));
      return;
    }
    if (!this.notices.length) {
      this.list.replaceChildren(el('li', 'inbox-empty', ti('noNotices')));
      return;
    }
    this.list.replaceChildren(
      ...this.notices.map((n) => {
        const item = el('li', `inbox-item${n.read_at ? '' : ' unread'}`);
        item.dataset['noticeId'] = String(n.id);
        item.dataset['caseId'] = n.case_id;
        item.dataset['kind'] = n.kind;
        const kind = KIND[n.kind];
        const when = new Date(n.created_at).toLocaleString(zh ? 'zh-CN' : 'en-GB', {
          timeZone: 'Asia/Shanghai',
          month: '2-digit',
          day: '2-digit',
          hour: '2-digit',
          minute: '2-digit',
        });
        item.append(
          el('span', 'inbox-kind', kind ? kind[zh ? 'zh' : 'en'] : n.kind),
          el('span', 'inbox-time', when),
          el('p', 'inbox-text', zh ? n.text_zh : n.text_en),
        );
        item.tabIndex = 0;
        item.addEventListener('click', () => void this.open(n));
        item.addEventListener('keydown', (e) => {
          if (e.key === 'Enter') void this.open(n);
        });
        return item;
      }),
    );
  }
}
