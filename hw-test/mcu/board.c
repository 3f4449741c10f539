/* Board services: semihosting, UART0 with an interrupt-fed receive ring, TIMER0 as a
   64-bit tick counter, stack painting, system reset, and newlib's system-call stubs. */
#include "board.h"
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

/* ---- semihosting ---- */

int semihost(int op, void *arg) {
  register int r0 __asm__("r0") = op;
  register void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

static int log_handle = -1;

void semi_log_n(const char *s, size_t n) {
  if (log_handle < 0) {
    uint32_t a[3] = {(uint32_t)":tt", 8 /* "a": stderr */, 3};
    log_handle = semihost(SYS_OPEN, a);
    if (log_handle < 0) return;
  }
  uint32_t a[3] = {(uint32_t)log_handle, (uint32_t)s, (uint32_t)n};
  semihost(SYS_WRITE, a);
}

void semi_log(const char *s) { semi_log_n(s, strlen(s)); }

void semi_log_u32(const char *label, uint32_t v) {
  char buf[16];
  int i = 15;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  semi_log(label);
  semi_log("=");
  semi_log(buf + i);
  semi_log(" ");
}

void semi_exit(int code) {
  uint32_t a[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
  for (;;) semihost(SYS_EXIT_EXTENDED, a);
}

static char cmdline[1024]; // room for roots and a log policy (3 keys)
static int cmdline_read;

const char *semi_cmdline(void) {
  if (!cmdline_read) {
    uint32_t a[2] = {(uint32_t)cmdline, sizeof cmdline - 1};
    cmdline_read = 1;
    if (semihost(SYS_GET_CMDLINE, a) != 0) cmdline[0] = 0;
    cmdline[sizeof cmdline - 1] = 0;
  }
  return cmdline;
}

/* Finds "key=value" among the space-separated words of the command line. */
const char *cmdline_value(const char *key, char *out, size_t outlen) {
  const char *p = semi_cmdline();
  size_t klen = strlen(key);
  while (*p) {
    while (*p == ' ') p++;
    const char *w = p;
    while (*p && *p != ' ') p++;
    if ((size_t)(p - w) > klen && strncmp(w, key, klen) == 0 && w[klen] == '=') {
      size_t n = (size_t)(p - w) - klen - 1;
      if (n >= outlen) n = outlen - 1;
      memcpy(out, w + klen + 1, n);
      out[n] = 0;
      return out;
    }
  }
  return 0;
}

/* ---- UART0: the RX interrupt moves each byte into a ring (QEMU holds one byte) ----

   The ring is what lets reception overlap the device's work: while Duktape hashes,
   verifies a signature or writes flash, the interrupt keeps taking bytes, so the host can
   keep a whole protocol window on the line (main.js offers window = ring / wire frame).
   A full ring never drops a byte: the interrupt leaves it in the UART's holding register,
   so QEMU stops reading the pty and the host's writes back up (flow control, as RTS/CTS
   would do on a board) until uart_rx_take frees room and drains it. */

static volatile uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head, rx_tail, rx_overruns, rx_full_stops, rx_peak;

/* Clear the interrupt status BEFORE draining: a byte that lands after the last RXFULL check
   then raises a fresh interrupt instead of having its status cleared unseen (a stall).
   Runs with the RX interrupt unable to preempt it (in the handler, or interrupts off). */
static void rx_drain(void) {
  uint32_t h = rx_head;
  REG32(UART_INTSTATUS) = 2u;
  for (;;) {
    uint32_t st = REG32(UART_STATE);
    if (st & 8u) { /* a byte arrived while the holding register was full: it is lost */
      rx_overruns++;
      REG32(UART_STATE) = 8u;
    }
    if (!(st & 2u)) break;
    if (h - rx_tail >= RX_RING) { /* full: the byte waits in the UART */
      rx_full_stops++;
      break;
    }
    rx_ring[h & (RX_RING - 1)] = (uint8_t)REG32(UART_DATA);
    h++;
  }
  rx_head = h;
  if (h - rx_tail > rx_peak) rx_peak = h - rx_tail;
}

void UART0_RX_Handler(void) { rx_drain(); }

void uart_init(void) {
  REG32(UART_BAUDDIV) = 16;
  REG32(UART_CTRL) = 1u | 2u | 8u; /* TX, RX, RX interrupt */
  REG32(NVIC_ISER0) = 1u << UART0_RX_IRQ;
}

void uart_write(const uint8_t *p, size_t n) {
  while (n--) {
    while (REG32(UART_STATE) & 1u) {
    }
    REG32(UART_DATA) = *p++;
  }
}

size_t uart_rx_pending(void) { return rx_head - rx_tail; }
uint32_t uart_rx_overruns(void) { return rx_overruns; }
uint32_t uart_rx_full_stops(void) { return rx_full_stops; }
uint32_t uart_rx_peak(void) { return rx_peak; }

size_t uart_rx_take(uint8_t *dst, size_t max) {
  uint32_t t = rx_tail, avail = rx_head - t;
  size_t n = avail < max ? avail : max;
  for (size_t i = 0; i < n; i++) dst[i] = rx_ring[(t + i) & (RX_RING - 1)];
  rx_tail = t + n;
  /* A byte held back by a full ring raised its interrupt already: take it now there is room. */
  if (n && (REG32(UART_STATE) & 2u)) {
    __asm__ volatile("cpsid i" ::: "memory");
    rx_drain();
    __asm__ volatile("cpsie i" ::: "memory");
  }
  return n;
}

/* ---- TIMER0: free-running 32-bit down-counter, the wrap interrupt extends it ---- */

static volatile uint32_t timer_wraps;
static uint64_t idle_ticks;

void TIMER0_Handler(void) {
  REG32(TIMER_INTSTATUS) = 1u;
  timer_wraps++;
}

void timer_init(void) {
  REG32(TIMER_CTRL) = 0;
  REG32(TIMER_RELOAD) = 0xFFFFFFFFu;
  REG32(TIMER_VALUE) = 0xFFFFFFFFu;
  REG32(TIMER_INTSTATUS) = 1u;
  REG32(NVIC_ISER0) = 1u << TIMER0_IRQ;
  REG32(TIMER_CTRL) = 1u | 8u;
}

uint64_t ticks_now(void) {
  uint32_t primask, hi, lo;
  __asm__ volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
  hi = timer_wraps;
  lo = REG32(TIMER_VALUE);
  if (REG32(TIMER_INTSTATUS) & 1u) { /* wrapped, interrupt not yet taken */
    hi++;
    lo = REG32(TIMER_VALUE);
  }
  __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
  return ((uint64_t)hi << 32) | (0xFFFFFFFFu - lo);
}

uint64_t ticks_idle(void) { return idle_ticks; }

static volatile uint32_t tick_flag;

void TIMER1_Handler(void) {
  REG32(TIMER1_BASE + 0x0C) = 1u;
  tick_flag = 1;
}

void tick_start(uint32_t ms) {
  REG32(TIMER1_BASE + 0x00) = 0;
  REG32(TIMER1_BASE + 0x08) = ms * (TIMER_HZ / 1000u);
  REG32(TIMER1_BASE + 0x04) = ms * (TIMER_HZ / 1000u);
  REG32(TIMER1_BASE + 0x0C) = 1u;
  REG32(NVIC_ISER0) = 1u << TIMER1_IRQ;
  REG32(TIMER1_BASE + 0x00) = 1u | 8u;
}

int tick_take(void) {
  if (!tick_flag) return 0;
  tick_flag = 0;
  return 1;
}

void wait_for_input_or_tick(size_t have) {
  uint64_t t0 = ticks_now();
  __asm__ volatile("cpsid i" ::: "memory");
  rx_drain(); /* never sleep on a byte that is already there */
  while (rx_head - rx_tail <= have && !tick_flag) {
    __asm__ volatile("wfi\n cpsie i\n isb\n cpsid i" ::: "memory");
  }
  __asm__ volatile("cpsie i" ::: "memory");
  idle_ticks += ticks_now() - t0;
}

/* ---- stack painting ---- */

extern uint32_t _sstack, _estack;
#define STACK_PATTERN 0xC5A5C5A5u

void stack_paint(void) {
  uint32_t sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (uint32_t *p = &_sstack; (uint32_t)p < sp - 64; p++) *p = STACK_PATTERN;
}

uint32_t stack_high_water(void) {
  uint32_t *p = &_sstack;
  while (p < &_estack && *p == STACK_PATTERN) p++;
  return (uint32_t)((uint8_t *)&_estack - (uint8_t *)p);
}

uint32_t stack_size(void) { return (uint32_t)((uint8_t *)&_estack - (uint8_t *)&_sstack); }

void system_reset(void) {
  __asm__ volatile("dsb" ::: "memory");
  REG32(SCB_AIRCR) = (0x5FAu << 16) | (1u << 2); /* SYSRESETREQ */
  __asm__ volatile("dsb" ::: "memory");
  for (;;) {
  }
}

/* ---- newlib system calls: console goes to semihosting stderr ---- */

int _write(int fd, const char *p, int n) {
  (void)fd;
  semi_log_n(p, (size_t)n);
  return n;
}
int _read(int fd, char *p, int n) {
  (void)fd; (void)p; (void)n;
  return 0;
}
int _close(int fd) { (void)fd; return -1; }
int _lseek(int fd, int off, int whence) { (void)fd; (void)off; (void)whence; return 0; }
int _fstat(int fd, struct stat *st) { (void)fd; st->st_mode = S_IFCHR; return 0; }
int _isatty(int fd) { (void)fd; return 1; }
void _exit(int code) { semi_exit(code); }
int _kill(int pid, int sig) { (void)pid; (void)sig; errno = EINVAL; return -1; }
int _getpid(void) { return 1; }
int _gettimeofday(struct timeval *tv, void *tz) {
  (void)tz;
  if (tv) { tv->tv_sec = 0; tv->tv_usec = 0; }
  return 0;
}
