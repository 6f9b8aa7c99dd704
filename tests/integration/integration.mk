# Integration tests (root, network namespaces).
include integration/eno.mk
