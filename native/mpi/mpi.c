/*
 * rankflow's optional Open MPI addon: the few MPI calls the MPI transport
 * (src/transport/mpi.ts) needs, on a private duplicate of MPI_COMM_WORLD.
 *
 * A rankflow frame (16-byte header: context, tag, kind, byte length; then
 * the payload) travels as one MPI message with the channel's (odd) MPI tag
 * when it is small; a large frame is a 16-byte header message followed by
 * its payload as a second message with the next (even) tag, received
 * straight into the destination buffer. MPI's non-overtaking rule (same
 * source, same communicator) keeps the payload right behind its header.
 * The tag names the pair of rank threads (hybrid runs: several ranks per
 * process), chosen by src/transport/mpi.ts. With one rank per process, a
 * payload of at most 8 bytes travels alone as a compact frame, its header in
 * the MPI tag (bit 30 set), and the receiving slots match any tag: Open MPI's
 * shared-memory path is 0.05-0.1 µs slower one way for anything over 8 bytes
 * on this machine, and the header made an 8-byte payload 24. `arrived`
 * rebuilds the frame, so JavaScript sees every frame alike.
 *
 * Each rank thread has its own send buffer, request list and receive
 * slots (thread-local). MPI runs with MPI_THREAD_SINGLE when one rank thread
 * per process is the only caller (Open MPI then takes no locks: 8 B one-way
 * ~0.13 µs less than MPI_THREAD_MULTIPLE in C on this machine), with
 * MPI_THREAD_MULTIPLE in hybrid runs.
 *
 * The receiving side keeps one receive posted per channel (source and MPI
 * tag) into the channel's staging buffer (any small frame fits it) and
 * tests it: no matching search per poll, as MPI_Improbe / MPI_Mrecv did
 * (~0.2 µs more per message in C). The next receive is posted only once the
 * engine has taken the frame, so frames wait in MPI's queue meanwhile and the
 * engine's own matching (contexts, ANY_SOURCE, the unexpected queue) stays
 * exactly as on threads.
 *
 * Nothing here allocates on the JavaScript heap per message. A small frame is
 * written by JavaScript into the thread's outgoing staging buffer, with
 * where it goes, and sent by a call without arguments (Node-API takes ~10 ns
 * per integer argument and ~70 ns to look at a typed array): up to
 * EAGER_BYTES with MPI_Send (Open MPI's eager protocol: it returns at once),
 * larger ones copied to a malloc'd buffer and sent with MPI_Isend, freed
 * once complete.
 *
 * A blocked rank waits in C (waitAny), as an MPI program's MPI_Recv does:
 * polling MPI from JavaScript, one Node-API call per poll, noticed an arrival
 * ~0.3 µs later than C on this machine. A blocking receive into a typed array
 * waits with the receive armed (waitInto): the wait copies a matching small
 * frame straight into the array, as MPI does into a posted receive's buffer,
 * so the engine's matching and copy are off the path from arrival to reply.
 *
 *   init(heap: Uint8Array, ranksPerProcess) -> [rank, size, threadLevel]
 *            MPI_Init_thread (SINGLE, or MULTIPLE for K > 1) and the job's RMA window over `heap` (this process's
 *            shared heap) by the first thread of the process; every rank thread calls it once
 *            (its table of receive slots has one per rank of the job)
 *   bindThread(outStaging: ArrayBuffer, arrivals: Int32Array)   once per rank thread: small frames
 *            are written into outStaging by JavaScript and sent from there; waitAny writes the byte
 *            length of a frame it saw arrive into arrivals[slot]; waitInto's 8 arm words follow the slots
 *   send()   sends the small frame in outStaging: int32 destination process, MPI tag and frame
 *            bytes `total` at bytes 0..11, the frame (header and payload) from byte 16
 *   sendLarge(dest, mpiTag, context, tag, kind, payload, bytes) -> handle
 *   testSend(handle) -> boolean             true once the payload has left (handle freed)
 *   bind(slot, source, mpiTag, staging: ArrayBuffer)   the channel of `slot` (once, at start)
 *   probe(slot) -> n         0: nothing yet; n > 0: a frame of n bytes is in the slot's staging
 *                            (the next probe after it posts the next receive)
 *   waitAny(nanos) -> boolean   polls this thread's posted receives, large sends and allgather in C
 *                            for up to nanos: true once one of them completes (a receive's byte length
 *                            then in arrivals[slot], as if probe had returned it)
 *   waitInto(dest: TypedArray, nanos) -> boolean   waitAny with the receive in the arm words (after
 *                            the arrivals) armed: a matching small frame is copied into dest (Armed)
 *   pending(slot) -> boolean another frame is queued behind the one in staging
 *   recvPayload(source, mpiTag, dest: TypedArray, byteOffset, bytes)   (mpiTag + 1 is used)
 *   fetchAndAddInt32(targetProcess, index, value) -> old  (int32 index into its heap)
 *   allgatherBind(tag, ranks: Int32Array | null, send: Uint8Array, recv: Uint8Array, nanos) -> run
 *            binds an allgather of send's bytes among processes `ranks` (null: all) into recv, on a
 *            second duplicate of MPI_COMM_WORLD with `tag` (once per communicator); run() -> boolean
 *            runs it with send's current bytes (a send and a receive per other process) and polls
 *            it in C for about nanos: true once complete. One at a time per thread. A slot whose
 *            header says its payload fits 8 bytes travels compact (gather_tag)
 *   allgatherTest(nanos) -> boolean   polls the one in flight for up to nanos; true once complete
 *   abort(code), finalize(), finalized() -> boolean, yieldThread(), wtime()
 * finalize cancels the thread's posted receives first and frees its bound allgathers.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <mpi.h>
#include <node_api.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HEADER_BYTES 16
#define SEND_DESCRIPTOR_BYTES 16
#define EAGER_BYTES 4096
#define YIELD_AFTER_NS 10000.0
/* A compact frame: a payload of at most COMPACT_MAX_BYTES sent without its header, which travels
   in the MPI tag instead (bit 30 set; context, tag and kind below it, see arrived). */
