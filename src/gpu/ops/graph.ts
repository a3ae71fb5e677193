// Soft bi-kNN neighbor graph on the GPU (spec §1.2): candidates with periodic images, soft
// ranks, envelope, the padded slot layout with its reverse-slot map, the candidates-by-neighbor
// index, and the backward pass from per-slot gradients to ∂E/∂positions and the strain sum.
// Mirrors src/cpu/graph.ts (the float64 oracle) and src/cpu/geometryGradient.ts.
//
// Layout (what later kernels read):
//   slotMeta  (N·K)×vec4<i32>: (candidate, neighbor atom, image index, rev slot); candidate −1 = empty
//   slotGeom  (N·K)×vec4<f32>: (disp = pos_b + T_m − pos_a, distance)
//   slotEnv   (N·K)×vec4<f32>: (x, logsumexp weights of src rank, dst rank, distance)
//   slotKey   (N·K)×(i32, f32): neighbourhood attention's key: the slot read in the destination layout
//             (rev slot; the slot itself when empty) and the key bias −x²/(1−x²), −inf on empty slots
//   Slot a·K + 0 is atom a's self-loop; slots ascend in x. rev(a, r) = b·K + r' is the reverse
//   edge b→a, so the destination layout of row b is slot r ↦ rev(b, r) (a permutation).
import commonWgsl from '../../../shaders/graph/common.wgsl?raw';
import candidatesWgsl from '../../../shaders/graph/candidates.wgsl?raw';
import envelopeWgsl from '../../../shaders/graph/envelope.wgsl?raw';
import inverseIndexWgsl from '../../../shaders/graph/inverse_index.wgsl?raw';
import graphBackwardWgsl from '../../../shaders/graph/graph_backward.wgsl?raw';
import cellListWgsl from '../../../shaders/graph/cell_list.wgsl?raw';
import slotPermuteWgsl from '../../../shaders/graph/slot_permute.wgsl?raw';
import type { ArchitectureConfig } from '../../model/config';
import { cellHeights, cellInverse } from '../../geometry/cell';
import { enumerateImages, imageRepeats, imageTranslations } from '../../geometry/periodicImages';
import { OverlappingAtomsError, UnsupportedSystemError } from '../../model/systemCheck';
import { UNUSED, type Binding, type GpuRuntime, type Operand, type Recorder } from '../runtime';

const WG = 64;
/** Most candidates per row the search kernels hold (KC_CAP in shaders/graph/candidates.wgsl). */
export const MAX_CANDIDATES = 64;
const code = {
  candidates: `${commonWgsl}\n${candidatesWgsl}`,
  cells: `${commonWgsl}\n${cellListWgsl}`,
  permute: `${commonWgsl}\n${slotPermuteWgsl}`,
  envelope: `${commonWgsl}\n${envelopeWgsl}`,
  inverse: `${commonWgsl}\n${inverseIndexWgsl}`,
  backward: `${commonWgsl}\n${graphBackwardWgsl}`,
};

export type GraphSettings = Pick<
  ArchitectureConfig,
  'cutoff' | 'knn_k' | 'knn_soft' | 'knn_sigmoid_scale' | 'knn_lse_scale' | 'knn_candidates'
>;

export interface GpuCellInput {
  /** Lattice vectors as rows, 9 numbers, Å; null for a free cluster. */
  vectors: ArrayLike<number> | null;
  pbc: [boolean, boolean, boolean];
}

export interface GraphStatus {
  /** Most edges (slots in use) of any row; the tightest valid slot budget K. */
  maxEdges: number;
  /** Most candidates kept by any row (≤ knn_candidates). */
  maxCandidates: number;
  /** Most candidates within cutoff + 4·s of any row before the top-knn_candidates truncation. */
  maxWithinReach: number;
  /** Lowest-index pair of atoms on the same point, or null. */
  overlap: [number, number] | null;
  /** Rows with more edges than the slot budget K (their extra edges were dropped). */
  overflowRows: number;
  /** Lowest atom whose position is NaN or infinite, or null. */
  nonFiniteAtom: number | null;
}

