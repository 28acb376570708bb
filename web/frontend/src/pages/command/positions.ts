// Field staff's shared positions on the command centre's map: grid workers (and duty posts) green, officers
// and agency staff violet; a position not renewed for five minutes fades, one older than half an hour goes.
// Loaded with GET /api/v1/positions, then kept live by the websocket's `position` and `position_gone`
// messages. A row of the layer switch turns the layer on and off (remembered). Clicking a person shows their name,
// role and how long ago the position was measured.

import type {
  ExpressionSpecification,
  GeoJSONSource,
  MapGeoJSONFeature,
  MapLibreMap,
} from 'maplibre-gl';
import type { Feature, FeatureCollection, Point } from 'geojson';
import { api, type LivePosition, type SharedPosition } from '../../shared/api';
import { el } from '../../shared/dom';
import { formatAgo, formatTime, roleLabel, t } from '../../shared/i18n';
import { tc } from './texts';

export const POSITION_SOURCE = 'positions';
export const POSITION_LAYER = 'positions-circle';
export const POSITION_ACCURACY_LAYER = 'positions-accuracy';
/** Not renewed for this long: faded. */
export const STALE_MS = 5 * 60_000;
/** Older than this: gone (the same window the list is read with). */
export const WITHIN_MINUTES = 30;
const VISIBLE_KEY = 'gridcmd.layer.positions';

const FIELD_ROLES = new Set(['grid_member', 'duty']);
export type PositionGroup = 'field' | 'enforcement';
export const groupOf = (role: string): PositionGroup => (FIELD_ROLES.has(role) ? 'field' : 'enforcement');
export const POSITION_COLORS: Record<PositionGroup, string> = { field: '#2f9e44', enforcement: '#7048e8' };

interface PositionProperties {
  person_id: string;
  name: string;
  role: string;
  group: PositionGroup;
  stale: boolean;
  at: string;
  /** The accuracy circle's radius in pixels at zoom 22 (metres per pixel there, at this latitude). */
  accuracy_px22: number;
}

/** Metres per pixel at zoom 22 at a latitude (512-px tiles, as MapLibre draws). */
function metresPerPixel22(lat: number): number {
  return (40_075_016.686 * Math.cos((lat * Math.PI) / 180)) / (512 * 2 ** 22);
}

export class PositionLayer {
  private readonly byPerson = new Map<string, SharedPosition>();
  private readonly names = new Map<string, Promise<string | null>>();
  private installed = false;
  private visible: boolean;
  private readonly control = new ToggleControl(() => this.setVisible(!this.visible));
  /** Bumped by every full load, so a slow read does not undo live news that came after it. */
  private loadSeq = 0;

  constructor(private readonly map: MapLibreMap) {
    this.visible = readVisible();
    window.setInterval(() => this.render(), 30_000); // fade and drop as time passes
  }

  /** The layer switch's row of this layer: its checkbox, the count and the two colours. */
  get switchRow(): HTMLElement {
    return this.control.root;
  }

  /** Adds the layers (above everything drawn so far) and draws what is held. */
  install(): void {
    if (this.installed) return;
    this.map.addSource(POSITION_SOURCE, { type: 'geojson', data: this.collection(Date.now()), promoteId: 'person_id' });
    const visibility = this.visible ? 'visible' : 'none';
    const color: ExpressionSpecification = [
      'match',
      ['get', 'group'],
      'field',
      POSITION_COLORS.field,
      POSITION_COLORS.enforcement,
    ];
    this.map.addLayer({
      id: POSITION_ACCURACY_LAYER,
      type: 'circle',
      source: POSITION_SOURCE,
      layout: { visibility },
      paint: {
        'circle-color': color,
        'circle-opacity': ['case', ['get', 'stale'], 0.03, 0.08],
        'circle-radius': [
          'interpolate',
          ['exponential', 2],
          ['zoom'],
          0,
          ['/', ['get', 'accuracy_px22'], 2 ** 22],
          22,
          ['get', 'accuracy_px22'],
        ],
        'circle-pitch-alignment': 'map',
      },
    });
    this.map.addLayer({
      id: POSITION_LAYER,
      type: 'circle',
      source: POSITION_SOURCE,
      layout: { visibility },
      paint: {
        'circle-color': color,
        'circle-radius': ['match', ['get', 'group'], 'field', 6, 7],
        'circle-opacity': ['case', ['get', 'stale'], 0.35, 0.95],
        'circle-stroke-color': ['match', ['get', 'group'], 'field', '#ffffff', '#1b1235'],
        'circle-stroke-width': ['match', ['get', 'group'], 'field', 2, 2.5],
        'circle-stroke-opacity': ['case', ['get', 'stale'], 0.4, 1],
      },
    });
    this.installed = true;
    this.render();
  }

  /** Everyone's positions as the server holds them now. */
  async load(): Promise<void> {
    const seq = ++this.loadSeq;
    const found = await api.positions(WITHIN_MINUTES);
    if (seq !== this.loadSeq) return;
    this.byPerson.clear();
    for (const p of found) {
      this.byPerson.set(p.person_id, p);
      this.names.set(p.person_id, Promise.resolve(p.name));
    }
    this.render();
  }

