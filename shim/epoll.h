/*
 * epoll.h - the fork handlers of epoll.c's registration table: its lock is
 * held across fork() so that a child never inherits it held by a thread
 * that does not exist in the child (a deadlock in its next epoll_ctl).
 */
#ifndef TC_SHIM_EPOLL_H
#define TC_SHIM_EPOLL_H

void tc_epoll_atfork_prepare(void);
void tc_epoll_atfork_parent(void);
void tc_epoll_atfork_child(void);

#endif
