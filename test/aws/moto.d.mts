// Types of moto.mjs for the TypeScript tests.
export interface Moto {
  endpoint: string;
  reset(): Promise<void>;
  /** Moves an access key's creation or an instance's launch `days` into the past. */
  backdate(kind: 'access-key' | 'instance', id: string, days: number): Promise<void>;
  /** Stores CloudTrail records (the log-file shape) that LookupEvents then answers from. */
  seedTrail(records: unknown[]): Promise<void>;
  /** Gives an existing access key this secret (moto makes only alphanumeric ones). */
  setSecret(id: string, secret: string): Promise<void>;
  /** The secrets the next CreateAccessKey calls return, in order. */
  nextSecrets(secrets: string[]): Promise<void>;
  stop(): void;
}
export interface FaultProxy {
  endpoint: string;
  /** 'hang': forwarded to moto (AWS acts on it), never answered. */
  inject(action: string, fault: 'throttle' | 'drop' | 'deny' | 'hang', times: number, skip?: number): void;
  injected: Map<string, number>;
  calls: string[];
  /** Called with the action each time moto has answered a hung call; returns an unsubscribe. */
  onAnswered(fn: (action: string) => void): () => void;
  clear(): void;
  stop(): Promise<void>;
}
export function startMoto(): Promise<Moto>;
export function startFaultProxy(target: string): Promise<FaultProxy>;
