// The category table (大类/小类, GET /api/v1/categories), loaded once per page and kept for offline starts:
// the pickers (大类 then 小类) and every label of a case's category read it.

import { api, type Categories } from './api';
import { setCategoryTable } from './i18n';

const STORAGE_KEY = 'gridcmd.categories';

/** Loads the table (the copy kept from the last visit when the network is down); false when neither is there. */
export async function loadCategories(): Promise<boolean> {
  try {
    const table = await api.categories();
    setCategoryTable(table);
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(table));
    } catch {
      // storage may be unavailable (private mode): the page works, an offline start lacks the names
    }
    return true;
  } catch {
    return restore();
  }
}

function restore(): boolean {
  try {
    const kept = localStorage.getItem(STORAGE_KEY);
    if (!kept) return false;
    setCategoryTable(JSON.parse(kept) as Categories);
    return true;
  } catch {
    return false;
  }
}
