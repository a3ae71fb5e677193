// Entry point of `npm run plan -- ...` (vite-node passes the arguments after the script name).
import { runPlan } from './planCommand';

process.exitCode = await runPlan(process.argv.slice(2));
