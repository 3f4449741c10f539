/* fwseal MCU firmware: boots the board, opens the semihosted flash, runs Duktape with the
   ES5 device core and main.js, then feeds every received UART byte to the JS callback
   onBytes(buf, len). Natives live on the global object `mcu` (see register_natives). */
#include "board.h"
#include "duktape.h"
#include "ed25519.h"
#include <stdlib.h>
#include <string.h>

extern const char fwseal_core_js[];
extern const unsigned fwseal_core_js_len;
extern const char fwseal_main_js[];
extern const unsigned fwseal_main_js_len;

#define RX_CHUNK 4096
#define BATCH_BYTES 512
#define BATCH_WAIT_TICKS (3u * TIMER_HZ / 1000u) /* 3 ms */
static uint8_t *rx_view_data;
static duk_context *ctx;

static void report_stats(const char *tag) {
  semi_log("fwseal-mcu: stats ");
  semi_log(tag);
  semi_log(" ");
  semi_log_u32("heap_peak", heap_peak());
  semi_log_u32("heap_live", heap_live());
  semi_log_u32("heap_arena_used", heap_arena_used());
  semi_log_u32("heap_arena", heap_arena_size());
  semi_log_u32("stack_peak", stack_high_water());
  semi_log_u32("stack_size", stack_size());
  semi_log_u32("rx_overruns", uart_rx_overruns());
  semi_log_u32("rx_peak", uart_rx_peak());
  semi_log_u32("rx_full_stops", uart_rx_full_stops());
  semi_log("\n");
}

static void fatal_handler(void *udata, const char *msg) {
  (void)udata;
  semi_log("fwseal-mcu: FATAL ");
  semi_log(msg ? msg : "(no message)");
  semi_log("\n");
  report_stats("fatal");
  semi_exit(5);
}

/* Buffer argument with a checked [off, off+len) window. */
static uint8_t *buf_window(duk_context *c, duk_idx_t i, uint32_t off, uint32_t len) {
  duk_size_t sz;
  uint8_t *p = (uint8_t *)duk_require_buffer_data(c, i, &sz);
  if (off > sz || len > sz - off) (void)duk_range_error(c, "buffer window out of range");
  return p + off;
}

static duk_ret_t n_uart_write(duk_context *c) {
  if (duk_is_string(c, 0)) {
    duk_size_t n;
    const char *s = duk_get_lstring(c, 0, &n);
    uart_write((const uint8_t *)s, n);
    return 0;
  }
  uint32_t off = duk_require_uint(c, 1), len = duk_require_uint(c, 2);
  uart_write(buf_window(c, 0, off, len), len);
  return 0;
}

static duk_ret_t n_log(duk_context *c) {
  duk_size_t n;
  const char *s = duk_safe_to_lstring(c, 0, &n);
  semi_log_n(s, n);
  semi_log("\n");
  return 0;
}

static duk_ret_t n_flash_read(duk_context *c) {
  uint32_t addr = duk_require_uint(c, 0), off = duk_require_uint(c, 2), len = duk_require_uint(c, 3);
  duk_push_int(c, flash_read(addr, buf_window(c, 1, off, len), len));
  return 1;
}

static duk_ret_t n_flash_erase(duk_context *c) {
  duk_push_int(c, flash_erase(duk_require_uint(c, 0), duk_require_uint(c, 1)));
  return 1;
}

static duk_ret_t n_flash_write(duk_context *c) {
  uint32_t addr = duk_require_uint(c, 0), off = duk_require_uint(c, 2), len = duk_require_uint(c, 3);
  duk_push_int(c, flash_write(addr, buf_window(c, 1, off, len), len));
  return 1;
}

/* sha256(buf, off, len, out): the core's primitive signature. */
static duk_ret_t n_sha256(duk_context *c) {
  uint32_t off = duk_require_uint(c, 1), len = duk_require_uint(c, 2);
  const uint8_t *in = buf_window(c, 0, off, len);
  uint8_t *out = buf_window(c, 3, 0, 32);
  sha256(in, len, out);
  return 0;
}

