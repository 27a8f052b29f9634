// Types of seedKeyPair.mjs for the TypeScript tests.
import type { Moto } from './moto.mjs';
export function opensshPublicKey(pem: string): string;
export function seedKeyPair(moto: Pick<Moto, 'endpoint'> & Partial<Pick<Moto, 'backdate'>>, pemFile: string, opts?: { keyName?: string; region?: string }): Promise<{ keyName: string; region: string; instance: string }>;
