// Builds the console into dist/, which the hub serves at `/`. During
// `vite dev` the API, sign-in and Socket.IO requests go to a hub on
// SITEHUB_URL (default http://127.0.0.1:3000).
import { defineConfig } from 'vite';

const hub = process.env.SITEHUB_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 200 },
  server: {
    proxy: {
      '/api': hub,
      '/auth': hub,
      '/metrics': hub,
      '/socket.io': { target: hub, ws: true },
    },
  },
});
