// @ts-check
// The phone pages' service worker, served at /m/sw.js with the scope /m/ (the worker's and the
// officer's pages; the command centre is not under it). scripts/service-worker.mjs writes the
// build's VERSION and SHELL (the two pages and every asset they load) above this text.
//
// - The shell is cached when the worker installs, in a cache named by the build's version; a new
//   build is a new /m/sw.js, which installs beside the old one, takes over at once and deletes the
//   old cache.
// - A page (/m/worker, /m/officer) comes from the network when it answers within PAGE_WAIT_MS, and
//   the copy is kept; else, or with no network, from the cache. So a deployment is seen at once,
//   and a phone without network still opens its page.
// - Hashed assets (/static/assets/…) never change: the cached copy, else the network (kept).
// - Nothing else is touched: the API, the live channel and media go to the network as they would
//   without a service worker. What a page shows offline it keeps itself (the session and the
//   person in localStorage, the outbox in IndexedDB): API answers are a person's, scoped and
//   `no-store`, and a cache shared by every account of the phone would outlive a sign-out.

/* global VERSION, SHELL */
/** @type {ServiceWorkerGlobalScope} */
const worker = /** @type {any} */ (self);
const PREFIX = 'gridcmd-shell-';
const CACHE = PREFIX + VERSION;
const PAGES = new Set(['/m/worker', '/m/officer']);
const ASSETS = '/static/assets/';
const PAGE_WAIT_MS = 4000;

worker.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => worker.skipWaiting()),
  );
});

worker.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key.startsWith(PREFIX) && key !== CACHE).map((key) => caches.delete(key))))
      .then(() => worker.clients.claim()),
  );
});

worker.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== worker.location.origin) return;
  if (request.mode === 'navigate' && PAGES.has(url.pathname)) event.respondWith(page(request, url.pathname));
  else if (url.pathname.startsWith(ASSETS)) event.respondWith(asset(request));
});

/**
 * The page from the network if it answers in time (and kept), else the cached one.
 * @param {Request} request
 * @param {string} path
 */
async function page(request, path) {
  const cache = await caches.open(CACHE);
  const fromNetwork = fetch(request).then(async (response) => {
    if (response.ok) await cache.put(path, response.clone());
    return response;
  });
  fromNetwork.catch(() => undefined); // a failure is answered from the cache, never left unhandled
  const late = new Promise((resolve) => setTimeout(() => resolve(null), PAGE_WAIT_MS));
  try {
    const first = await Promise.race([fromNetwork, late]);
    if (first) return first;
  } catch {
    // no network: the cached page below
  }
  const cached = await cache.match(path, { ignoreVary: true });
  return cached ?? fromNetwork;
}

/**
 * A hashed asset: the cached copy, else the network's (kept).
 * @param {Request} request
 */
async function asset(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request, { ignoreVary: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}
