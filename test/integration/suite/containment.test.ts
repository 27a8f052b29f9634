// Integration tests of the containment area, run inside a real VS Code extension host (see index.ts).
export {};
