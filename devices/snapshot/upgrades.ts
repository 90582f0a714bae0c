/**
 * Migrations for snapshots recorded by an earlier wirelab whose classes had another field layout
 * (see ClassUpgrade in graph.ts). Each names the change it undoes; the archives in
 * tests/fixtures/archives are what they are tested against.
 */
import type { ArpConfig } from '../stack/arp.js';
import { ArpNeighbours } from '../stack/arp.js';
import { IcmpErrors, type IcmpRateLimit } from '../stack/icmp-errors.js';
import type { IpStack } from '../stack/stack.js';
import type { ClassUpgrade } from './graph.js';

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
