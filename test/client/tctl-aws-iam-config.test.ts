// Where tctl --aws-iam sends its calls and for which region it signs them: read once from the
// flags and the environment, every problem named with its flag.
import { describe, expect, it } from 'vitest';
import { regionOfApiHost } from '../../lib/platform/aws-sigv4-signer.js';
import { tctlConfig } from '../../lib/client/tctl-config.js';

describe('tctl --aws-iam configuration', () => {
  it.each([
    ['the region of an execute-api host', { proxy: 'abc123.execute-api.eu-west-1.amazonaws.com' }, {}, 'eu-west-1'],
    ['--aws-region over the host', { proxy: 'abc123.execute-api.eu-west-1.amazonaws.com', awsRegion: 'us-east-2' }, {}, 'us-east-2'],
    [
      'the host over AWS_REGION',
      { proxy: 'abc123.execute-api.ap-southeast-2.amazonaws.com' },
      { AWS_REGION: 'us-east-1' },
      'ap-southeast-2',
    ],
    ['AWS_REGION for a custom domain', { proxy: 'kubeport.example.com' }, { AWS_REGION: 'eu-central-1' }, 'eu-central-1'],
    ['AWS_DEFAULT_REGION when AWS_REGION is unset', { proxy: 'kubeport.example.com' }, { AWS_DEFAULT_REGION: 'sa-east-1' }, 'sa-east-1'],
  ])('signs for %s', (_name, flags, env, region) => {
    expect(tctlConfig({ awsIam: true, ...flags }, env).awsIam).toEqual({ region });
  });

  it.each([
    ['no proxy', {}, {}, /--aws-iam needs --proxy with the API host/],
    [
      'a custom domain and no region',
      { proxy: 'kubeport.example.com' },
      {},
      /cannot tell the region of kubeport.example.com.*pass --aws-region or set AWS_REGION/,
    ],
    [
      'a region that is not one',
      { proxy: 'kubeport.example.com', awsRegion: 'Ireland' },
      {},
      /--aws-region "Ireland" is not an AWS region/,
    ],
    ['an identity file as well', { proxy: 'a.execute-api.eu-west-1.amazonaws.com', identity: 'id.json' }, {}, /drop --identity/],
  ])('refuses %s', (_name, flags, env, message) => {
    expect(() => tctlConfig({ awsIam: true, ...flags }, env)).toThrow(message);
  });

  it('refuses --aws-region without --aws-iam, and signs nothing with AWS when --aws-iam is not given', () => {
    expect(() => tctlConfig({ awsRegion: 'eu-west-1' })).toThrow(/--aws-region goes with --aws-iam/);
    expect(tctlConfig({ proxy: 'a.execute-api.eu-west-1.amazonaws.com' }).awsIam).toBeUndefined();
  });

  it('reads the region only from API Gateway default host names', () => {
    expect(regionOfApiHost('abc123.execute-api.us-gov-west-1.amazonaws.com:443')).toBe('us-gov-west-1');
    expect(regionOfApiHost('abc123.execute-api.cn-north-1.amazonaws.com.cn')).toBe('cn-north-1');
    expect(regionOfApiHost('execute-api.eu-west-1.amazonaws.com.evil.example')).toBeUndefined();
    expect(regionOfApiHost('127.0.0.1:8080')).toBeUndefined();
  });
});
