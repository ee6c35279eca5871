// Executable entry of the `macvtap` plugin (bundled by bundle.ts).
export {};
