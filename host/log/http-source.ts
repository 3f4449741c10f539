// A TileSource over HTTP: the log's static files fetched from a URL prefix (or, for a
// path, read from a published folder), so every log client takes either.
import type { TileSource } from "./tiles.js";
import { folderSource } from "./log-store.js";
import { FwsealError } from "../errors.js";

/** Fetches `<prefix>/<path>`; any status but 200 is an error naming the URL. */
export function httpSource(prefix: string): TileSource {
  const base = prefix.endsWith("/") ? prefix : prefix + "/";
  return async (p) => {
    const url = base + p;
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      // fetch says only "fetch failed": the URL and the network's reason (in its cause) are what to act on.
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new FwsealError("INPUT_UNREADABLE", `GET ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
    }
    if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  };
}

/** An http(s) URL prefix, or a folder of published log files. */
export function logSource(location: string): TileSource {
  return /^https?:\/\//.test(location) ? httpSource(location) : folderSource(location);
}
