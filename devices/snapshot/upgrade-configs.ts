/**
 * Device configs as snapshots taken by earlier versions hold them. Until devices took the
 * parsed model (issue 13), a host kept its DNS service's records as text ("10.0.0.5"); it reads
 * them again whenever the node starts, so a restored host that is stopped and started would serve
 * text where it now expects addresses. Run on every restored device; a no-op on current snapshots.
 * (Routers kept their whole config as text too, but nothing reads it after construction.)
 */
import { Host, type HostConfig } from '../host/index.js';
import { parseIp4 } from '../wire/bytes.js';

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
