// Integration tests of the incidents area, run inside a real VS Code extension host (see index.ts).
export {};