#define COMPACT_BIT 0x40000000
#define COMPACT_MAX_BYTES 8
/* Arm words (after the slots' arrivals): slot, context, tag, kind, max bytes; then, written by the
   wait: the delivered payload's bytes (-1: none) and its tag. */
enum { ARM_SLOT, ARM_CONTEXT, ARM_TAG, ARM_KIND, ARM_MAX, ARM_DELIVERED, ARM_DELIVERED_TAG, ARM_WORDS = 8 };


static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static bool ready = false;
static bool done = false;
static int world_rank = 0, world_size = 1, thread_level = 0;
static MPI_Comm comm = MPI_COMM_NULL;
static MPI_Comm collective_world = MPI_COMM_NULL; /* native collectives' own duplicate of MPI_COMM_WORLD: no receive posted on it */
static MPI_Win window = MPI_WIN_NULL;
static size_t heap_bytes = 0;
static int rank_threads = 0; /* rank threads of this process that called init and not yet finalize */
/* Compact frames are on (one rank per process, and MPI tags reach 2^31 - 1): receives then match any tag. */
static bool compact_frames = false;
/* Per rank thread: */
typedef struct {
  unsigned char *staging;
  int capacity, source, mpi_tag;
  int recv_tag; /* what the slot's receive matches: mpi_tag, or MPI_ANY_TAG with compact frames */
} Slot;
static __thread Slot *slots = NULL; /* one per channel: every rank of the job */
/* The receive posted into each slot's staging, or MPI_REQUEST_NULL (contiguous, for MPI_Testany). */
static __thread MPI_Request *posted = NULL;
static __thread int slot_count = 0;
static __thread unsigned char *out_staging = NULL;
static __thread size_t out_capacity = 0;
static __thread int32_t *arrivals = NULL;

typedef struct {
  MPI_Request request;
  void *buffer; /* owned copy (small isends), or NULL (large payload: the caller's buffer) */
} Outgoing;
static __thread Outgoing *outgoing = NULL;
static __thread int outgoing_count = 0, outgoing_capacity = 0;
static __thread int small_in_flight = 0;

static napi_value undefined_value(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static int arg_int(napi_env env, napi_value v) {
  int32_t x = 0;
  napi_get_value_int32(env, v, &x);
  return x;
}

static double arg_double(napi_env env, napi_value v) {
  double x = 0;
  napi_get_value_double(env, v, &x);
  return x;
}

/* The bytes of a typed array (or NULL for null/undefined). */
static unsigned char *typed_bytes(napi_env env, napi_value v, size_t *length) {
  napi_valuetype type;
  napi_typeof(env, v, &type);
  *length = 0;
  if (type == napi_null || type == napi_undefined) return NULL;
  napi_typedarray_type t;
  size_t count, offset;
  void *data = NULL;
  napi_value buffer;
  if (napi_get_typedarray_info(env, v, &t, &count, &data, &buffer, &offset) != napi_ok) return NULL;
  size_t size = 1;
  switch (t) {
    case napi_int16_array: case napi_uint16_array: size = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: size = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: size = 8; break;
    default: size = 1;
  }
  *length = count * size;
  return (unsigned char *)data;
}

static int add_outgoing(MPI_Request request, void *buffer) {
  if (outgoing_count == outgoing_capacity) {
    outgoing_capacity = outgoing_capacity == 0 ? 64 : outgoing_capacity * 2;
    outgoing = realloc(outgoing, sizeof(Outgoing) * outgoing_capacity);
  }
  for (int i = 0; i < outgoing_count; i++)
    if (outgoing[i].request == MPI_REQUEST_NULL && outgoing[i].buffer == NULL) {
      outgoing[i].request = request;
      outgoing[i].buffer = buffer;
      return i;
    }
  outgoing[outgoing_count].request = request;
  outgoing[outgoing_count].buffer = buffer;
  return outgoing_count++;
}

/* Frees the copies of small isends that have completed. */
static void reap_small(void) {
  if (small_in_flight == 0) return;
  for (int i = 0; i < outgoing_count; i++) {
    if (outgoing[i].buffer == NULL || outgoing[i].request == MPI_REQUEST_NULL) continue;
    int flag = 0;
    MPI_Test(&outgoing[i].request, &flag, MPI_STATUS_IGNORE);
    if (flag) {
      free(outgoing[i].buffer);
      outgoing[i].buffer = NULL;
      outgoing[i].request = MPI_REQUEST_NULL;
      small_in_flight--;
    }
  }
}

static napi_value init(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  size_t length = 0;
  unsigned char *heap = typed_bytes(env, a[0], &length);
  int per_process = arg_int(env, a[1]);
  pthread_mutex_lock(&init_lock);
  if (done) {
    pthread_mutex_unlock(&init_lock);
    return throw_error(env, "init: MPI was finalized in this process");
  }
  if (!ready) {
    /* Older Open MPI builds load their plugins expecting libmpi's symbols to be global. */
    dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
    int initialized = 0;
    MPI_Initialized(&initialized);
    /* One rank thread per process: it alone calls MPI (the main thread only calls MPI_Abort, which
       ends the job whatever the rank thread does). Hybrid runs need MPI_THREAD_MULTIPLE. */
    int wanted = per_process > 1 ? MPI_THREAD_MULTIPLE : MPI_THREAD_SINGLE;
    if (!initialized) MPI_Init_thread(NULL, NULL, wanted, &thread_level);
    else MPI_Query_thread(&thread_level);
    MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    MPI_Comm_dup(MPI_COMM_WORLD, &collective_world);
    MPI_Comm_rank(comm, &world_rank);
    MPI_Comm_size(comm, &world_size);
    int *tag_ub = NULL, found = 0;
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &tag_ub, &found);
    compact_frames = per_process == 1 && found && *tag_ub >= 0x7fffffff;
    heap_bytes = length & ~(size_t)63;
    /* Open MPI 4.1 finds no one-sided component for TCP links (across hosts; measured with
       MPI_THREAD_MULTIPLE and MPI_THREAD_SINGLE alike): the job then runs without windows, and only
       comm.alloc / fetchAndAdd say so (fetch_and_add). */
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    if (MPI_Win_create(heap, (MPI_Aint)heap_bytes, sizeof(int32_t), MPI_INFO_NULL, comm, &window) == MPI_SUCCESS)
      MPI_Win_lock_all(MPI_MODE_NOCHECK, window);
    else
      window = MPI_WIN_NULL;
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_ARE_FATAL);
    MPI_Barrier(comm);
    ready = true;
  }
  rank_threads++;
  pthread_mutex_unlock(&init_lock);
  int count = world_size * (per_process > 0 ? per_process : 1); /* one per channel: every rank of the job */
  if (slots == NULL) {
    slots = calloc(count, sizeof(Slot));
    posted = malloc(sizeof(MPI_Request) * count);
    for (int i = 0; i < count; i++) posted[i] = MPI_REQUEST_NULL;
    slot_count = count;
  }
  napi_value result, x;
  napi_create_array_with_length(env, 4, &result);
  napi_create_int32(env, world_rank, &x);
  napi_set_element(env, result, 0, x);
  napi_create_int32(env, world_size, &x);
  napi_set_element(env, result, 1, x);
  napi_create_int32(env, thread_level, &x);
  napi_set_element(env, result, 2, x);
  napi_create_int32(env, compact_frames ? COMPACT_MAX_BYTES : -1, &x);
  napi_set_element(env, result, 3, x);
  return result;
}

