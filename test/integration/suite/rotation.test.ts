// Integration tests of the rotation area, run inside a real VS Code extension host (see index.ts).
export {};
