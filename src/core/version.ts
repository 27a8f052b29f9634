declare const KEYSENTRY_VERSION: string;

/** The package version, set by the bundler (esbuild.config.mjs `define`); `0.0.0-dev` when run from source. */
export const VERSION: string = typeof KEYSENTRY_VERSION === 'string' ? KEYSENTRY_VERSION : '0.0.0-dev';
