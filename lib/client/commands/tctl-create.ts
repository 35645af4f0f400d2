// tctl create -f FILE [--force]: creates (or with --force replaces) the resources of a YAML file.
// The server checks every document before it writes any; each problem comes back on its own line
// naming the file, line and column, the document, the field and the fix.
import { readFileSync } from 'node:fs';
import { type Document, LineCounter, parseAllDocuments } from 'yaml';
import { type ResourceProblem, formatPath } from '../../core/resource-problems.js';
import { ClientError } from '../api-client.js';
import { UsageError } from '../usage-error.js';
import { fieldPosition, isEmptyDocument } from '../yaml-positions.js';
import type { TctlDeps } from './deps.js';

export interface CreateOptions {
  file: string;
  force: boolean;
}

const NOTHING_CHANGED = 'nothing was changed';

export async function run(options: CreateOptions, deps: TctlDeps): Promise<void> {
  let text: string;
  try {
    text = readFileSync(options.file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${options.file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter });
  const all = Array.isArray(parsed) ? parsed : [];
  const syntax = all.flatMap((document) =>
    document.errors.map((error) => {
      const at = error.linePos?.[0] ?? lineCounter.linePos(error.pos[0]);
      const what = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      return `${options.file}:${at.line}:${at.col}: YAML syntax: ${what}`;
    }),
  );
  if (syntax.length > 0) throw new UsageError(summary(options.file, syntax));
  const documents = all.filter((document) => !isEmptyDocument(document));
  if (documents.length === 0) throw new UsageError(`${options.file} holds no resource; ${NOTHING_CHANGED}`);

  const client = await deps.admin();
  let answer: { results: { kind: string; name: string; created: boolean }[] };
  try {
    answer = await client.call('POST', '/webapi/admin/resources', {
      documents: documents.map((document) => document.toJS()),
      source: options.file,
      overwrite: options.force,
    });
  } catch (error) {
    const problems = error instanceof ClientError ? error.problems : undefined;
    if (!problems || !(error instanceof ClientError)) throw error;
    throw new ClientError(
      summary(
        options.file,
        (problems as ResourceProblem[]).map((problem) => describeAt(options.file, documents, lineCounter, problem)),
      ),
      error.status,
      error.serverCode,
      problems,
    );
  }
  for (const result of answer.results) {
    deps.out.stdout.write(`${result.kind} "${result.name}" has been ${result.created ? 'created' : 'updated'}\n`);
  }
}

function summary(file: string, lines: string[]): string {
  const count = lines.length === 1 ? 'a problem' : `${lines.length} problems`;
  return `${file} has ${count}; ${NOTHING_CHANGED}:\n${lines.join('\n')}`;
}

function describeAt(file: string, documents: Document[], lineCounter: LineCounter, problem: ResourceProblem): string {
  const document = documents[problem.document];
  const at = document ? fieldPosition(document, lineCounter, problem.path) : undefined;
  const where = at ? `${file}:${at.line}:${at.col}` : file;
  const what = problem.kind && problem.name ? ` (${problem.kind} "${problem.name}")` : problem.kind ? ` (${problem.kind})` : '';
  const field = problem.path.length > 0 ? `${formatPath(problem.path)}: ` : '';
  return `${where}: document ${problem.document + 1}${what}: ${field}${problem.message}`;
}
