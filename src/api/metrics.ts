// Prometheus metrics (GET /metrics, prom-client's text format): API calls by method, outcome and latency; HTTP
// requests by route and status; zones by state, change-feed lag and event-queue depth read when scraped; and the
// DNS server's query counters, which dmsd's composition root passes in as plain numbers (src/server has no metrics
// library).

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface DnsCounters {
  /** key "transport|rcode|qtype|opcode" → count (absent with --workers: not collected from the workers). */
  queries?(): ReadonlyMap<string, number>;
  /** Response rate limiting: key "class|action" → count (the workers' summed with --workers). */
  rrl?(): ReadonlyMap<string, number>;
  /** The TCP connection counters (src/server/tcp-guard.ts TcpStats), when the listeners run in this process. */
  tcp?(): { open: number; accepted: number; refused: number; evicted: number; idleTimeouts: number; ioTimeouts: number };
  /** Transfers refused by the concurrency limits, by scope ("total", "client"). */
  xfrLimited?(): Readonly<Record<string, number>>;
}

export interface MetricSources {
  zoneStates(): Promise<Record<string, number>>;
  /** Change-feed rows the served zone table is behind the database, undefined without a database. */
  feedLag?(): Promise<number | undefined>;
  eventQueueDepth(): Promise<number>;
  /** On a replica: seconds its state is behind the primary (services.replicationStatus); undefined on a primary. */
  replicaLag?(): Promise<number | undefined>;
  dns?: DnsCounters;
}

export class ApiMetrics {
  readonly registry = new Registry();
  readonly calls: Counter<'method' | 'outcome'>;
  readonly callSeconds: Histogram<'method'>;
  readonly http: Counter<'route' | 'status'>;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    // The process's own figures (process_resident_memory_bytes, process_cpu_seconds_total, nodejs_heap_size_*,
    // nodejs_external_memory_bytes, event-loop lag, GC time): what an operator graphs first for any Node service, and
    // what tells a growing V8 heap from growing native memory (bench/soak.mjs reads them). The event-loop lag is
    // sampled every 100 ms, not prom-client's 10 ms: its timer woke an idle dmsd 100 times a second (1.4 % of a core
    // here, idle); a tenth of that still gives hundreds of samples between two scrapes.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
    this.calls = new Counter({ name: 'dms_api_calls_total', help: 'JSON-RPC calls by method and outcome (ok or the error code)', labelNames: ['method', 'outcome'], registers });
    this.callSeconds = new Histogram({
      name: 'dms_api_call_duration_seconds',
      help: 'JSON-RPC call latency by method',
      labelNames: ['method'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    this.http = new Counter({ name: 'dms_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers });
    new Gauge({
      name: 'dms_zones',
      help: 'Zones by state',
      labelNames: ['state'],
      registers,
      async collect() {
        for (const [state, n] of Object.entries(await sources.zoneStates())) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'dms_change_feed_lag',
      help: 'Change-feed rows committed in the database and not yet served by this dmsd',
      registers,
      async collect() {
        const lag = await sources.feedLag?.();
        if (lag !== undefined) this.set(lag);
      },
    });
    new Gauge({
      name: 'dms_replica_lag_seconds',
      help: 'On a replica (PostgreSQL hot standby): seconds the served state is behind the primary; 0 on a primary',
      registers,
      async collect() {
        this.set((await sources.replicaLag?.()) ?? 0);
      },
    });
    new Gauge({
      name: 'dms_event_queue_depth',
      help: 'Events (NOTIFYs...) waiting to be processed or retried',
      registers,
      async collect() {
        this.set(await sources.eventQueueDepth());
      },
    });
    const dns = sources.dns;
    if (dns?.tcp) {
      const tcp = dns.tcp.bind(dns);
      new Gauge({
        name: 'dms_tcp_connections',
        help: 'DNS TCP connections open now',
        registers,
        collect() {
          this.set(tcp().open);
        },
      });
      new Counter({
        name: 'dms_tcp_connections_total',
        help: 'DNS TCP connections by outcome: accepted; refused (at a limit, all busy); closed to make room (evicted), by the idle timeout or by the I/O timeout',
        labelNames: ['outcome'],
        registers,
        collect() {
          this.reset();
          const t = tcp();
          for (const [outcome, n] of [['accepted', t.accepted], ['refused', t.refused], ['evicted', t.evicted], ['idle_timeout', t.idleTimeouts], ['io_timeout', t.ioTimeouts]] as const) this.inc({ outcome }, n);
        },
      });
    }
    if (dns?.xfrLimited) {
      const xfr = dns.xfrLimited.bind(dns);
      new Counter({
        name: 'dms_xfr_refused_limit_total',
        help: 'Zone transfers refused because too many were running (scope: total or per client)',
        labelNames: ['scope'],
        registers,
        collect() {
          this.reset();
          for (const [scope, n] of Object.entries(xfr())) this.inc({ scope }, n);
        },
      });
    }
    const queries = dns?.queries?.bind(dns);
    if (queries)
      new Counter({
        name: 'dms_dns_queries_total',
        help: 'DNS messages answered by transport, response code, query type and opcode (QUERY, NOTIFY, UPDATE)',
        labelNames: ['transport', 'rcode', 'qtype', 'opcode'],
        registers,
        collect() {
          this.reset();
          for (const [key, n] of queries()) {
            const [transport, rcode, qtype, opcode] = key.split('|');
            this.inc({ transport, rcode, qtype, opcode }, n);
          }
        },
      });
    const rrl = dns?.rrl?.bind(dns);
    if (rrl)
      new Counter({
        name: 'dms_dns_rrl_responses_total',
        help: 'UDP responses seen by response rate limiting, by response class (answer, nodata, nxdomain, referral, error) and action (passed, dropped, slipped = sent truncated or BADCOOKIE, logged = would have been limited in log-only mode, exempt = valid DNS cookie)',
        labelNames: ['class', 'action'],
        registers,
        collect() {
          this.reset();
          for (const [key, n] of rrl()) {
            const [cls, action] = key.split('|');
            this.inc({ class: cls, action }, n);
          }
        },
      });
  }

  call(method: string, outcome: 'ok' | number, ms: number, known: boolean): void {
    // Unknown method names are not labels (a client could make the label set grow without bound).
    const m = known ? method : '(unknown)';
    this.calls.inc({ method: m, outcome: String(outcome) });
    this.callSeconds.observe({ method: m }, ms / 1000);
  }
}
