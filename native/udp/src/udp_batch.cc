// Batched UDP I/O for dmsd on Linux: recvmmsg() and sendmmsg() on a socket Node has already bound, driven by a
// uv_poll_t on Node's own event loop (no thread). libuv reads and writes one datagram per system call; at DNS sizes
// those calls are most of a server's CPU time, and one call per batch removes most of it.
//
// The socket stays Node's: dmsd binds it with dgram (port 0, SO_REUSEADDR, buffer sizes, cluster sharing), stops
// libuv's reading on it, and hands its descriptor here. This module polls a dup() of it, so libuv's watcher for the
// original (still used for the rare responses sent later, asynchronously) and ours are separate epoll entries.
//
// Memory is shared with JavaScript, no object per datagram:
//   rx      Buffer of batch × slot octets: datagram i lands at i × slot
//   rxMeta  Int32Array, per datagram: [length, source port]
//   addrs   Array: per datagram, the source address as text (one string shared by consecutive equal sources)
//   tx      Buffer: responses, packed by JavaScript
//   txMeta  Int32Array, per response: [datagram index it answers, offset in tx, length]
// onBatch(n) is called once per recvmmsg() batch; inside it JavaScript answers and calls flush(count), which sends
// the queued responses with sendmmsg() to the sources of the datagrams they answer.

#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cstdlib>
#include <new>

namespace {

constexpr int kMaxBatch = 256;
// Batches taken per readiness event before returning to the loop, so timers and other sockets get their turn; the
// poll is level-triggered, so what is left wakes it again at once.
constexpr int kRoundsPerWake = 8;

struct Poller {
  napi_env env = nullptr;
  int fd = -1;
  int family = 4;
  uv_poll_t poll;
  bool closing = false;

  uint8_t* rx = nullptr;
  size_t slot = 0;
  int batch = 0;
  int32_t* rxMeta = nullptr;
  uint8_t* tx = nullptr;
  size_t txLen = 0;
  int32_t* txMeta = nullptr;
  size_t txEntries = 0;

  napi_ref rxRef = nullptr, rxMetaRef = nullptr, txRef = nullptr, txMetaRef = nullptr;
  napi_ref addrsRef = nullptr, cbRef = nullptr, resourceRef = nullptr;
  napi_async_context asyncCtx = nullptr;
  // Freed by whichever comes last: the poll handle's close callback, or the garbage collection of the JS handle.
  bool closed = false;
  bool collected = false;

  mmsghdr rmsg[kMaxBatch];
  iovec riov[kMaxBatch];
  sockaddr_storage raddr[kMaxBatch];
  mmsghdr smsg[kMaxBatch];
  iovec siov[kMaxBatch];

  // Counters for tests and logs: recvmmsg batches, datagrams received, sendmmsg calls, responses sent, responses
  // dropped on a send error.
  double stats[5] = {0, 0, 0, 0, 0};
};

#define CHECK(call)                                   \
  do {                                                \
    if ((call) != napi_ok) {                          \
      napi_throw_error(env, nullptr, #call " failed"); \
      return nullptr;                                 \
    }                                                 \
  } while (0)

napi_value Throw(napi_env env, const char* msg) {
  napi_throw_error(env, nullptr, msg);
  return nullptr;
}

bool BufferOf(napi_env env, napi_value v, uint8_t** data, size_t* len) {
  bool is = false;
  if (napi_is_buffer(env, v, &is) != napi_ok || !is) return false;
  void* d = nullptr;
  if (napi_get_buffer_info(env, v, &d, len) != napi_ok) return false;
  *data = static_cast<uint8_t*>(d);
  return true;
}

bool Int32ArrayOf(napi_env env, napi_value v, int32_t** data, size_t* count) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  void* d = nullptr;
  if (napi_get_typedarray_info(env, v, &type, count, &d, nullptr, nullptr) != napi_ok) return false;
  if (type != napi_int32_array) return false;
  *data = static_cast<int32_t*>(d);
  return true;
}

Poller* PollerOf(napi_env env, napi_value v) {
  void* p = nullptr;
  if (napi_get_value_external(env, v, &p) != napi_ok || p == nullptr) return nullptr;
  Poller* self = static_cast<Poller*>(p);
  return self->closing ? nullptr : self;
}

// The text form of a source address, as Node's dgram gives it (IPv6 link-local with "%interface").
napi_value AddressText(napi_env env, const sockaddr_storage& sa) {
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  text[0] = '\0';
  if (sa.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(sa).sin_addr, text, sizeof text);
  } else if (sa.ss_family == AF_INET6) {
    const sockaddr_in6& a6 = reinterpret_cast<const sockaddr_in6&>(sa);
    inet_ntop(AF_INET6, &a6.sin6_addr, text, sizeof text);
    if (a6.sin6_scope_id != 0) {
      size_t n = strlen(text);
      char name[IF_NAMESIZE];
      text[n++] = '%';
      if (if_indextoname(a6.sin6_scope_id, name) != nullptr) {
        strncpy(text + n, name, sizeof text - n - 1);
      } else {
        snprintf(text + n, sizeof text - n, "%u", a6.sin6_scope_id);
      }
      text[sizeof text - 1] = '\0';
    }
  }
  napi_value s;
  if (napi_create_string_latin1(env, text, NAPI_AUTO_LENGTH, &s) != napi_ok) return nullptr;
  return s;
}

