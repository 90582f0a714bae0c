// wirelab_net: the few Linux calls Node cannot make on its own, for wirelab's real-world endpoints.
//
//  - openTap(name)            TUNSETIFF on /dev/net/tun (IFF_TAP | IFF_NO_PI), non-blocking fd
//  - openPacket(ifname)       AF_PACKET raw socket bound to one interface, promiscuous, own
//                             transmissions ignored, VLAN tags given back (the kernel strips them)
//  - startReader(...)         a uv_poll on the fd: every time it is readable, up to `batch` frames
//                             are read in one go and handed to JavaScript in one call, as one
//                             ArrayBuffer plus their lengths, so the per-frame cost stays in C
//  - write(fd, frame)         one frame out, without blocking; a negative errno when it failed
//  - writeBatch(fd, frames)   many frames out in one call (sendmmsg on packet sockets)
//  - setOffloads(if, on)      GRO/LRO/TSO/GSO on a real NIC (inbound GRO makes frames larger
//                             than the wire carries)
//  - openIcmp(raw)            an ICMP socket for the NAT gateway's pings: an unprivileged ping
//                             socket (SOCK_DGRAM) or a raw one (SOCK_RAW) that sees only echo replies;
//                             read it with startReader(fd, false, ...)
//  - sendTo(fd, bytes, ipv4)  one datagram to an IPv4 address, without blocking
//
// Everything runs on Node's main thread: libuv tells us when the fd is readable, so there is no
// thread, lock or copy queue in between.
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/icmp.h>
#include <linux/if.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace {

// Largest frame one read may return: a TAP whose MTU was raised to 65535 gives 65549 bytes.
constexpr size_t kSlot = 65600;
constexpr int kMaxBatch = 256;

#define CHECK(call)                                   \
  do {                                                \
    if ((call) != napi_ok) {                          \
      napi_throw_error(env, nullptr, "N-API failure"); \
      return nullptr;                                 \
    }                                                 \
  } while (0)

// Throws an Error shaped like Node's system errors: message, code ('EPERM'), errno, syscall.
napi_value ThrowErrno(napi_env env, int err, const char* syscall, const char* what) {
  char msg[512];
  snprintf(msg, sizeof msg, "%s: %s (%s)", what, strerror(err), syscall);
  napi_value message, error, code, errnoValue, sys;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  const char* name = err == EPERM    ? "EPERM"
                     : err == EACCES ? "EACCES"
                     : err == ENODEV ? "ENODEV"
                     : err == EBUSY  ? "EBUSY"
                     : err == ENOENT ? "ENOENT"
                     : err == EINVAL ? "EINVAL"
                                     : "EIO";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, err, &errnoValue);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "errno", errnoValue);
  napi_set_named_property(env, error, "syscall", sys);
  napi_throw(env, error);
  return nullptr;
}

bool GetString(napi_env env, napi_value v, char* out, size_t size) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, out, size, &len) != napi_ok) return false;
  return len > 0 && len < size;
}

napi_value Int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

// openTap(name: string): { fd: number, name: string }
napi_value OpenTap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  char name[IFNAMSIZ];
  if (argc < 1 || !GetString(env, argv[0], name, sizeof name)) {
    napi_throw_type_error(env, nullptr, "openTap(name): an interface name of 1 to 15 characters");
    return nullptr;
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return ThrowErrno(env, errno, "open", "/dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, strlen(name));
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, err, "ioctl(TUNSETIFF)", name);
  }
  napi_value out, fdValue, nameValue;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_int32(env, fd, &fdValue));
  CHECK(napi_create_string_utf8(env, ifr.ifr_name, NAPI_AUTO_LENGTH, &nameValue));
  CHECK(napi_set_named_property(env, out, "fd", fdValue));
  CHECK(napi_set_named_property(env, out, "name", nameValue));
  return out;
}

