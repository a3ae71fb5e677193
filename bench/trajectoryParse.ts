// Benchmark (not a test): writes a ~200 MB extXYZ trajectory (1,000 Ar atoms per frame with forces, momenta, energy,
// per-frame cell and time, as ASE and `npm run md` write them), opens it with the workbench's trajectory reader
// (src/ui/trajectory/open.ts, the code the parser worker runs, here on a Node Blob) and reports the time to index
// and read every frame, frames per second and the peak memory of the process.
//   npx vite-node bench/trajectoryParse.ts -- [--mb 200] [--file /tmp/traj.extxyz] [--keep]
import { createWriteStream, existsSync, openAsBlob, rmSync, statSync } from 'node:fs';
import { blobSource } from '../src/ui/trajectory/byteSource';
import { openTrajectory } from '../src/ui/trajectory/open';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const targetMb = Number(arg('mb', '200'));
const file = arg('file', '/tmp/scaip-bench-trajectory.extxyz');
const atoms = 1000;

async function write(): Promise<void> {
  const out = createWriteStream(file);
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const f = (x: number) => x.toFixed(8).padStart(14);
  // Atom blocks are drawn once and cycled (writing is not what is measured); each frame has its own comment line.
  const blocks = Array.from({ length: 16 }, () => {
    const lines: string[] = [];
    for (let a = 0; a < atoms; a++) {
      lines.push(`Ar ${f(24 * rand())} ${f(24 * rand())} ${f(24 * rand())} ${f(rand() - 0.5)} ${f(rand() - 0.5)} ${f(rand() - 0.5)} ${f(rand() - 0.5)} ${f(rand() - 0.5)} ${f(rand() - 0.5)}`);
    }
    return lines.join('\n') + '\n';
  });
  let bytes = 0;
  for (let k = 0; bytes < targetMb * 1e6; k++) {
    const L = 25 + 0.05 * Math.sin(k / 10);
    const text = `${atoms}\nLattice="${L} 0.0 0.0 0.0 ${L} 0.0 0.0 0.0 ${L}" Properties=species:S:1:pos:R:3:forces:R:3:momenta:R:3 energy=${(-80 + rand()).toFixed(8)} time_fs=${10 * k} step=${20 * k} pbc="T T T"\n${blocks[k % blocks.length]}`;
    bytes += text.length;
    if (!out.write(text)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
}

async function main(): Promise<void> {
  if (!existsSync(file) || Math.abs(statSync(file).size - targetMb * 1e6) > 5e6) {
    const t0 = performance.now();
    await write();
    console.log(`wrote ${file} (${(statSync(file).size / 1e6).toFixed(1)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  global.gc?.();
  const base = process.memoryUsage();
  let peakRss = base.rss, peakHeap = base.heapUsed, peakExternal = base.external + base.arrayBuffers;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakExternal = Math.max(peakExternal, m.external + m.arrayBuffers);
  };
  const timer = setInterval(sample, 20);
  let indexedAt = 0;
  const t0 = performance.now();
  const t = await openTrajectory(blobSource(await openAsBlob(file)), 'bench.extxyz', 256 * 2 ** 20, (fraction) => {
    sample();
    if (fraction >= 0.25 && !indexedAt) indexedAt = performance.now();
  });
  const total = (performance.now() - t0) / 1000;
  clearInterval(timer);
  sample();
  const mib = (x: number) => +(x / 2 ** 20).toFixed(1);
  const result = {
    file_MB: +(statSync(file).size / 1e6).toFixed(1),
    frames: t.summary.frames,
    atoms,
    index_s: +((indexedAt - t0) / 1000).toFixed(2),
    total_s: +total.toFixed(2),
    MB_per_s: +(statSync(file).size / 1e6 / total).toFixed(1),
    frames_per_s: +(t.summary.frames / total).toFixed(0),
    base_rss_MiB: mib(base.rss),
    peak_rss_MiB: mib(peakRss),
    peak_heap_MiB: mib(peakHeap),
    peak_buffers_MiB: mib(peakExternal),
    node: process.version,
  };
  console.log(JSON.stringify(result, null, 2));
  if (!args.includes('--keep')) rmSync(file);
}

void main();
