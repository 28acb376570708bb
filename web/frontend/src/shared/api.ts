// The HTTP client of every page. Wire types come from api-types.ts, which is generated from the
// FastAPI app's OpenAPI schema (npm run api); only shapes the schema leaves open are written here.

import type { FeatureCollection, MultiPolygon, Polygon } from 'geojson';
import type { components, paths } from './api-types';
import { t } from './i18n';
import { AuthHttpError, SignInRequired, authorizedFetch } from './session';

export { SignInRequired } from './session';

type Schemas = components['schemas'];
type JsonBody<T> = T extends { content: { 'application/json': infer B } } ? B : never;

export type CaseView = Schemas['CaseView'];
export type CaseDetail = Schemas['CaseDetail'];
export type CaseState = Schemas['CaseState'];
/** A camera or sensor of the registry (GET /api/v1/devices). */
export type Device = Schemas['DeviceView'];
/** The category table: 大类 with their 小类 (GET /api/v1/categories). */
export type Categories = Schemas['Categories'];
export type Severity = Schemas['Severity'];
export type Priority = Severity;
export type Assignee = Schemas['Assignee'];
export type PartyKind = Schemas['PartyKind'];
export type Step = Schemas['Step'];
export type EnforcementStage = Schemas['EnforcementStage'];
export type Evidence = Schemas['Evidence'];
export type MediaRef = Schemas['MediaRef'];
export type Decision = Schemas['Decision'];
export type Notice = Schemas['Notice'];
export type Inbox = Schemas['Inbox'];
export type Marked = Schemas['Marked'];
/** A report from a phone: patrol, incident, enforcement lead (and the other event types). */
export type EventBody = JsonBody<paths['/api/v1/events']['post']['requestBody']>;
export type PhoneEventType = 'incident' | 'patrol' | 'enforcement_lead';
/** Any command on a case, tagged by `kind`. */
export type CommandBody = JsonBody<paths['/api/v1/cases/{case_id}/commands']['post']['requestBody']>;
export type CommandKind = CommandBody['kind'];
/** A dispatcher's transfer of an open case to a grid (its member, or a named party), keeping state and clock. */
export type TransferBody = JsonBody<paths['/api/v1/cases/{case_id}/transfer']['post']['requestBody']>;
export type CasesQuery = NonNullable<paths['/api/v1/cases']['get']['parameters']['query']>;
export type MetricsDimension = NonNullable<
  NonNullable<paths['/api/v1/metrics']['get']['parameters']['query']>['by']
>;
/** A person's latest shared position (GET /api/v1/positions). */
export type SharedPosition = Schemas['Position'];
/** What a phone shares (PUT /api/v1/positions/me). */
export type PositionReport = Schemas['PositionReport'];
/** A position as the live channel carries it: the same, without the name. */
export type LivePosition = Omit<SharedPosition, 'name'> & { name?: string };
export type UnroutedResolution = Schemas['UnroutedResolution'];
/** The 督办 board (GET /api/v1/supervision/board): per township, counts by level and the cases most urgent first. */
export type SupervisionBoard = Schemas['Board'];
export type BoardTownship = Schemas['BoardTownship'];
export type BoardCase = Schemas['BoardCase'];
export type DeadLetterResolution = Schemas['DeadLetterResolution'];

/** One entry of a case's log (the schema leaves its payload open). */
export interface LogEntry {
  seq: number;
  kind: string;
  actor_id: string;
  actor_role: string;
  at: string;
  payload: Record<string, unknown>;
}

/**
 * GET /api/v1/metrics rows (an open object in the schema; see dispatch/metrics.py). The counts let rates be
 * summed across groups: closure = closed / (received - cancelled), on time = on_time / closed,
 * rework = reworked / checked, extension = extended / (received - cancelled).
 */
export interface MetricsRow {
  key: string;
  /** The group's name (by 大类 or 小类: the category's Chinese and English names). */
  name?: string;
  name_en?: string;
  received: number;
  cancelled: number;
  closed: number;
  on_time: number;
  checked: number;
  reworked: number;
  extended: number;
  closure_rate: number | null;
  on_time_rate: number | null;
  rework_rate: number | null;
  extension_rate: number | null;
  median_minutes: Record<string, number>;
  open: number;
  overdue: number;
}

export type UnroutedItem = Schemas['UnroutedItem'];
export type BaseMap = Schemas['BaseMap'];
/** How a queue item was resolved, by whom and why (GET …/resolved). */
export type Resolution = Pick<Schemas['ResolvedUnrouted'], 'resolved_at' | 'resolved_by' | 'resolution' | 'note'>;
export type ResolvedUnrouted = Schemas['ResolvedUnrouted'];
export type ResolvedDeadLetter = Schemas['ResolvedDeadLetter'];
/** The answer to a resolution (POST …/resolution). */
export type Resolved = Schemas['Resolved'];
export type DeadLetter = Schemas['DeadLetterItem'];