static napi_value bind_thread(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  void *staging = NULL;
  size_t capacity = 0, length = 0;
  if (napi_get_arraybuffer_info(env, a[0], &staging, &capacity) != napi_ok) return throw_error(env, "bindThread: the outgoing staging buffer is not an ArrayBuffer");
  int32_t *counts = (int32_t *)typed_bytes(env, a[1], &length);
  if (counts == NULL || length < sizeof(int32_t) * ((size_t)slot_count + ARM_WORDS))
    return throw_error(env, "bindThread: arrivals needs one int32 per slot and 8 arm words (init was not called on this thread?)");
  out_staging = staging;
  out_capacity = capacity;
  arrivals = counts;
  return undefined_value(env);
}

/*
 * Sends the small frame JavaScript wrote into the outgoing staging buffer: its first 16 bytes
 * say where (int32 destination process, MPI tag, frame bytes), the frame follows. No arguments:
 * reading three from Node-API took longer than the rest of the call's own work.
 */
static napi_value send(napi_env env, napi_callback_info info) {
  unsigned char *staging = out_staging;
  if (staging == NULL) return throw_error(env, "send: bindThread was not called on this thread");
  int32_t where[3];
  memcpy(where, staging, sizeof where);
  int dest = where[0], mpi_tag = where[1], total = where[2];
  bool compact = (mpi_tag & COMPACT_BIT) != 0;
  if (compact ? !compact_frames || total < 0 || total > COMPACT_MAX_BYTES : total < HEADER_BYTES || (size_t)total + SEND_DESCRIPTOR_BYTES > out_capacity)
    return throw_error(env, "send: no frame of that length in the outgoing staging buffer");
  unsigned char *frame = staging + SEND_DESCRIPTOR_BYTES;
  if (total <= EAGER_BYTES) MPI_Send(frame, total, MPI_BYTE, dest, mpi_tag, comm);
  else {
    unsigned char *copy = malloc((size_t)total);
    memcpy(copy, frame, (size_t)total);
    MPI_Request request;
    MPI_Isend(copy, total, MPI_BYTE, dest, mpi_tag, comm, &request);
    add_outgoing(request, copy);
    small_in_flight++;
  }
  reap_small();
  return NULL;
}

static napi_value send_large(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value b[7];
  napi_get_cb_info(env, info, &argc, b, NULL, NULL);
  int dest = arg_int(env, b[0]);
  int mpi_tag = arg_int(env, b[1]);
  napi_value *a = b + 1;
  size_t length;
  unsigned char *payload = typed_bytes(env, a[4], &length);
  double bytes = arg_double(env, a[5]);
  if (payload == NULL || bytes > (double)length) return throw_error(env, "sendLarge: byte length beyond the payload");
  if (bytes > 2147483647.0) return throw_error(env, "sendLarge: the MPI transport sends at most 2 GiB - 1 per message");
  int32_t header[4] = {arg_int(env, a[1]), arg_int(env, a[2]), arg_int(env, a[3]), (int32_t)(uint32_t)bytes};
  MPI_Send(header, HEADER_BYTES, MPI_BYTE, dest, mpi_tag, comm);
  MPI_Request request;
  MPI_Isend(payload, (int)bytes, MPI_BYTE, dest, mpi_tag + 1, comm, &request);
  napi_value result;
  napi_create_int32(env, add_outgoing(request, NULL), &result);
  return result;
}

