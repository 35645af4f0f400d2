// The EKS clusters carrying the discovery tag, in each region discovery covers. A region that
// cannot be listed is reported, not thrown: the other regions' clusters still count, and the
// failed region's registered clusters stay (no answer is not "no clusters").
import type { EKSClient } from '@aws-sdk/client-eks';
import { KubeportError } from '../../core/errors.js';
import type { TaggedClusterListing, TaggedClusterSource } from '../../core/ports.js';
import { type TaggedClusterQuery, discoverTaggedClusters } from './eks-clusters.js';

// AWS tag limits: keys 1-128 characters, values 0-256.
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 256;

export interface DiscoveryTag {
  key: string;
  /** Absent: any value of the key. */
  value?: string;
}

/**
 * `key` (any value) or `key=value`, as KUBEPORT_DISCOVERY_TAG gives it. The first `=` splits, so a
 * value may hold `=`; spaces around either part are kept off.
 */
export function parseDiscoveryTag(text: string, variable = 'KUBEPORT_DISCOVERY_TAG'): DiscoveryTag {
  const fail = (why: string) =>
    new KubeportError('invalid_config', `${variable} ${JSON.stringify(text)} ${why}; write KEY or KEY=VALUE, e.g. kubeport-discover=true`);
  const at = text.indexOf('=');
  const key = (at < 0 ? text : text.slice(0, at)).trim();
  if (key === '') throw fail('names no tag key');
  if (key.length > MAX_TAG_KEY) throw fail(`has a key longer than ${MAX_TAG_KEY} characters`);
  if (/[\u0000-\u001f\u007f]/.test(text)) throw fail('holds control characters');
  if (at < 0) return { key };
  const value = text.slice(at + 1).trim();
  if (value.length > MAX_TAG_VALUE) throw fail(`has a value longer than ${MAX_TAG_VALUE} characters`);
  return { key, value };
}

export interface TaggedEksClustersOptions {
  tag: DiscoveryTag;
  regions: string[];
  /** An EKS client for a region (each region's clients are made once by the caller). */
  clientFor: (region: string) => EKSClient;
  /** Clusters described at once per region. */
  concurrency?: number;
}

export class TaggedEksClusters implements TaggedClusterSource {
  constructor(private readonly options: TaggedEksClustersOptions) {}

  async list(): Promise<TaggedClusterListing> {
    const { tag } = this.options;
    const query: TaggedClusterQuery = {
      tagKey: tag.key,
      ...(tag.value === undefined ? {} : { tagValue: tag.value }),
      ...(this.options.concurrency === undefined ? {} : { concurrency: this.options.concurrency }),
    };
    const listing: TaggedClusterListing = { clusters: [], unreadable: [], failedRegions: [] };
    const regions = [...new Set(this.options.regions)];
    const results = await Promise.allSettled(regions.map((region) => discoverTaggedClusters(this.options.clientFor(region), query)));
    results.forEach((result, index) => {
      const region = regions[index]!;
      if (result.status === 'rejected') {
        const error: unknown = result.reason;
        listing.failedRegions.push({ region, message: error instanceof Error ? error.message : String(error) });
        return;
      }
      listing.clusters.push(...result.value.clusters);
      listing.unreadable.push(...result.value.unreadable.map((u) => u.name));
    });
    return listing;
  }
}
