// WGSL reflection shared by the model kernels (runtime.ts) and the MD families (src/md): bind group layouts,
// binding indices and uniform/struct byte layouts come from the shader source, never from TypeScript tables.
import './float16Shim';
import {
  makeBindGroupLayoutDescriptors,
  makeShaderDataDefinitions,
  makeStructuredView,
  type ShaderDataDefinitions,
  type StructDefinition,
  type StructuredView,
} from 'webgpu-utils';

const defsByCode = new Map<string, ShaderDataDefinitions>();

/** The reflection of `code` (parsed once per distinct source). */
export function shaderDefinitions(code: string): ShaderDataDefinitions {
  let defs = defsByCode.get(code);
  if (!defs) {
    defs = makeShaderDataDefinitions(code);
    defsByCode.set(code, defs);
  }
  return defs;
}

/** A structured view of `var<uniform> name` in `code`, zero-filled, sized as the WGSL lays it out. */
export function uniformView(code: string, name: string): StructuredView {
  const def = shaderDefinitions(code).uniforms[name];
  if (!def) throw new Error(`WGSL has no uniform "${name}"`);
  return makeStructuredView(def);
}

/** The layout of `struct name` in `code` (field offsets in bytes, size). */
export function structDefinition(code: string, name: string): StructDefinition {
  const def = shaderDefinitions(code).structs[name];
  if (!def) throw new Error(`WGSL has no struct "${name}"`);
  return def;
}

/** A structured view of `struct name` in `code` on `raw` from byte `offset` (a fresh zeroed one by default). */
export function structView(code: string, name: string, raw?: ArrayBuffer, offset?: number): StructuredView {
  return makeStructuredView(structDefinition(code, name), raw, offset);
}

/**
 * One WGSL module whose entry points share one bind group (group 0): a pipeline per entry point on an explicit
 * layout, the union of every entry point's reflected resources. (Layout 'auto' would give each pipeline its own
 * layout without the bindings it does not use, and one bind group could not serve them all.)
 */
export class SharedBindingShader {
  readonly pipelines = new Map<string, GPUComputePipeline>();
  readonly layout: GPUBindGroupLayout;
  /** Binding index by WGSL variable name, for the resources any entry point uses. */
  readonly bindings = new Map<string, number>();
  private readonly defs: ShaderDataDefinitions;

  /** `file` names the source in labels and compile errors (e.g. shaders/md/verlet.wgsl). */
  constructor(private readonly device: GPUDevice, readonly file: string, code: string, entryPoints: string[]) {
    this.defs = shaderDefinitions(code);
    const entries = new Map<number, GPUBindGroupLayoutEntry>();
    for (const entryPoint of entryPoints) {
      const ep = this.defs.entryPoints[entryPoint];
      if (!ep) throw new Error(`${file}: WGSL has no entry point "${entryPoint}"`);
      for (const r of ep.resources) {
        if (r.group !== 0) throw new Error(`${file}: "${r.name}" is in group ${r.group}; only group 0 is bound`);
        this.bindings.set(r.name, r.entry.binding);
      }
      const [group0] = makeBindGroupLayoutDescriptors(this.defs, { compute: { entryPoint } });
      for (const e of group0?.entries ?? []) entries.set(e.binding, e);
    }
    const label = file.split('/').pop()!;
    this.layout = device.createBindGroupLayout({ label, entries: [...entries.values()].sort((a, b) => a.binding - b.binding) });
    const module = device.createShaderModule({ code, label });
    const layout = device.createPipelineLayout({ bindGroupLayouts: [this.layout] });
    for (const entryPoint of entryPoints) {
      try {
        this.pipelines.set(entryPoint, device.createComputePipeline({ layout, compute: { module, entryPoint }, label: entryPoint }));
      } catch (e) {
        throw new Error(`compiling ${file} (${entryPoint}) failed: ${String(e)}`);
      }
    }
  }

  /**
   * The bind group over `buffers`, keyed by WGSL variable name: every resource of the layout must be given; names
   * the module declares but these entry points do not use are left out (one map can serve several modules).
   */
  bindGroup(buffers: Record<string, GPUBuffer>): GPUBindGroup {
    for (const name of Object.keys(buffers)) {
      if (!(name in this.defs.uniforms || name in this.defs.storages)) throw new Error(`${this.file}: WGSL declares no buffer "${name}"`);
    }
    const entries: GPUBindGroupEntry[] = [];
    for (const [name, binding] of [...this.bindings].sort((x, y) => x[1] - y[1])) {
      const buffer = buffers[name];
      if (!buffer) throw new Error(`${this.file}: no buffer given for binding "${name}"`);
      entries.push({ binding, resource: { buffer } });
    }
    return this.device.createBindGroup({ label: this.file, layout: this.layout, entries });
  }
}

/** view.set(values), refusing a name the WGSL struct lacks (view.set alone would skip it silently). */
export function setFields(view: StructuredView, values: Record<string, number | number[]>): void {
  for (const name of Object.keys(values)) if (!(name in view.views)) throw new Error(`WGSL struct has no field "${name}"`);
  view.set(values);
}
