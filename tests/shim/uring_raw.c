/*
 * uring_raw.c - writes a marker on a connection through io_uring set up
 * with inline `syscall` instructions, as liburing 2.3 does on x86-64: no C
 * library function is called for io_uring_setup/io_uring_enter, so no
 * LD_PRELOAD shim can see them.
 *
 *   uring_raw server PORT        accepts one connection, reads it to EOF
 *                                with read(), prints the bytes on stdout
 *   uring_raw client HOST PORT MARKER
 *                                connects, writes "hello\n" with write()
 *                                (so the connection is up, Init exchange
 *                                done), waits for the server's "ok\n",
 *                                then sends MARKER with one IORING_OP_SEND;
 *                                prints "uring send: N" or
 *                                "uring send: -1 ERRNO" (or "uring setup:
 *                                -1 ERRNO" when the kernel has no io_uring)
 * Exit status: 0, or 2 on a setup error (socket, connect...).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/io_uring.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#if !defined(__x86_64__)
#error "uring_raw makes x86-64 system calls with inline assembly"
#endif

/* A system call made with the `syscall` instruction itself: returns the
 * kernel's answer (negative errno on failure), touches no libc symbol. */
static long raw_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static const char *errname(long e)
{
	switch (e) {
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EPIPE: return "EPIPE";
	case ECONNRESET: return "ECONNRESET";
	case ENOSYS: return "ENOSYS";
	case EIO: return "EIO";
	default: return strerror((int)e);
	}
}

/* Sends buf on fd with one IORING_OP_SEND on a ring set up and entered by
 * raw_syscall6; returns the completion's result (bytes or -errno), or
 * -ENOSYS-like errors of the setup with *setup set. */
static long uring_send(int fd, const char *buf, size_t n, int *setup)
{
	struct io_uring_params p;
	size_t sq_sz, cq_sz, sz;
	uint8_t *sq, *cq;
	struct io_uring_sqe *sqes;
	unsigned tail, idx, head;
	long rfd, r;

	memset(&p, 0, sizeof(p));
	rfd = raw_syscall6(__NR_io_uring_setup, 4, (long)&p, 0, 0, 0, 0);
	*setup = rfd < 0;
	if (rfd < 0)
		return rfd;
	sq_sz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	cq_sz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	sz = sq_sz > cq_sz ? sq_sz : cq_sz;
	sq = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, (int)rfd, IORING_OFF_SQ_RING);
	if (sq == MAP_FAILED)
		return -errno;
	cq = (p.features & IORING_FEAT_SINGLE_MMAP) ? sq :
	     mmap(NULL, cq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, (int)rfd, IORING_OFF_CQ_RING);
	if (cq == MAP_FAILED)
		return -errno;
	sqes = mmap(NULL, p.sq_entries * sizeof(*sqes), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		    (int)rfd, IORING_OFF_SQES);
	if (sqes == MAP_FAILED)
		return -errno;
	tail = *(unsigned *)(sq + p.sq_off.tail);
	idx = tail & *(unsigned *)(sq + p.sq_off.ring_mask);
	memset(&sqes[idx], 0, sizeof(sqes[idx]));
	sqes[idx].opcode = IORING_OP_SEND;
	sqes[idx].fd = fd;
	sqes[idx].addr = (uint64_t)(uintptr_t)buf;
	sqes[idx].len = (uint32_t)n;
	((unsigned *)(sq + p.sq_off.array))[idx] = idx;
	__atomic_store_n((unsigned *)(sq + p.sq_off.tail), tail + 1, __ATOMIC_RELEASE);
	r = raw_syscall6(__NR_io_uring_enter, rfd, 1, 1, IORING_ENTER_GETEVENTS, 0, 0);
	if (r < 0)
		return r;
	head = __atomic_load_n((unsigned *)(cq + p.cq_off.head), __ATOMIC_ACQUIRE);
	if (head == __atomic_load_n((unsigned *)(cq + p.cq_off.tail), __ATOMIC_ACQUIRE))
		return -EIO;
	return ((struct io_uring_cqe *)(cq + p.cq_off.cqes))[head & *(unsigned *)(cq + p.cq_off.ring_mask)].res;
}

static int server(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int ls = socket(AF_INET, SOCK_STREAM, 0), fd, one = 1, acked = 0;
	char buf[4096];
	ssize_t n;
	size_t got = 0;

	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 1) < 0) {
		perror("uring_raw: listen");
		return 2;
	}
	fd = accept(ls, NULL, NULL);
	if (fd < 0) {
		perror("uring_raw: accept");
		return 2;
	}
	/* "hello\n" first, answered with "ok\n"; everything after it is output */
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		size_t skip = 0;

		if (!acked) {
			got += (size_t)n;
			if (got < 6)
				continue;
			skip = (size_t)n - (got - 6);
			acked = 1;
			if (write(fd, "ok\n", 3) != 3)
				return 2;
		}
		fwrite(buf + skip, 1, (size_t)n - skip, stdout);
	}
	if (n < 0)
		fprintf(stderr, "uring_raw: read: %s\n", strerror(errno));
	fflush(stdout);
	close(fd);
	close(ls);
	return 0;
}

static int client(const char *host, const char *port, const char *marker)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai;
	char ok[3];
	int fd, setup;
	long r;

	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return 2;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		perror("uring_raw: connect");
		return 2;
	}
	freeaddrinfo(ai);
	if (write(fd, "hello\n", 6) != 6 || read(fd, ok, 3) != 3 || memcmp(ok, "ok\n", 3)) {
		fprintf(stderr, "uring_raw: the greeting failed\n");
		return 2;
	}
	r = uring_send(fd, marker, strlen(marker), &setup);
	if (r >= 0)
		printf("uring send: %ld\n", r);
	else
		printf("uring %s: -1 %s\n", setup ? "setup" : "send", errname(-r));
	fflush(stdout);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "client"))
		return client(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: uring_raw server PORT | uring_raw client HOST PORT MARKER\n");
	return 2;
}