bool SameSource(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET)
    return reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr == reinterpret_cast<const sockaddr_in&>(b).sin_addr.s_addr;
  const sockaddr_in6& x = reinterpret_cast<const sockaddr_in6&>(a);
  const sockaddr_in6& y = reinterpret_cast<const sockaddr_in6&>(b);
  return memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0 && x.sin6_scope_id == y.sin6_scope_id;
}

uint16_t PortOf(const sockaddr_storage& sa) {
  if (sa.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(sa).sin_port);
  if (sa.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(sa).sin6_port);
  return 0;
}

// Receive one batch; returns the number of datagrams (0 when none is waiting or on an error that is not fatal).
int ReceiveBatch(Poller* self) {
  for (int i = 0; i < self->batch; i++) {
    self->riov[i].iov_base = self->rx + static_cast<size_t>(i) * self->slot;
    self->riov[i].iov_len = self->slot;
    mmsghdr& m = self->rmsg[i];
    memset(&m, 0, sizeof m);
    m.msg_hdr.msg_iov = &self->riov[i];
    m.msg_hdr.msg_iovlen = 1;
    m.msg_hdr.msg_name = &self->raddr[i];
    m.msg_hdr.msg_namelen = sizeof self->raddr[i];
  }
  for (;;) {
    int n = recvmmsg(self->fd, self->rmsg, self->batch, MSG_DONTWAIT, nullptr);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    // EAGAIN: drained. Anything else (an ICMP error queued on the socket, ENOMEM) ends this round too; the poll
    // wakes us again if datagrams are waiting.
    return 0;
  }
}

void OnReadable(uv_poll_t* handle, int status, int events) {
  Poller* self = static_cast<Poller*>(handle->data);
  if (self->closing || status < 0 || !(events & UV_READABLE)) return;
  napi_env env = self->env;
  for (int round = 0; round < kRoundsPerWake && !self->closing; round++) {
    int n = ReceiveBatch(self);
    if (n <= 0) return;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value addrs, cb, resource, argv[1], result;
    bool ok = napi_get_reference_value(env, self->addrsRef, &addrs) == napi_ok &&
              napi_get_reference_value(env, self->cbRef, &cb) == napi_ok &&
              napi_get_reference_value(env, self->resourceRef, &resource) == napi_ok;
    napi_value prev = nullptr;
    for (int i = 0; ok && i < n; i++) {
      self->rxMeta[2 * i] = static_cast<int32_t>(self->rmsg[i].msg_len);
      self->rxMeta[2 * i + 1] = PortOf(self->raddr[i]);
      napi_value a = (prev != nullptr && SameSource(self->raddr[i], self->raddr[i - 1])) ? prev : AddressText(env, self->raddr[i]);
      ok = a != nullptr && napi_set_element(env, addrs, i, a) == napi_ok;
      prev = a;
    }
    self->stats[0] += 1;
    self->stats[1] += n;
    if (ok) {
      napi_create_int32(env, n, &argv[0]);
      // napi_make_callback runs the microtasks and process.nextTick queue afterwards, as Node does after its own
      // socket callbacks (asynchronous handlers continue there).
      napi_status st = napi_make_callback(env, self->asyncCtx, resource, cb, 1, argv, &result);
      if (st == napi_pending_exception) {
        napi_value err;
        napi_get_and_clear_last_exception(env, &err);
        napi_fatal_exception(env, err);
        napi_close_handle_scope(env, scope);
        return;
      }
    }
    napi_close_handle_scope(env, scope);
    if (n < self->batch) return;  // drained
  }
}

void Finalize(napi_env env, void* data, void* hint);

