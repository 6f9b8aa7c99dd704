/*
 * bypass.c - writes and reads a connection through the calls that go
 * around the usual socket functions: pwritev2/preadv2 (offset -1),
 * pwrite/pwritev with an offset, the C library's syscall() with the socket
 * system call numbers, and io_uring (set up through syscall(), as liburing
 * built on the C library does).
 *
 *   bypass server PORT MODE        accepts one connection, reads it to EOF
 *                                  through MODE, prints the bytes on stdout
 *   bypass client HOST PORT MODE MARKER
 *                                  connects, writes MARKER through MODE,
 *                                  prints "MODE: N" or "MODE: -1 ERRNO"
 *
 * Read modes: read preadv2 syscall-read syscall-readv syscall-recvfrom
 * syscall-recvmsg syscall-preadv2, and syscall-accept (accept through
 * syscall(SYS_accept4), then read()). Write modes: pwritev2
 * pwritev2-nowait pwritev2-dontcache pwrite pwritev syscall-write syscall-writev
 * syscall-sendto syscall-sendmsg syscall-pwritev2, syscall-dup (write()
 * on a syscall(SYS_dup) of the connection), syscall-connect (connect
 * through syscall(SYS_connect), then write()), io_uring. For io_uring the
 * client prints "io_uring setup: ..." first; a refused setup falls back
 * to write() as programs do.
 * Exit status: 0, or 2 on a setup error (socket, connect...).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/io_uring.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "bypass: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void result(const char *mode, long r, int err)
{
	if (r < 0)
		printf("%s: -1 %s\n", mode, strerrorname_np(err));
	else
		printf("%s: %ld\n", mode, r);
	fflush(stdout);
}

/* One read through mode; returns what read() would. */
static long read_via(const char *mode, int fd, char *buf, size_t n)
{
	struct iovec iov = { buf, n };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (strcmp(mode, "read") == 0 || strcmp(mode, "syscall-accept") == 0)
		return read(fd, buf, n);
	if (strcmp(mode, "preadv2") == 0)
		return preadv2(fd, &iov, 1, -1, 0);
	if (strcmp(mode, "syscall-read") == 0)
		return syscall(SYS_read, fd, buf, n);
	if (strcmp(mode, "syscall-readv") == 0)
		return syscall(SYS_readv, fd, &iov, 1);
	if (strcmp(mode, "syscall-recvfrom") == 0)
		return syscall(SYS_recvfrom, fd, buf, n, 0, NULL, NULL);
	if (strcmp(mode, "syscall-recvmsg") == 0)
		return syscall(SYS_recvmsg, fd, &m, 0);
	if (strcmp(mode, "syscall-preadv2") == 0)
		return syscall(SYS_preadv2, fd, &iov, 1, -1L, -1L, 0);
	fprintf(stderr, "bypass: unknown read mode %s\n", mode);
	exit(2);
}

static int server(const char *port, const char *mode)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	int one = 1, ls, fd;
	char buf[4096];
	long r;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0)
		die("listen");
	if (strcmp(mode, "syscall-accept") == 0)
		fd = (int)syscall(SYS_accept4, ls, NULL, NULL, 0);
	else
		fd = accept(ls, NULL, NULL);
	if (fd < 0)
		die("accept");
	while ((r = read_via(mode, fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)r, stdout);
	if (r < 0)
		fprintf(stderr, "bypass: %s: %s\n", mode, strerror(errno));
	fflush(stdout);
	close(fd);
	close(ls);
	return 0;
}

/* Sends buf on fd with one IORING_OP_SEND on ring rfd (set up by the
 * caller with p); returns the completion's result (bytes or -errno). */
