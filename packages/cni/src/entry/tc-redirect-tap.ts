// Executable entry of the `tc-redirect-tap` plugin (bundled by bundle.ts).
export {};