// openPacket(ifname: string, promiscuous: boolean): { fd: number, ifindex: number }
napi_value OpenPacket(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  char name[IFNAMSIZ];
  if (argc < 1 || !GetString(env, argv[0], name, sizeof name)) {
    napi_throw_type_error(env, nullptr, "openPacket(ifname): an interface name of 1 to 15 characters");
    return nullptr;
  }
  bool promisc = true;
  if (argc > 1) napi_get_value_bool(env, argv[1], &promisc);
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd < 0) return ThrowErrno(env, errno, "socket(AF_PACKET)", name);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name, strlen(name));
  if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, err, "ioctl(SIOCGIFINDEX)", name);
  }
  unsigned ifindex = (unsigned)ifr.ifr_ifindex;
  int one = 1;
  // Our own transmissions would otherwise come straight back in (ETH_P_ALL sees outgoing frames).
  setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
  // The kernel strips 802.1Q tags before packet sockets see a frame; auxdata gives them back.
  setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one);
  int buf = 4 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf) < 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = (int)ifindex;
  if (bind(fd, (struct sockaddr*)&sll, sizeof sll) < 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, err, "bind(AF_PACKET)", name);
  }
  if (promisc) {
    struct packet_mreq mr;
    memset(&mr, 0, sizeof mr);
    mr.mr_ifindex = (int)ifindex;
    mr.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) {
      int err = errno;
      close(fd);
      return ThrowErrno(env, err, "setsockopt(PACKET_MR_PROMISC)", name);
    }
  }
  // Frames queued before the bind belong to no one: drop them.
  char scratch[64];
  while (recv(fd, scratch, sizeof scratch, MSG_DONTWAIT) >= 0) {
  }
  napi_value out;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_set_named_property(env, out, "fd", Int(env, fd)));
  CHECK(napi_set_named_property(env, out, "ifindex", Int(env, ifindex)));
  return out;
}

// setOffloads(ifname, enabled): turns GRO, LRO, TSO and GSO on or off; returns how many changed.
napi_value SetOffloads(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  char name[IFNAMSIZ];
  if (argc < 2 || !GetString(env, argv[0], name, sizeof name)) {
    napi_throw_type_error(env, nullptr, "setOffloads(ifname, enabled)");
    return nullptr;
  }
  bool enabled = false;
  napi_get_value_bool(env, argv[1], &enabled);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, errno, "socket", name);
  int changed = 0;
  const uint32_t cmds[] = {ETHTOOL_SGRO, ETHTOOL_STSO, ETHTOOL_SGSO};
  for (uint32_t cmd : cmds) {
    struct ethtool_value ev = {cmd, enabled ? 1u : 0u};
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, name, strlen(name));
    ifr.ifr_data = (char*)&ev;
    if (ioctl(fd, SIOCETHTOOL, &ifr) == 0) changed++;
  }
  close(fd);
  return Int(env, changed);
}

// ---------------------------------------------------------------- ICMP

// openIcmp(raw: boolean): fd, or -errno. A datagram socket needs net.ipv4.ping_group_range to take
// the process's group (EACCES otherwise); a raw one needs CAP_NET_RAW (EPERM otherwise).
napi_value OpenIcmp(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  bool raw = false;
  if (argc > 0) napi_get_value_bool(env, argv[0], &raw);
  int fd = socket(AF_INET, (raw ? SOCK_RAW : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (fd < 0) return Int(env, -errno);
  if (raw) {
    // A raw ICMP socket gets a copy of every ICMP message the host receives: keep echo replies only.
    struct icmp_filter filter;
    filter.data = ~(1u << ICMP_ECHOREPLY);
    if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof filter) < 0) {
      int err = errno;
      close(fd);
      return Int(env, -err);
    }
  }
  return Int(env, fd);
}

// sendTo(fd, bytes: Uint8Array, ipv4: number): bytes sent, or -errno (EAGAIN when the socket's
// buffer is full, ENETUNREACH / EHOSTUNREACH without a route, EPERM when a firewall refused).
napi_value SendTo(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t fd;
  uint32_t ip;
  napi_typedarray_type type;
  size_t length;
  void* data;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_uint32(env, argv[2], &ip) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &type, &length, &data, nullptr, nullptr) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, nullptr, "sendTo(fd, bytes: Uint8Array, ipv4: number)");
    return nullptr;
  }
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(ip);
  ssize_t n;
  do {
    n = sendto(fd, data, length, MSG_DONTWAIT, (struct sockaddr*)&to, sizeof to);
  } while (n < 0 && errno == EINTR);
  return Int(env, n < 0 ? -errno : n);
}

