// Integration tests of the conventions area, run inside a real VS Code extension host (see index.ts).
export {};
