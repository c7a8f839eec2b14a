import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The browser talks to one origin: pages, /api and /socket.io are all served behind nginx
 * (scripts/stack.ts locally, docker-compose in containers), so the app uses relative URLs only.
 */
const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // A second build directory lets a developer build beside a running test stack.
  ...(process.env.NEXT_DIST_DIR ? { distDir: process.env.NEXT_DIST_DIR } : {}),
  // Docker builds a self-contained server (frontend/.next/standalone/frontend/server.js).
  ...(process.env.NEXT_OUTPUT === 'standalone' ? { output: 'standalone' as const } : {}),
  outputFileTracingRoot: root,
  turbopack: { root },
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'Referrer-Policy', value: 'same-origin' },
          { key: 'X-Frame-Options', value: 'DENY' },
        ],
      },
    ];
  },
};

export default config;
