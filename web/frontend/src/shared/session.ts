// Who is signed in, and their tokens. The access token (a JWT, 15 min) goes on every API call as
// `Authorization: Bearer …`; the refresh token (rotated on every use) gets a new access token.
// Both live in localStorage (one sign-in per browser, shared by its tabs) and are read from there
// on every use, so what another tab refreshed is used here too. A 401 refreshes once and retries;
// concurrent refreshes are one request (one promise per tab, a Web Lock across tabs). When the
// refresh is refused, the tokens are dropped and listeners hear 'expired': the page asks the person
// to sign in again (shared/signin.ts).

import type { components } from './api-types';

export type User = components['schemas']['Me'];
type Tokens = components['schemas']['Tokens'];

const KEY = 'gridcmd.session';
const LAST_USER_KEY = 'gridcmd.session.last';
const LOCK = 'gridcmd-session-refresh';
/** An access token this close to its expiry is refreshed before use. */
const EXPIRY_MARGIN_MS = 15_000;

interface Held {
  access_token: string;
  refresh_token: string;
  user: User;
  /** The server's clock minus ours (ms), measured when the tokens arrived. */
  skew: number;
}

/** No usable session: the person has to sign in (again). */
export class SignInRequired extends Error {
  constructor(readonly detail = 'sign in required') {
    super(detail);
    this.name = 'SignInRequired';
  }
}

/** An auth endpoint answered with an error: wrong password (401), locked (423), too many tries (429), … */
export class AuthHttpError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
    readonly detail: string,
    /** Seconds from Retry-After, when the server said. */
    readonly retryAfter: number | null,
  ) {
    super(`${url}: ${status} ${detail}`);
    this.name = 'AuthHttpError';
  }
}

export type SessionEvent = 'signed-in' | 'signed-out' | 'expired';
type Listener = (event: SessionEvent, user: User | null) => void;
const listeners = new Set<Listener>();

/** Hears sign-in, sign-out and expiry (also those of other tabs); returns the unsubscribe. */
export function onSession(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit(event: SessionEvent, user: User | null): void {
  for (const listener of [...listeners]) listener(event, user);
}

// ---- storage (with a fallback for browsers that refuse localStorage) ----

let memory: string | null = null;

function load(): Held | null {
  let text: string | null;
  try {
    text = localStorage.getItem(KEY);
  } catch {
    text = memory;
  }
  if (!text) return null;
  try {
    const held = JSON.parse(text) as Partial<Held>;
    if (typeof held.access_token !== 'string' || typeof held.refresh_token !== 'string' || !held.user) return null;
    return { skew: 0, ...held } as Held;
  } catch {
    return null;
  }
}

function save(held: Held | null): void {
  const text = held ? JSON.stringify(held) : null;
  memory = text;
  try {
    if (text) localStorage.setItem(KEY, text);
    else localStorage.removeItem(KEY);
  } catch {
    // private mode: the session lasts as long as the page
  }
}

function rememberUsername(username: string): void {
  try {
    localStorage.setItem(LAST_USER_KEY, username);
  } catch {
    // not remembered
  }
}

function keep(tokens: Tokens): Held {
  const issued = claims(tokens.access_token)?.iat;
  const held: Held = {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    user: tokens.user,
    skew: typeof issued === 'number' ? issued * 1000 - Date.now() : 0,
  };
  save(held);
  rememberUsername(tokens.user.username);
  return held;
}

/** The user of the stored session (as of sign-in or the last refresh), or null. */
export function currentUser(): User | null {
  return load()?.user ?? null;
}

/** The username last signed in on this browser (to fill in the form again). */
export function lastUsername(): string {
  try {
    return localStorage.getItem(LAST_USER_KEY) ?? '';
  } catch {
    return '';
  }
}

/** Updates the stored user (e.g. from GET /auth/me) without touching the tokens. */
export function rememberUser(user: User): void {
  const held = load();
  if (held) save({ ...held, user });
}

// ---- tokens ----

function claims(token: string): { exp?: number; iat?: number } | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    return JSON.parse(json) as { exp?: number; iat?: number };
  } catch {
    return null;
  }
}

/** Whether a token is past (or close to) its expiry by the server's clock; unreadable tokens count as valid. */
function expired(token: string, skew: number): boolean {
  const exp = claims(token)?.exp;
  return typeof exp === 'number' && exp * 1000 - EXPIRY_MARGIN_MS < Date.now() + skew;
}

/** An access token that has not expired: the stored one, or a refreshed one. */
export async function freshAccessToken(): Promise<string> {
  const held = load();
  if (!held) throw new SignInRequired();
  if (expired(held.access_token, held.skew)) return refresh(held.access_token);
  return held.access_token;
}

let refreshing: Promise<string> | null = null;

/**
 * A new access token, after `used` was refused. If the stored token is already another than `used`
 * (refreshed meanwhile, here or in another tab), that one is returned without asking the server.
 * Throws SignInRequired when the server refuses the refresh token, a TypeError without network,
 * AuthHttpError for other answers (429, 5xx: try later).
 */