  /** A live position: replaces the person's older one. */
  apply(p: LivePosition): void {
    const held = this.byPerson.get(p.person_id);
    if (held && Date.parse(held.at) > Date.parse(p.at)) return;
    const name = p.name ?? held?.name ?? p.person_id;
    this.byPerson.set(p.person_id, { ...p, name, accuracy_m: p.accuracy_m ?? null, team_id: p.team_id ?? null });
    this.render();
    if (!p.name && !held) void this.fillName(p.person_id);
  }

  /** The person stopped sharing. */
  remove(personId: string): void {
    if (this.byPerson.delete(personId)) this.render();
  }

  list(): SharedPosition[] {
    return [...this.byPerson.values()];
  }

  /** The popup of a clicked person. */
  popup(feature: MapGeoJSONFeature): { at: [number, number]; content: HTMLElement } | null {
    const id = feature.properties['person_id'];
    const p = typeof id === 'string' ? this.byPerson.get(id) : undefined;
    if (!p) return null;
    const root = el('div', 'popup position-popup');
    root.dataset['personId'] = p.person_id;
    const title = el('div', 'popup-title');
    title.append(el('i', `position-dot ${groupOf(p.role)}`), document.createTextNode(p.name));
    const dl = el('dl');
    const add = (label: string, value: string) => dl.append(el('dt', undefined, label), el('dd', undefined, value));
    add(tc('role'), roleLabel(p.role));
    add(tc('positionAt'), `${formatAgo(p.at)} (${formatTime(p.at)})`);
    if (p.accuracy_m !== null && p.accuracy_m !== undefined) add(tc('accuracy'), `±${Math.round(p.accuracy_m)} m`);
    root.append(title, dl);
    if (Date.now() - Date.parse(p.at) > STALE_MS) root.append(el('div', 'popup-note', tc('positionStale')));
    return { at: [p.lon, p.lat], content: root };
  }

  refreshLanguage(): void {
    this.control.render(this.visible, this.byPerson.size);
  }

  private setVisible(visible: boolean): void {
    this.visible = visible;
    try {
      localStorage.setItem(VISIBLE_KEY, visible ? '1' : '0');
    } catch {
      // for this page only
    }
    if (this.installed) {
      for (const layer of [POSITION_ACCURACY_LAYER, POSITION_LAYER]) {
        this.map.setLayoutProperty(layer, 'visibility', visible ? 'visible' : 'none');
      }
    }
    this.control.render(visible, this.byPerson.size);
  }

  private async fillName(id: string): Promise<void> {
    let name = this.names.get(id);
    if (!name) {
      name = api.person(id).then(
        (person) => person.name,
        () => null,
      );
      this.names.set(id, name);
    }
    const found = await name;
    const held = this.byPerson.get(id);
    if (found && held && held.name !== found) {
      this.byPerson.set(id, { ...held, name: found });
      this.render();
    }
  }

  private collection(now: number): FeatureCollection<Point, PositionProperties> {
    const features: Array<Feature<Point, PositionProperties>> = [];
    for (const p of this.byPerson.values()) {
      const age = now - Date.parse(p.at);
      features.push({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [p.lon, p.lat] },
        properties: {
          person_id: p.person_id,
          name: p.name,
          role: p.role,
          group: groupOf(p.role),
          stale: age > STALE_MS,
          at: p.at,
          accuracy_px22: (p.accuracy_m ?? 0) / metresPerPixel22(p.lat),
        },
      });
    }
    return { type: 'FeatureCollection', features };
  }

  private render(): void {
    const now = Date.now();
    for (const [id, p] of this.byPerson) {
      if (now - Date.parse(p.at) > WITHIN_MINUTES * 60_000) this.byPerson.delete(id);
    }
    this.control.render(this.visible, this.byPerson.size);
    if (!this.installed) return;
    void this.map.getSource<GeoJSONSource>(POSITION_SOURCE)?.setData(this.collection(now));
  }
}

function readVisible(): boolean {
  try {
    return localStorage.getItem(VISIBLE_KEY) !== '0';
  } catch {
    return true;
  }
}

/** The layer switch's row for the positions layer: a checkbox with the count and the two colours. */
class ToggleControl {
  readonly root = el('div', 'layer-toggle');
  private readonly input = el('input');
  private readonly text = el('span', 'layer-toggle-text');
  private readonly key = el('span', 'layer-toggle-key');

  constructor(onToggle: () => void) {
    this.input.type = 'checkbox';
    this.input.name = 'layer-positions';
    this.input.addEventListener('change', onToggle);
    const label = el('label');
    label.append(this.input, this.text);
    this.root.append(label, this.key);
  }

  render(visible: boolean, count: number): void {
    this.input.checked = visible;
    this.root.dataset['visible'] = visible ? '1' : '0';
    this.root.dataset['count'] = String(count);
    this.text.textContent = `${tc('layerPositions')} (${count})`;
    const item = (group: PositionGroup, label: string) => {
      const span = el('span', 'layer-key-item');
      span.append(el('i', `position-dot ${group}`), document.createTextNode(label));
      return span;
    };
    this.key.replaceChildren(item('field', t('member')), item('enforcement', tc('officers')));
    this.key.hidden = !visible;
  }
}
