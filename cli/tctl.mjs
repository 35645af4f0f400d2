#!/usr/bin/env node
// The tctl command: runs bin/tctl.ts with tsx so it works from any directory.
import { register } from 'tsx/esm/api';

register();
await import('../bin/tctl.ts');
