/**
 * Every class whose instances a running lab holds, as the snapshot recorder must know them. A
 * class that is missing makes a snapshot fail with the path to the instance (and the registry
 * test lists exported classes that are not here), so a new device class is added here on purpose.
 */
import { Engine } from '../engine/engine.js';
import { Link } from '../engine/link.js';
import { Port, type FrameSink } from '../engine/port.js';
import { Rng } from '../engine/rng.js';
import { TimerHeap } from '../engine/timers.js';
import { Capture, CaptureTap } from '../engine/capture.js';
import { DhcpClient } from '../host/dhcp-client.js';
import { DnsLookup, PingOperation, TraceOperation } from '../host/apps.js';
import { UdpProbe } from '../lab/checks.js';
import { Host } from '../host/index.js';
import { DnsService, UdpEchoService } from '../host/services.js';
import { Hub } from '../hub/index.js';
import { LabRuntime } from '../lab/runtime.js';
import { Acl } from '../router/acl.js';
import { DhcpServer } from '../router/dhcp-server.js';
import { FastPath } from '../router/fast-path.js';
import { Router } from '../router/index.js';
import { Nat, TupleIndex } from '../router/nat.js';
import { HttpGet } from '../services/http-client.js';
import { HttpServer } from '../services/http-server.js';
import { TcpConnectCheck } from '../services/tcp-check.js';
import { TcpEchoServer } from '../services/tcp-echo.js';
import { ArpNeighbours } from '../stack/arp.js';
import { IcmpErrors } from '../stack/icmp-errors.js';
import { RouteTable } from '../stack/routes.js';
import { FrameSlab as StackFrameSlab } from '../stack/slab.js';
import { EchoLayer, EchoSocket, UdpLayer, UdpSocket } from '../stack/sockets.js';
import { IpStack } from '../stack/stack.js';
import { TcpByteRing } from '../stack/tcp-buffer.js';
import { TcpDirectHost } from '../stack/tcp-direct.js';
import { TcpIpStackAdapter } from '../stack/tcp-ip.js';
import { TcpListener, TcpSocket } from '../stack/tcp-socket.js';
import { TcpLayer } from '../stack/tcp.js';
import { MacTable } from '../switch/mac-table.js';
import { Rstp } from '../switch/rstp.js';
import { Switch } from '../switch/index.js';
import { Reassembler } from '../stack/reassembly.js';
import { NetworkDhcp } from '../network/dhcp-service.js';
import { EchoRun, TraceRun } from '../console/probes.js';
import { NodeConsole } from '../console/index.js';
import { Terminal } from '../console/terminal.js';
import { VpcsShell } from '../console/vpcs.js';
import { IosShell } from '../console/ios/shell.js';
import { type ClassSpec, SnapshotError, SnapshotRegistry } from './graph.js';
import { ipStackBeforeParts, routeTableBeforeLookup } from './upgrades.js';

type Ctor = abstract new (...args: never[]) => object;
const plain = (name: string, c: Ctor, extra: Partial<ClassSpec> = {}): ClassSpec => ({ name, proto: c.prototype as object, ...extra });

/** A link's two directions are a class of link.ts's own; its prototype is taken from a link. */
function linkDirectionProto(): object {
  const sink: FrameSink = { onFrame() {} };
  const link = new Link(new Engine(), 'probe', new Port(sink, 'a'), new Port(sink, 'b'));
  return Object.getPrototypeOf((link as unknown as { dirs: object[] }).dirs[0]) as object;
}

/** A frame slab past its end takes a new buffer on its next allocation (slab.ts, fast-path.ts). */
function slabUsedUp(o: Record<string, unknown>): void {
  o['buf'] = new ArrayBuffer(0);
  o['pos'] = Infinity;
}

