/* Duktape's allocator: newlib malloc whose _sbrk hands out a static arena (so every byte
   Duktape can ever use shows in .bss), wrapped to count live bytes and their peak. */
#include "board.h"
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

#ifndef HEAP_ARENA_SIZE
#define HEAP_ARENA_SIZE (2u * 1024u * 1024u)
#endif

static uint8_t arena[HEAP_ARENA_SIZE] __attribute__((aligned(8)));
static uint32_t brk_off;
static uint32_t live, peak;

void *_sbrk(ptrdiff_t incr) {
  if (incr < 0 ? (uint32_t)(-incr) > brk_off : brk_off + (uint32_t)incr > HEAP_ARENA_SIZE) {
    errno = ENOMEM;
    return (void *)-1;
  }
  void *p = arena + brk_off;
  brk_off += (uint32_t)incr;
  return p;
}

static void count(void *p, int sign) {
  if (!p) return;
  uint32_t n = (uint32_t)malloc_usable_size(p);
  if (sign > 0) {
    live += n;
    if (live > peak) peak = live;
  } else {
    live -= n;
  }
}

void *heap_alloc(void *udata, size_t size) {
  (void)udata;
  void *p = malloc(size);
  count(p, 1);
  return p;
}

void *heap_realloc(void *udata, void *ptr, size_t size) {
  (void)udata;
  if (!ptr) return heap_alloc(udata, size);
  if (size == 0) {
    heap_free(udata, ptr);
    return 0;
  }
  uint32_t before = (uint32_t)malloc_usable_size(ptr);
  void *p = realloc(ptr, size);
  if (!p) return 0; /* old block untouched */
  live -= before;
  count(p, 1);
  return p;
}

void heap_free(void *udata, void *ptr) {
  (void)udata;
  count(ptr, -1);
  free(ptr);
}

uint32_t heap_live(void) { return live; }
uint32_t heap_peak(void) { return peak; }
uint32_t heap_arena_size(void) { return HEAP_ARENA_SIZE; }
uint32_t heap_arena_used(void) { return brk_off; }
void heap_reset_peak(void) { peak = live; }
