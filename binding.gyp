{
  "targets": [
    {
      "target_name": "rankflow_native",
      "sources": ["native/kernels.c"],
      "cflags": ["-O3"]
    }
  ]
}
