export * from './engine.js';
export * from './port.js';
export * from './link.js';
export * from './capture.js';
export * from './rng.js';
export * from './timers.js';
export * from './tap.js';
