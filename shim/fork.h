/*
 * fork.h - fork() and exec: the session state is shared with a forked
 * child (MAP_SHARED), so the child takes a process reference on each
 * connection; an exec'ing process gives its references up.
 */
#ifndef TC_SHIM_FORK_H
#define TC_SHIM_FORK_H

#include <sys/types.h>

/* The pid of this process as the shim knows it (set at start and in the
 * atfork child handler): a vfork or posix_spawn child sees another
 * getpid() and must leave the shared state alone. */
extern pid_t tc_pid;

/* Registers the pthread_atfork handlers. */
void tc_fork_init(void);
/* Adds delta to this process's reference on every connection it holds. */
void tc_fork_proc_refs(int delta);
/* Start of a new image (constructor): adopts the connections the previous
 * image handed over across exec (TCPCRYPT_INHERIT, see exec.c). */
void tc_exec_adopt(void);
/* Start of a new image started by posix_spawn from a process holding
 * connections: closes the encrypted ones it inherited (spawn.c). */
void tc_spawn_check(void);

#endif
