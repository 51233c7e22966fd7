import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/vite-plugin-svelte').SvelteConfig} */
export default {
  // TypeScript inside components is compiled by Vite's preprocessor.
  preprocess: vitePreprocess(),
};