// ---------------------------------------------------------------- reader

struct Reader {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_ref lengthsRef;  // Int32Array shared with JavaScript: frame lengths of the last batch
  int32_t* lengths;
  napi_async_context async;
  int fd;
  bool packet;
  int batch;
  bool stopped;
  bool closing;
  // Freed once both libuv is done with the handle and JavaScript has dropped the external.
  bool handleClosed;
  bool finalized;
  uint8_t* slab;  // batch slots of kSlot bytes
  struct mmsghdr* msgs;
  struct iovec* iovs;
  struct sockaddr_ll* addrs;
  uint8_t* controls;
};
constexpr size_t kControl = CMSG_SPACE(sizeof(struct tpacket_auxdata));

void DeleteReader(Reader* r) {
  free(r->slab);
  free(r->msgs);
  free(r->iovs);
  free(r->addrs);
  free(r->controls);
  delete r;
}

void OnHandleClosed(uv_handle_t* handle) {
  Reader* r = static_cast<Reader*>(handle->data);
  r->handleClosed = true;
  if (r->finalized) DeleteReader(r);
}

// Stops watching the fd and releases the JavaScript references (the fd is the owner's to close).
void CloseReader(napi_env env, Reader* r) {
  if (r->closing) return;
  r->stopped = true;
  r->closing = true;
  uv_poll_stop(&r->poll);
  napi_delete_reference(env, r->callback);
  napi_delete_reference(env, r->lengthsRef);
  napi_async_destroy(env, r->async);
  uv_close(reinterpret_cast<uv_handle_t*>(&r->poll), OnHandleClosed);
}

// Reads up to r->batch frames; returns how many, with *err set to an errno other than EAGAIN.
int ReadBatch(Reader* r, int* err) {
  *err = 0;
  if (!r->packet) {
    int n = 0;
    while (n < r->batch) {
      ssize_t len = read(r->fd, r->slab + (size_t)n * kSlot, kSlot);
      if (len < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) *err = errno;
        break;
      }
      r->lengths[n++] = (int32_t)len;
    }
    return n;
  }
  for (int i = 0; i < r->batch; i++) {
    r->iovs[i].iov_base = r->slab + (size_t)i * kSlot + 4;  // room to put a stripped VLAN tag back
    r->iovs[i].iov_len = kSlot - 4;
    struct msghdr* h = &r->msgs[i].msg_hdr;
    h->msg_name = &r->addrs[i];
    h->msg_namelen = sizeof(struct sockaddr_ll);
    h->msg_iov = &r->iovs[i];
    h->msg_iovlen = 1;
    h->msg_control = r->controls + (size_t)i * kControl;
    h->msg_controllen = kControl;
    h->msg_flags = 0;
  }
  int got;
  do {
    got = recvmmsg(r->fd, r->msgs, (unsigned)r->batch, MSG_DONTWAIT | MSG_TRUNC, nullptr);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) *err = errno;
    return 0;
  }
  int n = 0;
  for (int i = 0; i < got; i++) {
    if (r->addrs[i].sll_pkttype == PACKET_OUTGOING) continue;
    uint8_t* src = r->slab + (size_t)i * kSlot + 4;
    size_t len = r->msgs[i].msg_len;
    if (len > kSlot - 4) len = kSlot - 4;
    uint16_t tci = 0, tpid = 0;
    bool tagged = false;
    struct msghdr* h = &r->msgs[i].msg_hdr;
    for (struct cmsghdr* c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
      if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
      struct tpacket_auxdata aux;
      memcpy(&aux, CMSG_DATA(c), sizeof aux);
      if ((aux.tp_status & TP_STATUS_VLAN_VALID) || aux.tp_vlan_tci != 0) {
        tagged = true;
        tci = aux.tp_vlan_tci;
        tpid = (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux.tp_vlan_tpid : ETH_P_8021Q;
      }
    }
    uint8_t* dst = r->slab + (size_t)n * kSlot;
    if (tagged && len >= 12) {
      memmove(dst, src, 12);
      dst[12] = (uint8_t)(tpid >> 8);
      dst[13] = (uint8_t)tpid;
      dst[14] = (uint8_t)(tci >> 8);
      dst[15] = (uint8_t)tci;
      if (dst + 16 != src + 12) memmove(dst + 16, src + 12, len - 12);
      len += 4;
    } else {
      memmove(dst, src, len);
    }
    r->lengths[n++] = (int32_t)len;
  }
  return n;
}

