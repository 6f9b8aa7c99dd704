# Unit tests (Check). Each part of the engine has its own fragment.
include unit/eno.mk
include unit/crypto.mk
include unit/tcd.mk
