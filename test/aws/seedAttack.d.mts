// Types of seedAttack.mjs for the TypeScript tests.
import type { Moto } from './moto.mjs';
export const OWNER_IP: string;
export const OWNER_AGENT: string;
export const ATTACKER_AGENT: string;
export const ATTACKER_IPS: string[];
export function trailRecord(keyId: string, user: string, name: string, source: string, region: string, msAgo: number, extra?: Record<string, unknown>): Record<string, unknown>;
export interface SeededAttack {
  backupKey: string;
  backupSecret: string;
  instances: string[];
  spot: string;
  keyPair: string;
  group: string;
  rule: string;
  ssh: string;
  mfa: string;
  region: string;
  records: number;
}
export function seedAttack(moto: Pick<Moto, 'endpoint' | 'seedTrail'>, leaked: { keyId: string; user: string }, exposedDaysAgo?: number): Promise<SeededAttack>;
export function addLeakedKeyIncident(file: string, keyId: string, user: string, where: string, noticeFrom?: string): string;
