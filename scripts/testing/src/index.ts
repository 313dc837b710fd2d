export * from './prom.js';
export * from './services.js';
