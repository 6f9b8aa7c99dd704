# shim/shim tests
