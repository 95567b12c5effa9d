// Builds page/ into dist/: a static page that mounts ConnectyCube's chat
// widget. Everything is bundled from node_modules, nothing is fetched at run
// time; which Parley to talk to comes from the page's query string.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: 'page',
  base: './',
  plugins: [react()],
  logLevel: 'warn',
  build: { outDir: '../dist', emptyOutDir: true, chunkSizeWarningLimit: 8192 },
});
