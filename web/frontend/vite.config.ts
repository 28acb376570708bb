import { defineConfig } from 'vite';

// The FastAPI app serves index.html at "/" and this build's files under "/static/".
// API and websocket are same-origin; in dev they are proxied to the local backend.
const backend = 'http://127.0.0.1:8000';

export default defineConfig({
  base: '/static/',
  build: {
    outDir: '../static/dist',
    emptyOutDir: true,
    target: 'es2022',
    // maplibre-gl alone is ~1 MB minified; it is one cacheable chunk.
    chunkSizeWarningLimit: 1500,
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
