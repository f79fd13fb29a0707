{
  "targets": [
    {
      "target_name": "dms_udp",
      "sources": ["src/udp_batch.cc"],
      "cflags_cc": ["-O2", "-std=c++17", "-fno-exceptions", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