export class SlotBudgetError extends Error {
  constructor(readonly needed: number, readonly budget: number, readonly rows: number) {
    super(`${rows} atom(s) have up to ${needed} graph edges but the slot budget is ${budget}: rebuild with slotBudget ≥ ${needed}`);
    this.name = 'SlotBudgetError';
  }
}

/** Buffers and sizes of one system's graph; reused across steps (see planGraph). */
export interface GpuGraph {
  numAtoms: number;
  /** knn_candidates: candidate budget per row. */
  kc: number;
  /** K: slot budget per row. */
  slots: number;
  numImages: number;
  /** Integer image shifts, M×3, in the CPU runtime's order. */
  imageShifts: Int32Array;
  params: Record<string, number | number[]>;
  /** 'cells': cell list (linear in N); 'all-pairs': every atom and image per row (reference). */
  search: NeighborSearch;
  /** Cells the grid may use (the cell-list buffers are sized for it). */
  maxCells: number;
  /** Pooled buffer sizes, bytes, by name (GraphLayout.bytes). */
  bytes: GraphBytes;
  /** Image translations T_m, M×vec4 (xyz used). */
  images: GPUBuffer;
  /** Positions wrapped into the cell, N×3. */
  positions: GPUBuffer;
  /** The same as N×vec4 (x, y, z, 0): node attention's atoms. */
  atoms: GPUBuffer;
  candMeta: GPUBuffer;
  candGeom: GPUBuffer;
  candRank: GPUBuffer;
  candEnv: GPUBuffer;
  candRev: GPUBuffer;
  candSlot: GPUBuffer;
  /** Per atom 4 words: kept candidates, edges, overlap partner + 1, candidates within reach. */
  counts: GPUBuffer;
  slotMeta: GPUBuffer;
  slotGeom: GPUBuffer;
  slotEnv: GPUBuffer;
  slotKey: GPUBuffer;
  status: GPUBuffer;
  /** Candidates grouped by neighbor: N+1 starts, then candidate indices. */
  inverse: GPUBuffer;
  inverseWork: GPUBuffer;
  grid: GPUBuffer;
  atomCell: GPUBuffer;
  cellWork: GPUBuffer;
  /** Cell list: max_cells + 1 starts, then the atoms of each cell. */
  cellIndex: GPUBuffer;
  /** Backward (recordGraphBackward): ∂E/∂disp per candidate, the results and the strain's per-atom parts. */
  candGdisp: GPUBuffer;
  gradPositions: GPUBuffer;
  strainPart: GPUBuffer;
  strain: GPUBuffer;
}

export type NeighborSearch = 'cells' | 'all-pairs';

/** A slot budget that can never overflow: x < 1 needs rank_src < k, and the j-th nearest has rank ≥ (j+1)/2. */
export function safeSlotBudget(arch: GraphSettings): number {
  return Math.min(2 * Math.ceil(arch.knn_k) - 1, arch.knn_candidates);
}

/** Everything about a graph's sizes and parameters that needs no device (see planGraph). */
export interface GraphLayout {
  numAtoms: number; kc: number; slots: number; numImages: number; imageShifts: Int32Array;
  imageTranslations: Float32Array; params: Record<string, number | number[]>; search: NeighborSearch; maxCells: number;
  /** Bytes of every pooled buffer the graph build and its backward use, by name. */
  bytes: GraphBytes;
}

