// The isolation record under faults, with generated inputs: any sequence of isolate / release
// runs from several incidents, each stopped at a random call (a denied call, a killed process),
// never loses an interface's original groups. After a completed isolate every interface is in
// the isolation group only; after a completed release every interface has its original groups
// back. The planner runs against an in-memory model of the account (the calls themselves are
// tested against moto in contain.test.ts; this tests what the planner does with any state).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { planAction, type ActionTarget, type ContainmentOps, type InstanceState } from '../../src/core/incidents/actions';
import type { Incident } from '../../src/core/incidents/types';
import { KeysentryError } from '../../src/core/types';
import type { NetworkInterfaceState } from '../../src/core/contain/isolation';

interface Model {
  groups: Map<string, string>; // id -> name
  enis: Array<{ id: string; deviceIndex: number; groups: string[]; tags: Record<string, string> }>;
  instanceTags: Record<string, string>;
  lifecycle: 'InService' | 'Standby';
  protection: boolean;
  snapshots: number;
  calls: number;
  failAt: number;
}

function fakeOps(m: Model): ContainmentOps {
  let n = 0;
  const hit = (): void => {
    if (++m.calls === m.failAt) throw new Error('denied (injected)');
  };
  const named = (name: string) => [...m.groups].find(([, v]) => v === name)?.[0];
  const ops: Partial<ContainmentOps> = {
    instance: async (): Promise<InstanceState> => ({
      region: 'r',
      id: 'i-00000001',
      state: 'running',
      groupIds: [...(m.enis[0]?.groups ?? [])],
      volumeIds: ['vol-1'],
      tags: { ...m.instanceTags },
      vpcId: 'vpc-1',
      terminationProtection: m.protection,
      shutdownBehavior: 'stop',
    }),
    interfaces: async (): Promise<NetworkInterfaceState[]> => m.enis.map((e) => ({ id: e.id, deviceIndex: e.deviceIndex, groupIds: [...e.groups], tags: { ...e.tags }, vpcId: 'vpc-1', subnetId: 'subnet-1' })),
    autoScaling: async () => ({ group: 'asg', lifecycle: m.lifecycle }),
    findIsolationGroup: async () => named('keysentry-isolation'),
    findTransitGroup: async () => named('keysentry-isolation-transit'),
    createIsolationGroup: async () => {
      hit();
      const id = `sg-${(0xf000 + n++).toString(16)}`;
      m.groups.set(id, 'keysentry-isolation');
      return id;
    },
    createTransitGroup: async () => {
      hit();
      const id = `sg-${(0xe000 + n++).toString(16)}`;
      m.groups.set(id, 'keysentry-isolation-transit');
      return id;
    },
    setInterfaceGroups: async (_r, id, g) => {
      hit();
      m.enis.find((e) => e.id === id)!.groups = [...g];
    },
    deleteGroupIfUnused: async (_r, id) => {
      hit();
      if (m.enis.some((e) => e.groups.includes(id))) return 'kept';
      m.groups.delete(id);
      return 'deleted';
    },
    existingGroups: async (_r, ids) => Object.fromEntries(ids.filter((g) => m.groups.has(g)).map((g) => [g, m.groups.get(g)!])),
    tag: async (_r, ids, tags) => {
      hit();
      for (const id of ids) Object.assign(id.startsWith('eni-') ? m.enis.find((e) => e.id === id)!.tags : m.instanceTags, tags);
    },
    untag: async (_r, ids, keys) => {
      hit();
      for (const id of ids) for (const k of keys) delete (id.startsWith('eni-') ? m.enis.find((e) => e.id === id)!.tags : m.instanceTags)[k];
    },
    enterStandby: async () => {
      hit();
      m.lifecycle = 'Standby';
      return 'ok';
    },
    exitStandby: async () => {
      hit();
      m.lifecycle = 'InService';
      return 'ok';
    },
    setTerminationProtection: async (_r, _i, on) => {
      hit();
      m.protection = on;
    },
    keysentrySnapshots: async () => Array.from({ length: m.snapshots }, (_, i) => `snap-${i}`),
    createSnapshots: async () => {
      hit();
      m.snapshots++;
      return ['snap-x'];
    },
    subnetAcl: async () => undefined,
  };
  return ops as ContainmentOps;
}

