// Types of seedTraffic.mjs for the TypeScript tests.
export function spikeWindow(now?: Date): { start: number; end: number; billDay: string };
export function seedTraffic(endpoint: string, o: { relay?: string; region?: string; quiet?: Array<{ region: string; instance: string }>; days?: number; now?: Date }): Promise<{ start: number; end: number; bytes: number }>;
export function queueBill(endpoint: string, o?: { days?: number; now?: Date; spike?: boolean }): Promise<{ billDay: string }>;
