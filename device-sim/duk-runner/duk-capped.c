/*
 * duk-capped: run the ES5 device core (build/fwseal-core.js) on Duktape 2.7 under a hard
 * heap cap, streaming a bundle file from disk through the core's streaming verifier.
 *
 * The Duktape heap is created with a custom allocator that counts the bytes Duktape asks
 * for (requested sizes, not libc overhead), refuses any request that would take the total
 * above --heap-cap, and records the high-water mark. The bundle is read in C into ONE fixed
 * Uint8Array owned by the driver (created once) and handed to the driver's feed(len), so
 * the heap holds one read buffer however large the bundle is.
 *
 * Loading: by default the core and the driver are compiled from source inside the capped heap
 * (the source text stays in C memory, as it would in flash; the compiler's temporaries count).
 * --bytecode compiles them in a separate, uncapped scratch heap, dumps Duktape bytecode to C
 * memory and loads that into the capped heap (measured on Duktape 2.7: the loaded bytecode
 * takes MORE heap than compiling in place, so source is the default).
 *
 * Output: ONE JSON line on stdout. Exit codes:
 *   0 bundle accepted        1 bundle rejected (a verdict)
 *   2 usage                  3 file I/O error
 *   4 heap cap exceeded (an allocation was refused and the run could not go on) - never a verdict
 *   5 other script error (JS exception, fatal error, driver protocol violation)
 *
 * Build: device-sim/duk-runner/build.sh (host gcc + Debian duktape-dev's duktape.c + the
 * shared device-sim/native/sha256.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "duktape.h"
#include "sha256.h" /* device-sim/native/sha256.c, shared with the MCU firmware */

#define EXIT_ACCEPTED 0
#define EXIT_REJECTED 1
#define EXIT_USAGE 2
#define EXIT_IO 3
#define EXIT_HEAP 4
#define EXIT_SCRIPT 5

/* ------------------------------------------------------------------ capped allocator */

typedef struct {
	size_t cap;        /* 0 = no cap */
	size_t cur;        /* bytes currently allocated (requested sizes) */
	size_t high;       /* high-water mark over the heap's life */
	size_t phase_high; /* high-water since the last phase reset */
	unsigned long allocs;
	unsigned long refused;
} heap_stats;

/* Each block carries its size in a 16-byte header (keeps 16-byte alignment). */
#define HDR 16

static void note(heap_stats *s) {
	if (s->cur > s->high) s->high = s->cur;
	if (s->cur > s->phase_high) s->phase_high = s->cur;
}

static void *cap_alloc(void *udata, duk_size_t size) {
	heap_stats *s = (heap_stats *) udata;
	unsigned char *p;
	if (size == 0) return NULL;
	if (s->cap != 0 && s->cur + size > s->cap) {
		s->refused++;
		return NULL;
	}
	p = (unsigned char *) malloc(HDR + size);
	if (p == NULL) return NULL;
	*(size_t *) p = size;
	s->cur += size;
	s->allocs++;
	note(s);
	return p + HDR;
}

static void cap_free(void *udata, void *ptr) {
	heap_stats *s = (heap_stats *) udata;
	unsigned char *p;
	if (ptr == NULL) return;
	p = (unsigned char *) ptr - HDR;
	s->cur -= *(size_t *) p;
	free(p);
}

static void *cap_realloc(void *udata, void *ptr, duk_size_t size) {
	heap_stats *s = (heap_stats *) udata;
	unsigned char *p, *q;
	size_t old;
	if (ptr == NULL) return cap_alloc(udata, size);
	if (size == 0) {
		cap_free(udata, ptr);
		return NULL;
	}
	p = (unsigned char *) ptr - HDR;
	old = *(size_t *) p;
	if (size > old && s->cap != 0 && s->cur - old + size > s->cap) {
		s->refused++;
		return NULL; /* the old block stays valid, as realloc() requires */
	}
	q = (unsigned char *) realloc(p, HDR + size);
	if (q == NULL) return NULL;
	*(size_t *) q = size;
	s->cur = s->cur - old + size;
	s->allocs++;
	note(s);
	return q + HDR;
}

static heap_stats g_stats;      /* the capped heap */
static heap_stats g_scratch;    /* the scratch (compile) heap, uncapped */
static const char *g_phase = "init";

static void print_heap_json(void);