export function graphLayout(
  arch: GraphSettings, numAtoms: number, cell: GpuCellInput, slotBudget: number = safeSlotBudget(arch),
  search: NeighborSearch = 'cells',
): GraphLayout {
  if (!arch.knn_soft) throw new Error('only the soft bi-kNN graph (knn_soft: true) is implemented');
  if (!(numAtoms > 0)) throw new RangeError(`the graph needs at least one atom (got ${numAtoms})`);
  const K = Math.floor(slotBudget);
  if (!(K >= 1)) throw new RangeError(`slot budget must be ≥ 1 (got ${slotBudget})`);
  const kc = arch.knn_candidates;
  if (!(Number.isInteger(kc) && kc >= 1 && kc <= MAX_CANDIDATES))
    throw new RangeError(`knn_candidates = ${kc}: the WGSL neighbor search keeps 1 to ${MAX_CANDIDATES} candidates per atom (KC_CAP in shaders/graph/candidates.wgsl)`);
  const periodic = !!cell.vectors && cell.pbc.some(Boolean);
  const vectors = periodic ? Float64Array.from(cell.vectors!) : new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  if (periodic && vectors.length !== 9) throw new RangeError(`the cell needs 9 numbers (got ${vectors.length})`);
  const cpuCell = periodic ? { vectors, pbc: cell.pbc } : null;
  // Refuses (PeriodicImageError) a cell too thin for the cutoff before any buffer is sized from it.
  const reps = imageRepeats(cpuCell, arch.cutoff);
  const inv = cellInverse(vectors);
  const imageShifts = enumerateImages(reps);
  const M = imageShifts.length / 3;
  const T64 = imageTranslations(imageShifts, periodic ? vectors : null);
  const T = new Float32Array(M * 4);
  for (let m = 0; m < M; m++) for (let k = 0; k < 3; k++) T[4 * m + k] = T64[3 * m + k];
  const reach = arch.cutoff + 4 * arch.knn_sigmoid_scale;
  const row = (i: number) => [vectors[3 * i], vectors[3 * i + 1], vectors[3 * i + 2]];
  const col = (k: number) => [inv[k], inv[3 + k], inv[6 + k]];
  const grid = cellListGrid(vectors, [0, 1, 2].map((k) => periodic && cell.pbc[k]), reach, numAtoms);
  const maxCells = grid.maxCells;
  const params = {
    rep: reps, grid_n: grid.gridN, cell_frac: grid.cellFrac, reach_cells: grid.reachCells, max_cells: maxCells,
    n_atoms: numAtoms, kc, k_slots: K, n_images: M,
    pbc: periodic ? (cell.pbc[0] ? 1 : 0) | (cell.pbc[1] ? 2 : 0) | (cell.pbc[2] ? 4 : 0) : 0,
    cutoff: arch.cutoff, reach2: reach * reach, sigmoid_scale: arch.knn_sigmoid_scale,
    knn_k: arch.knn_k, lse_scale: arch.knn_lse_scale,
    lat0: row(0), lat1: row(1), lat2: row(2), rec0: col(0), rec1: col(1), rec2: col(2),
  };
  const bytes = graphBytes(numAtoms, kc, K, maxCells, T.byteLength);
  return { numAtoms, kc, slots: K, numImages: M, imageShifts, imageTranslations: T, params, search, maxCells, bytes };
}

/**
 * The cell list of the neighbour search: per axis the width perpendicular to the other two lattice vectors;
 * cells at least `reach` wide (a hair more, so float rounding of fractional coordinates cannot lose a pair).
 */
function cellListGrid(vectors: Float64Array, isPeriodic: boolean[], reach: number, numAtoms: number) {
  const slack = reach * (1 + 1e-4);
  const width = cellHeights(vectors);
  const gridN = [1, 1, 1], reachCells = [1, 1, 1];
  let periodicCells = 1, openAxes = 0;
  for (let k = 0; k < 3; k++) {
    if (!isPeriodic[k]) { openAxes++; continue; }
    gridN[k] = Math.max(1, Math.floor(width[k] / slack));
    reachCells[k] = gridN[k] > 1 ? 1 : Math.max(1, Math.ceil(slack / width[k]));
    periodicCells *= gridN[k];
  }
  // Memory stays linear in N: a dilute periodic box gets coarser cells (still ≥ reach wide).
  const budget = 2 * numAtoms + 27;
  while (periodicCells > budget) {
    const k = [0, 1, 2].reduce((best, i) => (gridN[i] > gridN[best] ? i : best), 0);
    gridN[k] = Math.max(1, Math.floor(gridN[k] / 2));
    periodicCells = gridN[0] * gridN[1] * gridN[2];
  }
  const cap = openAxes ? Math.max(1, Math.floor((budget / periodicCells) ** (1 / openAxes) + 1e-9)) : 1;
  for (let k = 0; k < 3; k++) if (!isPeriodic[k]) gridN[k] = cap;
  return { gridN, reachCells, cellFrac: width.map((w) => slack / w), maxCells: periodicCells * cap ** openAxes };
}

