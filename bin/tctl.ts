// tctl: the admin's tool. In local mode it signs its calls with the admin identity that npm start
// writes into the data directory; elsewhere with the identity file given by --identity.
import { Command } from 'commander';
import { runCommand } from '../lib/client/run-command.js';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { parseAllDocuments, stringify } from 'yaml';
import { ApiClient, type SigningIdentity } from '../lib/client/api-client.js';
import { ADMIN_IDENTITY_FILE, DEFAULT_DATA_DIR } from '../lib/client/local-data-dir.js';
import { readPrivateFile } from '../lib/platform/safe-file.js';
import { UsageError } from '../lib/client/session.js';
import { apiAudience } from '../lib/core/signed-request.js';
import { parseResource } from '../lib/core/resources.js';


interface AdminIdentityFile {
  proxy: string;
  user: string;
  cert: string;
  key: string;
}

interface GlobalOptions {
  dataDir: string;
  identity?: string;
  proxy?: string;
}

function loadIdentity(options: GlobalOptions): AdminIdentityFile {
  const path = options.identity ? resolve(options.identity) : resolve(options.dataDir, ADMIN_IDENTITY_FILE);
  if (!existsSync(path)) {
    throw new UsageError(
      options.identity
        ? `identity file ${path} does not exist`
        : `no admin identity in ${resolve(options.dataDir)}; start Kubeport with npm start (in this directory), or pass --data-dir DIR or --identity FILE`,
    );
  }
  // The data directory's identity must be this account's own: one that came with a checkout
  // would send admin calls, signed, to whatever proxy it names.
  const text = options.identity ? readFileSync(path, 'utf8') : readPrivateFile(path)!.toString('utf8');
  const file = JSON.parse(text) as AdminIdentityFile;
  if (Date.now() > new Date(new X509Certificate(file.cert).validTo).getTime()) {
    throw new UsageError(`the admin identity in ${path} has expired; restart npm start to issue a fresh one`);
  }
  return file;
}

async function signedClient(options: GlobalOptions): Promise<{ call: <T>(method: string, path: string, body?: unknown) => Promise<T>; proxy: string }> {
  const file = loadIdentity(options);
  const identity: SigningIdentity = { certPem: file.cert, keyPem: file.key };
  const proxy = options.proxy ?? file.proxy;
  const ping = await new ApiClient(proxy).call<{ cluster_name: string }>('GET', '/webapi/ping');
  const api = new ApiClient(proxy, apiAudience(ping.cluster_name));
  return { call: (method, path, body) => api.call(method, path, body, identity), proxy };
}

const list = (value: string | undefined) => (value ? value.split(',').map((s) => s.trim()).filter((s) => s !== '') : []);

const program = new Command('tctl')
  .description('Kubeport admin tool')
  .option('--data-dir <dir>', 'local mode data directory holding the admin identity', DEFAULT_DATA_DIR)
  .option('-i, --identity <file>', 'admin identity file')
  .option('--proxy <host:port>', 'address of the Kubeport API (default: from the identity)')
  .showHelpAfterError();
const globals = () => program.opts<GlobalOptions>();

const users = program.command('users').description('manage users');
users
  .command('add <name>')
  .description('create a local user and print a one-time invite')
  .requiredOption('--roles <roles>', 'comma-separated roles, e.g. access')
  .option('--kubernetes-groups <groups>', 'comma-separated Kubernetes groups (trait kubernetes_groups)')
  .option('--kubernetes-users <users>', 'comma-separated Kubernetes users (trait kubernetes_users)')
  .action(async (name: string, options: { roles: string; kubernetesGroups?: string; kubernetesUsers?: string }) => {
    const client = await signedClient(globals());
    const result = await client.call<{ invite: string; expires: string }>('POST', '/webapi/admin/users', {
      name,
      roles: list(options.roles),
      kubernetes_groups: list(options.kubernetesGroups),
      kubernetes_users: list(options.kubernetesUsers),
    });
    process.stdout.write(
      `User "${name}" has been created. The invite is valid until ${result.expires} (1 hour) and works once.\n` +
        `Share this command with ${name}:\n\n  npx tsh login --proxy=${client.proxy} --user=${name} --invite=${result.invite}\n\n`,
    );
  });
