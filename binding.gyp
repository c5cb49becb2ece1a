{
  "targets": [
    {
      "target_name": "rankflow_copy",
      "sources": ["native/copy.c"],
      "cflags": ["-O3"]
    }
  ]
}
