// Static file server for the repository root (no dependencies).
//
//   node www/scripts/serve.mjs [--port N]     (or PORT=N; default 8080)
//
// Serves until killed and prints the demo's URL. Tests import `serve`
// instead: `const { url, close } = await serve({ port: 0 })`.
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: two levels above this script (www/scripts/). */
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
};

/** The file a URL path names, or null when it lies outside the root. */
function resolvePath(urlPath) {
  let path;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (path.includes('\0')) return null;
  const file = resolve(join(root, path));
  return file === root || file.startsWith(root + sep) ? file : null;
}

async function handle(req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  const { pathname } = new URL(req.url, 'http://localhost');
  let file = resolvePath(pathname);
  if (!file) {
    res.writeHead(403).end('forbidden\n');
    return;
  }
  let info = await stat(file).catch(() => null);
  if (info?.isDirectory()) {
    // Directories are served as their index.html, under a URL ending in '/'
    // so that the page's relative imports resolve inside the directory.
    if (!pathname.endsWith('/')) {
      res.writeHead(301, { Location: pathname + '/' }).end();
      return;
    }
    file = join(file, 'index.html');
    info = await stat(file).catch(() => null);
  }
  if (!info?.isFile()) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    return;
  }
  res.writeHead(200, {
    'Content-Type': types[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': info.size,
    'Cache-Control': 'no-store',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file).on('error', () => res.destroy()).pipe(res);
}

/**
 * Starts the server on `port` (0: any free port) of localhost.
 * Resolves to `{ url, port, close }`; `url` is the root's URL with a
 * trailing slash and `close()` resolves once the server has stopped.
 */
export async function serve({ port = 8080, host = 'localhost' } = {}) {
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, ok);
  });
  const actual = server.address().port;
  return {
    url: `http://${host}:${actual}/`,
    port: actual,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** `--port N` from the command line, else $PORT, else 8080. */
function portFromArgs(argv) {
  const at = argv.indexOf('--port');
  const value = at >= 0 ? argv[at + 1] : process.env.PORT;
  if (value === undefined) return 8080;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid port: ${value}`);
  }
  return port;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let port;
  try {
    port = portFromArgs(process.argv.slice(2));
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
  const { url } = await serve({ port });
  console.log(`Serving ${root} at ${url}`);
  console.log(`Demo: ${url}www/demo/`);
}
