/*
 * fork.h - fork() and exec: the session state is shared with a forked
 * child (MAP_SHARED), so the child takes a process reference on each
 * connection; an exec'ing process gives its references up.
 */
#ifndef TC_SHIM_FORK_H
#define TC_SHIM_FORK_H

/* Registers the pthread_atfork handlers. */
void tc_fork_init(void);

#endif