void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
  Reader* r = static_cast<Reader*>(handle->data);
  if (r->stopped) return;
  int err = 0;
  int n = ReadBatch(r, &err);
  if (status < 0) {
    // libuv stops a poll handle on POLLERR. The read above fetched the fd's own error: a packet
    // socket says ENETDOWN once while its interface is down (watch on); a TAP whose device was
    // deleted says EBADFD for ever (leave it stopped, JavaScript closes it).
    if (err == 0) err = EBADF;
    bool fatal = err == EBADFD || err == EBADF || err == ENODEV || err == ENXIO || err == EIO;
    if (!fatal && !r->stopped) uv_poll_start(&r->poll, UV_READABLE, OnReadable);
  }
  if (n == 0 && err == 0) return;
  napi_env env = r->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  size_t total = 0;
  for (int i = 0; i < n; i++) total += (size_t)r->lengths[i];
  void* data = nullptr;
  napi_value ab, count, errValue, cb, global, result;
  napi_create_arraybuffer(env, total, &data, &ab);
  size_t off = 0;
  for (int i = 0; i < n; i++) {
    memcpy(static_cast<uint8_t*>(data) + off, r->slab + (size_t)i * kSlot, (size_t)r->lengths[i]);
    off += (size_t)r->lengths[i];
  }
  napi_create_int32(env, n, &count);
  napi_create_int32(env, err, &errValue);
  napi_get_reference_value(env, r->callback, &cb);
  napi_get_global(env, &global);
  napi_value args[3] = {ab, count, errValue};
  napi_status st = napi_make_callback(env, r->async, global, cb, 3, args, &result);
  if (st == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

void ReaderFinalize(napi_env env, void* data, void* /*hint*/) {
  Reader* r = static_cast<Reader*>(data);
  r->finalized = true;
  if (!r->closing) CloseReader(env, r);  // collected without stopReader
  else if (r->handleClosed) DeleteReader(r);
}

// startReader(fd, packet: boolean, batch, lengths: Int32Array, cb(buffer, count, errno)): handle
napi_value StartReader(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 5) {
    napi_throw_type_error(env, nullptr, "startReader(fd, packet, batch, lengths, callback)");
    return nullptr;
  }
  int32_t fd, batch;
  bool packet;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_bool(env, argv[1], &packet));
  CHECK(napi_get_value_int32(env, argv[2], &batch));
  if (batch < 1) batch = 1;
  if (batch > kMaxBatch) batch = kMaxBatch;
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value arraybuffer;
  size_t byteOffset;
  if (napi_get_typedarray_info(env, argv[3], &type, &length, &data, &arraybuffer, &byteOffset) != napi_ok || type != napi_int32_array ||
      length < (size_t)batch) {
    napi_throw_type_error(env, nullptr, "startReader: lengths must be an Int32Array of at least batch elements");
    return nullptr;
  }
  Reader* r = new Reader();
  r->env = env;
  r->fd = fd;
  r->packet = packet;
  r->batch = batch;
  r->lengths = static_cast<int32_t*>(data);
  r->slab = static_cast<uint8_t*>(malloc((size_t)batch * kSlot));
  if (packet) {
    r->msgs = static_cast<struct mmsghdr*>(calloc((size_t)batch, sizeof(struct mmsghdr)));
    r->iovs = static_cast<struct iovec*>(calloc((size_t)batch, sizeof(struct iovec)));
    r->addrs = static_cast<struct sockaddr_ll*>(calloc((size_t)batch, sizeof(struct sockaddr_ll)));
    r->controls = static_cast<uint8_t*>(calloc((size_t)batch, kControl));
  }
  CHECK(napi_create_reference(env, argv[4], 1, &r->callback));
  CHECK(napi_create_reference(env, argv[3], 1, &r->lengthsRef));
  napi_value resourceName;
  CHECK(napi_create_string_utf8(env, "wirelab:frames", NAPI_AUTO_LENGTH, &resourceName));
  CHECK(napi_async_init(env, nullptr, resourceName, &r->async));
  uv_loop_t* loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  int rc = uv_poll_init(loop, &r->poll, fd);
  if (rc < 0) {
    napi_delete_reference(env, r->callback);
    napi_delete_reference(env, r->lengthsRef);
    napi_async_destroy(env, r->async);
    DeleteReader(r);
    return ThrowErrno(env, -rc, "uv_poll_init", "reader");
  }
  r->poll.data = r;
  uv_poll_start(&r->poll, UV_READABLE, OnReadable);
  napi_value handle;
  CHECK(napi_create_external(env, r, ReaderFinalize, nullptr, &handle));
  return handle;
}

