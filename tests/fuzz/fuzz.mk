# fuzz harnesses (libFuzzer, built with clang when present)
