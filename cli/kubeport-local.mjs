#!/usr/bin/env node
// npm start: runs Kubeport in local mode (bin/local.ts).
import { register } from 'tsx/esm/api';

register();
await import('../bin/local.ts');