// stopReader(handle): stops watching; the fd stays open (the caller closes it).
napi_value StopReader(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  void* data = nullptr;
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || data == nullptr) {
    napi_throw_type_error(env, nullptr, "stopReader(handle)");
    return nullptr;
  }
  CloseReader(env, static_cast<Reader*>(data));
  return nullptr;
}

// ---------------------------------------------------------------- writing

// write(fd, frame: Uint8Array): bytes written, or -errno (EAGAIN when the kernel queue is full).
napi_value Write(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t fd;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  napi_typedarray_type type;
  size_t length;
  void* data;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, nullptr, nullptr) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, nullptr, "write(fd, frame): frame must be a Uint8Array");
    return nullptr;
  }
  ssize_t n;
  do {
    n = write(fd, data, length);
  } while (n < 0 && errno == EINTR);
  return Int(env, n < 0 ? -errno : n);
}

// writeBatch(fd, packet, frames: Uint8Array[], count, errOut: Int32Array): how many frames went
// out, in order; stops at the first failure and leaves its errno in errOut[0] (0 when none).
napi_value WriteBatch(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t fd, count;
  bool packet;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_bool(env, argv[1], &packet));
  CHECK(napi_get_value_int32(env, argv[3], &count));
  if (count > kMaxBatch) count = kMaxBatch;
  struct iovec iov[kMaxBatch];
  struct mmsghdr msgs[kMaxBatch];
  for (int i = 0; i < count; i++) {
    napi_value el;
    CHECK(napi_get_element(env, argv[2], (uint32_t)i, &el));
    napi_typedarray_type type;
    size_t length;
    void* data;
    if (napi_get_typedarray_info(env, el, &type, &length, &data, nullptr, nullptr) != napi_ok || type != napi_uint8_array) {
      napi_throw_type_error(env, nullptr, "writeBatch: frames must be Uint8Arrays");
      return nullptr;
    }
    iov[i].iov_base = data;
    iov[i].iov_len = length;
  }
  int written = 0, err = 0;
  if (packet) {
    memset(msgs, 0, sizeof(struct mmsghdr) * (size_t)count);
    for (int i = 0; i < count; i++) {
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    while (written < count) {
      int n = sendmmsg(fd, msgs + written, (unsigned)(count - written), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        err = errno;
        break;
      }
      written += n;
    }
  } else {
    while (written < count) {
      ssize_t n = write(fd, iov[written].iov_base, iov[written].iov_len);
      if (n < 0) {
        if (errno == EINTR) continue;
        err = errno;
        break;
      }
      written++;
    }
  }
  if (argc > 4) {
    napi_typedarray_type type;
    size_t length;
    void* data;
    if (napi_get_typedarray_info(env, argv[4], &type, &length, &data, nullptr, nullptr) == napi_ok && type == napi_int32_array && length >= 1)
      static_cast<int32_t*>(data)[0] = err;
  }
  return Int(env, written);
}

// ---------------------------------------------------------------- writer thread
//
// Writing a frame into a TAP (or a veth through a packet socket) runs the receiving kernel stack
// inside the write() call: the namespace's IP and TCP processing is paid by whoever writes. A
// writer thread takes that cost off Node's thread, onto another core. JavaScript copies each frame
// into a single-producer single-consumer byte ring; the thread writes them out in order (sendmmsg
// batches on packet sockets) and sleeps on an eventfd when the ring is empty.