/** The graph's pooled buffers and their bytes (GraphLayout.bytes). */
export type GraphBytes = ReturnType<typeof graphBytes>;

/** Bytes of every pooled buffer of the graph build and its backward (C candidates, S slots). */
function graphBytes(numAtoms: number, kc: number, K: number, maxCells: number, imageBytes: number) {
  const C = numAtoms * kc, S = numAtoms * K;
  return {
    images: imageBytes, positions: numAtoms * 12, atoms: numAtoms * 16,
    candMeta: C * 8, candGeom: C * 16, candRank: C * 4, candEnv: C * 16, candRev: C * 4, candSlot: C * 4,
    counts: numAtoms * 16,
    slotMeta: S * 16, slotGeom: S * 16, slotEnv: S * 16, slotKey: S * 8,
    status: 32, inverse: (numAtoms + 1 + C) * 4, inverseWork: 2 * numAtoms * 4,
    grid: 64, atomCell: numAtoms * 4, cellWork: 2 * maxCells * 4, cellIndex: (maxCells + 1 + numAtoms) * 4,
    // backward
    candGdisp: C * 16, gradPositions: numAtoms * 12, strainPart: numAtoms * 36, strain: 36,
  };
}

/**
 * Size (or grow) the graph buffers for `numAtoms` atoms in `cell` and upload the image
 * translations. `slotBudget` is K, the slots per row: at least the largest edge count of
 * any row (readGraphStatus tells it; safeSlotBudget never overflows).
 */
export function planGraph(
  rt: GpuRuntime, arch: GraphSettings, numAtoms: number, cell: GpuCellInput, slotBudget: number = safeSlotBudget(arch),
  search: NeighborSearch = 'cells',
): GpuGraph {
  const L = graphLayout(arch, numAtoms, cell, slotBudget, search);
  const b = (name: keyof GraphBytes) => rt.buffer(`graph.${name}`, L.bytes[name]);
  return {
    numAtoms, kc: L.kc, slots: L.slots, numImages: L.numImages, imageShifts: L.imageShifts, params: L.params,
    search, maxCells: L.maxCells, bytes: L.bytes,
    images: rt.upload('graph.images', L.imageTranslations),
    positions: b('positions'), atoms: b('atoms'), candMeta: b('candMeta'), candGeom: b('candGeom'), candRank: b('candRank'),
    candEnv: b('candEnv'), candRev: b('candRev'), candSlot: b('candSlot'), counts: b('counts'),
    slotMeta: b('slotMeta'), slotGeom: b('slotGeom'), slotEnv: b('slotEnv'), slotKey: b('slotKey'),
    status: b('status'), inverse: b('inverse'), inverseWork: b('inverseWork'),
    grid: b('grid'), atomCell: b('atomCell'), cellWork: b('cellWork'), cellIndex: b('cellIndex'),
    candGdisp: b('candGdisp'), gradPositions: b('gradPositions'), strainPart: b('strainPart'), strain: b('strain'),
  };
}

const groups = (n: number) => Math.ceil(n / WG);

/**
 * Queue the graph build from raw positions (N×3 f32, Å; wrapped into the cell on the GPU),
 * including the by-neighbor index the backward pass needs.
 */
