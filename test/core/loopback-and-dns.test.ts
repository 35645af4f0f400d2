import { describe, expect, it } from 'vitest';
import { isDnsLabel, isDnsSubdomain } from '../../lib/core/dns-name.js';
import { isLoopbackAuthority, isLoopbackHost, splitHostPort } from '../../lib/core/loopback.js';

describe('loopback', () => {
  it.each([
    ['localhost', true],
    ['LocalHost', true],
    ['127.0.0.1', true],
    ['127.255.3.4', true],
    ['::1', true],
    ['[::1]', true],
    ['127.0.0.256', false],
    ['127.evil.example', false],
    ['127.0.0.1.nip.io', false],
    ['localhost.example', false],
    ['10.0.0.1', false],
    ['0.0.0.0', false],
  ])('isLoopbackHost(%s) is %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });

  it.each([
    ['127.0.0.1:3080', true],
    ['localhost', true],
    ['[::1]:3026', true],
    ['evil.example:3080', false],
    ['127.0.0.1:99999', false],
    ['127.0.0.1:80:80', false],
  ])('isLoopbackAuthority(%s) is %s', (authority, expected) => {
    expect(isLoopbackAuthority(authority)).toBe(expected);
  });

  it('splits host and port', () => {
    expect(splitHostPort('[::1]:80')).toEqual({ host: '[::1]', port: 80 });
    expect(splitHostPort('example.com')).toEqual({ host: 'example.com' });
    expect(splitHostPort('a:b')).toBeUndefined();
  });
});

describe('DNS names', () => {
  it.each([
    ['prod', true],
    ['prod-eu-1', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['-prod', false],
    ['prod-', false],
    ['Prod', false],
    ['prod.eu', false],
  ])('isDnsLabel(%s) is %s', (value, expected) => {
    expect(isDnsLabel(value)).toBe(expected);
  });

  it('accepts dotted names of labels only', () => {
    expect(isDnsSubdomain('kubeport.example.com')).toBe(true);
    expect(isDnsSubdomain('kubeport..com')).toBe(false);
    expect(isDnsSubdomain('kubeport.')).toBe(false);
  });
});