struct Writer {
  int fd;
  bool packet;
  uint8_t* ring;
  uint64_t cap;  // bytes, a power of two
  std::atomic<uint64_t> head{0};  // consumer position (bytes, monotonic)
  std::atomic<uint64_t> tail{0};  // producer position
  std::atomic<bool> sleeping{false};
  std::atomic<bool> stop{false};
  int efd;
  std::thread thread;
  std::atomic<uint64_t> written{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<int> lastErrno{0};
  bool joined = false;
};

constexpr uint32_t kWrap = 0xffffffffu;
inline uint64_t Align4(uint64_t v) { return (v + 3) & ~uint64_t(3); }

void WriterLoop(Writer* w) {
  constexpr int kBatch = 64;
  struct mmsghdr msgs[kBatch];
  struct iovec iov[kBatch];
  uint64_t ends[kBatch];
  for (;;) {
    uint64_t h = w->head.load(std::memory_order_relaxed);
    uint64_t t = w->tail.load(std::memory_order_acquire);
    if (h == t) {
      if (w->stop.load(std::memory_order_acquire)) return;
      w->sleeping.store(true, std::memory_order_seq_cst);
      t = w->tail.load(std::memory_order_seq_cst);
      if (h == t && !w->stop.load(std::memory_order_seq_cst)) {
        uint64_t v;
        ssize_t r = read(w->efd, &v, sizeof v);
        (void)r;
      }
      w->sleeping.store(false, std::memory_order_relaxed);
      continue;
    }
    int n = 0;
    while (h != t && n < kBatch) {
      uint64_t pos = h & (w->cap - 1);
      uint32_t len;
      if (w->cap - pos < 4) {
        h += w->cap - pos;
        continue;
      }
      memcpy(&len, w->ring + pos, 4);
      if (len == kWrap) {
        h += w->cap - pos;
        continue;
      }
      iov[n].iov_base = w->ring + pos + 4;
      iov[n].iov_len = len;
      h += Align4(4 + len);
      ends[n] = h;
      n++;
      if (!w->packet) break;  // a TAP takes one frame per write()
    }
    if (n == 0) {
      w->head.store(h, std::memory_order_release);
      continue;
    }
    if (w->packet) {
      memset(msgs, 0, sizeof(struct mmsghdr) * (size_t)n);
      for (int i = 0; i < n; i++) {
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      int done = 0;
      while (done < n) {
        int k = sendmmsg(w->fd, msgs + done, (unsigned)(n - done), 0);
        if (k < 0) {
          if (errno == EINTR) continue;
          // The frame at `done` was refused: count it and go on with the next.
          w->errors.fetch_add(1, std::memory_order_relaxed);
          w->lastErrno.store(errno, std::memory_order_relaxed);
          done++;
          continue;
        }
        done += k;
        w->written.fetch_add((uint64_t)k, std::memory_order_relaxed);
      }
    } else {
      ssize_t k;
      do {
        k = write(w->fd, iov[0].iov_base, iov[0].iov_len);
      } while (k < 0 && errno == EINTR);
      if (k < 0) {
        w->errors.fetch_add(1, std::memory_order_relaxed);
        w->lastErrno.store(errno, std::memory_order_relaxed);
      } else {
        w->written.fetch_add(1, std::memory_order_relaxed);
      }
    }
    w->head.store(ends[n - 1], std::memory_order_release);
  }
}

void StopWriter(Writer* w) {
  if (w->joined) return;
  w->stop.store(true, std::memory_order_seq_cst);
  uint64_t one = 1;
  ssize_t r = write(w->efd, &one, sizeof one);
  (void)r;
  w->thread.join();
  w->joined = true;
}

void DeleteWriter(Writer* w) {
  StopWriter(w);
  close(w->efd);
  free(w->ring);
  delete w;
}

void WriterFinalize(napi_env /*env*/, void* data, void* /*hint*/) {
  DeleteWriter(static_cast<Writer*>(data));
}

Writer* GetWriter(napi_env env, napi_value v) {
  void* data = nullptr;
  if (napi_get_value_external(env, v, &data) != napi_ok) return nullptr;
  return static_cast<Writer*>(data);
}

// startWriter(fd, packet, ringBytes): handle. The fd must outlive the writer (stopWriter first).
napi_value StartWriter(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t fd, bytes;
  bool packet;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_bool(env, argv[1], &packet));
  CHECK(napi_get_value_int32(env, argv[2], &bytes));
  uint64_t cap = 1 << 16;
  while (cap < (uint64_t)bytes && cap < (1ull << 28)) cap <<= 1;
  Writer* w = new Writer();
  w->fd = fd;
  w->packet = packet;
  w->cap = cap;
  w->ring = static_cast<uint8_t*>(malloc(cap));
  w->efd = eventfd(0, EFD_CLOEXEC);
  if (w->ring == nullptr || w->efd < 0) {
    int err = errno;
    if (w->efd >= 0) close(w->efd);
    free(w->ring);
    delete w;
    return ThrowErrno(env, err, "eventfd", "writer");
  }
  w->thread = std::thread(WriterLoop, w);
  napi_value handle;
  CHECK(napi_create_external(env, w, WriterFinalize, nullptr, &handle));
  return handle;
}

// push(handle, frame): true when queued, false when the ring is full (the frame is dropped).
napi_value WriterPush(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Writer* w = GetWriter(env, argv[0]);
  napi_typedarray_type type;
  size_t length;
  void* data;
  if (w == nullptr || w->joined || napi_get_typedarray_info(env, argv[1], &type, &length, &data, nullptr, nullptr) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, nullptr, "writerPush(handle, frame: Uint8Array) on a running writer");
    return nullptr;
  }
  napi_value out;
  uint64_t need = Align4(4 + length);
  uint64_t t = w->tail.load(std::memory_order_relaxed);
  uint64_t h = w->head.load(std::memory_order_acquire);
  uint64_t pos = t & (w->cap - 1);
  uint64_t skip = w->cap - pos < need ? w->cap - pos : 0;
  if (length > 0xfffffff0u || (t + skip + need) - h > w->cap) {
    napi_get_boolean(env, false, &out);
    return out;
  }
  if (skip) {
    if (skip >= 4) {
      uint32_t mark = kWrap;
      memcpy(w->ring + pos, &mark, 4);
    }
    t += skip;
    pos = 0;
  }
  uint32_t len32 = (uint32_t)length;
  memcpy(w->ring + pos, &len32, 4);
  memcpy(w->ring + pos + 4, data, length);
  w->tail.store(t + need, std::memory_order_seq_cst);
  if (w->sleeping.load(std::memory_order_seq_cst)) {
    uint64_t one = 1;
    ssize_t r = write(w->efd, &one, sizeof one);
    (void)r;
  }
  napi_get_boolean(env, true, &out);
  return out;
}

