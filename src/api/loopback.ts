// Where plain HTTP cannot be sniffed: the HTTP listener's default rule, and the first-run set-up's (setup.ts).

/** 127.0.0.0/8, ::1 and localhost (also as an IPv4-mapped IPv6 address). */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase();
  return a === 'localhost' || a === '::1' || a === '0:0:0:0:0:0:0:1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a) || /^::ffff:127\./.test(a);
}
