// Entry point of `npm run calc -- ...` (vite-node passes the arguments after the script name).
import { runCalc } from './calcCommand';

process.exitCode = await runCalc(process.argv.slice(2));
