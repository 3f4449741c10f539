/* mps2-an385 peripherals as QEMU 7.x models them, semihosting calls, and the firmware's
   board services (UART ring buffer, 64-bit TIMER0 tick count, stack/heap high-water). */
#ifndef FWSEAL_BOARD_H
#define FWSEAL_BOARD_H
#include <stddef.h>
#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(addr))

/* CMSDK APB UART0 */
#define UART0_BASE 0x40004000u
#define UART_DATA (UART0_BASE + 0x00)
#define UART_STATE (UART0_BASE + 0x04) /* bit0 TX full, bit1 RX full */
#define UART_CTRL (UART0_BASE + 0x08)  /* bit0 TX en, bit1 RX en, bit2 TX irq, bit3 RX irq */
#define UART_INTSTATUS (UART0_BASE + 0x0C) /* write 1 to clear: bit0 TX, bit1 RX */
#define UART_BAUDDIV (UART0_BASE + 0x10)
#define UART0_RX_IRQ 0

/* CMSDK APB TIMER0, clocked at 25 MHz, counts down */
#define TIMER0_BASE 0x40000000u
#define TIMER_CTRL (TIMER0_BASE + 0x00) /* bit0 enable, bit3 irq enable */
#define TIMER_VALUE (TIMER0_BASE + 0x04)
#define TIMER_RELOAD (TIMER0_BASE + 0x08)
#define TIMER_INTSTATUS (TIMER0_BASE + 0x0C)
#define TIMER0_IRQ 8
#define TIMER_HZ 25000000u

/* CMSDK APB TIMER1: optional periodic wake-up (tick=<ms> on the command line) */
#define TIMER1_BASE 0x40001000u
#define TIMER1_IRQ 9

#define NVIC_ISER0 0xE000E100u
#define SCB_AIRCR 0xE000ED0Cu

/* ARM semihosting operation numbers */
#define SYS_OPEN 0x01
#define SYS_CLOSE 0x02
#define SYS_WRITE 0x05
#define SYS_READ 0x06
#define SYS_SEEK 0x0A
#define SYS_FLEN 0x0C
#define SYS_GET_CMDLINE 0x15
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

int semihost(int op, void *arg);
void semi_log(const char *s);              /* to QEMU's stderr (":tt" append), no newline added */
void semi_log_n(const char *s, size_t n);
void semi_log_u32(const char *label, uint32_t v); /* "label=<decimal> " */
void semi_exit(int code) __attribute__((noreturn));
const char *semi_cmdline(void);            /* "-append"/arg= string, "" if none */
const char *cmdline_value(const char *key, char *out, size_t outlen); /* "key=value" lookup */

/* Receive ring (power of two). main.js sizes the protocol window from it: the frames the
   host may have in flight fit here while the device works on the one before them. */
#define RX_RING 65536u

void uart_init(void);
void uart_write(const uint8_t *p, size_t n);
size_t uart_rx_take(uint8_t *dst, size_t max); /* bytes received by the RX interrupt */
size_t uart_rx_pending(void);
uint32_t uart_rx_overruns(void);   /* bytes the UART lost (arrived with its register full) */
uint32_t uart_rx_full_stops(void); /* times a full ring held a byte back in the UART */
uint32_t uart_rx_peak(void);       /* high-water of the ring's fill, bytes */

void timer_init(void);
uint64_t ticks_now(void);   /* 25 MHz ticks since boot (x40 = guest instructions with -icount shift=0) */
uint64_t ticks_idle(void);  /* ticks spent asleep in WFI waiting for input */
void wait_for_input_or_tick(size_t have); /* WFI until more than `have` bytes or a tick; idle time accounted */
void tick_start(uint32_t ms); /* periodic wake-up of wait_for_input */
int tick_take(void);          /* 1 if a tick happened since the last call */

void stack_paint(void);     /* refills the unused part of the stack with the pattern */
uint32_t stack_high_water(void);
uint32_t stack_size(void);

void system_reset(void) __attribute__((noreturn));

/* heap.c: accounting allocator over a static arena for Duktape */
void *heap_alloc(void *udata, size_t size);
void *heap_realloc(void *udata, void *ptr, size_t size);
void heap_free(void *udata, void *ptr);
uint32_t heap_live(void);
uint32_t heap_peak(void);
uint32_t heap_arena_size(void);
uint32_t heap_arena_used(void); /* high-water of the arena break (sbrk) */
void heap_reset_peak(void);

/* flash.c: NOR flash emulated by a host file through semihosting */
#define FLASH_OK 0
#define FLASH_ERR_RANGE -1
#define FLASH_ERR_ALIGN -2
#define FLASH_ERR_NOT_ERASED -3
#define FLASH_ERR_IO -4
int flash_init(const char *path, uint32_t size, uint32_t page);
uint32_t flash_size(void);
uint32_t flash_page(void);
int flash_read(uint32_t addr, uint8_t *dst, uint32_t len);
int flash_erase(uint32_t addr, uint32_t len);
int flash_write(uint32_t addr, const uint8_t *src, uint32_t len);

/* sha256(): device-sim/native/sha256.h (shared with the host's duk-capped) */
#include "sha256.h"

#endif
