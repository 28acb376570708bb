// The grid worker's phone page (/m/worker): report what you see (with photos and a position),
// offline-first through the outbox; the cases of my grid, with the assignee's moves on those
// dispatched to me (shared with the officer's page: shared/case-actions.ts); what became of my
// reports; the "share my position" switch (shared/position-sharing.ts).

import '../../shared/base.css';
import '../phone.css';
import './worker.css';
import { GeolocateControl, Marker } from 'maplibre-gl';
import {
  api,
  type CaseView,
  type EventBody,
  type GridCollection,
  type PhoneEventType,
} from '../../shared/api';
import { caseCard } from '../../shared/case-card';
import { ACTIONABLE, AssigneeActions } from '../../shared/case-actions';
import { CaseStore } from '../../shared/cases';
import { button, el, fillSelect, toast } from '../../shared/dom';
import { Header } from '../../shared/header';
import { InboxButton } from '../../shared/inbox';
import { myPerson } from '../../shared/me';
import { PositionSharing } from '../../shared/position-sharing';
import { counters as sessionCounters, currentUser, onSession } from '../../shared/session';
import { WORKER_ROLES, refreshSignInForm, requireUser } from '../../shared/signin';
import { loadCategories } from '../../shared/categories';
import {
  categoryLabel,
  eventTypeLabel,
  fill,
  formatTime,
  majorOf,
  majorOptions,
  minorOptions,
  onLangChange,
  priorityLabel,
  t,
} from '../../shared/i18n';
import { LiveClient, liveUrl } from '../../shared/live';
import { offeredBaseMaps, rememberedChoice, showBaseMap } from '../../shared/basemap';
import { blankMap, boundsOf, loaded } from '../../shared/map-base';
import { showUnitLabels } from '../../shared/map-labels';
import { exposeForTests } from '../../shared/test-hook';
import { keepShellOffline } from '../../shared/offline-shell';
import { NETWORK_ERROR, Outbox, SIGN_IN_ERROR, type OutboxItem, type SentItem } from './outbox';
import { townshipGrids } from './township-grids';
import { tw } from './texts';

type View = 'report' | 'grid' | 'mine' | 'queue';
const VIEWS: View[] = ['report', 'grid', 'mine', 'queue'];
const VIEW_LABEL = { report: 'tabReport', grid: 'tabGrid', mine: 'tabMine', queue: 'tabQueue' } as const;
const TYPES: PhoneEventType[] = ['incident', 'patrol', 'enforcement_lead'];
const SEVERITIES = ['low', 'normal', 'high', 'urgent'] as const;

const root = document.getElementById('app') as HTMLElement;
const headerEl = el('header');
const main = el('main', 'phone-main');
const nav = el('nav', 'bottom-nav');
root.append(headerEl, main, nav);
const header = new Header(headerEl, () => tw('title'));

keepShellOffline(); // the page opens offline after this visit
/** My reports waiting in the outbox (said on the sign-in form when the session ends). */
let myPending = 0;
const user = await requireUser({
  roles: WORKER_ROLES,
  header,
  waiting: () => (myPending ? fill(tw('waitingForSignIn'), { n: myPending }) : ''),
});
// A grid member or duty account always belongs to a registry person.
const person = (await Promise.all([myPerson(user), loadCategories()]))[0]!;
const myGrid = person.posts.find((p) => p.valid_to === null)?.grid_code ?? person.posts[0]?.grid_code ?? null;
header.setPerson(() => `${person.name}${myGrid ? ` · ${myGrid.slice(-6)}` : ''}`);

/** Reports are sent only while the person who made them is signed in. */
const outbox = new Outbox(() => currentUser()?.person_id ?? null);
const store = new CaseStore();
const sharing = new PositionSharing(person.id);
main.append(sharing.root);
/** Dispatched to me (a grid member or duty post: the assignee is the person). */
const mine = (c: CaseView): boolean => c.assignee?.kind === 'grid_member' && c.assignee.id === person.id;
const actions = new AssigneeActions({ mine, redraw: () => renderGrid() });
const inbox = new InboxButton({
  onOpen: (n) => {
    actions.expanded = n.case_id;
    show('grid');
    renderGrid();
  },
});
header.addTool(inbox.root);
let myReports: CaseView[] = [];
let lastEventId: string | null = null;

// ---- views and bottom navigation ----

