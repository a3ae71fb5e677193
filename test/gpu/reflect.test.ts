// The reflection helper behind the MD kernels' layouts (src/gpu/reflect.ts), on a device stand-in that records the
// descriptors it is given: the shared layout is the union of the entry points' bindings, the bind group is keyed
// by WGSL variable name, and the host's uniform and control blocks have the sizes the WGSL declares.
import { describe, expect, it } from 'vitest';
import commonSource from '../../shaders/md/common.wgsl?raw';
import ljSource from '../../shaders/md/lj.wgsl?raw';
import pullSource from '../../shaders/md/pull.wgsl?raw';
import { setFields, SharedBindingShader, structDefinition, uniformView } from '../../src/gpu/reflect';
import { CONTROL_BYTES, controlView } from '../../src/md/gpuEngine';

// WebGPU's flag constants where no Dawn globals are installed (reflection reads GPUShaderStage).
(globalThis as Record<string, unknown>).GPUShaderStage ??= { VERTEX: 1, FRAGMENT: 2, COMPUTE: 4 };

/** A device that keeps the layout and bind group descriptors it is asked for. */
function recordingDevice() {
  const log = { layouts: [] as GPUBindGroupLayoutDescriptor[], groups: [] as GPUBindGroupDescriptor[], pipelines: [] as string[] };
  const device = {
    createBindGroupLayout: (d: GPUBindGroupLayoutDescriptor) => { log.layouts.push(d); return d; },
    createPipelineLayout: () => ({}),
    createShaderModule: () => ({}),
    createComputePipeline: (d: GPUComputePipelineDescriptor) => { log.pipelines.push(d.compute.entryPoint!); return {}; },
    createBindGroup: (d: GPUBindGroupDescriptor) => { log.groups.push(d); return d; },
  };
  return { device: device as unknown as GPUDevice, log };
}

const buffer = (label: string) => ({ label }) as GPUBuffer;

describe('SharedBindingShader', () => {
  it('lays out every binding any entry point uses (lj_reduce alone reads no positions), with the reflected access', () => {
    const { device, log } = recordingDevice();
    const shader = new SharedBindingShader(device, 'shaders/md/lj.wgsl', ljSource, ['lj_forces', 'lj_reduce']);
    expect(log.pipelines).toEqual(['lj_forces', 'lj_reduce']);
    const entries = [...log.layouts[0].entries];
    expect(entries.map((e) => e.binding)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(entries.map((e) => e.buffer?.type ?? 'uniform')).toEqual(
      ['uniform', 'read-only-storage', 'storage', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'storage']);
    const names = ['L', 'pos', 'frc', 'types', 'pair', 'box', 'out', 'per_atom'];
    shader.bindGroup(Object.fromEntries(names.map((n) => [n, buffer(n)])));
    const bound = log.groups[0].entries as GPUBindGroupEntry[];
    expect(bound.map((e) => [e.binding, ((e.resource as GPUBufferBinding).buffer as GPUBuffer).label])).toEqual(names.map((n, i) => [i, n]));
  });

  it('binds only what its entry points use, and names a missing or unknown buffer', () => {
    const { device, log } = recordingDevice();
    const shader = new SharedBindingShader(device, 'shaders/md/pull.wgsl', pullSource, ['pull_begin']);
    expect(log.layouts[0].entries).toHaveLength(3); // U, pos, state: pull_begin neither reads the springs nor adds forces
    const all = { U: buffer('U'), pos: buffer('pos'), frc: buffer('frc'), spec: buffer('spec'), state: buffer('state') };
    shader.bindGroup(all);
    expect((log.groups[0].entries as GPUBindGroupEntry[]).map((e) => e.binding)).toEqual([0, 1, 4]);
    expect(() => shader.bindGroup({ U: all.U, pos: all.pos })).toThrow('shaders/md/pull.wgsl: no buffer given for binding "state"');
    expect(() => shader.bindGroup({ ...all, vel: buffer('vel') })).toThrow('WGSL declares no buffer "vel"');
  });

  it('names the file and entry point when a pipeline fails to compile', () => {
    const { device } = recordingDevice();
    (device as unknown as { createComputePipeline: () => never }).createComputePipeline = () => { throw new Error('bad'); };
    expect(() => new SharedBindingShader(device, 'shaders/md/pull.wgsl', pullSource, ['pull'])).toThrow('compiling shaders/md/pull.wgsl (pull) failed');
    expect(() => new SharedBindingShader(device, 'shaders/md/pull.wgsl', pullSource, ['push'])).toThrow('no entry point "push"');
  });
});

describe('reflected MD blocks', () => {
  it('uniforms have the WGSL sizes and refuse fields the struct lacks', () => {
    expect(uniformView(ljSource, 'L').arrayBuffer.byteLength).toBe(32);
    const u = uniformView(pullSource, 'U');
    expect(u.arrayBuffer.byteLength).toBe(32);
    setFields(u, { anchor: [1, 2, 3, 4], n: 5, enabled: 1 });
    expect([...new Float32Array(u.arrayBuffer, 0, 4)]).toEqual([1, 2, 3, 4]);
    expect([...new Uint32Array(u.arrayBuffer, 16, 2)]).toEqual([5, 1]);
    expect(() => setFields(u, { stiffness: 1 })).toThrow('no field "stiffness"');
  });

  it('the Control struct fits the control buffer and its checkpoint blob', () => {
    expect(structDefinition(commonSource, 'Control').size).toBeLessThanOrEqual(CONTROL_BYTES);
    expect(controlView().arrayBuffer.byteLength).toBe(CONTROL_BYTES);
  });
});