/* copyBytes(src, srcOff, dst, dstOff, n): the core's optional copy primitive, a memmove
   (the verifier copies every received chunk byte into its chunk buffer: in Duktape's
   index loop that is most of an install's instructions besides the frame decode). */
static duk_ret_t n_copy_bytes(duk_context *c) {
  uint32_t srcOff = duk_require_uint(c, 1), dstOff = duk_require_uint(c, 3), n = duk_require_uint(c, 4);
  const uint8_t *src = buf_window(c, 0, srcOff, n);
  uint8_t *dst = buf_window(c, 2, dstOff, n);
  if (n) memmove(dst, src, n);
  return 0;
}

/* crc32(buf, off, len) and findZero(buf, from, to): the frame decoder's optional native scans
   (device-sim/core/update/framing.ts): without them it runs a CRC step and a zero test per
   received byte in Duktape. CRC-32 as zlib (reflected, polynomial 0xEDB88320), unsigned. */
static uint32_t crc_table[256];

static void crc_table_init(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc_table[n] = c;
  }
}

static duk_ret_t n_crc32(duk_context *c) {
  uint32_t off = duk_require_uint(c, 1), len = duk_require_uint(c, 2);
  const uint8_t *p = buf_window(c, 0, off, len);
  uint32_t r = 0xffffffffu;
  for (uint32_t i = 0; i < len; i++) r = crc_table[(r ^ p[i]) & 0xff] ^ (r >> 8);
  duk_push_uint(c, r ^ 0xffffffffu);
  return 1;
}

static duk_ret_t n_find_zero(duk_context *c) {
  uint32_t from = duk_require_uint(c, 1), to = duk_require_uint(c, 2);
  if (to < from) (void)duk_range_error(c, "findZero: to < from");
  const uint8_t *p = buf_window(c, 0, from, to - from);
  const uint8_t *z = to > from ? memchr(p, 0, to - from) : NULL;
  duk_push_uint(c, z ? from + (uint32_t)(z - p) : to);
  return 1;
}

/* ed25519Verify(pk, sig, msg, msgOff, msgLen): the core's primitive signature, natively.
   Like the core's verifier it answers false (never throws) for wrong sizes or a bad window. */
static duk_ret_t n_ed25519_verify(duk_context *c) {
  duk_size_t pkn = 0, sign = 0, msgn = 0;
  const uint8_t *pk = (const uint8_t *)duk_get_buffer_data(c, 0, &pkn);
  const uint8_t *sig = (const uint8_t *)duk_get_buffer_data(c, 1, &sign);
  const uint8_t *msg = (const uint8_t *)duk_get_buffer_data(c, 2, &msgn);
  double off = duk_get_number_default(c, 3, -1), len = duk_get_number_default(c, 4, -1);
  /* an empty buffer may have no data pointer: check the types, not the pointers */
  int bufs = duk_is_buffer_data(c, 0) && duk_is_buffer_data(c, 1) && duk_is_buffer_data(c, 2);
  int ok = bufs && pk && sig && pkn == 32 && sign == 64 && off >= 0 && len >= 0 && off + len <= (double)msgn &&
           ed25519_verify(pk, sig, msg + (size_t)off, (size_t)len);
  duk_push_boolean(c, ok);
  return 1;
}

static duk_ret_t n_ticks(duk_context *c) {
  duk_push_number(c, (double)ticks_now());
  return 1;
}

static duk_ret_t n_busy_ticks(duk_context *c) {
  duk_push_number(c, (double)(ticks_now() - ticks_idle()));
  return 1;
}

static duk_ret_t n_now_seconds(duk_context *c) {
  duk_push_int(c, -1); /* no trusted time on this board */
  return 1;
}

