'use strict';
/**
 * Preloaded into every benchmark child (node --require): refuses any TCP connection and any DNS
 * lookup that is not loopback, so no third-party package can reach the internet (instance
 * metadata, STS, a real AWS endpoint) whatever it is configured to do. Refusals are counted and
 * reported with the results (`networkRefusals`); a case with refusals is marked invalid.
 * Loaded into pino's worker threads too (they inherit process.execArgv).
 */
const net = require('node:net');
const dns = require('node:dns');

const refused = [];
globalThis.__cwbatchBenchRefusals = refused;

function isLoopback(host) {
  if (host === undefined || host === null || host === '') return true; // net defaults to localhost
  const h = String(host).replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

function refuse(what) {
  refused.push(what);
  if (typeof process.send === 'function') {
    try {
      process.send({ type: 'network-refused', what });
    } catch {
      // The channel may be closed at exit; the count travels with the result anyway.
    }
  }
  const error = new Error(`cwbatch bench: refused a non-loopback connection to ${what}`);
  error.code = 'ECONNREFUSED';
  return error;
}

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(...args) {
  let options = args[0];
  if (Array.isArray(options)) options = options[0]; // internal normalized form
  let host;
  let path;
  if (options !== null && typeof options === 'object') {
    host = options.host;
    path = options.path;
  } else if (typeof options === 'number' || (typeof options === 'string' && /^\d+$/.test(options))) {
    host = typeof args[1] === 'string' ? args[1] : undefined;
  } else if (typeof options === 'string') {
    path = options; // IPC pipe
  }
  if (path === undefined && !isLoopback(host)) {
    const error = refuse(`${host}`);
    process.nextTick(() => this.destroy(error));
    return this;
  }
  return originalConnect.apply(this, args);
};

const originalLookup = dns.lookup;
dns.lookup = function lookup(hostname, options, callback) {
  if (!isLoopback(hostname)) {
    const cb = typeof options === 'function' ? options : callback;
    const error = refuse(`dns:${hostname}`);
    process.nextTick(() => cb(error));
    return {};
  }
  return originalLookup.call(this, hostname, options, callback);
};
const originalPromisesLookup = dns.promises.lookup;
dns.promises.lookup = function lookup(hostname, options) {
  if (!isLoopback(hostname)) return Promise.reject(refuse(`dns:${hostname}`));
  return originalPromisesLookup.call(this, hostname, options);
};
