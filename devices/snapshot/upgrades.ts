/**
 * Migrations for snapshots recorded by an earlier wirelab: classes that had another field layout
 * (ClassUpgrade, see graph.ts, applied while records are read), and values that changed meaning
 * in a layout that did not (upgradeRestoredDevice, run on every device once the graph is back). Each names the change it undoes; the archives in
 * tests/fixtures/archives are what they are tested against.
 */
import type { ArpConfig } from '../stack/arp.js';
import { ArpNeighbours } from '../stack/arp.js';
import { IcmpErrors, type IcmpRateLimit } from '../stack/icmp-errors.js';
import type { IpStack } from '../stack/stack.js';
import type { ClassUpgrade } from './graph.js';
import { Host, type HostConfig } from '../host/index.js';
import { parseIp4 } from '../wire/bytes.js';

/**
 * IpStack before its neighbours and ICMP errors became parts of their own (issue 13): the ARP
 * configuration, the ICMP rate limit, its bucket and the quote size were fields of the stack,
 * and so was the scratch result of its route lookup (now the route table's).
 */
export const ipStackBeforeParts: ClassUpgrade = {
  outdated: (fields) => fields.includes('arpConfig'),
  apply(fields, target) {
    const stack = target as IpStack;
    const icmp = new IcmpErrors(stack, fields['icmpRate'] as IcmpRateLimit, fields['icmpQuoteBytes'] as number);
    Object.assign(icmp, { tokens: fields['icmpTokens'], refillNs: fields['icmpRefillNs'] });
    fields['arp'] = new ArpNeighbours(stack, fields['arpConfig'] as ArpConfig);
    fields['icmpErrors'] = icmp;
    for (const gone of ['arpConfig', 'icmpRate', 'icmpQuoteBytes', 'icmpTokens', 'icmpRefillNs', 'lkIface', 'lkNextHop']) delete fields[gone];
  },
};

/** RouteTable before it kept the result of its lookup (`egress`, `nextHop`). */
export const routeTableBeforeLookup: ClassUpgrade = {
  outdated: (fields) => !fields.includes('egress'),
  apply(fields) {
    fields['egress'] = null;
    fields['nextHop'] = 0;
  },
};

/**
 * Until devices took the parsed model (issue 13), a host kept its DNS service's records as text
 * ("10.0.0.5"); it reads them again whenever the node starts, so a restored host that is stopped and started would serve
 * text where it now expects addresses. Run on every restored device; a no-op on current snapshots.
 * (Routers kept their whole config as text too, but nothing reads it after construction.)
 */
export function upgradeRestoredDevice(device: unknown): void {
  if (device instanceof Host) upgradeHostDnsRecords(device);
}

function upgradeHostDnsRecords(host: Host): void {
  const services = (host as unknown as { serviceConfig: HostConfig['services'] }).serviceConfig;
  const records = services?.dns?.records as Record<string, readonly unknown[] | string> | undefined;
  if (!records) return;
  for (const [name, value] of Object.entries(records)) {
    const list: readonly unknown[] = typeof value === 'string' ? [value] : value;
    if (list.every((a) => typeof a === 'number')) continue;
    records[name] = list.map((a) => (typeof a === 'string' ? (parseIp4(a) ?? 0) : a));
  }
}
