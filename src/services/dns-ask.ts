// One DNS question to one server, over UDP or TCP, for the probes dmsd makes itself: the server-group health checks
// (server-config/health.ts) and the parent DS check (daemon/parent-ds.ts).

/** Send `q` over UDP; resolves with the first datagram answering its id (anything else on the port is ignored). */
export function udpAsk(address: string, port: number, q: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  const dgram = process.getBuiltinModule('node:dgram');
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => done(new Error(`no UDP answer from ${address}#${port} within ${timeoutMs} ms`)), timeoutMs);
    const done = (e: Error | null, b?: Uint8Array) => {
      clearTimeout(timer);
      sock.close();
      if (e) reject(e);
      else resolve(b as Uint8Array);
    };
    sock.on('error', (e) => done(e));
    sock.on('message', (b) => {
      if (b.length >= 2 && b.readUInt16BE(0) === ((q[0] << 8) | q[1])) done(null, new Uint8Array(b));
    });
    sock.send(q, port, address);
  });
}

/** Send `q` over TCP (RFC 7766 length-prefixed); resolves with the first message. */
export function tcpAsk(address: string, port: number, q: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  const net = process.getBuiltinModule('node:net');
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: address, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => done(new Error(`no TCP answer from ${address}#${port} within ${timeoutMs} ms`)), timeoutMs);
    const done = (e: Error | null, b?: Uint8Array) => {
      clearTimeout(timer);
      sock.destroy();
      if (e) reject(e);
      else resolve(b as Uint8Array);
    };
    sock.on('error', (e) => done(e));
    sock.on('connect', () => sock.write(Buffer.concat([Buffer.from([q.length >> 8, q.length & 255]), q])));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(null, new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0))));
    });
  });
}
