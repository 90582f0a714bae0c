/**
 * The web client's build. `vite build --config client/vite.config.ts` writes the app to
 * dist/client, the folder `wirelab serve` serves at /. `vite --config client/vite.config.ts` is
 * the development server; it forwards /api/v1 (HTTP and WebSocket) to a wirelab server started
 * with `wirelab serve --port 8099` (WIRELAB_API overrides where).
 */
import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const api = process.env['WIRELAB_API'] ?? 'http://127.0.0.1:8099';

export default defineConfig({
  root,
  base: './',
  plugins: [vue()],
  build: {
    outDir: fileURLToPath(new URL('../dist/client', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: { '/api/v1': { target: api, ws: true, changeOrigin: false } },
  },
});
