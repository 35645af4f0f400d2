// A stand-in for npm start in tests of the demo cluster's process: starts it, prints its pid and
// kubeconfig as one JSON line, and stays up until killed.
import { startDemoCluster } from '../../bin/demo-cluster.js';

const demo = await startDemoCluster(process.argv[2]!);
process.stdout.write(`${JSON.stringify({ pid: demo.pid, kubeconfig: demo.kubeconfig })}\n`);