const views = {} as Record<View, HTMLElement>;
const navButtons = {} as Record<View, HTMLButtonElement>;
const navBadges = {} as Record<View, HTMLSpanElement>;
for (const view of VIEWS) {
  const section = el('section', `view view-${view}`);
  section.dataset['view'] = view;
  views[view] = section;
  main.append(section);
  const b = el('button', 'nav-item');
  b.type = 'button';
  b.dataset['view'] = view;
  const label = el('span', 'nav-label');
  const badge = el('span', 'badge');
  b.append(label, badge);
  b.addEventListener('click', () => show(view));
  nav.append(b);
  navButtons[view] = b;
  navBadges[view] = badge;
}

function show(view: View): void {
  for (const v of VIEWS) {
    views[v].hidden = v !== view;
    navButtons[v].classList.toggle('active', v === view);
  }
  document.body.dataset['view'] = view;
  if (view === 'grid') void refreshGrid();
  if (view === 'mine') void refreshReports();
  if (view === 'report') map.resize();
}

// ---- the report form ----

const form = el('form', 'report-form');
form.noValidate = true;
const typeBox = el('div', 'segmented');
const typeInputs = TYPES.map((type) => {
  const input = el('input');
  input.type = 'radio';
  input.name = 'type';
  input.value = type;
  input.checked = type === 'incident';
  const label = el('label', 'segment');
  const text = el('span');
  label.append(input, text);
  typeBox.append(label);
  return { input, text };
});
const categoryMajor = el('select');
categoryMajor.name = 'category_major';
const category = el('select');
category.name = 'category';
categoryMajor.addEventListener('change', () => fillSelect(category, minorOptions(categoryMajor.value)));
const severity = el('select');
severity.name = 'severity';
const description = el('textarea');
description.name = 'description';
description.rows = 3;
description.maxLength = 2000;
const foundNothing = el('input');
foundNothing.type = 'checkbox';
foundNothing.name = 'found_nothing';
const foundNothingLabel = el('label', 'check found-nothing');
const foundNothingText = el('span');
foundNothingLabel.append(foundNothing, foundNothingText);
const photos = el('input');
photos.type = 'file';
photos.name = 'photos';
photos.accept = 'image/*';
photos.setAttribute('capture', 'environment');
photos.multiple = true;
const previews = el('div', 'photos previews');
const mapBox = el('div', 'pin-map');
const coords = el('div', 'coords muted');
const gpsButton = button('secondary gps', '', () => locate());
const submit = el('button', 'primary submit');
submit.type = 'submit';
const labels = {
  type: el('span', 'field-label'),
  categoryMajor: el('span', 'field-label'),
  category: el('span', 'field-label'),
  severity: el('span', 'field-label'),
  description: el('span', 'field-label'),
  photos: el('span', 'field-label'),
  position: el('span', 'field-label'),
};
const wrapField = (label: HTMLElement, ...controls: HTMLElement[]) => {
  const box = el('div', 'field');
  box.append(label, ...controls);
  return box;
};
const positionRow = el('div', 'row');
positionRow.append(gpsButton, coords);
form.append(
  wrapField(labels.type, typeBox),
  wrapField(labels.categoryMajor, categoryMajor),
  wrapField(labels.category, category),
  wrapField(labels.severity, severity),
  wrapField(labels.description, description),
  foundNothingLabel,
  wrapField(labels.photos, photos, previews),
  wrapField(labels.position, positionRow, mapBox),
  submit,
);
views.report.append(form);

let previewUrls: string[] = [];

function clearPreviews(): void {
  for (const url of previewUrls) URL.revokeObjectURL(url);
  previewUrls = [];
  previews.replaceChildren();
}

photos.addEventListener('change', () => {
  clearPreviews();
  previews.append(
    ...[...(photos.files ?? [])].map((file) => {
      const img = el('img');
      img.src = URL.createObjectURL(file);
      previewUrls.push(img.src);
      img.alt = file.name;
      return img;
    }),
  );
});
typeBox.addEventListener('change', () => {
  foundNothingLabel.hidden = selectedType() !== 'patrol';
});

function selectedType(): PhoneEventType {
  return (typeInputs.find((x) => x.input.checked)?.input.value ?? 'incident') as PhoneEventType;
}

// ---- position: GPS, or a pin on the map ----

const map = blankMap(mapBox, { zoom: 12, compact: true });
const marker = new Marker({ draggable: true, color: '#e03131' });
let position: { lon: number; lat: number } | null = null;

function setPosition(lon: number, lat: number, from: 'gps' | 'pin' = 'pin'): void {
  position = { lon, lat };
  marker.setLngLat([lon, lat]).addTo(map);
  coords.textContent = `${lon.toFixed(5)}, ${lat.toFixed(5)}${from === 'gps' ? ' · GPS' : ''}`;
  coords.dataset['lon'] = String(lon);
  coords.dataset['lat'] = String(lat);
}

