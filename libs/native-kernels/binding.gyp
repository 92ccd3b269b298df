{
  "targets": [
    {
      "target_name": "fedseg_native",
      "sources": ["src/addon.cc", "src/conv3d.cc", "src/conv3d-direct.cc", "src/elementwise.cc", "src/plan-store.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fexceptions", "-fopenmp"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++17"],
      "defines": ["NAPI_VERSION=8"],
      "libraries": ["-ldnnl", "-fopenmp"]
    }
  ]
}