export interface Person {
  id: string;
  name: string;
  role: string;
  unit_code: string;
  team_id: string | null;
  team_name: string | null;
  posts: Array<{ grid_code: string; post: string; valid_to: string | null }>;
}

export interface Team {
  id: string;
  kind: 'enforcement' | 'agency';
  name: string;
  unit_code: string;
  members: number;
}

export interface StoredMedia {
  sha256: string;
  content_type: MediaRef['content_type'];
  kind: Evidence['kind'];
  size: number;
  url: string;
}

export interface GridProperties {
  code: string;
  name: string;
  village_code: string;
  village_name: string;
  township_code: string;
  township_name: string;
  member_name: string | null;
  kind: GridKind;
  households: number;
  population: number;
  synthetic: boolean;
}
export type GridKind = 'urban' | 'rural' | 'special' | 'residential' | 'commercial';
export type GridCollection = FeatureCollection<Polygon | MultiPolygon, GridProperties>;

export interface UnitProperties {
  code: string;
  name: string;
  level: string;
  parent_code: string | null;
  synthetic: boolean;
  /** The name as people say it (南丰村 for 南丰村村民委员会), written on the map at its label point. */
  label: string;
  /** Where the map writes the unit's name: a point on its surface, [lon, lat]. */
  label_point: [number, number];
}
export type UnitCollection = FeatureCollection<Polygon | MultiPolygon, UnitProperties>;

/** States in which a case waits for someone to pick it up. */
export const WAITING_STATES = ['registered', 'dispatched', 'returned'] as const satisfies readonly CaseState[];
/** States in which a case no longer needs anyone's work. */
export const FINISHED_STATES = ['closed', 'cancelled', 'merged'] as const satisfies readonly CaseState[];
export const FINAL_STATES: ReadonlySet<string> = new Set(FINISHED_STATES);

export type StateGroup = 'waiting' | 'working' | 'finished';

export function stateGroup(state: string): StateGroup {
  if ((WAITING_STATES as readonly string[]).includes(state)) return 'waiting';
  if (FINAL_STATES.has(state)) return 'finished';
  return 'working';
}

/** Past its current step's deadline and still open. */
export function isOverdue(c: CaseView, now = Date.now()): boolean {
  if (FINAL_STATES.has(c.state)) return false;
  const due = c.step_due_at;
  return due !== null && due !== undefined && Date.parse(due) < now;
}

export class ApiError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
    readonly detail: string,
  ) {
    super(`${url}: ${status} ${detail}`);
  }
}

/** An error as one line for the person: the server's reason when it gave one. */
export function describeError(error: unknown): string {
  if (error instanceof SignInRequired) return t('sessionExpired');
  if (error instanceof ApiError) return `${t('failed')} (${error.status}): ${error.detail}`;
  return `${t('failed')}: ${String(error)}`;
}

