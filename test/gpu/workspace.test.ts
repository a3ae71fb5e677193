// The workspace's liveness: tensors whose lives (first to last dispatch that binds them) do not overlap share a
// buffer, overlapping ones never do, results marked persistent keep their own, and a tensor read before any
// dispatch writes it is refused by name. Recorded on the stand-in device (src/gpu/planDevice.ts), so no GPU runs.
import { describe, expect, it } from 'vitest';
import { GpuRuntime } from '../../src/gpu/runtime';
import { createPlanDevice, PlanDeviceLog } from '../../src/gpu/planDevice';
import { Workspace, type TensorUse } from '../../src/gpu/workspace';
import { fill, scaleAdd } from '../../src/gpu/ops/rows';

const runtime = () => new GpuRuntime(createPlanDevice(new PlanDeviceLog()));
const use = (kernel: string, ...tensors: [ReturnType<Workspace['tensor']>, boolean][]): TensorUse =>
  ({ kernel, tensors: tensors.map(([tensor, writes]) => ({ tensor, writes })) });

describe('workspace tensors', () => {
  it('share buffers between tensors whose lives do not overlap, never between live ones', () => {
    const ws = new Workspace(runtime());
    const a = ws.tensor('a', 100, 4), b = ws.tensor('b', 100, 4), c = ws.tensor('c', 50, 4), d = ws.tensor('d', 200, 4);
    const out = ws.persistent('out', 1, 1);
    const uses = [
      use('write a', [a, true]),
      use('a → b', [a, false], [b, true]),
      use('b → c', [b, false], [c, true]),
      use('c → d', [c, false], [d, true]),
      use('d → out', [d, false], [out, true]),
    ];
    const slots = ws.assign(uses);
    const life = (t: typeof a) => {
      const at = uses.flatMap((u, i) => (u.tensors.some((x) => x.tensor === t) ? [i] : []));
      return [at[0], at[at.length - 1]];
    };
    for (const s of slots) {
      // a slot is as large as its largest tenant, and its tenants never live at the same time
      expect(s.bytes).toBe(Math.max(...s.tensors.map((t) => t.bytes)));
      for (const t of s.tensors) for (const u of s.tensors) {
        if (t === u) continue;
        const [f1, l1] = life(t), [f2, l2] = life(u);
        expect(f1 > l2 || f2 > l1, `${t.label} and ${u.label} share a buffer while both live`).toBe(true);
      }
    }
    expect(new Set([a, b, c, d, out].map((t) => t.buffer)).size).toBe(slots.length);
    expect(slots.find((s) => s.tensors.includes(out))!.tensors).toEqual([out]);
    // 3 buffers for the 4 working tensors (at most 2 live at once; greedy by size), 1 for the persistent result
    expect(slots.length).toBe(4);
    expect(slots.reduce((sum, s) => sum + s.bytes, 0)).toBeLessThan([a, b, c, d, out].reduce((sum, t) => sum + t.bytes, 0));
  });

  it('refuses a tensor that a kernel reads before anything wrote it, naming both', () => {
    const ws = new Workspace(runtime());
    const t = ws.tensor('layer0.src.qkv', 10, 3);
    expect(() => ws.assign([use('linear:forward', [t, false])])).toThrow(/linear:forward reads "layer0.src.qkv" before any dispatch writes it/);
  });

  it('assigns through a recording: the reflected read/write access of real kernels drives the liveness', () => {
    const rt = runtime();
    const rec = rt.recorder('test');
    const ws = rec.workspace;
    const n = 1000;
    const x = ws.tensor('x', n, 1), y = ws.tensor('y', n, 1), z = ws.tensor('z', n, 1), w = ws.tensor('w', n, 1);
    fill(rt, rec, n, x, 1);
    scaleAdd(rt, rec, n, x, x, y, 1, 1);   // x's last use
    scaleAdd(rt, rec, n, y, y, z, 2, 0);   // y's last use; x died a dispatch ago, so z may take its buffer
    scaleAdd(rt, rec, n, z, z, w, 1, 0);
    const program = rec.freeze();
    expect(program.dispatches).toBe(4);
    expect(z.buffer).toBe(x.buffer);
    expect(w.buffer).toBe(y.buffer);
    expect(new Set([x, y, z, w].map((t) => t.buffer)).size).toBe(2);
    // a read of a never-written tensor through a real kernel (scale_add reads `a` and `b`)
    const rec2 = rt.recorder('bad');
    const never = rec2.workspace.tensor('never written', n, 1), out = rec2.workspace.tensor('out', n, 1);
    scaleAdd(rt, rec2, n, never, never, out, 1, 1);
    expect(() => rec2.freeze()).toThrow(/rows.scale_add:scale_add reads "never written"/);
  });
});