marker.on('dragend', () => {
  const at = marker.getLngLat();
  setPosition(at.lng, at.lat);
});
map.on('click', (e) => setPosition(e.lngLat.lng, e.lngLat.lat));
map.addControl(new GeolocateControl({ positionOptions: { enableHighAccuracy: true } }), 'top-right');

function locate(): void {
  if (!('geolocation' in navigator)) {
    toast(tw('gpsFailed'), 'error');
    return;
  }
  navigator.geolocation.getCurrentPosition(
    (p) => {
      setPosition(p.coords.longitude, p.coords.latitude, 'gps');
      map.easeTo({ center: [p.coords.longitude, p.coords.latitude], zoom: Math.max(map.getZoom(), 14) });
    },
    () => toast(tw('gpsFailed'), 'error'),
    { enableHighAccuracy: true, timeout: 10_000, maximumAge: 60_000 },
  );
}

/** The base map the deployment offers (the one chosen last on this phone) and the villages' names. */
async function drawPlaces(): Promise<void> {
  const basemaps = await offeredBaseMaps();
  showBaseMap(map, basemaps.find((b) => b.id === rememberedChoice(basemaps)));
  try {
    showUnitLabels(map, 'village', await api.units('village'));
  } catch {
    // offline: the grids without names
  }
}

async function drawMyGrid(): Promise<void> {
  await loaded(map);
  if (!myGrid) return;
  const near = await townshipGrids(myGrid.slice(0, 9));
  if (!near) return; // offline and never read: the pin still works on the blank map
  const mine: GridCollection = { ...near, features: near.features.filter((f) => f.properties.code === myGrid) };
  map.addSource('township-grids', { type: 'geojson', data: near });
  map.addLayer({
    id: 'township-grids-line',
    type: 'line',
    source: 'township-grids',
    paint: { 'line-color': '#6c87a3', 'line-width': 0.8 },
  });
  map.addSource('my-grid', { type: 'geojson', data: mine });
  map.addLayer({
    id: 'my-grid-fill',
    type: 'fill',
    source: 'my-grid',
    paint: { 'fill-color': '#1c7ed6', 'fill-opacity': 0.15 },
  });
  map.addLayer({
    id: 'my-grid-line',
    type: 'line',
    source: 'my-grid',
    paint: { 'line-color': '#1c5d99', 'line-width': 2 },
  });
  await drawPlaces();
  const bounds = boundsOf(mine);
  if (bounds) map.fitBounds(bounds, { padding: 20, duration: 0 });
  if (position) map.jumpTo({ center: [position.lon, position.lat] });
  if (!position && bounds) {
    const c = bounds.getCenter();
    setPosition(c.lng, c.lat);
  }
}

// ---- sending ----

form.addEventListener('submit', (e) => {
  e.preventDefault();
  void report();
});

async function report(): Promise<void> {
  if (!position) {
    toast(tw('noPosition'), 'error');
    return;
  }
  const now = new Date().toISOString();
  const type = selectedType();
  const eventId = crypto.randomUUID();
  const event = {
    event_id: eventId,
    type,
    occurred_at: now,
    reported_at: now,
    source: 'phone',
    reporter: { id: person.id, name: person.name },
    location: { lon: position.lon, lat: position.lat },
    category: category.value,
    severity: severity.value,
    description: description.value.trim(),
    ...(type === 'patrol' && foundNothing.checked ? { found_nothing: true } : {}),
  } as EventBody;
  submit.disabled = true;
  try {
    await outbox.add({ event_id: eventId, event, photos: [...(photos.files ?? [])], actor: person.id });
    lastEventId = eventId;
    document.body.dataset['lastEventId'] = eventId;
    form.reset();
    typeInputs[0]!.input.checked = true;
    foundNothingLabel.hidden = true;
    clearPreviews();
    if (!navigator.onLine) toast(tw('queued'));
    await outbox.flush();
  } finally {
    submit.disabled = false;
  }
}

// ---- the outbox view ----

const queueHead = el('div', 'queue-head');
const queueList = el('div', 'queue-list');
const sentHead = el('h3', 'list-heading');
const sentList = el('div', 'sent-list');
const retryButton = button('secondary retry', '', () => void outbox.flush());
views.queue.append(queueHead, queueList, sentHead, sentList);
let outboxState: { items: OutboxItem[]; sent: SentItem[]; sending: boolean } = { items: [], sent: [], sending: false };

