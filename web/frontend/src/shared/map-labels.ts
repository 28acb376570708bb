// Township and village names on the map, written at each unit's label point (on its surface, as the server
// computes it). The style has no glyphs URL, so MapLibre draws every character with the browser's own fonts:
// nothing is fetched, and the names show offline. Townships are written from the county's view on, villages only
// once zoomed in. The names stay in Chinese in both languages: they are the places' names.

import type { GeoJSONSource, MapLibreMap } from 'maplibre-gl';
import type { FeatureCollection, Point } from 'geojson';
import type { UnitCollection } from './api';

export type LabelLevel = 'township' | 'village';
export const LABEL_LAYERS: Record<LabelLevel, string> = { township: 'township-labels', village: 'village-labels' };
const LABEL_SOURCES: Record<LabelLevel, string> = { township: 'township-label-points', village: 'village-label-points' };

/** The zoom from which a level's names are written. */
export const LABEL_MIN_ZOOM: Record<LabelLevel, number> = { township: 7, village: 11 };

/** The browser's fonts, by what a Chinese desktop or phone has; the first name also tells MapLibre the weight. */
const FONTS: Record<LabelLevel, string[]> = {
  township: ['Noto Sans CJK SC Bold', 'Microsoft YaHei', 'PingFang SC', 'WenQuanYi Micro Hei'],
  village: ['Noto Sans CJK SC Regular', 'Microsoft YaHei', 'PingFang SC', 'WenQuanYi Micro Hei'],
};

export interface LabelProperties {
  code: string;
  name: string;
}

/** The units' names as points at their label points. */
export function labelPoints(units: UnitCollection): FeatureCollection<Point, LabelProperties> {
  return {
    type: 'FeatureCollection',
    features: units.features
      .filter((f) => Array.isArray(f.properties.label_point))
      .map((f) => ({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: f.properties.label_point },
        properties: { code: f.properties.code, name: f.properties.label },
      })),
  };
}

/** Writes (or rewrites) a level's names, below `beforeId` when given; townships win a place over villages. */
export function showUnitLabels(map: MapLibreMap, level: LabelLevel, units: UnitCollection, beforeId?: string): void {
  const data = labelPoints(units);
  const source = map.getSource<GeoJSONSource>(LABEL_SOURCES[level]);
  if (source) {
    void source.setData(data);
    return;
  }
  map.addSource(LABEL_SOURCES[level], { type: 'geojson', data });
  const township = level === 'township';
  map.addLayer(
    {
      id: LABEL_LAYERS[level],
      type: 'symbol',
      source: LABEL_SOURCES[level],
      minzoom: LABEL_MIN_ZOOM[level],
      layout: {
        'text-field': ['get', 'name'],
        'text-font': FONTS[level],
        'text-size': township
          ? ['interpolate', ['linear'], ['zoom'], 8, 14, 13, 18]
          : ['interpolate', ['linear'], ['zoom'], 11, 12, 15, 15],
        'text-padding': township ? 6 : 3,
      },
      paint: {
        'text-color': township ? '#17324d' : '#3d5670',
        'text-halo-color': 'rgba(255, 255, 255, 0.9)',
        'text-halo-width': township ? 2 : 1.5,
      },
    },
    beforeId && map.getLayer(beforeId) ? beforeId : undefined,
  );
  // Village names go under the townships' so that a township's name wins where both would be written.
  if (!township && map.getLayer(LABEL_LAYERS.township)) map.moveLayer(LABEL_LAYERS.village, LABEL_LAYERS.township);
}