export function recordGraphBuild(rt: GpuRuntime, rec: Recorder, g: GpuGraph, positionsIn: GPUBuffer, positionsStride: 3 | 4 = 3): void {
  const n = g.numAtoms, C = n * g.kc, S = n * g.slots;
  const k = (file: keyof typeof code, entryPoint: string) => rt.kernel({ label: `graph.${file}`, code: code[file], entryPoint });
  const p = g.params;
  rec.dispatch(k('candidates', 'wrap_positions'), { positions_in: positionsIn, positions: g.positions, inv_work: g.inverseWork, atoms: g.atoms },
    { ...p, positions_stride: positionsStride }, groups(n));
  const candidateOut = { positions: g.positions, images: g.images, cand_meta: g.candMeta, cand_geom: g.candGeom, counts: g.counts };
  if (g.search === 'cells') {
    const cl = { positions: g.positions, grid: g.grid, atom_cell: g.atomCell, cell_work: g.cellWork, cell_index: g.cellIndex };
    rec.dispatch(k('cells', 'cell_bounds'), { positions: cl.positions, grid: cl.grid, cell_work: cl.cell_work }, p, 1);
    rec.dispatch(k('cells', 'cell_count'), { positions: cl.positions, grid_in: g.grid, atom_cell: cl.atom_cell, cell_work: cl.cell_work }, p, groups(n));
    rec.dispatch(k('cells', 'cell_scan'), { grid_in: g.grid, cell_work: cl.cell_work, cell_index: cl.cell_index }, p, 1);
    rec.dispatch(k('cells', 'cell_fill'), { atom_cell: cl.atom_cell, cell_work: cl.cell_work, cell_index: cl.cell_index }, p, groups(n));
    rec.dispatch(k('candidates', 'candidates_cells'), {
      ...candidateOut, grid: g.grid, atom_cell: g.atomCell, cell_index: g.cellIndex,
    }, p, groups(n));
  } else {
    rec.dispatch(k('candidates', 'candidates'), candidateOut, p, groups(n));
  }
  rec.dispatch(k('candidates', 'soft_rank'), { cand_geom_in: g.candGeom, counts_in: g.counts, cand_rank: g.candRank }, p, groups(C));
  rec.dispatch(k('envelope', 'envelope'), {
    cand_meta: g.candMeta, cand_geom: g.candGeom, cand_rank: g.candRank, cand_env: g.candEnv, cand_rev: g.candRev, counts: g.counts,
  }, p, groups(C));
  rec.dispatch(k('envelope', 'slot_layout'), {
    cand_meta: g.candMeta, cand_geom: g.candGeom, counts: g.counts, cand_env_in: g.candEnv, cand_slot: g.candSlot,
    slot_meta: g.slotMeta, slot_geom: g.slotGeom, slot_env: g.slotEnv,
  }, p, groups(C));
  rec.dispatch(k('envelope', 'reverse_slot'), {
    counts: g.counts, slot_meta: g.slotMeta, slot_env: g.slotEnv, cand_rev_in: g.candRev, cand_slot_in: g.candSlot,
    slot_geom: g.slotGeom, slot_key: g.slotKey,
  }, p, groups(S));
  rec.dispatch(k('envelope', 'graph_stats'), { counts: g.counts, status: g.status }, p, 1);
  const inv = { cand_meta: g.candMeta, counts: g.counts, work: g.inverseWork, inv: g.inverse };
  rec.dispatch(k('inverse', 'inv_count'), { cand_meta: g.candMeta, counts: g.counts, work: g.inverseWork }, p, groups(C));
  rec.dispatch(k('inverse', 'inv_scan'), { work: g.inverseWork, inv: g.inverse }, p, 1);
  rec.dispatch(k('inverse', 'inv_fill'), inv, p, groups(C));
  rec.dispatch(k('inverse', 'inv_sort'), { inv: g.inverse }, p, groups(n));
}

async function readWords(rt: GpuRuntime, buf: GPUBuffer, count: number): Promise<Uint32Array> {
  const f = await rt.read(buf, count);
  return new Uint32Array(f.buffer, f.byteOffset, count);
}

