# connection setup benchmark
