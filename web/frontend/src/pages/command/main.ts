// The command centre (/): header, map (a base map when configured, place names, field staff's shared positions,
// the layer switch), side panel (cases and the queues to resolve), case view, metrics and the 督办 board, fed by
// the live feed.

import '../../shared/base.css';
import './command.css';
import {
  api,
  isOverdue,
  type CaseView,
  type GridCollection,
  type MetricsDimension,
} from '../../shared/api';
import { offeredBaseMaps } from '../../shared/basemap';
import { loadCategories } from '../../shared/categories';
import { CaseStore } from '../../shared/cases';
import { button, el, sleep } from '../../shared/dom';
import { Header } from '../../shared/header';
import { InboxButton } from '../../shared/inbox';
import { exposeForTests } from '../../shared/test-hook';
import { onLangChange, roleLabel, t } from '../../shared/i18n';
import { LiveClient, liveUrl, type LiveMessage } from '../../shared/live';
import { myPerson } from '../../shared/me';
import { counters as sessionCounters } from '../../shared/session';
import { COMMAND_ROLES, requireUser } from '../../shared/signin';
import { SupervisionBoardView } from './board';
import { CaseDrawer } from './case-view';
import { NO_FILTERS, isEmpty, matches, toQuery, type Filters } from './filters';
import { CommandMap } from './map';
import { MetricsView } from './metrics';
import { Panel } from './panel';
import { LayerSwitch } from './layer-switch';
import { DEVICE_LAYER, DeviceLayer } from './devices';
import { POSITION_LAYER, PositionLayer } from './positions';
import { tc } from './texts';

const LIST_LIMIT = 300;
/** A registry change is drawn within this much (and half a second) of its notice, each page at its own moment. */
const REGISTRY_SPREAD_MS = 10_000;

function layout() {
  const app = document.getElementById('app');
  if (!app) throw new Error('#app is missing from index.html');
  const header = el('header');
  const main = el('main', 'layout');
  const mapWrap = el('div', 'map-wrap');
  const map = el('div');
  map.id = 'map';
  const toast = el('div', 'toast');
  toast.hidden = true;
  const legend = el('div', 'legend');
  mapWrap.append(map, toast, legend);
  const panel = el('aside');
  main.append(mapWrap, panel);
  app.append(header, main);
  return { header, mapWrap, map, panel, toast, legend };
}

const dom = layout();
const header = new Header(dom.header, () => tc('title'));

// ---- who acts: the signed-in user, as their registry person ----

const user = await requireUser({ roles: COMMAND_ROLES, header });
const [person] = await Promise.all([myPerson(user), loadCategories()]);
const actorName = (): string => person?.name ?? user.username;
header.setPerson(() => `${actorName()} · ${roleLabel(user.role)}`);
/** Dead letters are for administrators only; the others do not see the queue at all. */
let deadLettersShown = user.role === 'admin';

const store = new CaseStore();
const metricsButton = button('secondary metrics-toggle', tc('metrics'), () => toggleMetrics());
dom.header.insertBefore(metricsButton, dom.header.querySelector('.spacer'));
const boardButton = button('secondary metrics-toggle board-toggle', tc('board'), () => toggleBoard());
dom.header.insertBefore(boardButton, dom.header.querySelector('.spacer'));
const inbox = new InboxButton({ onOpen: (n) => void drawer.open(n.case_id) });
header.addTool(inbox.root);
const commandMap = new CommandMap(dom.map, (id) => store.get(id), (id) => void drawer.open(id));
const positions = new PositionLayer(commandMap.map);
commandMap.addClickable(POSITION_LAYER, (feature) => positions.popup(feature));
const devices = new DeviceLayer(commandMap.map);
commandMap.addClickable(DEVICE_LAYER, (feature) => devices.popup(feature));
const layerSwitch = new LayerSwitch(commandMap.map, [positions.switchRow]);
commandMap.map.addControl(layerSwitch, 'top-right');
const drawer = new CaseDrawer({
  user,
  actorName,
  lookup: (id) => store.get(id),
  openCases: () => store.all().filter((c) => !['closed', 'cancelled', 'merged'].includes(c.state)),
  flyTo: (c) => commandMap.flyToCase(c),
  device: (id) => devices.get(id),
});
dom.mapWrap.append(drawer.root);

