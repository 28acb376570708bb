// The command centre's layer switch (a map control, top right): which base map, and which of the map's own layers
// show: grids, village and township boundaries, place names, cases, unrouted events, cameras and sensors, and field
// staff's positions
// (whose row the positions layer keeps). Each choice is remembered in localStorage; layers added later (the
// grids and cases arrive after the map) follow the switch as soon as they exist.

import type { IControl, MapLibreMap } from 'maplibre-gl';
import type { BaseMap } from '../../shared/api';
import { NONE, rememberChoice, rememberedChoice, showBaseMap } from '../../shared/basemap';
import { el } from '../../shared/dom';
import { LABEL_LAYERS } from '../../shared/map-labels';
import { DEVICE_LAYER } from './devices';
import { CASE_LAYER, CLUSTER_LAYER, GRID_FILL_LAYER, GRID_LINE_LAYER, UNIT_SOURCES, UNROUTED_LAYER } from './map';
import { tc, type CommandKey } from './texts';

/** The switch's rows, in order, with the map layers each shows or hides. */
export const LAYER_GROUPS: ReadonlyArray<{ key: string; label: CommandKey; layers: string[] }> = [
  { key: 'grids', label: 'layerGrids', layers: [GRID_FILL_LAYER, GRID_LINE_LAYER] },
  { key: 'villages', label: 'layerVillages', layers: [`${UNIT_SOURCES.village}-line`] },
  { key: 'townships', label: 'layerTownships', layers: [`${UNIT_SOURCES.township}-line`] },
  { key: 'labels', label: 'layerLabels', layers: [LABEL_LAYERS.township, LABEL_LAYERS.village] },
  { key: 'cases', label: 'layerCases', layers: [CLUSTER_LAYER, CASE_LAYER] },
  { key: 'unrouted', label: 'layerUnrouted', layers: [UNROUTED_LAYER] },
  { key: 'devices', label: 'layerDevices', layers: [DEVICE_LAYER] },
];

const storageKey = (key: string) => `gridcmd.layer.${key}`;

function remembered(key: string): boolean {
  try {
    return localStorage.getItem(storageKey(key)) !== '0';
  } catch {
    return true;
  }
}

export class LayerSwitch implements IControl {
  readonly root = el('div', 'maplibregl-ctrl maplibregl-ctrl-group layer-switch');
  private readonly title = el('button', 'layer-switch-title');
  private readonly body = el('div', 'layer-switch-body');
  private readonly visible = new Map(LAYER_GROUPS.map((g) => [g.key, remembered(g.key)]));
  private offered: BaseMap[] = [];
  private choice = NONE;

  constructor(
    private readonly map: MapLibreMap,
    private readonly extraRows: HTMLElement[] = [],
  ) {
    this.title.type = 'button';
    this.title.addEventListener('click', () => {
      this.root.dataset['open'] = this.root.dataset['open'] === '1' ? '0' : '1';
    });
    this.root.dataset['open'] = '1';
    this.root.append(this.title, this.body);
    // Layers appear after the map (the grids, the cases, the queue): each style change gets the switch applied.
    map.on('styledata', () => this.apply());
    this.render();
  }

  onAdd(): HTMLElement {
    return this.root;
  }

  onRemove(): void {
    this.root.remove();
  }

  /** The base maps on offer; draws the remembered one (the first on offer unless switched off). */
  setBaseMaps(offered: BaseMap[]): void {
    this.offered = offered;
    this.choose(rememberedChoice(offered), false);
  }

  /** Whether a group's layers show. */
  shows(key: string): boolean {
    return this.visible.get(key) ?? true;
  }

  refreshLanguage(): void {
    this.render();
  }

  private choose(choice: string, remember = true): void {
    this.choice = choice;
    if (remember) rememberChoice(choice);
    showBaseMap(
      this.map,
      this.offered.find((b) => b.id === choice),
    );
    this.root.dataset['basemap'] = choice;
    this.render();
  }

  private setVisible(key: string, visible: boolean): void {
    this.visible.set(key, visible);
    try {
      localStorage.setItem(storageKey(key), visible ? '1' : '0');
    } catch {
      // for this page only
    }
    this.apply();
  }

  private apply(): void {
    for (const group of LAYER_GROUPS) {
      const wanted = this.shows(group.key) ? 'visible' : 'none';
      for (const layer of group.layers) {
        if (!this.map.getLayer(layer)) continue;
        if ((this.map.getLayoutProperty(layer, 'visibility') ?? 'visible') !== wanted) {
          this.map.setLayoutProperty(layer, 'visibility', wanted);
        }
      }
    }
  }

  private render(): void {
    this.title.textContent = tc('layers');
    const base = el('fieldset', 'layer-switch-basemap');
    base.append(el('legend', undefined, tc('layerBaseMap')));
    const options: Array<[string, string]> = [
      [NONE, this.offered.length ? tc('baseMapNone') : tc('baseMapNoneConfigured')],
      ...this.offered.map((b): [string, string] => [b.id, b.name]),
    ];
    for (const [value, label] of options) {
      const input = el('input');
      input.type = 'radio';
      input.name = 'layer-basemap';
      input.value = value;
      input.checked = value === this.choice;
      input.addEventListener('change', () => this.choose(value));
      const row = el('label');
      row.append(input, document.createTextNode(label));
      base.append(row);
    }
    const own = el('fieldset', 'layer-switch-own');
    own.append(el('legend', undefined, tc('layerOwn')));
    for (const group of LAYER_GROUPS) {
      const input = el('input');
      input.type = 'checkbox';
      input.name = `layer-${group.key}`;
      input.checked = this.shows(group.key);
      input.addEventListener('change', () => this.setVisible(group.key, input.checked));
      const row = el('label');
      row.append(input, document.createTextNode(tc(group.label)));
      own.append(row);
    }
    own.append(...this.extraRows);
    this.body.replaceChildren(base, own);
  }
}
