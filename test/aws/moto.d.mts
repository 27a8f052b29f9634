// Types of moto.mjs for the TypeScript tests.
export interface Moto {
  endpoint: string;
  reset(): Promise<void>;
  /** Moves an access key's creation or an instance's launch `days` into the past. */
  backdate(kind: 'access-key' | 'instance', id: string, days: number): Promise<void>;
  /** Stores CloudTrail records (the log-file shape) that LookupEvents then answers from. */
  seedTrail(records: unknown[]): Promise<void>;
  stop(): void;
}
export interface FaultProxy {
  endpoint: string;
  inject(action: string, fault: 'throttle' | 'drop' | 'deny', times: number): void;
  injected: Map<string, number>;
  calls: string[];
  stop(): Promise<void>;
}
export function startMoto(): Promise<Moto>;
export function startFaultProxy(target: string): Promise<FaultProxy>;
