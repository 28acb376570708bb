// MapLibre set-up shared by the pages: a blank background plus our own GeoJSON layers, and the configured base
// map under them (basemap.ts). The style has no glyphs URL: MapLibre draws the place names (map-labels.ts) with
// the browser's own fonts, so no font or glyph is fetched from anywhere.

import { LngLatBounds, MapLibreMap, NavigationControl, setWorkerUrl } from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
// maplibre-gl 6 loads its worker from a separate module next to itself; once bundled that
// neighbour is gone, so let Vite emit the worker and point maplibre at it.
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?worker&url';
import type { FeatureCollection, Geometry, Position } from 'geojson';
import { t } from './i18n';

setWorkerUrl(workerUrl);

export const BACKGROUND = '#dde5ee';
/** 青川县, where the demo data lives; any view is refitted to the grids once they load. */
export const DEFAULT_CENTER: [number, number] = [105.2, 32.6];

export function blankMap(container: HTMLElement, options: { zoom?: number; compact?: boolean } = {}): MapLibreMap {
  const map = new MapLibreMap({
    container,
    style: {
      version: 8,
      sources: {},
      layers: [{ id: 'background', type: 'background', paint: { 'background-color': BACKGROUND } }],
    },
    center: DEFAULT_CENTER,
    zoom: options.zoom ?? 10,
    attributionControl: { compact: options.compact ?? false, customAttribution: t('attribution') },
  });
  map.addControl(new NavigationControl({ showCompass: false }), 'top-left');
  return map;
}

export function loaded(map: MapLibreMap): Promise<void> {
  return new Promise((resolve) => {
    if (map.loaded()) resolve();
    else map.once('load', () => resolve());
  });
}

/** The bounding box of every polygon in a collection, or null when it is empty. */
export function boundsOf(collection: FeatureCollection<Geometry>): LngLatBounds | null {
  const bounds = new LngLatBounds();
  let any = false;
  const visit = (ring: Position[]) => {
    for (const [lon, lat] of ring) {
      if (lon === undefined || lat === undefined) continue;
      bounds.extend([lon, lat]);
      any = true;
    }
  };
  for (const feature of collection.features) {
    const g = feature.geometry;
    if (g.type === 'Polygon') g.coordinates.forEach(visit);
    else if (g.type === 'MultiPolygon') g.coordinates.forEach((polygon) => polygon.forEach(visit));
    else if (g.type === 'Point') visit([g.coordinates]);
  }
  return any ? bounds : null;
}
