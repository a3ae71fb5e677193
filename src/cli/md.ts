// Entry point of `npm run md -- ...` (vite-node passes the arguments after the script name).
import { runMd } from './mdCommand';

process.exitCode = await runMd(process.argv.slice(2));
