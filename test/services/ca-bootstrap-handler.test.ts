// The CA bootstrap custom resource's handler: every event gets an answer at its ResponseURL, SUCCESS
// or FAILED with the cause, before the function would time out, with one physical id for life.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BOOTSTRAP_PHYSICAL_ID,
  type Bootstrap,
  type BootstrapRequest,
  createCaBootstrapHandler,
} from '../../lambdas/ca-bootstrap/handler.js';

const STACK_ID = 'arn:aws:cloudformation:eu-west-1:111111111111:stack/kubeport/1';

interface Answer {
  contentType: string | undefined;
  body: Record<string, unknown>;
}

describe('the CA bootstrap custom resource handler', () => {
  let server: http.Server;
  let responseUrl: string;
  const answers: Answer[] = [];
  const context = (remainingMs = 60_000) => {
    const deadline = Date.now() + remainingMs;
    return { getRemainingTimeInMillis: () => deadline - Date.now(), logStreamName: '2026/12/02/[$LATEST]abc' };
  };
  const event = (type: 'Create' | 'Update' | 'Delete', properties: Record<string, unknown> = {}, stackId = STACK_ID) =>
    ({
      RequestType: type,
      ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:bootstrap',
      ResponseURL: responseUrl,
      StackId: stackId,
      RequestId: `request-${answers.length}`,
      LogicalResourceId: 'CertificateAuthorities',
      ResourceType: 'Custom::KubeportCertificateAuthorities',
      ResourceProperties: { ServiceToken: 'x', ...properties },
      ...(type === 'Create' ? {} : { PhysicalResourceId: BOOTSTRAP_PHYSICAL_ID }),
      ...(type === 'Update' ? { OldResourceProperties: { ServiceToken: 'x', githubClientId: 'old' } } : {}),
    }) as CloudFormationCustomResourceEvent;
  const lastAnswer = () => answers.at(-1)!;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        answers.push({ contentType: req.headers['content-type'], body: JSON.parse(body) as Record<string, unknown> });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    responseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cloudformation-response?X-Amz-Signature=abc`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers SUCCESS with what was done, and hands the bootstrap only the request type (the properties are a trigger)', async () => {
    const requests: BootstrapRequest[] = [];
    const bootstrap: Bootstrap = async (request) => {
      requests.push(request);
      return { CreatedCertAuthorities: 'user,host', GitHubConnector: 'created' };
    };
    const handler = createCaBootstrapHandler(bootstrap, { log: () => undefined, stackId: STACK_ID });
    await handler(event('Create', { githubClientId: 'Iv1.x' }), context());
    expect(lastAnswer().body).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: BOOTSTRAP_PHYSICAL_ID,
      LogicalResourceId: 'CertificateAuthorities',
      Data: { CreatedCertAuthorities: 'user,host', GitHubConnector: 'created' },
    });
    // The presigned URL signs no content type: any other would make S3 refuse the answer.
    expect(lastAnswer().contentType ?? '').toBe('');
    await handler(event('Update', { githubClientId: 'Iv1.y' }), context());
    expect(requests).toEqual([{ requestType: 'Create' }, { requestType: 'Update' }]);
    expect(lastAnswer().body.PhysicalResourceId).toBe(BOOTSTRAP_PHYSICAL_ID);
  });

  it('answers FAILED to an event naming another stack, without running the bootstrap', async () => {
    let runs = 0;
    const logged: string[] = [];
    const handler = createCaBootstrapHandler(
      async () => {
        runs += 1;
        return {};
      },
      { log: (line) => logged.push(line), stackId: STACK_ID },
    );
    for (const type of ['Create', 'Update'] as const) {
      await handler(
        event(type, { GitHubAdminTeams: ['evil/crew'] }, 'arn:aws:cloudformation:eu-west-1:999999999999:stack/evil/1'),
        context(),
      );
      expect(lastAnswer().body.Status).toBe('FAILED');
      expect(lastAnswer().body.Reason).toContain("does not come from this function's stack");
    }
    expect(runs).toBe(0);
    expect(logged.join('\n')).toContain('stack/evil/1');
  });

  it('answers FAILED with the cause and where the log is when the bootstrap fails', async () => {
    const handler = createCaBootstrapHandler(
      async () => {
        throw new Error('KMS refused Sign on the user CA key: AccessDeniedException');
      },
      { log: () => undefined, stackId: STACK_ID },
    );
    await handler(event('Create'), context());
    expect(lastAnswer().body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: BOOTSTRAP_PHYSICAL_ID });
    expect(lastAnswer().body.Reason).toBe(
      'KMS refused Sign on the user CA key: AccessDeniedException (log stream 2026/12/02/[$LATEST]abc)',
    );
  });

  it('answers FAILED before the function times out when the bootstrap hangs', async () => {
    const handler = createCaBootstrapHandler(() => new Promise<never>(() => undefined), {
      log: () => undefined,
      stackId: STACK_ID,
      answerMarginMs: 1_000,
    });
    await handler(event('Create'), context(1_200));
    expect(lastAnswer().body.Status).toBe('FAILED');
    expect(lastAnswer().body.Reason).toContain('did not finish');
  });

  it('answers every event FAILED with the cold start problem when the function could not be built', async () => {
    const handler = createCaBootstrapHandler(new Error('bad function configuration: KUBEPORT_USER_CA_KEY_ID: Required'), {
      log: () => undefined,
      stackId: '',
    });
    await handler(event('Create'), context());
    expect(lastAnswer().body.Status).toBe('FAILED');
    expect(lastAnswer().body.Reason).toContain('KUBEPORT_USER_CA_KEY_ID');
  });

  it('leaves everything in place on Delete and says so, without calling the bootstrap', async () => {
    let called = false;
    const handler = createCaBootstrapHandler(
      async () => {
        called = true;
        return {};
      },
      { log: () => undefined, stackId: STACK_ID },
    );
    await handler(event('Delete'), context());
    expect(called).toBe(false);
    expect(lastAnswer().body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: BOOTSTRAP_PHYSICAL_ID });
  });

  it('keeps the answer under the 4 KiB CloudFormation takes, however long the cause', async () => {
    const handler = createCaBootstrapHandler(
      async () => {
        throw new Error('x'.repeat(10_000));
      },
      { log: () => undefined, stackId: STACK_ID },
    );
    await handler(event('Create'), context());
    expect(JSON.stringify(lastAnswer().body).length).toBeLessThan(4096);
  });
});
