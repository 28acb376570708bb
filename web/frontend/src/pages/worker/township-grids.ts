// The grids of the worker's township for the pin map, kept in localStorage as last read, so that
// a page started without a network still draws the worker's grid and its neighbours to pin a
// report in. The service worker keeps no API answer (see sw/service-worker.js): what a page needs
// offline it keeps itself, per township, like the person in shared/me.ts.

import { api, type GridCollection } from '../../shared/api';

const KEY = 'gridcmd.grids.';

function kept(township: string): GridCollection | null {
  try {
    const text = localStorage.getItem(KEY + township);
    return text ? (JSON.parse(text) as GridCollection) : null;
  } catch {
    return null;
  }
}

function keep(township: string, grids: GridCollection): void {
  try {
    localStorage.setItem(KEY + township, JSON.stringify(grids));
  } catch {
    // full or refused: the next offline start draws no grids
  }
}

/** The township's grids from the API (and kept), else as last kept; null when never read. */
export async function townshipGrids(township: string): Promise<GridCollection | null> {
  try {
    const grids = await api.grids();
    const near: GridCollection = {
      ...grids,
      features: grids.features.filter((f) => f.properties.township_code === township),
    };
    keep(township, near);
    return near;
  } catch {
    return kept(township);
  }
}