// open(fd, family, rx, rxMeta, slot, batch, addrs, tx, txMeta, onBatch) → handle
napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 10) return Throw(env, "open: 10 arguments expected");
  int32_t fd, family, slot, batch;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_int32(env, argv[1], &family));
  CHECK(napi_get_value_int32(env, argv[4], &slot));
  CHECK(napi_get_value_int32(env, argv[5], &batch));
  if (fd < 0 || (family != 4 && family != 6)) return Throw(env, "open: bad descriptor or family");
  if (batch < 1 || batch > kMaxBatch || slot < 512 || slot > 65536) return Throw(env, "open: bad batch or slot size");

  Poller* self = new (std::nothrow) Poller();
  if (self == nullptr) return Throw(env, "open: out of memory");
  self->env = env;
  self->family = family;
  self->slot = static_cast<size_t>(slot);
  self->batch = batch;
  size_t rxLen = 0, rxMetaCount = 0, txMetaCount = 0;
  bool isArray = false, isFunction = false;
  napi_valuetype t;
  napi_is_array(env, argv[6], &isArray);
  if (napi_typeof(env, argv[9], &t) == napi_ok) isFunction = t == napi_function;
  if (!BufferOf(env, argv[2], &self->rx, &rxLen) || rxLen < self->slot * batch ||
      !Int32ArrayOf(env, argv[3], &self->rxMeta, &rxMetaCount) || rxMetaCount < static_cast<size_t>(2 * batch) ||
      !BufferOf(env, argv[7], &self->tx, &self->txLen) ||
      !Int32ArrayOf(env, argv[8], &self->txMeta, &txMetaCount) || !isArray || !isFunction) {
    delete self;
    return Throw(env, "open: bad buffers or callback");
  }
  self->txEntries = txMetaCount / 3;
  if (self->txEntries > kMaxBatch) self->txEntries = kMaxBatch;

  uv_loop_t* loop = nullptr;
  CHECK(napi_get_uv_event_loop(env, &loop));
  self->fd = dup(fd);
  if (self->fd < 0) {
    delete self;
    return Throw(env, "open: dup() failed");
  }
  if (uv_poll_init(loop, &self->poll, self->fd) != 0) {
    close(self->fd);
    delete self;
    return Throw(env, "open: uv_poll_init failed");
  }
  self->poll.data = self;
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "DMS_UDP_BATCH", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[2], 1, &self->rxRef);
  napi_create_reference(env, argv[3], 1, &self->rxMetaRef);
  napi_create_reference(env, argv[6], 1, &self->addrsRef);
  napi_create_reference(env, argv[7], 1, &self->txRef);
  napi_create_reference(env, argv[8], 1, &self->txMetaRef);
  napi_create_reference(env, argv[9], 1, &self->cbRef);
  napi_create_reference(env, resource, 1, &self->resourceRef);
  napi_async_init(env, resource, name, &self->asyncCtx);
  uv_poll_start(&self->poll, UV_READABLE, OnReadable);
  napi_value handle;
  CHECK(napi_create_external(env, self, Finalize, nullptr, &handle));
  return handle;
}

// setRx(handle, rx): receive into a new buffer from now on (the old one is still referenced by asynchronous work).
napi_value SetRx(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Poller* self = argc == 2 ? PollerOf(env, argv[0]) : nullptr;
  if (self == nullptr) return Throw(env, "setRx: closed or bad handle");
  uint8_t* rx;
  size_t len;
  if (!BufferOf(env, argv[1], &rx, &len) || len < self->slot * self->batch) return Throw(env, "setRx: buffer too small");
  napi_delete_reference(env, self->rxRef);
  napi_create_reference(env, argv[1], 1, &self->rxRef);
  self->rx = rx;
  return nullptr;
}

// flush(handle, count): send txMeta's first `count` responses. Returns how many were dealt with: all of them, or
// fewer when the socket's send buffer is full (EAGAIN/ENOBUFS), in which case the caller sends the rest another way.
// A response the kernel refuses for another reason (no route, say) is dropped, as a failed sendmsg() would drop it.
napi_value Flush(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Poller* self = argc == 2 ? PollerOf(env, argv[0]) : nullptr;
  if (self == nullptr) return Throw(env, "flush: closed or bad handle");
  int32_t count;
  CHECK(napi_get_value_int32(env, argv[1], &count));
  if (count < 0 || static_cast<size_t>(count) > self->txEntries) return Throw(env, "flush: bad count");
  for (int i = 0; i < count; i++) {
    int32_t idx = self->txMeta[3 * i], off = self->txMeta[3 * i + 1], len = self->txMeta[3 * i + 2];
    if (idx < 0 || idx >= self->batch || off < 0 || len < 0 || static_cast<size_t>(off) + len > self->txLen)
      return Throw(env, "flush: bad response entry");
    self->siov[i].iov_base = self->tx + off;
    self->siov[i].iov_len = static_cast<size_t>(len);
    mmsghdr& m = self->smsg[i];
    memset(&m, 0, sizeof m);
    m.msg_hdr.msg_iov = &self->siov[i];
    m.msg_hdr.msg_iovlen = 1;
    m.msg_hdr.msg_name = &self->raddr[idx];
    m.msg_hdr.msg_namelen = self->raddr[idx].ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  }
  int done = 0;
  while (done < count) {
    int r = sendmmsg(self->fd, self->smsg + done, count - done, MSG_DONTWAIT);
    self->stats[2] += 1;
    if (r > 0) {
      done += r;
      self->stats[3] += r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) break;
    done += 1;  // this destination refused: drop its response, go on with the others
    self->stats[4] += 1;
  }
  napi_value out;
  CHECK(napi_create_int32(env, done, &out));
  return out;
}

