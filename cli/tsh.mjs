#!/usr/bin/env node
// The tsh command: runs bin/tsh.ts with tsx so it works from any directory.
import { register } from 'tsx/esm/api';

register();
await import('../bin/tsh.ts');
