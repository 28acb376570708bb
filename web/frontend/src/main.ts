// Wiring: header, map, side panel, live feed and the two HTTP reads.

import './style.css';
import { fetchGrids, fetchUnrouted, type GridCollection, type LiveMessage } from './api';
import { CaseStore } from './cases';
import { Header } from './header';
import { onLangChange, t, toggleLang } from './i18n';
import { LiveClient, liveUrl, type LiveStatus } from './live';
import { CommandMap } from './map';
import { Panel } from './panel';

const LIST_LIMIT = 100;

declare global {
  interface Window {
    /** Test hook, set once the map has loaded and the grids are drawn. */
    __app?: { map: CommandMap['map']; cases: CaseStore['byId'] };
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function layout(): { header: HTMLElement; map: HTMLElement; panel: HTMLElement; toast: HTMLElement } {
  const app = document.getElementById('app');
  if (!app) throw new Error('#app is missing from index.html');
  const header = document.createElement('header');
  const main = document.createElement('main');
  main.className = 'layout';
  const mapWrap = document.createElement('div');
  mapWrap.className = 'map-wrap';
  const map = document.createElement('div');
  map.id = 'map';
  const toast = document.createElement('div');
  toast.className = 'toast';
  toast.hidden = true;
  mapWrap.append(map, toast);
  const panel = document.createElement('aside');
  main.append(mapWrap, panel);
  app.append(header, main);
  return { header, map, panel, toast };
}

const dom = layout();
const store = new CaseStore();
const header = new Header(dom.header, toggleLang);
const commandMap = new CommandMap(dom.map, (id) => store.get(id));
const panel = new Panel(dom.panel, {
  onSelectCase(id) {
    const c = store.get(id);
    if (c) commandMap.flyToCase(c);
  },
  onSelectPoint(lon, lat) {
    commandMap.flyTo(lon, lat);
  },
});

// ---- rendering: coalesce bursts of changes into one update per frame ----

let mapReady = false;
let renderQueued = false;

function render(): void {
  renderQueued = false;
  panel.setCases(store.latest(LIST_LIMIT), store.openCount());
  if (mapReady) commandMap.showCases(store.byId.values());
}

function scheduleRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(render);
}

store.onChange(scheduleRender);

onLangChange(() => {
  header.refreshLanguage();
  panel.refreshLanguage();
  commandMap.closePopup();
});

// ---- unrouted queue: refetch on demand, never two requests at once ----

let unroutedBusy = false;
let unroutedAgain = false;

async function refreshUnrouted(): Promise<void> {
  if (unroutedBusy) {
    unroutedAgain = true;
    return;
  }
  unroutedBusy = true;
  try {
    do {
      unroutedAgain = false;
      try {
        panel.setUnrouted({ kind: 'items', items: await fetchUnrouted() });
      } catch (error) {
        console.warn('unrouted queue', error);
        panel.setUnrouted({ kind: 'error' });
      }
    } while (unroutedAgain);
  } finally {
    unroutedBusy = false;
  }
}

// ---- live feed ----

function onLiveMessage(message: LiveMessage): void {
  switch (message.type) {
    case 'snapshot':
      store.replaceAll(message.cases);
      void refreshUnrouted(); // we may have missed queue changes while offline
      break;
    case 'case_changed':
      store.apply(message.case);
      break;
    case 'unrouted':
      void refreshUnrouted();
      break;
  }
}

function onLiveStatus(status: LiveStatus): void {
  document.body.dataset['ws'] = status === 'open' ? 'open' : 'closed';
  header.setStatus(status);
}

// ---- grids: retry until the API answers, then draw and declare the page ready ----

async function loadGrids(): Promise<GridCollection> {
  for (let attempt = 0; ; attempt++) {
    try {
      const grids = await fetchGrids();
      dom.toast.hidden = true;
      return grids;
    } catch (error) {
      console.warn('grids', error);
      dom.toast.textContent = t('loadFailed');
      dom.toast.hidden = false;
      await sleep(Math.min(1000 * 2 ** attempt, 10_000));
    }
  }
}

async function start(): Promise<void> {
  new LiveClient(liveUrl(), { onMessage: onLiveMessage, onStatus: onLiveStatus }).start();
  void refreshUnrouted();
  const [grids] = await Promise.all([loadGrids(), commandMap.loaded]);
  commandMap.showGrids(grids);
  mapReady = true;
  render();
  commandMap.map.once('idle', () => {
    window.__app = { map: commandMap.map, cases: store.byId };
    document.body.dataset['ready'] = '1';
  });
}

panel.setCases([], 0);
void start();
