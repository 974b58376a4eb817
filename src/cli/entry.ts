/** Process entry of the `dcl` command line. */
import { main } from "./main.js";

process.exitCode = await main(process.argv.slice(2));
