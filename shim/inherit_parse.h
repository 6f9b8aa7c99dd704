/*
 * inherit_parse.h - the syntax of TCPCRYPT_INHERIT (exec.c): entries
 * "memfd:inode:fd[.fd...]" separated by commas. Pure parsing, no I/O: the
 * variable comes from the environment, which the previous program (or
 * anyone who starts this one) controls.
 */
#ifndef TC_SHIM_INHERIT_PARSE_H
#define TC_SHIM_INHERIT_PARSE_H

/* Highest fd number an entry may name. */
#define TC_INHERIT_FD_MAX (1L << 20)

/* Parses the head "memfd:inode:" of the entry ent: *mfd (0..TC_INHERIT_FD_MAX)
 * and *ino. Returns the fd list after it, or NULL if the head is malformed. */
const char *tc_inherit_head(const char *ent, long *mfd, unsigned long *ino);

/* The next fd of the list at p ("fd.fd..."): sets *fd (0..TC_INHERIT_FD_MAX)
 * and returns where the list goes on, or NULL at its end or at a malformed
 * fd. The pointer returned is always past p. */
const char *tc_inherit_next_fd(const char *p, long *fd);

#endif