static void fatal_handler(void *udata, const char *msg) {
	(void) udata;
	if (g_stats.refused > 0) {
		printf("{\"error\":\"heap cap exceeded\",\"phase\":\"%s\",\"detail\":\"fatal: %s\",", g_phase, msg ? msg : "");
		print_heap_json();
		printf("}\n");
		fflush(stdout);
		exit(EXIT_HEAP);
	}
	printf("{\"error\":\"fatal: %s\",\"phase\":\"%s\",", msg ? msg : "", g_phase);
	print_heap_json();
	printf("}\n");
	fflush(stdout);
	exit(EXIT_SCRIPT);
}

/* ------------------------------------------------------------------ native SHA-256 */

/* fwsealNativeSha256(buf, off, len, out): the Primitives.sha256 signature
 * (device-sim/core/crypto/primitives.ts); one-shot over buf[off .. off+len). */
static duk_ret_t native_sha256(duk_context *ctx) {
	duk_size_t bsz = 0, osz = 0;
	unsigned char *buf = (unsigned char *) duk_require_buffer_data(ctx, 0, &bsz);
	duk_int_t off = duk_require_int(ctx, 1);
	duk_int_t len = duk_require_int(ctx, 2);
	unsigned char *out = (unsigned char *) duk_require_buffer_data(ctx, 3, &osz);
	if (off < 0 || len < 0 || (duk_size_t) off + (duk_size_t) len > bsz || osz < 32) {
		return duk_error(ctx, DUK_ERR_RANGE_ERROR, "fwsealNativeSha256: bad range");
	}
	sha256(buf + off, (size_t) len, out);
	return 0;
}

/* ------------------------------------------------------------------ helpers */

static char *read_file(const char *path, size_t *out_len) {
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;
	if (f == NULL) return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	buf = (char *) malloc((size_t) n + 1);
	if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = 0;
	fclose(f);
	*out_len = (size_t) n;
	return buf;
}

static void print_json_string(const char *s) {
	putchar('"');
	for (; s != NULL && *s; s++) {
		unsigned char c = (unsigned char) *s;
		if (c == '"' || c == '\\') printf("\\%c", c);
		else if (c < 0x20) printf("\\u%04x", c);
		else putchar(c);
	}
	putchar('"');
}

static size_t g_loaded = 0, g_load_high = 0, g_init = 0, g_feed_high = 0;
static int g_bytecode = 0;

static void print_heap_json(void) {
	printf("\"heap\":{\"cap\":%lu,\"highWater\":%lu,\"init\":%lu,\"loadHighWater\":%lu,\"loaded\":%lu,\"feedHighWater\":%lu,"
	       "\"current\":%lu,\"allocs\":%lu,\"refused\":%lu},\"load\":\"%s\",\"compileHighWater\":%lu",
	       (unsigned long) g_stats.cap, (unsigned long) g_stats.high, (unsigned long) g_init, (unsigned long) g_load_high,
	       (unsigned long) g_loaded, (unsigned long) g_feed_high, (unsigned long) g_stats.cur, g_stats.allocs, g_stats.refused,
	       g_bytecode ? "bytecode" : "source", (unsigned long) g_scratch.high);
}

/* A JS error at the top of the stack: report it (as a heap failure if an allocation was refused). */
static int script_error(duk_context *ctx, const char *what) {
	int heap = g_stats.refused > 0;
	const char *msg = duk_safe_to_string(ctx, -1);
	printf("{\"error\":");
	if (heap) {
		printf("\"heap cap exceeded\",\"detail\":");
		print_json_string(msg);
	} else {
		print_json_string(msg);
	}
	printf(",\"phase\":\"%s\",\"where\":\"%s\",", g_phase, what);
	print_heap_json();
	printf("}\n");
	return heap ? EXIT_HEAP : EXIT_SCRIPT;
}

static unsigned long long parse_num(const char *s, int *ok) {
	char *end;
	unsigned long long v;
	if (s == NULL || *s == 0) {
		*ok = 0;
		return 0;
	}
	v = strtoull(s, &end, 10);
	if (*end != 0) *ok = 0;
	return v;
}

static int is_hex(const char *s, size_t want) {
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return 0;
	}
	return want == 0 ? (n % 2 == 0) : n == want;
}