export function refresh(used: string | null = null): Promise<string> {
  const held = load();
  if (!held) return Promise.reject(new SignInRequired());
  if (used !== null && held.access_token !== used && !expired(held.access_token, held.skew)) {
    return Promise.resolve(held.access_token);
  }
  if (!refreshing) {
    const run = () => trade(held.refresh_token);
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    refreshing = (locks ? locks.request(LOCK, run) : run()).finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/** Refreshes were counted for tests (window.__app.session). */
export const counters = { refreshes: 0 };

async function trade(startedWith: string): Promise<string> {
  const held = load();
  if (!held) throw new SignInRequired();
  // Another tab refreshed while this one waited for the lock.
  if (held.refresh_token !== startedWith && !expired(held.access_token, held.skew)) return held.access_token;
  counters.refreshes++;
  const url = '/api/v1/auth/refresh';
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ refresh_token: held.refresh_token }),
  });
  if (response.ok) return keep((await response.json()) as Tokens).access_token;
  const detail = await detailOf(response);
  if (response.status === 401 || response.status === 422) {
    const now = load();
    if (now && now.refresh_token !== held.refresh_token) return now.access_token;
    expire(detail);
    throw new SignInRequired(detail);
  }
  throw new AuthHttpError(url, response.status, detail, retryAfter(response));
}

/** The session is over (refresh refused): drop the tokens and tell the page. */
function expire(detail: string): void {
  const user = load()?.user ?? null;
  if (user) rememberUsername(user.username);
  save(null);
  console.info('session expired:', detail);
  emit('expired', user);
}

// ---- HTTP with the bearer header ----

function withBearer(init: RequestInit, token: string): RequestInit {
  const headers = new Headers(init.headers);
  headers.set('Authorization', `Bearer ${token}`);
  return { ...init, headers };
}

/** fetch() with the access token; on a 401 the token is refreshed once and the request sent again. */
export async function authorizedFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const token = await freshAccessToken();
  const response = await fetch(url, withBearer(init, token));
  if (response.status !== 401) return response;
  const fresh = await refresh(token);
  return fetch(url, withBearer(init, fresh));
}

async function detailOf(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { detail?: unknown };
    if (typeof body.detail === 'string') return body.detail;
  } catch {
    // not JSON
  }
  return text || response.statusText;
}

function retryAfter(response: Response): number | null {
  const value = Number(response.headers.get('Retry-After'));
  return Number.isFinite(value) && value > 0 ? value : null;
}

// ---- sign-in and sign-out ----

/** Signs in with the OAuth2 password flow; AuthHttpError on refusal (401 wrong, 423 locked, 429 too many). */
export async function signIn(username: string, password: string): Promise<User> {
  const url = '/api/v1/auth/token';
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'password', username, password }),
  });
  if (!response.ok) throw new AuthHttpError(url, response.status, await detailOf(response), retryAfter(response));
  const held = keep((await response.json()) as Tokens);
  emit('signed-in', held.user);
  return held.user;
}

/** The user as the server knows them (GET /auth/me, refreshing if needed). */
export async function whoAmI(): Promise<User> {
  const url = '/api/v1/auth/me';
  const response = await authorizedFetch(url, { headers: { Accept: 'application/json' } });
  if (response.status === 401) {
    const detail = await detailOf(response);
    expire(detail);
    throw new SignInRequired(detail);
  }
  if (!response.ok) throw new AuthHttpError(url, response.status, await detailOf(response), retryAfter(response));
  const user = (await response.json()) as User;
  rememberUser(user);
  return user;
}

/** Work to finish while the tokens still hold, before a sign-out (e.g. withdrawing a shared position). */
const beforeSignOut = new Set<() => Promise<unknown>>();
/** How long a sign-out waits for that work (offline it cannot succeed). */
const BEFORE_SIGN_OUT_MS = 3_000;

/** Runs `hook` before every sign-out of this page, at most a few seconds; returns the unsubscribe. */
export function onBeforeSignOut(hook: () => Promise<unknown>): () => void {
  beforeSignOut.add(hook);
  return () => beforeSignOut.delete(hook);
}

/** Revokes the refresh token on the server (best effort, also offline) and forgets the tokens. */
export async function signOut(): Promise<void> {
  if (load() && beforeSignOut.size) {
    const hooks = Promise.allSettled([...beforeSignOut].map((hook) => hook()));
    await Promise.race([hooks, new Promise((resolve) => setTimeout(resolve, BEFORE_SIGN_OUT_MS))]);
  }
  const held = load(); // read again: the hooks may have refreshed the tokens
  if (held) {
    try {
      const token = expired(held.access_token, held.skew) ? await refresh(held.access_token) : held.access_token;
      const current = load();
      await fetch('/api/v1/auth/logout', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify({ refresh_token: current?.refresh_token ?? held.refresh_token }),
      });
    } catch {
      // offline or already expired: the tokens are forgotten here all the same
    }
  }
  if (held) rememberUsername(held.user.username);
  save(null);
  emit('signed-out', held?.user ?? null);
}

// Another tab signed in or out: this one follows.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (event) => {
    if (event.key !== KEY && event.key !== null) return; // null: the whole storage was cleared
    const held = load();
    const had = event.key === null || event.oldValue !== null;
    if (had && !held) emit('signed-out', null);
    else if (event.key === KEY && event.oldValue === null && held) emit('signed-in', held.user);
  });
}
