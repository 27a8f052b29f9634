// Types of rotationFaults.mjs for the TypeScript tests.
import type { Moto } from './moto.mjs';
export interface FaultCase {
  scenario: { type: string };
  [k: string]: unknown;
}
export interface CaseResult {
  violations: string[];
  summary: string;
}
export function generateCases(seed: number, count: number): FaultCase[];
export function runCase(moto: Moto, c: FaultCase, label: string, allSecrets?: string[]): Promise<CaseResult>;
export function runCases(
  moto: Moto,
  opts: { seed: number; count: number; parallel?: number; onCase?: (index: number, r: CaseResult) => void },
): Promise<{ run: number; held: number; failures: Array<{ seed: number; index: number; summary: string; violations: string[] }> }>;
