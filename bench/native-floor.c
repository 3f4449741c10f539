/*
 * The native floor of fwseal pack and verify (bench/pack-verify.mjs builds and times it).
 *
 * Does exactly the hashing work of the two commands on the chunk chain of formats/SPEC.md
 * section 7, in C with OpenSSL's SHA-256 on two threads, input mmapped, and nothing else
 * (no envelope, no signature, no runtime start): what any implementation of the format on
 * this machine costs at least, with the same two SHA-256 passes the commands make.
 *
 *   native-floor pack IMAGE CS OUT
 *     thread A: SHA-256 of the image; thread B: per-chunk midstates (the SHA-256 state after
 *     prefix || data_i); then the chain back to front on one thread (next_i and one final
 *     each), then the bundle's chunk region (data_i || next_i for every chunk) written to OUT
 *     with writev. Prints "<chain head hex> <image SHA-256 hex>".
 *   native-floor verify CHUNKS CS CHAIN_HEAD_HEX
 *     CHUNKS is a chunk region as pack writes it. Thread A: SHA-256 of the data parts (the
 *     image); thread B: every chunk hash compared with the expected one (the chain head for
 *     chunk 0, next_{i-1} after; the last next must be zero). Prints "ok <image hex>" or
 *     "fail <chunk index> <image hex>" (and exits 2).
 *
 * H_i = SHA-256("fwseal/chunk/v1\0" || be32(i) || data_i || next_i), next_{n-1} = 0^32.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <openssl/sha.h>

#define PREFIX_LEN 20
#define HASH_LEN 32
static const unsigned char DOMAIN[16] = "fwseal/chunk/v1"; /* the 16th byte is the NUL */

static _Noreturn void die(const char *what) {
  fprintf(stderr, "native-floor: %s: %s\n", what, errno ? strerror(errno) : "bad input");
  exit(1);
}

static void prefix_of(unsigned char p[PREFIX_LEN], uint32_t i) {
  memcpy(p, DOMAIN, 16);
  p[16] = (unsigned char)(i >> 24);
  p[17] = (unsigned char)(i >> 16);
  p[18] = (unsigned char)(i >> 8);
  p[19] = (unsigned char)i;
}

static void hex(const unsigned char *h, char out[2 * HASH_LEN + 1]) {
  for (int k = 0; k < HASH_LEN; k++) sprintf(out + 2 * k, "%02x", h[k]);
}

static int unhex(const char *s, unsigned char h[HASH_LEN]) {
  if (strlen(s) != 2 * HASH_LEN) return 0;
  for (int k = 0; k < HASH_LEN; k++) {
    unsigned v;
    if (sscanf(s + 2 * k, "%2x", &v) != 1) return 0;
    h[k] = (unsigned char)v;
  }
  return 1;
}

/* A read-only mapping of a whole file (the page cache's pages, no copy). */
static const unsigned char *map_file(const char *file, size_t *size) {
  int fd = open(file, O_RDONLY);
  if (fd < 0) die(file);
  struct stat st;
  if (fstat(fd, &st) != 0) die(file);
  *size = (size_t)st.st_size;
  if (*size == 0) { errno = 0; die("empty file"); }
  void *p = mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) die("mmap");
  madvise(p, *size, MADV_SEQUENTIAL);
  close(fd);
  return p;
}

/* ---- pack ---- */

struct pack_job {
  const unsigned char *image;
  size_t size, cs, n;
  SHA256_CTX *mid;               /* per chunk: the state after prefix || data_i */
  unsigned char image_digest[HASH_LEN];
};

static void *image_digest_thread(void *arg) {
  struct pack_job *j = arg;
  SHA256_CTX c;
  SHA256_Init(&c);
  SHA256_Update(&c, j->image, j->size);
  SHA256_Final(j->image_digest, &c);
  return NULL;
}

static void *midstates_thread(void *arg) {
  struct pack_job *j = arg;
  unsigned char p[PREFIX_LEN];
  for (size_t i = 0; i < j->n; i++) {
    size_t off = i * j->cs, len = j->size - off < j->cs ? j->size - off : j->cs;
    prefix_of(p, (uint32_t)i);
    SHA256_Init(&j->mid[i]);
    SHA256_Update(&j->mid[i], p, PREFIX_LEN);
    SHA256_Update(&j->mid[i], j->image + off, len);
  }
  return NULL;
}