static int usage(const char *msg) {
	fprintf(stderr,
	        "duk-capped: %s\n"
	        "usage: duk-capped [options] CORE.js DRIVER.js BUNDLE\n"
	        "  --heap-cap N      hard cap on Duktape heap bytes (0 = none; default 0)\n"
	        "  --frag N          bytes per feed call (1..1048576; default 4096)\n"
	        "  --frag-seed S     vary each feed length pseudo-randomly in 1..N (seeded xorshift)\n"
	        "  --native-sha256   give the core a C SHA-256 primitive (default: the core's pure JS one)\n"
	        "  --bytecode        compile in an uncapped scratch heap and load the bytecode (default: compile in the capped heap)\n"
	        "  --root HEX64      root public key, repeat for slots 1..4 (required)\n"
	        "  --retired N --vendor HEX32 --class HEX32 --min-seq N --min-epoch N --threshold K\n"
	        "  --now N|-1 --max-chunk N   verifier policy (device-sim/core/verify/bundle-verifier.ts VerifierConfig)\n"
	        "exit: 0 accepted, 1 rejected, 2 usage, 3 I/O, 4 heap cap exceeded, 5 script error\n",
	        msg);
	return EXIT_USAGE;
}

/* Compile `src` (a program) in ctx and leave the function on the stack; 0 on success. */
static int compile_program(duk_context *ctx, const char *src, size_t len, const char *name) {
	duk_push_string(ctx, name);
	return duk_pcompile_lstring_filename(ctx, 0, src, len);
}

/* Compile both programs in a scratch heap and dump their bytecode into C memory. */
static int precompile(const char *srcs[2], size_t lens[2], const char *names[2], char *bc[2], size_t bclen[2]) {
	duk_context *ctx = duk_create_heap(cap_alloc, cap_realloc, cap_free, &g_scratch, fatal_handler);
	int i;
	if (ctx == NULL) return -1;
	for (i = 0; i < 2; i++) {
		void *p;
		duk_size_t n = 0;
		if (compile_program(ctx, srcs[i], lens[i], names[i]) != 0) {
			fprintf(stderr, "duk-capped: compile %s: %s\n", names[i], duk_safe_to_string(ctx, -1));
			duk_destroy_heap(ctx);
			return -1;
		}
		duk_dump_function(ctx);
		p = duk_get_buffer_data(ctx, -1, &n);
		bc[i] = (char *) malloc(n);
		if (bc[i] == NULL) {
			duk_destroy_heap(ctx);
			return -1;
		}
		memcpy(bc[i], p, n);
		bclen[i] = n;
		duk_pop(ctx);
	}
	duk_destroy_heap(ctx);
	return 0;
}

