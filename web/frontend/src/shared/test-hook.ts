// What a page shows to browser tests: `window.__app` (the map, stores, clients) and
// `body[data-ready="1"]` once the page has drawn what it loads at start.

declare global {
  interface Window {
    __app?: Record<string, unknown>;
  }
}

export function exposeForTests(hooks: Record<string, unknown>): void {
  window.__app = hooks;
  document.body.dataset['ready'] = '1';
}