// writerStats(handle, out: Float64Array(3)): [written, errors, last errno].
napi_value WriterStats(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Writer* w = GetWriter(env, argv[0]);
  napi_typedarray_type type;
  size_t length;
  void* data;
  if (w == nullptr || napi_get_typedarray_info(env, argv[1], &type, &length, &data, nullptr, nullptr) != napi_ok || type != napi_float64_array || length < 3) {
    napi_throw_type_error(env, nullptr, "writerStats(handle, out: Float64Array(3))");
    return nullptr;
  }
  double* o = static_cast<double*>(data);
  o[0] = (double)w->written.load(std::memory_order_relaxed);
  o[1] = (double)w->errors.load(std::memory_order_relaxed);
  o[2] = (double)w->lastErrno.load(std::memory_order_relaxed);
  return nullptr;
}

// stopWriter(handle): writes out what is queued, then ends the thread (blocks until it has).
napi_value StopWriterJs(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Writer* w = GetWriter(env, argv[0]);
  if (w != nullptr) StopWriter(w);
  return nullptr;
}

napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t fd;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  return Int(env, close(fd) < 0 ? -errno : 0);
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"openTap", nullptr, OpenTap, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"openPacket", nullptr, OpenPacket, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setOffloads", nullptr, SetOffloads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"openIcmp", nullptr, OpenIcmp, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"sendTo", nullptr, SendTo, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"startReader", nullptr, StartReader, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"stopReader", nullptr, StopReader, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"write", nullptr, Write, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"writeBatch", nullptr, WriteBatch, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"startWriter", nullptr, StartWriter, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"writerPush", nullptr, WriterPush, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"writerStats", nullptr, WriterStats, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"stopWriter", nullptr, StopWriterJs, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