static int pack(const char *image_file, size_t cs, const char *out_file) {
  struct pack_job j = { 0 };
  j.image = map_file(image_file, &j.size);
  j.cs = cs;
  j.n = (j.size + cs - 1) / cs;
  if (j.n > UINT32_MAX) { errno = 0; die("too many chunks"); }
  j.mid = malloc(j.n * sizeof *j.mid);
  unsigned char (*next)[HASH_LEN] = calloc(j.n, HASH_LEN); /* next[i] = next_i; next_{n-1} = 0 */
  if (!j.mid || !next) die("malloc");

  pthread_t a;
  if (pthread_create(&a, NULL, image_digest_thread, &j) != 0) die("pthread_create");
  midstates_thread(&j);
  /* The chain back to front: next_{n-1} = 0, next_{i-1} = H_i = final(mid_i || next_i). */
  unsigned char head[HASH_LEN];
  for (size_t i = j.n; i-- > 0;) {
    SHA256_CTX c = j.mid[i];
    SHA256_Update(&c, next[i], HASH_LEN);
    SHA256_Final(i > 0 ? next[i - 1] : head, &c);
  }
  /* The bundle's chunk region, data_i || next_i, straight from the mapping. */
  int fd = open(out_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) die(out_file);
  enum { PER_CALL = 512 }; /* two iovecs a chunk; Linux takes up to 1024 a call */
  struct iovec iov[2 * PER_CALL];
  for (size_t i = 0; i < j.n;) {
    int k = 0;
    size_t want = 0;
    for (; k < 2 * PER_CALL && i < j.n; i++) {
      size_t off = i * cs, len = j.size - off < cs ? j.size - off : cs;
      iov[k++] = (struct iovec){ (void *)(j.image + off), len };
      iov[k++] = (struct iovec){ next[i], HASH_LEN };
      want += len + HASH_LEN;
    }
    for (int first = 0; want > 0;) { /* a short write resumes where it stopped */
      ssize_t w = writev(fd, iov + first, k - first);
      if (w < 0) die("writev");
      want -= (size_t)w;
      while (first < k && (size_t)w >= iov[first].iov_len) w -= (ssize_t)iov[first++].iov_len;
      if (first < k) { iov[first].iov_base = (char *)iov[first].iov_base + w; iov[first].iov_len -= (size_t)w; }
    }
  }
  if (close(fd) != 0) die("close");
  pthread_join(a, NULL);

  char h1[2 * HASH_LEN + 1], h2[2 * HASH_LEN + 1];
  hex(head, h1);
  hex(j.image_digest, h2);
  printf("%s %s\n", h1, h2);
  return 0;
}

/* ---- verify ---- */

struct verify_job {
  const unsigned char *chunks;
  size_t cs, n, last_len;
  unsigned char head[HASH_LEN];
  unsigned char image_digest[HASH_LEN];
  size_t failed;                 /* index of the first chunk that fails, n when none */
};

static size_t data_len(const struct verify_job *j, size_t i) { return i + 1 < j->n ? j->cs : j->last_len; }

static void *data_digest_thread(void *arg) {
  struct verify_job *j = arg;
  SHA256_CTX c;
  SHA256_Init(&c);
  for (size_t i = 0; i < j->n; i++) SHA256_Update(&c, j->chunks + i * (j->cs + HASH_LEN), data_len(j, i));
  SHA256_Final(j->image_digest, &c);
  return NULL;
}

static void check_chain(struct verify_job *j) {
  static const unsigned char zero[HASH_LEN];
  const unsigned char *expected = j->head;
  unsigned char p[PREFIX_LEN], h[HASH_LEN];
  j->failed = j->n;
  for (size_t i = 0; i < j->n; i++) {
    const unsigned char *chunk = j->chunks + i * (j->cs + HASH_LEN);
    size_t len = data_len(j, i);
    SHA256_CTX c;
    prefix_of(p, (uint32_t)i);
    SHA256_Init(&c);
    SHA256_Update(&c, p, PREFIX_LEN);
    SHA256_Update(&c, chunk, len + HASH_LEN); /* data_i || next_i, contiguous on the wire */
    SHA256_Final(h, &c);
    if (memcmp(h, expected, HASH_LEN) != 0) { j->failed = i; return; }
    expected = chunk + len; /* next_i */
  }
  if (memcmp(expected, zero, HASH_LEN) != 0) j->failed = j->n - 1;
}

static int verify(const char *chunks_file, size_t cs, const char *head_hex) {
  struct verify_job j = { 0 };
  size_t size;
  j.chunks = map_file(chunks_file, &size);
  j.cs = cs;
  if (!unhex(head_hex, j.head)) { errno = 0; die("chain head is not 64 hex digits"); }
  /* Every chunk but the last takes cs + 32 bytes; the last 1..cs + 32. */
  j.n = (size + cs + HASH_LEN - 1) / (cs + HASH_LEN);
  size_t rest = size - (j.n - 1) * (cs + HASH_LEN);
  if (rest <= HASH_LEN) { errno = 0; die("truncated last chunk"); }
  j.last_len = rest - HASH_LEN;

  pthread_t a;
  if (pthread_create(&a, NULL, data_digest_thread, &j) != 0) die("pthread_create");
  check_chain(&j);
  pthread_join(a, NULL);

  char h[2 * HASH_LEN + 1];
  hex(j.image_digest, h);
  if (j.failed < j.n) {
    printf("fail %zu %s\n", j.failed, h);
    return 2;
  }
  printf("ok %s\n", h);
  return 0;
}

int main(int argc, char **argv) {
  size_t cs = argc == 5 ? strtoul(argv[3], NULL, 10) : 0;
  if (cs == 0 || cs > (1u << 24)) argc = 0;
  if (argc == 5 && strcmp(argv[1], "pack") == 0) return pack(argv[2], cs, argv[4]);
  if (argc == 5 && strcmp(argv[1], "verify") == 0) return verify(argv[2], cs, argv[4]);
  fprintf(stderr, "usage: native-floor pack IMAGE CS OUT | native-floor verify CHUNKS CS CHAIN_HEAD_HEX\n");
  return 1;
}
