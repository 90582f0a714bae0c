{
  "targets": [
    {
      "target_name": "wirelab_net",
      "sources": ["native/wirelab_net.cc"],
      "cflags_cc": ["-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    }
  ]
}