const names = {
  township: new Map<string, string>(),
  village: new Map<string, string>(),
  grid: new Map<string, string>(),
  team: new Map<string, string>(),
  person: new Map<string, string>(),
};
const metrics = new MetricsView(
  () => toggleMetrics(false),
  (by: MetricsDimension, key: string) => (by in names ? names[by as keyof typeof names].get(key) : undefined),
);
dom.mapWrap.append(metrics.root);

function toggleMetrics(show = !metrics.visible): void {
  if (show) {
    toggleBoard(false);
    metrics.show();
  } else metrics.hide();
  metricsButton.classList.toggle('active', show);
}

const board = new SupervisionBoardView(
  () => toggleBoard(false),
  (id) => {
    toggleBoard(false);
    const c = store.get(id);
    if (c) commandMap.flyToCase(c);
    void drawer.open(id);
  },
);
dom.mapWrap.append(board.root);

function toggleBoard(show = !board.visible): void {
  if (show) {
    toggleMetrics(false);
    board.show();
  } else board.hide();
  boardButton.classList.toggle('active', show);
}

let filters: Filters = { ...NO_FILTERS };
/** The map has its base layers: cases and queue items can be drawn. */
let mapReady = false;

const panel = new Panel(dom.panel, {
  onSelectCase(id) {
    const c = store.get(id);
    if (c) commandMap.flyToCase(c);
    void drawer.open(id);
  },
  onShowUnrouted(item) {
    commandMap.showUnroutedItem(item);
  },
  onUnrouted(items) {
    if (mapReady) commandMap.showUnrouted(items);
  },
  onDeadLettersForbidden() {
    deadLettersShown = false; // not this user's queue
  },
  onFilters(next) {
    filters = next;
    scheduleRender();
    void queryCases();
  },
});
if (!deadLettersShown) panel.hideTab('deadletter');

// ---- rendering: coalesce bursts of changes into one update per frame ----

let renderQueued = false;

function shownCases(): CaseView[] {
  const now = Date.now();
  return store.latest(LIST_LIMIT, (c) => matches(filters, c, now));
}

function render(): void {
  renderQueued = false;
  const shown = shownCases();
  let open = 0;
  let overdue = 0;
  const now = Date.now();
  for (const c of store.byId.values()) {
    if (['closed', 'cancelled', 'merged'].includes(c.state)) continue;
    open++;
    if (isOverdue(c, now)) overdue++;
  }
  panel.setCases(shown, { open, overdue });
  if (mapReady) commandMap.showCases(shown);
}

function scheduleRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(render);
}

store.onChange((changed, removed) => {
  scheduleRender();
  const open = drawer.openId;
  if (open && removed.includes(open)) drawer.close();
  else if (open && changed.some((c) => c.id === open)) {
    const c = store.get(open);
    if (c) drawer.changed(c);
  }
});
// Overdue is a matter of time passing, not only of changes: redraw every half minute. An open queue is read
// again as often, since resolutions (by others) come with no live message.
setInterval(() => {
  scheduleRender();
  panel.refreshOpenQueue();
}, 30_000);

onLangChange(() => {
  header.refreshLanguage();
  inbox.refreshLanguage();
  metricsButton.textContent = tc('metrics');
  boardButton.textContent = tc('board');
  board.refreshLanguage();
  panel.refreshLanguage();
  drawer.refreshLanguage();
  metrics.refreshLanguage();
  positions.refreshLanguage();
  layerSwitch.refreshLanguage();
  commandMap.closePopup();
  renderLegend();
});

function renderLegend(): void {
  const item = (cls: string, text: string) => {
    const span = el('span', `legend-item ${cls}`);
    span.append(el('i'), document.createTextNode(text));
    return span;
  };
  dom.legend.replaceChildren(
    item('waiting', tc('legendWaiting')),
    item('working', tc('legendWorking')),
    item('finished', tc('legendFinished')),
    item('overdue', t('overdue')),
  );
}

// ---- filtered reads: the server has closed and older cases the live snapshot leaves out ----

let querySeq = 0;

async function queryCases(): Promise<void> {
  if (isEmpty(filters)) return;
  const seq = ++querySeq;
  try {
    const found = await api.cases(toQuery(filters));
    if (seq === querySeq) store.addAll(found);
  } catch (error) {
    console.warn('cases', error);
  }
}

// ---- the two queues and the positions: read again on demand ----

function refreshQueues(): void {
  void panel.unrouted.refresh();
  if (deadLettersShown) void panel.deadLetters.refresh();
}

