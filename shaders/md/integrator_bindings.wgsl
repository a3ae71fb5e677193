// The integrator bind group shared by verlet, langevin, kinetic, bussi, nhc and fire (prepended after common.wgsl
// by src/md/gpuEngine.ts, which binds its buffers by these variable names). The barostat has its own layout.
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> pos: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> vel: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> frc: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> inv_mass: array<f32>;
@group(0) @binding(5) var<storage, read_write> ctl: Control;
// Watchdog: [0] faults seen, [1] step and [2] atom of the first one (non-finite state or |F| above the limit).
@group(0) @binding(6) var<storage, read_write> watch: array<atomic<u32>, 4>;