users
  .command('ls')
  .description('list users')
  .action(async () => {
    const client = await signedClient(globals());
    const answer = await client.call<{ items: { metadata: { name: string }; spec: { roles: string[] } }[] }>('GET', '/webapi/admin/users');
    const rows = [['User', 'Roles'], ...answer.items.map((u) => [u.metadata.name, u.spec.roles.join(',')])];
    const width = Math.max(...rows.map((r) => r[0]!.length));
    process.stdout.write(`${rows.map((r) => `${r[0]!.padEnd(width)} ${r[1]}`).join('\n')}\n`);
  });
users
  .command('rm <name>')
  .description('remove a user')
  .action(async (name: string) => {
    const client = await signedClient(globals());
    await client.call('DELETE', `/webapi/admin/users/${encodeURIComponent(name)}`);
    process.stdout.write(`User "${name}" has been deleted.\n`);
  });

program
  .command('get <resource>')
  .description('print resources as YAML: role, user, kube_cluster, optionally KIND/NAME')
  .action(async (resource: string) => {
    const client = await signedClient(globals());
    const [plural, name] = resource.split('/');
    // Teleport's tctl takes both "roles" and "role"; only the kind may be plural.
    const kind = plural!.replace(/s$/, '');
    const path = `/webapi/admin/resources/${encodeURIComponent(kind!)}${name ? `/${encodeURIComponent(name)}` : ''}`;
    const answer = await client.call<{ items: unknown[] }>('GET', path);
    process.stdout.write(answer.items.map((item) => stringify(item)).join('---\n'));
  });
program
  .command('create')
  .description('create or update resources from a YAML file')
  .requiredOption('-f, --file <file>', 'YAML file with one or more resources')
  .option('--force', 'overwrite existing resources')
  .action(async (options: { file: string; force?: boolean }) => {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${options.file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    // Every document is checked before the first is sent, so a bad file changes nothing.
    const documents = parseAllDocuments(text).filter((d) => d.contents !== null);
    const source = (index: number) => (documents.length > 1 ? `${options.file} (document ${index + 1})` : options.file);
    const problems = documents.flatMap((d, i) => d.errors.map((e) => `${source(i)}: ${e.message.split('\n')[0]}`));
    if (problems.length > 0) throw new UsageError(`${problems[0]} (nothing was changed)`);
    if (documents.length === 0) throw new UsageError(`${options.file} holds no resource (nothing was changed)`);
    const parsed = documents.map((d, i) => parseResource(d.toJS(), source(i)));
    const invalid = parsed.find((p) => !p.ok);
    if (invalid && !invalid.ok) throw new UsageError(`${invalid.message} (nothing was changed)`);
    const client = await signedClient(globals());
    for (const [index, document] of documents.entries()) {
      const created = await client.call<{ kind: string; name: string }>('POST', '/webapi/admin/resources', {
        document: document.toJS(),
        source: source(index),
        overwrite: options.force === true,
      });
      process.stdout.write(`${created.kind} "${created.name}" has been created\n`);
    }
  });
program
  .command('rm <resource>')
  .description('remove a resource: KIND/NAME')
  .action(async (resource: string) => {
    const [kind, name] = resource.split('/');
    if (!kind || !name) throw new UsageError('write the resource as KIND/NAME, e.g. role/devs');
    const client = await signedClient(globals());
    await client.call('DELETE', `/webapi/admin/resources/${encodeURIComponent(kind)}/${encodeURIComponent(name)}`);
    process.stdout.write(`${kind} "${name}" has been deleted\n`);
  });

await runCommand(program, 'tctl');
