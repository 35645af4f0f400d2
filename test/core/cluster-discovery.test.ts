import { describe, expect, it } from 'vitest';
import {
  DISCOVERY_ORIGIN_EKS,
  DISCOVERY_ORIGIN_LABEL,
  DISCOVERY_REGION_LABEL,
  discoveryChanges,
  sanitisedLabels,
  type RegisteredCluster,
} from '../../lib/core/cluster-discovery.js';

const discoveredLabels = (labels: Record<string, string>, region = 'eu-west-1') => ({
  ...labels,
  [DISCOVERY_ORIGIN_LABEL]: DISCOVERY_ORIGIN_EKS,
  [DISCOVERY_REGION_LABEL]: region,
});

describe('sanitisedLabels', () => {
  it('keeps valid tag keys and values as they are and adds the origin and region labels', () => {
    expect(sanitisedLabels({ env: 'prod', 'team/owner': 'platform' }, 'eu-west-1')).toEqual(
      discoveredLabels({ env: 'prod', 'team/owner': 'platform' }),
    );
  });

  it('replaces each character a label key cannot hold with an underscore', () => {
    expect(sanitisedLabels({ 'cost center': 'a', 'x=y+z@w': 'b', équipe: 'c' }, 'eu-west-1')).toEqual(
      discoveredLabels({ cost_center: 'a', x_y_z_w: 'b', _quipe: 'c' }),
    );
  });

  it('drops tags under kubeport/ so a cloud tag cannot pass an explicitly configured cluster off as discovered or move its region', () => {
    const labels = sanitisedLabels(
      { [DISCOVERY_ORIGIN_LABEL]: 'manual', [DISCOVERY_REGION_LABEL]: 'us-east-1', 'kubeport/x': 'y' },
      'eu-west-1',
    );
    expect(labels).toEqual(discoveredLabels({}));
  });

  it('keeps the tag whose key sorts first when two sanitise to the same key', () => {
    expect(sanitisedLabels({ 'a b': 'space', 'a+b': 'plus' }, 'eu-west-1')).toEqual(discoveredLabels({ a_b: 'space' }));
  });

  it('cuts long keys and values and turns control characters in values into spaces', () => {
    const labels = sanitisedLabels({ ['k'.repeat(200)]: `v\n${'w'.repeat(300)}` }, 'eu-west-1');
    const [key, value] = Object.entries(labels).find(([k]) => k.startsWith('k'))!;
    expect(key).toHaveLength(128);
    expect(value).toHaveLength(256);
    expect(value.startsWith('v w')).toBe(true);
  });
});

