/**
 * Turns deploy/nginx/collabflow.conf (the http-context snippet docker-compose mounts into
 * nginx:1.27) into a complete nginx.conf for a local nginx on loopback: the replicas in
 * `upstream collabflow_api` and the web app in `upstream collabflow_web` become the given
 * addresses, `listen 8080;` becomes the given port, and pid, logs and temp directories all live
 * in a work directory of the caller's.
 * Used by the local stack script (scripts/stack.ts) and by backend/test/deploy.test.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The snippet shared with docker-compose. */
export const NGINX_TEMPLATE_PATH = fileURLToPath(
  new URL('../../deploy/nginx/collabflow.conf', import.meta.url),
);

/** The `server` addresses of the snippet's two upstream blocks. */
export interface NginxUpstreams {
  /** `upstream collabflow_api`: `host:port` of each API replica, for example `127.0.0.1:4001`. */
  api: string[];
  /** `upstream collabflow_web`: `host:port` of each web app (Next.js) server. */
  web: string[];
}

export interface NginxRenderOptions {
  /** `host:port` of each API replica, for example `127.0.0.1:4001`. */
  upstreams: string[];
  /** `host:port` of each web app (Next.js) server, for example `127.0.0.1:41234`. */
  webUpstreams: string[];
  listenPort: number;
  /** Absolute directory for pid, logs and temp files; created by the caller. */
  workDir: string;
  /** Address to listen on; loopback unless told otherwise. */
  listenHost?: string;
  /** The snippet text; deploy/nginx/collabflow.conf when omitted. */
  template?: string;
  /** Write an access log to `<workDir>/access.log` (default) or none. */
  accessLog?: boolean;
}

/** Debian's nginx, or NGINX_BIN, or whatever `nginx` is on the PATH. */
export function nginxBinary(): string {
  if (process.env.NGINX_BIN) return process.env.NGINX_BIN;
  for (const p of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'])
    if (existsSync(p)) return p;
  return 'nginx';
}

/**
 * Arguments for running (or, with `test`, checking) a rendered configuration: `-p` sets the
 * prefix, `-e` keeps nginx from touching the compiled-in /var/log/nginx/error.log before it has
 * read the file. Run in the foreground (the rendered file says `daemon off;`).
 */
export function nginxArgs(confFile: string, workDir: string, test = false): string[] {
  return [...(test ? ['-t'] : []), '-p', workDir, '-c', confFile, '-e', `${workDir}/error.log`];
}

// Directives only: a block or line that starts a line (comments start with `#`).
const upstreamBlock = (name: string) =>
  new RegExp(`^([ \\t]*upstream\\s+${name}\\s*\\{)([^{}]*)(\\})`, 'gm');
const SERVER_LINE = /^[ \t]*server[ \t]+[^;#\n]+;[ \t]*\n/gm;
const LISTEN_LINE = /^([ \t]*)listen 8080;/gm;
const ADDRESS = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/;

/** Replaces the `server` lines of the one `upstream <name>` block; throws if it is not there. */
function replaceUpstream(template: string, name: string, upstreams: string[]): string {
  if (upstreams.length === 0) throw new Error(`nginx: at least one ${name} upstream is needed`);
  for (const u of upstreams) {
    if (!ADDRESS.test(u)) throw new Error(`nginx: upstream must be host:port, got "${u}"`);
  }
  const blocks = [...template.matchAll(upstreamBlock(name))];
  if (blocks.length !== 1) {
    throw new Error(
      `nginx: the template must hold exactly one "upstream ${name}" block, found ${blocks.length}`,
    );
  }
  return template.replace(
    upstreamBlock(name),
    (_all, open: string, body: string, close: string) => {
      const servers = [...body.matchAll(SERVER_LINE)];
      const first = servers[0];
      if (!first) throw new Error(`nginx: the "upstream ${name}" block has no "server" lines`);
      const indent = /^[ \t]*/.exec(first[0])?.[0] ?? '    ';
      const lines = upstreams.map((u) => `${indent}server ${u};\n`).join('');
      // The new lines go where the first old one was; the other old ones are dropped.
      let placed = false;
      const newBody = body.replace(SERVER_LINE, () => {
        if (placed) return '';
        placed = true;
        return lines;
      });
      return `${open}${newBody}${close}`;
    },
  );
}

/**
 * The snippet with the servers of both upstream blocks and the listen address replaced; throws
 * if the template drifted from that shape.
 */
export function renderNginxSnippet(
  template: string,
  upstreams: NginxUpstreams,
  listen: string,
): string {
  const listens = [...template.matchAll(LISTEN_LINE)];
  if (listens.length !== 1) {
    throw new Error(
      `nginx: the template must hold exactly one "listen 8080;", found ${listens.length}`,
    );
  }
  let out = replaceUpstream(template, 'collabflow_api', upstreams.api);
  out = replaceUpstream(out, 'collabflow_web', upstreams.web);
  return out.replace(LISTEN_LINE, (_all, indent: string) => `${indent}listen ${listen};`);
}

/** A complete nginx.conf: the snippet inside `http {}`, everything writable inside `workDir`. */
export function renderNginxConf(opts: NginxRenderOptions): string {
  const { workDir } = opts;
  if (!workDir.startsWith('/')) throw new Error(`nginx: workDir must be absolute: ${workDir}`);
  if (/[\s;{}"'$]/.test(workDir)) throw new Error(`nginx: unusable workDir path: ${workDir}`);
  if (!Number.isInteger(opts.listenPort) || opts.listenPort < 1 || opts.listenPort > 65535)
    throw new Error(`nginx: bad listen port ${opts.listenPort}`);
  const host = opts.listenHost ?? '127.0.0.1';
  const listen = `${host.includes(':') ? `[${host}]` : host}:${opts.listenPort}`;
  const template = opts.template ?? readFileSync(NGINX_TEMPLATE_PATH, 'utf8');
  const snippet = renderNginxSnippet(
    template,
    { api: opts.upstreams, web: opts.webUpstreams },
    listen,
  );
  const indented = snippet
    .split('\n')
    .map((line) => (line.trim() ? `    ${line}` : ''))
    .join('\n')
    .trimEnd();
  // Started as root, workers would run as `nobody` and could not enter a private workDir to
  // write request bodies and buffered responses; a local loopback stack runs them as root.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `# Generated by scripts/lib/nginx.ts from deploy/nginx/collabflow.conf; do not edit.
${user}daemon off;
worker_processes 1;
pid ${workDir}/nginx.pid;
error_log ${workDir}/error.log warn;

events {
    worker_connections 1024;
}

http {
    default_type application/octet-stream;
    access_log ${opts.accessLog === false ? 'off' : `${workDir}/access.log`};
    client_body_temp_path ${workDir}/client_body_temp;
    proxy_temp_path ${workDir}/proxy_temp;
    fastcgi_temp_path ${workDir}/fastcgi_temp;
    uwsgi_temp_path ${workDir}/uwsgi_temp;
    scgi_temp_path ${workDir}/scgi_temp;

${indented}
}
`;
}
