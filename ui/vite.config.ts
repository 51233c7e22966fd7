import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';

// The console ships inside the Tauri app, which loads it from disk: relative asset paths keep it
// working wherever the bundle lands, and the fixed port matches the shell's dev URL.
export default defineConfig(({ mode }) => ({
  base: './',
  plugins: [svelte(), svelteTesting()],
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: {
    // The fake-backend web build (a11y check, benchmarks) must never end up inside the app.
    outDir: mode === 'fake' ? 'dist-fake' : 'dist',
    emptyOutDir: true,
    target: 'es2022',
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/setup.ts'],
    testTimeout: 20000,
  },
}));
