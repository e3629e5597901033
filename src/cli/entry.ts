/**
 * The daemon's entry point: what `bin/libp2pd.js` runs, and what `scripts/bundle.mjs` bundles
 * into `dist/libp2pd.mjs`.
 */
// The polyfill must load before any libp2p module (Node 20 lacks Promise.withResolvers);
// main.js is imported dynamically so that its graph is evaluated after it, bundled or not.
import '../polyfill.js'

const { run } = await import('./main.js')
run()
