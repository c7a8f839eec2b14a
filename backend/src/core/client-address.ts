import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { TrustProxy } from '../config.js';

/** The ranges behind Express's names for TRUST_PROXY (the same as proxy-addr's). */
const NAMED: Record<string, string[]> = {
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  loopback: ['127.0.0.1/8', '::1/128'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack socket) as `1.2.3.4`. */
function plain(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

function prefixOf(mask: string): number {
  return mask
    .split('.')
    .map((octet) => Number(octet).toString(2).replace(/0/g, '').length)
    .reduce((a, b) => a + b, 0);
}

/** Whether the proxy at `address`, `hop` proxies away from the app (0: the peer), is trusted. */
export type TrustCheck = (address: string, hop: number) => boolean;

/** TRUST_PROXY (as config.ts parses it) as a function, with Express's meaning of each form. */
export function compileTrust(trust: TrustProxy): TrustCheck {
  if (trust === true) return () => true;
  if (trust === false) return () => false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  const list = new BlockList();
  for (const entry of trust.flatMap((e) => NAMED[e] ?? [e])) {
    const [address = '', range] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (range === undefined) list.addAddress(address, family);
    else list.addSubnet(address, range.includes('.') ? prefixOf(range) : Number(range), family);
  }
  return (address) => {
    const a = plain(address);
    const family = isIP(a);
    return family !== 0 && list.check(a, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/**
 * The client's address as Express's `req.ip` gives it, for requests that do not go through
 * Express (the Socket.IO handshake): from the peer backwards through X-Forwarded-For, the first
 * address that is not a trusted proxy (or the farthest one when all are trusted).
 */
export function clientAddress(req: IncomingMessage, trust: TrustCheck): string {
  const peer = req.socket.remoteAddress ?? '';
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '')
    .reverse();
  const chain = [peer, ...forwarded];
  for (let hop = 0; hop < chain.length - 1; hop++) {
    if (!trust(chain[hop]!, hop)) return chain[hop]!;
  }
  return chain[chain.length - 1]!;
}
