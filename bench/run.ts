// `npm run bench`: energy+forces timings per system size and backend (WebGPU, float64 CPU, PyTorch), the WebGPU
// time per model stage from GPU timestamps (where the adapter has them), the node-attention kernel's
// achieved GFLOP/s against a matmul ceiling measured in the same run on the same adapter, and GPU
// bytes allocated. Prints a table and writes JSON to bench/results/. Ratios only mean something
// within one run: the machines are shared and noisy.
//
//   npm run bench -- [--model DIR] [--sizes 1,2,4] [--repeats 3] [--cpu-max-atoms 800] [--no-torch] [--json FILE]
//     --sizes: water-box supercell multiples of the 64-molecule box (192 atoms each)
//     --json: write the JSON there instead of bench/results/bench-<date>.json

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { computeCpu } from '../src/cpu/model';
import { readStructure } from '../src/io/read';
import type { Structure } from '../src/io/structure';
import { writeExtXyz } from '../src/io/xyz';
import { loadModelFromPath } from '../src/model/loadNode';
import { supercell } from '../src/ui/system/supercell';
import { acquireDevice } from '../src/gpu/device';
import { GpuRuntime } from '../src/gpu/runtime';
import { linearForward } from '../src/gpu/ops/linear';
import { GpuModel } from '../src/gpu/model';
import { eropeFrequencies } from '../src/model/architecture';
import { cellFrame, wrapPositions } from '../src/geometry/cell';
import { enumerateImages, imageRepeats, imageTranslations } from '../src/geometry/periodicImages';
import { nodeAttentionBackward, nodeAttentionForward, nodeAttentionGradSizes, packAtoms, packImages } from '../src/gpu/ops/nodeAttention';

interface Args { model: string; sizes: number[]; repeats: number; cpuMaxAtoms: number; torch: boolean; matmul: number; json: string }

function parseArgs(argv: string[]): Args {
  const a: Args = { model: '', sizes: [1, 2, 4, 8], repeats: 3, cpuMaxAtoms: 800, torch: true, matmul: 512, json: '' };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--') continue;
    if (k === '--model') a.model = argv[++i];
    else if (k === '--sizes') a.sizes = argv[++i].split(',').map(Number);
    else if (k === '--repeats') a.repeats = Number(argv[++i]);
    else if (k === '--cpu-max-atoms') a.cpuMaxAtoms = Number(argv[++i]);
    else if (k === '--matmul') a.matmul = Number(argv[++i]);
    else if (k === '--no-torch') a.torch = false;
    else if (k === '--json') a.json = argv[++i];
    else throw new Error(`unknown option ${k}`);
  }
  if (!a.model) {
    const index = 'public/models/index.json';
    if (!existsSync(index)) throw new Error('no --model given and public/models/index.json is missing');
    a.model = join('public/models', JSON.parse(readFileSync(index, 'utf8')).default);
  }
  return a;
}

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
}

/**
 * Median wall time of `run` including the GPU work: each run ends with a 4-byte read-back of `sync`
 * (mapAsync resolves when the queue has finished; Dawn for Node does not resolve onSubmittedWorkDone).
 */
