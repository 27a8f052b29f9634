// Integration tests of the audit area, run inside a real VS Code extension host (see index.ts).
export {};