static napi_value test_send(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  int handle = arg_int(env, a[0]);
  int flag = 1;
  if (handle >= 0 && handle < outgoing_count && outgoing[handle].request != MPI_REQUEST_NULL) {
    MPI_Test(&outgoing[handle].request, &flag, MPI_STATUS_IGNORE);
    if (flag) outgoing[handle].request = MPI_REQUEST_NULL;
  }
  reap_small();
  napi_value result;
  napi_get_boolean(env, flag != 0, &result);
  return result;
}

static napi_value bind(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  int slot = arg_int(env, a[0]);
  if (slot < 0 || slot >= slot_count) return throw_error(env, "bind: no such slot (init was not called on this thread?)");
  void *staging = NULL;
  size_t capacity = 0;
  if (napi_get_arraybuffer_info(env, a[3], &staging, &capacity) != napi_ok) return throw_error(env, "bind: the staging buffer is not an ArrayBuffer");
  Slot *s = &slots[slot];
  if (posted[slot] != MPI_REQUEST_NULL) return throw_error(env, "bind: the slot has a receive posted");
  s->source = arg_int(env, a[1]);
  s->mpi_tag = arg_int(env, a[2]);
  s->recv_tag = compact_frames ? MPI_ANY_TAG : s->mpi_tag;
  s->staging = staging;
  s->capacity = capacity > 2147483647 ? 2147483647 : (int)capacity;
  return undefined_value(env);
}

/*
 * A frame's byte length once the slot's receive completed. A compact frame (its header in the
 * MPI tag: bit 30, then context 10 bits, tag 15 bits, kind 5 bits) is unpacked into a frame as
 * any other: the payload moved behind a 16-byte header. Open MPI's shared-memory path takes
 * ~0.05-0.1 µs longer for anything over 8 bytes, so an 8-byte payload goes out as 8 bytes.
 */
static int arrived(const Slot *s, const MPI_Status *status) {
  int count = 0;
  MPI_Get_count(status, MPI_BYTE, &count);
  int tag = status->MPI_TAG;
  if ((tag & COMPACT_BIT) == 0) return count;
  memmove(s->staging + HEADER_BYTES, s->staging, (size_t)count);
  int32_t header[4] = {(tag >> 20) & 0x3ff, (tag >> 5) & 0x7fff, tag & 0x1f, count};
  memcpy(s->staging, header, sizeof header);
  return HEADER_BYTES + count;
}

/* The hot path of every wait: one int argument, MPI_Test of the slot's posted receive. */
static napi_value probe(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  int slot = arg_int(env, a[0]);
  if (slot < 0 || slot >= slot_count || slots[slot].staging == NULL) return throw_error(env, "probe: the slot was not bound");
  Slot *s = &slots[slot];
  if (posted[slot] == MPI_REQUEST_NULL) MPI_Irecv(s->staging, s->capacity, MPI_BYTE, s->source, s->recv_tag, comm, &posted[slot]);
  int flag = 0, count = 0;
  MPI_Status status;
  MPI_Test(&posted[slot], &flag, &status); /* sets it to MPI_REQUEST_NULL once complete */
  if (flag) count = arrived(s, &status);
  napi_value result;
  napi_create_int32(env, count, &result);
  return result;
}

static napi_value pending(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  int slot = arg_int(env, a[0]);
  int flag = 0;
  if (slot >= 0 && slot < slot_count && slots[slot].staging != NULL)
    MPI_Iprobe(slots[slot].source, slots[slot].recv_tag, comm, &flag, MPI_STATUS_IGNORE);
  napi_value result;
  napi_get_boolean(env, flag != 0, &result);
  return result;
}

/* Cancels this thread's posted receives (before MPI_Finalize). */
static void cancel_posted(void) {
  for (int i = 0; i < slot_count; i++) {
    if (posted[i] == MPI_REQUEST_NULL) continue;
    MPI_Cancel(&posted[i]);
    MPI_Wait(&posted[i], MPI_STATUS_IGNORE);
  }
}

static napi_value recv_payload(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value b[5];
  napi_get_cb_info(env, info, &argc, b, NULL, NULL);
  int source = arg_int(env, b[0]);
  int mpi_tag = arg_int(env, b[1]);
  napi_value *a = b + 1;
  size_t length;
  unsigned char *dest = typed_bytes(env, a[1], &length);
  double offset = arg_double(env, a[2]);
  double bytes = arg_double(env, a[3]);
  if (dest == NULL || offset + bytes > (double)length) return throw_error(env, "recvPayload: the destination is too short");
  MPI_Recv(dest + (size_t)offset, (int)bytes, MPI_BYTE, source, mpi_tag + 1, comm, MPI_STATUS_IGNORE);
  return undefined_value(env);
}

