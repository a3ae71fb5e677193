import { expect, test } from 'vitest';
import { MAX_STRUCTURE_FILE_BYTES, describeProblem, parseStructureBlob, parseStructureText, sizeProblem } from '../../src/ui/files/parseStructure';

test('a malformed XYZ comes back as file, line and problem (nothing thrown)', () => {
  const out = parseStructureText('3\ncomment\nO 0 0 0\nH 0.9 0 0\n', 'broken.xyz');
  expect(out.ok).toBe(false);
  if (out.ok) return;
  expect(out.error.fileName).toBe('broken.xyz');
  expect(out.error.line).toBeGreaterThanOrEqual(4);
  expect(out.error.problem.length).toBeGreaterThan(0);
  expect(describeProblem(out.error)).toBe(`broken.xyz line ${out.error.line}: ${out.error.problem}`);
});

test('a well-formed XYZ gives its first frame', () => {
  const out = parseStructureText('3\nwater\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n', 'w.xyz');
  expect(out.ok).toBe(true);
  if (!out.ok) return;
  expect(Array.from(out.structure.numbers)).toEqual([8, 1, 1]);
  expect(out.structure.positions[3]).toBeCloseTo(0.96, 12);
});

test('an empty or unrecognizable file is a problem without a line', () => {
  for (const [text, name] of [['', 'empty.xyz'], ['hello world\n', 'notes.txt']]) {
    const out = parseStructureText(text, name);
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.error.fileName).toBe(name);
  }
});

test('the size limit is 256 MiB and the message states it', () => {
  expect(MAX_STRUCTURE_FILE_BYTES).toBe(268435456);
  expect(sizeProblem('big.xyz', MAX_STRUCTURE_FILE_BYTES)).toBeNull();
  const p = sizeProblem('big.xyz', MAX_STRUCTURE_FILE_BYTES + 1)!;
  expect(p.fileName).toBe('big.xyz');
  expect(p.problem).toMatch(/up to 256\.0 MiB/);
  expect(p.problem).toMatch(/the file is 256\.0 MiB/);
});

test('a file over the limit is refused before its text is read', async () => {
  let read = false;
  // A real Blob that records whether its text was asked for.
  class WatchedBlob extends Blob {
    override text(): Promise<string> {
      read = true;
      return super.text();
    }
  }
  const blob = new WatchedBlob(['3\nwater\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n']);
  const out = await parseStructureBlob(blob, 'w.xyz', 16);
  expect(out.ok).toBe(false);
  if (!out.ok) expect(out.error.problem).toMatch(/up to 0\.000 MiB/);
  expect(read).toBe(false);
  read = false;
  const ok = await parseStructureBlob(blob, 'w.xyz', 1024);
  expect(ok.ok).toBe(true);
  expect(read).toBe(true);
});
