// Writes the sample systems of scripts/sampleSystems.ts into public/systems/.
// Run: npx vite-node scripts/make-systems.ts

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeSystems } from './sampleSystems';

const dir = fileURLToPath(new URL('../public/systems/', import.meta.url));
for (const [name, text] of Object.entries(makeSystems())) {
  writeFileSync(dir + name, text);
  console.log(`wrote public/systems/${name}`);
}