static napi_value fetch_and_add(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  int target = arg_int(env, a[0]);
  int index = arg_int(env, a[1]);
  int32_t value = arg_int(env, a[2]), old = 0;
  if (window == MPI_WIN_NULL)
    return throw_error(env, "fetchAndAddInt32: this MPI job has no one-sided windows (Open MPI found no RMA component for its links, as across hosts over TCP): comm.alloc windows and fetchAndAdd need ranks on one host");
  if (index < 0 || (size_t)index >= heap_bytes / 4) return throw_error(env, "fetchAndAddInt32: index outside the window");
  MPI_Fetch_and_op(&value, &old, MPI_INT32_T, target, index, MPI_SUM, window);
  MPI_Win_flush(target, window);
  napi_value result;
  napi_create_int32(env, old, &result);
  return result;
}

/*
 * Native allgathers, bound once per rankflow communicator (allgatherBind): the group, the send
 * and receive buffers and the MPI tag, checked once. A call (allgather) then only copies this
 * process's own slot, sends it to every other process and posts one receive per other process,
 * on collective_world with the communicator's tag: no typed-array lookups (~70 ns each through
 * Node-API), nothing checked again. Small slots go out with MPI_Send (Open MPI's eager protocol
 * and its inline path: it returns at once) before the receives are posted: ~0.05 µs less per
 * call than MPI_Irecv + MPI_Isend + MPI_Testall here, ~0.3 µs less than persistent requests
 * (MPI_Start skips that inline path). No MPI communicator is created — that would be a blocking
 * collective, which could wait for a process that is itself waiting for this one's progress —
 * and no MPI collective is used (MPI_Iallgather costs libnbc's schedule, ~0.2 µs more for 8
 * bytes here). Successive allgathers with one tag match in order (same source, tag and
 * communicator never overtake).
 */
typedef struct {
  int tag, size, me;
  int32_t *ranks;              /* the group's MPI ranks (a copy), or NULL: every process */
  unsigned char *send, *recv;
  size_t bytes;                /* per process */
  double nanos;                /* how long a run polls before returning false */
  bool live;                   /* false once this thread finalized (the record stays: its run function points at it) */
  MPI_Request *requests;       /* room for a receive and a send per other process */
  MPI_Status *statuses;        /* the requests' statuses once all are complete */
  int count;                   /* requests of the run in flight: large sends, then a receive per other process */
  bool compact;                /* slots may travel compact (see gather_tag): receives match any tag */
  napi_ref send_ref, recv_ref; /* keep both buffers alive while bound */
} Gather;
/* This thread's bound allgathers (freed at finalize). */
static __thread Gather **gathers = NULL;
static __thread int gathers_count = 0, gathers_capacity = 0;

/* The native allgather in flight on this thread (one at a time), or NULL. */
static __thread Gather *gather_in_flight = NULL;

/*
 * A slot starts with four int32 words: what it holds (< 16), its length (< 16), the call's sequence
 * number, and 1 when its payload fits the 8 bytes after that 16-byte header. Such a slot travels
 * compact, as its 8 payload bytes alone, its header in the MPI tag: bit 30, the gather's tag (14
 * bits), the two small words (4 bits each) and the sequence number's low 8 bits. As for frames,
 * Open MPI's shared-memory path is ~0.1 µs slower for 80 bytes than for 8 (in C, 2 processes).
 */
static int gather_tag(const Gather *g) {
  const int32_t *h = (const int32_t *)g->send;
  if (!g->compact || h[3] != 1 || (uint32_t)h[0] > 15 || (uint32_t)h[1] > 15) return -1;
  return COMPACT_BIT | (g->tag << 16) | (h[0] << 12) | (h[1] << 8) | (h[2] & 0xff);
}

/*
 * Rebuilds the slots that arrived compact (once every request is complete): the payload moved
 * behind its header, the sequence number taken as the one nearest this process's own. A slot of
 * another communicator's allgather (a peer that called collectives in another order) gets the
 * sequence number -1: the caller reports the ranks out of step.
 */
static void unpack_slots(const Gather *g) {
  const int32_t own = ((const int32_t *)g->send)[2];
  for (int k = 1; k < g->size; k++) {
    int from = (g->me - k + g->size) % g->size;
    /* A compact gather's slots fit EAGER_BYTES: it has no send requests, so its receives come first. */
    int tag = g->statuses[k - 1].MPI_TAG;
    int32_t *slot = (int32_t *)(g->recv + (size_t)from * g->bytes);
    if (tag == g->tag) continue;
    if ((tag & COMPACT_BIT) == 0 || ((tag >> 16) & 0x3fff) != g->tag) {
      slot[2] = -1;
      continue;
    }
    memmove((unsigned char *)slot + HEADER_BYTES, slot, COMPACT_MAX_BYTES);
    slot[0] = (tag >> 12) & 0xf;
    slot[1] = (tag >> 8) & 0xf;
    slot[2] = own + (int8_t)(uint8_t)((tag & 0xff) - (own & 0xff));
    slot[3] = 1;
  }
}

/* Nanoseconds since `t0` (CLOCK_MONOTONIC): the polling loops' time limit. */
static double nanos_since(const struct timespec *t0) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - t0->tv_sec) * 1e9 + (double)(now.tv_nsec - t0->tv_nsec);
}

/*
 * Tests the allgather in flight for about `nanos` (a tight loop in C; the clock is first read after
 * 16 tests, so one that completes at once costs no clock read); true once complete (then none is
 * in flight).
 */