static duk_ret_t n_stats(duk_context *c) {
  duk_push_object(c);
  duk_push_uint(c, heap_peak()); duk_put_prop_string(c, -2, "heapPeak");
  duk_push_uint(c, heap_live()); duk_put_prop_string(c, -2, "heapLive");
  duk_push_uint(c, heap_arena_used()); duk_put_prop_string(c, -2, "heapArenaUsed");
  duk_push_uint(c, heap_arena_size()); duk_put_prop_string(c, -2, "heapArena");
  duk_push_uint(c, stack_high_water()); duk_put_prop_string(c, -2, "stackPeak");
  duk_push_uint(c, stack_size()); duk_put_prop_string(c, -2, "stackSize");
  duk_push_uint(c, uart_rx_overruns()); duk_put_prop_string(c, -2, "rxOverruns");
  duk_push_uint(c, uart_rx_peak()); duk_put_prop_string(c, -2, "rxPeak");
  duk_push_uint(c, uart_rx_full_stops()); duk_put_prop_string(c, -2, "rxFullStops");
  return 1;
}

static duk_ret_t n_report(duk_context *c) {
  report_stats(duk_opt_string(c, 0, "js"));
  return 0;
}

static duk_ret_t n_reset_peaks(duk_context *c) {
  (void)c;
  heap_reset_peak();
  stack_paint();
  return 0;
}

static duk_ret_t n_gc(duk_context *c) {
  duk_gc(c, 0);
  return 0;
}

static duk_ret_t n_reset(duk_context *c) {
  (void)c;
  report_stats("reset");
  system_reset();
}

static duk_ret_t n_exit(duk_context *c) {
  int code = duk_opt_int(c, 0, 0);
  report_stats("exit");
  semi_exit(code);
}

static void register_natives(void) {
  crc_table_init();
  static const duk_function_list_entry fns[] = {
      {"uartWrite", n_uart_write, 3},     {"log", n_log, 1},
      {"flashRead", n_flash_read, 4},     {"flashErase", n_flash_erase, 2},
      {"flashWrite", n_flash_write, 4},   {"sha256", n_sha256, 4},
      {"copyBytes", n_copy_bytes, 5},     {"crc32", n_crc32, 3},
      {"findZero", n_find_zero, 3},       {"ed25519Verify", n_ed25519_verify, 5},
      {"ticks", n_ticks, 0},              {"busyTicks", n_busy_ticks, 0},
      {"nowSeconds", n_now_seconds, 0},   {"stats", n_stats, 0},
      {"report", n_report, 1},            {"resetPeaks", n_reset_peaks, 0},
      {"gc", n_gc, 0},                    {"reset", n_reset, 0},
      {"exit", n_exit, 1},                {NULL, NULL, 0}};
  duk_push_object(ctx);
  duk_put_function_list(ctx, -1, fns);
  duk_push_uint(ctx, flash_size()); duk_put_prop_string(ctx, -2, "flashSize");
  duk_push_uint(ctx, flash_page()); duk_put_prop_string(ctx, -2, "pageSize");
  duk_push_uint(ctx, TIMER_HZ); duk_put_prop_string(ctx, -2, "timerHz");
  duk_push_uint(ctx, RX_RING); duk_put_prop_string(ctx, -2, "rxRing");
  duk_push_string(ctx, semi_cmdline()); duk_put_prop_string(ctx, -2, "args");
  /* the receive buffer handed to onBytes: allocated once, reused for every call */
  rx_view_data = (uint8_t *)duk_push_fixed_buffer(ctx, RX_CHUNK);
  duk_push_buffer_object(ctx, -1, 0, RX_CHUNK, DUK_BUFOBJ_UINT8ARRAY);
  duk_put_prop_string(ctx, -3, "rxBuffer");
  duk_pop(ctx);
  duk_put_global_string(ctx, "mcu");
}

static void log_error(const char *what) {
  semi_log("fwseal-mcu: ERROR in ");
  semi_log(what);
  semi_log(": ");
  if (duk_is_error(ctx, -1)) {
    duk_get_prop_string(ctx, -1, "stack");
    semi_log(duk_safe_to_string(ctx, -1));
    duk_pop(ctx);
  } else {
    semi_log(duk_safe_to_string(ctx, -1));
  }
  semi_log("\n");
}

