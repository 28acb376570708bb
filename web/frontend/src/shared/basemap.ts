// The base map under the grids, as the deployment configures it (GET /api/v1/basemaps): an XYZ tile service
// (天地图 or another) or a local PMTiles file, read through the `pmtiles` protocol with the signed-in person's
// token. With none configured, or switched off, the map is the project's own layers on a plain background.

import { addProtocol, type MapLibreMap } from 'maplibre-gl';
import { EtagMismatch, PMTiles, Protocol, type RangeResponse, type Source } from 'pmtiles';
import { api, type BaseMap } from './api';
import { authorizedFetch } from './session';

export const BASEMAP_PREFIX = 'basemap';
/** What the layer switch remembers: a base map's id, or NONE. */
export const NONE = 'none';
const CHOICE_KEY = 'gridcmd.layer.basemap';

/** The PMTiles file over authenticated Range requests (the token refreshed as every API call's is). */
class AuthorizedSource implements Source {
  constructor(private readonly url: string) {}

  getKey(): string {
    return this.url;
  }

  async getBytes(offset: number, length: number, signal?: AbortSignal, etag?: string): Promise<RangeResponse> {
    const ask = (last: number) =>
      authorizedFetch(this.url, { headers: { Range: `bytes=${offset}-${last}` }, ...(signal ? { signal } : {}) });
    let response = await ask(offset + length - 1);
    const size = /^bytes \*\/(\d+)$/.exec(response.headers.get('Content-Range') ?? '')?.[1];
    if (offset === 0 && response.status === 416 && size) response = await ask(Number(size) - 1);
    const tag = response.headers.get('ETag');
    if (response.status === 416 || (etag && tag && tag !== etag)) throw new EtagMismatch('the base map file changed');
    if (!response.ok) throw new Error(`base map: HTTP ${response.status}`);
    return { data: await response.arrayBuffer(), ...(tag ? { etag: tag } : {}) };
  }
}

let protocol: Protocol | null = null;

/** The key under which a PMTiles file is known to the protocol (its absolute address). */
function pmtilesUrl(path: string): string {
  const url = new URL(path, location.origin).href;
  if (!protocol) {
    protocol = new Protocol();
    addProtocol('pmtiles', protocol.tile);
  }
  if (!protocol.get(url)) protocol.add(new PMTiles(new AuthorizedSource(url)));
  return `pmtiles://${url}`;
}

/** The base maps on offer; none when the server cannot be asked (offline: the plain map). */
export async function offeredBaseMaps(): Promise<BaseMap[]> {
  try {
    return await api.basemaps();
  } catch (error) {
    console.warn('basemaps', error);
    return [];
  }
}

export function rememberedChoice(offered: BaseMap[]): string {
  let held: string | null = null;
  try {
    held = localStorage.getItem(CHOICE_KEY);
  } catch {
    // the first on offer
  }
  if (held === NONE || offered.some((b) => b.id === held)) return held ?? NONE;
  return offered[0]?.id ?? NONE;
}

export function rememberChoice(choice: string): void {
  try {
    localStorage.setItem(CHOICE_KEY, choice);
  } catch {
    // for this page only
  }
}

const layerId = (index: number) => `${BASEMAP_PREFIX}-${index}`;

/** Draws `basemap` (or nothing) directly above the background, under every other layer. */
export function showBaseMap(map: MapLibreMap, basemap: BaseMap | undefined): void {
  for (const layer of map.getStyle().layers.filter((l) => l.id.startsWith(`${BASEMAP_PREFIX}-`))) {
    map.removeLayer(layer.id);
    map.removeSource(layer.id);
  }
  if (!basemap) return;
  const above = map.getStyle().layers.find((l) => l.type !== 'background')?.id;
  basemap.layers.forEach((tiles, index) => {
    const id = layerId(index);
    const attribution = index === 0 ? basemap.attribution : '';
    if (basemap.kind === 'pmtiles') {
      map.addSource(id, { type: 'raster', url: pmtilesUrl(tiles[0] ?? ''), tileSize: 256, attribution });
    } else {
      map.addSource(id, { type: 'raster', tiles, tileSize: 256, maxzoom: basemap.max_zoom, attribution });
    }
    map.addLayer({ id, type: 'raster', source: id }, above);
  });
}

/** The sources of the base map drawn now (for the tests: loaded and rendered). */
export function baseMapSources(map: MapLibreMap): string[] {
  return map
    .getStyle()
    .layers.filter((l) => l.id.startsWith(`${BASEMAP_PREFIX}-`))
    .map((l) => l.id);
}
