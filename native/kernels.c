/*
 * rankflow's native kernels: memmove between byte views (the transport's
 * large copies) and the elementwise loop of large float64 reductions.
 *
 * V8 copies typed arrays that touch a SharedArrayBuffer with a relaxed-atomic
 * word loop (~30 GB/s here) instead of memcpy (~60 GB/s); every byte a rank
 * sends crosses shared memory twice, so that halves large-message bandwidth.
 * This is the one thing rankflow does natively; src/transport/copy.ts falls
 * back to TypedArray.prototype.set when the addon is not built.
 *
 * copy(dst: TypedArray, dstByteOffset, src: TypedArray, srcByteOffset, bytes)
 * Offsets are in bytes from each view's start; ranges are bounds-checked.
 *
 * yieldThread(): gives the core away (sched_yield). With more ranks than
 * cores, a rank waiting for a peer lets the peer run at once, where a futex
 * sleep costs a wake-up of tens of microseconds; JavaScript has no way to.
 *
 * exitNow(code): ends the process at once (_exit), without joining worker
 * threads: process.exit joins every worker, and one stuck in native code
 * (crypto.pbkdf2Sync, a long addon call) would hold the exit for as long as
 * it runs; libc exit() runs destructors under the live threads and crashes.
 *
 * guardHeap(flags, index, capBytes): a rank's near-heap-limit callback, in
 * heap_guard.cc (V8's C++ API: N-API has none); left out when built with
 * GYP_DEFINES=heap_guard=0 (the install script's fallback without V8 headers).
 */
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <windows.h>
#else
#include <sched.h>
#include <unistd.h>
#endif

static size_t element_size(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array: case napi_uint8_array: case napi_uint8_clamped_array: return 1;
    case napi_int16_array: case napi_uint16_array: return 2;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: return 4;
    default: return 8;
  }
}

/* The bytes of any typed array (so callers need not allocate a Uint8Array view). */
static int byte_view(napi_env env, napi_value value, unsigned char** data, size_t* bytes) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset, length;
  void* raw;
  bool is_typed;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  if (napi_get_typedarray_info(env, value, &type, &length, &raw, &buffer, &offset) != napi_ok) return 0;
  *data = raw;
  *bytes = length * element_size(type);
  return 1;
}

static napi_value copy(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  unsigned char *dst, *src;
  size_t dst_length, src_length;
  double dst_offset, src_offset, bytes;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5 || !byte_view(env, argv[0], &dst, &dst_length) || !byte_view(env, argv[2], &src, &src_length) ||
      napi_get_value_double(env, argv[1], &dst_offset) != napi_ok ||
      napi_get_value_double(env, argv[3], &src_offset) != napi_ok ||
      napi_get_value_double(env, argv[4], &bytes) != napi_ok) {
    napi_throw_type_error(env, NULL, "copy(dst: TypedArray, dstByteOffset, src: TypedArray, srcByteOffset, bytes)");
    return NULL;
  }
  if (dst_offset < 0 || src_offset < 0 || bytes < 0 || dst_offset + bytes > (double)dst_length ||
      src_offset + bytes > (double)src_length) {
    napi_throw_range_error(env, NULL, "copy: range outside the views");
    return NULL;
  }
  memmove(dst + (size_t)dst_offset, src + (size_t)src_offset, (size_t)bytes);
  return NULL;
}

/* The loops, in place and apart: `restrict` lets the compiler vectorise each without alias checks. */
static void in_place(int op, bool reversed, double* restrict o, const double* restrict b, size_t n) {
  switch (op * 2 + (reversed ? 1 : 0)) {
    case 0: case 1: for (size_t i = 0; i < n; i++) o[i] = o[i] + b[i]; break; /* IEEE + and * commute */
    case 2: case 3: for (size_t i = 0; i < n; i++) o[i] = o[i] * b[i]; break;
    case 4: for (size_t i = 0; i < n; i++) o[i] = o[i] < b[i] ? b[i] : o[i]; break; /* max(o, b) */
    case 5: for (size_t i = 0; i < n; i++) o[i] = b[i] < o[i] ? o[i] : b[i]; break; /* max(b, o) */
    case 6: for (size_t i = 0; i < n; i++) o[i] = o[i] > b[i] ? b[i] : o[i]; break; /* min(o, b) */
    default: for (size_t i = 0; i < n; i++) o[i] = b[i] > o[i] ? o[i] : b[i]; break; /* min(b, o) */
  }
}

static void apart(int op, bool reversed, double* restrict o, const double* restrict a, const double* restrict b, size_t n) {
  switch (op * 2 + (reversed ? 1 : 0)) {
    case 0: case 1: for (size_t i = 0; i < n; i++) o[i] = a[i] + b[i]; break;
    case 2: case 3: for (size_t i = 0; i < n; i++) o[i] = a[i] * b[i]; break;
    case 4: for (size_t i = 0; i < n; i++) o[i] = a[i] < b[i] ? b[i] : a[i]; break;
    case 5: for (size_t i = 0; i < n; i++) o[i] = b[i] < a[i] ? a[i] : b[i]; break;
    case 6: for (size_t i = 0; i < n; i++) o[i] = a[i] > b[i] ? b[i] : a[i]; break;
    default: for (size_t i = 0; i < n; i++) o[i] = b[i] > a[i] ? a[i] : b[i]; break;
  }
}