static void run_source(const char *name, const char *src, unsigned len) {
  if (!len) return;
  duk_push_string(ctx, name);
  if (duk_pcompile_lstring_filename(ctx, 0, src, len) != 0 || duk_pcall(ctx, 0) != 0) {
    log_error(name);
    report_stats("boot-failed");
    semi_exit(2);
  }
  duk_pop(ctx);
}

/* Calls global fn(args...) if it exists; returns 0 if absent or ok. */
static int call_global(const char *fn, int nargs_rx) {
  if (!duk_get_global_string(ctx, fn) || !duk_is_function(ctx, -1)) {
    duk_pop(ctx);
    return 0;
  }
  if (nargs_rx >= 0) {
    duk_get_global_string(ctx, "mcu");
    duk_get_prop_string(ctx, -1, "rxBuffer");
    duk_remove(ctx, -2);
    duk_push_int(ctx, nargs_rx);
  }
  int rc = duk_pcall(ctx, nargs_rx >= 0 ? 2 : 0);
  if (rc != 0) log_error(fn);
  duk_pop(ctx);
  return rc;
}

int main(void) {
  char val[256];
  uart_init();
  timer_init();

  const char *path = cmdline_value("flash", val, sizeof val);
  char flash_path[256];
  strcpy(flash_path, path ? path : "fwseal-flash.bin");
  uint32_t fsz = cmdline_value("flashsize", val, sizeof val) ? (uint32_t)strtoul(val, 0, 0) : 1024u * 1024u;
  uint32_t page = cmdline_value("page", val, sizeof val) ? (uint32_t)strtoul(val, 0, 0) : 4096u;
  if (flash_init(flash_path, fsz, page) != 0) {
    semi_log("fwseal-mcu: cannot open flash file ");
    semi_log(flash_path);
    semi_log("\n");
    semi_exit(6);
  }

  ctx = duk_create_heap(heap_alloc, heap_realloc, heap_free, 0, fatal_handler);
  if (!ctx) fatal_handler(0, "duk_create_heap failed");
  register_natives();
  uint32_t live_engine = heap_live();
  uint64_t t0 = ticks_now();
  run_source("fwseal-core.js", fwseal_core_js, fwseal_core_js_len);
  duk_gc(ctx, 0);
  uint32_t live_core = heap_live();
  run_source("main.js", fwseal_main_js, fwseal_main_js_len);
  semi_log("fwseal-mcu: heap ");
  semi_log_u32("engine", live_engine);
  semi_log_u32("core", live_core - live_engine);
  semi_log_u32("app", heap_live() - live_core);
  semi_log("\n");
  semi_log("fwseal-mcu: booted ");
  semi_log_u32("boot_ticks", (uint32_t)(ticks_now() - t0));
  semi_log("\n");
  report_stats("boot");

  uint32_t reported_peak = heap_peak();
  /* A 1 ms tick wakes the loop: it bounds how long received bytes wait to form a batch
     and gives onIdle a heartbeat. Batching amortises the JS call over many bytes: the
     UART delivers one byte per interrupt, far slower than the JS handles a call. */
  tick_start(1);
  uint64_t first_seen = 0;
  int gathering = 0;
  for (;;) {
    size_t pend = uart_rx_pending();
    if (pend) {
      uint64_t now = ticks_now();
      if (!gathering) {
        gathering = 1;
        first_seen = now;
      }
      if (pend < BATCH_BYTES && now - first_seen < BATCH_WAIT_TICKS) {
        tick_take();
        wait_for_input_or_tick(pend);
        continue;
      }
      gathering = 0;
      size_t n = uart_rx_take(rx_view_data, RX_CHUNK);
      call_global("onBytes", (int)n);
      continue;
    }
    call_global("onIdle", -1);
    if (heap_peak() != reported_peak) {
      reported_peak = heap_peak();
      report_stats("idle");
    }
    if (!uart_rx_pending() && !tick_take()) wait_for_input_or_tick(0);
  }
}
