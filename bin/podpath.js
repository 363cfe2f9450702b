#!/usr/bin/env node
// What `npx podpath` runs. Plain JavaScript, so Node's compile cache is on before the first .ts
// module loads: the cache keeps TypeScript's stripped output too (nodejs/node#56629), and with every
// module found there Node never loads its type stripper, which is most of a warm start's time.
import module from 'node:module';

// Absent before Node 22.1: podpath needs Node 24 (type stripping), which the import below reports.
module.enableCompileCache?.();
await import('./podpath.ts');