/** The server's reason: {"detail": "..."} or a validation error list, as one line. */
function describe(body: unknown, fallback: string): string {
  if (typeof body !== 'object' || body === null) return fallback;
  const detail = (body as { detail?: unknown }).detail;
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).slice(1).join('.')}: ${d.msg ?? ''}`)
      .join('; ');
  }
  return fallback;
}

/**
 * fetch() with the bearer token (refreshed once on a 401). Throws ApiError for an error answer,
 * SignInRequired when the session is over, and a TypeError without network.
 */
async function send(url: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await authorizedFetch(url, init);
  } catch (error) {
    // The refresh itself was answered with an error (429, 5xx): as if the call had been.
    if (error instanceof AuthHttpError) throw new ApiError(url, error.status, error.detail);
    throw error;
  }
  return response;
}

/** send() for an answer that is not JSON (a file): ApiError, with the refusal's detail, unless it is 2xx. */
async function sendOk(url: string): Promise<Response> {
  const response = await send(url, {});
  if (!response.ok) {
    const text = await response.text().catch(() => '');
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    throw new ApiError(url, response.status, describe(body, response.statusText));
  }
  return response;
}

async function request<T>(url: string, init: RequestInit = {}): Promise<T> {
  const response = await send(url, {
    ...init,
    headers: { Accept: 'application/json, application/geo+json', ...init.headers },
  });
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  if (!response.ok) throw new ApiError(url, response.status, describe(body, response.statusText));
  return body as T;
}

function withQuery(path: string, query: Record<string, string | number | boolean | null | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '' || value === false) continue;
    params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export const api = {
  grids: (signal?: AbortSignal) =>
    request<GridCollection>('/api/v1/grids', signal ? { signal } : {}),
  units: (level: 'township' | 'village' | 'county') =>
    request<UnitCollection>(withQuery('/api/v1/units', { level })),
  /** The base maps the deployment offers under the grids (none: the offline default). */
  basemaps: () => request<BaseMap[]>('/api/v1/basemaps'),
  cases: (query: CasesQuery) => request<CaseView[]>(withQuery('/api/v1/cases', query)),
  caseDetail: (id: string) => request<CaseDetail>(`/api/v1/cases/${encodeURIComponent(id)}`),
  /** The cases of my reports (the signed-in person's). */
  reports: () => request<CaseView[]>(withQuery('/api/v1/reports', { limit: 100 })),
  unrouted: () => request<UnroutedItem[]>('/api/v1/queues/unrouted'),
  deadLetters: () => request<DeadLetter[]>('/api/v1/queues/deadletter'),
  unroutedResolved: () => request<ResolvedUnrouted[]>(withQuery('/api/v1/queues/unrouted/resolved', { limit: 50 })),
  deadLettersResolved: () =>
    request<ResolvedDeadLetter[]>(withQuery('/api/v1/queues/deadletter/resolved', { limit: 50 })),
  /** Route an unrouted event again, or dismiss it (a note is required to dismiss). 404: no longer waiting. */
  resolveUnrouted: (eventId: string, body: UnroutedResolution) =>
    request<Resolved>(`/api/v1/queues/unrouted/${encodeURIComponent(eventId)}/resolution`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }),
  /** Replay a dead letter to its topic, or dismiss it. 404: no longer waiting; 409: cannot be replayed. */
  resolveDeadLetter: (id: number | string, body: DeadLetterResolution) =>
    request<Resolved>(`/api/v1/queues/deadletter/${encodeURIComponent(String(id))}/resolution`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }),
  /** The cameras and sensors of my area in service today. */
  devices: () => request<Device[]>('/api/v1/devices'),
  /** The latest shared positions of the people of my area. */
  positions: (withinMinutes = 30) =>
    request<SharedPosition[]>(withQuery('/api/v1/positions', { within_minutes: withinMinutes })),
  /** Shares where this phone is (204). */
  sharePosition: (report: PositionReport) =>
    request<null>('/api/v1/positions/me', {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(report),
    }),
  /** Stops sharing: the command centre forgets my position (204). */
  stopSharingPosition: () => request<null>('/api/v1/positions/me', { method: 'DELETE' }),
  person: (id: string) => request<Person>(`/api/v1/people/${encodeURIComponent(id)}`),
  people: (query: { unit?: string; role?: string; limit?: number }) =>
    request<Person[]>(withQuery('/api/v1/people', query)),
  teams: (unit?: string) => request<Team[]>(withQuery('/api/v1/teams', { unit })),
  supervisionBoard: () => request<SupervisionBoard>('/api/v1/supervision/board'),
  categories: () => request<Categories>('/api/v1/categories'),
  metrics: (by: MetricsDimension, from?: Date, to?: Date) =>
    request<MetricsRow[]>(
      withQuery('/api/v1/metrics', { by, from: from?.toISOString(), to: to?.toISOString() }),
    ),

  /** 202 for a new event and for the same event again (the server is idempotent by event id). */
  postEvent: (event: EventBody) =>
    request<{ event_id: string; status: string }>('/api/v1/events', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(event),
    }),

  /** A command on a case, as the signed-in person; `key` makes a resend harmless. */
  command: (caseId: string, body: CommandBody, key: string = crypto.randomUUID()) =>
    request<{ status: string; command_id: string }>(
      `/api/v1/cases/${encodeURIComponent(caseId)}/commands`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
        body: JSON.stringify(body),
      },
    ),

  /** Transfers an open case (any open state) as the signed-in dispatcher; `key` makes a resend harmless. */
  transfer: (caseId: string, body: TransferBody, key: string = crypto.randomUUID()) =>
    request<{ status: string; command_id: string }>(
      `/api/v1/cases/${encodeURIComponent(caseId)}/transfer`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
        body: JSON.stringify(body),
      },
    ),

  /** My notices, newest first (only unread ones with `unread`); older pages with `before`. */
  inbox: (query: { unread?: boolean; limit?: number; before?: number } = {}) =>
    request<Inbox>(withQuery('/api/v1/inbox', query)),
  /** Marks my notices read: these ids, or all of them. */
  markRead: (body: { ids?: number[]; all?: boolean }) =>
    request<Marked>('/api/v1/inbox/read', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }),

  /** Stores a photo or PDF; the same bytes again are the same file. */
  uploadMedia: (blob: Blob) =>
    request<StoredMedia>('/api/v1/media', {
      method: 'POST',
      headers: { 'Content-Type': blob.type || 'application/octet-stream' },
      body: blob,
    }),

  /** A file the API serves as an attachment (an export, a printed paper), with its Content-Disposition. */
  file: async (
    path: string,
    query: Record<string, string | number | boolean | null | undefined>,
  ): Promise<{ blob: Blob; disposition: string | null }> => {
    const response = await sendOk(withQuery(path, query));
    return { blob: await response.blob(), disposition: response.headers.get('Content-Disposition') };
  },

  /** A stored photo or document as a blob (the bearer header is needed, so no plain <img src>). */
  mediaBlob: async (sha256: string): Promise<Blob> => {
    const response = await sendOk(`/api/v1/media/${encodeURIComponent(sha256)}`);
    return response.blob();
  },
};