export function labClassSpecs(): ClassSpec[] {
  return [
    plain('LabRuntime', LabRuntime, {
      // Factories and the host's sockets are the server's: the live runtime keeps its own.
      skip: ['listeners', 'cloudFactory', 'bridgeFactory', 'hostSockets', 'hostAdapterTap'],
      fresh: (o) => {
        o['listeners'] = new Set();
        o['cloudFactory'] = undefined;
        o['bridgeFactory'] = undefined;
        o['hostSockets'] = undefined;
        o['hostAdapterTap'] = undefined;
      },
    }),
    plain('Engine', Engine, {
      // The real-time driver (a setTimeout and its callback) and the time mode stay the live engine's.
      skip: ['mode', 'onWake', 'wakeTimer', 'onImmediate', 'wakeImmediate', 'running', 'wakeAt', 'realStart'],
      fresh: () => {
        throw new SnapshotError('snapshot: an engine is restored into a live one (its real-time driver cannot be recorded)');
      },
    }),
    plain('TimerHeap', TimerHeap),
    plain('Rng', Rng),
    plain('Port', Port, { skip: ['taps'], fresh: (o) => void (o['taps'] = null) }),
    plain('Link', Link, { skip: ['taps'], fresh: (o) => void (o['taps'] = null) }),
    { name: 'LinkDirection', proto: linkDirectionProto() },
    plain('Host', Host),
    plain('DhcpClient', DhcpClient),
    plain('DnsLookup', DnsLookup),
    plain('PingOperation', PingOperation),
    plain('TraceOperation', TraceOperation),
    plain('UdpProbe', UdpProbe),
    plain('UdpEchoService', UdpEchoService),
    plain('DnsService', DnsService),
    plain('Hub', Hub),
    plain('Switch', Switch),
    plain('MacTable', MacTable),
    plain('Rstp', Rstp),
    plain('Router', Router),
    plain('FastPath', FastPath),
    plain('Acl', Acl),
    plain('DhcpServer', DhcpServer),
    plain('Nat', Nat),
    plain('TupleIndex', TupleIndex),
    plain('NetworkDhcp', NetworkDhcp),
    plain('IpStack', IpStack, { upgrade: ipStackBeforeParts }),
    plain('ArpNeighbours', ArpNeighbours),
    plain('IcmpErrors', IcmpErrors),
    plain('StackFrameSlab', StackFrameSlab, { trim: ['buf'], release: slabUsedUp }),
    plain('RouteTable', RouteTable, { upgrade: routeTableBeforeLookup }),
    plain('UdpLayer', UdpLayer),
    plain('UdpSocket', UdpSocket),
    plain('EchoLayer', EchoLayer),
    plain('EchoSocket', EchoSocket),
    plain('Reassembler', Reassembler),
    // allocSegment takes a new slab when it has none.
    plain('TcpLayer', TcpLayer, { trim: ['slab'], release: (o) => void (o['slab'] = null) }),
    plain('TcpSocket', TcpSocket),
    plain('TcpListener', TcpListener),
    plain('TcpByteRing', TcpByteRing),
    plain('TcpIpStackAdapter', TcpIpStackAdapter),
    plain('TcpDirectHost', TcpDirectHost),
    plain('HttpServer', HttpServer),
    plain('HttpGet', HttpGet),
    plain('TcpEchoServer', TcpEchoServer),
    plain('TcpConnectCheck', TcpConnectCheck),
    // A console's probes are lab state (they own sockets on the node's stack); the console
    // around them, its terminal and shells belong to the viewers: references to them are cut.
    plain('EchoRun', EchoRun),
    plain('TraceRun', TraceRun),
    plain('NodeConsole', NodeConsole, { boundary: true }),
    plain('Terminal', Terminal, { boundary: true }),
    plain('VpcsShell', VpcsShell, { boundary: true }),
    plain('IosShell', IosShell, { boundary: true }),
    // Captures watch from outside; taps are skipped, and anything else reaching one is cut.
    plain('Capture', Capture, { boundary: true }),
    plain('CaptureTap', CaptureTap, { boundary: true }),
  ];
}

let shared: SnapshotRegistry | null = null;

/** The registry of the lab's classes (made once). */
export function labRegistry(): SnapshotRegistry {
  shared ??= new SnapshotRegistry(labClassSpecs());
  return shared;
}
