/**
 * Services and checks built on a host's TCP (devices/stack/tcp.ts):
 *
 *   HttpServer(tcp, { port, body, status, paths })      the `http` service
 *   TcpEchoServer(tcp, port)                             the `tcp-echo` service
 *   HttpGet(tcp, url, { timeoutNs }) + httpCheckVerdict  the `http {from, url, status, contains}` check
 *   TcpConnectCheck(tcp, ip, port, { timeoutNs })        the `tcp {from, to}` check
 *
 * Checks expose `done` and a plain `result` object: start one, run the engine until `done`.
 */
export { HttpServer } from './http-server.js';
export type { HttpServerConfig, HttpResource } from './http-server.js';
export { HttpGet, httpCheckVerdict, tcpErrorText } from './http-client.js';
export type { HttpGetOptions, HttpGetResult, HttpExpectation } from './http-client.js';
export { TcpEchoServer } from './tcp-echo.js';
export { TcpConnectCheck } from './tcp-check.js';
export type { TcpCheckOptions, TcpCheckOutcome, TcpCheckResult } from './tcp-check.js';
export { parseHttpUrl } from './http-common.js';
export type { HttpUrl } from './http-common.js';
