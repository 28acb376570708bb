// Wire types of the web API and the live feed, and the two HTTP reads the page makes.

import type { FeatureCollection, Polygon, MultiPolygon } from 'geojson';

export type Priority = 'low' | 'normal' | 'high' | 'urgent';
export type AssigneeKind = 'grid_member' | 'team' | 'agency';

export interface Assignee {
  kind: AssigneeKind;
  id: string;
  name: string;
}

export interface CaseView {
  id: string;
  version: number;
  state: string;
  category: string;
  priority: Priority;
  description: string;
  grid_code: string | null;
  grid_name: string | null;
  township_name: string | null;
  assignee: Assignee | null;
  lon: number;
  lat: number;
  opened_at: string;
  due_at: string | null;
  event_count: number;
}

export interface GridProperties {
  code: string;
  name: string;
  village_code: string;
  village_name: string;
  township_code: string;
  township_name: string;
  member_name: string | null;
  synthetic: boolean;
}

export type GridCollection = FeatureCollection<Polygon | MultiPolygon, GridProperties>;

export interface UnroutedItem {
  event_id: string;
  type: string;
  category: string;
  lon: number | null;
  lat: number | null;
  reason: string;
  received_at: string;
  description: string;
}

export type LiveMessage =
  | { type: 'snapshot'; cases: CaseView[] }
  | { type: 'case_changed'; case: CaseView }
  | { type: 'unrouted'; item: UnroutedItem };

/** States in which a case waits for someone to pick it up. */
export const WAITING_STATES = ['registered', 'dispatched', 'returned'] as const;
/** States in which a case no longer needs anyone's work. */
export const FINISHED_STATES = ['closed', 'cancelled'] as const;
export const FINAL_STATES: ReadonlySet<string> = new Set(FINISHED_STATES);

export type StateGroup = 'waiting' | 'working' | 'finished';

export function stateGroup(state: string): StateGroup {
  if ((WAITING_STATES as readonly string[]).includes(state)) return 'waiting';
  if (FINAL_STATES.has(state)) return 'finished';
  return 'working';
}

export class ApiError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super(`GET ${url} failed with ${status}`);
  }
}

async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(url, {
    headers: { Accept: 'application/json, application/geo+json' },
    ...(signal ? { signal } : {}),
  });
  if (!response.ok) throw new ApiError(url, response.status);
  return (await response.json()) as T;
}

export function fetchGrids(signal?: AbortSignal): Promise<GridCollection> {
  return getJson<GridCollection>('/api/v1/grids', signal);
}

export function fetchUnrouted(signal?: AbortSignal): Promise<UnroutedItem[]> {
  return getJson<UnroutedItem[]>('/api/v1/queues/unrouted', signal);
}

function isCaseView(value: unknown): value is CaseView {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Partial<CaseView>;
  return (
    typeof c.id === 'string' &&
    typeof c.version === 'number' &&
    typeof c.state === 'string' &&
    typeof c.lon === 'number' &&
    typeof c.lat === 'number'
  );
}

/** Parses one websocket frame; returns null for anything this page does not understand. */
export function parseLiveMessage(raw: string): LiveMessage | null {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null) return null;
  const msg = data as Record<string, unknown>;
  switch (msg['type']) {
    case 'snapshot': {
      const cases = msg['cases'];
      if (!Array.isArray(cases)) return null;
      return { type: 'snapshot', cases: cases.filter(isCaseView) };
    }
    case 'case_changed':
      return isCaseView(msg['case']) ? { type: 'case_changed', case: msg['case'] } : null;
    case 'unrouted':
      return { type: 'unrouted', item: msg['item'] as UnroutedItem };
    default:
      return null;
  }
}
