#!/usr/bin/env node
// The tctl command: runs bin/tctl.ts through tsx's require hook (it starts much faster than the
// ESM loader), so it works from any directory.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
require('tsx/cjs/api').register();
require('../bin/tctl.ts');
