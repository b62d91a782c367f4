// Loaded with --require into Node processes that the fake openshell runs inside a 0.1.x sandbox
// (see os-egress.mjs). A real sandbox has its own network namespace: besides loopback, a process
// reaches only the supervisor's proxy. Here processes share the host's network, so direct TCP
// connections to anything but loopback are sent to the proxy (FAKE_SANDBOX_EGRESS_MODE=transparent)
// or refused like the supervisor's nftables reject rules (strict). Connections to the proxy itself
// and to loopback stay as they are.
'use strict';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded with node --require, so CommonJS
const net = require('node:net');

const target = process.env.FAKE_SANDBOX_EGRESS;
if (target) {
  const [proxyHost, proxyPort] = target.split(':');
  const strict = process.env.FAKE_SANDBOX_EGRESS_MODE === 'strict';
  const loopback = (h) => !h || h === 'localhost' || h === '::1' || /^127\./.test(h);
  const original = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function connect(...args) {
    const normalized = Array.isArray(args[0]) ? args[0] : net._normalizeArgs(args);
    const opts = normalized[0] ?? {};
    if (opts.path == null && opts.port != null && !loopback(opts.host)) {
      if (strict) {
        const err = Object.assign(new Error(`connect ECONNREFUSED ${opts.host}:${opts.port} (direct egress is blocked in the sandbox; use HTTP_PROXY)`), {
          code: 'ECONNREFUSED',
          errno: -111,
          syscall: 'connect',
          address: opts.host,
          port: opts.port,
        });
        process.nextTick(() => this.destroy(err));
        return this;
      }
      const cb = normalized[1];
      return original.call(this, net._normalizeArgs(cb ? [{ ...opts, host: proxyHost, port: Number(proxyPort) }, cb] : [{ ...opts, host: proxyHost, port: Number(proxyPort) }]));
    }
    return original.apply(this, args);
  };
}
