export * from './args/index.js';
