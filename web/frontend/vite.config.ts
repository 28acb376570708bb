import { defineConfig } from 'vite';

// Three pages, one build: the command centre (index.html, served at "/"), the grid worker's
// phone page (m/worker/index.html, at "/m/worker") and the officer's (m/officer/index.html, at
// "/m/officer"). The FastAPI app serves those HTML files and this build's assets under "/static/".
// API and websocket are same-origin; in dev they are proxied to the local backend.
const backend = 'http://127.0.0.1:8000';

export default defineConfig({
  base: '/static/',
  build: {
    outDir: '../static/dist',
    emptyOutDir: true,
    target: 'es2022',
    // maplibre-gl alone is ~1 MB minified; it is one cacheable chunk shared by the pages.
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      input: {
        // relative to the project root (web/frontend), where npm runs the build
        command: 'index.html',
        worker: 'm/worker/index.html',
        officer: 'm/officer/index.html',
      },
    },
  },
  worker: {
    format: 'es',
  },
  server: {
    proxy: {
      '/api': { target: backend, changeOrigin: false },
      '/ws': { target: backend, ws: true },
    },
  },
});