/** Read the build's summary (one small readback). */
export async function readGraphStatus(rt: GpuRuntime, g: GpuGraph): Promise<GraphStatus> {
  const s = await readWords(rt, g.status, 7);
  return {
    maxEdges: s[0], maxCandidates: s[1], maxWithinReach: s[2],
    overlap: s[3] === 0 ? null : [Math.min(s[3] - 1, s[4]), Math.max(s[3] - 1, s[4])],
    overflowRows: s[5],
    nonFiniteAtom: s[6] === 0 ? null : s[6] - 1,
  };
}

/** Throw the error the CPU runtime would (non-finite position, overlapping atoms) or a SlotBudgetError. */
export function checkGraphStatus(status: GraphStatus, g: GpuGraph): void {
  if (status.nonFiniteAtom !== null) {
    const atom = status.nonFiniteAtom;
    throw new UnsupportedSystemError([{ kind: 'non-finite-position', atoms: [atom], message: `atom ${atom} has a non-finite coordinate` }], 'this model');
  }
  if (status.overlap) throw new OverlappingAtomsError(status.overlap[0], status.overlap[1]);
  if (status.overflowRows > 0) throw new SlotBudgetError(status.maxEdges, g.slots, status.overflowRows);
}

export interface GraphGradients {
  /** ∂E/∂positions, N×3 f32. */
  gradPositions: GPUBuffer;
  /** Σ disp ⊗ ∂E/∂disp over every displacement, 3×3 row-major (stress = sym(·)/V). */
  strain: GPUBuffer;
}

/**
 * Queue the graph backward. slotGrad/slotGunit come from recordFeaturesBackward
 * (src/gpu/ops/features.ts). `extra` (N×12 f32: ∂E/∂pos_a, then row a's 3×3 strain sum) adds
 * displacement gradients from outside the graph, e.g. the ERoPE pair distances.
 */
export function recordGraphBackward(
  rt: GpuRuntime, rec: Recorder, g: GpuGraph,
  a: { slotGrad: GPUBuffer; slotGunit: GPUBuffer; extra?: Operand },
): GraphGradients {
  const n = g.numAtoms, C = n * g.kc;
  const p = g.params;
  const { candGdisp, gradPositions, strainPart, strain } = g;
  const kernel = (entryPoint: string, constants?: Record<string, number>) =>
    rt.kernel({ label: 'graph.backward', code: code.backward, entryPoint, constants });
  rec.dispatch(kernel('candidate_grad'), {
    counts: g.counts, cand_geom: g.candGeom, cand_slot: g.candSlot, slot_grad: a.slotGrad, slot_gunit: a.slotGunit, cand_gdisp: candGdisp,
  }, p, groups(C));
  const extra = !!a.extra;
  const atomBindings: Record<string, Binding> = {
    counts: g.counts, cand_geom: g.candGeom, cand_gdisp_in: candGdisp, inv: g.inverse, grad_pos: gradPositions, strain_part: strainPart,
  };
  atomBindings.extra = a.extra ?? UNUSED;
  rec.dispatch(kernel('atom_grad', { HAS_EXTRA: extra ? 1 : 0 }), atomBindings, p, groups(n));
  rec.dispatch(kernel('strain_reduce'), { strain_part_in: strainPart, strain }, p, 1);
  return { gradPositions, strain };
}

/**
 * out[s] = input[rev(s)] for every slot s, `width` floats per slot (0 on empty slots): src →
 * dst layout and back (rev is an involution), and the backward of either direction.
 */
export function recordSlotPermute(
  rt: GpuRuntime, rec: Recorder, g: GpuGraph, a: { input: GPUBuffer; output: GPUBuffer; width: number },
): void {
  if (a.input === a.output) throw new Error('recordSlotPermute: input and output must be different buffers');
  const k = rt.kernel({ label: 'graph.permute', code: code.permute, entryPoint: 'permute_slots' });
  rec.dispatch(k, { slot_meta: g.slotMeta, src: a.input, dst: a.output }, { ...g.params, permute_width: a.width },
    groups(g.numAtoms * g.slots * a.width));
}
