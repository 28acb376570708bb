// Cameras and sensors on the command centre's map (GET /api/v1/devices): cameras blue, sensors orange; clicking
// one shows its name, kind, grid and the address of its live view (RTSP or HLS, opened in the operator's player).
// The case view asks `describe` for the device of an alert's case.

import type { GeoJSONSource, MapGeoJSONFeature, MapLibreMap } from 'maplibre-gl';
import type { Feature, FeatureCollection, Point } from 'geojson';
import { api, type Device } from '../../shared/api';
import { el } from '../../shared/dom';
import { t } from '../../shared/i18n';
import { tc } from './texts';

export const DEVICE_SOURCE = 'devices';
export const DEVICE_LAYER = 'devices-circle';
export const DEVICE_COLORS = { camera: '#1c7ed6', sensor: '#f08c00' } as const;

export class DeviceLayer {
  private readonly byId = new Map<string, Device>();

  constructor(private readonly map: MapLibreMap) {}

  /** The devices in service today, drawn (the layer is added on the first load). */
  async load(): Promise<void> {
    const found = await api.devices();
    this.byId.clear();
    for (const d of found) this.byId.set(d.id, d);
    const data = this.collection();
    const source = this.map.getSource<GeoJSONSource>(DEVICE_SOURCE);
    if (source) {
      void source.setData(data);
      return;
    }
    this.map.addSource(DEVICE_SOURCE, { type: 'geojson', data });
    this.map.addLayer({
      id: DEVICE_LAYER,
      type: 'circle',
      source: DEVICE_SOURCE,
      paint: {
        'circle-color': ['match', ['get', 'kind'], 'camera', DEVICE_COLORS.camera, DEVICE_COLORS.sensor],
        'circle-radius': 6,
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 2,
      },
    });
  }

  get(id: string): Device | undefined {
    return this.byId.get(id);
  }

  /** The popup of a clicked device. */
  popup(feature: MapGeoJSONFeature): { at: [number, number]; content: HTMLElement } | null {
    const id = feature.properties['id'];
    const d = typeof id === 'string' ? this.byId.get(id) : undefined;
    if (!d) return null;
    const root = el('div', 'popup device-popup');
    root.dataset['deviceId'] = d.id;
    root.append(el('div', 'popup-title', d.name), describe(d));
    return { at: [d.lon, d.lat], content: root };
  }

  private collection(): FeatureCollection<Point, { id: string; kind: string }> {
    const features = [...this.byId.values()].map(
      (d): Feature<Point, { id: string; kind: string }> => ({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [d.lon, d.lat] },
        properties: { id: d.id, kind: d.kind },
      }),
    );
    return { type: 'FeatureCollection', features };
  }
}

/** A device's facts: id, kind, grid and its live view's address (a link for HLS over HTTP, text for RTSP). */
export function describe(d: Device): HTMLElement {
  const dl = el('dl', 'device-facts');
  const add = (label: string, value: Node | string) => {
    const dd = el('dd');
    dd.append(value);
    dl.append(el('dt', undefined, label), dd);
  };
  const kind = d.kind === 'camera' ? tc('camera') : `${tc('sensor')}${d.sensor_kind ? ` · ${d.sensor_kind}` : ''}`;
  add(tc('deviceId'), d.id);
  add(tc('deviceKind'), kind);
  add(t('grid'), d.grid_name ?? d.grid_code ?? '—');
  if (d.live_url) {
    const live = /^https?:/.test(d.live_url) ? linkTo(d.live_url) : el('code', 'live-url', d.live_url);
    live.dataset['liveUrl'] = d.live_url;
    add(tc('liveView'), live);
  }
  return dl;
}

function linkTo(url: string): HTMLElement {
  const a = el('a', 'live-url', tc('openLiveView'));
  a.href = url;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  return a;
}
