// Summary of scripts/gpu-check.sh: reads the vitest JSON reports and the bench JSON in OUT_DIR and writes
// OUT_DIR/gpu-check.json and OUT_DIR/gpu-check.md.
//   node scripts/gpu-check-report.mjs OUT_DIR MODE TOTAL_SECONDS
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [out, mode, totalSeconds] = process.argv.slice(2);
const read = (f) => (existsSync(join(out, f)) ? readFileSync(join(out, f), 'utf8') : null);
const json = (f) => { const t = read(f); try { return t ? JSON.parse(t) : null; } catch { return null; } };

function suite(name) {
  const v = json(`${name}.vitest.json`);
  const exit = Number(read(`${name}.rc`) ?? NaN);
  const seconds = Number(read(`${name}.seconds`) ?? NaN);
  if (!v) return { name, exit, seconds, passed: 0, failed: 0, skipped: 0, failures: ['no vitest report (see the log)'] };
  const failures = [];
  for (const file of v.testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      if (t.status === 'failed') failures.push(`${file.name.replace(/^.*\/test\//, 'test/')}: ${t.fullName}: ${(t.failureMessages ?? []).join(' ').split('\n')[0].slice(0, 300)}`);
    }
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failures.push(`${file.name}: ${String(file.message).slice(0, 300)}`);
  }
  return { name, exit, seconds, passed: v.numPassedTests, failed: v.numFailedTests, skipped: v.numPendingTests + v.numTodoTests, failures };
}

// The adapter each part ran on: Node's from the bench (same Dawn set-up as the parity suites), Chromium's from its log.
const bench = json('bench.json');
const browserLog = read('browser-parity.log') ?? '';
const browserAdapter = (browserLog.match(/adapter[:=]\s*([^\n]+)/i) ?? [])[1] ?? null;
const report = {
  date: new Date().toISOString(), mode, total_seconds: Number(totalSeconds),
  node_adapter: bench?.adapter ?? null, browser_adapter: browserAdapter,
  suites: [suite('node-parity'), suite('browser-parity')],
  bench: bench ? {
    exit: Number(read('bench.rc')), seconds: Number(read('bench.seconds')), model: bench.model, matmul: bench.matmul,
    rows: bench.rows,
  } : { exit: Number(read('bench.rc') ?? NaN), seconds: Number(read('bench.seconds') ?? NaN), error: (read('bench.log') ?? '').split('\n').slice(-5).join('\n') },
};
writeFileSync(join(out, 'gpu-check.json'), JSON.stringify(report, null, 2) + '\n');

const ms = (x) => (typeof x === 'number' ? (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(1)} ms`) : '–');
const pct = (x) => (typeof x === 'number' ? `${(100 * x).toFixed(0)} %` : '–');
const lines = [
  `# GPU check ${report.date}`, '',
  `Mode: ${mode}. Node/Dawn adapter: ${report.node_adapter ?? 'unknown'}. Chromium adapter: ${report.browser_adapter ?? 'unknown'}. ` +
    `Total ${report.total_seconds} s.`, '',
  '| suite | passed | failed | skipped | exit | seconds |', '|---|---|---|---|---|---|',
  ...report.suites.map((s) => `| ${s.name} | ${s.passed} | ${s.failed} | ${s.skipped} | ${s.exit} | ${s.seconds} |`), '',
];
for (const s of report.suites) for (const f of s.failures) lines.push(`- FAILED ${s.name}: ${f}`);
if (bench) {
  lines.push('', `Bench (${bench.model}; matmul ceiling ${bench.matmul ? `${bench.matmul.gflops.toPrecision(3)} GFLOP/s at ${bench.matmul.size}` : '–'}):`, '',
    '| atoms | node attention fwd | bwd | fwd / matmul | bwd / matmul | E+F WebGPU (f32) | E+F CPU (f64, JS) | CPU / WebGPU | GPU bytes |',
    '|---|---|---|---|---|---|---|---|---|',
    ...bench.rows.map((r) => `| ${r.atoms} | ${ms(r.node_attention_fwd_ms)} | ${ms(r.node_attention_bwd_ms)} | ${pct(r.node_attention_fwd_vs_matmul)} | ` +
      `${pct(r.node_attention_bwd_vs_matmul)} | ${ms(r.webgpu_f32_ms)} | ${ms(r.cpu_f64_ms)} | ` +
      `${typeof r.cpu_f64_ms === 'number' ? `${(r.cpu_f64_ms / r.webgpu_f32_ms).toFixed(2)}×` : '–'} | ${(r.gpu_bytes_allocated / 2 ** 20).toFixed(0)} MiB |`));
} else {
  lines.push('', `Bench did not produce results: ${report.bench.error}`);
}
writeFileSync(join(out, 'gpu-check.md'), lines.join('\n') + '\n');
console.log(lines.join('\n'));
const ok = report.suites.every((s) => s.exit === 0 && s.failed === 0 && s.passed > 0) && report.bench.exit === 0;
process.exit(ok ? 0 : 1);
