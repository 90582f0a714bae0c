/**
 * The one WebSocket to /api/v1/ws, shared by every store. Subscriptions have ids chosen here;
 * the server's messages are routed to the subscription they name. When the connection drops
 * it is reopened with backoff and every live subscription is made again, so stores never deal
 * with reconnection themselves (they are told, to refetch what they may have missed).
 */
import { apiConfig } from './http.js';
import type { WsClientMessage, WsServerMessage } from '../../../contract/index.js';

export type WsStatus = 'connecting' | 'open' | 'closed';

type Subscribe = Extract<WsClientMessage, { op: 'subscribe' }>;
/** A subscription as the server takes it, less the op and the id this client adds. */
export type SubscribeRequest = Subscribe extends infer M ? (M extends Subscribe ? Omit<M, 'op' | 'id'> : never) : never;

export interface Subscription {
  readonly id: string;
  close(): void;
}

interface Entry {
  request: SubscribeRequest;
  onMessage: (m: WsServerMessage) => void;
}

type WsLike = Pick<WebSocket, 'send' | 'close' | 'readyState'> & {
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
};
export type WsFactory = (url: string) => WsLike;

export class WsClient {
  private ws: WsLike | null = null;
  private readonly subs = new Map<string, Entry>();
  private next = 1;
  private retryMs = 250;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  status: WsStatus = 'closed';
  private readonly statusListeners = new Set<(s: WsStatus, reconnected: boolean) => void>();
  private everOpened = false;

  constructor(
    private readonly url: () => string,
    private readonly factory: WsFactory,
  ) {}

  onStatus(fn: (s: WsStatus, reconnected: boolean) => void): () => void {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  }

  private setStatus(s: WsStatus, reconnected = false): void {
    this.status = s;
    for (const fn of this.statusListeners) fn(s, reconnected);
  }

  connect(): void {
    this.stopped = false;
    if (this.ws) return;
    this.setStatus('connecting');
    let ws: WsLike;
    try {
      ws = this.factory(this.url());
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = 250;
      const reconnected = this.everOpened;
      this.everOpened = true;
      for (const [id, e] of this.subs) this.sendSubscribe(id, e.request);
      this.setStatus('open', reconnected);
    };
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onerror = () => undefined;
    ws.onclose = () => {
      this.ws = null;
      this.setStatus('closed');
      if (!this.stopped) this.scheduleRetry();
    };
  }

  private scheduleRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 5000);
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.ws?.close();
    this.ws = null;
  }

  subscribe(request: SubscribeRequest, onMessage: (m: WsServerMessage) => void): Subscription {
    const id = `s${this.next++}`;
    this.subs.set(id, { request, onMessage });
    if (this.ws && this.ws.readyState === 1) this.sendSubscribe(id, request);
    else this.connect();
    return {
      id,
      close: () => {
        if (!this.subs.delete(id)) return;
        if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify({ op: 'unsubscribe', id }));
      },
    };
  }

  /** Sends a message on an open connection (console input); false when there is none. */
  send(msg: unknown): boolean {
    if (!this.ws || this.ws.readyState !== 1) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  private sendSubscribe(id: string, request: SubscribeRequest): void {
    this.ws!.send(JSON.stringify({ op: 'subscribe', id, ...request }));
  }

  private onMessage(data: unknown): void {
    if (typeof data !== 'string') return;
    let m: WsServerMessage;
    try {
      m = JSON.parse(data) as WsServerMessage;
    } catch {
      return;
    }
    const id = (m as { id?: unknown }).id;
    if (typeof id === 'string') this.subs.get(id)?.onMessage(m);
  }
}

/** The URL of the WebSocket endpoint, relative to the page unless the API base says otherwise. */
export function wsUrl(): string {
  let base = apiConfig.base;
  if (!base) base = `${location.protocol}//${location.host}`;
  const u = new URL(`${base}/api/v1/ws`);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  if (apiConfig.token) u.searchParams.set('token', apiConfig.token);
  return u.toString();
}

let shared: WsClient | null = null;
let sharedFactory: WsFactory = (url) => new WebSocket(url) as unknown as WsLike;

/** Lets tests run the stores over Node's `ws` package. */
export function configureWs(factory: WsFactory): void {
  shared?.close();
  shared = null;
  sharedFactory = factory;
}

export function wsClient(): WsClient {
  shared ??= new WsClient(wsUrl, sharedFactory);
  return shared;
}
