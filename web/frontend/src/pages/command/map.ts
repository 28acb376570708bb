// The command centre's map: township, village and grid boundaries with the townships' and villages' names; grids
// shaded by their open and overdue load; cases coloured by state and sized by priority, clustered when zoomed out.

import {
  Popup,
  ScaleControl,
  type ExpressionSpecification,
  type GeoJSONSource,
  type MapGeoJSONFeature,
  type MapLibreMap,
  type MapMouseEvent,
} from 'maplibre-gl';
import type { Feature, FeatureCollection, Point } from 'geojson';
import {
  FINISHED_STATES,
  WAITING_STATES,
  isOverdue,
  type CaseView,
  type GridCollection,
  type GridKind,
  type GridProperties,
  type UnitCollection,
  type UnroutedItem,
} from '../../shared/api';
import {
  assigneeKindLabel,
  categoryLabel,
  categoryPath,
  eventTypeLabel,
  formatTime,
  priorityLabel,
  stateLabel,
  t,
  type CommonKey,
} from '../../shared/i18n';
import { blankMap, boundsOf, loaded } from '../../shared/map-base';
import { showUnitLabels } from '../../shared/map-labels';
import { tc } from './texts';

export const GRID_SOURCE = 'grids';
export const GRID_FILL_LAYER = 'grids-fill';
export const GRID_LINE_LAYER = 'grids-line';
export const UNIT_SOURCES = { township: 'townships', village: 'villages' } as const;
export const CASE_SOURCE = 'cases';
export const CASE_LAYER = 'cases-circle';
export const CLUSTER_LAYER = 'cases-cluster';
export const UNROUTED_SOURCE = 'unrouted';
export const UNROUTED_LAYER = 'unrouted-circle';

/** A layer whose features open a popup when clicked (checked before the cases and grids). */
export type PopupOf = (feature: MapGeoJSONFeature) => { at: [number, number]; content: HTMLElement } | null;

const COLORS = {
  gridFill: '#5b8db8',
  gridLine: '#3b6890',
  villageLine: '#6c87a3',
  townshipLine: '#17324d',
  openLow: '#ffe8cc',
  openHigh: '#f76707',
  overdue: '#e03131',
  waiting: '#f08c00', // registered / dispatched / returned: someone must pick it up
  working: '#1c7ed6', // accepted .. checked: being handled
  finished: '#98a2ad', // closed / cancelled / merged
  cluster: '#17324d',
};

const caseColor: ExpressionSpecification = [
  'match',
  ['get', 'state'],
  [...WAITING_STATES],
  COLORS.waiting,
  [...FINISHED_STATES],
  COLORS.finished,
  COLORS.working,
];

const caseRadius: ExpressionSpecification = ['match', ['get', 'priority'], 'urgent', 10, 'high', 8, 6];

const load = (name: 'open' | 'overdue'): ExpressionSpecification => [
  'coalesce',
  ['feature-state', name],
  0,
];

/** Grids with overdue cases red, with open cases orange by how many, else the plain grid blue. */
const gridFill: ExpressionSpecification = [
  'case',
  ['>', load('overdue'), 0],
  COLORS.overdue,
  ['>', load('open'), 0],
  ['interpolate', ['linear'], load('open'), 1, COLORS.openLow, 6, COLORS.openHigh],
  COLORS.gridFill,
];

const gridOpacity: ExpressionSpecification = [
  'case',
  ['boolean', ['feature-state', 'hover'], false],
  0.55,
  ['>', load('open'), 0],
  0.45,
  0.12,
];

type CaseProperties = Pick<CaseView, 'id' | 'state' | 'priority' | 'category'> & { overdue: boolean };

export class CommandMap {
  readonly map: MapLibreMap;
  readonly loaded: Promise<void>;
  private popup: Popup | null = null;
  private hoveredGrid: string | number | undefined;
  private gridLoad = new Map<string, { open: number; overdue: number }>();
  private gridsShown = false;
  private readonly clickables: Array<{ layer: string; popup: PopupOf }> = [];
  private unrouted = new Map<string, UnroutedItem>();

  constructor(
    container: HTMLElement,
    private readonly lookupCase: (id: string) => CaseView | undefined,
    private readonly onOpenCase: (id: string) => void,
  ) {
    this.map = blankMap(container);
    this.map.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-left');
    this.loaded = loaded(this.map);
    this.map.on('click', (e) => this.onClick(e));
    this.map.on('mousemove', (e) => this.onHover(e));
  }