async function loadPositions(): Promise<void> {
  try {
    await positions.load();
  } catch (error) {
    console.warn('positions', error);
  }
}

// ---- live feed ----

function onLiveMessage(message: LiveMessage): void {
  switch (message.type) {
    case 'snapshot':
      store.mergeSnapshot(message.cases);
      board.caseChanged();
      // We may have missed queue changes, positions, filtered cases and registry changes while offline.
      refreshQueues();
      void loadPositions();
      void queryCases();
      void inbox.reload();
      redrawRegistrySoon();
      break;
    case 'notice':
      inbox.receive(message.notice);
      break;
    case 'case_changed':
      store.apply(message.case);
      board.caseChanged();
      break;
    case 'case_removed':
      store.remove(message.case_id, message.version);
      board.caseChanged();
      break;
    case 'unrouted':
      void panel.unrouted.refresh();
      break;
    case 'deadletter':
      if (deadLettersShown) void panel.deadLetters.refresh();
      break;
    case 'position':
      positions.apply(message.position);
      break;
    case 'position_gone':
      positions.remove(message.person_id);
      break;
    case 'registry_changed':
      redrawRegistrySoon();
      break;
  }
}

// ---- the registry changed (a plan, an import, a new day): draw today's grids and units again ----

let registryRedraw: number | undefined;

/** Redraws once within a while, at a moment of its own so that every open page does not ask at the same instant. */
function redrawRegistrySoon(): void {
  if (!mapReady || registryRedraw !== undefined) return;
  registryRedraw = window.setTimeout(
    () => {
      registryRedraw = undefined;
      void redrawRegistry();
    },
    500 + Math.random() * REGISTRY_SPREAD_MS,
  );
}

async function redrawRegistry(): Promise<void> {
  try {
    await drawRegistry(await api.grids());
  } catch (error) {
    console.warn('registry', error);
  }
}

/** Draws (or redraws in place) the grids, the unit outlines and the names the panels show. */
async function drawRegistry(grids: GridCollection): Promise<void> {
  commandMap.showGrids(grids);
  await loadUnits();
  void loadNames(grids);
}

// ---- grids and outlines: retry until the API answers, then draw and declare the page ready ----

async function loadGrids(): Promise<GridCollection> {
  for (let attempt = 0; ; attempt++) {
    try {
      const grids = await api.grids();
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

async function loadNames(grids: GridCollection): Promise<void> {
  for (const f of grids.features) {
    names.grid.set(f.properties.code, f.properties.name);
    names.village.set(f.properties.village_code, f.properties.village_name);
    names.township.set(f.properties.township_code, f.properties.township_name);
  }
  try {
    for (const team of await api.teams()) names.team.set(team.id, team.name);
  } catch {
    // ids are shown instead
  }
}

async function loadUnits(): Promise<void> {
  for (const level of ['village', 'township'] as const) {
    try {
      commandMap.showUnits(level, await api.units(level));
    } catch (error) {
      console.warn(level, error);
    }
  }
}

const live = new LiveClient(liveUrl(), { onMessage: onLiveMessage, onStatus: (s) => header.setStatus(s) });

async function start(): Promise<void> {
  live.start();
  void inbox.reload();
  refreshQueues();
  void loadPositions();
  const [grids, basemaps] = await Promise.all([loadGrids(), offeredBaseMaps(), commandMap.loaded]);
  layerSwitch.setBaseMaps(basemaps);
  await drawRegistry(grids);
  mapReady = true;
  render();
  commandMap.showUnrouted(panel.unrouted.items());
  positions.install();
  void devices.load().catch((error: unknown) => console.warn('devices', error));
  openLinkedCase();
  commandMap.map.once('idle', () => {
    exposeForTests({
      map: commandMap.map,
      cases: store.byId,
      live,
      user,
      session: sessionCounters,
      shown: () => shownCases().map((c) => c.id),
      openCase: (id: string) => drawer.open(id),
      positions: () => positions.list(),
      metrics: () => metrics.series(),
      board: () => board.cases(),
      inbox,
    });
  });
}

/** A case link (the QR code on a printed paper: `/#case=<id>`) opens that case. */
function openLinkedCase(): void {
  const linked = /^#case=([0-9a-f-]{36})$/.exec(location.hash)?.[1];
  if (linked) void drawer.open(linked);
}

window.addEventListener('hashchange', openLinkedCase);
renderLegend();
panel.setCases([], { open: 0, overdue: 0 });
void start();