/*
 * combineTo(op, out, outByteOffset, mine, mineByteOffset, other, otherByteOffset, bytes, reversed):
 * out[i] = mine[i] op other[i] (other[i] op mine[i] when reversed) over `bytes`
 * bytes of doubles, for op 0 SUM, 1 PROD, 2 MAX, 3 MIN. `out` may be `mine`
 * (in place); `other` may be a byte view such as a transport ring, so large
 * allreduces combine straight out of the ring, and an out-of-place one reads
 * its input and writes its result without copying the input first. A JS loop
 * costs ~1.4 ns/element here; this one is vectorised. MAX/MIN keep the left
 * operand unless the right one is strictly larger/smaller, exactly like the JS
 * kernels (fp-ts max/min), so results do not depend on which path ran.
 */
static napi_value combine_to(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  int32_t op;
  bool reversed = false;
  unsigned char *out, *mine, *other;
  size_t out_bytes, mine_bytes, other_bytes;
  double out_offset, mine_offset, other_offset, bytes;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 9 || napi_get_value_int32(env, argv[0], &op) != napi_ok || op < 0 || op > 3 ||
      !byte_view(env, argv[1], &out, &out_bytes) || !byte_view(env, argv[3], &mine, &mine_bytes) ||
      !byte_view(env, argv[5], &other, &other_bytes) || napi_get_value_double(env, argv[2], &out_offset) != napi_ok ||
      napi_get_value_double(env, argv[4], &mine_offset) != napi_ok ||
      napi_get_value_double(env, argv[6], &other_offset) != napi_ok ||
      napi_get_value_double(env, argv[7], &bytes) != napi_ok || napi_get_value_bool(env, argv[8], &reversed) != napi_ok) {
    napi_throw_type_error(env, NULL, "combineTo(op, out, outByteOffset, mine, mineByteOffset, other, otherByteOffset, bytes, reversed)");
    return NULL;
  }
  if (out_offset < 0 || mine_offset < 0 || other_offset < 0 || bytes < 0 || out_offset + bytes > (double)out_bytes ||
      mine_offset + bytes > (double)mine_bytes || other_offset + bytes > (double)other_bytes || (size_t)bytes % 8 != 0 ||
      ((uintptr_t)(out + (size_t)out_offset)) % 8 != 0 || ((uintptr_t)(mine + (size_t)mine_offset)) % 8 != 0 ||
      ((uintptr_t)(other + (size_t)other_offset)) % 8 != 0) {
    napi_throw_range_error(env, NULL, "combineTo: range outside the views or not 8-byte aligned");
    return NULL;
  }
  double* o = (double*)(out + (size_t)out_offset);
  const double* a = (const double*)(mine + (size_t)mine_offset);
  const double* b = (const double*)(other + (size_t)other_offset);
  size_t n = (size_t)bytes / 8;
  if (o == a) in_place(op, reversed, o, b, n);
  else apart(op, reversed, o, a, b, n);
  return NULL;
}

static napi_value yield_thread(napi_env env, napi_callback_info info) {
#ifdef _WIN32
  SwitchToThread();
#else
  sched_yield();
#endif
  return NULL;
}

static napi_value exit_now(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t code = 1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= 1) napi_get_value_int32(env, argv[0], &code);
#ifdef _WIN32
  TerminateProcess(GetCurrentProcess(), (UINT)code);
#endif
  _exit(code);
  return NULL;
}

#ifdef RANKFLOW_HEAP_GUARD
napi_value rankflow_guard_heap(napi_env env, napi_callback_info info);
#endif

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "copy", NAPI_AUTO_LENGTH, copy, NULL, &fn);
  napi_set_named_property(env, exports, "copy", fn);
  napi_create_function(env, "combineTo", NAPI_AUTO_LENGTH, combine_to, NULL, &fn);
  napi_set_named_property(env, exports, "combineTo", fn);
  napi_create_function(env, "yieldThread", NAPI_AUTO_LENGTH, yield_thread, NULL, &fn);
  napi_set_named_property(env, exports, "yieldThread", fn);
  napi_create_function(env, "exitNow", NAPI_AUTO_LENGTH, exit_now, NULL, &fn);
  napi_set_named_property(env, exports, "exitNow", fn);
#ifdef RANKFLOW_HEAP_GUARD
  napi_create_function(env, "guardHeap", NAPI_AUTO_LENGTH, rankflow_guard_heap, NULL, &fn);
  napi_set_named_property(env, exports, "guardHeap", fn);
#endif
  return exports;
}
