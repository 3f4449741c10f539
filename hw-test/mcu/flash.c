/* NOR flash backed by a host file through semihosting, so its contents survive a QEMU
   restart and killing QEMU is a power cut. NOR rules are enforced: erase works on whole
   pages and sets them to 0xFF; a write may only land on erased (0xFF) bytes. Each
   semihosting write reaches the host file before the call returns. */
#include "board.h"
#include <string.h>

static int fh = -1;
static uint32_t fsize, fpage;
static uint8_t scratch[4096]; /* one page: a chunk write is checked in one read */

static int seek(uint32_t pos) {
  uint32_t a[2] = {(uint32_t)fh, pos};
  return semihost(SYS_SEEK, a) == 0 ? 0 : FLASH_ERR_IO;
}

static int raw_read(uint32_t pos, uint8_t *dst, uint32_t len) {
  if (seek(pos)) return FLASH_ERR_IO;
  uint32_t a[3] = {(uint32_t)fh, (uint32_t)dst, len};
  return semihost(SYS_READ, a) == 0 ? 0 : FLASH_ERR_IO; /* returns bytes NOT read */
}

static int raw_write(uint32_t pos, const uint8_t *src, uint32_t len) {
  if (seek(pos)) return FLASH_ERR_IO;
  uint32_t a[3] = {(uint32_t)fh, (uint32_t)src, len};
  return semihost(SYS_WRITE, a) == 0 ? 0 : FLASH_ERR_IO;
}

static int fill_erased(uint32_t pos, uint32_t len) {
  memset(scratch, 0xFF, sizeof scratch);
  while (len) {
    uint32_t n = len < sizeof scratch ? len : sizeof scratch;
    if (raw_write(pos, scratch, n)) return FLASH_ERR_IO;
    pos += n;
    len -= n;
  }
  return 0;
}

int flash_init(const char *path, uint32_t size, uint32_t page) {
  uint32_t a[3] = {(uint32_t)path, 3 /* "r+b" */, strlen(path)};
  fsize = size;
  fpage = page;
  fh = semihost(SYS_OPEN, a);
  if (fh < 0) {
    a[1] = 7; /* "w+b": a new, fully erased part */
    fh = semihost(SYS_OPEN, a);
    if (fh < 0) return FLASH_ERR_IO;
  }
  uint32_t f[1] = {(uint32_t)fh};
  int have = semihost(SYS_FLEN, f);
  if (have < 0) return FLASH_ERR_IO;
  if ((uint32_t)have < size) return fill_erased((uint32_t)have, size - (uint32_t)have);
  return 0;
}

uint32_t flash_size(void) { return fsize; }
uint32_t flash_page(void) { return fpage; }

static int in_range(uint32_t addr, uint32_t len) { return addr <= fsize && len <= fsize - addr; }

int flash_read(uint32_t addr, uint8_t *dst, uint32_t len) {
  if (!in_range(addr, len)) return FLASH_ERR_RANGE;
  return len ? raw_read(addr, dst, len) : 0;
}

int flash_erase(uint32_t addr, uint32_t len) {
  if (!in_range(addr, len)) return FLASH_ERR_RANGE;
  if (addr % fpage || len % fpage) return FLASH_ERR_ALIGN;
  return fill_erased(addr, len);
}

int flash_write(uint32_t addr, const uint8_t *src, uint32_t len) {
  if (!in_range(addr, len)) return FLASH_ERR_RANGE;
  for (uint32_t done = 0; done < len;) { /* check the whole range before writing any of it */
    uint32_t n = len - done < sizeof scratch ? len - done : sizeof scratch;
    if (raw_read(addr + done, scratch, n)) return FLASH_ERR_IO;
    for (uint32_t i = 0; i < n; i++)
      if (scratch[i] != 0xFF) return FLASH_ERR_NOT_ERASED;
    done += n;
  }
  return len ? raw_write(addr, src, len) : 0;
}
