// The MapLibre map: a blank background plus our own GeoJSON layers. No tiles, fonts or
// glyphs are fetched from anywhere, so labels are shown in popups instead of symbol layers.

import {
  LngLatBounds,
  MapLibreMap,
  NavigationControl,
  Popup,
  ScaleControl,
  setWorkerUrl,
  type ExpressionSpecification,
  type GeoJSONSource,
  type MapMouseEvent,
} from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
// maplibre-gl 6 loads its worker from a separate module next to itself; once bundled that
// neighbour is gone, so let Vite emit the worker and point maplibre at it.
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?worker&url';
import type { Feature, FeatureCollection, Point, Position } from 'geojson';
import {
  FINISHED_STATES,
  WAITING_STATES,
  type CaseView,
  type GridCollection,
  type GridProperties,
} from './api';
import {
  assigneeKindLabel,
  categoryLabel,
  formatTime,
  priorityLabel,
  stateLabel,
  t,
  type UiKey,
} from './i18n';

setWorkerUrl(workerUrl);

export const GRID_SOURCE = 'grids';
export const GRID_FILL_LAYER = 'grids-fill';
export const GRID_LINE_LAYER = 'grids-line';
export const CASE_SOURCE = 'cases';
export const CASE_LAYER = 'cases-circle';

const COLORS = {
  background: '#dde5ee',
  gridFill: '#5b8db8',
  gridLine: '#3b6890',
  waiting: '#f08c00', // registered / dispatched / returned: someone must pick it up
  working: '#1c7ed6', // accepted .. submitted: being handled
  finished: '#98a2ad', // closed / cancelled
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

const caseRadius: ExpressionSpecification = [
  'match',
  ['get', 'priority'],
  'urgent',
  10,
  'high',
  8,
  6,
];

type CaseProperties = Pick<CaseView, 'id' | 'state' | 'priority' | 'category'>;

export class CommandMap {
  readonly map: MapLibreMap;
  /** Resolves once the style has loaded and sources can be added. */
  readonly loaded: Promise<void>;
  private popup: Popup | null = null;
  private hoveredGrid: string | number | undefined;

  constructor(
    container: HTMLElement,
    private readonly lookupCase: (id: string) => CaseView | undefined,
  ) {
    this.map = new MapLibreMap({
      container,
      style: {
        version: 8,
        sources: {},
        layers: [
          { id: 'background', type: 'background', paint: { 'background-color': COLORS.background } },
        ],
      },
      center: [105.2, 32.6],
      zoom: 10,
      attributionControl: { compact: false, customAttribution: t('attribution') },
    });
    this.map.addControl(new NavigationControl({ showCompass: false }), 'top-left');
    this.map.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-left');
    this.loaded = new Promise((resolve) => this.map.once('load', () => resolve()));
    this.map.on('click', (e) => this.onClick(e));
    this.map.on('mousemove', (e) => this.onHover(e));
  }

  /** Adds the grid layers (under the case layer) and fits the view to them. */
  showGrids(grids: GridCollection): void {
    this.map.addSource(GRID_SOURCE, { type: 'geojson', data: grids, promoteId: 'code' });
    this.map.addLayer(
      {
        id: GRID_FILL_LAYER,
        type: 'fill',
        source: GRID_SOURCE,
        paint: {
          'fill-color': COLORS.gridFill,
          'fill-opacity': ['case', ['boolean', ['feature-state', 'hover'], false], 0.3, 0.14],
        },
      },
      this.map.getLayer(CASE_LAYER) ? CASE_LAYER : undefined,
    );
    this.map.addLayer(
      {
        id: GRID_LINE_LAYER,
        type: 'line',
        source: GRID_SOURCE,
        paint: { 'line-color': COLORS.gridLine, 'line-width': 1.2, 'line-opacity': 0.8 },
      },
      this.map.getLayer(CASE_LAYER) ? CASE_LAYER : undefined,
    );
    const bounds = boundsOf(grids);
    if (bounds) this.map.fitBounds(bounds, { padding: 40, duration: 0, maxZoom: 15 });
  }

  /** Replaces the case markers; cheap enough for a few thousand points. */
  showCases(cases: Iterable<CaseView>): void {
    const data: FeatureCollection<Point, CaseProperties> = {
      type: 'FeatureCollection',
      features: [...cases].map(caseFeature),
    };
    const source = this.map.getSource<GeoJSONSource>(CASE_SOURCE);
    if (source) {
      void source.setData(data);
      return;
    }
    this.map.addSource(CASE_SOURCE, { type: 'geojson', data });
    this.map.addLayer({
      id: CASE_LAYER,
      type: 'circle',
      source: CASE_SOURCE,
      layout: {
        'circle-sort-key': ['match', ['get', 'priority'], 'urgent', 3, 'high', 2, 'normal', 1, 0],
      },
      paint: {
        'circle-color': caseColor,
        'circle-radius': caseRadius,
        'circle-opacity': ['match', ['get', 'state'], [...FINISHED_STATES], 0.7, 0.95],
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 1.5,
      },
    });
  }

  flyToCase(c: CaseView): void {
    this.map.flyTo({ center: [c.lon, c.lat], zoom: Math.max(this.map.getZoom(), 14) });
    this.openPopup([c.lon, c.lat], casePopup(c));
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

  private onClick(e: MapMouseEvent): void {
    const caseHit = this.queryAt(e, CASE_LAYER)[0];
    const caseId = caseHit?.properties['id'];
    const c = typeof caseId === 'string' ? this.lookupCase(caseId) : undefined;
    if (c) {
      this.openPopup([c.lon, c.lat], casePopup(c));
      return;
    }
    const grid = this.queryAt(e, GRID_FILL_LAYER)[0];
    if (grid) this.openPopup([e.lngLat.lng, e.lngLat.lat], gridPopup(grid.properties as GridProperties));
  }

  private onHover(e: MapMouseEvent): void {
    const caseHit = this.queryAt(e, CASE_LAYER).length > 0;
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
    if (!this.map.getLayer(layer)) return [];
    return this.map.queryRenderedFeatures(e.point, { layers: [layer] });
  }
}

function caseFeature(c: CaseView): Feature<Point, CaseProperties> {
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [c.lon, c.lat] },
    properties: { id: c.id, state: c.state, priority: c.priority, category: c.category },
  };
}

