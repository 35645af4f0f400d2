// tsh: log in to Kubeport and reach Kubernetes clusters with kubectl. kubectl runs
// `tsh kube credentials` on every invocation, so that path loads only what it needs.
const [command, subcommand] = process.argv.slice(2);
if (command === 'kube' && subcommand === 'credentials') {
  const { kubeCredentials } = await import('../lib/client/kube-credentials.js');
  try {
    process.stdout.write(kubeCredentials(process.argv.slice(4), process.env));
  } catch (error) {
    process.stderr.write(`tsh: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
} else {
  await import('./tsh-commands.js');
}