  /** Adds the grid layers (under everything else) and fits the view to them; later, redraws today's grids in place. */
  showGrids(grids: GridCollection): void {
    const source = this.map.getSource<GeoJSONSource>(GRID_SOURCE);
    if (source) {
      void source.setData(grids);
      this.applyGridLoad();
      return;
    }
    this.map.addSource(GRID_SOURCE, { type: 'geojson', data: grids, promoteId: 'code' });
    this.map.addLayer({
      id: GRID_FILL_LAYER,
      type: 'fill',
      source: GRID_SOURCE,
      paint: { 'fill-color': gridFill, 'fill-opacity': gridOpacity },
    });
    this.map.addLayer({
      id: GRID_LINE_LAYER,
      type: 'line',
      source: GRID_SOURCE,
      paint: { 'line-color': COLORS.gridLine, 'line-width': 0.8, 'line-opacity': 0.6 },
    });
    this.gridsShown = true;
    this.applyGridLoad();
    const bounds = boundsOf(grids);
    if (bounds) this.map.fitBounds(bounds, { padding: 40, duration: 0, maxZoom: 15 });
  }

  /** Village and township outlines above the grids, with their names (under the cases); later, redrawn in place. */
  showUnits(level: 'village' | 'township', units: UnitCollection): void {
    const id = UNIT_SOURCES[level];
    const below = this.map.getLayer(CLUSTER_LAYER) ? CLUSTER_LAYER : undefined;
    const source = this.map.getSource<GeoJSONSource>(id);
    if (source) {
      void source.setData(units);
      showUnitLabels(this.map, level, units, below);
      return;
    }
    this.map.addSource(id, { type: 'geojson', data: units });
    this.map.addLayer(
      {
        id: `${id}-line`,
        type: 'line',
        source: id,
        paint:
          level === 'township'
            ? { 'line-color': COLORS.townshipLine, 'line-width': 2.2 }
            : { 'line-color': COLORS.villageLine, 'line-width': 1.2, 'line-dasharray': [3, 2] },
      },
      below,
    );
    showUnitLabels(this.map, level, units, below);
  }

  /** Replaces the case markers and recomputes each grid's load from the open cases. */
  showCases(cases: CaseView[]): void {
    const now = Date.now();
    const data: FeatureCollection<Point, CaseProperties> = {
      type: 'FeatureCollection',
      features: cases.map((c) => caseFeature(c, now)),
    };
    const source = this.map.getSource<GeoJSONSource>(CASE_SOURCE);
    if (source) void source.setData(data);
    else this.addCaseLayers(data);
    this.setGridLoad(cases, now);
  }

  private addCaseLayers(data: FeatureCollection<Point, CaseProperties>): void {
    this.map.addSource(CASE_SOURCE, {
      type: 'geojson',
      data,
      cluster: true,
      clusterRadius: 40,
      clusterMaxZoom: 12,
      clusterProperties: {
        overdue: ['+', ['case', ['get', 'overdue'], 1, 0]],
      },
    });
    this.map.addLayer({
      id: CLUSTER_LAYER,
      type: 'circle',
      source: CASE_SOURCE,
      filter: ['has', 'point_count'],
      paint: {
        'circle-color': ['case', ['>', ['get', 'overdue'], 0], COLORS.overdue, COLORS.cluster],
        'circle-opacity': 0.8,
        'circle-radius': ['interpolate', ['linear'], ['get', 'point_count'], 2, 12, 50, 24, 500, 36],
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 2,
      },
    });
    this.map.addLayer({
      id: CASE_LAYER,
      type: 'circle',
      source: CASE_SOURCE,
      filter: ['!', ['has', 'point_count']],
      layout: {
        'circle-sort-key': ['match', ['get', 'priority'], 'urgent', 3, 'high', 2, 'normal', 1, 0],
      },
      paint: {
        'circle-color': caseColor,
        'circle-radius': caseRadius,
        'circle-opacity': ['match', ['get', 'state'], [...FINISHED_STATES], 0.7, 0.95],
        'circle-stroke-color': ['case', ['get', 'overdue'], COLORS.overdue, '#ffffff'],
        'circle-stroke-width': ['case', ['get', 'overdue'], 3, 1.5],
      },
    });
  }

  private setGridLoad(cases: CaseView[], now: number): void {
    const next = new Map<string, { open: number; overdue: number }>();
    for (const c of cases) {
      if (!c.grid_code || FINISHED_STATES.some((s) => s === c.state)) continue;
      const entry = next.get(c.grid_code) ?? { open: 0, overdue: 0 };
      entry.open++;
      if (isOverdue(c, now)) entry.overdue++;
      next.set(c.grid_code, entry);
    }
    for (const code of this.gridLoad.keys()) if (!next.has(code)) next.set(code, { open: 0, overdue: 0 });
    this.gridLoad = next;
    this.applyGridLoad();
  }