function boundsOf(grids: GridCollection): LngLatBounds | null {
  const bounds = new LngLatBounds();
  let any = false;
  const visit = (ring: Position[]) => {
    for (const [lon, lat] of ring) {
      if (lon === undefined || lat === undefined) continue;
      bounds.extend([lon, lat]);
      any = true;
    }
  };
  for (const feature of grids.features) {
    const geometry = feature.geometry;
    if (geometry.type === 'Polygon') geometry.coordinates.forEach(visit);
    else geometry.coordinates.forEach((polygon) => polygon.forEach(visit));
  }
  return any ? bounds : null;
}

// ---- popup content (built from text nodes: names come from data, never as HTML) ----

function popupBody(title: string, rows: Array<[UiKey, string]>): HTMLElement {
  const root = document.createElement('div');
  root.className = 'popup';
  const h = document.createElement('div');
  h.className = 'popup-title';
  h.textContent = title;
  const dl = document.createElement('dl');
  for (const [key, value] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = t(key);
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

function gridPopup(p: GridProperties): HTMLElement {
  const body = popupBody(p.name, [
    ['village', p.village_name],
    ['township', p.township_name],
    ['member', p.member_name || '—'],
    ['gridCode', p.code],
  ]);
  if (p.synthetic !== false) popupNote(body, 'popup-note', t('syntheticBoundary'));
  return body;
}

function casePopup(c: CaseView): HTMLElement {
  const assignee = c.assignee
    ? `${c.assignee.name} · ${assigneeKindLabel(c.assignee.kind)}`
    : t('unassigned');
  const body = popupBody(`${categoryLabel(c.category)} · ${stateLabel(c.state)}`, [
    ['grid', c.grid_name ?? t('noGrid')],
    ['assignee', assignee],
    ['priority', priorityLabel(c.priority)],
    ['opened', formatTime(c.opened_at)],
    ['due', formatTime(c.due_at)],
    ['events', String(c.event_count)],
  ]);
  if (c.description) popupNote(body, 'popup-desc', c.description);
  return body;
}
