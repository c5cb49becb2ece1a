{
  "targets": [
    {
      "target_name": "rankflow_native",
      "sources": ["native/kernels.c", "native/heap_guard.cc"],
      "cflags": ["-O3"]
    }
  ]
}