  private applyGridLoad(): void {
    if (!this.gridsShown) return;
    for (const [code, value] of this.gridLoad) {
      this.map.setFeatureState({ source: GRID_SOURCE, id: code }, value);
    }
    for (const [code, value] of [...this.gridLoad]) {
      if (value.open === 0) this.gridLoad.delete(code);
    }
  }

  flyToCase(c: CaseView): void {
    this.map.flyTo({ center: [c.lon, c.lat], zoom: Math.max(this.map.getZoom(), 14) });
    this.openPopup([c.lon, c.lat], casePopup(c, () => this.onOpenCase(c.id)));
  }

  flyTo(lon: number, lat: number): void {
    this.map.flyTo({ center: [lon, lat], zoom: Math.max(this.map.getZoom(), 14) });
  }

  /** Popups hold text of the previous language; drop them on a language switch. */
  closePopup(): void {
    this.popup?.remove();
    this.popup = null;
  }

  private openPopup(at: [number, number], content: HTMLElement): void {
    this.closePopup();
    this.popup = new Popup({ maxWidth: '280px' }).setLngLat(at).setDOMContent(content).addTo(this.map);
  }

  /** Clicking a feature of `layer` opens the popup `popup` makes (checked in the order added). */
  addClickable(layer: string, popup: PopupOf): void {
    this.clickables.push({ layer, popup });
  }

  /** Waiting unrouted events with a location, as red rings (queue items, not cases). */
  showUnrouted(items: UnroutedItem[]): void {
    this.unrouted = new Map(items.map((i) => [i.event_id, i]));
    const data: FeatureCollection<Point, { event_id: string; type: string }> = {
      type: 'FeatureCollection',
      features: items
        .filter((i) => typeof i.lon === 'number' && typeof i.lat === 'number')
        .map((i) => ({
          type: 'Feature',
          geometry: { type: 'Point', coordinates: [i.lon as number, i.lat as number] },
          properties: { event_id: i.event_id, type: i.type },
        })),
    };
    const source = this.map.getSource<GeoJSONSource>(UNROUTED_SOURCE);
    if (source) {
      void source.setData(data);
      return;
    }
    this.map.addSource(UNROUTED_SOURCE, { type: 'geojson', data });
    this.map.addLayer({
      id: UNROUTED_LAYER,
      type: 'circle',
      source: UNROUTED_SOURCE,
      paint: {
        'circle-color': '#ffffff',
        'circle-radius': 7,
        'circle-stroke-color': COLORS.overdue,
        'circle-stroke-width': 3,
      },
    });
    this.addClickable(UNROUTED_LAYER, (feature) => {
      const item = this.unrouted.get(String(feature.properties['event_id']));
      return item && item.lon !== null && item.lat !== null
        ? { at: [item.lon, item.lat], content: unroutedPopup(item) }
        : null;
    });
  }

  /** Flies to an unrouted event and opens its popup. */
  showUnroutedItem(item: UnroutedItem): void {
    if (item.lon === null || item.lat === null) return;
    this.map.flyTo({ center: [item.lon, item.lat], zoom: Math.max(this.map.getZoom(), 14) });
    this.openPopup([item.lon, item.lat], unroutedPopup(item));
  }

  private onClick(e: MapMouseEvent): void {
    for (const { layer, popup } of this.clickables) {
      const hit = this.queryAt(e, layer)[0];
      const shown = hit ? popup(hit) : null;
      if (shown) {
        this.openPopup(shown.at, shown.content);
        return;
      }
    }
    const cluster = this.queryAt(e, CLUSTER_LAYER)[0];
    if (cluster && cluster.geometry.type === 'Point') {
      const [lon, lat] = cluster.geometry.coordinates as [number, number];
      const source = this.map.getSource<GeoJSONSource>(CASE_SOURCE);
      const clusterId = cluster.properties['cluster_id'] as number;
      void source?.getClusterExpansionZoom(clusterId).then((zoom) => {
        this.map.easeTo({ center: [lon, lat], zoom });
      });
      return;
    }
    const caseHit = this.queryAt(e, CASE_LAYER)[0];
    const caseId = caseHit?.properties['id'];
    const c = typeof caseId === 'string' ? this.lookupCase(caseId) : undefined;
    if (c) {
      this.openPopup([c.lon, c.lat], casePopup(c, () => this.onOpenCase(c.id)));
      return;
    }
    const grid = this.queryAt(e, GRID_FILL_LAYER)[0];
    if (grid) {
      const p = grid.properties as GridProperties;
      this.openPopup([e.lngLat.lng, e.lngLat.lat], gridPopup(p, this.gridLoad.get(p.code)));
    }
  }