describe('discoveryChanges', () => {
  const explicit: RegisteredCluster = { name: 'prod', labels: { env: 'prod' } };
  const discovered = (name: string, labels: Record<string, string> = {}): RegisteredCluster => ({ name, labels: discoveredLabels(labels) });

  it('adds a newly tagged cluster with its tags as labels', () => {
    const changes = discoveryChanges(
      [explicit],
      [{ name: 'staging', region: 'eu-west-1', tags: { 'kubeport:discover': 'yes', env: 'staging' } }],
    );
    expect(changes.add).toEqual([
      { name: 'staging', region: 'eu-west-1', labels: discoveredLabels({ 'kubeport:discover': 'yes', env: 'staging' }) },
    ]);
    expect(changes.update).toEqual([]);
    expect(changes.remove).toEqual([]);
  });

  it('removes a discovered cluster that is no longer found carrying the tag', () => {
    const changes = discoveryChanges([explicit, discovered('old')], []);
    expect(changes.remove).toEqual(['old']);
  });

  it('never removes an explicitly configured cluster, even one that looks like a discovered one without the origin label', () => {
    const changes = discoveryChanges([explicit, { name: 'manual', labels: { [DISCOVERY_REGION_LABEL]: 'eu-west-1' } }], []);
    expect(changes.remove).toEqual([]);
  });

  it('leaves an explicitly configured cluster alone when a tagged cluster of the same name is found', () => {
    const changes = discoveryChanges([explicit], [{ name: 'prod', region: 'eu-west-1', tags: { env: 'other' } }]);
    expect(changes).toMatchObject({ add: [], update: [], remove: [] });
    expect(changes.skipped).toEqual([{ name: 'prod', reason: expect.stringContaining('configured explicitly') }]);
  });

  it('updates a discovered cluster whose tags changed and leaves an unchanged one alone', () => {
    const changes = discoveryChanges(
      [discovered('a', { env: 'dev' }), discovered('b', { env: 'dev' })],
      [
        { name: 'a', region: 'eu-west-1', tags: { env: 'prod' } },
        { name: 'b', region: 'eu-west-1', tags: { env: 'dev' } },
      ],
    );
    expect(changes.update).toEqual([{ name: 'a', region: 'eu-west-1', labels: discoveredLabels({ env: 'prod' }) }]);
    expect(changes.add).toEqual([]);
    expect(changes.remove).toEqual([]);
  });

  it('keeps a discovered cluster that could not be described this round', () => {
    expect(discoveryChanges([discovered('a')], [], ['a']).remove).toEqual([]);
  });

  it('skips a found cluster whose name Kubeport cannot use, saying why', () => {
    const changes = discoveryChanges([], [{ name: 'Prod_Cluster', region: 'eu-west-1', tags: {} }]);
    expect(changes.add).toEqual([]);
    expect(changes.skipped).toEqual([{ name: 'Prod_Cluster', reason: expect.stringContaining('DNS-1123') }]);
  });

  it('registers only the first of two found clusters of one name', () => {
    const changes = discoveryChanges(
      [],
      [
        { name: 'a', region: 'eu-west-1', tags: {} },
        { name: 'a', region: 'us-east-1', tags: {} },
      ],
    );
    expect(changes.add.map((c) => c.region)).toEqual(['eu-west-1']);
    expect(changes.skipped).toEqual([{ name: 'a', reason: expect.stringContaining('another region') }]);
  });

  describe('security: a second name for an EKS cluster a configured resource reaches', () => {
    // The admin's `prod` reaches EKS cluster prod-eks, labelled for production roles only.
    const admins: RegisteredCluster = { name: 'prod', labels: { env: 'prod' }, eks: { name: 'prod-eks', region: 'eu-west-1' } };
    const tagged = { name: 'prod-eks', region: 'eu-west-1', tags: { 'kubeport:discover': 'yes', env: 'dev' } };

    it('is not registered from tags that would open it to other roles, and the skip says which resource reaches it', () => {
      const changes = discoveryChanges([admins], [tagged]);
      expect(changes).toMatchObject({ add: [], update: [], remove: [] });
      expect(changes.skipped).toEqual([
        { name: 'prod-eks', reason: 'the kube_cluster prod is configured to reach this EKS cluster (eu-west-1), which takes precedence' },
      ]);
    });

    it('is removed when discovery registered it before the admin configured the cluster, even when unreadable this round', () => {
      const earlier: RegisteredCluster = { ...discovered('prod-eks', { env: 'dev' }), eks: { name: 'prod-eks', region: 'eu-west-1' } };
      expect(discoveryChanges([admins, earlier], [tagged]).remove).toEqual(['prod-eks']);
      expect(discoveryChanges([admins, earlier], [], ['prod-eks']).remove).toEqual(['prod-eks']);
    });

    it('is judged by EKS name and region: the same name in another region is another cluster, and a discovered resource backs nothing', () => {
      const elsewhere = { ...tagged, region: 'us-east-1' };
      expect(discoveryChanges([admins], [elsewhere]).add.map((c) => c.name)).toEqual(['prod-eks']);
      const discoveredOther: RegisteredCluster = { ...discovered('other'), eks: { name: 'prod-eks', region: 'eu-west-1' } };
      expect(discoveryChanges([discoveredOther], [tagged]).add.map((c) => c.name)).toEqual(['prod-eks']);
    });

    it('does not let a kubeconfig cluster without an eks source stand for one', () => {
      expect(discoveryChanges([{ name: 'prod', labels: {} }], [tagged]).add.map((c) => c.name)).toEqual(['prod-eks']);
    });
  });
});
