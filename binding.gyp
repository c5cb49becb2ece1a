{
  "variables": {
    "heap_guard%": 1
  },
  "targets": [
    {
      "target_name": "rankflow_native",
      "sources": ["native/kernels.c"],
      "cflags": ["-O3"],
      "conditions": [
        ["heap_guard==1", { "sources": ["native/heap_guard.cc"], "defines": ["RANKFLOW_HEAP_GUARD"] }]
      ]
    }
  ]
}