static bool gather_poll(double nanos) {
  Gather *g = gather_in_flight; /* the thread-local read once: each read is a __tls_get_addr call in an addon */
  int flag = g == NULL || g->count == 0;
  struct timespec t0 = {0, 0};
  MPI_Status *statuses = g != NULL && g->compact ? g->statuses : MPI_STATUSES_IGNORE;
  for (unsigned rounds = 0; !flag; rounds++) {
    MPI_Testall(g->count, g->requests, &flag, statuses);
    if (flag || (rounds & 15) != 15) continue;
    if (rounds == 15) clock_gettime(CLOCK_MONOTONIC, &t0);
    else if (nanos_since(&t0) > nanos) break;
  }
  if (flag) {
    if (statuses != MPI_STATUSES_IGNORE) unpack_slots(g);
    gather_in_flight = NULL;
  }
  return flag != 0;
}

static napi_value allgather_run(napi_env env, napi_callback_info info);

/*
 * allgatherBind(tag, ranks: Int32Array | null, send: Uint8Array, recv: Uint8Array, nanos) -> run:
 * binds an allgather of send's bytes among the processes `ranks` (their MPI ranks in the
 * communicator's order; null: every process) into recv (that order), with MPI tag `tag` (one per
 * rankflow communicator), and returns the function that runs it (the bound state is its data, so
 * a call passes nothing: the leanest Node-API call). Checked here once: the tag, this process's
 * place in the group, recv's length.
 */
static napi_value allgather_bind(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  int tag = arg_int(env, a[0]);
  if (!ready || done) return throw_error(env, "allgatherBind: MPI is not initialized");
  size_t group_bytes = 0, send_bytes = 0, recv_bytes = 0;
  int32_t *ranks = (int32_t *)typed_bytes(env, a[1], &group_bytes);
  unsigned char *send = typed_bytes(env, a[2], &send_bytes);
  unsigned char *recv = typed_bytes(env, a[3], &recv_bytes);
  double nanos = arg_double(env, a[4]);
  int size = ranks == NULL ? world_size : (int)(group_bytes / 4);
  int me = ranks == NULL ? world_rank : -1;
  for (int i = 0; me < 0 && i < size; i++)
    if (ranks[i] == world_rank) me = i;
  if (me < 0) return throw_error(env, "allgatherBind: this process is not in the group");
  if (tag < 0 || tag > 32767 * 65536) return throw_error(env, "allgatherBind: tag out of range");
  if (send == NULL || recv == NULL || send_bytes == 0 || send_bytes > INT32_MAX || recv_bytes < send_bytes * (size_t)size)
    return throw_error(env, "allgatherBind: the receive buffer is too short");
  if (gathers_count == gathers_capacity) {
    gathers_capacity = gathers_capacity == 0 ? 8 : gathers_capacity * 2;
    gathers = realloc(gathers, sizeof(Gather *) * gathers_capacity);
  }
  Gather *g = malloc(sizeof(Gather));
  gathers[gathers_count++] = g;
  g->tag = tag;
  g->size = size;
  g->me = me;
  g->ranks = NULL;
  if (ranks != NULL) {
    g->ranks = malloc(sizeof(int32_t) * size);
    memcpy(g->ranks, ranks, sizeof(int32_t) * size);
  }
  g->send = send;
  g->recv = recv;
  g->bytes = send_bytes;
  g->nanos = nanos;
  g->live = true;
  g->requests = malloc(sizeof(MPI_Request) * 2 * (size > 1 ? size - 1 : 1));
  g->statuses = malloc(sizeof(MPI_Status) * 2 * (size > 1 ? size - 1 : 1));
  g->count = 0;
  g->compact = compact_frames && tag < (1 << 14) && send_bytes >= HEADER_BYTES + COMPACT_MAX_BYTES && send_bytes <= EAGER_BYTES;
  napi_create_reference(env, a[2], 1, &g->send_ref);
  napi_create_reference(env, a[3], 1, &g->recv_ref);
  napi_value run;
  napi_create_function(env, "allgather", NAPI_AUTO_LENGTH, allgather_run, g, &run);
  return run;
}

/*
 * run() -> boolean (the function allgatherBind returns): runs its allgather with send's current
 * bytes, polling it in C for about the bound nanos (the peers are usually there already): true
 * once complete, else its receives (and large sends) stay in flight for allgatherTest. One at a
 * time per thread.
 */
static napi_value allgather_run(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  void *data = NULL;
  napi_get_cb_info(env, info, &argc, NULL, NULL, &data);
  Gather *g = data;
  if (!g->live) return throw_error(env, "allgather: MPI was finalized on this thread");
  if (gather_in_flight != NULL) return throw_error(env, "allgather: an allgather is already in flight on this thread");
  const int size = g->size, me = g->me, bytes = (int)g->bytes;
  memcpy(g->recv + (size_t)me * g->bytes, g->send, g->bytes);
  const int compact_tag = gather_tag(g);
  int n = 0;
  for (int k = 1; k < size; k++) {
    int to = (me + k) % size;
    int dest = g->ranks == NULL ? to : g->ranks[to];
    if (compact_tag >= 0) MPI_Send(g->send + HEADER_BYTES, COMPACT_MAX_BYTES, MPI_BYTE, dest, compact_tag, collective_world);
    else if (g->bytes <= EAGER_BYTES) MPI_Send(g->send, bytes, MPI_BYTE, dest, g->tag, collective_world);
    else MPI_Isend(g->send, bytes, MPI_BYTE, dest, g->tag, collective_world, &g->requests[n++]);
  }
  for (int k = 1; k < size; k++) {
    int from = (me - k + size) % size;
    int source = g->ranks == NULL ? from : g->ranks[from];
    MPI_Irecv(g->recv + (size_t)from * g->bytes, bytes, MPI_BYTE, source, g->compact ? MPI_ANY_TAG : g->tag, collective_world, &g->requests[n++]);
  }
  g->count = n;
  gather_in_flight = g;
  napi_value result;
  napi_get_boolean(env, gather_poll(g->nanos), &result);
  return result;
}