// stats(handle) → [recvmmsg batches, datagrams received, sendmmsg calls, responses sent, responses dropped]
napi_value Stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  void* p = nullptr;
  if (argc < 1 || napi_get_value_external(env, argv[0], &p) != napi_ok || p == nullptr) return Throw(env, "stats: bad handle");
  Poller* self = static_cast<Poller*>(p);
  napi_value arr;
  CHECK(napi_create_array_with_length(env, 5, &arr));
  for (uint32_t i = 0; i < 5; i++) {
    napi_value v;
    napi_create_double(env, self->stats[i], &v);
    napi_set_element(env, arr, i, v);
  }
  return arr;
}

void OnClosed(uv_handle_t* handle) {
  Poller* self = static_cast<Poller*>(handle->data);
  napi_env env = self->env;
  napi_ref* refs[] = {&self->rxRef, &self->rxMetaRef, &self->txRef, &self->txMetaRef, &self->addrsRef, &self->cbRef, &self->resourceRef};
  for (napi_ref* r : refs)
    if (*r != nullptr) {
      napi_delete_reference(env, *r);
      *r = nullptr;
    }
  self->rx = nullptr;
  self->tx = nullptr;
  self->closed = true;
  if (self->collected) delete self;
}

// The JS handle is gone: free the Poller once its poll handle is closed too (a handle collected while still open is
// never freed: the loop still polls with it, which only a close() call ends).
void Finalize(napi_env, void* data, void*) {
  Poller* self = static_cast<Poller*>(data);
  self->collected = true;
  if (self->closed) delete self;
}

// close(handle): stop polling and close our descriptor (Node's socket itself is closed by dgram).
napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Poller* self = argc == 1 ? PollerOf(env, argv[0]) : nullptr;
  if (self == nullptr) return nullptr;
  self->closing = true;
  napi_async_destroy(env, self->asyncCtx);
  self->asyncCtx = nullptr;
  // Stopped, the poll no longer watches the descriptor (libuv removes it from epoll at once), so it can close now:
  // the caller closes Node's socket right after, and the port must be free once that socket's close is reported.
  uv_poll_stop(&self->poll);
  close(self->fd);
  self->fd = -1;
  uv_close(reinterpret_cast<uv_handle_t*>(&self->poll), OnClosed);
  return nullptr;
}

// trimMalloc(): give the C heap's free memory back to the system; true when some was. After a burst, the buffers
// freed by Node (ArrayBuffers, TLS, SQLite's page cache) stay in glibc's arenas as resident memory until trimmed —
// what knotd and BIND leave to their allocators' decay. dmsd calls it when it goes idle (daemon/idle-memory.ts).
napi_value TrimMalloc(napi_env env, napi_callback_info) {
  bool trimmed = false;
#if defined(__GLIBC__)
  trimmed = malloc_trim(0) != 0;
#endif
  napi_value result;
  CHECK(napi_get_boolean(env, trimmed, &result));
  return result;
}

// setMmapThreshold(bytes): glibc serves allocations of at least `bytes` with their own mappings, given back to the
// system when freed, and stops raising that threshold by itself. By default glibc raises it to the size of any such
// block freed (up to 32 MiB): after a large zone file's buffer is freed, the load's megabyte buffers come from the
// arenas instead, and what they leave there stays resident (dmsd calls it once at start; daemon/main.ts).
napi_value SetMmapThreshold(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int64_t bytes = 0;
  if (argc < 1 || napi_get_value_int64(env, argv[0], &bytes) != napi_ok) bytes = 0;
  bool done = false;
#if defined(__GLIBC__)
  if (bytes > 0 && bytes <= (64 << 20)) done = mallopt(M_MMAP_THRESHOLD, static_cast<int>(bytes)) == 1;
#endif
  napi_value result;
  CHECK(napi_get_boolean(env, done, &result));
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", nullptr, Open, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setRx", nullptr, SetRx, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"flush", nullptr, Flush, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"stats", nullptr, Stats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trimMalloc", nullptr, TrimMalloc, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setMmapThreshold", nullptr, SetMmapThreshold, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
