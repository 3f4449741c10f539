// A TileSource over HTTP: the log's static files fetched from a URL prefix (or, for a
// path, read from a published folder), so every log client takes either.
import type { TileSource } from "./tiles.js";
import { folderSource } from "./log-store.js";

/** Fetches `<prefix>/<path>`; any status but 200 is an error naming the URL. */
export function httpSource(prefix: string): TileSource {
  const base = prefix.endsWith("/") ? prefix : prefix + "/";
  return async (p) => {
    const url = base + p;
    const res = await fetch(url);
    if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  };
}

/** An http(s) URL prefix, or a folder of published log files. */
export function logSource(location: string): TileSource {
  return /^https?:\/\//.test(location) ? httpSource(location) : folderSource(location);
}