  private onHover(e: MapMouseEvent): void {
    const caseHit =
      this.queryAt(e, CASE_LAYER).length > 0 ||
      this.queryAt(e, CLUSTER_LAYER).length > 0 ||
      this.clickables.some(({ layer }) => this.queryAt(e, layer).length > 0);
    const grid = this.queryAt(e, GRID_FILL_LAYER)[0];
    this.map.getCanvas().style.cursor = caseHit || grid ? 'pointer' : '';
    const id = grid?.id;
    if (id === this.hoveredGrid) return;
    if (this.hoveredGrid !== undefined) {
      this.map.setFeatureState({ source: GRID_SOURCE, id: this.hoveredGrid }, { hover: false });
    }
    this.hoveredGrid = id;
    if (id !== undefined) this.map.setFeatureState({ source: GRID_SOURCE, id }, { hover: true });
  }

  private queryAt(e: MapMouseEvent, layer: string) {
    if (!this.map.getLayer(layer) || this.map.getLayoutProperty(layer, 'visibility') === 'none') return [];
    return this.map.queryRenderedFeatures(e.point, { layers: [layer] });
  }
}

function caseFeature(c: CaseView, now: number): Feature<Point, CaseProperties> {
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [c.lon, c.lat] },
    properties: {
      id: c.id,
      state: c.state,
      priority: c.priority,
      category: c.category,
      overdue: isOverdue(c, now),
    },
  };
}

// ---- popup content (built from text nodes: names come from data, never as HTML) ----

function popupBody(title: string, rows: Array<[string, string]>): HTMLElement {
  const root = document.createElement('div');
  root.className = 'popup';
  const h = document.createElement('div');
  h.className = 'popup-title';
  h.textContent = title;
  const dl = document.createElement('dl');
  for (const [label, value] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.textContent = value;
    dl.append(dt, dd);
  }
  root.append(h, dl);
  return root;
}

function popupNote(root: HTMLElement, className: string, text: string): void {
  const note = document.createElement('div');
  note.className = className;
  note.textContent = text;
  root.append(note);
}

const row = (key: CommonKey, value: string): [string, string] => [t(key), value];

const GRID_KINDS: Record<GridKind, CommonKey> = {
  urban: 'kindUrban',
  rural: 'kindRural',
  special: 'kindSpecial',
  residential: 'kindResidential',
  commercial: 'kindCommercial',
};

function gridPopup(p: GridProperties, gridLoad: { open: number; overdue: number } | undefined): HTMLElement {
  const body = popupBody(p.name, [
    row('village', p.village_name),
    row('township', p.township_name),
    row('member', p.member_name || '—'),
    row('gridCode', p.code),
    row('gridKind', p.kind in GRID_KINDS ? t(GRID_KINDS[p.kind]) : String(p.kind ?? '—')),
    row('households', String(p.households ?? '—')),
    row('population', String(p.population ?? '—')),
    [tc('openCases'), String(gridLoad?.open ?? 0)],
    [t('overdue'), String(gridLoad?.overdue ?? 0)],
  ]);
  if (p.synthetic !== false) popupNote(body, 'popup-note', t('syntheticBoundary'));
  return body;
}

function unroutedPopup(item: UnroutedItem): HTMLElement {
  const body = popupBody(`${tc('tabUnrouted')} · ${eventTypeLabel(item.type)}`, [
    row('category', categoryPath(item.category)),
    [t('reason'), item.reason],
    [tc('received'), formatTime(item.received_at)],
    [tc('location'), `${item.lon?.toFixed(5)}, ${item.lat?.toFixed(5)}`],
  ]);
  body.dataset['eventId'] = item.event_id;
  if (item.description) popupNote(body, 'popup-desc', item.description);
  return body;
}

function casePopup(c: CaseView, onOpen: () => void): HTMLElement {
  const assignee = c.assignee ? `${c.assignee.name} · ${assigneeKindLabel(c.assignee.kind)}` : t('unassigned');
  const body = popupBody(`${categoryLabel(c.category)} · ${stateLabel(c.state)}`, [
    row('grid', c.grid_name ?? t('noGrid')),
    row('assignee', assignee),
    row('priority', priorityLabel(c.priority)),
    row('opened', formatTime(c.opened_at)),
    row('stepDue', formatTime(c.step_due_at)),
    row('events', String(c.event_count)),
  ]);
  if (c.description) popupNote(body, 'popup-desc', c.description);
  const open = document.createElement('button');
  open.type = 'button';
  open.className = 'link popup-open';
  open.textContent = tc('openCase');
  open.addEventListener('click', onOpen);
  body.append(open);
  return body;
}
