/* Duktape configuration overrides for the firmware, included at duk_config.h's
   __OVERRIDE_DEFINES__ hook by build.sh. */
#define DUK_USE_FASTINT
/* No OS clock: Date.now() is 0 (the core never uses Date; trusted time is nowSeconds()). */
#define DUK_USE_DATE_GET_NOW(ctx) 0.0
#define DUK_USE_DATE_GET_LOCAL_TZOFFSET(d) 0
#undef DUK_USE_DATE_PRS_STRPTIME
#undef DUK_USE_DATE_FMT_STRFTIME
#undef DUK_USE_TARGET_INFO
#define DUK_USE_TARGET_INFO "fwseal-mcu mps2-an385"
