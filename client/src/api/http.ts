/**
 * The HTTP side of the API (/api/v1). Every failure becomes an `ApiError` carrying the server's
 * `{error, details}` so forms can show each message beside the field it names.
 */
import type {
  CaptureView,
  CheckResult,
  CheckSpec,
  CheckView,
  CloneResult,
  ErrorDetail,
  Impairments,
  ImportResult,
  LabSummary,
  LabView,
  LinkedClone,
  LinkView,
  NetworkStatusView,
  NodeAddresses,
  NetworkView,
  NodeView,
  RestoreResult,
  SnapshotView,
  EndpointStatusView,
} from '../../../contract/index.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }

  /** The message for one field of the request body (`interfaces.eth0.ip`), if the server named it. */
  forField(field: string): string | undefined {
    return this.details.find((d) => d.field === field)?.message;
  }
}

export interface ApiConfig {
  /** Origin (and path) in front of /api/v1; '' for the page's own server. */
  base: string;
  /** Sent as a bearer token when the server listens beyond loopback. */
  token: string | null;
  fetch: typeof fetch;
}

export const apiConfig: ApiConfig = {
  base: '',
  token: null,
  fetch: (...args) => globalThis.fetch(...args),
};

export function configureApi(c: Partial<ApiConfig>): void {
  Object.assign(apiConfig, c);
}

const enc = encodeURIComponent;