/* allgatherTest(nanos) -> boolean: polls the allgather in flight for up to nanos; true once complete. */
static napi_value allgather_test(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  napi_value result;
  napi_get_boolean(env, gather_poll(arg_double(env, a[0])), &result);
  return result;
}

/* True once `request` is complete, without completing it (its owner's test does that). */
static bool complete(MPI_Request *request) {
  int flag = 0;
  MPI_Request_get_status(*request, &flag, MPI_STATUS_IGNORE);
  return flag != 0;
}

/* This thread's requests a wait can end on, copied out of thread-local storage once per wait
   (each access to a __thread variable of a shared library is a call to __tls_get_addr). */
typedef struct {
  MPI_Request *posted;
  int slots;
  Outgoing *outgoing;
  int outgoing_count;
  MPI_Request *gather;
  int gather_count;
} Waitable;

/* Something a large send or the allgather in flight waits for has happened. */
static bool sends_or_gather_moved(const Waitable *w) {
  for (int i = 0; i < w->outgoing_count; i++)
    if (w->outgoing[i].buffer == NULL && w->outgoing[i].request != MPI_REQUEST_NULL && complete(&w->outgoing[i].request)) return true;
  if (w->gather_count == 0) return false;
  for (int i = 0; i < w->gather_count; i++)
    if (!complete(&w->gather[i])) return false;
  return true;
}

/*
 * A receive the engine armed for the wait (waitInto): the next small frame of `slot` that has the
 * context, the tag (or any, when negative), the kind and at most `max` payload bytes is copied
 * straight into `dest` by the wait, as MPI does into a posted receive's buffer, and never shown to
 * JavaScript as a frame. `spec` is the thread's arm words (after its arrivals): the wait writes
 * there what it delivered.
 */
typedef struct {
  int slot, context, tag, kind, max;
  unsigned char *dest;
  int32_t *spec;
} Armed;

/* Delivers the frame just received into the armed slot's staging (`n` bytes) when it is the armed one. */
static bool deliver(const Armed *a, const Slot *s, int n) {
  const int32_t *h = (const int32_t *)s->staging;
  int bytes = h[3];
  if (n != HEADER_BYTES + bytes || h[0] != a->context || (a->tag >= 0 && h[1] != a->tag) || h[2] != a->kind || bytes > a->max) return false;
  if (bytes > 0) memcpy(a->dest, s->staging + HEADER_BYTES, (size_t)bytes);
  a->spec[ARM_DELIVERED] = bytes;
  a->spec[ARM_DELIVERED_TAG] = h[1];
  return true;
}

/*
 * The MPI bell's sleep: polls, for up to `nanos`, every receive this thread has posted (one per
 * channel), its large sends and its allgather, and returns true as soon as one completes. A
 * completed receive's byte length goes to arrivals[slot] (JavaScript reads it instead of calling
 * probe). A bound slot with nothing posted holds a frame JavaScript has not taken yet: then a
 * message queued behind it (MPI_Iprobe) also ends the wait, so the engine can move it aside.
 * Open MPI's progress yields the core on each poll when mpirun asks it to (oversubscribed); past
 * YIELD_AFTER_NS this loop also yields every 16 polls, for other work on a busy machine. The wait
 * of waitAny and waitInto (`armed`: NULL, or the receive to deliver into its destination).
 */
static bool wait_loop(double nanos, const Armed *armed) {
  int32_t *counts = arrivals;
  const Gather *gather = gather_in_flight;
  const Waitable w = {posted, slot_count, outgoing, outgoing_count, gather == NULL ? NULL : gather->requests, gather == NULL ? 0 : gather->count};
  const Slot *bound = slots;
  bool held = false, waiting = w.gather_count > 0;
  for (int i = 0; i < w.slots; i++) {
    if (bound[i].staging == NULL) continue;
    if (w.posted[i] == MPI_REQUEST_NULL) held = true;
    else waiting = true;
  }
  for (int i = 0; !waiting && i < w.outgoing_count; i++) waiting = w.outgoing[i].buffer == NULL && w.outgoing[i].request != MPI_REQUEST_NULL;
  bool moved = false;
  if (!waiting && !held) sched_yield(); /* nothing MPI could complete: give the core away once */
  struct timespec t0 = {0, 0};
  for (unsigned rounds = 0; !moved && (waiting || held); rounds++) {
    int flag = 0, index = MPI_UNDEFINED;
    MPI_Status status;
    MPI_Testany(w.slots, w.posted, &index, &flag, &status);
    if (flag && index != MPI_UNDEFINED) {
      int n = arrived(&bound[index], &status);
      counts[index] = armed != NULL && index == armed->slot && deliver(armed, &bound[index], n) ? 0 : n;
      moved = true;
    } else if (sends_or_gather_moved(&w)) moved = true;
    else if (held) {
      MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm, &flag, MPI_STATUS_IGNORE);
      moved = flag != 0;
    }
    if (moved || (rounds & 15) != 15) continue;
    /* The clock is first read after 16 polls: an arrival that is already there costs no clock read. */
    if (rounds == 15) {
      clock_gettime(CLOCK_MONOTONIC, &t0);
      continue;
    }
    double waited = nanos_since(&t0);
    if (waited > nanos) break;
    /* A long wait lets whatever else is runnable on this core go first (a busy machine). */
    if (waited > YIELD_AFTER_NS) sched_yield();
  }
  return moved;
}