static long uring_send(int rfd, const struct io_uring_params *p, int fd, const char *buf, size_t n)
{
	size_t sq_sz = p->sq_off.array + p->sq_entries * sizeof(unsigned);
	size_t cq_sz = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
	size_t sz = sq_sz > cq_sz ? sq_sz : cq_sz;
	uint8_t *sq, *cq;
	struct io_uring_sqe *sqes;
	unsigned tail, idx;
	long r;

	sq = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, rfd, IORING_OFF_SQ_RING);
	if (sq == MAP_FAILED)
		return -errno;
	cq = (p->features & IORING_FEAT_SINGLE_MMAP) ? sq :
	     mmap(NULL, cq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, rfd, IORING_OFF_CQ_RING);
	if (cq == MAP_FAILED)
		return -errno;
	sqes = mmap(NULL, p->sq_entries * sizeof(*sqes), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
	            rfd, IORING_OFF_SQES);
	if (sqes == MAP_FAILED)
		return -errno;
	tail = *(unsigned *)(sq + p->sq_off.tail);
	idx = tail & *(unsigned *)(sq + p->sq_off.ring_mask);
	memset(&sqes[idx], 0, sizeof(sqes[idx]));
	sqes[idx].opcode = IORING_OP_SEND;
	sqes[idx].fd = fd;
	sqes[idx].addr = (uint64_t)(uintptr_t)buf;
	sqes[idx].len = (uint32_t)n;
	((unsigned *)(sq + p->sq_off.array))[idx] = idx;
	__atomic_store_n((unsigned *)(sq + p->sq_off.tail), tail + 1, __ATOMIC_RELEASE);
	r = syscall(SYS_io_uring_enter, rfd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0);
	if (r < 0)
		return -errno;
	{
		unsigned head = __atomic_load_n((unsigned *)(cq + p->cq_off.head), __ATOMIC_ACQUIRE);
		struct io_uring_cqe *cqes = (struct io_uring_cqe *)(cq + p->cq_off.cqes);

		if (head == __atomic_load_n((unsigned *)(cq + p->cq_off.tail), __ATOMIC_ACQUIRE))
			return -EIO;
		r = cqes[head & *(unsigned *)(cq + p->cq_off.ring_mask)].res;
	}
	return r;
}

/* One write of buf through mode; prints the result. */
static void write_via(const char *mode, int fd, const char *buf, size_t n)
{
	struct iovec iov = { (void *)buf, n };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	long r;

	if (strcmp(mode, "pwritev2") == 0)
		r = pwritev2(fd, &iov, 1, -1, 0);
	else if (strcmp(mode, "pwritev2-nowait") == 0)
		r = pwritev2(fd, &iov, 1, -1, RWF_NOWAIT);
	else if (strcmp(mode, "pwritev2-dontcache") == 0)
		r = pwritev2(fd, &iov, 1, -1, 0x80);          /* RWF_DONTCACHE: not on sockets */
	else if (strcmp(mode, "pwrite") == 0)
		r = pwrite(fd, buf, n, 0);
	else if (strcmp(mode, "pwritev") == 0)
		r = pwritev(fd, &iov, 1, 0);
	else if (strcmp(mode, "syscall-write") == 0)
		r = syscall(SYS_write, fd, buf, n);
	else if (strcmp(mode, "syscall-writev") == 0)
		r = syscall(SYS_writev, fd, &iov, 1);
	else if (strcmp(mode, "syscall-sendto") == 0)
		r = syscall(SYS_sendto, fd, buf, n, 0, NULL, 0);
	else if (strcmp(mode, "syscall-sendmsg") == 0)
		r = syscall(SYS_sendmsg, fd, &m, 0);
	else if (strcmp(mode, "syscall-pwritev2") == 0)
		r = syscall(SYS_pwritev2, fd, &iov, 1, -1L, -1L, 0);
	else if (strcmp(mode, "syscall-dup") == 0) {
		int d = (int)syscall(SYS_dup, fd);

		r = d < 0 ? -1 : write(d, buf, n);
		if (d >= 0)
			close(d);
	} else if (strcmp(mode, "syscall-connect") == 0)
		r = write(fd, buf, n);
	else if (strcmp(mode, "io_uring") == 0) {
		struct io_uring_params p;
		int rfd;

		memset(&p, 0, sizeof(p));
		rfd = (int)syscall(SYS_io_uring_setup, 4, &p);
		result("io_uring setup", rfd < 0 ? -1 : 0, errno);
		if (rfd < 0) {
			r = write(fd, buf, n);        /* the program's fallback */
		} else {
			r = uring_send(rfd, &p, fd, buf, n);
			if (r < 0) {
				errno = (int)-r;
				r = -1;
			}
			close(rfd);
		}
	} else {
		fprintf(stderr, "bypass: unknown write mode %s\n", mode);
		exit(2);
	}
	result(mode, r, errno);
}

static int client(const char *host, const char *port, const char *mode, const char *marker)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai;
	int fd;

	if (getaddrinfo(host, port, &hints, &ai) != 0)
		die("getaddrinfo");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	if (strcmp(mode, "syscall-connect") == 0) {
		if (syscall(SYS_connect, fd, ai->ai_addr, ai->ai_addrlen) < 0)
			die("connect");
	} else if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		die("connect");
	}
	freeaddrinfo(ai);
	write_via(mode, fd, marker, strlen(marker));
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && strcmp(argv[1], "server") == 0)
		return server(argv[2], argv[3]);
	if (argc == 6 && strcmp(argv[1], "client") == 0)
		return client(argv[2], argv[3], argv[4], argv[5]);
	fprintf(stderr, "usage: bypass server PORT MODE | bypass client HOST PORT MODE MARKER\n");
	return 2;
}
