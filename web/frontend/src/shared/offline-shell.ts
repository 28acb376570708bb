// Registers the phone pages' service worker (/m/sw.js, scope /m/, written by
// scripts/service-worker.mjs from sw/service-worker.js): after one visit the page opens without a
// network. Registered once the page has loaded, so that on a slow network the worker's download of
// the shell does not compete with the page's own. Not in `npm run dev` (no built shell there).

export const SERVICE_WORKER = '/m/sw.js';
export const SCOPE = '/m/';

export function keepShellOffline(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
  const register = () => {
    navigator.serviceWorker.register(SERVICE_WORKER, { scope: SCOPE }).catch(() => {
      // no service worker (private mode, an old browser): the page works online as before
    });
  };
  if (document.readyState === 'complete') register();
  else window.addEventListener('load', register, { once: true });
}