outbox.onChange((state) => {
  outboxState = state;
  myPending = state.items.filter((i) => i.status === 'pending' && i.actor === person.id).length;
  refreshSignInForm();
  renderQueue();
  if (state.sent.length) void refreshReports();
});

function renderQueue(): void {
  const { items, sent, sending } = outboxState;
  const pending = items.filter((i) => i.status === 'pending').length;
  const rejected = items.length - pending;
  document.body.dataset['outbox'] = String(pending);
  document.body.dataset['outboxRejected'] = String(rejected);
  navBadges.queue.textContent = items.length ? String(items.length) : '';
  const online = navigator.onLine;
  const counts = el('div', 'queue-counts');
  counts.append(
    el('span', `net ${online ? 'on' : 'off'}`, online ? tw('online') : tw('offline')),
    el('span', 'count pending-count', `${tw('pending')} ${pending}`),
    el('span', 'count rejected-count', `${tw('rejected')} ${rejected}`),
    el('span', 'count sent-count', `${tw('sent')} ${sent.length}`),
  );
  retryButton.textContent = sending ? tw('sending') : tw('retry');
  retryButton.disabled = sending || pending === 0;
  queueHead.replaceChildren(counts, retryButton);
  queueList.replaceChildren(
    ...(items.length ? items.map(queueItem) : [el('p', 'empty', tw('emptyQueue'))]),
  );
  sentHead.textContent = tw('recentlySent');
  sentList.replaceChildren(
    ...sent.slice(0, 20).map((s) => {
      const row = el('div', 'card sent-item');
      row.dataset['eventId'] = s.event_id;
      row.append(
        el('div', 'item-head', `${eventTypeLabel(s.type)} · ${s.description || '—'}`),
        el('div', 'item-meta', `${tw('sent')} ${formatTime(s.sent_at)} · HTTP ${s.http_status}`),
      );
      return row;
    }),
  );
}

function queueItem(item: OutboxItem): HTMLElement {
  const card = el('div', `card queue-item ${item.status}`);
  card.dataset['eventId'] = item.event_id;
  card.dataset['status'] = item.status;
  const e = item.event;
  card.append(
    el(
      'div',
      'item-head',
      `${eventTypeLabel(e.type)} · ${categoryLabel(e.category ?? '0699')} · ${priorityLabel(e.severity ?? 'normal')}`,
    ),
  );
  if (e.description) card.append(el('div', 'item-desc', e.description));
  const photoCount = item.photos.length + item.media.length;
  const meta = `${formatTime(item.queued_at)} · ${item.status === 'pending' ? tw('pending') : tw('rejected')} · ${tw('attempts')} ${item.attempts}${photoCount ? ` · ${photoCount} ${tw('photoCount')}` : ''}`;
  card.append(el('div', 'item-meta', meta));
  if (item.actor !== person.id) card.append(el('div', 'muted other-person', `${tw('otherPerson')} ${item.actor}`));
  else if (item.status === 'pending' && currentUser() === null) card.append(el('div', 'error', tw('signInToSend')));
  else if (item.error) card.append(el('div', 'error', errorText(item.error)));
  if (item.status === 'rejected') card.append(button('danger', tw('remove'), () => void outbox.remove(item.event_id)));
  return card;
}

window.addEventListener('online', renderQueue);
window.addEventListener('offline', renderQueue);
onSession(renderQueue); // signed out or expired: the queue says it waits for a sign-in

// ---- my grid and my reports ----

const assignedHead = el('h3', 'list-heading assigned-heading');
const assignedList = el('div', 'case-cards assigned-list');
const gridHead = el('div', 'list-head');
const gridList = el('div', 'case-cards');
views.grid.append(assignedHead, assignedList, gridHead, gridList);
const mineList = el('div', 'case-cards');
views.mine.append(mineList);

async function refreshGrid(): Promise<void> {
  const reads = [api.cases({ assignee: person.id, open_only: true, limit: 200 })];
  if (myGrid) reads.push(api.cases({ grid: myGrid, limit: 200 }));
  for (const read of await Promise.allSettled(reads)) {
    if (read.status === 'fulfilled') store.addAll(read.value);
    // offline: what we hold stays
  }
}

function errorText(error: string): string {
  if (error === NETWORK_ERROR) return tw('networkError');
  if (error === SIGN_IN_ERROR) return tw('signInToSend');
  return error;
}

async function refreshReports(): Promise<void> {
  try {
    myReports = await api.reports();
    store.addAll(myReports);
    renderMine();
  } catch {
    // offline
  }
}

