/**
 * The devices of VMware-style virtual networks: the DHCP service at .254 and the socket gateway
 * (the NAT gateway at .2, the host adapter at .1), which reach the world through the host's
 * sockets. lab/build-network.ts puts them together from a lab's networks.
 */
export { SocketGateway, GATEWAY_LIMITS } from './gateway.js';
export { NetworkDhcp } from './dhcp-service.js';
export type { NetworkDhcpConfig } from './dhcp-service.js';
export type { GatewayConfig, GatewayCounters, GatewayIcmpView, GatewayLimits, GatewayStatus, GatewayTcpView, GatewayUdpView, PortForwardConfig } from './gateway.js';
export type { HostSocketError, HostSocketEvents, HostSockets, IcmpEchoSupport } from './host-sockets.js';