const incident = (id: string): Incident => ({ id, type: 'compromised-instance', severity: 'high', title: 't', summary: '', source: 'manual', resources: [], facts: [], status: 'open', createdAt: '', updatedAt: '', steps: {}, timeline: [] });
const target = (kind: 'isolate-instance' | 'release-instance'): ActionTarget => ({ kind, resource: { kind: 'instance', id: 'i-00000001', region: 'r' }, label: kind });

test('isolation record: random isolate/release runs from two incidents, each killed at a random call, never lose the original groups', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
      fc.array(fc.record({ kind: fc.constantFrom('isolate-instance' as const, 'release-instance' as const), by: fc.constantFrom('A', 'B'), failAt: fc.integer({ min: 0, max: 20 }) }), { minLength: 1, maxLength: 8 }),
      async (eniGroups, steps) => {
        const groups = new Map<string, string>();
        const enis = eniGroups.map((gs, i) => {
          const ids = [...new Set(gs.map((g) => `sg-${g.toString(16).padStart(4, '0')}`))];
          for (const g of ids) groups.set(g, `app-${g}`);
          return { id: `eni-${i.toString(16).padStart(4, '0')}`, deviceIndex: i, groups: ids, tags: {} as Record<string, string> };
        });
        const original = new Map(enis.map((e) => [e.id, [...e.groups].sort()]));
        const m: Model = { groups, enis, instanceTags: {}, lifecycle: 'InService', protection: false, snapshots: 0, calls: 0, failAt: 0 };
        const ops = fakeOps(m);
        const incidents = { A: incident('A'), B: incident('B') };
        const finish = async (kind: 'isolate-instance' | 'release-instance', by: 'A' | 'B', failAt: number): Promise<boolean> => {
          m.calls = 0;
          m.failAt = failAt;
          let plan;
          try {
            plan = await planAction(target(kind), incidents[by], ops, Object.values(incidents));
          } catch (e) {
            if (e instanceof KeysentryError && /nothing to (do|release)/.test(e.message)) return true;
            throw e;
          }
          const ctx: Record<string, string> = {};
          for (const c of plan.calls) {
            try {
              await c.run(ctx);
            } catch {
              return false;
            }
          }
          return true;
        };
        for (const s of steps) {
          await finish(s.kind, s.by, s.failAt);
          // invariant at every stop: each interface's originals are either its groups or its record
          for (const e of m.enis) {
            const rec = e.tags['keysentry:previous-groups'];
            const recorded = rec === undefined ? undefined : rec === '-' ? [] : rec.split(' ').sort();
            const orig = original.get(e.id)!;
            assert.ok(JSON.stringify([...e.groups].sort()) === JSON.stringify(orig) || JSON.stringify(recorded) === JSON.stringify(orig), `${e.id}: groups ${e.groups} record ${rec} original ${orig}`);
            if (recorded) assert.ok(!recorded.some((g) => m.groups.get(g)?.startsWith('keysentry-')), 'a record never holds a Keysentry group');
          }
        }
        // a completed isolation: every interface in the isolation group only, Standby, protected
        assert.equal(await finish('isolate-instance', 'B', 0), true);
        const iso = [...m.groups].find(([, v]) => v === 'keysentry-isolation')![0];
        for (const e of m.enis) assert.deepEqual(e.groups, [iso]);
        assert.equal(m.lifecycle, 'Standby');
        assert.equal(m.protection, true);
        assert.equal(m.snapshots, 1, 'one set of snapshots, whatever the number of runs');
        // a completed release: every interface has its originals back, in service, records gone
        assert.equal(await finish('release-instance', 'A', 0), true);
        for (const e of m.enis) {
          assert.deepEqual([...e.groups].sort(), original.get(e.id));
          assert.equal(e.tags['keysentry:previous-groups'], undefined);
        }
        assert.equal(m.lifecycle, 'InService');
        assert.equal(m.instanceTags['keysentry:isolated-by'], undefined);
      },
    ),
    { seed: 15, numRuns: 400 },
  );
});
