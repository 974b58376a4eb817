#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so the command line never
// depends on a stale build.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/entry.ts");
