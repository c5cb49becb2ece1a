/*
 * guardHeap(flags: Int32Array, index, capBytes): a rank's own near-heap-limit
 * callback, so that a rank over its heap limit fails alone whatever the size
 * of the allocation that crossed it.
 *
 * Node's worker callback grants 16 MiB past the limit and stops the worker;
 * an allocation larger than that (one 100 MB array) is then fatal for the
 * whole process (V8's "FATAL ERROR ... heap out of memory", exit 134). V8
 * calls only the most recently added callback, so this one replaces Node's
 * for the rank: it grants `max(2 x limit, 1 GiB)` (at most capBytes) so the
 * allocation completes, sets flags[index] to 1 (the job's shared control
 * block: the supervisor reads it when the thread exits) and stops the
 * worker's environment the way Node's callback does (node::Stop: terminates
 * JavaScript, ends the event loop).
 */
#include <node.h>
#include <node_api.h>
#include <v8.h>

#include <algorithm>
#include <cstdint>

namespace {

struct Guard {
  v8::Isolate* isolate;
  node::Environment* env;
  int32_t* flag;
  size_t cap;
  bool stopped;
};

size_t NearHeapLimit(void* data, size_t current_limit, size_t initial_limit) {
  Guard* guard = static_cast<Guard*>(data);
  if (!guard->stopped) {
    guard->stopped = true;
    __atomic_store_n(guard->flag, 1, __ATOMIC_SEQ_CST);
    node::Stop(guard->env);
  }
  size_t allowance = std::min(std::max<size_t>(2 * initial_limit, size_t{1} << 30), guard->cap);
  return current_limit + allowance;
}

void Remove(void* data) {
  Guard* guard = static_cast<Guard*>(data);
  guard->isolate->RemoveNearHeapLimitCallback(NearHeapLimit, 0);
  delete guard;
}

}  // namespace

extern "C" napi_value rankflow_guard_heap(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_typedarray_type type;
  size_t length;
  void* data;
  uint32_t index;
  double cap;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 3 || napi_get_typedarray_info(env, argv[0], &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_int32_array || napi_get_value_uint32(env, argv[1], &index) != napi_ok || index >= length ||
      napi_get_value_double(env, argv[2], &cap) != napi_ok || !(cap >= 0)) {
    napi_throw_type_error(env, nullptr, "guardHeap(flags: Int32Array, index, capBytes)");
    return nullptr;
  }
  // Keep the flags' buffer alive as long as the environment (the guard is removed with it).
  napi_ref keep;
  napi_create_reference(env, argv[0], 1, &keep);
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  node::Environment* node_env = node::GetCurrentEnvironment(isolate->GetCurrentContext());
  if (node_env == nullptr) {
    napi_throw_error(env, nullptr, "guardHeap: no Node.js environment on this thread");
    return nullptr;
  }
  Guard* guard = new Guard{isolate, node_env, static_cast<int32_t*>(data) + index, static_cast<size_t>(cap), false};
  isolate->AddNearHeapLimitCallback(NearHeapLimit, guard);
  napi_add_env_cleanup_hook(env, Remove, guard);
  return nullptr;
}
