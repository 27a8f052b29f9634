// Integration tests of the detection area, run inside a real VS Code extension host (see index.ts).
export {};