function renderGrid(): void {
  const now = Date.now();
  // Mine to act on, the nearest step deadline first; then the rest of my grid, newest first.
  const byDue = (a: CaseView, b: CaseView) =>
    Date.parse(a.step_due_at ?? a.opened_at) - Date.parse(b.step_due_at ?? b.opened_at);
  const assigned = store.latest(200, (c) => mine(c) && ACTIONABLE.has(c.state)).sort(byDue);
  const card = (c: CaseView) => {
    const node = caseCard(c, now);
    actions.decorate(node, c);
    return node;
  };
  document.body.dataset['assigned'] = String(assigned.length);
  assignedHead.textContent = `${tw('assignedToMe')} · ${assigned.length}`;
  assignedList.replaceChildren(...(assigned.length ? assigned.map(card) : [el('p', 'empty', tw('nothingAssigned'))]));
  gridHead.replaceChildren(
    el('h3', 'list-heading', `${tw('myGridCases')} · ${myGrid ?? tw('noGridPost')}`),
    button('link', tw('refresh'), () => void refreshGrid()),
  );
  const rest = store.latest(200, (c) => c.grid_code === myGrid && !assigned.includes(c));
  gridList.replaceChildren(...(rest.length ? rest.map(card) : [el('p', 'empty', t('empty'))]));
}

function renderMine(): void {
  const now = Date.now();
  const cases = myReports.map((c) => store.get(c.id) ?? c);
  mineList.replaceChildren(...(cases.length ? cases.map((c) => caseCard(c, now)) : [el('p', 'empty', t('empty'))]));
}

store.onChange(() => {
  renderGrid();
  renderMine();
});
setInterval(renderGrid, 30_000); // step deadlines count down

// ---- live updates of my grid's cases ----

const live = new LiveClient(liveUrl(), {
  onMessage(message) {
    if (message.type === 'notice') {
      inbox.receive(message.notice);
    } else if (message.type === 'snapshot') {
      void inbox.reload(); // notices that came while the connection was down
      store.addAll(
        message.cases.filter((c) => c.grid_code === myGrid || mine(c) || myReports.some((r) => r.id === c.id)),
      );
    } else if (message.type === 'case_changed') {
      const c = message.case;
      if (c.grid_code === myGrid || mine(c) || store.get(c.id)) store.apply(c);
    } else if (message.type === 'case_removed') {
      myReports = myReports.filter((r) => r.id !== message.case_id);
      actions.forget(message.case_id);
      if (!store.remove(message.case_id, message.version)) renderMine();
    }
  },
  onStatus: (s) => header.setStatus(s),
});

// ---- language ----

function refreshLanguage(): void {
  header.refreshLanguage();
  inbox.refreshLanguage();
  for (const v of VIEWS) navButtons[v].querySelector('.nav-label')!.textContent = tw(VIEW_LABEL[v]);
  typeInputs.forEach(({ input, text }) => (text.textContent = eventTypeLabel(input.value)));
  fillSelect(categoryMajor, majorOptions(), categoryMajor.value || majorOf(category.value));
  fillSelect(category, minorOptions(categoryMajor.value), category.value);
  fillSelect(
    severity,
    SEVERITIES.map((s): [string, string] => [s, priorityLabel(s)]),
    severity.value || 'normal',
  );
  labels.type.textContent = tw('type');
  labels.categoryMajor.textContent = t('categoryMajor');
  labels.category.textContent = t('categoryMinor');
  labels.severity.textContent = tw('severity');
  labels.description.textContent = t('description');
  labels.photos.textContent = tw('photos');
  labels.position.textContent = tw('position');
  description.placeholder = tw('describe');
  foundNothingText.textContent = tw('foundNothing');
  gpsButton.textContent = tw('useGps');
  submit.textContent = tw('submit');
  mapBox.title = tw('pinHint');
  renderQueue();
  renderGrid();
  renderMine();
}

onLangChange(refreshLanguage);
refreshLanguage();
foundNothingLabel.hidden = true;
show('report');
live.start();
locate();
void drawMyGrid().then(() => {
  map.once('idle', () => {
    exposeForTests({
      map,
      outbox,
      cases: store.byId,
      person,
      user,
      session: sessionCounters,
      setPosition,
      sharing,
      live,
      inbox,
      lastEventId: () => lastEventId,
    });
  });
  map.triggerRepaint();
});
void refreshGrid();
void refreshReports();
void inbox.reload();
void outbox.flush();