static napi_value wait_any(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  double nanos = arg_double(env, a[0]);
  if (arrivals == NULL) return throw_error(env, "waitAny: bindThread was not called on this thread");
  napi_value result;
  napi_get_boolean(env, wait_loop(nanos, NULL), &result);
  return result;
}

/*
 * waitInto(dest: TypedArray, nanos) -> boolean: waitAny with the receive described by the arm words
 * armed (see Armed): a frame it delivers into dest leaves its payload bytes and tag in the arm
 * words and 0 in arrivals[slot] (else the words say -1 and the frame is shown as waitAny does).
 */
static napi_value wait_into(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (arrivals == NULL) return throw_error(env, "waitInto: bindThread was not called on this thread");
  int32_t *spec = arrivals + slot_count;
  size_t length = 0;
  unsigned char *dest = typed_bytes(env, a[0], &length);
  Armed armed = {spec[ARM_SLOT], spec[ARM_CONTEXT], spec[ARM_TAG], spec[ARM_KIND], spec[ARM_MAX], dest, spec};
  if (armed.slot < 0 || armed.slot >= slot_count || armed.max < 0 || (size_t)armed.max > length || (dest == NULL && armed.max > 0))
    return throw_error(env, "waitInto: no slot, or a destination shorter than the armed length");
  spec[ARM_DELIVERED] = -1;
  napi_value result;
  napi_get_boolean(env, wait_loop(arg_double(env, a[1]), &armed), &result);
  return result;
}

/* At finalize: cancels what is left of an allgather in flight (a failing rank) and frees every bound one (their run functions then throw). */
static void free_gathers(napi_env env) {
  const Gather *in_flight = gather_in_flight;
  for (int i = 0; in_flight != NULL && i < in_flight->count; i++) {
    int flag = 0;
    MPI_Test(&in_flight->requests[i], &flag, MPI_STATUS_IGNORE);
    if (flag) continue;
    MPI_Cancel(&in_flight->requests[i]);
    MPI_Request_free(&in_flight->requests[i]);
  }
  for (int i = 0; i < gathers_count; i++) {
    Gather *g = gathers[i];
    free(g->ranks);
    free(g->requests);
    free(g->statuses);
    napi_delete_reference(env, g->send_ref);
    napi_delete_reference(env, g->recv_ref);
    /* The run function may outlive finalize: it keeps pointing at this record, which refuses to run. */
    g->live = false;
    g->ranks = NULL;
    g->requests = NULL;
    g->statuses = NULL;
  }
  free(gathers);
  gathers = NULL;
  gathers_count = gathers_capacity = 0;
  gather_in_flight = NULL;
}

static napi_value abort_job(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  int code = argc > 0 ? arg_int(env, a[0]) : 1;
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, code);
  _exit(code);
  return NULL;
}

static napi_value finalize(napi_env env, napi_callback_info info) {
  reap_small();
  if (ready && !done) {
    cancel_posted();
    free_gathers(env);
  }
  pthread_mutex_lock(&init_lock);
  /* The last rank thread of the process to finish closes MPI (collective with the other processes). */
  if (ready && !done && --rank_threads == 0) {
    if (window != MPI_WIN_NULL) {
      MPI_Win_unlock_all(window);
      MPI_Win_free(&window);
    }
    MPI_Comm_free(&collective_world);
    MPI_Comm_free(&comm);
    MPI_Finalize();
    done = true;
  }
  pthread_mutex_unlock(&init_lock);
  return undefined_value(env);
}

static napi_value finalized(napi_env env, napi_callback_info info) {
  napi_value result;
  napi_get_boolean(env, done, &result);
  return result;
}

static napi_value initialized(napi_env env, napi_callback_info info) {
  napi_value result;
  napi_get_boolean(env, ready && !done, &result);
  return result;
}

static napi_value yield_thread(napi_env env, napi_callback_info info) {
  sched_yield();
  return NULL;
}

static napi_value wtime(napi_env env, napi_callback_info info) {
  napi_value result;
  napi_create_double(env, MPI_Wtime(), &result);
  return result;
}

static void define(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

NAPI_MODULE_INIT() {
  define(env, exports, "init", init);
  define(env, exports, "bindThread", bind_thread);
  define(env, exports, "send", send);
  define(env, exports, "sendLarge", send_large);
  define(env, exports, "testSend", test_send);
  define(env, exports, "bind", bind);
  define(env, exports, "probe", probe);
  define(env, exports, "pending", pending);
  define(env, exports, "recvPayload", recv_payload);
  define(env, exports, "fetchAndAddInt32", fetch_and_add);
  define(env, exports, "allgatherBind", allgather_bind);
  define(env, exports, "allgatherTest", allgather_test);
  define(env, exports, "waitAny", wait_any);
  define(env, exports, "waitInto", wait_into);
  define(env, exports, "abort", abort_job);
  define(env, exports, "finalize", finalize);
  define(env, exports, "finalized", finalized);
  define(env, exports, "initialized", initialized);
  define(env, exports, "yieldThread", yield_thread);
  define(env, exports, "wtime", wtime);
  return exports;
}