async function timeGpu(rt: GpuRuntime, sync: GPUBuffer, repeats: number, run: () => Promise<void>): Promise<number> {
  await run(); // warm-up: pipeline creation
  await rt.read(sync, 1);
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await run();
    await rt.read(sync, 1);
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Water boxes: the 64-molecule box replicated m times along the shortest axes. */
function waterBoxes(multiples: number[]): Structure[] {
  const base = readStructure(readFileSync('public/systems/water64_box.xyz', 'utf8'), 'water64_box.xyz');
  return multiples.map((m) => {
    const dims = [1, 1, 1];
    for (let f = m, axis = 0; f > 1; axis = (axis + 1) % 3) {
      const p = [2, 3, 5, 7].find((q) => f % q === 0) ?? f;
      dims[axis] *= p;
      f /= p;
    }
    return supercell(base, dims[0], dims[1], dims[2]);
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const model = await loadModelFromPath(args.model);
  const arch = model.config.architecture;
  const ctx = await acquireDevice();
  const rt = new GpuRuntime(ctx.device);
  const result: Record<string, unknown> = {
    date: new Date().toISOString(), adapter: ctx.adapterDescription, model: args.model,
    architecture: { hidden: arch.hidden_size, layers: arch.num_layers, heads: arch.num_heads, erope: arch.use_erope, lae: arch.use_lae },
  };
  console.log(`adapter: ${ctx.adapterDescription}\nmodel: ${args.model} (H=${arch.hidden_size}, L=${arch.num_layers}, heads=${arch.num_heads})\n`);

  // 1. matmul ceiling on this adapter: y = x·Wᵀ, M = N = K
  const S = args.matmul;
  const x = rt.upload('bench.x', new Float32Array(S * S).map((_, i) => Math.sin(i)));
  const w = rt.upload('bench.w', new Float32Array(S * S).map((_, i) => Math.cos(i)));
  const y = rt.buffer('bench.y', 4 * S * S);
  const timeMatmul = () => timeGpu(rt, y, args.repeats, async () => {
    const rec = rt.recorder('bench-matmul');
    linearForward(rt, rec, { x, rows: S, layer: { weight: w, bias: null, inDim: S, outDim: S }, y });
    await rec.submit();
  });
  const matmulMs = await timeMatmul();
  const matmulGflops = (2 * S ** 3) / (matmulMs * 1e6);
  result.matmul = { size: S, ms: matmulMs, gflops: matmulGflops };
  console.log(`matmul ${S}³: ${matmulMs.toFixed(1)} ms, ${matmulGflops.toFixed(2)} GFLOP/s (ceiling)\n`);

  // 2. per system size: node attention kernel alone, then the whole model per backend
  const rows: Record<string, unknown>[] = [];
  const tmp = join(tmpdir(), 'scaip-bench');
  mkdirSync(tmp, { recursive: true });
  for (const s of waterBoxes(args.sizes)) {
    const n = s.numbers.length;
    const nh = arch.num_heads, d = arch.hidden_size / nh, H = arch.hidden_size;
    const shape = { n, numHeads: nh, headDim: d };
    const rand = (words: number, seed: number) => new Float32Array(words).map((_, i) => Math.sin(i * 0.37 + seed));
    // fused q‖k‖v as the model runs it; the box's own cell and images (the minimum image over them)
    const qkv = rt.upload('bench.qkv', rand(3 * n * H, 1)), dO = rt.upload('bench.dO', rand(n * H, 4));
    const cell = { vectors: Float64Array.from(s.cell!), pbc: [...s.pbc] as [boolean, boolean, boolean] };
    const translations = Float32Array.from(imageTranslations(enumerateImages(imageRepeats(cell, arch.cutoff)), cell.vectors));
    const images = packImages([translations], [cell]);
    const geometry = {
      atoms: rt.upload('bench.atoms', packAtoms(wrapPositions(s.positions, cellFrame(cell.vectors, cell.pbc)), new Array(n).fill(0))),
      aux: rt.upload('bench.aux', images.aux), imagesOffset: images.imagesOffset, metricOffset: images.metricOffset,
    };
    const erope = arch.use_erope ? { omega: eropeFrequencies(arch.erope_num_freq), radialWeight: new Array(nh * arch.erope_num_freq).fill(1 / 32) } : null;
    const sz = nodeAttentionGradSizes(shape);
    const o = rt.buffer('bench.o', 4 * n * H), stats = rt.buffer('bench.stats', 4 * sz.stats);
    const dQkv = rt.buffer('bench.dqkv', 4 * sz.dQkv), geo = rt.buffer('bench.geo', 4 * n * 12);
    // The ceiling again right before, between and after the two kernels (median of the three): on a shared
    // machine the rate moves by tens of percent within minutes, so each size is compared with its own. Give a
    // --matmul size whose run lasts about as long as the kernels (512 here): a short one catches quiet moments.
    const ceilingMs = [await timeMatmul()];
    const fwdMs = await timeGpu(rt, o, args.repeats, async () => {
      const rec = rt.recorder('bench-na-fwd');
      nodeAttentionForward(rt, rec, { shape, qkv, geometry, erope, o, stats });
      await rec.submit();
    });
    ceilingMs.push(await timeMatmul());
    const bwdMs = await timeGpu(rt, geo, args.repeats, async () => {
      const rec = rt.recorder('bench-na-bwd');
      nodeAttentionBackward(rt, rec, { shape, qkv, o, dO, stats, geometry, erope, dQkv, geometryGrad: geo });
      await rec.submit();
    });
    // FLOPs of the matrix products only: forward QKᵀ and PV; backward recomputes QKᵀ twice and adds dP, dQ, dK, dV.
    const pairFlops = 2 * n * n * H;
    ceilingMs.push(await timeMatmul());
    const ceilingGflops = (2 * S ** 3) / (median(ceilingMs) * 1e6);
    const fwdGflops = (2 * pairFlops) / (fwdMs * 1e6);
    const bwdGflops = (7 * pairFlops) / (bwdMs * 1e6);

    const row: Record<string, unknown> = {
      atoms: n, node_attention_fwd_ms: fwdMs, node_attention_fwd_gflops: fwdGflops,
      node_attention_bwd_ms: bwdMs, node_attention_bwd_gflops: bwdGflops,
      matmul_gflops_here: ceilingGflops, matmul_ms_here: ceilingMs,
      node_attention_fwd_vs_matmul: fwdGflops / ceilingGflops, node_attention_bwd_vs_matmul: bwdGflops / ceilingGflops,
      gpu_bytes_allocated: rt.allocatedBytes,
    };
    {
      const gpuModel = new GpuModel(rt, model);
      await gpuModel.compute(s); // warm-up: pipelines, buffers
      const times: number[] = [];
      for (let r = 0; r < args.repeats; r++) {
        const t0 = performance.now();
        await gpuModel.compute(s);
        times.push(performance.now() - t0);
      }
      row.webgpu_f32_ms = median(times);
      row.gpu_bytes_allocated = rt.allocatedBytes;
      if (rt.canTime) {
        // one more run with a timestamped compute pass per model stage (GPU time, no host work)
        rt.timing = true;
        row.webgpu_stage_ms = (await gpuModel.compute(s)).stageMs;
        rt.timing = false;
      }
    }
    if (n <= args.cpuMaxAtoms) {
      const times: number[] = [];
      for (let r = 0; r < Math.max(1, Math.min(args.repeats, 2)); r++) {
        const t0 = performance.now();
        computeCpu(model, s);
        times.push(performance.now() - t0);
      }
      row.cpu_f64_ms = median(times);
    }
    if (args.torch && n <= args.cpuMaxAtoms * 4) {
      const file = join(tmp, `water-${n}.extxyz`);
      writeFileSync(file, writeExtXyz([s]));
      try {
        const out = execFileSync('/usr/bin/python3', ['bench/torch_bench.py', args.model, file, String(args.repeats)], {
          encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
        });
        row.torch_f32_ms = JSON.parse(out.trim().split('\n').pop()!).median_ms;
      } catch (e) {
        row.torch_error = String(e).slice(0, 200);
      }
    }
    rows.push(row);
    const f = (x: unknown) => (typeof x === 'number' ? x.toFixed(x < 10 ? 2 : 0) : '—');
    console.log(
      `N=${String(n).padStart(5)}  matmul here ${f(ceilingGflops)} GFLOP/s  node-attn fwd ${f(fwdMs)} ms (${f(fwdGflops)} GFLOP/s, ${(100 * fwdGflops / ceilingGflops).toFixed(0)}% of matmul)` +
      `  bwd ${f(bwdMs)} ms (${f(bwdGflops)} GFLOP/s, ${(100 * bwdGflops / ceilingGflops).toFixed(0)}%)` +
      `  | E+F: WebGPU ${f(row.webgpu_f32_ms)} ms, CPU f64 ${f(row.cpu_f64_ms)} ms, torch f32 ${f(row.torch_f32_ms)} ms` +
      (typeof row.cpu_f64_ms === 'number' ? ` (CPU/WebGPU ${((row.cpu_f64_ms as number) / (row.webgpu_f32_ms as number)).toFixed(2)}×)` : '') +
      `  | GPU bytes ${rt.allocatedBytes}`,
    );
    const stageMs = row.webgpu_stage_ms as Record<string, number> | undefined;
    if (stageMs) {
      const total = Object.values(stageMs).reduce((a, b) => a + b, 0);
      console.log(`         WebGPU stages (GPU timestamps, ${f(total)} ms): ` +
        Object.entries(stageMs).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(100 * v / total).toFixed(0)}%`).join(', '));
    }
  }
  result.rows = rows;
  const out = args.json || `bench/results/bench-${result.date as string}.json`.replace(/:/g, '-');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2));
  console.log(`\nwrote ${out}`);
  rt.destroy();
  ctx.destroy();
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
