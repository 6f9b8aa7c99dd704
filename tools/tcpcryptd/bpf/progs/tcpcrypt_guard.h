/*
 * tcpcrypt_guard.h - the guard's maps, shared by the ENO programs
 * (tcpcrypt_eno.bpf.c: the sock_ops program enrols each negotiated socket,
 * the setsockopt program takes the shim's grants) and the optional guard
 * program (tcpcrypt_guard.bpf.c: sk_msg, refuses what was not granted).
 * BPF-side only.
 */
#ifndef TCPCRYPT_GUARD_H
#define TCPCRYPT_GUARD_H

#include <linux/types.h>

/* Names of the pinned maps under the pin dir. */
#define TC_MAP_GUARD       "tc_guard"
#define TC_MAP_GUARD_SOCKS "tc_guard_socks"

/* Per guarded socket: the bytes that may still be written. */
struct tc_guard {
	__u64 allow;
};

#ifdef __bpf__
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tc_guard);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tc_guard SEC(".maps");

/* The guarded sockets (key: socket cookie). The sk_msg program is attached
 * to this map, so every sendmsg on a member (write, send*, sendfile,
 * splice, io_uring) runs it. A closed socket leaves the map by itself. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tc_guard_socks SEC(".maps");
#endif

#endif /* TCPCRYPT_GUARD_H */
