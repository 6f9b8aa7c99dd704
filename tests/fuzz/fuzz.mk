# fuzz/fuzz tests
