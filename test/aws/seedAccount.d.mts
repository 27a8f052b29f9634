// Types of seedAccount.mjs for the TypeScript tests.
import type { Moto } from './moto.mjs';
export interface SeededAccount {
  admin: { id: string; secret: string };
  oldKeyId: string;
  web: { instance: string; group: string };
  recent: string;
  stray: { instance: string; keyPair: string; region: string };
  secrets: string[];
}
export function seedAccount(moto: Moto): Promise<SeededAccount>;