int main(int argc, char **argv) {
	const char *core_path = NULL, *driver_path = NULL, *bundle_path = NULL;
	const char *roots[4];
	int root_count = 0;
	const char *vendor = NULL, *cls = NULL;
	unsigned long long retired = 0, min_seq = 0, min_epoch = 0, threshold = 1, max_chunk = 65536, frag = 4096, seed = 0;
	long long now = -1;
	int native = 0, have_seed = 0;
	const char *pos[3];
	int npos = 0, i, ok = 1;
	char *srcs[2];
	size_t lens[2];
	char *bc[2] = { NULL, NULL };
	size_t bclen[2];
	duk_context *ctx;
	FILE *bf;
	unsigned char *in;
	duk_size_t in_size = 0;
	unsigned long long fed = 0;
	int rejected = 0, rc;
	uint64_t rng;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--native-sha256") == 0) native = 1;
		else if (strcmp(a, "--bytecode") == 0) g_bytecode = 1;
		else if (strncmp(a, "--", 2) == 0) {
			if (v == NULL) return usage("option needs a value");
			i++;
			if (strcmp(a, "--heap-cap") == 0) g_stats.cap = (size_t) parse_num(v, &ok);
			else if (strcmp(a, "--frag") == 0) frag = parse_num(v, &ok);
			else if (strcmp(a, "--frag-seed") == 0) { seed = parse_num(v, &ok); have_seed = 1; }
			else if (strcmp(a, "--root") == 0) {
				if (root_count >= 4 || !is_hex(v, 64)) return usage("--root needs 64 hex digits, at most 4 times");
				roots[root_count++] = v;
			} else if (strcmp(a, "--retired") == 0) retired = parse_num(v, &ok);
			else if (strcmp(a, "--vendor") == 0) { if (!is_hex(v, 32)) return usage("--vendor needs 32 hex digits"); vendor = v; }
			else if (strcmp(a, "--class") == 0) { if (!is_hex(v, 32)) return usage("--class needs 32 hex digits"); cls = v; }
			else if (strcmp(a, "--min-seq") == 0) min_seq = parse_num(v, &ok);
			else if (strcmp(a, "--min-epoch") == 0) min_epoch = parse_num(v, &ok);
			else if (strcmp(a, "--threshold") == 0) threshold = parse_num(v, &ok);
			else if (strcmp(a, "--max-chunk") == 0) max_chunk = parse_num(v, &ok);
			else if (strcmp(a, "--now") == 0) now = strcmp(v, "-1") == 0 ? -1 : (long long) parse_num(v, &ok);
			else return usage("unknown option");
			if (!ok) return usage("bad number");
		} else {
			if (npos >= 3) return usage("too many arguments");
			pos[npos++] = a;
		}
	}
	if (npos != 3) return usage("CORE.js DRIVER.js BUNDLE are required");
	if (root_count == 0 || vendor == NULL || cls == NULL) return usage("--root, --vendor and --class are required");
	if (frag < 1 || frag > 1048576 || threshold < 1 || min_seq > 9007199254740991ULL || min_epoch > 9007199254740991ULL) {
		return usage("value out of range");
	}
	core_path = pos[0];
	driver_path = pos[1];
	bundle_path = pos[2];

	srcs[0] = read_file(core_path, &lens[0]);
	srcs[1] = read_file(driver_path, &lens[1]);
	if (srcs[0] == NULL || srcs[1] == NULL) {
		fprintf(stderr, "duk-capped: cannot read %s\n", srcs[0] == NULL ? core_path : driver_path);
		return EXIT_IO;
	}
	bf = fopen(bundle_path, "rb");
	if (bf == NULL) {
		fprintf(stderr, "duk-capped: cannot read %s\n", bundle_path);
		return EXIT_IO;
	}
	if (g_bytecode) {
		const char *s[2];
		const char *names[2];
		s[0] = srcs[0]; s[1] = srcs[1];
		names[0] = core_path; names[1] = driver_path;
		if (precompile(s, lens, names, bc, bclen) != 0) return EXIT_SCRIPT;
	}

	/* ---- the capped heap: everything from here on counts */
	g_phase = "create";
	ctx = duk_create_heap(cap_alloc, cap_realloc, cap_free, &g_stats, fatal_handler);
	if (ctx == NULL) {
		printf("{\"error\":\"heap cap exceeded\",\"phase\":\"create\",");
		print_heap_json();
		printf("}\n");
		return EXIT_HEAP;
	}
	g_init = g_stats.cur;
	g_phase = "load";

	duk_push_c_function(ctx, native_sha256, 4);
	duk_put_global_string(ctx, "fwsealNativeSha256");
	duk_push_object(ctx);
	{
		char hexroots[4 * 64 + 1];
		hexroots[0] = 0;
		for (i = 0; i < root_count; i++) strcat(hexroots, roots[i]);
		duk_push_string(ctx, hexroots);
		duk_put_prop_string(ctx, -2, "roots");
	}
	duk_push_int(ctx, root_count);
	duk_put_prop_string(ctx, -2, "rootCount");
	duk_push_number(ctx, (double) retired);
	duk_put_prop_string(ctx, -2, "retired");
	duk_push_string(ctx, vendor);
	duk_put_prop_string(ctx, -2, "vendor");
	duk_push_string(ctx, cls);
	duk_put_prop_string(ctx, -2, "cls");
	duk_push_number(ctx, (double) min_seq);
	duk_put_prop_string(ctx, -2, "minSeq");
	duk_push_number(ctx, (double) min_epoch);
	duk_put_prop_string(ctx, -2, "minEpoch");
	duk_push_number(ctx, (double) threshold);
	duk_put_prop_string(ctx, -2, "threshold");
	duk_push_number(ctx, (double) now);
	duk_put_prop_string(ctx, -2, "now");
	duk_push_number(ctx, (double) max_chunk);
	duk_put_prop_string(ctx, -2, "maxChunk");
	duk_push_number(ctx, (double) frag);
	duk_put_prop_string(ctx, -2, "frag");
	duk_push_boolean(ctx, native);
	duk_put_prop_string(ctx, -2, "nativeSha256");
	duk_put_global_string(ctx, "fwsealArgs");

	for (i = 0; i < 2; i++) {
		if (g_bytecode) {
			void *p = duk_push_fixed_buffer(ctx, bclen[i]);
			memcpy(p, bc[i], bclen[i]);
			duk_load_function(ctx);
		} else if (compile_program(ctx, srcs[i], lens[i], i == 0 ? core_path : driver_path) != 0) {
			return script_error(ctx, i == 0 ? "compile core" : "compile driver");
		}
		if (duk_pcall(ctx, 0) != 0) return script_error(ctx, i == 0 ? "run core" : "run driver");
		duk_pop(ctx);
	}
	for (i = 0; i < 2; i++) {
		free(srcs[i]);
		free(bc[i]);
	}

	/* The driver defines fwsealRunner = { input: Uint8Array(frag), feed(len) -> 0|1, finish() -> verdict string }. */
	if (!duk_get_global_string(ctx, "fwsealRunner") || !duk_is_object(ctx, -1)) {
		printf("{\"error\":\"driver did not define fwsealRunner\",");
		print_heap_json();
		printf("}\n");
		return EXIT_SCRIPT;
	}
	duk_get_prop_string(ctx, -1, "input");
	in = (unsigned char *) duk_get_buffer_data(ctx, -1, &in_size);
	duk_pop(ctx);
	if (in == NULL || in_size < frag) {
		printf("{\"error\":\"fwsealRunner.input is not a Uint8Array of --frag bytes\",");
		print_heap_json();
		printf("}\n");
		return EXIT_SCRIPT;
	}
	duk_gc(ctx, 0);
	duk_gc(ctx, 0);
	g_loaded = g_stats.cur;
	g_load_high = g_stats.high;

	/* ---- feed: the stack holds [fwsealRunner]; the input buffer is reused for every read */
	g_phase = "feed";
	g_stats.phase_high = g_stats.cur;
	rng = have_seed ? (seed * 0x9E3779B97F4A7C15ULL) ^ 0xD1B54A32D192ED03ULL : 0;
	if (rng == 0 && have_seed) rng = 1;
	for (;;) {
		size_t want = (size_t) frag, got;
		if (have_seed) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			want = 1 + (size_t) (rng % frag);
		}
		got = fread(in, 1, want, bf);
		if (got == 0) {
			if (ferror(bf)) {
				fprintf(stderr, "duk-capped: read error on %s\n", bundle_path);
				return EXIT_IO;
			}
			break;
		}
		fed += got;
		duk_get_prop_string(ctx, -1, "feed");
		duk_dup(ctx, -2);
		duk_push_uint(ctx, (duk_uint_t) got);
		if (duk_pcall_method(ctx, 1) != 0) return script_error(ctx, "feed");
		rc = duk_get_int(ctx, -1);
		duk_pop(ctx);
		if (rc == 1) {
			rejected = 1;
			break;
		}
		if (rc != 0) {
			printf("{\"error\":\"driver feed() returned %d\",", rc);
			print_heap_json();
			printf("}\n");
			return EXIT_SCRIPT;
		}
	}
	fclose(bf);
	g_phase = "finish";
	duk_get_prop_string(ctx, -1, "finish");
	duk_dup(ctx, -2);
	if (duk_pcall_method(ctx, 0) != 0) return script_error(ctx, "finish");
	g_feed_high = g_stats.phase_high;
	{
		/* finish() returns "valid reason chunk chunks", e.g. "0 CHUNK_HASH_MISMATCH 12 12". */
		const char *res = duk_safe_to_string(ctx, -1);
		int valid = 0, chunk = 0, chunks = 0;
		char reason[64];
		if (sscanf(res, "%d %63s %d %d", &valid, reason, &chunk, &chunks) != 4) {
			printf("{\"error\":\"driver finish() returned ");
			print_json_string(res);
			printf("\",");
			print_heap_json();
			printf("}\n");
			return EXIT_SCRIPT;
		}
		(void) rejected;
		printf("{\"valid\":%s,\"reason\":", valid ? "true" : "false");
		print_json_string(reason);
		printf(",\"chunk\":%d,\"chunksReleased\":%d,\"bytesFed\":%llu,\"sha256\":\"%s\",", chunk, chunks, fed, native ? "native" : "pure");
		print_heap_json();
		printf("}\n");
		duk_pop_2(ctx);
		duk_destroy_heap(ctx);
		return valid ? EXIT_ACCEPTED : EXIT_REJECTED;
	}
}