export function apiUrl(path: string): string {
  return `${apiConfig.base}/api/v1${path}`;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (apiConfig.token) headers['authorization'] = `Bearer ${apiConfig.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let r: Response;
  try {
    r = await apiConfig.fetch(apiUrl(path), { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch (e) {
    throw new ApiError(0, `the server cannot be reached (${(e as Error).message})`);
  }
  const text = await r.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!r.ok) {
    const e = parsed as { error?: unknown; details?: unknown } | undefined;
    const message = typeof e?.error === 'string' ? e.error : `${method} ${path} failed: ${r.status} ${r.statusText}`;
    throw new ApiError(r.status, message, Array.isArray(e?.details) ? (e.details as ErrorDetail[]) : []);
  }
  return parsed as T;
}

/** `pc1:eth0--r1:g0/1` as one URL segment (the slash of router interfaces included). */
export const linkPath = (lab: string, id: string) => `/labs/${enc(lab)}/links/${enc(id)}`;

export const api = {
  listLabs: () => request<LabSummary[]>('GET', '/labs'),
  getLab: (lab: string) => request<LabView>('GET', `/labs/${enc(lab)}`),
  createLab: (file: Record<string, unknown>) => request<LabView>('POST', '/labs', file),
  replaceLab: (lab: string, file: Record<string, unknown>) => request<LabView>('PUT', `/labs/${enc(lab)}`, file),
  deleteLab: (lab: string) => request<void>('DELETE', `/labs/${enc(lab)}`),
  startLab: (lab: string) => request<LabView>('POST', `/labs/${enc(lab)}/start`),
  stopLab: (lab: string) => request<LabView>('POST', `/labs/${enc(lab)}/stop`),

  addNode: (lab: string, name: string, spec: Record<string, unknown>) => request<NodeView>('POST', `/labs/${enc(lab)}/nodes`, { name, ...spec }),
  replaceNode: (lab: string, node: string, spec: Record<string, unknown>) => request<NodeView>('PUT', `/labs/${enc(lab)}/nodes/${enc(node)}`, spec),
  patchNode: (lab: string, node: string, patch: Record<string, unknown>) => request<NodeView>('PATCH', `/labs/${enc(lab)}/nodes/${enc(node)}`, patch),
  deleteNode: (lab: string, node: string) => request<void>('DELETE', `/labs/${enc(lab)}/nodes/${enc(node)}`),
  startNode: (lab: string, node: string) => request<NodeView>('POST', `/labs/${enc(lab)}/nodes/${enc(node)}/start`),
  stopNode: (lab: string, node: string) => request<NodeView>('POST', `/labs/${enc(lab)}/nodes/${enc(node)}/stop`),

  addNetwork: (lab: string, name: string, spec: Record<string, unknown>) => request<NetworkView>('POST', `/labs/${enc(lab)}/networks`, { name, ...spec }),
  replaceNetwork: (lab: string, net: string, spec: Record<string, unknown>) => request<NetworkView>('PUT', `/labs/${enc(lab)}/networks/${enc(net)}`, spec),
  patchNetwork: (lab: string, net: string, patch: Record<string, unknown>) => request<NetworkView>('PATCH', `/labs/${enc(lab)}/networks/${enc(net)}`, patch),
  deleteNetwork: (lab: string, net: string) => request<void>('DELETE', `/labs/${enc(lab)}/networks/${enc(net)}`),
  networkStatus: (lab: string, net: string) => request<NetworkStatusView>('GET', `/labs/${enc(lab)}/networks/${enc(net)}/status`),
  nodeEndpoint: (lab: string, node: string) => request<EndpointStatusView>('GET', `/labs/${enc(lab)}/nodes/${enc(node)}/endpoint`),
  nodeAddresses: (lab: string, node: string) => request<NodeAddresses>('GET', `/labs/${enc(lab)}/nodes/${enc(node)}/addresses`),

  addLink: (lab: string, body: unknown) => request<LinkView>('POST', `/labs/${enc(lab)}/links`, body),
  deleteLink: (lab: string, id: string) => request<void>('DELETE', linkPath(lab, id)),
  setImpairments: (lab: string, id: string, imp: Impairments) => request<LinkView>('PUT', `${linkPath(lab, id)}/impairments`, imp),
  suspendLink: (lab: string, id: string) => request<LinkView>('POST', `${linkPath(lab, id)}/suspend`),
  resumeLink: (lab: string, id: string) => request<LinkView>('POST', `${linkPath(lab, id)}/resume`),

  listChecks: (lab: string) => request<CheckView[]>('GET', `/labs/${enc(lab)}/checks`),
  addCheck: (lab: string, spec: CheckSpec | Record<string, unknown>) => request<CheckView>('POST', `/labs/${enc(lab)}/checks`, spec),
  deleteCheck: (lab: string, index: number) => request<void>('DELETE', `/labs/${enc(lab)}/checks/${index}`),
  runChecks: (lab: string) => request<CheckResult[]>('POST', `/labs/${enc(lab)}/checks/run`),

  listCaptures: (lab: string) => request<CaptureView[]>('GET', `/labs/${enc(lab)}/captures`),
  startCapture: (lab: string, link: string) => request<CaptureView>('POST', `/labs/${enc(lab)}/captures`, { link }),
  stopCapture: (lab: string, id: string) => request<CaptureView | undefined>('DELETE', `/labs/${enc(lab)}/captures/${enc(id)}`),
  /** A link for the browser to download (the token rides in the query, as the server accepts). */
  captureDownloadUrl: (lab: string, id: string) =>
    apiUrl(`/labs/${enc(lab)}/captures/${enc(id)}.pcapng`) + (apiConfig.token ? `?token=${enc(apiConfig.token)}` : ''),
};

/** Snapshots, clones, export and import (server/api-snapshots.ts). */
export const snapshotApi = {
  list: (lab: string) => request<SnapshotView[]>('GET', `/labs/${enc(lab)}/snapshots`),
  take: (lab: string, body: { name?: string; description?: string }) => request<SnapshotView>('POST', `/labs/${enc(lab)}/snapshots`, body),
  describe: (lab: string, snap: string, description: string) => request<SnapshotView>('PATCH', `/labs/${enc(lab)}/snapshots/${enc(snap)}`, { description }),
  remove: (lab: string, snap: string) => request<void>('DELETE', `/labs/${enc(lab)}/snapshots/${enc(snap)}`),
  restore: (lab: string, snap: string) => request<RestoreResult>('POST', `/labs/${enc(lab)}/snapshots/${enc(snap)}/restore`),
  cloneLab: (lab: string, body: { name?: string; linked?: boolean; snapshot?: string; description?: string }) => request<CloneResult>('POST', `/labs/${enc(lab)}/clone`, body),
  cloneNode: (lab: string, node: string, body: { name?: string; ui?: { x: number; y: number } } = {}) => request<NodeView>('POST', `/labs/${enc(lab)}/nodes/${enc(node)}/clone`, body),
  linkedClones: () => request<LinkedClone[]>('GET', '/clones'),
  /** A .wlab download link (the token rides in the query, as the server accepts). */
  exportUrl: (lab: string, withSnapshots: boolean) => {
    const q = [...(withSnapshots ? ['withSnapshots=true'] : []), ...(apiConfig.token ? [`token=${enc(apiConfig.token)}`] : [])];
    return apiUrl(`/labs/${enc(lab)}/export`) + (q.length ? `?${q.join('&')}` : '');
  },
  /** A .wlab archive or a .gns3project (base64), or a .gns3 project's JSON. */
  importLab: (body: { archive: string; fileName?: string; as?: string } | { gns3: Record<string, unknown>; as?: string }) => request<ImportResult>('POST', '/labs/import', body),
};
